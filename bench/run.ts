/**
 * `npm run bench`: the audit of both organization shapes at several sizes, the change check alone
 * and during an audit, findings sync at 10,000 and 100,000 results, and a run with injected faults,
 * all against the simulated GitHub on 127.0.0.1 in its own process, with GitHub's documented rate
 * limits, through the real GitHub provider with production client settings.
 *
 *   npm run bench -- --sizes 10x100,100x100,1000x100 --long-tail 1000x100000 --latency 50
 *     [--shape uniform|long-tail|both] [--enterprise-cloud] [--check-audit 1000x100] [--check-interval 1250] [--only check]
 *     [--findings 10000,100000] [--quick] [--out bench/results.md]
 *
 * With --ledger-year, instead: a year of the ledger written as the app writes it, then export,
 * coverage and verify measured in child processes (bench/ledger-year.ts); its section of
 * bench/results.md is replaced, the rest kept.
 *
 *   npm run bench -- --ledger-year [--repositories 1000] [--days 365] [--merges 100000] [--ledger DIR] [--keep] [--measure-only]
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runAudit } from "../src/cli/audit.js";
import { createGitHubClient, createGitHubHost } from "../src/providers/github/index.js";
import { measureFindingsSync, type FindingsSyncFigures } from "./findings-sync.js";
import { runLedgerYear } from "./ledger-year.js";
import {
  measureAudit,
  SECONDARY_RATE_LIMIT_EVERY,
  simStats,
  slopePerThousand,
  startSimProcess,
  TOOL_TOKEN,
  type AuditFigures,
} from "./measure.js";
import { startLoopMonitor, wallNow, type LoopDelaySummary } from "./loop-monitor.js";
import { measurePushRecord, type PushRecordFigures } from "./push-record.js";
import { startCpuProfiler, type BlockSummary } from "./loop-profile.js";
import {
  changeCheckClient,
  describeBreakdown,
  measureChangeChecks,
  percentile,
  summarizeBreakdown,
  type ChangeCheckFigures,
  type CheckBreakdown,
} from "./pr-check.js";
import { renderResults } from "./results.js";
import { isLongTail, shapeName, type LongTailSize, type OrgShape, type Size } from "./shapes.js";
import type { RateLimitOptions } from "../src/sim/github/rate-limits.js";

export interface BenchOptions {
  /** Uniform organizations: R repositories x P merged PRs each. */
  sizes: Size[];
  /** Long-tail organizations: R repositories sharing T merged PRs. */
  longTail: LongTailSize[];
  latencyMs: number;
  /** Change-check events alone (after the first, cold one); during the audit, as many as fit. */
  checkEvents: number;
  /** Milliseconds between change-check events' arrivals (back-to-back events are measured apart). */
  checkIntervalMs: number;
  /** The organization whose audit runs while the change check is measured. */
  checkAuditShape: Size;
  /**
   * Profile the tool's CPU during the audit and name the code behind each long block of its event
   * loop (the profiler's own cost makes that run's latencies a little worse).
   */
  checkProfile?: boolean;
  /**
   * Most change-check events during the audit (default DEFAULT_CHECK_EVENTS_DURING_AUDIT): enough for
   * a p99, few enough that the checks and the audit stay inside the installation's hourly budget.
   */
  checkEventsDuringAudit?: number;
  /** Sizes audited again with the year's push webhooks in a ledger (bench/push-record.ts). */
  pushRecordSizes?: Size[];
  /** Size of the fault run (and of its fault-free twin). */
  faultSize: Size;
  naiveRepositories: number;
  /** Result counts the findings sync is timed at (none: not measured). */
  findingsResults: number[];
  /** GitHub's documented limits, or Enterprise Cloud's larger installation budget. */
  rateLimits: RateLimitOptions;
  log?: (line: string) => void;
}

export interface FaultFigures {
  size: Size;
  clean: AuditFigures;
  faulty: AuditFigures;
  faultsInjected: Record<string, number>;
  resultsEqual: boolean;
  findingIssuesEqual: boolean;
}

export interface Slopes {
  /** Wall milliseconds per 1,000 merged PRs (least squares across sizes). */
  msPerThousand: number | null;
  /** Peak RSS of the tool, MiB per 1,000 merged PRs. */
  rssMiBPerThousand: number | null;
}

