/**
 * The simulated GitLab's git writes and merge request workflow, for access reviews (issue 15):
 * branches, files committed through the Repository Files API, merge requests opened, approved and
 * merged, the files at any branch or commit, and removals of project members, group members,
 * deploy keys and group shares (which the next audit then reads as gone). Answers follow GitLab's
 * API documentation (shapes, status codes, messages); see README.md beside this file.
 *
 * Each write is made by the user whose token sent it (`actor`): commits carry their no-reply
 * address, approvals and merges their account, pushes to a merge request GitLab's "added N
 * commits" system note in their name.
 */
import { createHash } from "node:crypto";
import type { GitLabWorld, SimMergeRequest, SimProject, Wire } from "./world.js";

export interface SimActor {
  id: number;
  username: string;
}

export interface ReviewRouteRequest {
  method: string;
  segments: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  actor: SimActor;
  /** The simulated clock (ISO time): when commits, approvals and merges happen. */
  now: () => string;
}

/** What the server sends: an answer (a list is paged), or an error answer with its status. */
export interface ReviewReply {
  status?: number;
  body: unknown;
  list?: boolean;
}

interface SimCommit {
  wire: Wire;
  /** Every file of the tree at this commit. */
  files: Map<string, string>;
}

interface ProjectGit {
  /** Branch → its commits, newest first. */
  branches: Map<string, SimCommit[]>;
  commits: Map<string, SimCommit>;
  /** Merge request iid → the commit its source branch started from (the diff's base). */
  bases: Map<number, SimCommit>;
}

const gits = new WeakMap<SimProject, ProjectGit>();

const error = (status: number, message: unknown): ReviewReply => ({ status, body: { message } });
const missing = (what: string) => error(404, `404 ${what} Not Found`);

/** A commit id as git shows one: 40 hex digits (derived from what the commit holds, so distinct). */
function shaOf(...parts: string[]): string {
  return createHash("sha1").update(parts.join("\0")).digest("hex");
}

function gitOf(w: GitLabWorld, project: SimProject): ProjectGit {
  let git = gits.get(project);
  if (git) return git;
  const branch = String(project.wire.default_branch ?? "main");
  // The default branch as the world built it: its newest commit (if the snapshot had one) holds its files.
  const newest = project.history.get(branch)?.[0];
  const root: SimCommit = {
    wire:
      newest ?? commitWire(w, shaOf(project.path, "root"), w.bot, "Initial commit", "2026-01-01T00:00:00Z"),
    files: new Map(project.files),
  };
  git = {
    branches: new Map([[branch, [root]]]),
    commits: new Map([[String(root.wire.id), root]]),
    bases: new Map(),
  };
  gits.set(project, git);
  return git;
}

function commitWire(w: GitLabWorld, sha: string, actor: SimActor, message: string, at: string): Wire {
  const email = `${actor.id}-${actor.username}@users.noreply.${new URL(w.webUrl).hostname}`;
  return {
    id: sha,
    short_id: sha.slice(0, 8),
    created_at: at,
    parent_ids: [],
    title: message.split("\n")[0],
    message,
    author_name: actor.username,
    author_email: email,
    authored_date: at,
    committer_name: actor.username,
    committer_email: email,
    committed_date: at,
    web_url: "",
  };
}

/** The tree at a branch name or a commit id, as `ref` names it on GitLab; null when neither. */
function treeAt(git: ProjectGit, ref: string): Map<string, string> | null {
  return git.branches.get(ref)?.[0]?.files ?? git.commits.get(ref)?.files ?? null;
}

export function reviewRoute(w: GitLabWorld, request: ReviewRouteRequest): ReviewReply | undefined {
  const { method, segments: s, query } = request;
  if (method === "GET" && s.length === 1 && s[0] === "users") {
    // GET /users?username= : the one account of that name, or an empty list.
    const name = (query.get("username") ?? "").toLowerCase();
    const found = [...w.users.values()].filter((u) => u.username.toLowerCase() === name);
    return {
      body: found.map((u) => ({
        id: u.id,
        username: u.username,
        name: u.name,
        state: u.state,
        web_url: u.web_url,
      })),
      list: true,
    };
  }
  if (method === "DELETE" && s[0] === "groups" && s[2] === "members" && s.length === 4) {
    const { group } = w;
    if (s[1] !== group.wire.full_path && s[1] !== String(group.wire.id)) return missing("Group");
    const before = group.members.length;
    group.members = group.members.filter((m) => String(m.id) !== s[3]);
    if (group.members.length === before) return missing("Member");
    // Without skip_subresources=true, GitLab removes the user from the group's projects as well.
    if (query.get("skip_subresources") !== "true") {
      for (const project of group.projects)
        project.members = project.members.filter((m) => String(m.id) !== s[3]);
    }
    return { status: 204, body: null };
  }
  if (s[0] !== "projects") return undefined;
  const project = w.group.projects.find((p) => p.path === s[1] || String(p.wire.id) === s[1]);
  if (!project) return undefined;
  return projectReviewRoute(w, project, request);
}

