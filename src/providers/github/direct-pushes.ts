/**
 * Commits on a production branch that no merged pull request into that branch brought, found by
 * when they were pushed: GitHub's repository activity records every push to a branch (time, actor,
 * before/after, force pushes, pull request and merge queue merges). Commit dates are set by the
 * client, so a commit dated before the period but pushed inside it is still found. Where the
 * activity record does not reach (GitHub keeps it about 90 days, older hosts lack it), the branch's
 * history by commit date is read instead, and those pushes say their push time is not recorded.
 *
 * With a push record (the app's ledger of `push` webhooks), a branch and period the record proves
 * complete are answered from it without the activity record: see pushesFromRecord.
 */
import { ProviderError } from "../../errors.js";
import type { DirectPush } from "../../model/index.js";
import {
  countGraphqlCost,
  describeFailure,
  isForbidden,
  providerError,
  recordUnreadable,
  splitFullName,
  type GitHubContext,
} from "./http.js";
import { notOnThisHost } from "./organization.js";
import { graphql } from "./pull-requests.js";
import { BRANCH_HISTORY_QUERY } from "./queries.js";
import { list } from "./repository.js";
import {
  ActivityAnswer,
  CommitPullRequest,
  ComparisonAnswer,
  type Activity,
  type ComparedCommit,
} from "./rest-schema.js";
import { BranchHistoryAnswer, parseAnswer, type HistoryCommit } from "./schema.js";

const ZERO_SHA = /^0+$/;
/**
 * Activities that put commits on the branch other than through a pull request or the merge queue.
 * A branch created inside the period may carry commits no other branch has: its commits cannot be
 * compared with anything, so the history covers them.
 */
const PUSHES: ReadonlySet<string> = new Set(["push", "force_push", "branch_creation"]);

type Period = { since: Date; until: Date };

export async function* listDirectPushes(
  ctx: GitHubContext,
  repository: string,
  branch: string,
  period: Period,
  mergedShas: ReadonlySet<string>,
  pushRecord?: PushRecordUse,
): AsyncIterable<DirectPush> {
  if (pushRecord) {
    const fromRecord = await pushesFromRecord(ctx, repository, branch, period, mergedShas, pushRecord);
    if (fromRecord.pushes) {
      yield* fromRecord.pushes;
      return;
    }
    // Nothing is lost: the activity record answers as it does without a push record.
    ctx.log.debug(
      `push record of ${repository}:${branch} not used (${fromRecord.why}): reading GitHub's activity`,
    );
  }
  const record = await readActivity(ctx, repository, branch, period);
  const found = new Map<string, DirectPush>();
  // The part of the period (from its start) that only the commit-date history can show.
  let historyUntil: Date | null = period.until;
  if (record !== null) {
    historyUntil = record.reachesSince ? null : (record.oldest ?? period.until);
    if (historyUntil !== null && !record.startsWithCreation) {
      // Before the record starts, only commit dates show: a commit dated before the period but
      // pushed in this part is in neither record. The report says so instead of implying coverage.
      const end = historyUntil < period.until ? historyUntil : period.until;
      recordUnreadable(
        ctx,
        repository,
        `push times and pushers of ${branch} from ${period.since.toISOString()} to ${end.toISOString()}`,
        ACTIVITY_RETENTION,
        {
          message: `GitHub's activity record of ${branch} starts at ${end.toISOString()}: commits pushed before then are found by commit date only`,
        },
      );
    }
    for (const run of pushRuns(record.activities)) {
      const first = run[0];
      const last = run.at(-1);
      if (!first || !last) continue;
      const commits = await pushedCommits(ctx, repository, first.before, last.after);
      if (commits === null) {
        // The push's commits cannot be listed (a new branch, a vanished commit): history covers it,
        // by commit date only, and the report says which push that is.
        historyUntil = period.until;
        recordUnreadable(
          ctx,
          repository,
          `commits of the ${first.type} to ${branch} at ${first.timestamp} (${first.before.slice(0, 7)}...${last.after.slice(0, 7)})`,
          COMPARISON,
          {
            message:
              "GitHub cannot compare the push's before and after: its commits are found by commit date only",
          },
        );
        continue;
      }
      const pushOf = attribute(run, commits.commits);
      if (first.type === "force_push" && commits.commits.length === 0 && commits.removed) {
        // A force push that only removed commits (the branch reset to an earlier commit) puts no new
        // commit on the branch, yet changes it without a change request: the reset commit stands for it.
        const { commit, count } = commits.removed;
        const push = fromCompared(repository, branch, commit, first);
        const what = `Force push reset ${branch} to this commit, removing ${count} commit${count === 1 ? "" : "s"}`;
        found.set(commit.sha, { ...push, message: `${what}: ${push.message}` });
        continue;
      }
      for (const commit of commits.commits) {
        if (found.has(commit.sha)) continue;
        if (await broughtByPullRequest(ctx, repository, branch, commit.sha, mergedShas)) continue;
        found.set(commit.sha, fromCompared(repository, branch, commit, pushOf.get(commit.sha) ?? last));
      }
    }
  }
  yield* found.values();
  if (historyUntil === null) return;
  const until = historyUntil < period.until ? historyUntil : period.until;
  for await (const push of historyPushes(ctx, repository, branch, { since: period.since, until })) {
    if (!found.has(push.sha)) yield push;
  }
}

