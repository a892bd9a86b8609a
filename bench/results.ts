/** bench/results.md: the figures of one benchmark run, with the machine, the date and the command. */
import { cpus, totalmem, type as osType, release } from "node:os";
import { SECONDARY_RATE_LIMIT_EVERY, type AuditFigures } from "./measure.js";
import type { BenchReport } from "./run.js";

const TARGET_PER_THOUSAND = 25;
const TARGET_NAIVE_RATIO = 150;
const TARGET_CHECK_REQUESTS = 4;
const TARGET_P99_MS = 1000;

function perThousand(count: number, prs: number): string {
  return prs === 0 ? "-" : ((count / prs) * 1000).toFixed(1);
}

function sizeName(a: { repositories: number; pullRequestsPerRepository: number }): string {
  return `${a.repositories}x${a.pullRequestsPerRepository}`;
}

function auditRow(a: AuditFigures): string {
  const naive = a.naive;
  const naivePerThousand = naive ? perThousand(naive.requestsForAll, a.mergedPullRequests) : "-";
  const ratio = naive && a.requests > 0 ? (naive.requestsForAll / a.requests).toFixed(1) : "-";
  const naiveNote = naive?.extrapolated
    ? ` (${naive.repositoriesMeasured} repos measured, extrapolated)`
    : "";
  const exact = a.comparison.missing.length === 0 && a.comparison.unexpected.length === 0;
  return (
    `| ${sizeName(a.size)} | ${a.mergedPullRequests} | ${(a.wallMs / 1000).toFixed(1)} | ${a.requests} | ` +
    `${perThousand(a.requests, a.mergedPullRequests)} | ${perThousand(a.graphqlPoints, a.mergedPullRequests)} | ` +
    `${(a.peakRssBytes / 2 ** 20).toFixed(0)} | ${naivePerThousand}${naiveNote} | ${ratio} | ` +
    `${a.comparison.found}/${a.comparison.expected}${exact ? "" : ` (${a.comparison.missing.length} missing, ${a.comparison.unexpected.length} unexpected)`} |`
  );
}

function routeTable(a: AuditFigures): string[] {
  const rows = Object.entries(a.byRoute).sort((x, y) => y[1] - x[1]);
  return [
    `| route | requests | per 1,000 PRs |`,
    `| --- | ---: | ---: |`,
    ...rows.map(
      ([route, count]) => `| \`${route}\` | ${count} | ${perThousand(count, a.mergedPullRequests)} |`,
    ),
  ];
}

function met(ok: boolean): string {
  return ok ? "met" : "NOT met";
}

