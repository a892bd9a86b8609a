/**
 * Findings sync at 10,000 and 100,000 results against the simulated GitHub's issues API (in its own
 * process, rate limits on): the results are real ones from evaluating the sample, copied onto
 * distinct change requests, one in 100 failing. A first sync files the issues (setup, with its own
 * token and without throttling); the second, timed with the production client, is the steady state
 * of a daily audit: list the finding issues, find each result's issue, change nothing.
 */
import type { Result } from "../src/controls/types.js";
import { evaluate } from "../src/engine/index.js";
import { policySetFor } from "../src/pipeline/policies.js";
import { createGitHubClient, createGitHubHost } from "../src/providers/github/index.js";
import { syncFindings } from "../src/reporters/findings/lifecycle.js";
import { generateSampleOrganization } from "../src/sample/generate.js";
import { startSimProcess, simStats } from "./measure.js";

export interface FindingsSyncFigures {
  results: number;
  findings: number;
  /** Seconds of the first sync, which files every finding (setup client: throttling off). */
  firstSeconds: number;
  /** Seconds of the second sync with the production client: the figure compared across sizes. */
  secondSeconds: number;
  secondRequests: number;
}

const FAIL_EVERY = 100;

/** `count` results, every FAIL_EVERY-th failing, each on its own change request. */
export function syntheticResults(count: number): Result[] {
  const sample = generateSampleOrganization({ repositories: 3, pullRequestsPerRepository: 10 });
  const report = evaluate(sample.snapshot, policySetFor(sample.snapshot), sample.at);
  const ofChange = report.results.filter((r) => r.subject.kind === "change-request");
  const pass = ofChange.find((r) => r.outcome === "pass");
  const fail = ofChange.find((r) => r.outcome === "fail");
  if (!pass || !fail) throw new Error("the sample evaluated to no passing or no failing change request");
  return Array.from({ length: count }, (_, i) => {
    const template = i % FAIL_EVERY === 0 ? fail : pass;
    const number = 1_000_000 + i;
    const repository = template.subject.repository ?? "acme-demo/api";
    return {
      ...template,
      subject: {
        ...template.subject,
        id: `${repository}#${number}`,
        number,
        url: `https://github.com/${repository}/pull/${number}`,
      },
    };
  });
}

export async function measureFindingsSync(
  counts: readonly number[],
  options: { latencyMs: number; log?: (line: string) => void },
): Promise<FindingsSyncFigures[]> {
  const sim = await startSimProcess({
    shape: { repositories: 1, pullRequestsPerRepository: 1 },
    latencyMs: options.latencyMs,
  });
  try {
    const { url, findingsRepository, at } = sim.ready;
    const figures: FindingsSyncFigures[] = [];
    for (const count of counts) {
      const results = syntheticResults(count);
      // A label per size, so one size's issues are not the other's vanished findings.
      const label = `soc2-${count}`;
      const sync = async (token: string, throttle: boolean) => {
        const octokit = createGitHubClient({ token, baseUrl: url, throttle });
        const tracker = createGitHubHost({ octokit, baseUrl: url }).issues(findingsRepository);
        const started = performance.now();
        // One issue per failing change (not the default grouping per control and repository): the
        // figure is the steady state of a tracker holding count / FAIL_EVERY finding issues.
        await syncFindings(tracker, results, {
          label,
          evaluatedAt: new Date(at),
          scope: "audit",
          groupChangeRequests: "per_change_request",
        });
        return { seconds: (performance.now() - started) / 1000, requests: octokit.stats.requests };
      };
      const first = await sync(`findings-setup-${count}`, false);
      const second = await sync("installation", true);
      const stats = await simStats(sim);
      figures.push({
        results: count,
        findings: Math.ceil(count / FAIL_EVERY),
        firstSeconds: first.seconds,
        secondSeconds: second.seconds,
        secondRequests: second.requests,
      });
      options.log?.(
        `  findings sync ${count} results: first ${first.seconds.toFixed(1)} s, second ${second.seconds.toFixed(1)} s ` +
          `(${second.requests} requests; ${stats.issues[findingsRepository] ?? 0} issues in all)`,
      );
    }
    return figures;
  } finally {
    await sim.close();
  }
}
