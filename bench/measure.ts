/**
 * One benchmark audit: the sample organization of a shape served by the simulated GitHub in its own
 * process (GitHub's documented rate limits on), audited by the tool in another process exactly as
 * `soc2-bot audit` runs (runAudit, createGitHubClient with production defaults), measured in
 * requests, GraphQL points, rate-limit answers, wall time and the tool's own memory; then the naive
 * REST collector on the same simulated GitHub, with its own token and budget.
 */
import type { AuditProcessConfig, AuditProcessFigures } from "./audit-process.js";
import type { ExpectedComparison } from "../src/sim/harness.js";
import { collectNaively } from "./naive-collector.js";
import { shapeName, type OrgShape } from "./shapes.js";
import type { SimProcessConfig, SimProcessReady, SimProcessStats } from "./sim-process.js";
import type { RateLimitOptions } from "../src/sim/github/rate-limits.js";
import type { SimulatedGitHubOptions } from "../src/sim/github/server.js";
import { forkWorker, type Worker } from "./worker.js";

export type { Size } from "./shapes.js";

/** Often enough that even the smallest fault run meets GitHub's secondary rate limit more than once. */
export const SECONDARY_RATE_LIMIT_EVERY = 25;

/** The installation's token: the audit and the change check share its budget. */
export const TOOL_TOKEN = "installation";
/** The naive collector's own token, so its requests do not spend the tool's budget. */
const NAIVE_TOKEN = "naive";
/** The naive collector is measured on at most this many merged PRs (4 requests each, under 5,000/h). */
const NAIVE_PULL_REQUEST_BUDGET = 1000;

const SIM_ENTRY = new URL("./sim-process.ts", import.meta.url);
const AUDIT_ENTRY = new URL("./audit-process.ts", import.meta.url);

export interface AuditFigures {
  shape: OrgShape;
  repositories: number;
  mergedPullRequests: number;
  wallMs: number;
  /** Requests the tool sent (retries included, 304s not: GitHub does not charge them). */
  requests: number;
  notModified: number;
  graphqlPoints: number;
  /** Requests per route, as the simulated GitHub counted them (the audit's token only ran). */
  byRoute: Record<string, number>;
  /** Answers refused by a rate limit, by kind, and the seconds they told the tool to wait. */
  rateLimited: Record<string, number>;
  rateLimitWaitSeconds: number;
  /** What the limits made the tool's client do: waits for resets, pacing, write spacing, retries. */
  clientRateLimits: Record<string, number> | null;
  peakRssBytes: number;
  comparison: ExpectedComparison;
  /** The audit's error, when it did not complete. */
  error: string | null;
  /** Finding issues in the findings repository (only when findings were synced). */
  findingIssues?: number;
  naive?: NaiveExtrapolation;
  /** Faults the simulated GitHub injected, by kind. */
  faultsInjected: Record<string, number>;
  /** SHA-256 of the evidence package's results.json, for comparing runs. */
  resultsHash: string;
  results: number;
}

export interface NaiveExtrapolation {
  repositoriesMeasured: number;
  pullRequestsMeasured: number;
  requestsMeasured: number;
  /**
   * Naive requests for the whole organization: the measured requests per merged PR times all merged
   * PRs, plus the listing pages every repository needs (100 PRs a page, one at least), as measured.
   */
  requestsForAll: number;
  extrapolated: boolean;
}

export interface MeasureOptions {
  shape: OrgShape;
  latencyMs: number;
  seed?: number;
  faults?: SimulatedGitHubOptions["faults"];
  /** GitHub's documented limits unless given. */
  rateLimits?: RateLimitOptions | false;
  /** File the finding issues too (the fault run compares their number). */
  findings?: boolean;
  /** Run the naive collector on at most this many repositories (0: not at all). */
  naiveRepositories?: number;
  concurrency?: number;
  log?: (line: string) => void;
}

export function startSimProcess(config: SimProcessConfig): Promise<Worker<SimProcessReady>> {
  return forkWorker<SimProcessReady>(SIM_ENTRY, config, { maxOldSpaceMb: 8192 });
}

export function simStats(sim: Worker<SimProcessReady>): Promise<SimProcessStats> {
  return sim.request<SimProcessStats>({ type: "stats" });
}