function projectReviewRoute(
  w: GitLabWorld,
  project: SimProject,
  request: ReviewRouteRequest,
): ReviewReply | undefined {
  const { method, segments: s, query, body, actor } = request;
  const rest = s.slice(2).join("/");
  const at = request.now();
  if (method === "POST" && rest === "repository/branches") return createBranch(w, project, body);
  if (
    s[2] === "repository" &&
    s[3] === "files" &&
    s.length === 5 &&
    (method === "POST" || method === "PUT")
  ) {
    return commitFile(w, project, s[4] ?? "", body, actor, at, method === "POST");
  }
  if (method === "GET" && s[2] === "repository" && s[3] === "files" && s[5] === "raw" && s.length === 6) {
    const ref = query.get("ref");
    // Without a ref, or at the default branch as the world built it, the server's own route answers.
    if (!ref || !gits.has(project)) return undefined;
    const tree = treeAt(gitOf(w, project), ref);
    if (!tree) return ref === project.wire.default_branch ? undefined : missing("File");
    const text = tree.get(s[4] ?? "");
    return text === undefined ? missing("File") : { body: new RawFile(text) };
  }
  if (method === "POST" && rest === "merge_requests") return createMergeRequest(w, project, body, actor, at);
  if (s[2] === "merge_requests" && s[3] && s.length === 5) {
    const mr = project.mergeRequests.find((m) => String(m.wire.iid) === s[3]);
    if (!mr) return undefined;
    if (method === "POST" && s[4] === "approve") return approve(w, project, mr, body, actor, at);
    if (method === "POST" && s[4] === "unapprove") return unapprove(w, mr, actor, at);
    if (method === "PUT" && s[4] === "merge") return merge(w, project, mr, body, actor, at);
    if (method === "GET" && s[4] === "diffs") return { body: diffsOf(w, project, mr), list: true };
  }
  if (
    method === "GET" &&
    s[2] === "members" &&
    ((s.length === 4 && s[3] !== "all") || (s.length === 5 && s[3] === "all"))
  ) {
    // One member: direct only, or (members/all/:id) with the role inherited from the group too.
    const id = s.at(-1);
    const direct = project.members.find((m) => String(m.id) === id);
    const inherited = s.length === 5 ? w.group.members.find((m) => String(m.id) === id) : undefined;
    const member =
      direct && inherited
        ? direct.access_level >= inherited.access_level
          ? direct
          : inherited
        : (direct ?? inherited);
    if (!member) return missing("Member");
    const { two_factor_enabled: _hidden, ...shown } = member;
    return { body: shown };
  }
  if (method === "DELETE" && s[2] === "members" && s.length === 4) {
    const before = project.members.length;
    project.members = project.members.filter((m) => String(m.id) !== s[3]);
    return project.members.length === before ? missing("Member") : { status: 204, body: null };
  }
  if (method === "DELETE" && s[2] === "deploy_keys" && s.length === 4) {
    const before = project.deployKeys.length;
    project.deployKeys = project.deployKeys.filter((key) => String(key.id) !== s[3]);
    return project.deployKeys.length === before ? missing("Deploy Key") : { status: 204, body: null };
  }
  if (method === "DELETE" && s[2] === "share" && s.length === 4) {
    const shares = (project.wire.shared_with_groups ?? []) as Wire[];
    const kept = shares.filter((share) => String(share.group_id) !== s[3]);
    if (kept.length === shares.length) return missing("Group Link");
    project.wire.shared_with_groups = kept;
    return { status: 204, body: null };
  }
  return undefined;
}

/** A raw file answer: the server sends its text as text/plain. */
export class RawFile {
  constructor(readonly text: string) {}
}

