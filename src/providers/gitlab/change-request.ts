import { ChangeRequest, type Check, type Known, type Push, type Review } from "../../model/index.js";
import { encodePath } from "./client.js";
import type { GitLabContext } from "./context.js";
import { isoTime, loginForEmail, ROLE } from "./map.js";
import {
  ApprovalStateWire,
  CommitWire,
  MergeRequestApprovalsWire,
  MergeRequestWire,
  NoteWire,
  PipelineWire,
  VersionWire,
  type MergeRequestWire as MergeRequest,
  type NoteWire as Note,
  type PipelineWire as Pipeline,
} from "./schema.js";

/**
 * One merge request with everything the CC8 controls need. GitLab differs from GitHub in ways the
 * facts must show honestly:
 * - an approval records no commit: Review.commitSha is null, and the approval time comes from the
 *   approval API (approved_at, GitLab 17+) or the "approved this merge request" system note;
 * - pushes are the MR's diff versions (head_commit_sha + created_at), the pusher from the "added N
 *   commits" system note of that moment;
 * - checks are pipelines, one per commit (the latest pipeline of the head and of the merge commit).
 */
export async function collectChangeRequest(
  context: GitLabContext,
  projectPath: string,
  iid: number,
): Promise<ChangeRequest> {
  const { client } = context;
  const base = `/projects/${encodePath(projectPath)}/merge_requests/${iid}`;
  const mr = await client.get(base, MergeRequestWire);
  const [commits, notes, versions, approvals, emails] = await Promise.all([
    collect(client.pages(`${base}/commits`, CommitWire)),
    collect(client.pages(`${base}/notes`, NoteWire, { sort: "asc", order_by: "created_at" })),
    collect(client.pages(`${base}/versions`, VersionWire)),
    client.get(`${base}/approvals`, MergeRequestApprovalsWire),
    context.emailLogins(projectPath),
  ]);
  const mergeCommitSha = mergeCommitOf(mr);
  const checks = await pipelineChecks(context, projectPath, mr.sha, mergeCommitSha);
  const bypassedProtection = await bypassOf(context, projectPath, mr, checks, `${base}/approval_state`);

  return ChangeRequest.parse({
    repository: projectPath,
    number: mr.iid,
    title: mr.title,
    url: mr.web_url,
    author: mr.author.username,
    state: stateOf(mr.state),
    draft: mr.draft ?? mr.work_in_progress ?? false,
    baseBranch: mr.target_branch,
    headBranch: mr.source_branch,
    headSha: mr.sha ?? "",
    mergeCommitSha,
    createdAt: isoTime(mr.created_at),
    mergedAt: mr.merged_at ? isoTime(mr.merged_at) : null,
    mergedBy: mr.merge_user?.username ?? mr.merged_by?.username ?? null,
    commits: commits.map((commit) => ({
      sha: commit.id,
      authorLogin: loginForEmail(commit.author_email, emails),
      authorName: commit.author_name,
      committerLogin: loginForEmail(commit.committer_email, emails),
      authoredAt: isoTime(commit.authored_date),
      committedAt: isoTime(commit.committed_date),
    })),
    // The MR commits API lists every commit (no 250 cap as on GitHub).
    commitsTruncated: false,
    pushes: pushesOf(versions, notes),
    reviews: reviewsOf(approvals.approved_by, notes, mr.created_at),
    checks,
    bypassedProtection,
  } satisfies ChangeRequest);
}

function stateOf(state: string): ChangeRequest["state"] {
  if (state === "merged") return "merged";
  if (state === "opened" || state === "locked") return "open";
  return "closed";
}

/** Merge commit, else the squash commit, else (fast-forward merge) the head itself landed. */
function mergeCommitOf(mr: MergeRequest): string | null {
  if (mr.merge_commit_sha) return mr.merge_commit_sha;
  if (mr.squash_commit_sha) return mr.squash_commit_sha;
  return mr.state === "merged" ? mr.sha : null;
}

const ADDED_COMMITS = /^added \d+ (new )?commits?\b/i;
const APPROVED = /^approved this merge request\b/i;

/** Each diff version is a push; who pushed it is read from the system note written at that moment. */
function pushesOf(versions: Array<{ head_commit_sha: string; created_at: string }>, notes: Note[]): Push[] {
  const pushNotes = notes.filter((note) => note.system && ADDED_COMMITS.test(note.body));
  return versions
    .map((version) => {
      const at = Date.parse(version.created_at);
      const note = nearest(pushNotes, at, 60_000);
      return {
        at: isoTime(version.created_at),
        actor: note?.author.username ?? null,
        headSha: version.head_commit_sha,
        // GitLab writes no distinct note for a force push we can rely on; see the report.
        forced: /force-pushed/i.test(note?.body ?? ""),
      };
    })
    .sort((a, b) => a.at.localeCompare(b.at));
}

function nearest(notes: Note[], at: number, within: number): Note | undefined {
  let best: Note | undefined;
  for (const note of notes) {
    const distance = Math.abs(Date.parse(note.created_at) - at);
    if (distance <= within && (!best || distance < Math.abs(Date.parse(best.created_at) - at))) best = note;
  }
  return best;
}