interface ActivityRecord {
  /** Pushes and merges within the period, oldest first. */
  activities: Activity[];
  /** The record shows activity at or before the period's start: it covers the whole period. */
  reachesSince: boolean;
  /** The oldest activity GitHub still has, when it does not reach the period's start. */
  oldest: Date | null;
  /** The oldest activity created the branch: the record covers the branch's whole life. */
  startsWithCreation: boolean;
}

/** Why a push time may be missing although the activity record was read. */
const ACTIVITY_RETENTION =
  "GitHub's repository activity, which keeps pushes for a limited time (no permission shows older ones)";
const COMPARISON =
  "a comparison GitHub can make (the push created the branch, or its earlier commit is gone; no permission would show it)";

/**
 * The branch's activity, newest first, read page by page (100 each) until it passes the period's
 * start or ends. null when the host does not offer it to these credentials (403/404): then the
 * commit-date history is all there is.
 */
async function readActivity(
  ctx: GitHubContext,
  repository: string,
  branch: string,
  period: Period,
): Promise<ActivityRecord | null> {
  const { owner, repo } = splitFullName(repository);
  const what = `activity of ${repository}:${branch}`;
  const activities: Activity[] = [];
  let oldest = null as Date | null;
  let startsWithCreation = false;
  try {
    const pages = ctx.octokit.paginate.iterator("GET /repos/{owner}/{repo}/activity", {
      owner,
      repo,
      ref: `refs/heads/${branch}`,
      direction: "desc",
      per_page: 100,
    });
    for await (const page of pages) {
      for (const activity of parseAnswer(ActivityAnswer.array(), page.data, what)) {
        const at = new Date(activity.timestamp);
        if (oldest === null || at < oldest) {
          oldest = at;
          startsWithCreation = activity.type === "branch_creation";
        }
        if (at < period.since)
          return { activities: activities.reverse(), reachesSince: true, oldest, startsWithCreation };
        if (at <= period.until) activities.push(activity);
      }
    }
  } catch (error) {
    if (isForbidden(error)) {
      // Said once per branch, so the report tells why these pushes have no push time or pusher.
      const enterprise = describeFailure(error).headers["x-github-enterprise-version"];
      const permission =
        describeFailure(error).status === 404 && enterprise !== undefined
          ? notOnThisHost(`GitHub Enterprise Server ${enterprise}`)
          : "metadata:read (GitHub's repository activity)";
      recordUnreadable(ctx, repository, `push times and pushers of ${branch}`, permission, error);
      return null;
    }
    throw providerError(error, what, "metadata:read");
  }
  return { activities: activities.reverse(), reachesSince: false, oldest, startsWithCreation };
}

/**
 * The pushes of the period, oldest first, in runs one comparison can list: plain pushes that follow
 * each other with nothing between them (each starts where the one before ended). A force push, or
 * a push after a merge, starts a run of its own: a comparison across it would leave out commits a
 * force push discarded, or take in the merge's commits.
 */
function pushRuns(activities: Activity[]): Activity[][] {
  const runs: Activity[][] = [];
  let previous: Activity | null = null;
  for (const activity of activities) {
    if (PUSHES.has(activity.type)) {
      const run = runs.at(-1);
      const chained =
        run !== undefined &&
        previous !== null &&
        previous.type === "push" &&
        activity.type === "push" &&
        run.at(-1) === previous &&
        previous.after === activity.before;
      if (chained) run.push(activity);
      else runs.push([activity]);
    }
    previous = activity;
  }
  return runs;
}

