/**
 * The period's population in `soc2-bot export`, on both backends: every merge into a production
 * branch once, with the verdict it was first given (the app's judgement at merge time, or the audit
 * run that covered a merge the app never judged), hostile repository and branch names CSV-safe, and
 * an export that by default indexes each run's package (runs.csv, with the SHA-256 `--packages`
 * writes) instead of rewriting it.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Outcome, Result } from "../../src/controls/types.js";
import { evaluate } from "../../src/engine/index.js";
import {
  EXPORT_MANIFEST,
  exportPeriod,
  openLedger,
  type ExportSummary,
  type Ledger,
  type LedgerOptions,
} from "../../src/ledger/index.js";
import type { ChangeRequest, Repository } from "../../src/model/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { POPULATION_CONTROLS } from "../../src/reporters/files/period-population.js";
import { parseCsv } from "../reporters/files-report-fixture.js";
import {
  cleanBranchRule,
  makeChangeRequest,
  makeOrganization,
  makeRepository,
  makeSnapshot,
} from "../fixtures/build.js";
import { BACKENDS, testBackend } from "./backends.js";

const SINCE = new Date("2026-08-01T00:00:00Z");
const UNTIL = new Date("2026-09-01T00:00:00Z");

/** A repository and production branch a spreadsheet would run as formulas (a compromised host may send them). */
const HOSTILE_REPOSITORY = '=HYPERLINK("https://evil.example","acme")';
const HOSTILE_BRANCH = "@SUM(1+1)";

const api = makeRepository();
const hostile: Repository = makeRepository({
  fullName: HOSTILE_REPOSITORY,
  url: "https://github.com/acme/evil",
  defaultBranch: HOSTILE_BRANCH,
  productionBranches: [HOSTILE_BRANCH],
  branchRules: { known: true, value: [cleanBranchRule({ branch: HOSTILE_BRANCH })] },
});

function merged(number: number, mergedAt: string, overrides: Parameters<typeof makeChangeRequest>[0] = {}) {
  return makeChangeRequest({
    number,
    url: `https://github.com/acme/api/pull/${number}`,
    mergedAt,
    ...overrides,
  });
}

const MERGES = {
  /** judged by the app 3 minutes after the merge, and in the audit run too: listed once, the app's */
  judged: merged(1, "2026-08-05T10:00:00Z"),
  /** judged by the app 45 minutes late, without approval: its failing verdict stands */
  late: merged(2, "2026-08-10T10:00:00Z", { reviews: [] }),
  /** never judged by the app: the audit run's verdict */
  auditOnly: merged(3, "2026-08-12T10:00:00Z", { reviews: [] }),
  hostile: merged(4, "2026-08-15T10:00:00Z", {
    repository: HOSTILE_REPOSITORY,
    baseBranch: HOSTILE_BRANCH,
    url: "https://github.com/acme/evil/pull/4",
  }),
};

const DELAYS: Record<number, number> = { 1: 3, 2: 45, 4: 7 };

let clock = new Date(SINCE);
const now = () => clock;

function resultsOf(changeRequest: ChangeRequest, repository: Repository, at: Date): Result[] {
  const snapshot = makeSnapshot({ repositories: [repository], changeRequests: [changeRequest] });
  return evaluate(snapshot, policySetFor(snapshot), at).results.filter(
    (r) => r.subject.id === `${changeRequest.repository}#${changeRequest.number}`,
  );
}

const ORDER: Outcome[] = ["fail", "unknown", "excepted", "pass", "not-applicable"];

function worstOf(results: Result[]): Outcome {
  return ORDER.find((o) => results.some((r) => r.outcome === o))!;
}

/** Each control's worst outcome among `results`, as population.csv lists them. */
function outcomesOf(results: Result[]): Record<string, Outcome | "not evaluated"> {
  return Object.fromEntries(
    POPULATION_CONTROLS.map((id) => {
      const mine = results.filter((r) => r.control === id);
      return [id, mine.length === 0 ? "not evaluated" : worstOf(mine)];
    }),
  );
}

const snapshot = makeSnapshot({
  period: { since: SINCE.toISOString(), until: UNTIL.toISOString() },
  collectedAt: UNTIL.toISOString(),
  organization: makeOrganization(),
  repositories: [api, hostile],
  changeRequests: [MERGES.judged, MERGES.late, MERGES.auditOnly, MERGES.hostile],
});
const auditReport = evaluate(snapshot, policySetFor(snapshot), UNTIL);

async function populate(ledger: Ledger): Promise<void> {
  for (const [changeRequest, repository] of [
    [MERGES.judged, api],
    [MERGES.late, api],
    [MERGES.hostile, hostile],
  ] as const) {
    const judgedAt = new Date(Date.parse(changeRequest.mergedAt!) + DELAYS[changeRequest.number]! * 60_000);
    clock = judgedAt;
    await ledger.recordJudgement({
      trigger: "merge",
      host: "github",
      outcome: { changeRequest, policy: null, results: resultsOf(changeRequest, repository, judgedAt) },
      judgedAt,
    });
  }
  clock = new Date(UNTIL);
  await ledger.recordAuditRun({ trigger: "cli", organization: "acme", snapshot, report: auditReport });
}

