/**
 * The change check (the pull-request check) against the simulated GitHub: open pull requests made
 * from the sample's merged ones, then runChangeCheck called directly, as the Probot app's handler
 * calls it (a new host per event, one conditional cache for all, the production client with its
 * retries and throttling), timing each event from the call to the check run being written.
 */
import type { ChangeRequest, Snapshot } from "../src/model/index.js";
import { runChangeCheck } from "../src/pipeline/change-check.js";
import type { SampleOrganization } from "../src/sample/generate.js";
import {
  createConditionalCache,
  createGitHubClient,
  createGitHubHost,
  type ClientStats,
  type GitHubClient,
} from "../src/providers/github/index.js";

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
  /** Events measured (the cold one included, when there was one). */
  events: number;
  /** Charged requests of the first event (empty conditional cache); null when the cache was warm. */
  coldRequests: number | null;
  /** Charged requests per later event (each on a new host instance, as the app makes one per event). */
  warmRequests: number[];
  /** 304 answers per later event: GitHub does not charge them against the rate limit. */
  warmNotModified: number[];
  /** Milliseconds from handling the event to the check run written, per warm event. */
  timesMs: number[];
  conclusions: Record<string, string>;
}

/**
 * The app's client for an installation: createGitHubClient with production defaults (retries and
 * throttling on) and one conditional cache for the process.
 */
export function changeCheckClient(url: string, token: string): GitHubClient & { stats: ClientStats } {
  return createGitHubClient({ token, baseUrl: url, conditionalCache: createConditionalCache() });
}

/**
 * Deliveries alternating between the violating and the clean pull request: a cold one first when
 * `cold`, then up to `events` warm ones, stopping early when `stop()` says so (an audit finished).
 */
export async function measureChangeChecks(
  octokit: GitHubClient & { stats: ClientStats },
  url: string,
  open: OpenPullRequests,
  options: {
    organization: string;
    now: Date;
    events: number;
    cold?: boolean;
    stop?: () => boolean;
    /**
     * Milliseconds from one event's arrival to the next (default 2,000; 0: back to back). Each event
     * writes its check run, and GitHub asks a second between writes, so one installation checks about
     * one pull request a second at most: events arriving that fast queue, and their time is the queue's.
     */
    intervalMs?: number;
  },
): Promise<ChangeCheckFigures> {
  // As the app: one conditional cache for the process, a new host for every event (so nothing is
  // remembered between events but the cached ETags, which GitHub answers with an uncharged 304).
  const { stats } = octokit;
  const intervalMs = options.intervalMs ?? 2000;
  let arrived = 0;
  const run = async (target: OpenPullRequest) => {
    const wait = arrived + intervalMs - performance.now();
    if (arrived > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    arrived = performance.now();
    const host = createGitHubHost({ octokit, baseUrl: url });
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
  const conclusions: Record<string, string> = {};
  let coldRequests: number | null = null;
  if (options.cold ?? true) {
    const cold = await run(open.clean);
    coldRequests = cold.requests;
    conclusions[`${open.clean.repository}#${open.clean.number}`] = cold.outcome.check.conclusion;
  }
  const warmRequests: number[] = [];
  const warmNotModified: number[] = [];
  const timesMs: number[] = [];
  for (let i = 0; i < options.events && !(options.stop?.() ?? false); i++) {
    const target = i % 2 === 0 ? open.violating : open.clean;
    const event = await run(target);
    warmRequests.push(event.requests);
    warmNotModified.push(event.notModified);
    timesMs.push(event.ms);
    conclusions[`${target.repository}#${target.number}`] = event.outcome.check.conclusion;
  }
  return {
    events: timesMs.length + (coldRequests === null ? 0 : 1),
    coldRequests,
    warmRequests,
    warmNotModified,
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