/**
 * Which push of a run brought each commit: the oldest push owns everything its `after` reaches
 * among the run's commits, the next one what its own `after` adds, and so on.
 */
function attribute(run: Activity[], commits: ComparedCommit[]): Map<string, Activity> {
  const bySha = new Map(commits.map((c) => [c.sha, c]));
  const owner = new Map<string, Activity>();
  for (const push of run) {
    const stack = [push.after];
    for (let sha = stack.pop(); sha !== undefined; sha = stack.pop()) {
      const commit = bySha.get(sha);
      if (!commit || owner.has(sha)) continue;
      owner.set(sha, push);
      stack.push(...(commit.parents ?? []).map((p) => p.sha));
    }
  }
  return owner;
}

interface PushedCommits {
  commits: ComparedCommit[];
  /** The push reset the branch to `after`, an earlier commit, removing `count` commits. */
  removed: { commit: ComparedCommit; count: number } | null;
}

/**
 * The commits pushes added to the branch: what `after` has that `before` had not (the comparison
 * lists a force push's new commits the same way), every page of it. null when they cannot be
 * listed: a push that created the branch, or a `before` GitHub no longer has.
 */
async function pushedCommits(
  ctx: GitHubContext,
  repository: string,
  before: string,
  after: string,
): Promise<PushedCommits | null> {
  if (ZERO_SHA.test(before) || ZERO_SHA.test(after)) return null;
  const { owner, repo } = splitFullName(repository);
  const what = `commits pushed to ${repository} in ${before.slice(0, 7)}...${after.slice(0, 7)}`;
  const commits: ComparedCommit[] = [];
  for (let page = 1; ; page++) {
    let answer;
    try {
      answer = await ctx.octokit.request("GET /repos/{owner}/{repo}/compare/{basehead}", {
        owner,
        repo,
        basehead: `${before}...${after}`,
        per_page: 100,
        page,
      });
    } catch (error) {
      if (describeFailure(error).status === 404) return null;
      throw providerError(error, what, "contents:read");
    }
    const comparison = parseAnswer(ComparisonAnswer, answer.data, what);
    commits.push(...comparison.commits);
    const next = /rel="next"/.test(String(answer.headers.link ?? ""));
    if (!next || comparison.commits.length === 0) {
      // Never a silent part: a comparison that ends short of its own count is an error.
      if (commits.length < comparison.total_commits)
        throw providerError(
          { message: `${commits.length} of ${comparison.total_commits} commits listed` },
          what,
        );
      const behind = comparison.behind_by ?? 0;
      const base = comparison.merge_base_commit;
      return {
        commits,
        removed: behind > 0 && base?.sha === after ? { commit: base, count: behind } : null,
      };
    }
  }
}

/**
 * Whether a pushed commit came through a pull request merged into THIS branch (a pull request's
 * head pushed as is, or its merge made outside GitHub). Only commits the audit knows as a merged
 * pull request's head or merge commit are asked about, so a direct push costs no extra request.
 */
async function broughtByPullRequest(
  ctx: GitHubContext,
  repository: string,
  branch: string,
  sha: string,
  mergedShas: ReadonlySet<string>,
): Promise<boolean> {
  if (!mergedShas.has(sha)) return false;
  return mergedIntoBranch(ctx, repository, branch, sha, true);
}

/**
 * Whether a pull request merged into `branch` brought `sha`, from every pull request GitHub
 * associates with the commit (read to the last page). `exact`: only as its head or merge commit.
 */
async function mergedIntoBranch(
  ctx: GitHubContext,
  repository: string,
  branch: string,
  sha: string,
  exact: boolean,
): Promise<boolean> {
  const { owner, repo } = splitFullName(repository);
  const pulls = await list(
    ctx,
    "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
    { owner, repo, commit_sha: sha },
    CommitPullRequest,
  ).catch((error: unknown) =>
    Promise.reject(
      providerError(error, `pull requests of commit ${repository}@${sha}`, "pull_requests:read"),
    ),
  );
  return pulls.some(
    (p) =>
      p.merged_at !== null &&
      p.base.ref === branch &&
      (!exact || p.merge_commit_sha === sha || p.head.sha === sha),
  );
}

