import { z } from "zod";
import { ProviderError } from "../../errors.js";
import {
  ChangeRequest,
  type ActorKind,
  type Check,
  type CoAuthor,
  type Commit,
  type Known,
  type Push,
  type Review,
} from "../../model/index.js";
import { encodePath, GitLabHttpError } from "./client.js";
import type { GitLabContext } from "./context.js";
import { coAuthorTrailers, isoTime, loginForEmail, ROLE, userIdForEmail } from "./map.js";
import {
  ApprovalStateWire,
  CommitWire,
  MergeRequestApprovalsWire,
  MergeRequestWire,
  NoteWire,
  PipelineWire,
  VersionWire,
  type MemberWire as Member,
  type MergeRequestWire as MergeRequest,
  type NoteWire as Note,
  type PipelineWire as Pipeline,
  type UserRef,
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
  const [commits, notes, versions, approvals, members] = await Promise.all([
    collect(client.pages(`${base}/commits`, CommitWire)),
    collect(client.pages(`${base}/notes`, NoteWire, { sort: "asc", order_by: "created_at" })),
    collect(client.pages(`${base}/versions`, VersionWire)),
    client.get(`${base}/approvals`, MergeRequestApprovalsWire),
    context.projectMembers(projectPath),
  ]);
  const emails = await context.emailLogins(projectPath);
  const people = await peopleOf(context, projectPath, mr, members, [
    ...approvals.approved_by.map((approval) => approval.user),
    ...notes.map((note) => note.author),
  ]);
  const mergeCommitSha = mergeCommitOf(mr);
  const checks = await pipelineChecks(context, projectPath, mr, mergeCommitSha);
  const bypassedProtection = await bypassOf(context, projectPath, mr, checks, `${base}/approval_state`);

  const collectedCommits: Commit[] = [];
  for (const commit of commits) {
    const authorLogin = loginForEmail(commit.author_email, emails);
    const committerLogin = loginForEmail(commit.committer_email, emails);
    const coAuthors: CoAuthor[] = [];
    for (const trailer of coAuthorTrailers(commit.message)) {
      const login = loginForEmail(trailer.email, emails);
      coAuthors.push({
        login,
        name: trailer.name,
        email: trailer.email,
        kind: login ? await people.kind(login, userIdForEmail(trailer.email)) : "unknown",
        source: "trailer",
      });
    }
    const committedAt = commit.committed_date ?? commit.created_at;
    // GitLab's documented MR-commits example has only created_at (the committed date): the author
    // date is then not known, and the committed date is the closest GitLab shows.
    const authoredAt = commit.authored_date ?? committedAt;
    if (!committedAt || !authoredAt) {
      throw new ProviderError(`GitLab GET ${base}/commits answered commit ${commit.id} without a date`, {
        host: "gitlab",
      });
    }
    collectedCommits.push({
      sha: commit.id,
      authorLogin,
      authorName: commit.author_name,
      authorEmail: commit.author_email ?? null,
      authorKind: authorLogin
        ? await people.kind(authorLogin, userIdForEmail(commit.author_email))
        : "unknown",
      committerLogin,
      committerKind: committerLogin
        ? await people.kind(committerLogin, userIdForEmail(commit.committer_email))
        : "unknown",
      coAuthors,
      authoredAt: isoTime(authoredAt),
      committedAt: isoTime(committedAt),
    });
  }

  return ChangeRequest.parse({
    repository: projectPath,
    number: mr.iid,
    title: mr.title,
    url: mr.web_url,
    author: mr.author.username,
    authorKind: await people.kind(mr.author.username, mr.author.id),
    state: stateOf(mr.state),
    draft: mr.draft ?? mr.work_in_progress ?? false,
    baseBranch: mr.target_branch,
    headBranch: mr.source_branch,
    headSha: mr.sha ?? "",
    mergeCommitSha,
    createdAt: isoTime(mr.created_at),
    mergedAt: mr.merged_at ? isoTime(mr.merged_at) : null,
    mergedBy: mr.merge_user?.username ?? mr.merged_by?.username ?? null,
    commits: collectedCommits,
    // Every list above is read to its end (the client fails rather than stop early), and the MR
    // commits API has no cap like GitHub's 250.
    commitsTruncated: false,
    pushes: pushesOf(versions, notes),
    reviews: await reviewsOf(approvals.approved_by, notes, mr.created_at, people),
    checks,
    truncated: [],
    // GitLab merge trains: not read yet; a train's merge is judged like any other merge.
    mergedByQueue: false,
    bypassedProtection,
  } satisfies ChangeRequest);
}