/** The tool's audit, in a process of its own, against a simulated GitHub already running. */
export async function auditInProcess(
  ready: SimProcessReady,
  options: { concurrency?: number; findings?: boolean; token?: string },
): Promise<AuditProcessFigures> {
  const config: AuditProcessConfig = {
    url: ready.url,
    token: options.token ?? TOOL_TOKEN,
    organization: ready.organization,
    since: ready.since,
    until: ready.until,
    at: ready.at,
    expected: ready.expected,
    concurrency: options.concurrency ?? 4,
    findings: options.findings ?? false,
  };
  const worker = await forkWorker<AuditProcessFigures>(AUDIT_ENTRY, config, { production: true });
  await worker.close();
  return worker.ready;
}

export async function measureAudit(options: MeasureOptions): Promise<AuditFigures> {
  const sim = await startSimProcess({
    shape: options.shape,
    seed: options.seed ?? 42,
    faultSeed: 7,
    latencyMs: options.latencyMs,
    ...(options.faults ? { faults: options.faults } : {}),
    ...(options.rateLimits === undefined ? {} : { rateLimits: options.rateLimits }),
  });
  try {
    const ready = sim.ready;
    const audit = await auditInProcess(ready, {
      concurrency: options.concurrency ?? 4,
      findings: options.findings ?? false,
    });
    const stats = await simStats(sim);
    options.log?.(
      `  audit: ${ready.mergedPullRequests} PRs, ${(audit.wallMs / 1000).toFixed(1)} s, ${audit.clientRequests} requests, ` +
        `${stats.graphqlPoints} points, peak RSS ${(audit.peakRssBytes / 2 ** 20).toFixed(0)} MiB` +
        (audit.error ? `, FAILED: ${audit.error}` : ""),
    );

    let naive: NaiveExtrapolation | undefined;
    const naiveRepositories = options.naiveRepositories ?? 10;
    if (naiveRepositories > 0) naive = await measureNaive(ready, naiveRepositories, options.concurrency ?? 4);

    return {
      shape: options.shape,
      repositories: Object.keys(ready.pullRequestCounts).length,
      mergedPullRequests: ready.mergedPullRequests,
      wallMs: audit.wallMs,
      requests: audit.clientRequests,
      notModified: audit.clientNotModified,
      graphqlPoints: stats.graphqlPoints,
      byRoute: stats.byRoute,
      rateLimited: stats.rateLimited,
      rateLimitWaitSeconds: stats.rateLimitWaitSeconds,
      clientRateLimits: audit.clientRateLimits,
      peakRssBytes: audit.peakRssBytes,
      comparison: audit.comparison,
      error: audit.error,
      ...(options.findings ? { findingIssues: stats.issues[ready.findingsRepository] ?? 0 } : {}),
      ...(naive ? { naive } : {}),
      faultsInjected: stats.faults,
      resultsHash: audit.resultsHash,
      results: audit.results,
    };
  } finally {
    await sim.close();
  }
}

/**
 * The naive collector on some repositories, chosen in order while their merged PRs fit the budget
 * (so the long tail's busiest repositories, thousands of PRs each, are passed over), then
 * extrapolated to the whole organization.
 */
async function measureNaive(
  ready: SimProcessReady,
  maxRepositories: number,
  concurrency: number,
): Promise<NaiveExtrapolation> {
  const counts = Object.entries(ready.pullRequestCounts);
  const chosen: string[] = [];
  let budget = NAIVE_PULL_REQUEST_BUDGET;
  for (const [name, count] of counts) {
    if (chosen.length >= maxRepositories) break;
    if (count > budget) continue;
    chosen.push(name);
    budget -= count;
  }
  const measured = await collectNaively(ready.url, chosen, { concurrency, token: NAIVE_TOKEN });
  const extrapolated = chosen.length < counts.length;
  const perPullRequest =
    (measured.requests - measured.listRequests) / Math.max(1, measured.mergedPullRequests);
  const listing = counts.reduce((sum, [, count]) => sum + Math.max(1, Math.ceil(count / 100)), 0);
  return {
    repositoriesMeasured: measured.repositories,
    pullRequestsMeasured: measured.mergedPullRequests,
    requestsMeasured: measured.requests,
    requestsForAll: extrapolated
      ? Math.round(perPullRequest * ready.mergedPullRequests) + listing
      : measured.requests,
    extrapolated,
  };
}

/** Least-squares slope of y against merged pull requests, per 1,000 pull requests. */
export function slopePerThousand(points: readonly { prs: number; y: number }[]): number | null {
  if (points.length < 2) return null;
  const n = points.length;
  const meanX = points.reduce((s, p) => s + p.prs, 0) / n;
  const meanY = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.prs - meanX) ** 2, 0);
  if (sxx === 0) return null;
  const sxy = points.reduce((s, p) => s + (p.prs - meanX) * (p.y - meanY), 0);
  return (sxy / sxx) * 1000;
}

export { shapeName };