function fromCompared(
  repository: string,
  branch: string,
  commit: ComparedCommit,
  activity: Activity,
): DirectPush {
  const date = commit.commit.committer?.date ?? commit.commit.author?.date ?? activity.timestamp;
  return {
    repository,
    branch,
    sha: commit.sha,
    message: commit.commit.message.split("\n", 1)[0] ?? "",
    authorLogin: commit.author?.login ?? null,
    committerLogin: commit.committer?.login ?? null,
    pushedBy: activity.actor,
    at: date,
    pushedAt: activity.timestamp,
    forced: activity.type === "force_push",
    url: commit.html_url,
  };
}

/** The branch's history by commit date over `period`: the push time is not recorded for these. */
async function* historyPushes(
  ctx: GitHubContext,
  repository: string,
  branch: string,
  period: Period,
): AsyncIterable<DirectPush> {
  const { owner, repo } = splitFullName(repository);
  let after: string | null = null;
  for (;;) {
    const what = `history of ${repository}:${branch}`;
    const data = await graphql(
      ctx,
      BRANCH_HISTORY_QUERY,
      {
        owner,
        name: repo,
        ref: `refs/heads/${branch}`,
        since: period.since.toISOString(),
        until: period.until.toISOString(),
        after,
      },
      what,
    );
    const answer = parseAnswer(BranchHistoryAnswer, data, what);
    countGraphqlCost(ctx, answer.rateLimit);
    const history = answer.repository?.ref?.target?.history;
    // A branch that no longer exists has no history to audit.
    if (!history) return;
    for (const commit of history.nodes) {
      // GitHub listed only some of the pull requests of this commit: ask for all of them before
      // calling it a direct push (rare: a commit in more than five pull requests).
      const listedAll =
        commit.associatedPullRequests.totalCount <= commit.associatedPullRequests.nodes.length;
      if (
        isDirectPush(commit, branch) &&
        (listedAll || !(await mergedIntoBranch(ctx, repository, branch, commit.oid, false)))
      ) {
        yield {
          repository,
          branch,
          sha: commit.oid,
          message: commit.messageHeadline,
          authorLogin: commit.author?.user?.login ?? null,
          committerLogin: commit.committer?.user?.login ?? null,
          // Without the activity record GitHub names neither the pusher nor the push time.
          pushedBy: null,
          at: commit.committedDate,
          pushedAt: null,
          forced: false,
          url: commit.url,
        };
      }
    }
    if (!history.pageInfo.hasNextPage) return;
    if (!history.pageInfo.endCursor)
      throw new ProviderError(`GitHub said the ${what} goes on but gave no cursor to read on from`, {
        host: "github",
      });
    after = history.pageInfo.endCursor;
  }
}

/**
 * A commit no merged pull request into `branch` brought: it is neither one of the commits nor the
 * merge (or squash) commit of a pull request merged into that same branch. A pull request merged
 * into another branch does not count: its merge commit pushed onto `branch` is a direct push.
 */
export function isDirectPush(commit: HistoryCommit, branch: string): boolean {
  return !commit.associatedPullRequests.nodes.some((pr) => pr.merged && pr.baseRefName === branch);
}

// ---- the push record ----

/** A commit a push brought, as its push webhook listed it. */
export interface RecordedPushCommit {
  sha: string;
  /** The commit's whole message. */
  message: string;
  /** The GitHub accounts GitHub matched to the commit's author and committer e-mails. */
  authorLogin: string | null;
  committerLogin: string | null;
  /** The commit's own date (set by the client, like the commit date of the history). */
  timestamp: string;
  url: string;
}

/** One push to a branch, as the app recorded its push webhook. */
export interface RecordedPush {
  /** refs/heads/<branch> */
  ref: string;
  before: string;
  after: string;
  forced: boolean;
  created: boolean;
  deleted: boolean;
  /** Who pushed (the webhook's sender). */
  pusher: string | null;
  /** When the push happened: when its delivery arrived (see the ledger's push record). */
  pushedAt: string;
  /** The commits of the comparison before...after, oldest first. */
  commits: RecordedPushCommit[];
  /** false when the webhook may have left commits out (it lists at most 2,048). */
  commitsComplete: boolean;
}

/**
 * A reconciliation of the app's webhook deliveries with GitHub's list of them: every push delivery
 * from `from` to `to` (ISO times, on the axis of RecordedPush.pushedAt) is in the record.
 */
export interface PushCheckpoint {
  from: string;
  to: string;
}

