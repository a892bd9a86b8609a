import { z } from "zod";
import { parseReviewBranch } from "../../access-review/names.js";
import { known, unreadable, type Known } from "../../model/index.js";
import type { AccessReviewApproval, AccessReviewRecord } from "../../model/access-review.js";
import {
  WriteError,
  type AccessRemoval,
  type OpenedReview,
  type OpenReviewRequest,
  type ReviewHost,
} from "../types.js";
import { encodePath, GitLabHttpError } from "./client.js";
import { isForbidden, isNotFound, type GitLabContext } from "./context.js";
import { isoTime, loginForEmail, NOT_ON_EDITION, ROLE } from "./map.js";
import { CommitWire, MergeRequestWire, NoteWire } from "./schema.js";
import { gitLabWriteError } from "./writes.js";

/**
 * Access reviews as GitLab merge requests in the findings project (issue 15): one branch per cycle
 * and owner holding one review file, opened by the bot, decided by reviewers, merged as the
 * sign-off. Writes follow writes.ts: a refusal says so; an answer lost in transit may have been
 * applied, so every write is preceded (or followed, after a lost answer) by a look at what exists.
 */

const UserRef = z.object({ id: z.number().int().optional(), username: z.string() });

/** GET /merge_requests/:iid/approvals. `approved_at` is absent on older GitLab (and in GitLab's own example). */
const ApprovalsWire = z.object({
  approved_by: z
    .array(z.object({ user: UserRef, approved_at: z.string().nullable().optional() }))
    .default([]),
});

/** GET /merge_requests/:iid/diffs: the files the merge request changes. */
const DiffWire = z.object({
  new_path: z.string(),
  old_path: z.string().optional(),
  deleted_file: z.boolean().optional(),
});

const BranchCreatedWire = z.object({ name: z.string() });
const FileCreatedWire = z.object({ file_path: z.string(), branch: z.string() });
const UserListWire = z.array(z.object({ id: z.number().int(), username: z.string() }));
const MemberIdWire = z.object({ id: z.number().int(), username: z.string() });
const SharesWire = z.object({
  shared_with_groups: z
    .array(z.object({ group_id: z.number().int(), group_full_path: z.string() }))
    .default([]),
});

/** Reading merge requests, their approvals, commits, notes and files needs this much. */
const READ_PERMISSION = `${ROLE.reporter} on the findings project (${ROLE.readApi})`;

/** GitLab's note when someone approves: the time of an approval where `approved_at` is not given. */
const APPROVED_NOTE = /^approved this merge request$/;
/** GitLab's note when someone pushes to a merge request's branch: that person wrote commits on it. */
const PUSHED_NOTE = /^added \d+ (new )?commits?\b/;

/** A write soc2-bot did not send, because what it needs is missing: nothing was written. */
function notSent(message: string): WriteError {
  return new WriteError(message, { host: "gitlab", applied: "no", hostMessage: message, fields: [] });
}

