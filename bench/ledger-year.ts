/**
 * A year of the ledger as the app writes it, and what reading it back costs.
 *
 * Generation (writes through the ledger's public operations only, so the data is the product's):
 * - every day, the scheduled audit's configuration observations of the organization and each
 *   repository (recordSnapshotObservations, as src/app/index.ts records them), with a few changes per
 *   day across the organization (a branch rule loosened or tightened, a collaborator added or removed,
 *   a deploy key, a member's 2FA), so most records are "unchanged";
 * - every merge judged by the app minutes after it (recordJudgement, trigger "merge", with the results
 *   the evaluation gives that change; a few judged late);
 * - the daily scheduled audit run with its evidence package (recordAuditRun, which writes the package
 *   with the ledger's coverage of its day, as the app's runAudit does): the day's snapshot of every
 *   repository and the day's merges, reaching back by the merge-commit wait like the app.
 * The population is the sample organization (src/sample) with its change requests moved onto the
 * year's days, each change shifted whole so its reviews, commits and checks keep their order.
 *
 * Measurement: each command in a child process (`/usr/bin/time -v`, peak RSS of that process alone)
 * with production settings: `soc2-bot export`, `soc2-bot coverage`, `soc2-bot ledger verify`; the
 * ledger's size on disk (PGlite folder; pg_total_relation_size on PostgreSQL) and bytes per record.
 *
 *   npm run bench -- --ledger-year [--repositories 1000] [--days 365] [--merges 100000] [--ledger DIR]
 *     [--keep] [--measure-only] [--out bench/results.md]
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import { changeRequestSubject } from "../src/controls/subjects.js";
import type { Result } from "../src/controls/types.js";
import { evaluate } from "../src/engine/index.js";
import {
  AUDIT_RUN,
  JUDGEMENT,
  OBSERVATION,
  openLedger,
  recordSnapshotObservations,
  type Ledger,
} from "../src/ledger/index.js";
import type { ChangeRequest, Repository, Snapshot } from "../src/model/index.js";
import { MERGE_COMMIT_CHECKS_WAIT_MS } from "../src/pipeline/change-check.js";
import { policySetFor } from "../src/pipeline/policies.js";
import { generateSampleOrganization } from "../src/sample/generate.js";
import { seededRandom } from "../src/sample/random.js";

const run = promisify(execFile);
const DAY = 24 * 60 * 60 * 1000;

export interface LedgerYearOptions {
  repositories: number;
  days: number;
  merges: number;
  /** The first day of the year (UTC midnight). */
  start: Date;
  /** PGlite folder; ignored when databaseUrl is set. */
  dir: string;
  databaseUrl?: string;
  schema?: string;
  /** Configuration changes per day across the organization. */
  changesPerDay?: number;
  log?: (line: string) => void;
}

export interface GeneratedYear {
  repositories: number;
  days: number;
  observations: number;
  /** Observation records by how they were stored. */
  observationsUnchanged: number;
  judgements: number;
  auditRuns: number;
  configurationChanges: number;
  /** Production branches of the organization's repositories at the end of the year. */
  productionBranches: number;
  mergesInAudits: number;
  seconds: number;
  secondsByStep: { observations: number; judgements: number; audits: number };
}

/** Calls of the ledger's writing operations, counted as they return. */
interface Counting {
  observations: number;
  unchanged: number;
  judgements: number;
  auditRuns: number;
}

/** Moves every ISO timestamp in a change by `offset` ms (its events keep their order and spacing). */
function shifted<T>(value: T, offset: number): T {
  if (typeof value === "string") {
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value)) {
      return new Date(Date.parse(value) + offset).toISOString() as T;
    }
    return value;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => shifted(item, offset)) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, shifted(v, offset)]),
    ) as T;
  }
  return value;
}

