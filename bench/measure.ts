/**
 * One benchmark size: the sample organization served by the simulated GitHub, audited through the
 * real provider (collect + evaluate), measured in requests, GraphQL points, wall time and memory,
 * and compared with the naive REST collector on the same simulated GitHub.
 */
import { evaluate, type EvaluationReport } from "../src/engine/index.js";
import { collectAudit } from "../src/pipeline/audit.js";
import { policySetFor } from "../src/pipeline/policies.js";
import { syncFindings } from "../src/reporters/findings/lifecycle.js";
import {
  compareWithExpected,
  FINDINGS_REPOSITORY,
  githubHostFor,
  period,
  serveSample,
  type ExpectedComparison,
} from "./harness.js";
import { collectNaively } from "./naive-collector.js";
import type { SimulatedGitHubOptions } from "./sim/server.js";

/** Often enough that even the smallest fault run meets GitHub's secondary rate limit more than once. */
export const SECONDARY_RATE_LIMIT_EVERY = 25;

export interface Size {
  repositories: number;
  pullRequestsPerRepository: number;
}

export interface AuditFigures {
  size: Size;
  mergedPullRequests: number;
  wallMs: number;
  requests: number;
  graphqlPoints: number;
  /** Requests per route, as the simulated GitHub counted them. */
  byRoute: Record<string, number>;
  peakRssBytes: number;
  comparison: ExpectedComparison;
  /** Finding issues filed (only when findings were synced). */
  findingIssues?: number;
  naive?: NaiveExtrapolation;
  /** Faults the simulated GitHub injected, by kind. */
  faultsInjected: Record<string, number>;
  /** The evaluation's results, for comparing runs (JSON text, stable order). */
  resultsText: string;
}

export interface NaiveExtrapolation {
  repositoriesMeasured: number;
  pullRequestsMeasured: number;
  requestsMeasured: number;
  /** Naive requests for the whole size, extrapolated per pull request when only some were measured. */
  requestsForAll: number;
  extrapolated: boolean;
}

export interface MeasureOptions {
  size: Size;
  latencyMs: number;
  seed?: number;
  faults?: SimulatedGitHubOptions["faults"];
  /** Keep octokit's retry and throttling (needed with faults; it spaces GraphQL queries 1 s apart). */
  throttle?: boolean;
  /** File the finding issues too (the fault run compares their number). */
  findings?: boolean;
  /** Run the naive collector on at most this many repositories (0: not at all). */
  naiveRepositories?: number;
  concurrency?: number;
  log?: (line: string) => void;
}

/** Samples process RSS every 100 ms while `work` runs; returns the peak seen. */
async function withPeakRss<T>(work: () => Promise<T>): Promise<{ value: T; peakRssBytes: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  try {
    const value = await work();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, peakRssBytes: peak };
  } finally {
    clearInterval(timer);
  }
}

export async function measureAudit(options: MeasureOptions): Promise<AuditFigures> {
  const served = await serveSample(
    { ...options.size, seed: options.seed ?? 42 },
    { latencyMs: options.latencyMs, ...(options.faults ? { faults: options.faults } : {}), seed: 7 },
  );
  const { sample, sim, world } = served;
  try {
    const { host, stats } = githubHostFor(sim, { throttle: options.throttle ?? false });
    const organization = served.served.organization?.login ?? "acme-demo";
    const started = performance.now();
    const { value: report, peakRssBytes } = await withPeakRss(async (): Promise<EvaluationReport> => {
      const snapshot = await collectAudit({
        host,
        organization,
        ...period(sample),
        concurrency: options.concurrency ?? 4,
        now: () => sample.at,
      });
      return evaluate(snapshot, policySetFor(snapshot), sample.at);
    });
    const wallMs = performance.now() - started;
    const auditRequests = stats.requests;
    const byRoute = { ...sim.stats.byRoute };
    const graphqlPoints = sim.stats.graphqlPoints;

    let findingIssues: number | undefined;
    if (options.findings) {
      const repository = `${organization}/${FINDINGS_REPOSITORY}`;
      await syncFindings(host.issues(repository), report.results, {
        label: "soc2",
        evaluatedAt: sample.at,
        scope: "audit",
      });
      findingIssues = world.repositories.get(repository)?.issues.size ?? 0;
    }

    options.log?.(
      `  audit: ${sample.snapshot.changeRequests.length} PRs, ${(wallMs / 1000).toFixed(1)} s, ${auditRequests} requests, ` +
        `peak RSS ${(peakRssBytes / 2 ** 20).toFixed(0)} MiB`,
    );
    let naive: NaiveExtrapolation | undefined;
    const naiveRepositories = options.naiveRepositories ?? 10;
    if (naiveRepositories > 0) {
      const names = sample.snapshot.repositories.slice(0, naiveRepositories).map((r) => r.fullName);
      const measured = await collectNaively(sim.url, names, { concurrency: options.concurrency ?? 4 });
      const all = sample.snapshot.changeRequests.length;
      const extrapolated = names.length < sample.snapshot.repositories.length;
      naive = {
        repositoriesMeasured: measured.repositories,
        pullRequestsMeasured: measured.mergedPullRequests,
        requestsMeasured: measured.requests,
        requestsForAll: extrapolated
          ? Math.round((measured.requests / Math.max(1, measured.mergedPullRequests)) * all)
          : measured.requests,
        extrapolated,
      };
    }
    return {
      size: options.size,
      mergedPullRequests: sample.snapshot.changeRequests.length,
      wallMs,
      requests: auditRequests,
      graphqlPoints,
      byRoute,
      peakRssBytes,
      comparison: compareWithExpected(report, sample.expected),
      ...(findingIssues === undefined ? {} : { findingIssues }),
      ...(naive ? { naive } : {}),
      faultsInjected: { ...sim.stats.faults },
      resultsText: JSON.stringify(report.results),
    };
  } finally {
    await sim.close();
  }
}

/** Least-squares slope of wall time against merged pull requests, in ms per 1,000 pull requests. */
export function slopePerThousand(points: readonly { prs: number; ms: number }[]): number | null {
  if (points.length < 2) return null;
  const n = points.length;
  const meanX = points.reduce((s, p) => s + p.prs, 0) / n;
  const meanY = points.reduce((s, p) => s + p.ms, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.prs - meanX) ** 2, 0);
  if (sxx === 0) return null;
  const sxy = points.reduce((s, p) => s + (p.prs - meanX) * (p.ms - meanY), 0);
  return (sxy / sxx) * 1000;
}
