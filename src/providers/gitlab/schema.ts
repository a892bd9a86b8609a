import { z } from "zod";

/**
 * GitLab API v4 answers, naming only the fields soc2-bot uses and staying permissive about the
 * rest (objects are not strict: GitLab adds fields in every release).
 */

const Time = z.string();
const UserRef = z.object({ id: z.number().optional(), username: z.string(), name: z.string().optional() });
export type UserRef = z.infer<typeof UserRef>;

/**
 * A pipeline as the MR's `head_pipeline` (and the single-pipeline API) shows it: with the user who
 * ran it. The pipelines list omits `user`.
 */
export const PipelineWire = z.object({
  id: z.number().int(),
  sha: z.string(),
  status: z.string(),
  source: z.string().nullable().optional(),
  web_url: z.string().nullable().optional(),
  updated_at: Time.nullable().optional(),
  finished_at: Time.nullable().optional(),
  user: UserRef.nullable().optional(),
});
export type PipelineWire = z.infer<typeof PipelineWire>;

export const MergeRequestWire = z.object({
  iid: z.number().int(),
  title: z.string(),
  web_url: z.string(),
  author: UserRef,
  state: z.string(),
  draft: z.boolean().optional(),
  work_in_progress: z.boolean().optional(),
  target_branch: z.string(),
  source_branch: z.string(),
  sha: z.string().nullable(),
  merge_commit_sha: z.string().nullable().optional(),
  squash_commit_sha: z.string().nullable().optional(),
  created_at: Time,
  updated_at: Time.optional(),
  merged_at: Time.nullable().optional(),
  merged_by: UserRef.nullable().optional(),
  merge_user: UserRef.nullable().optional(),
  /**
   * The pipeline GitLab's merge checks look at (GET single MR only; absent from lists and on old
   * GitLab). `pipeline` is its older, basic form. For merged-results pipelines its sha is GitLab's
   * internal merge commit, not the MR's head.
   */
  head_pipeline: PipelineWire.nullable().optional(),
  pipeline: PipelineWire.nullable().optional(),
});
export type MergeRequestWire = z.infer<typeof MergeRequestWire>;

export const MergeRequestApprovalsWire = z.object({
  approved_by: z.array(z.object({ user: UserRef, approved_at: Time.nullable().optional() })).default([]),
});

export const ApprovalStateWire = z.object({
  rules: z
    .array(
      z.object({
        name: z.string().optional(),
        approvals_required: z.number().int(),
        approved: z.boolean(),
        approved_by: z.array(UserRef.extend({ approved_at: Time.nullable().optional() })).default([]),
      }),
    )
    .default([]),
});

/**
 * A commit. GitLab's documented MR-commits example shows only `created_at` (which GitLab fills with
 * the committed date); current versions add authored_date and committed_date.
 */
export const CommitWire = z.object({
  id: z.string(),
  title: z.string().optional(),
  message: z.string().optional(),
  author_name: z.string(),
  author_email: z.string().nullable().optional(),
  authored_date: Time.optional(),
  committer_name: z.string().optional(),
  committer_email: z.string().nullable().optional(),
  committed_date: Time.optional(),
  created_at: Time.optional(),
  web_url: z.string().optional(),
});
export type CommitWire = z.infer<typeof CommitWire>;

export const NoteWire = z.object({
  id: z.number().int(),
  body: z.string(),
  system: z.boolean(),
  author: UserRef,
  created_at: Time,
});
export type NoteWire = z.infer<typeof NoteWire>;

export const VersionWire = z.object({
  id: z.number().int(),
  head_commit_sha: z.string(),
  created_at: Time,
});

export const ProjectWire = z.object({
  id: z.number().int(),
  path_with_namespace: z.string(),
  web_url: z.string(),
  visibility: z.enum(["public", "private", "internal"]),
  archived: z.boolean(),
  default_branch: z.string().nullable().optional(),
  only_allow_merge_if_pipeline_succeeds: z.boolean().optional(),
  allow_merge_on_skipped_pipeline: z.boolean().nullable().optional(),
  shared_with_groups: z
    .array(z.object({ group_full_path: z.string(), group_access_level: z.number().int() }))
    .optional(),
});
export type ProjectWire = z.infer<typeof ProjectWire>;

const AccessLevelEntry = z.object({
  access_level: z.number().int().nullable().optional(),
  access_level_description: z.string().optional(),
  user_id: z.number().int().nullable().optional(),
  group_id: z.number().int().nullable().optional(),
  deploy_key_id: z.number().int().nullable().optional(),
});
export type AccessLevelEntry = z.infer<typeof AccessLevelEntry>;