/** One configuration change, as people make them: most reversible, drawn at random. */
function changeConfiguration(
  snapshot: Snapshot,
  random: ReturnType<typeof seededRandom>,
  day: number,
): string {
  const repos = snapshot.repositories;
  const repo = repos[Math.floor(random.next() * repos.length)]!;
  const choice = random.next();
  if (choice < 0.3 && repo.branchRules.known && repo.branchRules.value.length > 0) {
    const rules = repo.branchRules.value;
    const at = Math.floor(random.next() * rules.length);
    const rule = rules[at]!;
    rules[at] = { ...rule, requiredApprovals: rule.requiredApprovals === 0 ? 1 : rule.requiredApprovals - 1 };
    return `${repo.fullName}: approvals on ${rule.branch}`;
  }
  if (choice < 0.6 && repo.collaborators.known) {
    const login = `contractor-${day}`;
    const list = repo.collaborators.value;
    const index = list.findIndex((c) => c.login.startsWith("contractor-"));
    if (index >= 0) list.splice(index, 1);
    else list.push({ login, permission: random.next() < 0.2 ? "admin" : "write", outside: true } as never);
    return `${repo.fullName}: collaborator`;
  }
  if (choice < 0.8 && repo.deployKeys.known) {
    const keys = repo.deployKeys.value;
    if (keys.length > 0 && random.next() < 0.5) keys.pop();
    else
      keys.push({
        id: `key-${day}-${keys.length}`,
        title: `deploy ${day}`,
        readOnly: random.next() < 0.7,
        createdAt: null,
        addedBy: "alice",
      });
    return `${repo.fullName}: deploy key`;
  }
  if (repo.teams.known) {
    const teams = repo.teams.value;
    const index = teams.findIndex((t) => t.slug === "oncall");
    if (index >= 0) teams.splice(index, 1);
    else teams.push({ slug: "oncall", permission: "maintain" } as never);
    return `${repo.fullName}: team`;
  }
  const org = snapshot.organization;
  if (org?.membersWithoutTwoFactor.known && org.members.known && org.members.value.length > 0) {
    const member = org.members.value[Math.floor(random.next() * org.members.value.length)]!.login;
    const without = org.membersWithoutTwoFactor.value;
    const index = without.indexOf(member);
    if (index >= 0) without.splice(index, 1);
    else without.push(member);
    return `${org.login}: 2FA of ${member}`;
  }
  return "none";
}

/** The ledger, counting what is written through it. */
function counted(ledger: Ledger, counts: Counting): Ledger {
  return {
    ...ledger,
    async append(stream, kind, content) {
      const entry = await ledger.append(stream, kind, content);
      if (kind === OBSERVATION) {
        counts.observations += 1;
        if ((content as { unchangedSince?: number }).unchangedSince !== undefined) counts.unchanged += 1;
      }
      return entry;
    },
    async recordJudgement(input) {
      const entry = await ledger.recordJudgement(input);
      counts.judgements += 1;
      return entry;
    },
    async recordAuditRun(input) {
      const entry = await ledger.recordAuditRun(input);
      counts.auditRuns += 1;
      return entry;
    },
  };
}