export type CheckFigures = ChangeCheckFigures & { p50Ms: number; p99Ms: number };

/**
 * Change-check events during the audit at most: at least 100 fit in the default audit (1000x100, at
 * least two minutes under GitHub's per-minute points), and 400 keep the checks (about 1 point each)
 * and that audit (about 4,100 points) inside the installation's 5,000 points an hour.
 */
export const DEFAULT_CHECK_EVENTS_DURING_AUDIT = 400;
/**
 * One event every 1,250 ms: under the write spacing's one check run a second per installation (so
 * events measure latency, not a queue), and often enough for 100 events during the default audit.
 */
export const DEFAULT_CHECK_INTERVAL_MS = 1250;

export interface ChangeCheckReport {
  shape: Size;
  alone: CheckFigures & { breakdown: CheckBreakdown };
  /** Events fired back to back: the write spacing's queue, i.e. the check's throughput. */
  backToBack: CheckFigures;
  duringAudit: CheckFigures & {
    auditWallMs: number;
    auditError: string | null;
    /** Rate-limit answers the shared token met during the audit and the checks. */
    rateLimited: Record<string, number>;
    /** Where the events' time went (tool loop, our client's queues, the simulator, the host). */
    breakdown: CheckBreakdown;
    /** The event loops while the audit ran: the tool's (audit and checks) and the simulator's. */
    toolLoop: Omit<LoopDelaySummary, "blocked">;
    simulatorLoop: Omit<LoopDelaySummary, "blocked">;
    /** With checkProfile: what ran through the tool's long loop blocks. */
    blockedBy?: BlockSummary;
  };
}

export interface BenchReport {
  options: Omit<BenchOptions, "log">;
  audits: AuditFigures[];
  slopes: { uniform: Slopes; longTail: Slopes };
  changeCheck: ChangeCheckReport;
  faults: FaultFigures;
  findingsSync: FindingsSyncFigures[];
  pushRecord?: PushRecordFigures[];
}

function parseDimensions(flag: string, text: string): [number, number][] {
  return text.split(",").map((part) => {
    const match = /^(\d+)x(\d+)$/.exec(part.trim());
    if (!match) throw new Error(`${flag}: "${part}" is not NxM, e.g. 10x100`);
    return [Number(match[1]), Number(match[2])];
  });
}

export function parseSizes(text: string): Size[] {
  try {
    return parseDimensions("--sizes", text).map(([repositories, pullRequestsPerRepository]) => ({
      repositories,
      pullRequestsPerRepository,
    }));
  } catch {
    const bad = text.split(",").find((part) => !/^\d+x\d+$/.test(part.trim())) ?? text;
    throw new Error(`--sizes: "${bad}" is not REPOSITORIESxPULL_REQUESTS, e.g. 10x100`);
  }
}

/** `--long-tail 1000x100000`: repositories x merged pull requests in all. */
export function parseLongTail(text: string): LongTailSize[] {
  return parseDimensions("--long-tail", text).map(([repositories, totalPullRequests]) => ({
    repositories,
    totalPullRequests,
  }));
}

function slopes(audits: readonly AuditFigures[]): Slopes {
  const ok = audits.filter((a) => a.error === null);
  return {
    msPerThousand: slopePerThousand(ok.map((a) => ({ prs: a.mergedPullRequests, y: a.wallMs }))),
    rssMiBPerThousand: slopePerThousand(
      ok.map((a) => ({ prs: a.mergedPullRequests, y: a.peakRssBytes / 2 ** 20 })),
    ),
  };
}