export const ProtectedBranchWire = z.object({
  name: z.string(),
  push_access_levels: z.array(AccessLevelEntry).default([]),
  merge_access_levels: z.array(AccessLevelEntry).default([]),
  allow_force_push: z.boolean().default(false),
  code_owner_approval_required: z.boolean().default(false),
});
export type ProtectedBranchWire = z.infer<typeof ProtectedBranchWire>;

export const ProjectApprovalsWire = z.object({
  approvals_before_merge: z.number().int().default(0),
  reset_approvals_on_push: z.boolean().default(false),
  merge_requests_author_approval: z.boolean().nullable().optional(),
  merge_requests_disable_committers_approval: z.boolean().nullable().optional(),
  disable_overriding_approvers_per_merge_request: z.boolean().nullable().optional(),
});
export type ProjectApprovalsWire = z.infer<typeof ProjectApprovalsWire>;

export const ApprovalRuleWire = z.object({
  id: z.number().int(),
  name: z.string(),
  rule_type: z.string().optional(),
  approvals_required: z.number().int(),
  applies_to_all_protected_branches: z.boolean().optional(),
  protected_branches: z.array(z.object({ name: z.string() })).default([]),
});
export type ApprovalRuleWire = z.infer<typeof ApprovalRuleWire>;

export const MemberWire = z.object({
  id: z.number().int(),
  username: z.string(),
  name: z.string().optional(),
  state: z.string().optional(),
  access_level: z.number().int(),
  /** Only present for instance administrators (and not on every GitLab version). */
  two_factor_enabled: z.boolean().optional(),
  /** Shown when the user made it public, or to group owners for enterprise users. */
  public_email: z.string().nullable().optional(),
  email: z.string().nullable().optional(),
});
export type MemberWire = z.infer<typeof MemberWire>;

/** `can_push` is missing on old GitLab (API v3 answers): whether such a key can push is unknown. */
export const DeployKeyWire = z.object({
  id: z.number().int(),
  title: z.string(),
  created_at: Time.nullable().optional(),
  can_push: z.boolean().optional(),
});

export const GroupWire = z.object({
  id: z.number().int(),
  full_path: z.string(),
  web_url: z.string(),
  visibility: z.enum(["public", "private", "internal"]).optional(),
  require_two_factor_authentication: z.boolean().optional(),
});

/** Older GitLab answered `invited_at` where current versions answer `created_at`. */
export const InvitationWire = z.object({
  invite_email: z.string().nullable().optional(),
  created_at: Time.optional(),
  invited_at: Time.optional(),
  access_level: z.number().int(),
  user_name: z.string().nullable().optional(),
  created_by_name: z.string().nullable().optional(),
});

export const GroupProjectWire = z.object({ id: z.number().int(), path_with_namespace: z.string() });
export const BranchWire = z.object({ name: z.string() });
export const CurrentUserWire = z.object({ id: z.number().int(), username: z.string() });
export const TokenSelfWire = z.object({ scopes: z.array(z.string()).default([]) });
/** GET /users/:id: `bot` is true for project and group access tokens' users and service accounts. */
export const UserWire = z.object({
  id: z.number().int(),
  username: z.string(),
  name: z.string().optional(),
  bot: z.boolean().optional(),
  public_email: z.string().nullable().optional(),
});

/** A push event (GET /projects/:id/events?action=pushed): who pushed what onto which ref, when. */
export const PushEventWire = z.object({
  created_at: Time,
  author_username: z.string().nullable().optional(),
  author: UserRef.nullable().optional(),
  push_data: z.object({
    action: z.string().optional(),
    ref: z.string().nullable().optional(),
    ref_type: z.string().optional(),
    commit_count: z.number().int().optional(),
    commit_from: z.string().nullable().optional(),
    commit_to: z.string().nullable().optional(),
  }),
});
export type PushEventWire = z.infer<typeof PushEventWire>;

/** An entry of GET /repository/tree: type blob, tree or commit (a submodule); mode 120000 a symlink. */
export const TreeEntryWire = z.object({
  name: z.string(),
  type: z.string(),
  mode: z.string().optional(),
  path: z.string().optional(),
});
export type TreeEntryWire = z.infer<typeof TreeEntryWire>;

/** GET /repository/compare: the commits between two shas. */
export const CompareWire = z.object({
  commits: z.array(z.object({ id: z.string(), parent_ids: z.array(z.string()).default([]) })).default([]),
  compare_timeout: z.boolean().optional(),
});

export const CommitMergeRequestWire = z.object({
  iid: z.number().int(),
  state: z.string(),
  target_branch: z.string(),
});

export const IssueWire = z.object({
  iid: z.number().int(),
  title: z.string(),
  description: z.string().nullable().optional(),
  state: z.enum(["opened", "closed"]),
  web_url: z.string(),
  labels: z.array(z.string()).default([]),
});
export type IssueWire = z.infer<typeof IssueWire>;

export const CommitStatusWire = z.object({ id: z.number().int(), status: z.string() });