function createBranch(w: GitLabWorld, project: SimProject, body: Record<string, unknown>): ReviewReply {
  if (typeof body.branch !== "string" || body.branch === "")
    return { status: 400, body: { error: "branch is missing" } };
  if (typeof body.ref !== "string" || body.ref === "")
    return { status: 400, body: { error: "ref is missing" } };
  const git = gitOf(w, project);
  if (git.branches.has(body.branch) || project.branches.includes(body.branch)) {
    return error(400, "Branch already exists");
  }
  const from = git.branches.get(body.ref)?.[0] ?? git.commits.get(body.ref);
  if (!from) return error(400, `Invalid reference name: ${body.ref}`);
  git.branches.set(body.branch, [from]);
  project.branches.push(body.branch);
  return { status: 201, body: branchWire(w, project, body.branch, from) };
}

function branchWire(w: GitLabWorld, project: SimProject, name: string, head: SimCommit): Wire {
  return {
    name,
    merged: false,
    protected: false,
    default: name === project.wire.default_branch,
    developers_can_push: false,
    developers_can_merge: false,
    can_push: true,
    web_url: `${w.webUrl}/${project.path}/-/tree/${name}`,
    commit: head.wire,
  };
}

function commitFile(
  w: GitLabWorld,
  project: SimProject,
  path: string,
  body: Record<string, unknown>,
  actor: SimActor,
  at: string,
  create: boolean,
): ReviewReply {
  const git = gitOf(w, project);
  const branch = typeof body.branch === "string" ? body.branch : "";
  const history = git.branches.get(branch);
  if (!history?.[0]) return error(400, "You can only create or edit files when you are on a branch");
  if (typeof body.content !== "string") return { status: 400, body: { error: "content is missing" } };
  if (typeof body.commit_message !== "string" || body.commit_message === "") {
    return { status: 400, body: { error: "commit_message is missing" } };
  }
  const head = history[0];
  if (create && head.files.has(path)) return error(400, "A file with this name already exists");
  if (!create && !head.files.has(path)) return error(400, "A file with this name doesn't exist");
  const files = new Map(head.files).set(path, body.content);
  const sha = shaOf(String(head.wire.id), path, body.content, actor.username, at, String(git.commits.size));
  const commit: SimCommit = {
    wire: { ...commitWire(w, sha, actor, body.commit_message, at), parent_ids: [head.wire.id] },
    files,
  };
  history.unshift(commit);
  git.commits.set(sha, commit);
  if (branch === project.wire.default_branch) for (const [p, text] of files) project.files.set(p, text);
  // A push to a merge request's source branch: a new head, diff version and GitLab's system note.
  for (const mr of project.mergeRequests) {
    if (mr.wire.source_branch !== branch || mr.wire.state !== "opened") continue;
    mr.wire.sha = sha;
    mr.wire.updated_at = at;
    mr.commits.unshift(commit.wire);
    mr.shas.add(sha);
    mr.versions.unshift(versionWire(w, mr, sha, at));
    mr.notes.push(
      systemNote(
        w,
        actor,
        `added 1 commit\n\n<ul><li>${sha.slice(0, 8)} - ${String(commit.wire.title)}</li></ul>`,
        at,
        mr,
      ),
    );
    if (project.approvalSettings?.reset_approvals_on_push === true) setApprovals(mr, []);
  }
  return { status: create ? 201 : 200, body: { file_path: path, branch } };
}

function versionWire(w: GitLabWorld, mr: SimMergeRequest, head: string, at: string): Wire {
  return {
    id: w.nextId(),
    head_commit_sha: head,
    base_commit_sha: "0".repeat(40),
    start_commit_sha: "0".repeat(40),
    created_at: at,
    merge_request_id: mr.wire.id,
    state: "collected",
  };
}

function systemNote(w: GitLabWorld, actor: SimActor, text: string, at: string, mr: SimMergeRequest): Wire {
  return {
    id: w.nextId(),
    type: null,
    body: text,
    author: userRef(w, actor),
    created_at: at,
    updated_at: at,
    system: true,
    noteable_type: "MergeRequest",
    noteable_iid: mr.wire.iid,
  };
}

function userRef(w: GitLabWorld, actor: SimActor): Wire {
  return {
    id: actor.id,
    username: actor.username,
    name: actor.username,
    state: "active",
    web_url: `${w.webUrl}/${actor.username}`,
  };
}