/** Each shape's audit, in turn (uniform sizes, then long-tail ones). */
async function measureAudits(options: BenchOptions, log: (line: string) => void): Promise<AuditFigures[]> {
  const audits: AuditFigures[] = [];
  const shapes: OrgShape[] = [...options.sizes, ...options.longTail];
  for (const shape of shapes) {
    const name = isLongTail(shape)
      ? `long-tail ${shape.repositories} repositories, ${shape.totalPullRequests} PRs`
      : `${shape.repositories}x${shape.pullRequestsPerRepository}`;
    log(`audit ${name} at ${options.latencyMs} ms latency...`);
    const figures = await measureAudit({
      shape,
      latencyMs: options.latencyMs,
      naiveRepositories: options.naiveRepositories,
      rateLimits: options.rateLimits,
      log,
    });
    log(
      `  ${figures.mergedPullRequests} PRs: ${(figures.wallMs / 1000).toFixed(1)} s, ${figures.requests} requests, ` +
        `found ${figures.comparison.found}/${figures.comparison.expected}, ${figures.comparison.unexpected.length} unexpected`,
    );
    audits.push(figures);
  }
  return audits;
}

export async function runBenchmark(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? (() => {});
  const audits = await measureAudits(options, log);

  log(
    `change check: alone, then during an audit of ${options.checkAuditShape.repositories}x${options.checkAuditShape.pullRequestsPerRepository}...`,
  );
  const changeCheck = await measureCheck(options, log);

  log(`fault run ${options.faultSize.repositories}x${options.faultSize.pullRequestsPerRepository}...`);
  const faults = await measureFaults(options);
  log(`  results equal: ${faults.resultsEqual}, finding issues equal: ${faults.findingIssuesEqual}`);

  let findingsSync: FindingsSyncFigures[] = [];
  if (options.findingsResults.length > 0) {
    log(`findings sync at ${options.findingsResults.join(", ")} results...`);
    findingsSync = await measureFindingsSync(options.findingsResults, { latencyMs: options.latencyMs, log });
  }

  const pushRecord: PushRecordFigures[] = [];
  for (const shape of options.pushRecordSizes ?? []) {
    log(`push record ${shape.repositories}x${shape.pullRequestsPerRepository}...`);
    pushRecord.push(
      await measurePushRecord({ shape, latencyMs: options.latencyMs, rateLimits: options.rateLimits, log }),
    );
  }

  const { log: _log, ...recorded } = options;
  return {
    ...(pushRecord.length > 0 ? { pushRecord } : {}),
    options: recorded,
    audits,
    slopes: {
      uniform: slopes(audits.filter((a) => !isLongTail(a.shape))),
      longTail: slopes(audits.filter((a) => isLongTail(a.shape))),
    },
    changeCheck,
    faults,
    findingsSync,
  };
}

function withPercentiles(figures: ChangeCheckFigures): CheckFigures {
  return { ...figures, p50Ms: percentile(figures.timesMs, 50), p99Ms: percentile(figures.timesMs, 99) };
}

/**
 * The change check as the app runs it, alone and then while an audit of the same installation runs
 * in the same process (the app's scheduled audit shares the process and the installation's budget
 * with the webhook handlers), with the same process-wide conditional cache. Every event is traced
 * and its time split (pr-check.ts breakdownEvent) over the blocked event loops of both processes.
 */