export async function generateLedgerYear(options: LedgerYearOptions): Promise<GeneratedYear> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const perRepository = Math.max(1, Math.ceil(options.merges / options.repositories));
  const sample = generateSampleOrganization({
    repositories: options.repositories,
    pullRequestsPerRepository: perRepository,
  });
  const base = sample.snapshot;
  const merged = base.changeRequests.filter((cr) => cr.state === "merged" && cr.mergedAt);
  const chosen = merged.slice(0, options.merges);
  // Each change moved whole onto a day of the year, spread evenly, at its own time of that day.
  const start = options.start.getTime();
  const byDay: ChangeRequest[][] = Array.from({ length: options.days }, () => []);
  chosen.forEach((cr, index) => {
    const day = Math.floor((index * options.days) / chosen.length);
    const mergedAt = Date.parse(cr.mergedAt!);
    const timeOfDay = ((mergedAt % DAY) + DAY) % DAY;
    const offset = start + day * DAY + timeOfDay - mergedAt;
    byDay[day]!.push(shifted(cr, offset));
  });
  base.changeRequests = [];
  const random = seededRandom(20261129);
  let clock = start;
  const counts: Counting = { observations: 0, unchanged: 0, judgements: 0, auditRuns: 0 };
  const raw = openLedger({
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : { dir: options.dir }),
    ...(options.schema ? { schema: options.schema } : {}),
    now: () => new Date(clock),
  });
  const ledger = counted(raw, counts);
  const times = { observations: 0, judgements: 0, audits: 0 };
  const timed = async <T>(step: keyof typeof times, work: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await work();
    } finally {
      times[step] += (performance.now() - t) / 1000;
    }
  };
  let configurationChanges = 0;
  let mergesInAudits = 0;
  const changesPerDay = options.changesPerDay ?? 3;
  const waitMs = MERGE_COMMIT_CHECKS_WAIT_MS;
  try {
    for (let day = 0; day < options.days; day++) {
      // The audit at the end of each day (a slot at midnight UTC): the year's audits cover the year.
      const at = start + (day + 1) * DAY;
      const since = at - DAY - waitMs;
      // The day's changes of configuration happen before its audit observes them.
      for (let i = 0; i < changesPerDay; i++) {
        if (changeConfiguration(base, random, day) !== "none") configurationChanges += 1;
      }
      // The merges of the day before the audit (from the last audit to this one), judged as they come.
      const window = [...(byDay[day - 1] ?? []), ...byDay[day]!].filter((cr) => {
        const merged = Date.parse(cr.mergedAt!);
        return merged >= since && merged < at;
      });
      const snapshot: Snapshot = {
        ...base,
        collectedAt: new Date(at).toISOString(),
        period: { since: new Date(since).toISOString(), until: new Date(at).toISOString() },
        changeRequests: window,
        directPushes: [],
      };
      const policies = policySetFor(snapshot);
      const report = evaluate(snapshot, policies, new Date(at));
      const resultsBySubject = new Map<string, Result[]>();
      for (const result of report.results) {
        if (result.subject.kind !== "change-request") continue;
        const list = resultsBySubject.get(result.subject.id) ?? [];
        list.push(result);
        resultsBySubject.set(result.subject.id, list);
      }
      const judgedNow = window.filter((cr) => Date.parse(cr.mergedAt!) >= at - DAY);
      await timed("judgements", async () => {
        for (const cr of judgedNow) {
          // 1 in 200 judged late (the app was down); the rest within a few minutes
          const minutes = random.next() < 0.005 ? 45 : 1 + Math.floor(random.next() * 4);
          clock = Date.parse(cr.mergedAt!) + minutes * 60_000;
          await ledger.recordJudgement({
            trigger: "merge",
            host: "github",
            outcome: {
              changeRequest: cr,
              policy: policies.forRepository(cr.repository),
              results: resultsBySubject.get(changeRequestSubject(cr).id) ?? [],
            },
            judgedAt: new Date(clock),
          });
        }
      });
      clock = at;
      await timed("observations", () =>
        recordSnapshotObservations(ledger, snapshot, { trigger: "schedule" }),
      );
      await timed("audits", () =>
        ledger.recordAuditRun({
          trigger: "schedule",
          organization: base.organization!.login,
          snapshot,
          report,
        }),
      );
      mergesInAudits += window.length;
      byDay[day - 1] = [];
      if (day % 10 === 9 || day === options.days - 1) {
        log(
          `  day ${day + 1}/${options.days}: ${counts.observations} observations, ${counts.judgements} judgements, ` +
            `${counts.auditRuns} audit runs, ${((performance.now() - started) / 1000).toFixed(0)} s ` +
            `(observations ${times.observations.toFixed(0)} s, judgements ${times.judgements.toFixed(0)} s, audits ${times.audits.toFixed(0)} s)`,
        );
      }
    }
  } finally {
    await raw.close();
  }
  return {
    repositories: options.repositories,
    days: options.days,
    observations: counts.observations,
    observationsUnchanged: counts.unchanged,
    judgements: counts.judgements,
    auditRuns: counts.auditRuns,
    configurationChanges,
    productionBranches: base.repositories.reduce((sum, r) => sum + r.productionBranches.length, 0),
    mergesInAudits,
    seconds: (performance.now() - started) / 1000,
    secondsByStep: times,
  };
}

