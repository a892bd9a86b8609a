import { DirectPush, type ChangeRequest } from "../../model/index.js";
import { encodePath } from "./client.js";
import { collectChangeRequest } from "./change-request.js";
import type { GitLabContext } from "./context.js";
import { isoTime, loginForEmail } from "./map.js";
import { CommitMergeRequestWire, CommitWire, MergeRequestWire } from "./schema.js";

/**
 * Merge requests merged within the period into a branch `isSelectedBase` accepts, selected by the
 * target branch's name (one listing for the project, so a branch deleted after its merges keeps
 * them). GitLab cannot filter on merged_at, so we ask for those updated since the period began (a
 * superset: merging updates the MR) and keep the ones whose merged_at falls inside it.
 */
export async function* listMergedChangeRequests(
  context: GitLabContext,
  projectPath: string,
  isSelectedBase: (branch: string) => boolean,
  period: { since: Date; until: Date },
): AsyncGenerator<ChangeRequest> {
  const list = context.client.pages(`/projects/${encodePath(projectPath)}/merge_requests`, MergeRequestWire, {
    state: "merged",
    updated_after: period.since.toISOString(),
    order_by: "updated_at",
    sort: "asc",
  });
  for await (const mr of list) {
    const mergedAt = mr.merged_at ? Date.parse(mr.merged_at) : NaN;
    if (!(mergedAt >= period.since.getTime() && mergedAt < period.until.getTime())) continue;
    if (!isSelectedBase(mr.target_branch)) continue;
    yield await collectChangeRequest(context, projectPath, mr.iid);
  }
}

/**
 * Commits on `branch` within the period that no merged MR brought. first_parent keeps to the
 * branch's own history (merge commits and commits pushed onto it), not the commits merges brought
 * in. A commit not in `mergedShas` is asked about once more (/commits/:sha/merge_requests) to
 * catch fast-forward merges whose inner commits landed as they were.
 * GitLab's commits API does not say who pushed: pushedBy is null (the project's push events
 * would, but only for 3 years and not per commit).
 */
export async function* listDirectPushes(
  context: GitLabContext,
  projectPath: string,
  branch: string,
  period: { since: Date; until: Date },
  mergedShas: ReadonlySet<string>,
): AsyncGenerator<DirectPush> {
  const id = encodePath(projectPath);
  const emails = await context.emailLogins(projectPath);
  const commits = context.client.pages(`/projects/${id}/repository/commits`, CommitWire, {
    ref_name: branch,
    since: period.since.toISOString(),
    until: period.until.toISOString(),
    first_parent: true,
  });
  for await (const commit of commits) {
    if (mergedShas.has(commit.id)) continue;
    const mrs = await context.client.get(
      `/projects/${id}/repository/commits/${commit.id}/merge_requests`,
      CommitMergeRequestWire.array(),
    );
    if (mrs.some((mr) => mr.state === "merged" && mr.target_branch === branch)) continue;
    yield DirectPush.parse({
      repository: projectPath,
      branch,
      sha: commit.id,
      message: commit.message ?? commit.title ?? "",
      authorLogin: loginForEmail(commit.author_email, emails),
      committerLogin: loginForEmail(commit.committer_email, emails),
      pushedBy: null,
      at: isoTime(commit.committed_date),
      url: commit.web_url ?? "",
    } satisfies DirectPush);
  }
}
