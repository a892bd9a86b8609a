import { z } from "zod";
import { knownSchema } from "./known.js";
import { Permission } from "./organization.js";

/**
 * The effective rules on one production branch, merged from every source that applies
 * (classic branch protection and rulesets on GitHub, protected branches and approval settings on
 * GitLab). The most restrictive value of each source wins, as the code host enforces it.
 */
export const BranchRule = z.object({
  branch: z.string(),
  /** Where the rules come from, e.g. ["branch-protection", "ruleset:12"]; empty when unprotected. */
  sources: z.array(z.string()),
  requirePullRequest: z.boolean(),
  requiredApprovals: z.number().int().nonnegative(),
  dismissStaleApprovals: z.boolean(),
  requireCodeOwnerReview: z.boolean(),
  /** Whether the last pusher's approval is ignored (GitHub require_last_push_approval). */
  requireLastPushApproval: z.boolean(),
  /** Names (contexts) of status checks that must succeed before merging. */
  requiredStatusChecks: z.array(z.string()),
  /** Rules apply to administrators too (GitHub enforce_admins / no bypass actors). */
  enforceAdmins: z.boolean(),
  allowForcePushes: z.boolean(),
  allowDeletions: z.boolean(),
  /** Actors allowed to bypass the rules (ruleset bypass actors, protection restrictions). */
  bypassActors: z.array(z.string()),
  /**
   * False when the host hid the bypass actors (GitHub shows a ruleset's `bypass_actors` only to
   * callers with write access to it): then whether the rules apply to admins is unknown.
   */
  bypassActorsVisible: z.boolean().default(true),
  /**
   * Required checks pinned to a source: check name -> the GitHub App id that must report it
   * (classic protection `checks[].app_id`, ruleset `integration_id`). Unpinned checks are absent.
   */
  requiredCheckApps: z.record(z.string(), z.number().int()).default({}),
  /**
   * Requirements of the rule beyond pull request, approvals, status checks, force push and deletion
   * (e.g. "required_signatures", "required_linear_history", "merge_queue", "workflows",
   * "required_deployments", "code_scanning", "required_conversation_resolution"). A control that
   * must confirm the whole rule was met answers unknown while one of these is not verified.
   */
  otherRequirements: z.array(z.string()).default([]),
  /**
   * Who may push to the branch, and so merge into it, when the rule restricts it (classic
   * protection `restrictions`): user logins, "team:<slug>", "app:<slug>". Absent when anyone with
   * write access may. A merge by anyone else overrode the rule.
   */
  restrictedTo: z.array(z.string()).optional(),
});
export type BranchRule = z.infer<typeof BranchRule>;

export const Collaborator = z.object({
  login: z.string(),
  permission: Permission,
  /** Not a member of the organization (an outside collaborator). */
  outside: z.boolean(),
});
export type Collaborator = z.infer<typeof Collaborator>;

export const TeamAccess = z.object({
  slug: z.string(),
  permission: Permission,
});
export type TeamAccess = z.infer<typeof TeamAccess>;

export const DeployKey = z.object({
  id: z.string(),
  title: z.string(),
  readOnly: z.boolean(),
  createdAt: z.iso.datetime({ offset: true }).nullable(),
  addedBy: z.string().nullable(),
});
export type DeployKey = z.infer<typeof DeployKey>;

export const Visibility = z.enum(["public", "private", "internal"]);

export const Repository = z.object({
  /** "owner/name" on GitHub, the full project path on GitLab. */
  fullName: z.string(),
  url: z.string(),
  visibility: Visibility,
  archived: z.boolean(),
  defaultBranch: z.string(),
  /** Production branches that exist, as the policy's patterns selected them at collection time. */
  productionBranches: z.array(z.string()),
  /** Effective rules of each production branch (one entry per branch in productionBranches). */
  branchRules: knownSchema(z.array(BranchRule)),
  collaborators: knownSchema(z.array(Collaborator)),
  teams: knownSchema(z.array(TeamAccess)),
  deployKeys: knownSchema(z.array(DeployKey)),
  /** Set when the repository could not be collected at all; every control on it is unknown. */
  collectionError: z.string().nullable().default(null),
});
export type Repository = z.infer<typeof Repository>;

/** A branch no rule protects: what every host reports for a branch without protection. */
export function unprotectedBranchRule(branch: string): BranchRule {
  return {
    branch,
    sources: [],
    requirePullRequest: false,
    requiredApprovals: 0,
    dismissStaleApprovals: false,
    requireCodeOwnerReview: false,
    requireLastPushApproval: false,
    requiredStatusChecks: [],
    enforceAdmins: false,
    allowForcePushes: true,
    allowDeletions: true,
    bypassActors: [],
    bypassActorsVisible: true,
    requiredCheckApps: {},
    otherRequirements: [],
  };
}

/**
 * A repository that could not be collected at all: every fact is unreadable and `collectionError`
 * says why, so every control on it is unknown and the audit goes on.
 */
export function uncollectedRepository(
  fullName: string,
  url: string,
  fact: { permission: string; reason: string },
  error: string,
): Repository {
  const unknown = { known: false as const, permission: fact.permission, reason: fact.reason };
  return {
    fullName,
    url,
    visibility: "private",
    archived: false,
    defaultBranch: "",
    productionBranches: [],
    branchRules: unknown,
    collaborators: unknown,
    teams: unknown,
    deployKeys: unknown,
    collectionError: error,
  };
}
