/**
 * The push record's benchmark: the same organization audited twice against one simulated GitHub,
 * first as today (no push record: every production branch's activity is read), then as an app that
 * has been receiving push webhooks all year (a ledger filled with them before the audit, by
 * bench/push-record-fill.ts in its own process). Both audits run in their own process with the
 * production client, each with its own token (its own rate-limit budget); their results must be
 * identical. The ledger is PostgreSQL when DATABASE_URL is set (a fresh schema), otherwise PGlite in
 * a temporary folder.
 *
 *   npx tsx bench/push-record.ts --sizes 100x100,300x100 [--latency 50]
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LedgerOptions } from "../src/ledger/index.js";
import type { AuditProcessConfig, AuditProcessFigures } from "./audit-process.js";
import { simStats, startSimProcess, TOOL_TOKEN } from "./measure.js";
import type { PushRecordFillConfig, PushRecordFillFigures } from "./push-record-fill.js";
import { shapeName, type OrgShape, type Size } from "./shapes.js";
import type { RateLimitOptions } from "../src/sim/github/rate-limits.js";
import type { SimProcessReady } from "./sim-process.js";
import { forkWorker } from "./worker.js";

const AUDIT_ENTRY = new URL("./audit-process.ts", import.meta.url);
const FILL_ENTRY = new URL("./push-record-fill.ts", import.meta.url);
const ACTIVITY = "GET /repos/{owner}/{repo}/activity";
/** The second audit's own token: its requests and points are not charged to the first's budget. */
const RECORD_TOKEN = `${TOOL_TOKEN}-with-push-record`;

export interface PushRecordAudit {
  requests: number;
  activityRequests: number;
  graphqlPoints: number;
  wallMs: number;
  peakRssBytes: number;
  error: string | null;
  resultsHash: string;
}

export interface PushRecordFigures {
  shape: OrgShape;
  mergedPullRequests: number;
  /** "PostgreSQL" or "PGlite": where the push record was kept. */
  backend: string;
  fill: PushRecordFillFigures;
  /** The first audit: no push record, as today. */
  withoutRecord: PushRecordAudit;
  /** An app that has received the year's push webhooks. */
  withRecord: PushRecordAudit;
  resultsEqual: boolean;
}

export async function measurePushRecord(options: {
  shape: OrgShape;
  latencyMs: number;
  seed?: number;
  rateLimits?: RateLimitOptions | false;
  log?: (line: string) => void;
}): Promise<PushRecordFigures> {
  const seed = options.seed ?? 42;
  const sim = await startSimProcess({
    shape: options.shape,
    seed,
    faultSeed: 7,
    latencyMs: options.latencyMs,
    ...(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }),
  });
  const folder = process.env.DATABASE_URL ? null : await mkdtemp(join(tmpdir(), "soc2-bench-push-record-"));
  const ledger: LedgerOptions = folder
    ? { dir: folder }
    : {
        databaseUrl: process.env.DATABASE_URL!,
        schema: `soc2_bench_push_record_${randomBytes(4).toString("hex")}`,
      };
  const backend = folder ? "PGlite" : "PostgreSQL";
  try {
    const measure = async (token: string, pushRecord?: LedgerOptions): Promise<PushRecordAudit> => {
      const before = await simStats(sim);
      const figures = await auditProcess(sim.ready, token, pushRecord);
      const after = await simStats(sim);
      return {
        requests: figures.clientRequests,
        activityRequests: (after.byRoute[ACTIVITY] ?? 0) - (before.byRoute[ACTIVITY] ?? 0),
        graphqlPoints: after.graphqlPoints - before.graphqlPoints,
        wallMs: figures.wallMs,
        peakRssBytes: figures.peakRssBytes,
        error: figures.error,
        resultsHash: figures.resultsHash,
      };
    };
    const withoutRecord = await measure(TOOL_TOKEN);
    options.log?.(`  without a push record: ${describe(withoutRecord, sim.ready.mergedPullRequests)}`);
    const filler = await forkWorker<PushRecordFillFigures>(
      FILL_ENTRY,
      { shape: options.shape, seed, ledger } satisfies PushRecordFillConfig,
      { maxOldSpaceMb: 8192 },
    );
    await filler.close();
    const fill = filler.ready;
    options.log?.(
      `  push record (${backend}): ${fill.deliveries} push webhooks of ${fill.branches} branches recorded, and the ${fill.checkpoints} reconciliation checkpoints the app would have written from ${fill.reconciledFrom} to ${fill.reconciledTo} (every 2 days; the audit trusts the record only over them), in ${(fill.wallMs / 1000).toFixed(1)} s`,
    );
    const withRecord = await measure(RECORD_TOKEN, ledger);
    options.log?.(`  with the push record: ${describe(withRecord, sim.ready.mergedPullRequests)}`);
    return {
      shape: options.shape,
      mergedPullRequests: sim.ready.mergedPullRequests,
      backend,
      fill,
      withoutRecord,
      withRecord,
      resultsEqual:
        withoutRecord.error === null &&
        withRecord.error === null &&
        withoutRecord.resultsHash === withRecord.resultsHash,
    };
  } finally {
    await sim.close();
    if (folder) await rm(folder, { recursive: true, force: true });
  }
}

