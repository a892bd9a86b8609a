/** Maps a GitHub pull request (GraphQL) into the model's ChangeRequest. Pure. */
import {
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
import type { PullRequestNode, RollupContext } from "./schema.js";

const GHOST = "ghost";

const REVIEW_STATES: Record<PullRequestNode["reviews"]["nodes"][number]["state"], ReviewState> = {
  APPROVED: "approved",
  CHANGES_REQUESTED: "changes_requested",
  COMMENTED: "commented",
  DISMISSED: "dismissed",
  PENDING: "pending",
};

export function mapPullRequest(
  repository: string,
  pr: PullRequestNode,
  rules: Known<BranchRule | null>,
): ChangeRequest {
  const headSha = pr.headRefOid;
  const state = pr.state === "MERGED" ? "merged" : pr.state === "OPEN" ? "open" : "closed";
  const headRollup =
    pr.headCommit.nodes.find((n) => n.commit.oid === headSha)?.commit.statusCheckRollup ?? null;
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
    state,
    draft: pr.isDraft,
    baseBranch: pr.baseRefName,
    headBranch: pr.headRefName,
    headSha,
    mergeCommitSha: pr.mergeCommit?.oid ?? null,
    createdAt: pr.createdAt,
    mergedAt: pr.mergedAt,
    mergedBy: pr.mergedBy?.login ?? null,
    commits: pr.commits.nodes.map(({ commit }) => ({
      sha: commit.oid,
      authorLogin: commit.author?.user?.login ?? null,
      authorName: commit.author?.name ?? "",
      committerLogin: commit.committer?.user?.login ?? null,
      authoredAt: commit.author?.date ?? commit.committer?.date ?? pr.createdAt,
      committedAt: commit.committer?.date ?? commit.author?.date ?? pr.createdAt,
    })),
    commitsTruncated: pr.commits.totalCount > pr.commits.nodes.length,
    pushes: mapPushes(pr),
    reviews,
    checks,
  } satisfies Omit<ChangeRequest, "bypassedProtection">;
  return { ...base, bypassedProtection: deriveBypassedProtection(base, rules) };
}

function mapPushes(pr: PullRequestNode): Push[] {
  const pushes = pr.timelineItems.nodes.flatMap((item): Push[] => {
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
        actor: commit.committer?.user?.login ?? commit.author?.user?.login ?? null,
        headSha: commit.oid,
        forced: false,
      },
    ];
  });
  return pushes.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

function mapRollup(
  rollup: { contexts: { nodes: RollupContext[] } } | null,
  on: Check["on"],
  sha: string,
): Check[] {
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
