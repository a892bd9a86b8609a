import { z } from "zod";
import type { GitHubClient } from "../providers/github/index.js";

/**
 * Which pull requests a check or status event is about, when its payload does not say. GitHub's
 * check events list `pull_requests` only for a head pushed to the repository itself: the list is
 * empty (and `head_branch` null) for a pull request from a fork, and empty for a merge commit on the
 * base branch. Both must still reach their pull request: a fork's check run is updated when its CI
 * ends, and a merge judged while its checks were running is judged again when they complete.
 */

/** The pull request fields read here (GitHub's pull-request-simple), validated at the edge. */
const PullRequestAnswer = z.object({
  number: z.number().int().positive(),
  state: z.string(),
  merged_at: z.string().nullable().optional(),
  merge_commit_sha: z.string().nullable().optional(),
  head: z.object({ sha: z.string() }),
});
const PullRequestList = z.array(PullRequestAnswer);

export interface CommitLookup {
  owner: string;
  repository: string;
  sha: string;
  /**
   * The event says the commit may be the head of a pull request from a fork (a check suite with a
   * null `head_branch`, a status on a commit no branch of the repository contains).
   */
  maybeForkHead: boolean;
}

export interface CommitPullRequest {
  number: number;
  /** `sha` when it is the open pull request's head; null when it is the merged one's merge commit. */
  headSha: string | null;
}

/**
 * The pull requests `sha` is about: open ones whose head it is, and the merged one whose
 * merge commit it is.
 *
 * `GET /repos/{owner}/{repo}/commits/{sha}/pulls` answers both for commits of the repository (for a
 * commit on the default branch GitHub documents it lists "the merged pull request that introduced
 * the commit"). A fork's head is not a commit of the repository's branches and that endpoint may
 * list nothing for it; `GET /pulls?head=owner:branch` needs the fork owner's login, which the event
 * does not carry, and the search API is rate-limited apart and indexed with a delay. So for a fork
 * head the open pull requests are listed (`GET /repos/{owner}/{repo}/pulls?state=open`, read to the
 * end) and matched by `head.sha`, the one field GitHub documents as identifying the head commit.
 */
export async function pullRequestsOfCommit(
  octokit: GitHubClient,
  lookup: CommitLookup,
): Promise<CommitPullRequest[]> {
  const { owner, repository: repo, sha } = lookup;
  // paginate follows every Link: next page, so no pull request is missed.
  const answer: unknown = lookup.maybeForkHead
    ? // Documented fork case (a check suite with a null head_branch): the commits endpoint is skipped.
      await octokit.paginate("GET /repos/{owner}/{repo}/pulls", { owner, repo, state: "open", per_page: 100 })
    : await octokit.paginate("GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls", {
        owner,
        repo,
        commit_sha: sha,
        per_page: 100,
      });
  return matching(PullRequestList.parse(answer), sha);
}

/**
 * For a status event: the commit's own pull requests, and when it has none and no branch of the
 * repository contains it, the open pull request from a fork whose head it is.
 */
export async function pullRequestsOfStatus(
  octokit: GitHubClient,
  lookup: Omit<CommitLookup, "maybeForkHead"> & { onBranches: boolean },
): Promise<CommitPullRequest[]> {
  const found = await pullRequestsOfCommit(octokit, { ...lookup, maybeForkHead: false });
  if (found.length > 0 || lookup.onBranches) return found;
  return pullRequestsOfCommit(octokit, { ...lookup, maybeForkHead: true });
}

function matching(pulls: z.infer<typeof PullRequestList>, sha: string): CommitPullRequest[] {
  const found = new Map<number, CommitPullRequest>();
  for (const pull of pulls) {
    if (pull.state === "open" && pull.head.sha === sha)
      found.set(pull.number, { number: pull.number, headSha: sha });
    else if (pull.merged_at != null && pull.merge_commit_sha === sha)
      found.set(pull.number, { number: pull.number, headSha: null });
  }
  return [...found.values()];
}
