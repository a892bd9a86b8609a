import { z } from "zod";
import { knownSchema } from "./known.js";

const Timestamp = z.iso.datetime({ offset: true });

/**
 * What kind of account an actor is, from the host's own type field (GitHub GraphQL `__typename`
 * User / Bot / Mannequin, REST `type`, GitLab `bot`). "unknown" when the host did not say or no
 * account is linked. Only a "user" can be an independent approver.
 */
export const ActorKind = z.enum(["user", "bot", "unknown"]);
export type ActorKind = z.infer<typeof ActorKind>;

/**
 * A person credited as an author of a commit besides its primary author: GitHub's `Commit.authors`,
 * or a `Co-authored-by:` trailer of the message. `login` is null when the host links no account.
 */
export const CoAuthor = z.object({
  login: z.string().nullable(),
  name: z.string(),
  email: z.string().nullable(),
  kind: ActorKind,
  /** Where the credit comes from. */
  source: z.enum(["host", "trailer"]),
});
export type CoAuthor = z.infer<typeof CoAuthor>;

export const Commit = z.object({
  sha: z.string(),
  /** Code-host login of the author when the host could link it, otherwise null. */
  authorLogin: z.string().nullable(),
  authorName: z.string(),
  /** The author's e-mail as the commit records it (null when the host does not show it). */
  authorEmail: z.string().nullable().default(null),
  authorKind: ActorKind.default("user"),
  committerLogin: z.string().nullable(),
  committerKind: ActorKind.default("user"),
  /** Everyone else credited as an author (GitHub `Commit.authors`, `Co-authored-by:` trailers). */
  coAuthors: z.array(CoAuthor).default([]),
  authoredAt: Timestamp,
  committedAt: Timestamp,
});
export type Commit = z.infer<typeof Commit>;

/** A push to the change request's source branch: a new head, possibly by force. */
export const Push = z.object({
  at: Timestamp,
  actor: z.string().nullable(),
  /** The head after this push. */
  headSha: z.string(),
  forced: z.boolean(),
});
export type Push = z.infer<typeof Push>;

export const ReviewState = z.enum(["approved", "changes_requested", "commented", "dismissed", "pending"]);
export type ReviewState = z.infer<typeof ReviewState>;

export const Review = z.object({
  reviewer: z.string(),
  reviewerKind: ActorKind.default("user"),
  /**
   * Whether the reviewer could push to the repository when reviewing (GitHub
   * `PullRequestReview.authorCanPushToRepository`; GitLab: the approver's role is Developer or
   * above). null when the host does not say: such an approval cannot be confirmed.
   */
  authorCanPush: z.boolean().nullable().default(null),
  state: ReviewState,
  submittedAt: Timestamp,
  /** The commit the reviewer saw; null when the host does not record it (GitLab approvals). */
  commitSha: z.string().nullable(),
});
export type Review = z.infer<typeof Review>;

export const CheckConclusion = z.enum([
  "success",
  "failure",
  "neutral",
  "skipped",
  "cancelled",
  "timed_out",
  "action_required",
  "stale",
  "error",
  "pending",
]);
export type CheckConclusion = z.infer<typeof CheckConclusion>;

export const Check = z.object({
  /** Check run name or commit status context. */
  name: z.string(),
  kind: z.enum(["check-run", "status", "pipeline"]),
  conclusion: CheckConclusion,
  /** Which commit it ran on: the change request's head or the merge commit. */
  on: z.enum(["head", "merge"]),
  sha: z.string(),
  url: z.string().nullable(),
  completedAt: Timestamp.nullable(),
  /**
   * Who reported the result: for a check run, the GitHub App of its check suite (`appId`, `appSlug`);
   * for a commit status, the account that posted it (`reportedBy`). A required check pinned to an
   * app is satisfied only by a run of that app. null when the host does not say.
   */
  appId: z.number().int().nullable().default(null),
  appSlug: z.string().nullable().default(null),
  reportedBy: z.string().nullable().default(null),
});
export type Check = z.infer<typeof Check>;

export const ChangeRequest = z.object({
  repository: z.string(),
  number: z.number().int().positive(),
  title: z.string(),
  url: z.string(),
  author: z.string(),
  authorKind: ActorKind.default("user"),
  state: z.enum(["open", "closed", "merged"]),
  draft: z.boolean(),
  baseBranch: z.string(),
  headBranch: z.string(),
  headSha: z.string(),
  mergeCommitSha: z.string().nullable(),
  createdAt: Timestamp,
  mergedAt: Timestamp.nullable(),
  mergedBy: z.string().nullable(),
  commits: z.array(Commit),
  /** True when the host returned fewer commits than the change request has (evidence is partial). */
  commitsTruncated: z.boolean(),
  pushes: z.array(Push),
  reviews: z.array(Review),
  checks: z.array(Check),
  /**
   * Other connections the host returned only in part (it refused to page further): the controls that
   * rely on them answer unknown. Commits are flagged by commitsTruncated.
   */
  truncated: z.array(z.enum(["reviews", "pushes", "checks", "co-authors"])).default([]),
  /** Merged by the host's merge queue (GitHub merge queue, GitLab merge trains): checks ran on its commit. */
  mergedByQueue: z.boolean().default(false),
  /** Whether merging bypassed branch protection (an admin override, a bypass actor). */
  bypassedProtection: knownSchema(z.boolean()),
});
export type ChangeRequest = z.infer<typeof ChangeRequest>;

/** A commit that landed on a production branch without coming through a merged change request. */
export const DirectPush = z.object({
  repository: z.string(),
  branch: z.string(),
  sha: z.string(),
  message: z.string(),
  authorLogin: z.string().nullable(),
  committerLogin: z.string().nullable(),
  /** Who pushed it, when the host records it (push events, audit log); otherwise null. */
  pushedBy: z.string().nullable(),
  /** The commit date (set by the client, not the host). */
  at: Timestamp,
  /**
   * When the host recorded the push (GitHub's repository activity); null when the push time is not
   * recorded and the commit was found by its commit date only.
   */
  pushedAt: Timestamp.nullable().default(null),
  /** The push replaced history (a force push). */
  forced: z.boolean().default(false),
  url: z.string(),
});
export type DirectPush = z.infer<typeof DirectPush>;