/**
 * Current approvals are "approved"; earlier approval notes of the same people, or of people whose
 * approval was since reset, are "dismissed" (kept as evidence). When no time can be found for a
 * current approval we date it at the MR's creation: the earliest possible time, so a control never
 * takes an undated approval for one given after the last push.
 */
function reviewsOf(
  approvedBy: Array<{ user: { username: string }; approved_at?: string | null | undefined }>,
  notes: Note[],
  createdAt: string,
): Review[] {
  const approvalNotes = notes.filter((note) => note.system && APPROVED.test(note.body));
  const reviews: Review[] = [];
  const current = new Set<string>();
  for (const approval of approvedBy) {
    const login = approval.user.username;
    current.add(login);
    const lastNote = approvalNotes.filter((note) => note.author.username === login).at(-1);
    const at = approval.approved_at ?? lastNote?.created_at ?? createdAt;
    reviews.push({ reviewer: login, state: "approved", submittedAt: isoTime(at), commitSha: null });
  }
  for (const note of approvalNotes) {
    const login = note.author.username;
    // A current approver's latest approval note is that approval itself, whatever time the API gave.
    const latest = approvalNotes.filter((other) => other.author.username === login).at(-1);
    if (current.has(login) && latest === note) continue;
    reviews.push({
      reviewer: login,
      state: "dismissed",
      submittedAt: isoTime(note.created_at),
      commitSha: null,
    });
  }
  return reviews.sort((a, b) => a.submittedAt.localeCompare(b.submittedAt));
}

/** GitLab pipeline statuses onto check conclusions; anything not finished is "pending". */
export function conclusionOf(status: string): Check["conclusion"] {
  switch (status) {
    case "success":
      return "success";
    case "failed":
      return "failure";
    case "canceled":
    case "canceling":
      return "cancelled";
    case "skipped":
      return "skipped";
    case "manual":
      return "action_required";
    default:
      return "pending";
  }
}

async function pipelineChecks(
  context: GitLabContext,
  projectPath: string,
  headSha: string | null,
  mergeSha: string | null,
): Promise<Check[]> {
  const targets: Array<{ on: Check["on"]; sha: string }> = [];
  if (headSha) targets.push({ on: "head", sha: headSha });
  if (mergeSha && mergeSha !== headSha) targets.push({ on: "merge", sha: mergeSha });
  const checks: Check[] = [];
  for (const target of targets) {
    // Newest first: the latest pipeline of a commit is the one GitLab's merge check looks at.
    const pipelines = await context.client.get(
      `/projects/${encodePath(projectPath)}/pipelines`,
      PipelineWire.array(),
      { sha: target.sha, order_by: "id", sort: "desc", per_page: 20 },
    );
    const latest = pipelines[0];
    if (latest) checks.push(checkOf(latest, target.on));
  }
  // A fast-forward merge lands the head itself: its pipeline is the merge commit's too.
  if (mergeSha && mergeSha === headSha) {
    const head = checks.find((check) => check.on === "head");
    if (head) checks.push({ ...head, on: "merge" });
  }
  return checks;
}

function checkOf(pipeline: Pipeline, on: Check["on"]): Check {
  const conclusion = conclusionOf(pipeline.status);
  const finished = pipeline.finished_at ?? (conclusion === "pending" ? null : (pipeline.updated_at ?? null));
  return {
    name: "pipeline",
    kind: "pipeline",
    conclusion,
    on,
    sha: pipeline.sha,
    url: pipeline.web_url ?? null,
    completedAt: finished ? isoTime(finished) : null,
  };
}

/**
 * GitLab records no "admin override" flag. A merged MR bypassed protection when it was merged
 * while an approval rule was unsatisfied, or while "pipelines must succeed" was on and its head
 * pipeline had not succeeded. Unknown when the approval state cannot be read.
 */
async function bypassOf(
  context: GitLabContext,
  projectPath: string,
  mr: MergeRequest,
  checks: Check[],
  approvalStatePath: string,
): Promise<Known<boolean>> {
  if (mr.state !== "merged") return { known: true, value: false };
  const subject = `${projectPath}!${mr.iid}`;
  const state = await context.unreadable.read(subject, "merge request approval state", ROLE.reporter, () =>
    context.client.get(approvalStatePath, ApprovalStateWire),
  );
  if (!state.known) return state;
  const unsatisfied = state.value.rules.some((rule) => rule.approvals_required > 0 && !rule.approved);
  const project = await context.unreadable.read(subject, "project merge settings", ROLE.reporter, () =>
    context.project(projectPath),
  );
  if (!project.known) return project;
  const head = checks.find((check) => check.on === "head");
  const pipelineRequired = project.value.only_allow_merge_if_pipeline_succeeds === true;
  const skippedAllowed = project.value.allow_merge_on_skipped_pipeline === true;
  const pipelineNotGreen =
    head !== undefined && head.conclusion !== "success" && !(head.conclusion === "skipped" && skippedAllowed);
  return { known: true, value: unsatisfied || (pipelineRequired && pipelineNotGreen) };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