async function measureCheck(options: BenchOptions, log: (line: string) => void): Promise<ChangeCheckReport> {
  const sim = await startSimProcess({
    shape: options.checkAuditShape,
    latencyMs: options.latencyMs,
    openPullRequests: true,
    rateLimits: options.rateLimits,
    timing: true,
  });
  const outDir = await mkdtemp(join(tmpdir(), "soc2-bench-check-"));
  const toolLoop = startLoopMonitor();
  try {
    const { url, open, organization, at } = sim.ready;
    if (!open) throw new Error("no open pull requests to check");
    const client = changeCheckClient(url, TOOL_TOKEN);
    const now = new Date(at);
    const loops = async (since: number) => ({
      tool: toolLoop.summary(since),
      simulator: await sim.request<LoopDelaySummary>({ type: "loop", since }),
    });
    const spent = async () => (await simStats(sim)).charged[TOOL_TOKEN] ?? { core: 0, graphql: 0 };

    const aloneStarted = wallNow();
    const alone = await measureChangeChecks(client, url, open, {
      organization,
      now,
      events: options.checkEvents,
      intervalMs: options.checkIntervalMs,
    });
    const aloneLoops = await loops(aloneStarted);
    const aloneBreakdown = summarizeBreakdown(
      alone.traces,
      aloneLoops.tool.blocked,
      aloneLoops.simulator.blocked,
    );
    const aloneSpent = await spent();
    log(
      `  alone: p50 ${percentile(alone.timesMs, 50).toFixed(0)} ms, p99 ${percentile(alone.timesMs, 99).toFixed(0)} ms ` +
        `over ${alone.timesMs.length} warm events (the token has spent ${aloneSpent.graphql} GraphQL points, ${aloneSpent.core} REST requests)`,
    );
    log(`    mean: ${describeBreakdown(aloneBreakdown.mean)}`);
    const backToBack = await measureChangeChecks(client, url, open, {
      organization,
      now,
      events: Math.max(2, Math.round(options.checkEvents / 5)),
      cold: false,
      intervalMs: 0,
    });
    log(`  back to back: p50 ${percentile(backToBack.timesMs, 50).toFixed(0)} ms`);

    const octokit = createGitHubClient({ token: TOOL_TOKEN, baseUrl: url });
    let auditDone = false;
    let auditError: string | null = null;
    const profiler = options.checkProfile ? await startCpuProfiler() : undefined;
    const auditStartedWall = wallNow();
    const auditStarted = performance.now();
    const audit = runAudit(
      {
        host: createGitHubHost({ octokit, baseUrl: url }),
        organization,
        since: new Date(sim.ready.since),
        until: new Date(sim.ready.until),
        policyFiles: [],
        outDir,
        findings: false,
        concurrency: 4,
        now: () => now,
      },
      { stdout: () => {}, stderr: () => {} },
    )
      .catch((error: unknown) => {
        auditError = error instanceof Error ? error.message : String(error);
      })
      .finally(() => {
        auditDone = true;
      });
    const during = await measureChangeChecks(client, url, open, {
      organization,
      now,
      events: options.checkEventsDuringAudit ?? DEFAULT_CHECK_EVENTS_DURING_AUDIT,
      cold: false,
      stop: () => auditDone,
      intervalMs: options.checkIntervalMs,
    });
    if (!auditDone)
      log(
        `  the audit outlasted the ${during.timesMs.length} events measured during it: its end was not measured`,
      );
    await audit;
    const auditWallMs = performance.now() - auditStarted;
    const duringLoops = await loops(auditStartedWall);
    const { blocked: toolBlocked, ...toolLoopFigures } = duringLoops.tool;
    const { blocked: simulatorBlocked, ...simulatorLoopFigures } = duringLoops.simulator;
    const blockedBy = await profiler?.attribute(toolBlocked);
    const stats = await simStats(sim);
    const breakdown = summarizeBreakdown(during.traces, toolBlocked, simulatorBlocked);
    const cpuOf = (ms: number, cpuMs: number) => `${ms.toFixed(0)} ms (on CPU ${cpuMs.toFixed(0)} ms)`;
    log(
      `  during the audit (${(auditWallMs / 1000).toFixed(1)} s${auditError ? `, FAILED: ${auditError}` : ""}): ` +
        `p50 ${percentile(during.timesMs, 50).toFixed(0)} ms, p99 ${percentile(during.timesMs, 99).toFixed(0)} ms over ${during.timesMs.length} events; ` +
        `without the simulator's busy time p50 ${breakdown.p50WithoutSimulatorBusyMs.toFixed(0)} ms, p99 ${breakdown.p99WithoutSimulatorBusyMs.toFixed(0)} ms ` +
        `(the token spent ${stats.charged[TOOL_TOKEN]?.graphql ?? 0} GraphQL points in all; rate-limit answers ${JSON.stringify(stats.rateLimited)})`,
    );
    log(`    mean: ${describeBreakdown(breakdown.mean)}`);
    for (const event of breakdown.slowest) log(`    slow: ${describeBreakdown(event)}`);
    const longest = [...toolBlocked].sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, 5);
    // On a core of its own a block lasts about its CPU time: the blocks that used the most.
    const heaviest = [...toolBlocked].sort((a, b) => b.cpuMs - a.cpuMs).slice(0, 5);
    log(
      `    tool loop: delay p99 ${toolLoopFigures.p99Ms.toFixed(0)} ms, max ${toolLoopFigures.maxMs.toFixed(0)} ms; ` +
        `blocked ${cpuOf(toolLoopFigures.blockedMs, toolLoopFigures.blockedCpuMs)} of the audit's ${(auditWallMs / 1000).toFixed(1)} s; ` +
        `during ${breakdown.eventsWithToolLoopBlocked} of ${breakdown.events} events; longest blocks ` +
        longest
          .map(
            (b) =>
              `${cpuOf(b.end - b.start, b.cpuMs)} at +${((b.start - auditStartedWall) / 1000).toFixed(1)} s`,
          )
          .join(", ") +
        `; most CPU in one block ` +
        heaviest
          .map(
            (b) =>
              `${cpuOf(b.end - b.start, b.cpuMs)} at +${((b.start - auditStartedWall) / 1000).toFixed(1)} s`,
          )
          .join(", "),
    );
    log(
      `    simulator loop: delay p99 ${simulatorLoopFigures.p99Ms.toFixed(0)} ms, max ${simulatorLoopFigures.maxMs.toFixed(0)} ms; ` +
        `blocked ${cpuOf(simulatorLoopFigures.blockedMs, simulatorLoopFigures.blockedCpuMs)}; ` +
        `the check's requests resumed late by ${breakdown.simulatorLateMs.toFixed(0)} ms and executed in ${breakdown.simulatorExecMs.toFixed(0)} ms in all`,
    );
    for (const frame of blockedBy?.byFrame.slice(0, 12) ?? [])
      log(
        `    tool loop blocked ${frame.blocks} times (${(frame.totalMs / 1000).toFixed(1)} s, longest ${frame.longestMs.toFixed(0)} ms, ${frame.samples} CPU samples) in ${frame.at}`,
      );
    for (const frame of blockedBy?.cpuByFrame ?? [])
      log(`    CPU in blocks: ${frame.samples} samples (about ${frame.samples} ms) in ${frame.frame}`);
    for (const block of blockedBy?.longest ?? [])
      log(
        `    block of ${block.ms.toFixed(0)} ms (${block.samples} samples) at +${((block.start - auditStartedWall) / 1000).toFixed(1)} s in ${block.at}\n` +
          `      ours: ${block.ours.join("; ")}\n      leaves: ${block.leaves.join("; ")}`,
      );
    return {
      shape: options.checkAuditShape,
      alone: { ...withPercentiles(alone), breakdown: aloneBreakdown },
      backToBack: withPercentiles(backToBack),
      duringAudit: {
        ...withPercentiles(during),
        auditWallMs,
        auditError,
        rateLimited: stats.rateLimited,
        breakdown,
        toolLoop: toolLoopFigures,
        simulatorLoop: simulatorLoopFigures,
        ...(blockedBy ? { blockedBy } : {}),
      },
    };
  } finally {
    toolLoop.stop();
    await sim.close();
    await rm(outDir, { recursive: true, force: true });
  }
}

