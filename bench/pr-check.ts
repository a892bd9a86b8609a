/**
 * The change check (the pull-request check) against the simulated GitHub: open pull requests made
 * from the sample's merged ones, then runChangeCheck called directly, as the Probot app's handler
 * calls it (a new host per event, one conditional cache for all), timing each event from the call
 * to the check run being written.
 */
import type { ChangeRequest, Snapshot } from "../src/model/index.js";
import { runChangeCheck } from "../src/pipeline/change-check.js";
import type { SampleOrganization } from "../src/sample/generate.js";
import {
  createConditionalCache,
  createGitHubClient,
  createGitHubHost,
} from "../src/providers/github/index.js";
import type { SimulatedGitHub } from "./sim/server.js";

export interface OpenPullRequest {
  repository: string;
  number: number;
}

export interface OpenPullRequests {
  /** Approved by someone else, required check green: the check must succeed. */
  clean: OpenPullRequest;
  /** No approval: the check must fail. */
  violating: OpenPullRequest;
}

/** First free pull request number used for the open copies (the sample numbers from 1). */
const OPEN_NUMBER_BASE = 100_000;

function reopened(change: ChangeRequest, number: number): ChangeRequest {
  return {
    ...change,
    number,
    url: change.url.replace(/\/pull\/\d+$/, `/pull/${number}`),
    headBranch: `${change.headBranch}-open`,
    state: "open",
    mergeCommitSha: null,
    mergedAt: null,
    mergedBy: null,
    checks: change.checks.map((check) => ({ ...check, on: "head" })),
    bypassedProtection: { known: true, value: false },
  };
}

/**
 * Adds one clean and one unapproved open pull request, copied from a clean merged one of a repository
 * whose rules are readable and require approval (the sample's first repository, "api").
 */
export function withOpenPullRequests(
  snapshot: Snapshot,
  sample: SampleOrganization,
): { snapshot: Snapshot; open: OpenPullRequests } {
  const failing = new Set(sample.expected.map((e) => e.subject));
  const repository = sample.snapshot.repositories[0]?.fullName;
  const candidates = snapshot.changeRequests.filter((c) => c.repository === repository);
  const clean = candidates.find((c) => !failing.has(`${c.repository}#${c.number}`));
  if (!clean || !repository) throw new Error(`the sample has no clean pull request in ${repository ?? "?"}`);
  // The same change on its own commit, reviewed with a comment instead of an approval.
  const sha = (value: string) => (value === clean.headSha ? [...value].reverse().join("") : value);
  const unapproved: ChangeRequest = {
    ...clean,
    headBranch: `${clean.headBranch}-unapproved`,
    headSha: sha(clean.headSha),
    commits: clean.commits.map((commit) => ({ ...commit, sha: sha(commit.sha) })),
    pushes: clean.pushes.map((push) => ({ ...push, headSha: sha(push.headSha) })),
    reviews: clean.reviews.map((review) => ({
      ...review,
      state: "commented",
      commitSha: review.commitSha && sha(review.commitSha),
    })),
    checks: clean.checks.map((check) => ({ ...check, sha: sha(check.sha) })),
  };
  const open = {
    clean: { repository, number: OPEN_NUMBER_BASE + 1 },
    violating: { repository, number: OPEN_NUMBER_BASE + 2 },
  };
  return {
    snapshot: {
      ...snapshot,
      changeRequests: [
        ...snapshot.changeRequests,
        reopened(clean, open.clean.number),
        reopened(unapproved, open.violating.number),
      ],
    },
    open,
  };
}

export interface ChangeCheckFigures {
  events: number;
  /** Charged requests of the first event (empty conditional cache). */
  coldRequests: number;
  /** Charged requests per later event (each on a new host instance, as the app makes one per event). */
  warmRequests: number[];
  /** 304 answers per later event: GitHub does not charge them against the rate limit. */
  warmNotModified: number[];
  /** 304 answers seen in all (sim count). */
  notModified: number;
  /** Milliseconds from handling the event to the check run written, per warm event. */
  timesMs: number[];
  conclusions: Record<string, string>;
}

/** `events` deliveries alternating between the clean and the violating pull request. */
export async function measureChangeChecks(
  sim: SimulatedGitHub,
  open: OpenPullRequests,
  options: { organization: string; now: Date; events: number },
): Promise<ChangeCheckFigures> {
  // As the app: one conditional cache for the process, a new host for every event (so nothing is
  // remembered between events but the cached ETags, which GitHub answers with an uncharged 304).
  const octokit = createGitHubClient({
    token: "demo",
    baseUrl: sim.url,
    throttle: false,
    conditionalCache: createConditionalCache(),
  });
  const { stats } = octokit;
  const run = async (target: OpenPullRequest) => {
    const host = createGitHubHost({ octokit, baseUrl: sim.url });
    const before = { requests: stats.requests, notModified: stats.notModified ?? 0 };
    const started = performance.now();
    const outcome = await runChangeCheck(host, target, {
      organization: options.organization,
      now: options.now,
    });
    return {
      requests: stats.requests - before.requests,
      notModified: (stats.notModified ?? 0) - before.notModified,
      ms: performance.now() - started,
      outcome,
    };
  };
  const notModifiedBefore = sim.stats.notModified;
  const cold = await run(open.clean);
  const conclusions: Record<string, string> = {
    [`${open.clean.repository}#${open.clean.number}`]: cold.outcome.check.conclusion,
  };
  const warmRequests: number[] = [];
  const warmNotModified: number[] = [];
  const timesMs: number[] = [];
  for (let i = 0; i < options.events; i++) {
    const target = i % 2 === 0 ? open.violating : open.clean;
    const event = await run(target);
    warmRequests.push(event.requests);
    warmNotModified.push(event.notModified);
    timesMs.push(event.ms);
    conclusions[`${target.repository}#${target.number}`] = event.outcome.check.conclusion;
  }
  return {
    events: options.events + 1,
    coldRequests: cold.requests,
    warmRequests,
    warmNotModified,
    notModified: sim.stats.notModified - notModifiedBefore,
    timesMs,
    conclusions,
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? 0;
}