export function gitLabAccessReviews(context: GitLabContext, projectPath: string): ReviewHost {
  const { client } = context;
  const project = `/projects/${encodePath(projectPath)}`;

  /** The merge request whose source branch is `branch`, in any state (the oldest, if several). */
  async function findMergeRequest(branch: string): Promise<MergeRequestWire | null> {
    const list = client.pages(`${project}/merge_requests`, MergeRequestWire, {
      state: "all",
      source_branch: branch,
      order_by: "created_at",
      sort: "asc",
    });
    for await (const mr of list) if (mr.source_branch === branch) return mr;
    return null;
  }

  function opened(mr: MergeRequestWire, created: boolean): OpenedReview {
    return { number: mr.iid, url: mr.web_url, created };
  }

  async function ensureBranch(branch: string, from: string): Promise<void> {
    try {
      await client.send("POST", `${project}/repository/branches`, BranchCreatedWire, { branch, ref: from });
    } catch (error) {
      // "Branch already exists": an earlier run (or one whose answer was lost) made it; reuse it.
      if (error instanceof GitLabHttpError && error.status === 400 && /already exists/i.test(error.body))
        return;
      throw gitLabWriteError(error, `branch ${branch} in ${projectPath}`);
    }
  }

  async function ensureFile(request: OpenReviewRequest): Promise<void> {
    const existing = await client.getText(
      `${project}/repository/files/${encodeURIComponent(request.path)}/raw`,
      { ref: request.branch },
    );
    // Whatever the branch already holds stays: it is the earlier run's file, or a reviewer's edit.
    if (existing !== null) return;
    try {
      await client.send(
        "POST",
        `${project}/repository/files/${encodeURIComponent(request.path)}`,
        FileCreatedWire,
        {
          branch: request.branch,
          content: request.text,
          commit_message: request.title,
        },
      );
    } catch (error) {
      if (error instanceof GitLabHttpError && error.status === 400 && /already exists/i.test(error.body))
        return;
      throw gitLabWriteError(error, `${request.path} on ${request.branch} in ${projectPath}`);
    }
  }

  async function openReview(request: OpenReviewRequest): Promise<OpenedReview> {
    const before = await findMergeRequest(request.branch);
    if (before) return opened(before, false);
    const target = (await context.project(projectPath)).default_branch;
    if (!target) {
      throw notSent(
        `${projectPath} has no default branch (an empty project): no review branch can start from it`,
      );
    }
    await ensureBranch(request.branch, target);
    await ensureFile(request);
    try {
      const mr = await client.send("POST", `${project}/merge_requests`, MergeRequestWire, {
        source_branch: request.branch,
        target_branch: target,
        title: request.title,
        description: request.body,
        // GitLab creates labels that do not exist yet when a merge request names them.
        labels: request.labels.join(","),
        remove_source_branch: false,
      });
      return opened(mr, true);
    } catch (error) {
      // A lost answer (or a 409: another run opened it meanwhile) may mean it exists: look again.
      const after = await findMergeRequest(request.branch).catch(() => null);
      if (after) return opened(after, !(error instanceof GitLabHttpError && error.status === 409));
      throw gitLabWriteError(error, `a merge request for ${request.branch} in ${projectPath}`);
    }
  }

  async function listReviews(prefix: string): Promise<Known<AccessReviewRecord[]>> {
    try {
      const records: AccessReviewRecord[] = [];
      const list = client.pages(`${project}/merge_requests`, MergeRequestWire, {
        state: "all",
        order_by: "created_at",
        sort: "asc",
        // One review's own branch (the app's status on its merge request): GitLab filters exactly.
        ...(parseReviewBranch(prefix) ? { source_branch: prefix } : {}),
      });
      // GitLab filters source branches only exactly: a prefix is matched here, over every page.
      for await (const mr of list) {
        if (!mr.source_branch.startsWith(prefix)) continue;
        const record = await recordOf(mr);
        if (!record.known) return record;
        if (record.value) records.push(record.value);
      }
      return known(records);
    } catch (error) {
      if (isForbidden(error) || isNotFound(error)) {
        const status = (error as GitLabHttpError).status;
        return unreadable(READ_PERMISSION, `${status} ${(error as Error).message}`);
      }
      throw error;
    }
  }

  async function recordOf(mr: MergeRequestWire): Promise<Known<AccessReviewRecord | null>> {
    // Cycle and owner from the branch's name (`soc2-bot/access-review/<cycle>/<owner>`), whatever
    // narrower prefix was asked for; any other branch is no review the bot names.
    const names = parseReviewBranch(mr.source_branch);
    if (!names) return known(null);
    const { cycle, owner } = names;
    const base = `${project}/merge_requests/${mr.iid}`;

    const notes: NoteWire[] = [];
    for await (const note of client.pages(`${base}/notes`, NoteWire, {
      sort: "asc",
      order_by: "created_at",
    })) {
      notes.push(note);
    }
    const approvals: AccessReviewApproval[] = [];
    let answer: z.infer<typeof ApprovalsWire>;
    try {
      answer = await client.get(`${base}/approvals`, ApprovalsWire);
    } catch (error) {
      // The MR was just listed: a 404 here is the approvals API missing, not the merge request.
      if (!isNotFound(error)) throw error;
      return unreadable(ROLE.premium, `${NOT_ON_EDITION}: ${(error as Error).message}`);
    }
    for (const { user, approved_at } of answer.approved_by) {
      // Without approved_at (older GitLab), GitLab's own "approved this merge request" note dates it.
      const at =
        approved_at ??
        notes.findLast((n) => n.system && n.author.username === user.username && APPROVED_NOTE.test(n.body))
          ?.created_at;
      if (!at) {
        return unreadable(
          "GitLab 14.0 or later (approved_at in the merge request approvals API)",
          `${projectPath}!${mr.iid}: GitLab gives no time for ${user.username}'s approval (no approved_at, no approval note)`,
        );
      }
      // GitLab records no commit for an approval: it covers whatever the branch held then.
      approvals.push({ login: user.username, at: isoTime(at), commit: null });
    }

    const emails = await context.emailLogins(projectPath);
    const committers = new Set<string>();
    const commits: CommitWire[] = [];
    for await (const commit of client.pages(`${base}/commits`, CommitWire)) commits.push(commit);
    for (const commit of commits) {
      for (const [email, name] of [
        [commit.author_email, commit.author_name],
        [commit.committer_email, commit.committer_name],
      ] as const) {
        if (!email && !name) continue;
        // A commit names an e-mail, not an account: linked to a login only on evidence (a no-reply
        // address or a member's public e-mail). Otherwise the e-mail itself is kept, so an author
        // who also approved is never taken for independent because their address was unlinked.
        committers.add(loginForEmail(email, emails) ?? email ?? name ?? "");
      }
    }
    // Pushers, from GitLab's "added N commits" notes: whoever pushed wrote on the branch too.
    for (const note of notes)
      if (note.system && PUSHED_NOTE.test(note.body)) committers.add(note.author.username);

    // Commits are listed newest first: the last one is the bot's, holding the file as opened.
    const first = commits.at(-1)?.id ?? null;
    const head = mr.sha ?? commits[0]?.id ?? null;
    const path = await reviewFilePath(base, cycle, owner);
    const read = (ref: string) =>
      client.getText(`${project}/repository/files/${encodeURIComponent(path ?? "")}/raw`, { ref });
    const text = path && head ? await read(head) : null;
    const openedText = path && first ? await read(first) : null;

    const state = mr.state === "merged" ? "merged" : mr.state === "opened" ? "open" : "closed";
    const merger = mr.merge_user ?? mr.merged_by ?? null;
    return known({
      cycle,
      owner,
      repository: projectPath,
      number: mr.iid,
      url: mr.web_url,
      branch: mr.source_branch,
      openedBy: mr.author.username,
      openedAt: isoTime(mr.created_at),
      state,
      mergedAt: state === "merged" && mr.merged_at ? isoTime(mr.merged_at) : null,
      mergedBy: state === "merged" ? (merger?.username ?? null) : null,
      headSha: head,
      approvals,
      committers: [...committers].filter(Boolean).sort(),
      file: path && text !== null ? { path, text } : null,
      openedText,
    });
  }

  /** The review file among the files the merge request changes: `<folder>/<cycle>/<owner>.yml`. */
  async function reviewFilePath(base: string, cycle: string, owner: string): Promise<string | null> {
    const suffix = `${cycle}/${owner}.yml`;
    let found: string | null = null;
    for await (const diff of client.pages(`${base}/diffs`, DiffWire)) {
      if (
        found === null &&
        !diff.deleted_file &&
        (diff.new_path === suffix || diff.new_path.endsWith(`/${suffix}`))
      )
        found = diff.new_path;
    }
    return found;
  }

  async function userId(username: string): Promise<number> {
    const users = await client.get("/users", UserListWire, { username });
    const user = users.find((u) => u.username.toLowerCase() === username.toLowerCase());
    if (!user) throw notSent(`GitLab has no user ${username}: nothing to remove`);
    return user.id;
  }

  /** The group the findings project belongs to: the organization whose membership a review covers. */
  const groupPath = projectPath.slice(0, projectPath.lastIndexOf("/"));

  async function removeAccess(removal: AccessRemoval): Promise<void> {
    const what = `${removal.kind} ${removal.account}${removal.repository ? ` on ${removal.repository}` : ""}`;
    const onProject = (repository: string | null): string => {
      if (!repository) throw notSent(`${what}: the removal names no project`);
      return `/projects/${encodePath(repository)}`;
    };
    let path: string;
    if (removal.kind === "collaborator") {
      const repository = onProject(removal.repository);
      const id = await userId(removal.account);
      path = `${repository}/members/${id}`;
      // Only a direct membership is removed on the project; access inherited from a group stays
      // whatever the project says, so it is reported instead of being taken for removed.
      const direct = await client.get(path, MemberIdWire).catch((error: unknown) => {
        if (isNotFound(error)) return null;
        throw error;
      });
      if (!direct) {
        const inherited = await client
          .get(`${repository}/members/all/${id}`, MemberIdWire)
          .catch((error: unknown) => {
            if (isNotFound(error)) return null;
            throw error;
          });
        if (inherited) {
          throw notSent(
            `${what}: the access is inherited from a group, not a membership of the project; remove it in the group`,
          );
        }
        return;
      }
    } else if (removal.kind === "member") {
      path = `/groups/${encodePath(groupPath)}/members/${await userId(removal.account)}`;
    } else if (removal.kind === "deploy-key") {
      if (!/^\d+$/.test(removal.account)) throw notSent(`${what}: a deploy key is removed by its id`);
      path = `${onProject(removal.repository)}/deploy_keys/${removal.account}`;
    } else {
      // A team is a group the project is shared with: found among the project's shares by its full
      // path (or, for a subgroup of the organization, its name), whose group id the removal names.
      const repository = onProject(removal.repository);
      const full = removal.account.includes("/") ? removal.account : `${groupPath}/${removal.account}`;
      const shares = (await client.get(repository, SharesWire)).shared_with_groups;
      const share = shares.find((s) => s.group_full_path.toLowerCase() === full.toLowerCase());
      // Not shared (any more): nothing to remove, which is what was asked.
      if (!share) return;
      path = `${repository}/share/${share.group_id}`;
    }
    try {
      await client.delete(path);
    } catch (error) {
      // Already gone (removed by hand, or by a run whose answer was lost): what was asked holds.
      if (isNotFound(error)) return;
      throw gitLabWriteError(error, `the removal of ${what}`);
    }
  }

  return { openReview, listReviews, removeAccess };
}
