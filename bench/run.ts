/**
 * `npm run bench`: the audit at several sizes, the change check, and a run with injected faults,
 * all against the simulated GitHub on 127.0.0.1 through the real GitHub provider.
 *
 *   npm run bench -- --sizes 10x100,100x100,1000x100 --latency 50 [--quick] [--out bench/results.md]
 *
 * With --ledger-year, instead: a year of the ledger written as the app writes it, then export,
 * coverage and verify measured in child processes (bench/ledger-year.ts); its section of
 * bench/results.md is replaced, the rest kept.
 *
 *   npm run bench -- --ledger-year [--repositories 1000] [--days 365] [--merges 100000] [--ledger DIR] [--keep] [--measure-only]
 */
import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { period, serveSample } from "./harness.js";
import {
  measureAudit,
  SECONDARY_RATE_LIMIT_EVERY,
  slopePerThousand,
  type AuditFigures,
  type Size,
} from "./measure.js";
import {
  measureChangeChecks,
  percentile,
  withOpenPullRequests,
  type ChangeCheckFigures,
} from "./pr-check.js";
import { runLedgerYear } from "./ledger-year.js";
import { renderResults } from "./results.js";

export interface BenchOptions {
  sizes: Size[];
  latencyMs: number;
  /** Change-check events after the first (cold) one. */
  checkEvents: number;
  /** Size of the fault run (and of its fault-free twin). */
  faultSize: Size;
  naiveRepositories: number;
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

export interface BenchReport {
  options: Omit<BenchOptions, "log">;
  audits: AuditFigures[];
  slopeMsPerThousand: number | null;
  changeCheck: ChangeCheckFigures & { p50Ms: number; p99Ms: number };
  faults: FaultFigures;
}

export function parseSizes(text: string): Size[] {
  return text.split(",").map((part) => {
    const match = /^(\d+)x(\d+)$/.exec(part.trim());
    if (!match) throw new Error(`--sizes: "${part}" is not REPOSITORIESxPULL_REQUESTS, e.g. 10x100`);
    return { repositories: Number(match[1]), pullRequestsPerRepository: Number(match[2]) };
  });
}

export async function runBenchmark(options: BenchOptions): Promise<BenchReport> {
  const log = options.log ?? (() => {});
  const audits: AuditFigures[] = [];
  // Not recorded: builds GitHub's GraphQL schema in the simulated GitHub and warms the JIT, which
  // would otherwise be charged to the first size.
  await measureAudit({
    size: { repositories: 1, pullRequestsPerRepository: 1 },
    latencyMs: 0,
    naiveRepositories: 0,
  });
  for (const size of options.sizes) {
    log(`audit ${size.repositories}x${size.pullRequestsPerRepository} at ${options.latencyMs} ms latency...`);
    const figures = await measureAudit({
      size,
      latencyMs: options.latencyMs,
      naiveRepositories: options.naiveRepositories,
      log,
    });
    log(
      `  ${figures.mergedPullRequests} PRs: ${(figures.wallMs / 1000).toFixed(1)} s, ${figures.requests} requests, ` +
        `found ${figures.comparison.found}/${figures.comparison.expected}, ${figures.comparison.unexpected.length} unexpected`,
    );
    audits.push(figures);
  }
  const slopeMsPerThousand = slopePerThousand(
    audits.map((a) => ({ prs: a.mergedPullRequests, ms: a.wallMs })),
  );

  log(`change check: ${options.checkEvents + 1} events at ${options.latencyMs} ms latency...`);
  const changeCheck = await measureCheck(options);

  log(`fault run ${options.faultSize.repositories}x${options.faultSize.pullRequestsPerRepository}...`);
  const faults = await measureFaults(options);
  log(`  results equal: ${faults.resultsEqual}, finding issues equal: ${faults.findingIssuesEqual}`);

  const { log: _log, ...recorded } = options;
  return { options: recorded, audits, slopeMsPerThousand, changeCheck, faults };
}

async function measureCheck(options: BenchOptions): Promise<BenchReport["changeCheck"]> {
  let open: ReturnType<typeof withOpenPullRequests>["open"] | undefined;
  const served = await serveSample(
    { repositories: 2, pullRequestsPerRepository: 20 },
    { latencyMs: options.latencyMs },
    (snapshot, sample) => {
      const extended = withOpenPullRequests(snapshot, sample);
      open = extended.open;
      return extended.snapshot;
    },
  );
  try {
    if (!open) throw new Error("no open pull requests to check");
    const figures = await measureChangeChecks(served.sim, open, {
      organization: served.served.organization?.login ?? "acme-demo",
      now: period(served.sample).until,
      events: options.checkEvents,
    });
    return { ...figures, p50Ms: percentile(figures.timesMs, 50), p99Ms: percentile(figures.timesMs, 99) };
  } finally {
    await served.sim.close();
  }
}

async function measureFaults(options: BenchOptions): Promise<FaultFigures> {
  const common = {
    size: options.faultSize,
    latencyMs: options.latencyMs,
    throttle: true,
    findings: true,
    naiveRepositories: 0,
  };
  const clean = await measureAudit(common);
  const faultRun = { rate: 0.05, secondaryRateLimitEvery: SECONDARY_RATE_LIMIT_EVERY, timeoutMs: 1000 };
  const faulty = await measureAudit({ ...common, faults: faultRun });
  return {
    size: options.faultSize,
    clean,
    faulty,
    faultsInjected: faulty.faultsInjected,
    resultsEqual: clean.resultsText === faulty.resultsText,
    findingIssuesEqual: clean.findingIssues === faulty.findingIssues,
  };
}

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
    },
    strict: true,
  });
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
  const sizes = parseSizes(values.sizes ?? (quick ? "3x5,10x20" : "10x100,100x100,1000x100"));
  const options: BenchOptions = {
    sizes,
    latencyMs: Number(values.latency),
    checkEvents: quick ? 10 : 100,
    faultSize: quick
      ? { repositories: 3, pullRequestsPerRepository: 5 }
      : { repositories: 10, pullRequestsPerRepository: 20 },
    naiveRepositories: Number(values["naive-repositories"]),
    log: (line) => process.stderr.write(`${line}\n`),
  };
  const started = new Date();
  const report = await runBenchmark(options);
  const command = `npm run bench -- ${argv.join(" ")}`.trim();
  const markdown = renderResults(report, { command, date: started });
  process.stdout.write(markdown);
  if (values.out) await writeFile(values.out, markdown, "utf8");
  const ok =
    report.audits.every((a) => a.comparison.missing.length === 0 && a.comparison.unexpected.length === 0) &&
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