/** Where recorded pushes are read (the ledger's push record). */
export interface PushRecordSource {
  /** Every recorded push to refs/heads/<branch> of the repository, in any order. */
  pushesOf(repository: string, branch: string): Promise<RecordedPush[]>;
  /** The reconciliation checkpoints, in any order. */
  checkpoints(): Promise<PushCheckpoint[]>;
}

/** A pull request merged in the period, by its merge commit. */
export interface MergedChange {
  baseBranch: string;
  /** Its commits (heads included): a merge push may list them besides the merge commit. */
  commits: ReadonlySet<string>;
}

/** The push record and what this audit read that it is checked against. */
export interface PushRecordUse {
  source: PushRecordSource;
  /** The branch's head commit as this audit read it; null when it did not. */
  head: string | null;
  /** Pull requests merged in the period, by merge commit. */
  merges: ReadonlyMap<string, MergedChange>;
}

const branchHeads = new WeakMap<GitHubContext, Map<string, string>>();

/** The head commit of a branch as a query of this audit read it (the repository batch). */
export function rememberBranchHead(
  ctx: GitHubContext,
  repository: string,
  branch: string,
  oid: string,
): void {
  let heads = branchHeads.get(ctx);
  if (!heads) branchHeads.set(ctx, (heads = new Map()));
  heads.set(`${repository.toLowerCase()}:${branch}`, oid);
}

/** The head read for the branch, once (the next audit reads it again). */
export function takeBranchHead(ctx: GitHubContext, repository: string, branch: string): string | null {
  const heads = branchHeads.get(ctx);
  const key = `${repository.toLowerCase()}:${branch}`;
  const head = heads?.get(key) ?? null;
  heads?.delete(key);
  return head;
}

/**
 * The direct pushes of the period from the push record, or null (with why) unless the record proves
 * itself complete for this branch and period: walking back from the branch's head as this audit read
 * it, each recorded push's `before` is the `after` of an earlier recorded push, until a push recorded
 * at or before the period's start. A missing delivery (the app down, a lost webhook, no record yet)
 * breaks that walk, and the activity record answers instead. Within the period, only what the record
 * says plainly is answered: a push whose `after` is the merge commit of a pull request merged into
 * this branch is that merge (as the activity record's pr_merge), when it brought no commit but merge
 * commits of pull requests merged into this branch and their own commits; a plain push brings the commits its webhook listed (all of them). Anything
 * else (a force push, the branch created or deleted inside the period, a webhook that may have left
 * commits out, a merge push that brought other commits) is left to the activity record, which reads
 * those with comparisons.
 */
export async function pushesFromRecord(
  ctx: GitHubContext,
  repository: string,
  branch: string,
  period: Period,
  mergedShas: ReadonlySet<string>,
  use: PushRecordUse,
): Promise<{ pushes: DirectPush[]; why?: undefined } | { pushes: null; why: string }> {
  if (use.head === null) return { pushes: null, why: "the branch's head was not read" };
  const recorded = await use.source.pushesOf(repository, branch);
  const chain = completeChain(recorded, use.head, period.since);
  if (typeof chain === "string") return { pushes: null, why: chain };
  // The chain alone cannot see a push and the force push that undid it when both deliveries were
  // lost: the pushes around them still chain. Only spans where every delivery GitHub listed was
  // reconciled into the record are trusted, from the chain's first push to the period's end.
  const start = chain[0]?.pushedAt ?? period.since.toISOString();
  const hole = uncovered(await use.source.checkpoints(), new Date(start), period.until);
  if (hole !== null)
    return {
      pushes: null,
      why: `its webhook deliveries from ${hole.toISOString()} were not reconciled with GitHub's list of them`,
    };
  // Over a reconciled span the record holds every push: one the walk from the head skipped (a
  // push undone by a later one, the later one lost after the span) means the walk is not the
  // branch's history there.
  const walked = new Set(chain);
  const skipped = recorded.find((push) => {
    const at = Date.parse(push.pushedAt);
    return !walked.has(push) && at >= Date.parse(start) && at <= period.until.getTime();
  });
  if (skipped)
    return {
      pushes: null,
      why: `the push at ${skipped.pushedAt} (${skipped.before.slice(0, 7)}...${skipped.after.slice(0, 7)}) is not on the way back from the head`,
    };
  const found = new Map<string, DirectPush>();
  for (const push of chain) {
    const at = Date.parse(push.pushedAt);
    if (at < period.since.getTime() || at > period.until.getTime()) continue;
    const where = `the push at ${push.pushedAt} (${push.before.slice(0, 7)}...${push.after.slice(0, 7)})`;
    if (push.forced) return { pushes: null, why: `${where} was forced` };
    if (!push.commitsComplete) return { pushes: null, why: `${where} may list only some of its commits` };
    if (use.merges.get(push.after)?.baseBranch === branch) {
      if (onlyMerged(push, branch, use.merges)) continue;
      return { pushes: null, why: `${where} merged a pull request and brought other commits` };
    }
    for (const commit of push.commits) {
      if (found.has(commit.sha)) continue;
      if (await broughtByPullRequest(ctx, repository, branch, commit.sha, mergedShas)) continue;
      found.set(commit.sha, {
        repository,
        branch,
        sha: commit.sha,
        message: commit.message.split("\n", 1)[0] ?? "",
        authorLogin: commit.authorLogin,
        committerLogin: commit.committerLogin,
        pushedBy: push.pusher,
        at: commit.timestamp,
        pushedAt: push.pushedAt,
        forced: false,
        url: commit.url,
      });
    }
  }
  return { pushes: [...found.values()] };
}

