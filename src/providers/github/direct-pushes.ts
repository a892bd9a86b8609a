/** Commits on a production branch that no merged pull request into that branch brought. */
import type { DirectPush } from "../../model/index.js";
import { countGraphqlCost, splitFullName, type GitHubContext } from "./http.js";
import { graphql } from "./pull-requests.js";
import { BRANCH_HISTORY_QUERY } from "./queries.js";
import { BranchHistoryAnswer, parseAnswer, type HistoryCommit } from "./schema.js";

export async function* listDirectPushes(
  ctx: GitHubContext,
  repository: string,
  branch: string,
  period: { since: Date; until: Date },
  mergedShas: ReadonlySet<string>,
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
    const history = answer.repository?.ref?.target.history;
    // A branch that no longer exists has no history to audit.
    if (!history) return;
    for (const commit of history.nodes) {
      if (isDirectPush(commit, branch, mergedShas)) {
        yield {
          repository,
          branch,
          sha: commit.oid,
          message: commit.messageHeadline,
          authorLogin: commit.author?.user?.login ?? null,
          committerLogin: commit.committer?.user?.login ?? null,
          // GitHub's API names the pusher only in the audit log.
          pushedBy: null,
          at: commit.committedDate,
          url: commit.url,
        };
      }
    }
    if (!history.pageInfo.hasNextPage || !history.pageInfo.endCursor) return;
    after = history.pageInfo.endCursor;
  }
}

/** A commit no merged pull request into `branch` brought: not one of its commits, nor its merge. */
export function isDirectPush(
  commit: HistoryCommit,
  branch: string,
  mergedShas: ReadonlySet<string>,
): boolean {
  if (mergedShas.has(commit.oid)) return false;
  return !commit.associatedPullRequests.nodes.some(
    (pr) => pr.merged && (pr.baseRefName === branch || pr.mergeCommit?.oid === commit.oid),
  );
}
