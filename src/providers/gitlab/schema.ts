import { z } from "zod";

/**
 * GitLab API v4 answers, naming only the fields soc2-bot uses and staying permissive about the
 * rest (objects are not strict: GitLab adds fields in every release).
 */

const Time = z.string();
const UserRef = z.object({ id: z.number().optional(), username: z.string(), name: z.string().optional() });

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

export const CommitWire = z.object({
  id: z.string(),
  title: z.string().optional(),
  message: z.string().optional(),
  author_name: z.string(),
  author_email: z.string().nullable().optional(),
  authored_date: Time,
  committer_name: z.string().optional(),
  committer_email: z.string().nullable().optional(),
  committed_date: Time,
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

export const PipelineWire = z.object({
  id: z.number().int(),
  sha: z.string(),
  status: z.string(),
  web_url: z.string().nullable().optional(),
  updated_at: Time.nullable().optional(),
  finished_at: Time.nullable().optional(),
});
export type PipelineWire = z.infer<typeof PipelineWire>;

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

export const DeployKeyWire = z.object({
  id: z.number().int(),
  title: z.string(),
  created_at: Time.nullable().optional(),
  can_push: z.boolean().default(false),
});

export const GroupWire = z.object({
  id: z.number().int(),
  full_path: z.string(),
  web_url: z.string(),
  visibility: z.enum(["public", "private", "internal"]).optional(),
  require_two_factor_authentication: z.boolean().optional(),
});

export const InvitationWire = z.object({
  invite_email: z.string().nullable().optional(),
  created_at: Time,
  access_level: z.number().int(),
  user_name: z.string().nullable().optional(),
  created_by_name: z.string().nullable().optional(),
});

export const GroupProjectWire = z.object({ id: z.number().int(), path_with_namespace: z.string() });
export const BranchWire = z.object({ name: z.string() });
export const CurrentUserWire = z.object({ id: z.number().int(), username: z.string() });
export const TokenSelfWire = z.object({ scopes: z.array(z.string()).default([]) });
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