function createMergeRequest(
  w: GitLabWorld,
  project: SimProject,
  body: Record<string, unknown>,
  actor: SimActor,
  at: string,
): ReviewReply {
  for (const field of ["source_branch", "target_branch", "title"]) {
    if (typeof body[field] !== "string" || body[field] === "")
      return { status: 400, body: { error: `${field} is missing` } };
  }
  const source = String(body.source_branch);
  const target = String(body.target_branch);
  const git = gitOf(w, project);
  const head = git.branches.get(source)?.[0];
  if (!head) return error(400, [`Source branch "${source}" does not exist`]);
  const base = git.branches.get(target)?.[0];
  if (!base) return error(400, [`Target branch "${target}" does not exist`]);
  const open = project.mergeRequests.find(
    (mr) => mr.wire.source_branch === source && mr.wire.state === "opened",
  );
  if (open) {
    return error(409, [
      `Another open merge request already exists for this source branch: !${String(open.wire.iid)}`,
    ]);
  }
  const iid = Math.max(0, ...project.mergeRequests.map((mr) => Number(mr.wire.iid))) + 1;
  const id = w.nextId();
  // The branch's commits not on the target: what the merge request brings, newest first.
  const onTarget = new Set(git.branches.get(target)?.map((c) => String(c.wire.id)));
  const commits = (git.branches.get(source) ?? []).filter((c) => !onTarget.has(String(c.wire.id)));
  const labels =
    typeof body.labels === "string"
      ? body.labels
          .split(",")
          .map((l) => l.trim())
          .filter(Boolean)
      : Array.isArray(body.labels)
        ? body.labels.map(String)
        : [];
  const wire: Wire = {
    id,
    iid,
    project_id: project.wire.id,
    title: body.title,
    description: typeof body.description === "string" ? body.description : null,
    state: "opened",
    created_at: at,
    updated_at: at,
    merged_at: null,
    merged_by: null,
    merge_user: null,
    closed_at: null,
    closed_by: null,
    target_branch: target,
    source_branch: source,
    source_project_id: project.wire.id,
    target_project_id: project.wire.id,
    author: userRef(w, actor),
    labels,
    draft: false,
    work_in_progress: false,
    merge_status: "can_be_merged",
    sha: head.wire.id,
    merge_commit_sha: null,
    squash_commit_sha: null,
    should_remove_source_branch: body.remove_source_branch === true,
    web_url: `${w.webUrl}/${project.path}/-/merge_requests/${iid}`,
  };
  const mr: SimMergeRequest = {
    wire,
    commits: commits.map((c) => c.wire),
    versions: [],
    notes: [],
    approvals: {},
    approvalState: { approval_rules_overwritten: false, rules: [] },
    shas: new Set(commits.map((c) => String(c.wire.id))),
  };
  mr.versions.push(versionWire(w, mr, String(head.wire.id), at));
  setApprovals(mr, []);
  project.mergeRequests.push(mr);
  git.bases.set(iid, base);
  return { status: 201, body: wire };
}

type Approval = { user: Wire; approved_at: string };

/**
 * The MR approvals answer (GitLab's documented shape). The findings project has no approval rule:
 * none is required, as on GitLab Free, where approving is optional and the list is still kept.
 */
function setApprovals(mr: SimMergeRequest, approvedBy: Approval[]): void {
  mr.approvals = {
    id: mr.wire.id,
    iid: mr.wire.iid,
    project_id: mr.wire.project_id,
    title: mr.wire.title,
    description: mr.wire.description,
    state: mr.wire.state,
    created_at: mr.wire.created_at,
    updated_at: mr.wire.updated_at,
    merge_status: "can_be_merged",
    approved: true,
    approvals_required: 0,
    approvals_left: 0,
    approved_by: approvedBy,
  };
}

/** `sha` given and not the head: GitLab answers 409 to an approval or a merge of another version. */
function staleSha(mr: SimMergeRequest, body: Record<string, unknown>): ReviewReply | null {
  if (typeof body.sha !== "string" || body.sha === mr.wire.sha) return null;
  return error(409, `SHA does not match HEAD of source branch: ${String(mr.wire.sha)}`);
}

function approvalsOf(mr: SimMergeRequest): Approval[] {
  return (mr.approvals.approved_by ?? []) as Approval[];
}

function approve(
  w: GitLabWorld,
  project: SimProject,
  mr: SimMergeRequest,
  body: Record<string, unknown>,
  actor: SimActor,
  at: string,
): ReviewReply {
  if (mr.wire.state !== "opened") return error(401, "401 Unauthorized");
  const stale = staleSha(mr, body);
  if (stale) return stale;
  const author = (mr.wire.author as { username: string }).username;
  // "Prevent approval by author" and a second approval by the same user: GitLab answers 401.
  const selfApproval =
    author === actor.username && project.approvalSettings?.merge_requests_author_approval !== true;
  const already = approvalsOf(mr).some((a) => (a.user as { username: string }).username === actor.username);
  if (selfApproval || already) return error(401, "401 Unauthorized");
  setApprovals(mr, [...approvalsOf(mr), { user: userRef(w, actor), approved_at: at }]);
  mr.notes.push(systemNote(w, actor, "approved this merge request", at, mr));
  return { status: 201, body: mr.approvals };
}

