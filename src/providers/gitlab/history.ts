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

/** How far GitLab's clock may be behind ours: updates this recent are listed again. */
const CLOCK_MARGIN_MS = 5 * 60_000;

/**
 * Merge requests merged within the period into a branch `isSelectedBase` accepts, selected by the
 * target branch's name (one listing for the project, so a branch deleted after its merges keeps
 * them). GitLab cannot filter on merged_at, so we ask for those updated since the period began (a
 * superset: merging updates the MR) and keep the ones whose merged_at falls inside it.
 *
 * The listing is paged by offset over an order that moves while it is read: an MR updated meanwhile
 * (a comment) changes place. Newest update first, a move only repeats an MR already listed (skipped
 * here) or takes an unlisted one to the front, where a second listing of the MRs updated since the
 * first began finds it. (Oldest first, every MR after a moved one would shift back one place and
 * the one at the page boundary would be skipped, unseen.) They are yielded oldest update first.
 */
export async function* listMergedChangeRequests(
  context: GitLabContext,
  projectPath: string,
  isSelectedBase: (branch: string) => boolean,
  period: { since: Date; until: Date },
): AsyncGenerator<ChangeRequest> {
  const startedAt = Date.now() - CLOCK_MARGIN_MS;
  const listed = new Set<number>();
  const selected: MergeRequestWire[] = [];
  const list = async (updatedAfter: Date) => {
    const pages = context.client.pages(
      `/projects/${encodePath(projectPath)}/merge_requests`,
      MergeRequestWire,
      {
        state: "merged",
        updated_after: updatedAfter.toISOString(),
        order_by: "updated_at",
        sort: "desc",
      },
    );
    for await (const mr of pages) {
      if (listed.has(mr.iid)) continue;
      listed.add(mr.iid);
      const mergedAt = mr.merged_at ? Date.parse(mr.merged_at) : NaN;
      if (!(mergedAt >= period.since.getTime() && mergedAt < period.until.getTime())) continue;
      if (isSelectedBase(mr.target_branch)) selected.push(mr);
    }
  };
  await list(period.since);
  await list(new Date(Math.max(startedAt, period.since.getTime())));
  selected.sort((a, b) => Date.parse(a.updated_at ?? "") - Date.parse(b.updated_at ?? "") || a.iid - b.iid);
  for (const mr of selected) {
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
  // Pushed within the period, dated outside it: the commits of each push the commit dates missed.
  const reported = new Set<string>();
  const fetched = new Map<string, Commit>();
  const commitOf = async (sha: string): Promise<Commit> => {
    let commit = fetched.get(sha);
    if (!commit) {
      commit = await context.client.get(`/projects/${id}/repository/commits/${sha}`, CommitWire);
      fetched.set(sha, commit);
    }
    return commit;
  };
  for (const sha of await pushes.pushedWithin(period)) {
    if (seen.has(sha)) continue;
    const commit = await commitOf(sha);
    const push = await direct(commit);
    if (push) {
      reported.add(push.sha);
      yield push;
    }
  }
  // A push that reset the branch to an earlier commit adds no commit, yet changes the branch without
  // a merge request: it is a (force) push, whoever's the commit it went back to.
  for (const reset of pushes.resetsWithin(period)) {
    if (reported.has(reset.sha)) continue;
    reported.add(reset.sha);
    const commit = await commitOf(reset.sha);
    const committedAt = commit.committed_date ?? commit.created_at ?? reset.at;
    yield DirectPush.parse({
      repository: projectPath,
      branch,
      sha: commit.id,
      message: `Push reset ${branch} to this earlier commit, removing the commits after it: ${commit.message ?? commit.title ?? ""}`,
      authorLogin: loginForEmail(commit.author_email, emails),
      committerLogin: loginForEmail(commit.committer_email, emails),
      pushedBy: reset.by,
      at: isoTime(committedAt),
      pushedAt: isoTime(reset.at),
      forced: true,
      url: commit.web_url ?? "",
    } satisfies DirectPush);
  }
}

interface PushRecord {
  at: string;
  by: string | null;
}

interface PushEvents {
  /** The push that brought `sha` onto the branch, when an event records it. */
  find(sha: string): Promise<PushRecord | null>;
  /**
   * The commits the branch's pushes within the period put on its first-parent line (the tip, and for
   * a push of several commits those between, from comparing its first and last), oldest push first.
   */
  pushedWithin(period: { since: Date; until: Date }): Promise<string[]>;
  /**
   * Pushes within the period that moved the branch back to an earlier commit: GitLab counts no
   * commit pushed when the new tip adds none, so with both ends known that is a reset (a force push).
   */
  resetsWithin(period: { since: Date; until: Date }): Array<PushRecord & { sha: string }>;
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
    const reason = error instanceof Error ? error.message : String(error);
    context.unreadable.add(projectPath, `push times and pushers of ${branch}`, ROLE.reporter, reason);
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
  /** A push's commits: every one (for finding a commit's push) and its first-parent line. */
  const compared = new Map<PushEventWire, Promise<{ all: Set<string>; line: string[] }>>();
  const commitsOf = (event: PushEventWire): Promise<{ all: Set<string>; line: string[] }> => {
    let pushed = compared.get(event);
    if (!pushed) {
      const { commit_from: from, commit_to: to, commit_count: count } = event.push_data;
      const tipOnly = { all: new Set(to ? [to] : []), line: to ? [to] : [] };
      pushed =
        from && to && !/^0+$/.test(from) && (count ?? 0) > 1
          ? context.client
              .get(`/projects/${id}/repository/compare`, CompareWire, { from, to, straight: true })
              .then((answer) => {
                const byId = new Map(answer.commits.map((commit) => [commit.id, commit]));
                // From the tip along first parents, as far as the push's own commits go.
                const line: string[] = [];
                for (
                  let at = byId.get(to);
                  at && !line.includes(at.id);
                  at = byId.get(at.parent_ids[0] ?? "")
                ) {
                  line.push(at.id);
                }
                return { all: new Set([...byId.keys(), to]), line: line.length > 0 ? line : [to] };
              })
          : Promise.resolve(tipOnly);
      compared.set(event, pushed);
    }
    return pushed;
  };
  return {
    async find(sha) {
      // The earliest push that brought it: later pushes of the same commit (a re-push) are not its push.
      const tip = onBranch.find((event) => event.push_data.commit_to === sha);
      if (tip) return record(tip);
      for (const event of onBranch) {
        if ((event.push_data.commit_count ?? 0) <= 1) continue;
        if ((await commitsOf(event)).all.has(sha)) return record(event);
      }
      return null;
    },
    resetsWithin({ since, until }) {
      return onBranch.flatMap((event) => {
        const at = Date.parse(event.created_at);
        const { commit_from: from, commit_to: to, commit_count: count } = event.push_data;
        if (at < since.getTime() || at >= until.getTime()) return [];
        if (count !== 0 || !from || !to || /^0+$/.test(from) || from === to) return [];
        return [{ ...record(event), sha: to }];
      });
    },
    async pushedWithin({ since, until }) {
      const shas: string[] = [];
      for (const event of onBranch) {
        const at = Date.parse(event.created_at);
        if (at < since.getTime() || at >= until.getTime()) continue;
        shas.push(...[...(await commitsOf(event)).line].reverse());
      }
      return shas;
    },
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