export function renderResults(report: BenchReport, run: { command: string; date: Date }): string {
  const largest = report.audits.reduce<AuditFigures | undefined>(
    (best, a) => (!best || a.mergedPullRequests > best.mergedPullRequests ? a : best),
    undefined,
  );
  const check = report.changeCheck;
  const warmMax = Math.max(0, ...check.warmRequests);
  const largestPerThousand = largest ? (largest.requests / largest.mergedPullRequests) * 1000 : Infinity;
  const largestRatio = largest?.naive ? largest.naive.requestsForAll / largest.requests : 0;
  const cpu = cpus();
  const f = report.faults;
  return [
    `# Benchmark results`,
    ``,
    `- Date: ${run.date.toISOString()}`,
    `- Command: \`${run.command}\``,
    `- Machine: ${osType()} ${release()}, ${cpu.length} x ${cpu[0]?.model ?? "unknown CPU"}, ` +
      `${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Node ${process.version}`,
    `- Simulated GitHub on 127.0.0.1 (bench/sim) with ${report.options.latencyMs} ms latency per request; ` +
      `the real GitHub provider (createGitHubClient + createGitHubHost) and collectAudit + evaluate, concurrency 4.`,
    `- Audit runs use the client with throttling and retries off (octokit's throttling spaces every GraphQL ` +
      `query 1 s apart, see the note below); the fault run keeps them on, as production does.`,
    `- Peak RSS: process.memoryUsage().rss sampled every 100 ms; it includes the simulated GitHub, which runs in the same process.`,
    ``,
    `## Audit`,
    ``,
    `| size (repos x PRs) | merged PRs | wall s | API requests | requests / 1,000 PRs | GraphQL points / 1,000 PRs | peak RSS MiB | naive requests / 1,000 PRs | naive / ours | planted found |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |`,
    ...report.audits.map(auditRow),
    ``,
    `Wall time vs population (least squares): ${report.slopeMsPerThousand === null ? "needs two sizes" : `${report.slopeMsPerThousand.toFixed(0)} ms per 1,000 merged PRs`}.`,
    ``,
    ...(largest
      ? [`### Requests by route at ${sizeName(largest.size)}`, ``, ...routeTable(largest), ``]
      : []),
    `## Change check (runChangeCheck called directly, as the app's handler calls it)`,
    ``,
    `- Events: ${check.events} (1 cold with an empty conditional cache, then ${check.warmRequests.length} warm), alternating a clean and an unapproved open PR; each event on a new host instance sharing one client built with createGitHubClient({ conditionalCache: createConditionalCache() }), as the app does.`,
    `- Charged requests: cold ${check.coldRequests}; warm ${Math.min(...check.warmRequests)}-${warmMax} per event. 304 Not Modified answers (not charged by GitHub): warm ${Math.min(...check.warmNotModified)}-${Math.max(0, ...check.warmNotModified)} per event, ${check.notModified} in all.`,
    `- Time from handling the event to the check run written (warm): p50 ${check.p50Ms.toFixed(0)} ms, p99 ${check.p99Ms.toFixed(0)} ms.`,
    `- Conclusions: ${Object.entries(check.conclusions)
      .map(([pr, c]) => `${pr} ${c}`)
      .join(", ")}.`,
    ``,
    `## Faults (${sizeName(f.size)}, 5% injected faults: 500, 502, truncated body, timeout; secondary rate limit every ${SECONDARY_RATE_LIMIT_EVERY} requests)`,
    ``,
    `- Faults injected: ${JSON.stringify(f.faultsInjected)}.`,
    `- Fault-free run: ${f.clean.requests} requests, ${(f.clean.wallMs / 1000).toFixed(1)} s, ${f.clean.findingIssues ?? 0} finding issues.`,
    `- Fault run: ${f.faulty.requests} requests (retries included), ${(f.faulty.wallMs / 1000).toFixed(1)} s, ${f.faulty.findingIssues ?? 0} finding issues.`,
    `- Evaluation results identical: ${f.resultsEqual ? "yes" : "NO"}; finding issues identical in number: ${f.findingIssuesEqual ? "yes" : "NO"}.`,
    ``,
    `## Notes`,
    ``,
    `- octokit's throttling plugin (on in production clients) schedules every GraphQL request through its ` +
      `"write" limiter, one request per second: with it, an audit spends at least 1 s per GraphQL query ` +
      `(a page of 100 merged PRs, or a branch's history), about ${throttledMinutes(largest)} minutes per 100,000 ` +
      `merged PRs at the largest size whatever the latency. The audit rows above ` +
      `run without it; the fault run's wall time shows it.`,
    `- The naive collector lists closed PRs (100 per page) and reads pull, reviews, commits and check-runs ` +
      `for each merged one; for sizes with more repositories than it measured, its requests are extrapolated per PR.`,
    ``,
    `## Targets`,
    ``,
    `| target | measured | |`,
    `| --- | --- | --- |`,
    `| audit <= ${TARGET_PER_THOUSAND} requests / 1,000 merged PRs at the largest size | ${Number.isFinite(largestPerThousand) ? largestPerThousand.toFixed(1) : "-"} | ${met(largestPerThousand <= TARGET_PER_THOUSAND)} |`,
    `| >= ${TARGET_NAIVE_RATIO}x fewer requests than the naive collector | ${largestRatio.toFixed(1)}x | ${met(largestRatio >= TARGET_NAIVE_RATIO)} |`,
    `| change check <= ${TARGET_CHECK_REQUESTS} charged requests per event, warm | ${warmMax} | ${met(warmMax <= TARGET_CHECK_REQUESTS)} |`,
    `| change check p99 < ${TARGET_P99_MS} ms at ${report.options.latencyMs} ms latency | ${check.p99Ms.toFixed(0)} ms | ${met(check.p99Ms < TARGET_P99_MS)} |`,
    `| identical results with faults | ${f.resultsEqual && f.findingIssuesEqual ? "identical" : "different"} | ${met(f.resultsEqual && f.findingIssuesEqual)} |`,
    ``,
  ].join("\n");
}

/** Minutes octokit's one-GraphQL-query-per-second limiter alone adds per 100,000 merged PRs. */
function throttledMinutes(largest: AuditFigures | undefined): string {
  if (!largest || largest.mergedPullRequests === 0) return "?";
  const queries = largest.byRoute["POST /graphql"] ?? 0;
  return (((queries / largest.mergedPullRequests) * 100_000) / 60).toFixed(0);
}
