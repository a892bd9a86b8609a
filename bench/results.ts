/** bench/results.md: the figures of one benchmark run, with the machine, the date and the command. */
import { cpus, totalmem, type as osType, release } from "node:os";
import type { FindingsSyncFigures } from "./findings-sync.js";
import { SECONDARY_RATE_LIMIT_EVERY, type AuditFigures } from "./measure.js";
import { breakdownLines } from "./pr-check.js";
import { pushRecordLines } from "./push-record.js";
import type { BenchReport, CheckFigures, Slopes } from "./run.js";
import { isLongTail, shapeName } from "./shapes.js";
import { productionNodeSettings } from "./worker.js";
import { resolveRateLimits } from "../src/sim/github/rate-limits.js";

/** Issue 12's targets. */
const TARGET_PER_THOUSAND = 15;
const STRETCH_PER_THOUSAND = 12;
const TARGET_NAIVE_RATIO = 250;
const TARGET_POINTS = 5000;
const TARGET_RSS_MB = 300;
const TARGET_WALL_MINUTES = 10;
const TARGET_CHECK_REQUESTS = 2;
const TARGET_P99_MS = 1000;
const TARGET_SCALE = 100_000;

function perThousand(count: number, prs: number): string {
  return prs === 0 ? "-" : ((count / prs) * 1000).toFixed(1);
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

function waits(
  a: AuditFigures | { rateLimited: Record<string, number>; rateLimitWaitSeconds?: number },
): string {
  const kinds = Object.entries(a.rateLimited);
  if (kinds.length === 0) return "none";
  const text = kinds.map(([kind, n]) => `${n} ${kind}`).join(", ");
  return a.rateLimitWaitSeconds === undefined
    ? text
    : `${text} (${a.rateLimitWaitSeconds.toFixed(0)} s asked)`;
}

/** The client's own account of its waits (ClientStats.rateLimits), in seconds and counts. */
function toolWaits(a: AuditFigures): string {
  const r = a.clientRateLimits;
  if (!r) return "-";
  const s = (key: string) => (r[key] ?? 0).toFixed(0);
  return (
    `reset ${r.primaryResetWaits ?? 0} (${s("primaryResetWaitSeconds")} s), paced ${r.pacedRequests ?? 0} ` +
    `(${s("pacedSeconds")} s), secondary retries ${r.secondaryRetries ?? 0}`
  );
}

function found(a: AuditFigures): string {
  const exact = a.comparison.missing.length === 0 && a.comparison.unexpected.length === 0;
  return (
    `${a.comparison.found}/${a.comparison.expected}` +
    (exact ? "" : ` (${a.comparison.missing.length} missing, ${a.comparison.unexpected.length} unexpected)`) +
    (a.error ? ` FAILED: ${a.error.split("\n")[0]}` : "")
  );
}

function naiveRatio(a: AuditFigures): number | null {
  return a.naive && a.requests > 0 ? a.naive.requestsForAll / a.requests : null;
}

function auditRow(a: AuditFigures): string {
  const naive = a.naive;
  const ratio = naiveRatio(a);
  const naiveNote = naive?.extrapolated
    ? ` (${naive.repositoriesMeasured} repos, ${naive.pullRequestsMeasured} PRs measured)`
    : "";
  return (
    `| ${shapeName(a.shape)} | ${a.repositories} | ${a.mergedPullRequests} | ${(a.wallMs / 1000).toFixed(1)} | ` +
    `${a.requests} | ${perThousand(a.requests, a.mergedPullRequests)} | ${a.graphqlPoints} | ` +
    `${perThousand(a.graphqlPoints, a.mergedPullRequests)} | ${waits(a)} | ${toolWaits(a)} | ${mib(a.peakRssBytes)} | ` +
    `${naive ? perThousand(naive.requestsForAll, a.mergedPullRequests) : "-"}${naiveNote} | ` +
    `${ratio === null ? "-" : ratio.toFixed(1)} | ${found(a)} |`
  );
}

const AUDIT_HEADER = [
  `| shape | repos | merged PRs | wall s | API requests | requests / 1,000 PRs | GraphQL points | points / 1,000 PRs | rate-limit answers | tool's waits | tool peak RSS MiB | naive requests / 1,000 PRs | naive / ours | planted found |`,
  `| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | --- |`,
];

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

function slopeLine(s: Slopes): string {
  if (s.msPerThousand === null || s.rssMiBPerThousand === null) return "needs two sizes that completed";
  return (
    `wall time ${s.msPerThousand.toFixed(0)} ms and tool peak RSS ${s.rssMiBPerThousand.toFixed(2)} MiB ` +
    `per 1,000 merged PRs (least squares across sizes)`
  );
}

function largestOf(audits: readonly AuditFigures[]): AuditFigures | undefined {
  return audits.reduce<AuditFigures | undefined>(
    (best, a) => (!best || a.mergedPullRequests > best.mergedPullRequests ? a : best),
    undefined,
  );
}

function shapeSection(title: string, audits: readonly AuditFigures[], slopes: Slopes): string[] {
  if (audits.length === 0) return [];
  const largest = largestOf(audits);
  return [
    `### ${title}`,
    ``,
    ...AUDIT_HEADER,
    ...audits.map(auditRow),
    ``,
    `Slopes: ${slopeLine(slopes)}.`,
    ``,
    ...(largest ? [`Requests by route at ${shapeName(largest.shape)}:`, ``, ...routeTable(largest), ``] : []),
  ];
}

function checkLines(label: string, c: CheckFigures): string[] {
  const warmMin = c.warmRequests.length > 0 ? Math.min(...c.warmRequests) : 0;
  const warmMax = Math.max(0, ...c.warmRequests);
  return [
    `- ${label}: ${c.timesMs.length} warm events (each timed from its scheduled arrival)${c.coldRequests === null ? "" : ` after 1 cold (${c.coldRequests} charged requests)`}; ` +
      `charged requests per warm event ${warmMin}-${warmMax} ` +
      `(304 Not Modified, not charged: ${c.warmNotModified.length > 0 ? Math.min(...c.warmNotModified) : 0}-${Math.max(0, ...c.warmNotModified)}); ` +
      `p50 ${c.p50Ms.toFixed(0)} ms, p99 ${c.p99Ms.toFixed(0)} ms.`,
  ];
}

function findingsLines(figures: readonly FindingsSyncFigures[]): string[] {
  if (figures.length === 0) return [`Not measured (--findings "").`, ``];
  const first = figures[0];
  const last = figures.at(-1);
  const ratio = first && last && first !== last ? last.secondSeconds / first.secondSeconds : null;
  return [
    `| results | finding issues | first sync s (files them; setup client) | second sync s (production client) | second sync requests |`,
    `| ---: | ---: | ---: | ---: | ---: |`,
    ...figures.map(
      (f) =>
        `| ${f.results} | ${f.findings} | ${f.firstSeconds.toFixed(2)} | ${f.secondSeconds.toFixed(2)} | ${f.secondRequests} |`,
    ),
    ``,
    ratio === null || !first || !last
      ? `Ratio: needs two result counts.`
      : `Ratio of the second syncs: ${ratio.toFixed(1)}x for ${(last.results / first.results).toFixed(0)}x the results (linear: about ${(last.results / first.results).toFixed(0)}x).`,
    ``,
  ];
}

function met(ok: boolean): string {
  return ok ? "met" : "NOT met";
}

/** A figure at 100,000 PRs: measured when the largest size has that many, else scaled and said so. */
function atScale(
  a: AuditFigures | undefined,
  value: (a: AuditFigures) => number,
): { value: number; note: string } | null {
  if (!a || a.mergedPullRequests === 0) return null;
  if (a.mergedPullRequests >= TARGET_SCALE)
    return { value: value(a), note: `measured at ${shapeName(a.shape)}` };
  return {
    value: (value(a) / a.mergedPullRequests) * TARGET_SCALE,
    note: `scaled linearly from ${shapeName(a.shape)} (${a.mergedPullRequests} PRs): not measured at 100,000`,
  };
}

function targetRows(report: BenchReport): string[] {
  const rows: string[] = [];
  const shapes = [
    {
      name: "uniform",
      audits: report.audits.filter((a) => !isLongTail(a.shape)),
      slopes: report.slopes.uniform,
    },
    {
      name: "long-tail",
      audits: report.audits.filter((a) => isLongTail(a.shape)),
      slopes: report.slopes.longTail,
    },
  ];
  for (const shape of shapes) {
    const largest = largestOf(shape.audits);
    if (!largest) continue;
    const scaledNote =
      largest.mergedPullRequests >= TARGET_SCALE ? "" : ` (at ${shapeName(largest.shape)}, not 100,000 PRs)`;
    const per = (largest.requests / Math.max(1, largest.mergedPullRequests)) * 1000;
    rows.push(
      `| ${shape.name}: <= ${TARGET_PER_THOUSAND} requests / 1,000 merged PRs (stretch ${STRETCH_PER_THOUSAND}) | ${per.toFixed(1)}${scaledNote} | ${met(per <= TARGET_PER_THOUSAND)}${per <= STRETCH_PER_THOUSAND ? " (stretch met)" : ""} |`,
    );
    const ratio = naiveRatio(largest);
    rows.push(
      `| ${shape.name}: >= ${TARGET_NAIVE_RATIO}x fewer requests than the naive collector, same run | ${ratio === null ? "not measured" : `${ratio.toFixed(1)}x`} | ${ratio === null ? "NOT met (not measured)" : met(ratio >= TARGET_NAIVE_RATIO)} |`,
    );
    const points = atScale(largest, (a) => a.graphqlPoints);
    if (points)
      rows.push(
        `| ${shape.name}: <= ${TARGET_POINTS} GraphQL points for the 100,000-PR audit | ${points.value.toFixed(0)} (${points.note}) | ${met(points.value <= TARGET_POINTS)} |`,
      );
    const peakMb = Math.max(...shape.audits.map((a) => a.peakRssBytes)) / 1e6;
    const slope = shape.slopes.rssMiBPerThousand;
    rows.push(
      `| ${shape.name}: tool peak RSS < ${TARGET_RSS_MB} MB, flat in the population | ${peakMb.toFixed(0)} MB; slope ${slope === null ? "not measured" : `${slope.toFixed(2)} MiB per 1,000 PRs`} | ${met(peakMb < TARGET_RSS_MB)}${slope === null ? "" : slope > 0.5 ? " (not flat)" : ""} |`,
    );
    // Wall time is not scaled: under an hourly budget it is not linear in the population.
    const minutes = largest.wallMs / 60_000;
    const measured = largest.mergedPullRequests >= TARGET_SCALE;
    rows.push(
      `| ${shape.name}: wall time <= ${TARGET_WALL_MINUTES} min for 100,000 PRs under the simulated limits, ${report.options.latencyMs} ms latency | ${minutes.toFixed(1)} min at ${shapeName(largest.shape)} (${largest.mergedPullRequests} PRs) | ${measured ? met(minutes <= TARGET_WALL_MINUTES && largest.error === null) : "not measured at 100,000 PRs"} |`,
    );
  }
  const check = report.changeCheck;
  const warmMax = Math.max(0, ...check.alone.warmRequests, ...check.duringAudit.warmRequests);
  rows.push(
    `| change check <= ${TARGET_CHECK_REQUESTS} charged requests per event, warm | ${warmMax} | ${met(warmMax <= TARGET_CHECK_REQUESTS)} |`,
    `| change check p99 < ${TARGET_P99_MS} ms at ${report.options.latencyMs} ms latency, production throttling (one event every ${report.options.checkIntervalMs} ms) | ${check.alone.p99Ms.toFixed(0)} ms | ${met(check.alone.p99Ms < TARGET_P99_MS && check.alone.timesMs.length > 0)} |`,
    `| change check p99 < ${TARGET_P99_MS} ms while an audit of the same installation runs | ${check.duringAudit.timesMs.length === 0 ? "no event ran during the audit" : `${check.duringAudit.p99Ms.toFixed(0)} ms over ${check.duringAudit.timesMs.length} events`} | ${check.duringAudit.timesMs.length === 0 ? "NOT met (not measured)" : met(check.duringAudit.p99Ms < TARGET_P99_MS)} |`,
  );
  const sync = report.findingsSync;
  const first = sync[0];
  const last = sync.at(-1);
  if (first && last && first !== last) {
    const ratio = last.secondSeconds / first.secondSeconds;
    const linear = last.results / first.results;
    rows.push(
      `| findings sync linear; time at ${sync.map((s) => s.results).join(" and ")} results | ${sync.map((s) => `${s.secondSeconds.toFixed(2)} s`).join(" and ")} (${ratio.toFixed(1)}x for ${linear.toFixed(0)}x) | ${met(ratio <= linear * 1.5)} |`,
    );
  }
  const allFound = report.audits.every(
    (a) => a.error === null && a.comparison.missing.length === 0 && a.comparison.unexpected.length === 0,
  );
  const f = report.faults;
  rows.push(
    `| every planted violation found, both shapes | ${report.audits.map((a) => `${shapeName(a.shape)} ${a.comparison.found}/${a.comparison.expected}`).join(", ")} | ${met(allFound)} |`,
    `| results identical with faults injected | ${f.resultsEqual && f.findingIssuesEqual ? "identical" : "different"} | ${met(f.resultsEqual && f.findingIssuesEqual)} |`,
  );
  return rows;
}

export function renderResults(report: BenchReport, run: { command: string; date: Date }): string {
  const cpu = cpus();
  const f = report.faults;
  const limits = resolveRateLimits(report.options.rateLimits);
  const check = report.changeCheck;
  const uniform = report.audits.filter((a) => !isLongTail(a.shape));
  const longTail = report.audits.filter((a) => isLongTail(a.shape));
  return [
    `# Benchmark results`,
    ``,
    `- Date: ${run.date.toISOString()}`,
    `- Command: \`${run.command}\``,
    `- Full sizes: \`npm run bench -- --sizes 10x100,100x100,1000x100 --long-tail 1000x100000 --latency 50\` (add \`--enterprise-cloud\` for an Enterprise Cloud installation's budget).`,
    `- Machine: ${osType()} ${release()}, ${cpu.length} x ${cpu[0]?.model ?? "unknown CPU"}, ` +
      `${(totalmem() / 2 ** 30).toFixed(1)} GiB memory, Node ${process.version}`,
    `- Simulated GitHub (src/sim/github) in its own process on 127.0.0.1, ${report.options.latencyMs} ms latency per request, ` +
      `with GitHub's documented rate limits per token on a real-time clock: ${limits.restPerHour} REST requests and ` +
      `${limits.graphqlPointsPerHour} GraphQL points per hour${report.options.rateLimits.enterpriseCloud ? " (Enterprise Cloud installation)" : ""}, ` +
      `${limits.graphqlSecondaryPointsPerMinute} GraphQL secondary points per minute, ${limits.concurrentRequests} concurrent requests; ` +
      `304 Not Modified not charged.`,
    `- The tool in its own process, as \`soc2-bot audit\` runs (runAudit: collect, evaluate, write the evidence package; ` +
      `finding issues apart, below) with the production client: createGitHubClient({ token, baseUrl }), retries and ` +
      `throttling on, concurrency 4, and the environment and node flags of bin/soc2-bot.js's shebang ` +
      `(${[...Object.entries(productionNodeSettings().env).map(([name, value]) => `${name}=${value}`), ...productionNodeSettings().execArgv].join(" ")}). Peak RSS is that process's alone (the OS's maximum resident set, and ` +
      `process.memoryUsage().rss sampled every 100 ms).`,
    `- Requests: what the tool sent (retries included; 304s apart). Rate-limit answers: the simulated GitHub's ` +
      `refusals by kind, with the seconds they asked the tool to wait. Tool's waits: the client's own account ` +
      `(ClientStats.rateLimits): waits for a primary reset, requests paced under the per-minute budget, secondary retries.`,
    ``,
    `## Audit`,
    ``,
    ...shapeSection("Uniform: R repositories x P merged PRs", uniform, report.slopes.uniform),
    ...shapeSection(
      "Long tail: most repositories 0 to 5 merges, 1 in 100 thousands",
      longTail,
      report.slopes.longTail,
    ),
    ...(report.pushRecord && report.pushRecord.length > 0
      ? [
          `## Push record (the first audit reads GitHub's activity per production branch; an app that has received the year's push webhooks answers from its ledger: bench/push-record.ts)`,
          ``,
          ...pushRecordLines(report.pushRecord),
          ``,
        ]
      : []),
    `## Change check (runChangeCheck called directly, as the app's handler calls it)`,
    ``,
    `- Organization ${check.shape.repositories}x${check.shape.pullRequestsPerRepository}, alternating a clean and an unapproved open PR, one event every ${report.options.checkIntervalMs} ms; each event on a new host instance sharing one production client built with createGitHubClient({ conditionalCache: createConditionalCache() }), as the app does.`,
    ...checkLines("Alone", check.alone),
    ...checkLines(
      "Back to back (each event writes its check run and GitHub asks a second between writes: this is the queue at one installation's throughput, about one check a second, not an event's latency)",
      check.backToBack,
    ),
    ...checkLines(
      `During an audit of the same installation in the same process (same token, so the same budget at the simulated GitHub; the audit took ${(check.duringAudit.auditWallMs / 1000).toFixed(1)} s${check.duringAudit.auditError ? `, FAILED: ${check.duringAudit.auditError}` : ""}; rate-limit answers ${waits(check.duringAudit)})`,
      check.duringAudit,
    ),
    ...breakdownLines(check.duringAudit.breakdown, {
      tool: check.duringAudit.toolLoop,
      simulator: check.duringAudit.simulatorLoop,
    }),
    `- Conclusions: ${Object.entries({ ...check.alone.conclusions, ...check.duringAudit.conclusions })
      .map(([pr, c]) => `${pr} ${c}`)
      .join(", ")}.`,
    ``,
    `## Findings sync (one finding in 100 results; the second sync is the steady state: list, match, change nothing)`,
    ``,
    ...findingsLines(report.findingsSync),
    `## Faults (${shapeName(f.size)}, 5% injected faults: 500, 502, truncated body, timeout; secondary rate limit every ${SECONDARY_RATE_LIMIT_EVERY} requests; findings filed)`,
    ``,
    `- Faults injected: ${JSON.stringify(f.faultsInjected)}.`,
    `- Fault-free run: ${f.clean.requests} requests, ${(f.clean.wallMs / 1000).toFixed(1)} s, ${f.clean.findingIssues ?? 0} finding issues.`,
    `- Fault run: ${f.faulty.requests} requests (retries included), ${(f.faulty.wallMs / 1000).toFixed(1)} s, ${f.faulty.findingIssues ?? 0} finding issues${f.faulty.error ? `, FAILED: ${f.faulty.error}` : ""}.`,
    `- results.json identical: ${f.resultsEqual ? "yes" : "NO"}; finding issues identical in number: ${f.findingIssuesEqual ? "yes" : "NO"}.`,
    ``,
    `## Notes`,
    ``,
    `- The simulated clock is real time: an audit that spends its hour's budget waits for the reset as it would on GitHub ` +
      `(the production client gives up on a wait longer than its maxRateLimitWaitSeconds, and the audit then reports it).`,
    `- The simulated GitHub is one Node process, one event loop, on a machine it shares with the tool: while it executes ` +
      `an audit's GraphQL pages (graphql-js over the published schema), a change check's requests wait their turn, which ` +
      `GitHub's servers, answering in parallel, would not make them do: that time is measured per request and the change ` +
      `check's percentiles are also given without it.`,
    `- Not simulated: REST's 900 points per minute per endpoint, the CPU-time and content-creation secondary limits, and ` +
      `the extra 50 per repository and per user a non-Enterprise installation with more than 20 of either gets (up to 12,500).`,
    `- The naive collector lists closed PRs (100 per page) and reads pull, reviews, commits and check-runs for each merged ` +
      `one, with its own token; it is measured on up to ${report.options.naiveRepositories} repositories (at most 1,000 of their PRs, so its ` +
      `budget holds), and extrapolated: measured requests per PR times all PRs, plus the listing pages every repository needs.`,
    ``,
    `## Targets (issue 12)`,
    ``,
    `| target | measured | |`,
    `| --- | --- | --- |`,
    ...targetRows(report),
    ``,
  ].join("\n");
}