function unapprove(w: GitLabWorld, mr: SimMergeRequest, actor: SimActor, at: string): ReviewReply {
  const kept = approvalsOf(mr).filter((a) => (a.user as { username: string }).username !== actor.username);
  if (kept.length === approvalsOf(mr).length) return missing("");
  setApprovals(mr, kept);
  mr.notes.push(systemNote(w, actor, "unapproved this merge request", at, mr));
  return { status: 201, body: mr.approvals };
}

function merge(
  w: GitLabWorld,
  project: SimProject,
  mr: SimMergeRequest,
  body: Record<string, unknown>,
  actor: SimActor,
  at: string,
): ReviewReply {
  if (mr.wire.state !== "opened") return error(405, "405 Method Not Allowed");
  const stale = staleSha(mr, body);
  if (stale) return stale;
  const git = gitOf(w, project);
  const source = git.branches.get(String(mr.wire.source_branch))?.[0];
  const targetName = String(mr.wire.target_branch);
  const target = git.branches.get(targetName);
  if (!source || !target?.[0]) return error(405, "405 Method Not Allowed");
  // The branch's changes onto the target's current tree (review files never conflict: one per branch).
  const base = git.bases.get(Number(mr.wire.iid));
  const files = new Map(target[0].files);
  for (const [path, text] of source.files) if (base?.files.get(path) !== text) files.set(path, text);
  const message = `Merge branch '${String(mr.wire.source_branch)}' into '${targetName}'\n\n${String(mr.wire.title)}\n\nSee merge request ${project.path}!${String(mr.wire.iid)}`;
  const sha = shaOf(String(target[0].wire.id), String(source.wire.id), at);
  const commit: SimCommit = {
    wire: { ...commitWire(w, sha, actor, message, at), parent_ids: [target[0].wire.id, source.wire.id] },
    files,
  };
  target.unshift(commit);
  git.commits.set(sha, commit);
  if (targetName === project.wire.default_branch) {
    for (const [path, text] of files) project.files.set(path, text);
  }
  const history = project.history.get(targetName) ?? [];
  project.history.set(targetName, [commit.wire, ...history]);
  project.pushEvents.push({
    id: w.nextId(),
    created_at: at,
    author_username: actor.username,
    ref: targetName,
    commit_from: String(target[1]?.wire.id ?? "") || null,
    commit_to: sha,
    commit_count: 1,
  });
  Object.assign(mr.wire, {
    state: "merged",
    merged_at: at,
    updated_at: at,
    merged_by: userRef(w, actor),
    merge_user: userRef(w, actor),
    merge_commit_sha: sha,
  });
  mr.shas.add(sha);
  mr.notes.push(systemNote(w, actor, `merged`, at, mr));
  return { body: mr.wire };
}

/** The files the merge request changes against the commit its branch started from. */
function diffsOf(w: GitLabWorld, project: SimProject, mr: SimMergeRequest): Wire[] {
  const git = gitOf(w, project);
  const head = git.commits.get(String(mr.wire.sha)) ?? git.branches.get(String(mr.wire.source_branch))?.[0];
  const base = git.bases.get(Number(mr.wire.iid));
  if (!head || !base) return [];
  const diffs: Wire[] = [];
  for (const [path, text] of head.files) {
    const before = base.files.get(path);
    if (before === text) continue;
    const lines = text.split("\n");
    const old = before?.split("\n") ?? [];
    diffs.push({
      old_path: path,
      new_path: path,
      a_mode: before === undefined ? "0" : "100644",
      b_mode: "100644",
      new_file: before === undefined,
      renamed_file: false,
      deleted_file: false,
      generated_file: false,
      diff: `@@ -${old.length ? 1 : 0},${old.length} +1,${lines.length} @@\n${old.map((l) => `-${l}`).join("\n")}${old.length ? "\n" : ""}${lines.map((l) => `+${l}`).join("\n")}\n`,
    });
  }
  for (const path of base.files.keys()) {
    if (!head.files.has(path)) {
      diffs.push({
        old_path: path,
        new_path: path,
        a_mode: "100644",
        b_mode: "0",
        new_file: false,
        renamed_file: false,
        deleted_file: true,
        generated_file: false,
        diff: "",
      });
    }
  }
  return diffs;
}