/** Who is who on one merge request: account types and whether each could push when approving. */
interface People {
  kind(login: string, id?: number | null): Promise<ActorKind>;
  /** Developer (30) or above on the project; null when the members cannot be read. */
  canPush(login: string): Promise<boolean | null>;
}

async function peopleOf(
  context: GitLabContext,
  projectPath: string,
  mr: MergeRequest,
  members: Member[] | null,
  seen: UserRef[],
): Promise<People> {
  const ids = new Map<string, number>();
  for (const user of [mr.author, mr.merge_user, mr.merged_by, ...seen, ...(members ?? [])]) {
    if (user?.id !== undefined) ids.set(user.username.toLowerCase(), user.id);
  }
  const access = new Map(
    (members ?? []).map((member) => [member.username.toLowerCase(), member.access_level]),
  );
  return {
    kind: (login, id) => context.userKind(id ?? ids.get(login.toLowerCase())),
    async canPush(login) {
      if (members === null) return null;
      const direct = access.get(login.toLowerCase()) ?? 0;
      if (direct >= DEVELOPER) return true;
      // members/all leaves out members of groups the project is shared with when the token cannot
      // see those groups: read each share that grants push, and say "unknown" if one is hidden.
      let best = direct;
      let hidden = false;
      for (const share of (await context.project(projectPath)).shared_with_groups ?? []) {
        if (share.group_access_level < DEVELOPER) continue;
        const groupMembers = await context.groupMembersIfReadable(share.group_full_path);
        if (groupMembers === null) {
          hidden = true;
          continue;
        }
        const member = groupMembers.find((entry) => entry.username.toLowerCase() === login.toLowerCase());
        // Access through a share is the lower of the member's role and the share's.
        if (member) best = Math.max(best, Math.min(member.access_level, share.group_access_level));
        if (best >= DEVELOPER) return true;
      }
      if (best >= DEVELOPER) return true;
      return hidden ? null : false;
    },
  };
}

/** The Developer role: the lowest that can push to a project (GitLab access level 30). */
const DEVELOPER = 30;

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
 * takes an undated approval for one given after the last push. Whether the approver could push is
 * their role on the project now (GitLab keeps no history of roles): the ledger records changes.
 */