async function auditProcess(
  ready: SimProcessReady,
  token: string,
  pushRecord: LedgerOptions | undefined,
): Promise<AuditProcessFigures> {
  const config: AuditProcessConfig = {
    url: ready.url,
    token,
    organization: ready.organization,
    since: ready.since,
    until: ready.until,
    at: ready.at,
    expected: ready.expected,
    concurrency: 4,
    findings: false,
    ...(pushRecord ? { pushRecord } : {}),
  };
  const worker = await forkWorker<AuditProcessFigures>(AUDIT_ENTRY, config, { production: true });
  await worker.close();
  return worker.ready;
}

export function describe(audit: PushRecordAudit, prs: number): string {
  return (
    `${audit.requests} requests (${((audit.requests / prs) * 1000).toFixed(1)} per 1,000 PRs), ` +
    `${audit.activityRequests} of them activity, ${audit.graphqlPoints} points, ` +
    `${(audit.wallMs / 1000).toFixed(1)} s, peak RSS ${(audit.peakRssBytes / 2 ** 20).toFixed(0)} MiB` +
    (audit.error ? `, FAILED: ${audit.error}` : "")
  );
}

/** The push record's figures for a results file: one line per size. */
export function pushRecordLines(figures: readonly PushRecordFigures[]): string[] {
  return figures.map((f) => {
    const per = (a: PushRecordAudit) => ((a.requests / f.mergedPullRequests) * 1000).toFixed(1);
    return (
      `- ${shapeName(f.shape)} (${f.mergedPullRequests} PRs, ledger on ${f.backend}): ` +
      `${per(f.withoutRecord)} requests per 1,000 PRs for the first audit (no record; ${f.withoutRecord.activityRequests} activity reads), ` +
      `${per(f.withRecord)} for an app that has been receiving pushes (${f.withRecord.activityRequests} activity reads); ` +
      `peak RSS ${(f.withoutRecord.peakRssBytes / 2 ** 20).toFixed(0)} -> ${(f.withRecord.peakRssBytes / 2 ** 20).toFixed(0)} MiB; ` +
      `results ${f.resultsEqual ? "identical" : "DIFFERENT"}`
    );
  });
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: "string", default: "100x100,300x100" },
      latency: { type: "string", default: "50" },
    },
    strict: true,
  });
  const sizes: Size[] = values.sizes.split(",").map((part) => {
    const [repositories, pullRequestsPerRepository] = part.split("x").map(Number);
    if (!repositories || !pullRequestsPerRepository)
      throw new Error(`--sizes: "${part}" is not e.g. 100x100`);
    return { repositories, pullRequestsPerRepository };
  });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const all: PushRecordFigures[] = [];
  for (const shape of sizes) {
    log(`push record ${shapeName(shape)} at ${values.latency} ms latency...`);
    all.push(await measurePushRecord({ shape, latencyMs: Number(values.latency), log }));
  }
  process.stdout.write(`${pushRecordLines(all).join("\n")}\n`);
  return all.every((f) => f.resultsEqual) ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"))) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(2);
    },
  );
}
