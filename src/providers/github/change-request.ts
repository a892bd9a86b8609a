/** Maps a GitHub pull request (GraphQL) into the model's ChangeRequest. Pure. */
import {
  type ActorKind,
  type BranchRule,
  type ChangeRequest,
  type Check,
  type CheckConclusion,
  type Known,
  type Push,
  type Review,
  type ReviewState,
} from "../../model/index.js";
import { deriveBypassedProtection } from "./bypass.js";
import { coAuthorsOf, mentionsCoAuthor } from "./co-authors.js";
import type { ContextConnection, GitActor, PullRequestNode } from "./schema.js";

/** GitHub shows a deleted account as "ghost" (and answers a null actor). */
const GHOST = "ghost";

/** A connection the provider could not read to its end: commits, or one of ChangeRequest.truncated. */
export type PartialConnection = "commits" | ChangeRequest["truncated"][number];

/** What reading a pull request's connections to their end added to its first answer. */
export interface Completion {
  /** The whole `authors` list of each commit whose message names a co-author, by oid. */
  authors: ReadonlyMap<string, readonly GitActor[]>;
  /** Connections GitHub refused to page further. */
  refused: ReadonlySet<PartialConnection>;
}

const NOTHING_MORE: Completion = { authors: new Map(), refused: new Set() };

/** The kind of an Actor from its GraphQL type; a null actor (a deleted account) is unknown. */
export function actorKind(actor: { __typename?: string | undefined } | null): ActorKind {
  if (actor?.__typename === "User") return "user";
  if (actor?.__typename === "Bot") return "bot";
  return "unknown";
}

/** A git actor linked to a GitHub account is a user; with no linked account, nobody can tell. */
function gitActorKind(actor: GitActor | null): ActorKind {
  return actor?.user ? "user" : "unknown";
}

const REVIEW_STATES: Record<PullRequestNode["reviews"]["nodes"][number]["state"], ReviewState> = {
  APPROVED: "approved",
  CHANGES_REQUESTED: "changes_requested",
  COMMENTED: "commented",
  DISMISSED: "dismissed",
  PENDING: "pending",
};

/**
 * The change request of a pull request. `completion` holds what follow-up queries read; any
 * connection that still has a next page, or has fewer items than its count, or was refused, is
 * reported partial (commitsTruncated, truncated) so the controls relying on it answer unknown.
 */
export function mapPullRequest(
  repository: string,
  pr: PullRequestNode,
  rules: Known<BranchRule | null>,
  completion: Completion = NOTHING_MORE,
): ChangeRequest {
  const headSha = pr.headRefOid;
  const state = pr.state === "MERGED" ? "merged" : pr.state === "OPEN" ? "open" : "closed";
  const headRollup =
    pr.headCommit.nodes.find((n) => n.commit.oid === headSha)?.commit.statusCheckRollup ?? null;
  const partial = new Set<PartialConnection>(completion.refused);
  const mark = (what: PartialConnection, connection: { pageInfo: { hasNextPage: boolean } } | null) => {
    if (connection?.pageInfo.hasNextPage) partial.add(what);
  };
  mark("commits", pr.commits);
  if (pr.commits.nodes.length < pr.commits.totalCount) partial.add("commits");
  mark("reviews", pr.reviews);
  if (pr.reviews.nodes.length < pr.reviews.totalCount) partial.add("reviews");
  mark("pushes", pr.timelineItems);
  for (const rollup of [headRollup, pr.mergeCommit?.statusCheckRollup ?? null]) {
    if (!rollup) continue;
    mark("checks", rollup.contexts);
    if (rollup.contexts.nodes.length < rollup.contexts.totalCount) partial.add("checks");
  }
  const checks = [
    ...mapRollup(headRollup, "head", headSha),
    ...(pr.mergeCommit ? mapRollup(pr.mergeCommit.statusCheckRollup, "merge", pr.mergeCommit.oid) : []),
  ];
  const reviews = pr.reviews.nodes.flatMap((r): Review[] =>
    // A pending review is a draft nobody else can see: it approves nothing.
    r.submittedAt === null
      ? []
      : [
          {
            reviewer: r.author?.login ?? GHOST,
            reviewerKind: actorKind(r.author),
            // Absent only when the query did not ask: then GitHub did not say. GitHub answers for the
            // reviewer's access NOW, not when they approved (it keeps no history of access): a
            // reviewer who lost write access since is not counted (a fail or unknown, never a wrong
            // pass), and one given write access after a drive-by approval is counted: nothing on the
            // pull request shows when access was granted.
            authorCanPush: r.authorCanPushToRepository ?? null,
            state: REVIEW_STATES[r.state],
            submittedAt: r.submittedAt,
            commitSha: r.commit?.oid ?? null,
          },
        ],
  );
  const base = {
    repository,
    number: pr.number,
    title: pr.title,
    url: pr.url,
    author: pr.author?.login ?? GHOST,
    authorKind: actorKind(pr.author),
    state,
    draft: pr.isDraft,
    baseBranch: pr.baseRefName,
    headBranch: pr.headRefName,
    headSha,
    mergeCommitSha: pr.mergeCommit?.oid ?? null,
    createdAt: pr.createdAt,
    mergedAt: pr.mergedAt,
    mergedBy: pr.mergedBy?.login ?? null,
    commits: pr.commits.nodes.map(({ commit }) => {
      const authors = completion.authors.get(commit.oid) ?? null;
      // A message naming a co-author whose `authors` were not read leaves the co-authors partial.
      if (authors === null && mentionsCoAuthor(commit.message)) partial.add("co-authors");
      return {
        sha: commit.oid,
        authorLogin: commit.author?.user?.login ?? null,
        authorName: commit.author?.name ?? "",
        authorEmail: commit.author?.email ?? null,
        authorKind: gitActorKind(commit.author),
        committerLogin: commit.committer?.user?.login ?? null,
        committerKind: gitActorKind(commit.committer),
        coAuthors: coAuthorsOf({ message: commit.message, author: commit.author, authors }),
        authoredAt: commit.author?.date ?? commit.committer?.date ?? pr.createdAt,
        committedAt: commit.committer?.date ?? commit.author?.date ?? pr.createdAt,
      };
    }),
    commitsTruncated: partial.has("commits"),
    pushes: mapPushes(pr),
    reviews,
    checks,
    truncated: TRUNCATED_ORDER.filter((what) => partial.has(what)),
    mergedByQueue: state === "merged" && mergedByQueue(pr),
  } satisfies Omit<ChangeRequest, "bypassedProtection">;
  return { ...base, bypassedProtection: deriveBypassedProtection(base, rules) };
}