async function reviewsOf(
  approvedBy: Array<{ user: UserRef; approved_at?: string | null | undefined }>,
  notes: Note[],
  createdAt: string,
  people: People,
): Promise<Review[]> {
  const approvalNotes = notes.filter((note) => note.system && APPROVED.test(note.body));
  const reviews: Review[] = [];
  const current = new Set<string>();
  const review = async (user: UserRef, state: Review["state"], at: string): Promise<Review> => ({
    reviewer: user.username,
    reviewerKind: await people.kind(user.username, user.id),
    authorCanPush: await people.canPush(user.username),
    state,
    submittedAt: isoTime(at),
    commitSha: null,
  });
  for (const approval of approvedBy) {
    const login = approval.user.username;
    current.add(login);
    const lastNote = approvalNotes.filter((note) => note.author.username === login).at(-1);
    const at = approval.approved_at ?? lastNote?.created_at ?? createdAt;
    reviews.push(await review(approval.user, "approved", at));
  }
  for (const note of approvalNotes) {
    const login = note.author.username;
    // A current approver's latest approval note is that approval itself, whatever time the API gave.
    const latest = approvalNotes.filter((other) => other.author.username === login).at(-1);
    if (current.has(login) && latest === note) continue;
    reviews.push(await review(note.author, "dismissed", note.created_at));
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

/**
 * The head's pipeline is the MR's own `head_pipeline` (what GitLab's merge checks look at; for a
 * merged-results pipeline its sha is GitLab's internal merge commit). Only when GitLab names none
 * (older versions, or a pipeline of an earlier head) the newest pipeline of the head commit is
 * looked up. The merge commit's pipeline is the newest on it.
 */
async function pipelineChecks(
  context: GitLabContext,
  projectPath: string,
  mr: MergeRequest,
  mergeSha: string | null,
): Promise<Check[]> {
  const headSha = mr.sha;
  const checks: Check[] = [];
  const given = mr.head_pipeline ?? mr.pipeline ?? null;
  // A pipeline of an earlier head says nothing about this one (GitLab leaves head_pipeline as it was
  // when a push starts no pipeline); a merge request pipeline may run on GitLab's merge commit
  // (merged results), whose sha is never the head's: it counts only when that commit merges this head.
  const current =
    given &&
    (given.sha === headSha ||
      (headSha !== null &&
        given.source === "merge_request_event" &&
        (await mergesHead(context, projectPath, given.sha, headSha))))
      ? given
      : null;
  const head = current ?? (headSha ? await latestPipeline(context, projectPath, headSha) : null);
  // GitLab names as head_pipeline only a pipeline of the head or of its merge with the target
  // (source_sha = head): a merged-results pipeline is the head's, and is recorded on the head (its
  // own url names the pipeline), as GitLab's "pipelines must succeed" check counts it.
  if (head)
    checks.push({ ...checkOf(head, "head"), ...(headSha && head === current ? { sha: headSha } : {}) });
  if (mergeSha && mergeSha !== headSha) {
    const merge = await latestPipeline(context, projectPath, mergeSha);
    if (merge) checks.push(checkOf(merge, "merge"));
  }
  // A fast-forward merge lands the head itself: its pipeline is the merge commit's too.
  if (mergeSha && mergeSha === headSha) {
    const headCheck = checks.find((check) => check.on === "head");
    if (headCheck) checks.push({ ...headCheck, on: "merge" });
  }
  return checks;
}

const MergeParents = z.object({ parent_ids: z.array(z.string()) });

/**
 * Whether `sha` (a merged-results pipeline's commit) has `head` as a parent: GitLab's internal merge
 * of the head into the target. GitLab keeps a pipeline's commit, so 404 means it is no such merge.
 */
async function mergesHead(
  context: GitLabContext,
  projectPath: string,
  sha: string,
  head: string,
): Promise<boolean> {
  try {
    const commit = await context.client.get(
      `/projects/${encodePath(projectPath)}/repository/commits/${encodeURIComponent(sha)}`,
      MergeParents,
    );
    return commit.parent_ids.includes(head);
  } catch (error) {
    if (error instanceof GitLabHttpError && error.status === 404) return false;
    throw error;
  }
}

/** Newest first: the latest pipeline of a commit is the one GitLab's merge check looks at. */
async function latestPipeline(
  context: GitLabContext,
  projectPath: string,
  sha: string,
): Promise<Pipeline | null> {
  const pipelines = await context.client.get(
    `/projects/${encodePath(projectPath)}/pipelines`,
    PipelineWire.array(),
    { sha, order_by: "id", sort: "desc", per_page: 20 },
  );
  // Only a pipeline of this very commit is evidence about it, whatever else the list holds.
  return pipelines.find((pipeline) => pipeline.sha === sha) ?? null;
}

function checkOf(pipeline: Pipeline, on: Check["on"]): Check {
  const conclusion = conclusionOf(pipeline.status);
  const finished = pipeline.finished_at ?? (conclusion === "pending" ? null : (pipeline.updated_at ?? null));
  return {
    name: "pipeline",
    // An external pipeline is what GitLab makes of a commit status someone posted through the API
    // (anyone with the Developer role can): no CI of the project ran, so it is evidence as a status.
    kind: pipeline.source === "external" ? "status" : "pipeline",
    conclusion,
    on,
    sha: pipeline.sha,
    url: pipeline.web_url ?? null,
    completedAt: finished ? isoTime(finished) : null,
    appId: null,
    appSlug: null,
    // Who ran the pipeline, where GitLab shows it (head_pipeline, single pipeline; not the list).
    reportedBy: pipeline.user?.username ?? null,
  };
}

/**
 * GitLab records no "admin override" flag. A merged MR bypassed protection when it was merged
 * while an approval rule was unsatisfied, or while "pipelines must succeed" was on and its head
 * pipeline had not succeeded. Unknown when the approval state cannot be read (a role, or GitLab
 * Free/CE, which has no approval rules API), and when a required pipeline cannot be found.
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
  const state = await context.unreadable.read(
    subject,
    "merge request approval state",
    ROLE.reporter,
    () => context.client.get(approvalStatePath, ApprovalStateWire),
    { edition: "approval_state" },
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
  if (unsatisfied) return { known: true, value: true };
  if (pipelineRequired && head === undefined) {
    // Not "no bypass": the pipeline GitLab required was never found, so whether it passed is unknown.
    return context.unreadable.add(
      subject,
      "head pipeline",
      ROLE.reporter,
      `pipelines must succeed, but GitLab shows no pipeline for the head ${mr.sha ?? "(none)"}`,
    );
  }
  const pipelineNotGreen =
    head !== undefined && head.conclusion !== "success" && !(head.conclusion === "skipped" && skippedAllowed);
  return { known: true, value: pipelineRequired && pipelineNotGreen };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