/**
 * The first instant of [from, until] no checkpoint covers, or null when they cover it all. Checkpoints
 * may overlap and come in any order; one that ends where the next starts leaves no hole.
 */
export function uncovered(checkpoints: PushCheckpoint[], from: Date, until: Date): Date | null {
  const spans = checkpoints
    .map((c) => ({ from: Date.parse(c.from), to: Date.parse(c.to) }))
    .filter((c) => Number.isFinite(c.from) && Number.isFinite(c.to) && c.from <= c.to)
    .sort((a, b) => a.from - b.from);
  let reached = from.getTime();
  for (const span of spans) {
    if (span.from > reached) break;
    reached = Math.max(reached, span.to);
    if (reached >= until.getTime()) return null;
  }
  return reached >= until.getTime() ? null : new Date(reached);
}

/**
 * Whether every commit of a merge's push is a merge commit of a pull request merged into `branch`
 * or one of the commits of such a pull request whose merge commit the push brings (a merge queue
 * may merge several at once).
 */
function onlyMerged(push: RecordedPush, branch: string, merges: ReadonlyMap<string, MergedChange>): boolean {
  const merged = push.commits.flatMap((c) => {
    const merge = merges.get(c.sha);
    return merge && merge.baseBranch === branch ? [merge] : [];
  });
  return push.commits.every(
    (c) => merges.get(c.sha)?.baseBranch === branch || merged.some((merge) => merge.commits.has(c.sha)),
  );
}

/**
 * The recorded pushes from one at or before `since` to the one that made `head`, oldest first, or
 * why they do not chain. Deliveries may arrive in any order, so the chain is walked back from the
 * head: the push that made a commit the branch's is the latest recorded push to it not later than
 * the push that followed.
 */
function completeChain(pushes: RecordedPush[], head: string, since: Date): RecordedPush[] | string {
  const byAfter = new Map<string, RecordedPush[]>();
  for (const push of pushes) {
    if (push.deleted) continue;
    const list = byAfter.get(push.after);
    if (list) list.push(push);
    else byAfter.set(push.after, [push]);
  }
  const chain: RecordedPush[] = [];
  const used = new Set<RecordedPush>();
  let sha = head;
  let bound = Number.POSITIVE_INFINITY;
  for (;;) {
    let push: RecordedPush | null = null;
    for (const candidate of byAfter.get(sha) ?? []) {
      const at = Date.parse(candidate.pushedAt);
      if (used.has(candidate) || at > bound) continue;
      if (push === null || at > Date.parse(push.pushedAt)) push = candidate;
    }
    if (push === null)
      return chain.length === 0
        ? `no push of its head ${sha.slice(0, 7)} is recorded`
        : `no push of ${sha.slice(0, 7)} is recorded before ${chain.at(-1)?.pushedAt ?? "?"}`;
    used.add(push);
    chain.push(push);
    const at = Date.parse(push.pushedAt);
    if (at <= since.getTime()) return chain.reverse();
    if (push.created || ZERO_SHA.test(push.before))
      return `the branch was created inside the period (${push.pushedAt})`;
    sha = push.before;
    bound = at;
  }
}
