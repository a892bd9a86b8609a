/** GitLab settings and pipelines for the model's branch rules and checks (see world.ts). */
import type { BranchRule, ChangeRequest, Check } from "../../model/index.js";
import type { Wire } from "./world.js";

const PIPELINE_STATUS: Record<Check["conclusion"], string> = {
  success: "success",
  failure: "failed",
  neutral: "success",
  cancelled: "canceled",
  skipped: "skipped",
  timed_out: "failed",
  action_required: "manual",
  stale: "failed",
  error: "failed",
  pending: "running",
};

/** Every check becomes a pipeline on its commit: GitLab has no separately named required checks. */
export function pipelineOf(check: Check, change: ChangeRequest, id: number): Wire {
  return {
    id,
    iid: id,
    sha: check.sha,
    ref: check.on === "merge" ? change.baseBranch : change.headBranch,
    status: PIPELINE_STATUS[check.conclusion],
    source: check.on === "merge" ? "push" : "merge_request_event",
    created_at: check.completedAt ?? change.createdAt,
    updated_at: check.completedAt ?? change.createdAt,
    finished_at: check.completedAt,
    web_url: check.url,
  };
}

/**
 * A branch rule as a protected branch. GitLab cannot say "a merge request is required, except for
 * admins": either no one may push (requirePullRequest and enforceAdmins both true), or a role may
 * push (both false: Maintainers push directly).
 */
export function protectedBranchOf(rule: BranchRule, id: number): Wire {
  const nobody = rule.requirePullRequest && rule.enforceAdmins;
  return {
    id,
    name: rule.branch,
    push_access_levels: [
      nobody
        ? {
            id: id + 1,
            access_level: 0,
            access_level_description: "No one",
            user_id: null,
            group_id: null,
            deploy_key_id: null,
          }
        : {
            id: id + 1,
            access_level: 40,
            access_level_description: "Maintainers",
            user_id: null,
            group_id: null,
            deploy_key_id: null,
          },
    ],
    merge_access_levels: [{ id: id + 2, access_level: 40, access_level_description: "Maintainers" }],
    unprotect_access_levels: [],
    allow_force_push: rule.allowForcePushes,
    code_owner_approval_required: rule.requireCodeOwnerReview,
  };
}

/** Approval settings are per project in GitLab: the strictest reading of the branch rules. */
export function approvalSettingsOf(rules: BranchRule[]): Wire {
  return {
    approvals_before_merge: 0,
    reset_approvals_on_push: rules.length > 0 && rules.every((rule) => rule.dismissStaleApprovals),
    merge_requests_author_approval: false,
    merge_requests_disable_committers_approval:
      rules.length > 0 && rules.every((rule) => rule.requireLastPushApproval),
    disable_overriding_approvers_per_merge_request: true,
  };
}

export function approvalRulesOf(rules: BranchRule[], id: number): Wire[] {
  const required = Math.max(0, ...rules.map((rule) => rule.requiredApprovals));
  if (required === 0) return [];
  return [
    {
      id,
      name: "Approvers",
      rule_type: "regular",
      eligible_approvers: [],
      approvals_required: required,
      users: [],
      groups: [],
      applies_to_all_protected_branches: true,
      protected_branches: [],
    },
  ];
}
