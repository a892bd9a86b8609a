import { z } from "zod";
import { knownSchema } from "./known.js";

const Timestamp = z.iso.datetime({ offset: true });

export const Commit = z.object({
  sha: z.string(),
  /** Code-host login of the author when the host could link it, otherwise null. */
  authorLogin: z.string().nullable(),
  authorName: z.string(),
  committerLogin: z.string().nullable(),
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
});
export type Check = z.infer<typeof Check>;

export const ChangeRequest = z.object({
  repository: z.string(),
  number: z.number().int().positive(),
  title: z.string(),
  url: z.string(),
  author: z.string(),
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
  at: Timestamp,
  url: z.string(),
});
export type DirectPush = z.infer<typeof DirectPush>;