const TRUNCATED_ORDER = ["reviews", "pushes", "checks", "co-authors"] as const;

/**
 * Merged by GitHub's merge queue: the last queue event before the merge put it in the queue (a
 * pull request taken out of the queue and then merged by hand was not merged by the queue).
 */
function mergedByQueue(pr: PullRequestNode): boolean {
  const events = pr.timelineItems.nodes
    .filter(
      (item) =>
        item.__typename === "AddedToMergeQueueEvent" || item.__typename === "RemovedFromMergeQueueEvent",
    )
    .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
  return events.at(-1)?.__typename === "AddedToMergeQueueEvent";
}

function mapPushes(pr: PullRequestNode): Push[] {
  const pushes = pr.timelineItems.nodes.flatMap((item): Push[] => {
    if (item.__typename === "AddedToMergeQueueEvent" || item.__typename === "RemovedFromMergeQueueEvent")
      return [];
    if (item.__typename === "HeadRefForcePushedEvent") {
      // A force push to a commit GitHub no longer has still happened; the head it left is unknown.
      return [
        {
          at: item.createdAt,
          actor: item.actor?.login ?? null,
          headSha: item.afterCommit?.oid ?? "",
          forced: true,
        },
      ];
    }
    const { commit } = item;
    return [
      {
        at: commit.committedDate,
        actor: pusherOf(commit),
        headSha: commit.oid,
        forced: false,
      },
    ];
  });
  return pushes.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/**
 * Who pushed a commit, as far as GitHub shows: its committer, except GitHub's own web-flow (a commit
 * made in the web UI, e.g. a committed suggestion), which the signed-in author made.
 */
function pusherOf(commit: {
  author: { user: { login: string } | null } | null;
  committer: { user: { login: string } | null } | null;
}): string | null {
  const committer = commit.committer?.user?.login ?? null;
  if (committer !== null && committer !== WEB_FLOW) return committer;
  return commit.author?.user?.login ?? committer;
}

const WEB_FLOW = "web-flow";

function mapRollup(rollup: { contexts: ContextConnection } | null, on: Check["on"], sha: string): Check[] {
  if (!rollup) return [];
  return rollup.contexts.nodes.map((c): Check => {
    if (c.__typename === "CheckRun") {
      return {
        name: c.name,
        kind: "check-run",
        conclusion: checkRunConclusion(c.conclusion, c.status),
        on,
        sha,
        url: c.detailsUrl,
        completedAt: c.completedAt,
        appId: c.checkSuite?.app?.databaseId ?? null,
        appSlug: c.checkSuite?.app?.slug ?? null,
        reportedBy: null,
      };
    }
    return {
      name: c.context,
      kind: "status",
      conclusion: statusConclusion(c.state),
      on,
      sha,
      url: c.targetUrl,
      completedAt: c.state === "PENDING" || c.state === "EXPECTED" ? null : c.createdAt,
      appId: null,
      appSlug: null,
      // Anyone with write access can post a status: who did is the evidence.
      reportedBy: c.creator?.login ?? null,
    };
  });
}

const CHECK_RUN_CONCLUSIONS: Record<string, CheckConclusion> = {
  SUCCESS: "success",
  FAILURE: "failure",
  NEUTRAL: "neutral",
  SKIPPED: "skipped",
  CANCELLED: "cancelled",
  TIMED_OUT: "timed_out",
  ACTION_REQUIRED: "action_required",
  STALE: "stale",
  STARTUP_FAILURE: "failure",
};

function checkRunConclusion(conclusion: string | null, status: string): CheckConclusion {
  if (status !== "COMPLETED" || conclusion === null) return "pending";
  // An unknown conclusion must never read as success.
  return CHECK_RUN_CONCLUSIONS[conclusion] ?? "error";
}

function statusConclusion(state: string): CheckConclusion {
  switch (state) {
    case "SUCCESS":
      return "success";
    case "FAILURE":
      return "failure";
    case "PENDING":
    case "EXPECTED":
      return "pending";
    default:
      return "error";
  }
}