export interface CommandFigures {
  command: string;
  exitCode: number;
  seconds: number;
  peakRssMiB: number;
  /** The last lines the command wrote to stderr (its own summary). */
  summary: string;
  /** SHA-256 of what it wrote to stdout: equal before and after a change that must not alter the output. */
  stdoutSha256: string;
}

/** Runs the CLI in a child process under /usr/bin/time -v: wall time and peak RSS of that process. */
async function measureCommand(args: string[], env: Record<string, string>): Promise<CommandFigures> {
  const cli = resolve("bin/soc2-bot.js");
  const started = performance.now();
  let stderr = "";
  let stdout = "";
  let exitCode = 0;
  try {
    // The bin itself, as `npx soc2-bot` runs it: its shebang's Node flags apply (this Node first on PATH).
    const done = await run("/usr/bin/time", ["-v", cli, ...args], {
      env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`, ...env },
      maxBuffer: 1024 * 1024 * 1024,
    });
    stderr = done.stderr;
    stdout = done.stdout;
  } catch (error) {
    const failed = error as { code?: number; stderr?: string; stdout?: string };
    exitCode = typeof failed.code === "number" ? failed.code : -1;
    stderr = failed.stderr ?? String(error);
    stdout = failed.stdout ?? "";
  }
  const seconds = (performance.now() - started) / 1000;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
  const status = /Exit status: (\d+)/.exec(stderr);
  const own = (stderr.split(/^\s*Command being timed:/m)[0] ?? "").replace(/^Command exited with.*$/m, "");
  return {
    command: `soc2-bot ${args.join(" ")}`,
    exitCode: status ? Number(status[1]) : exitCode,
    seconds,
    peakRssMiB: rss ? Number(rss[1]) / 1024 : NaN,
    summary: own.trim().split("\n").slice(-3).join(" / "),
    stdoutSha256: createHash("sha256").update(stdout).digest("hex"),
  };
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await folderBytes(path);
    else if (entry.isFile()) total += (await stat(path)).size;
  }
  return total;
}

export interface LedgerSize {
  /** The PGlite folder's bytes (null on PostgreSQL). */
  folderBytes: number | null;
  /** pg_total_relation_size of each table (both backends). */
  tables: Record<string, number>;
  records: Record<string, { count: number; contentBytes: number; rowBytes: number }>;
  files: { count: number; bytes: number; storedBytes: number };
}

async function measureSize(options: LedgerYearOptions): Promise<LedgerSize> {
  const ledger = openLedger({
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : { dir: options.dir }),
    ...(options.schema ? { schema: options.schema } : {}),
    create: false,
  });
  try {
    const db = await ledger.database();
    const tables: Record<string, number> = {};
    for (const table of ["records", "streams", "files", "file_chunks"]) {
      const [row] = await db.query<{ bytes: number }>(`SELECT pg_total_relation_size($1)::float8 AS bytes`, [
        `${options.schema ?? "soc2_ledger"}.${table}`,
      ]);
      tables[table] = row?.bytes ?? NaN;
    }
    const rows = await db.query<{ kind: string; count: number; content: number; row: number }>(
      `SELECT kind, count(*)::float8 AS count, sum(octet_length(content))::float8 AS content,
              sum(pg_column_size(records.*))::float8 AS row
         FROM records GROUP BY kind ORDER BY kind`,
    );
    const records: LedgerSize["records"] = {};
    for (const row of rows)
      records[row.kind] = { count: row.count, contentBytes: row.content, rowBytes: row.row };
    const [files] = await db.query<{ count: number; bytes: number; stored: number }>(
      `SELECT count(*)::float8 AS count, coalesce(sum(bytes), 0)::float8 AS bytes,
              coalesce(sum(stored_bytes), 0)::float8 AS stored FROM files`,
    );
    await ledger.close();
    return {
      folderBytes: options.databaseUrl ? null : await folderBytes(options.dir),
      tables,
      records,
      files: { count: files?.count ?? 0, bytes: files?.bytes ?? 0, storedBytes: files?.stored ?? 0 },
    };
  } finally {
    await ledger.close();
  }
}

export interface LedgerYearReport {
  options: { repositories: number; days: number; merges: number; start: string; backend: string };
  generated: GeneratedYear | null;
  size: LedgerSize;
  export: CommandFigures & { files: number; bytes: number; sha256: string };
  coverage: CommandFigures;
  verify: CommandFigures;
  verifySkipFiles: CommandFigures;
}

/** Runs export, coverage and verify on the ledger in child processes, and sizes the ledger. */
export async function measureLedgerYear(
  options: LedgerYearOptions,
  generated: GeneratedYear | null,
): Promise<LedgerYearReport> {
  const log = options.log ?? (() => {});
  const env: Record<string, string> = options.databaseUrl
    ? { DATABASE_URL: options.databaseUrl }
    : { SOC2_LEDGER_DIR: resolve(options.dir) };
  if (options.schema) env.SOC2_LEDGER_SCHEMA = options.schema;
  if (!options.databaseUrl) delete process.env.DATABASE_URL;
  const since = options.start.toISOString();
  const until = new Date(options.start.getTime() + options.days * DAY).toISOString();
  log("sizing the ledger...");
  const size = await measureSize(options);
  const out = await mkdtemp(join(tmpdir(), "soc2-ledger-year-export-"));
  try {
    log("export...");
    const exported = await measureCommand(["export", "--since", since, "--until", until, "--out", out], env);
    const written = await countFiles(out);
    log(
      `  ${exported.seconds.toFixed(1)} s, ${exported.peakRssMiB.toFixed(0)} MiB (exit ${exported.exitCode})`,
    );
    log("coverage...");
    const coverage = await measureCommand(
      ["coverage", "--since", since, "--until", until, "--format", "json"],
      env,
    );
    log(
      `  ${coverage.seconds.toFixed(1)} s, ${coverage.peakRssMiB.toFixed(0)} MiB (exit ${coverage.exitCode})`,
    );
    log("ledger verify...");
    const verify = await measureCommand(["ledger", "verify"], env);
    log(`  ${verify.seconds.toFixed(1)} s, ${verify.peakRssMiB.toFixed(0)} MiB (exit ${verify.exitCode})`);
    const verifySkipFiles = await measureCommand(["ledger", "verify", "--skip-files"], env);
    return {
      options: {
        repositories: options.repositories,
        days: options.days,
        merges: options.merges,
        start: since,
        backend: options.databaseUrl ? "postgres" : "pglite",
      },
      generated,
      size,
      export: { ...exported, ...written },
      coverage,
      verify,
      verifySkipFiles,
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/**
 * The files export wrote, their bytes, and one SHA-256 over every file's path and SHA-256 but
 * export-manifest.json's (it holds exportedAt, and lists the others' hashes): equal before and after
 * a change that must not alter the export.
 */
async function countFiles(dir: string): Promise<{ files: number; bytes: number; sha256: string }> {
  let files = 0;
  let bytes = 0;
  const lines: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files += 1;
    bytes += (await stat(path)).size;
    const name = relative(dir, path);
    if (name !== "export-manifest.json") lines.push(`${name} ${await fileSha256(path)}\n`);
  }
  const sha256 = createHash("sha256").update(lines.sort().join("")).digest("hex");
  return { files, bytes, sha256 };
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer);
  return hash.digest("hex");
}

const MIB = 2 ** 20;
const EXPORT_SECONDS = 60;
const EXPORT_MIB = 300;

function mib(bytes: number | null): string {
  return bytes === null || Number.isNaN(bytes) ? "-" : (bytes / MIB).toFixed(1);
}

function commandRow(name: string, c: CommandFigures, target?: { seconds: number; mib: number }): string {
  // each target on its own: a run can meet the time and miss the memory (MB are 10^6 bytes, RSS is in MiB)
  const mb = (c.peakRssMiB * MIB) / 1e6;
  const met = target
    ? c.exitCode > 1
      ? "NOT met (the command failed)"
      : `time ${c.seconds < target.seconds ? "met" : "NOT met"} (< ${target.seconds} s); ` +
        `memory ${mb < target.mib ? "met" : "NOT met"} (${mb.toFixed(0)} MB, target < ${target.mib} MB)`
    : "";
  return `| ${name} | \`${c.command.replace(/\/tmp\/\S+/g, "DIR")}\` | ${c.exitCode} | ${c.seconds.toFixed(1)} | ${c.peakRssMiB.toFixed(0)} | ${met} |`;
}

/** The section "Ledger: a year of N repositories" of bench/results.md. */
export function renderLedgerYear(report: LedgerYearReport, run: { command: string; date: Date }): string {
  const g = report.generated;
  const s = report.size;
  const obs = s.records[OBSERVATION];
  const judged = s.records[JUDGEMENT];
  const audits = s.records[AUDIT_RUN];
  const perRecord = (r: { count: number; contentBytes: number; rowBytes: number } | undefined) =>
    r && r.count > 0
      ? `${(r.rowBytes / r.count).toFixed(0)} (content ${(r.contentBytes / r.count).toFixed(0)})`
      : "-";
  const totalRecords = Object.values(s.records).reduce((sum, r) => sum + r.count, 0);
  return [
    `## Ledger: a year of ${report.options.repositories.toLocaleString("en")} repositories`,
    ``,
    `- Date: ${run.date.toISOString()}`,
    `- Command: \`${run.command}\` (\`npm run bench -- --ledger-year\` generates the year and measures it; ` +
      `\`--keep --ledger DIR\` keeps the ledger, \`--measure-only --ledger DIR\` measures a kept one again).`,
    `- Backend: ${report.options.backend}; period ${report.options.start} for ${report.options.days} days.`,
    `- Generated through the ledger's public operations (recordSnapshotObservations, recordJudgement, recordAuditRun` +
      ` with its package and coverage as the scheduled audit writes them); the commands below ran each in a child` +
      ` process under \`/usr/bin/time -v\`: peak RSS is that process's alone.`,
    ...(g
      ? [
          `- Written: ${g.observations.toLocaleString("en")} observation records (${g.observationsUnchanged.toLocaleString("en")} "unchanged"), ` +
            `${g.judgements.toLocaleString("en")} judgements, ${g.auditRuns} audit runs ` +
            `(${(g.observations + g.judgements + g.auditRuns).toLocaleString("en")} records); ` +
            `${g.configurationChanges} configuration changes; ${g.mergesInAudits.toLocaleString("en")} merges in the audits' snapshots ` +
            `(a merge of the 6 hours before an audit is in two, as the scheduled audit reaches back by the merge-commit wait).`,
          `- Generation: ${g.seconds.toFixed(0)} s (observations ${g.secondsByStep.observations.toFixed(0)} s, ` +
            `judgements ${g.secondsByStep.judgements.toFixed(0)} s, audit runs with packages ${g.secondsByStep.audits.toFixed(0)} s).`,
        ]
      : [`- Measured on an existing ledger (--measure-only).`]),
    ``,
    `| size | MiB |`,
    `| --- | ---: |`,
    ...(s.folderBytes !== null ? [`| PGlite folder on disk | ${mib(s.folderBytes)} |`] : []),
    ...Object.entries(s.tables).map(
      ([table, bytes]) => `| table ${table} (pg_total_relation_size) | ${mib(bytes)} |`,
    ),
    `| package files: ${s.files.count} distinct, as written | ${mib(s.files.bytes)} |`,
    `| package files, stored (gzip) | ${mib(s.files.storedBytes)} |`,
    ``,
    `| records | count | bytes per record (row, of it content) |`,
    `| --- | ---: | ---: |`,
    `| observation | ${obs?.count ?? 0} | ${perRecord(obs)} |`,
    `| judgement | ${judged?.count ?? 0} | ${perRecord(judged)} |`,
    `| audit-run | ${audits?.count ?? 0} | ${perRecord(audits)} |`,
    `| all | ${totalRecords} | table records: ${totalRecords > 0 ? ((s.tables.records ?? 0) / totalRecords).toFixed(0) : "-"} bytes per record with indexes |`,
    ``,
    `| command | exact command | exit | wall s | peak RSS MiB | target |`,
    `| --- | --- | ---: | ---: | ---: | --- |`,
    commandRow("export", report.export, { seconds: EXPORT_SECONDS, mib: EXPORT_MIB }),
    commandRow("coverage", report.coverage),
    commandRow("ledger verify", report.verify),
    commandRow("ledger verify --skip-files", report.verifySkipFiles),
    ``,
    `- export wrote ${report.export.files.toLocaleString("en")} files, ${mib(report.export.bytes)} MiB.`,
    `- Commands' own summaries: export: ${report.export.summary || "-"}; coverage: ${report.coverage.summary || "-"}.`,
    `- Output digests (the same before and after a change that must not alter the output): export folder ` +
      `\`${report.export.sha256}\` (SHA-256 over each file's path and SHA-256, all but export-manifest.json, ` +
      `whose exportedAt differs per run); coverage --format json \`${report.coverage.stdoutSha256}\`.`,
    ``,
  ].join("\n");
}

/** Replaces (or appends) the ledger section of bench/results.md, leaving the audit's figures as they are. */
export async function writeLedgerSection(path: string, section: string): Promise<void> {
  let text = "";
  try {
    text = await readFile(path, "utf8");
  } catch {
    text = "# Benchmark results\n";
  }
  const start = text.indexOf("\n## Ledger: a year of ");
  if (start >= 0) {
    const next = text.indexOf("\n## ", start + 1);
    text = text.slice(0, start) + (next >= 0 ? text.slice(next) : "\n");
  }
  await writeFile(path, `${text.trimEnd()}\n\n${section}`, "utf8");
}

export interface LedgerYearCli {
  repositories: number;
  days: number;
  merges: number;
  dir?: string;
  keep: boolean;
  measureOnly: boolean;
  out?: string;
  command: string;
}

export async function runLedgerYear(cli: LedgerYearCli): Promise<LedgerYearReport> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const dir = cli.dir ?? (await mkdtemp(join(tmpdir(), "soc2-ledger-year-")));
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const schema = databaseUrl ? (cli.measureOnly ? "soc2_ledger_year" : `soc2_ledger_year`) : undefined;
  const options: LedgerYearOptions = {
    repositories: cli.repositories,
    days: cli.days,
    merges: cli.merges,
    start: new Date("2025-01-01T00:00:00Z"),
    dir,
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(schema ? { schema } : {}),
    log,
  };
  const date = new Date();
  try {
    let generated: GeneratedYear | null = null;
    if (!cli.measureOnly) {
      if (databaseUrl) await dropSchema(databaseUrl, schema!);
      log(
        `ledger year: ${cli.repositories} repositories x ${cli.days} days, ${cli.merges} merges into ${databaseUrl ? `PostgreSQL schema ${schema}` : dir}...`,
      );
      generated = await generateLedgerYear(options);
      if (cli.keep) await writeFile(`${dir}.generated.json`, JSON.stringify(generated, null, 2), "utf8");
    } else {
      // what the generating run counted, when it kept the ledger (--keep)
      generated = await readFile(`${dir}.generated.json`, "utf8").then(
        (text) => JSON.parse(text) as GeneratedYear,
        () => null,
      );
    }
    const report = await measureLedgerYear(options, generated);
    const section = renderLedgerYear(report, { command: cli.command, date });
    process.stdout.write(section);
    if (cli.out) await writeLedgerSection(cli.out, section);
    return report;
  } finally {
    if (!cli.keep && cli.dir === undefined) await rm(dir, { recursive: true, force: true });
  }
}

async function dropSchema(url: string, schema: string): Promise<void> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

export type { Repository };