describe.each(BACKENDS)("the period's population on %s", (name) => {
  const backend = testBackend(name);
  let options: LedgerOptions;
  let ledger: Ledger;
  let out: string;
  let summary: ExportSummary;
  let rows: Record<string, string>[];
  let csvText: string;

  beforeAll(async () => {
    options = await backend.fresh();
    ledger = openLedger({ ...options, now });
    await populate(ledger);
    out = join(await mkdtemp(join(tmpdir(), "soc2-population-")), "export");
    summary = await exportPeriod(ledger, { since: SINCE, until: UNTIL, outDir: out });
    csvText = await readFile(join(out, "population.csv"), "utf8");
    const [header, ...body] = parseCsv(csvText);
    rows = body.map((cells) => Object.fromEntries(header!.map((h, i) => [h, cells[i]!])));
  }, 120_000);
  afterAll(async () => {
    await ledger?.close();
    await backend.stop();
  });

  const row = (number: number) => {
    const found = rows.filter((r) => r.number === String(number));
    expect(found, `#${number}`).toHaveLength(1);
    return found[0]!;
  };

  async function judgementRecords(repository: string) {
    const db = await ledger.database();
    return db.query<{ sequence: number; hash: string; content: string }>(
      `SELECT sequence, hash, content FROM records WHERE stream = $1 ORDER BY sequence`,
      [`judgement:github/${repository}`],
    );
  }

  it("lists every merge once: the app's judgements with their verdict and delay", async () => {
    expect(rows.map((r) => r.number).sort()).toEqual(["1", "2", "3", "4"]);
    expect(summary.period.population).toEqual({ merges: 4, problems: [] });
    const [judged, late] = await judgementRecords("acme/api");
    for (const [changeRequest, record] of [
      [MERGES.judged, judged!],
      [MERGES.late, late!],
    ] as const) {
      const r = row(changeRequest.number);
      const content = JSON.parse(record.content) as { judgedAt: string; results: Result[] };
      expect(r).toMatchObject({
        repository: "acme/api",
        base_branch: "main",
        merged_at: changeRequest.mergedAt,
        judged_at: content.judgedAt,
        judged_by: `app judgement judgement:github/acme/api#${record.sequence}`,
        judged_by_record_hash: record.hash,
        delay_minutes: String(DELAYS[changeRequest.number]),
        ...outcomesOf(content.results),
        overall: worstOf(content.results),
      });
    }
    // no approval: the app's verdict at merge time is a failure, overall
    expect(row(2)["cc8.independent-approval"]).toBe("fail");
    expect(row(2).overall).toBe("fail");
  });

  it("lists a merge the app never judged with the audit run's verdict, from its results.json", () => {
    const run = summary.runs[0]!;
    const audited = auditReport.results.filter((r) => r.subject.id === "acme/api#3");
    expect(audited.length).toBeGreaterThan(0);
    expect(row(3)).toMatchObject({
      judged_by: `audit run ${run.stream}#${run.sequence}`,
      judged_by_record_hash: run.recordHash,
      judged_at: run.evaluatedAt,
      delay_minutes: String(
        Math.round(((Date.parse(run.evaluatedAt) - Date.parse(MERGES.auditOnly.mergedAt!)) / 60_000) * 10) /
          10,
      ),
      ...outcomesOf(audited),
      overall: worstOf(audited),
      note: "",
    });
  });

  it("keeps hostile repository and branch names from running as formulas", async () => {
    const r = row(4);
    expect(r.repository).toBe(`'${HOSTILE_REPOSITORY}`);
    expect(r.base_branch).toBe(`'${HOSTILE_BRANCH}`);
    expect(r.judged_by).toMatch(/^app judgement judgement:github\/=HYPERLINK/);
    for (const line of csvText.split("\r\n")) {
      for (const cell of parseCsv(`${line}\r\n`)[0] ?? []) expect(cell).not.toMatch(/^\s*[=+\-@]/);
    }
    const json = JSON.parse(await readFile(join(out, "population.json"), "utf8")) as {
      merges: { repository: string; baseBranch: string; number: number }[];
      count: number;
    };
    expect(json.count).toBe(4);
    expect(json.merges.find((m) => m.number === 4)).toMatchObject({
      repository: HOSTILE_REPOSITORY,
      baseBranch: HOSTILE_BRANCH,
    });
  });

  it("writes no package folders by default; runs.csv lists every file with the SHA-256 --packages writes", async () => {
    const entries = await readdir(out, { withFileTypes: true });
    expect(entries.filter((e) => e.isDirectory())).toEqual([]);
    const [header, ...index] = parseCsv(await readFile(join(out, "runs.csv"), "utf8"));
    const at = (column: string) => header!.indexOf(column);
    const run = summary.runs[0]!;
    expect(index.map((r) => r[at("file")]).sort()).toEqual(run.files.map((f) => f.name).sort());
    expect(index.every((r) => r[at("record_hash")] === run.recordHash && r[at("exported_path")] === "")).toBe(
      true,
    );

    const full = join(await mkdtemp(join(tmpdir(), "soc2-population-packages-")), "export");
    const packaged = await exportPeriod(ledger, { since: SINCE, until: UNTIL, outDir: full, packages: true });
    for (const file of packaged.runs[0]!.files) {
      const bytes = await readFile(join(full, file.path!));
      const listed = index.find((r) => r[at("file")] === file.name)!;
      expect(listed[at("sha256")], file.name).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(listed[at("bytes")], file.name).toBe(String(bytes.length));
    }
    // the population is the same either way
    expect(await readFile(join(full, "population.csv"), "utf8")).toBe(csvText);
  });

  it("lists population.csv and runs.csv in the manifest with their SHA-256", async () => {
    const manifest = JSON.parse(await readFile(join(out, EXPORT_MANIFEST), "utf8")) as {
      files: { path: string; sha256: string; bytes: number }[];
      population: { merges: number };
    };
    for (const name of ["population.csv", "population.json", "runs.csv", "runs.json"]) {
      const listed = manifest.files.find((f) => f.path === name);
      const bytes = await readFile(join(out, name));
      expect(listed, name).toEqual({
        path: name,
        name,
        sha256: createHash("sha256").update(bytes).digest("hex"),
        bytes: bytes.length,
      });
    }
    expect(manifest.population.merges).toBe(4);
  });
});
