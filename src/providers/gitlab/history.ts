import { ProviderError } from "../../errors.js";
import { DirectPush, type ChangeRequest } from "../../model/index.js";
import { encodePath } from "./client.js";
import { collectChangeRequest } from "./change-request.js";
import type { GitLabContext } from "./context.js";
import { isForbidden, isNotFound } from "./context.js";
import { isoTime, loginForEmail, ROLE } from "./map.js";
import {
  CommitMergeRequestWire,
  CommitWire,
  CompareWire,
  MergeRequestWire,
  PushEventWire,
  type CommitWire as Commit,
} from "./schema.js";

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
    const change = await collectChangeRequest(context, projectPath, mr.iid);
    for (const sha of [change.headSha, change.mergeCommitSha]) {
      if (!sha) continue;
      const key = `${projectPath}@${sha}`;
      const into = context.mergedInto.get(key) ?? new Set<string>();
      into.add(change.baseBranch);
      context.mergedInto.set(key, into);
    }
    yield change;
  }
}

/**
 * Commits on `branch` within the period that no merged MR brought. first_parent keeps to the
 * branch's own history (merge commits and commits pushed onto it), not the commits merges brought
 * in. A commit not in `mergedShas` is asked about once more (/commits/:sha/merge_requests) to
 * catch fast-forward merges whose inner commits landed as they were; a merge request counts only
 * when it was merged into this same branch (a branch merged into `main` carries other branches'
 * merge commits: on `main` those are direct pushes).
 *
 * Commit dates are set by the client, so the project's push events (GET /events?action=pushed:
 * ref, commit_from, commit_to, created_at, author) are read as well: a commit pushed within the
 * period is found even when it is dated before it, and each direct push names its pusher and push
 * time where an event records it. Where no event does (events are kept three years, or the token
 * cannot read them), pushedAt and pushedBy stay null: "push time not recorded".
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
  const pushes = await pushEventsOf(context, projectPath, branch, period);
  const seen = new Set<string>();

  const direct = async (commit: Commit): Promise<DirectPush | null> => {
    seen.add(commit.id);
    // Known from the merged population, and merged into this very branch: no need to ask again.
    if (mergedShas.has(commit.id) && context.mergedInto.get(`${projectPath}@${commit.id}`)?.has(branch)) {
      return null;
    }
    const mrs = await collect(
      context.client.pages(
        `/projects/${id}/repository/commits/${commit.id}/merge_requests`,
        CommitMergeRequestWire,
      ),
    );
    if (mrs.some((mr) => mr.state === "merged" && mr.target_branch === branch)) return null;
    const pushed = await pushes.find(commit.id);
    const committedAt = commit.committed_date ?? commit.created_at;
    if (!committedAt) {
      throw new ProviderError(`GitLab answered commit ${commit.id} without a date`, { host: "gitlab" });
    }
    return DirectPush.parse({
      repository: projectPath,
      branch,
      sha: commit.id,
      message: commit.message ?? commit.title ?? "",
      authorLogin: loginForEmail(commit.author_email, emails),
      committerLogin: loginForEmail(commit.committer_email, emails),
      pushedBy: pushed?.by ?? null,
      at: isoTime(committedAt),
      pushedAt: pushed ? isoTime(pushed.at) : null,
      // GitLab's push events do not tell a force push from another.
      forced: false,
      url: commit.web_url ?? "",
    } satisfies DirectPush);
  };

  const commits = context.client.pages(`/projects/${id}/repository/commits`, CommitWire, {
    ref_name: branch,
    since: period.since.toISOString(),
    until: period.until.toISOString(),
    first_parent: true,
  });
  for await (const commit of commits) {
    const push = await direct(commit);
    if (push) yield push;
  }
  // Pushed within the period, dated outside it: the tip of each push the commit dates missed.
  for (const sha of pushes.tipsWithin(period)) {
    if (seen.has(sha)) continue;
    const commit = await context.client.get(`/projects/${id}/repository/commits/${sha}`, CommitWire);
    const push = await direct(commit);
    if (push) yield push;
  }
}

interface PushRecord {
  at: string;
  by: string | null;
}

interface PushEvents {
  /** The push that brought `sha` onto the branch, when an event records it. */
  find(sha: string): Promise<PushRecord | null>;
  /** The commits the branch's pushes within the period ended on. */
  tipsWithin(period: { since: Date; until: Date }): string[];
}

/**
 * The branch's push events around the period. A push of several commits names only its first and
 * last (commit_from, commit_to): the ones between come from comparing the two, once per push.
 */
async function pushEventsOf(
  context: GitLabContext,
  projectPath: string,
  branch: string,
  period: { since: Date; until: Date },
): Promise<PushEvents> {
  const id = encodePath(projectPath);
  const day = 24 * 60 * 60 * 1000;
  const date = (at: number) => new Date(at).toISOString().slice(0, 10);
  let events: PushEventWire[] = [];
  try {
    // `after` and `before` are dates, both exclusive.
    events = await collect(
      context.client.pages(`/projects/${id}/events`, PushEventWire, {
        action: "pushed",
        after: date(period.since.getTime() - day),
        before: date(period.until.getTime() + day),
        sort: "asc",
      }),
    );
  } catch (error) {
    if (!isForbidden(error) && !isNotFound(error)) throw error;
    // Without the events, push times are not recorded: the direct pushes say so (pushedAt null).
    context.unreadable.add(projectPath, "push events", ROLE.reporter, String(error));
  }
  const onBranch = events.filter(
    (event) =>
      event.push_data.ref === branch &&
      (event.push_data.ref_type ?? "branch") === "branch" &&
      event.push_data.commit_to,
  );
  const record = (event: PushEventWire): PushRecord => ({
    at: event.created_at,
    by: event.author_username ?? event.author?.username ?? null,
  });
  const compared = new Map<PushEventWire, Promise<Set<string>>>();
  const commitsOf = (event: PushEventWire): Promise<Set<string>> => {
    let shas = compared.get(event);
    if (!shas) {
      const { commit_from: from, commit_to: to } = event.push_data;
      shas =
        from && to
          ? context.client
              .get(`/projects/${id}/repository/compare`, CompareWire, { from, to, straight: true })
              .then((answer) => new Set(answer.commits.map((commit) => commit.id)))
          : Promise.resolve(new Set<string>());
      compared.set(event, shas);
    }
    return shas;
  };
  return {
    async find(sha) {
      // The earliest push that brought it: later pushes of the same commit (a re-push) are not its push.
      const tip = onBranch.find((event) => event.push_data.commit_to === sha);
      if (tip) return record(tip);
      for (const event of onBranch) {
        if ((event.push_data.commit_count ?? 0) <= 1) continue;
        if ((await commitsOf(event)).has(sha)) return record(event);
      }
      return null;
    },
    tipsWithin({ since, until }) {
      return onBranch
        .filter((event) => {
          const at = Date.parse(event.created_at);
          return at >= since.getTime() && at < until.getTime();
        })
        .map((event) => event.push_data.commit_to ?? "");
    },
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