async function measureFaults(options: BenchOptions): Promise<FaultFigures> {
  const common = {
    shape: options.faultSize,
    latencyMs: options.latencyMs,
    findings: true,
    naiveRepositories: 0,
    rateLimits: options.rateLimits,
  };
  const clean = await measureAudit(common);
  const faultRun = { rate: 0.05, secondaryRateLimitEvery: SECONDARY_RATE_LIMIT_EVERY, timeoutMs: 1000 };
  const faulty = await measureAudit({ ...common, faults: faultRun });
  return {
    size: options.faultSize,
    clean,
    faulty,
    faultsInjected: faulty.faultsInjected,
    resultsEqual: clean.error === null && clean.resultsHash === faulty.resultsHash,
    findingIssuesEqual: clean.findingIssues === faulty.findingIssues,
  };
}

/** The ledger's section of an existing results file, kept when the audit's figures are rewritten. */
export function ledgerSection(text: string): string | null {
  const start = text.indexOf("\n## Ledger: a year of ");
  return start < 0 ? null : text.slice(start + 1).trimEnd();
}

const USAGE = `npm run bench -- [options]

  --sizes 10x100,100x100,1000x100   uniform organizations, REPOSITORIESxPULL_REQUESTS each
  --long-tail 1000x100000           long-tail organizations, REPOSITORIESxPULL_REQUESTS in all
  --shape uniform|long-tail|both    which shapes to audit (default both)
  --latency 50                      simulated latency per request, ms
  --enterprise-cloud                an Enterprise Cloud installation's larger budget
  --check-audit 1000x100            the organization audited while the change check is measured
  --check-interval 1250             ms between change-check events' arrivals
  --check-events 100                change-check events alone (during the audit: as many as fit, at most 400)
  --check-profile                   profile the tool's CPU during the audit: what blocks its event loop
  --only check                      only the change check (alone, back to back, during an audit);
                                    prints its figures and breakdown, leaves results.md as it is
  --only audits                     only the shapes' audits (e.g. --shape long-tail --long-tail
                                    1000x10000,1000x100000): figures and slopes, results.md untouched
  --findings 10000,100000           result counts findings sync is timed at
  --naive-repositories 10           repositories the naive collector is measured on
  --push-record 100x100,300x100     audit these again with the year's push webhooks in a ledger
                                    (PostgreSQL when DATABASE_URL is set, else PGlite)
  --quick                           tiny sizes
  --out bench/results.md            where the results go
  --reliability                     many app instances on one PostgreSQL: bursts, redeliveries, a race, a SIGKILL
  --ledger-year [--repositories 1000] [--days 365] [--merges 100000] [--ledger DIR] [--keep] [--measure-only]
                                    the ledger's year instead (bench/ledger-year.ts)
`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      sizes: { type: "string" },
      latency: { type: "string", default: "50" },
      quick: { type: "boolean", default: false },
      out: { type: "string", default: "bench/results.md" },
      "naive-repositories": { type: "string", default: "10" },
      "ledger-year": { type: "boolean", default: false },
      repositories: { type: "string", default: "1000" },
      days: { type: "string", default: "365" },
      merges: { type: "string", default: "100000" },
      ledger: { type: "string" },
      keep: { type: "boolean", default: false },
      "measure-only": { type: "boolean", default: false },
      shape: { type: "string" },
      "long-tail": { type: "string" },
      "check-audit": { type: "string" },
      "check-interval": { type: "string", default: String(DEFAULT_CHECK_INTERVAL_MS) },
      "check-events": { type: "string" },
      only: { type: "string" },
      "check-profile": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
      findings: { type: "string" },
      "enterprise-cloud": { type: "boolean", default: false },
      "push-record": { type: "string" },
      reliability: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.only !== undefined && values.only !== "check" && values.only !== "audits")
    throw new Error(
      `--only: "${values.only}" is not check (the change check alone and during an audit) or audits (the shapes' audits alone)`,
    );
  if (values.reliability) {
    // Many app instances on one PostgreSQL (DATABASE_URL, else a throwaway cluster from .ci/postgres).
    const { runReliabilityBench, withPostgres } = await import("./reliability.js");
    return withPostgres(async (databaseUrl) => {
      const results = await runReliabilityBench({
        databaseUrl,
        ...(values.out ? { out: values.out } : {}),
        command: `npm run bench -- ${argv.join(" ")}`.trim(),
      });
      return results.every((f) => f.duplicateCheckRuns + f.wrongVerdicts.length + f.duplicateIssues === 0)
        ? 0
        : 1;
    });
  }
  if (values["ledger-year"]) {
    if (values["measure-only"] && !values.ledger && !process.env.DATABASE_URL)
      throw new Error("--measure-only needs --ledger DIR (a ledger generated before with --keep)");
    const report = await runLedgerYear({
      repositories: Number(values.repositories),
      days: Number(values.days),
      merges: Number(values.merges),
      ...(values.ledger ? { dir: values.ledger } : {}),
      keep: values.keep ?? false,
      measureOnly: values["measure-only"] ?? false,
      ...(values.out ? { out: values.out } : {}),
      command: `npm run bench -- ${argv.join(" ")}`.trim(),
    });
    return [report.export, report.coverage, report.verify].every((c) => c.exitCode <= 1) ? 0 : 1;
  }
  const quick = values.quick ?? false;
  const shape = values.shape ?? "both";
  if (!["uniform", "long-tail", "both"].includes(shape))
    throw new Error(`--shape: "${shape}" is not uniform, long-tail or both`);
  const sizes = parseSizes(values.sizes ?? (quick ? "3x5,10x20" : "10x100,100x100,1000x100"));
  const longTail = parseLongTail(values["long-tail"] ?? (quick ? "20x200" : "1000x100000"));
  const options: BenchOptions = {
    sizes: shape === "long-tail" ? [] : sizes,
    longTail: shape === "uniform" ? [] : longTail,
    latencyMs: Number(values.latency),
    checkEvents: values["check-events"] ? Number(values["check-events"]) : quick ? 10 : 100,
    checkIntervalMs: Number(values["check-interval"]),
    checkProfile: values["check-profile"] ?? false,
    checkAuditShape: parseSizes(values["check-audit"] ?? (quick ? "3x5" : "1000x100"))[0]!,
    faultSize: quick
      ? { repositories: 3, pullRequestsPerRepository: 5 }
      : { repositories: 10, pullRequestsPerRepository: 20 },
    naiveRepositories: Number(values["naive-repositories"]),
    ...(values["push-record"] ? { pushRecordSizes: parseSizes(values["push-record"]) } : {}),
    findingsResults: (values.findings ?? (quick ? "1000,10000" : "10000,100000"))
      .split(",")
      .filter((part) => part.trim() !== "")
      .map(Number),
    rateLimits: values["enterprise-cloud"] ? { enterpriseCloud: true } : {},
    log: (line) => process.stderr.write(`${line}\n`),
  };
  if (values.only === "check") {
    // The change check's part alone, for working on it: its figures on stderr, results.md untouched.
    const check = await measureCheck(options, options.log ?? (() => {}));
    const during = check.duringAudit;
    process.stdout.write(
      `${JSON.stringify({ alone: { p50Ms: check.alone.p50Ms, p99Ms: check.alone.p99Ms, events: check.alone.timesMs.length }, duringAudit: { p50Ms: during.p50Ms, p99Ms: during.p99Ms, events: during.timesMs.length, auditWallMs: during.auditWallMs, auditError: during.auditError, rateLimited: during.rateLimited, breakdown: during.breakdown, toolLoop: during.toolLoop, simulatorLoop: during.simulatorLoop } }, null, 2)}\n`,
    );
    return during.auditError === null ? 0 : 1;
  }
  if (values.only === "audits") {
    // The shapes' audits alone, for working on them: their figures and slopes, results.md untouched.
    const audits = await measureAudits(options, options.log ?? (() => {}));
    const summary = audits.map((a) => ({
      shape: shapeName(a.shape),
      mergedPullRequests: a.mergedPullRequests,
      wallS: Math.round(a.wallMs / 100) / 10,
      requests: a.requests,
      graphqlPoints: a.graphqlPoints,
      peakRssMiB: Math.round(a.peakRssBytes / 2 ** 20),
      found: `${a.comparison.found}/${a.comparison.expected}`,
      unexpected: a.comparison.unexpected.length,
      error: a.error,
    }));
    const longTail = slopes(audits.filter((a) => isLongTail(a.shape)));
    const uniform = slopes(audits.filter((a) => !isLongTail(a.shape)));
    process.stdout.write(`${JSON.stringify({ audits: summary, slopes: { uniform, longTail } }, null, 2)}\n`);
    return audits.every(
      (a) => a.error === null && a.comparison.missing.length === 0 && a.comparison.unexpected.length === 0,
    )
      ? 0
      : 1;
  }
  const started = new Date();
  const report = await runBenchmark(options);
  const command = `npm run bench -- ${argv.join(" ")}`.trim();
  const markdown = renderResults(report, { command, date: started });
  process.stdout.write(markdown);
  if (values.out) {
    // The ledger's year (--ledger-year) is measured apart: its section is kept as it is.
    const previous = await readFile(values.out, "utf8").catch(() => "");
    const ledger = ledgerSection(previous);
    await writeFile(values.out, ledger ? `${markdown.trimEnd()}\n\n${ledger}\n` : markdown, "utf8");
  }
  const ok =
    report.audits.every(
      (a) => a.error === null && a.comparison.missing.length === 0 && a.comparison.unexpected.length === 0,
    ) &&
    report.faults.resultsEqual &&
    report.faults.findingIssuesEqual;
  return ok ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"))) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`bench: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 70;
    },
  );
}
