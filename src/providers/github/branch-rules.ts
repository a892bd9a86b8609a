/**
 * The effective rule of one branch from classic branch protection and rulesets. GitHub enforces
 * every source at once, so the most restrictive value of each setting wins. Pure.
 */
import { unprotectedBranchRule, type BranchRule } from "../../model/index.js";
import { parseAnswer } from "./schema.js";
import {
  PullRequestRuleParameters,
  StatusChecksRuleParameters,
  type ProtectionAnswer,
  type RuleAnswer,
  type RulesetAnswer,
} from "./rest-schema.js";

/** One source's contribution, before merging. */
type RuleSource = Omit<BranchRule, "branch">;

/**
 * Ruleset rule types read into the rule's own fields, or that only govern creating a ref or its
 * name: none of them is a requirement a merge into an existing branch could have skipped. Every
 * other type, known or not, is an other requirement (`update` too: only bypass actors may update
 * the branch, so a merge by anyone else needed a bypass).
 */
const RULES_READ_OR_NOT_ABOUT_MERGES: ReadonlySet<string> = new Set([
  "pull_request",
  "required_status_checks",
  "non_fast_forward",
  "deletion",
  "creation",
  "branch_name_pattern",
  "tag_name_pattern",
]);

/** "Require branches to be up to date before merging" (classic `strict`, rulesets' strict policy). */
const UP_TO_DATE = "required_status_checks_up_to_date";

/** A user or app GitHub listed among those who may push without naming it. */
export const UNNAMED = "(not named by the host)";

export function unprotectedRule(branch: string): BranchRule {
  return unprotectedBranchRule(branch);
}

export function protectionSource(protection: ProtectionAnswer): RuleSource {
  const reviews = protection.required_pull_request_reviews;
  const allowances = reviews?.bypass_pull_request_allowances;
  const checks = protection.required_status_checks;
  const other: string[] = [];
  // Each of these is a requirement GitHub enforces on the merge that soc2-bot does not verify.
  if (protection.required_signatures?.enabled) other.push("required_signatures");
  if (protection.required_linear_history?.enabled) other.push("required_linear_history");
  if (protection.required_conversation_resolution?.enabled) other.push("required_conversation_resolution");
  if (protection.lock_branch?.enabled) other.push("lock_branch");
  if (reviews?.require_code_owner_reviews) other.push("require_code_owner_review");
  // Whether the head contained the base's tip when it merged is not read (an admin can merge a
  // stale branch): never assumed met.
  if (checks?.strict) other.push(UP_TO_DATE);
  const restrictions = protection.restrictions ?? null;
  return {
    sources: ["branch-protection"],
    requirePullRequest: reviews !== undefined,
    requiredApprovals: reviews?.required_approving_review_count ?? 0,
    dismissStaleApprovals: reviews?.dismiss_stale_reviews ?? false,
    requireCodeOwnerReview: reviews?.require_code_owner_reviews ?? false,
    requireLastPushApproval: reviews?.require_last_push_approval ?? false,
    requiredStatusChecks: unique([
      ...(checks?.contexts ?? []),
      ...(checks?.checks ?? []).map((c) => c.context),
    ]),
    enforceAdmins: protection.enforce_admins?.enabled ?? false,
    allowForcePushes: protection.allow_force_pushes?.enabled ?? false,
    allowDeletions: protection.allow_deletions?.enabled ?? false,
    bypassActors: [
      ...(allowances?.users ?? []).map((u) => u.login),
      ...(allowances?.teams ?? []).map((t) => `team:${t.slug}`),
      ...(allowances?.apps ?? []).map((a) => `app:${a.slug}`),
    ],
    bypassActorsVisible: true,
    requiredCheckApps: pinnedChecks((checks?.checks ?? []).map((c) => [c.context, c.app_id])),
    otherRequirements: other,
    ...(restrictions !== null && {
      restrictedTo: [
        ...(restrictions.users ?? []).map((u) => u.login ?? UNNAMED),
        ...(restrictions.teams ?? []).map((t) => `team:${t.slug}`),
        ...(restrictions.apps ?? []).map((a) => (a.slug === undefined ? UNNAMED : `app:${a.slug}`)),
      ],
    }),
  };
}

/**
 * One source per ruleset: the rules GitHub says apply to the branch, grouped by ruleset. A ruleset
 * missing from `rulesets`, or whose answer has no bypass_actors, hid its bypass actors: the rest of
 * its rules still count, only who may bypass them is unknown.
 */
export function rulesetSources(
  rules: RuleAnswer[],
  rulesets: ReadonlyMap<number, RulesetAnswer>,
): RuleSource[] {
  const byRuleset = new Map<number, RuleAnswer[]>();
  for (const rule of rules) byRuleset.set(rule.ruleset_id, [...(byRuleset.get(rule.ruleset_id) ?? []), rule]);
  return [...byRuleset].map(([id, group]) => {
    const actors = rulesets.get(id)?.bypass_actors;
    const bypass = (actors ?? []).map(
      (a) =>
        `${a.actor_type}:${a.actor_id ?? "any"}${a.bypass_mode === "pull_request" ? " (pull requests)" : ""}`,
    );
    const source: RuleSource = {
      sources: [`ruleset:${id}`],
      requirePullRequest: false,
      requiredApprovals: 0,
      dismissStaleApprovals: false,
      requireCodeOwnerReview: false,
      requireLastPushApproval: false,
      requiredStatusChecks: [],
      // A ruleset without bypass actors binds administrators too; hidden actors cannot show that.
      enforceAdmins: actors !== undefined && bypass.length === 0,
      allowForcePushes: true,
      allowDeletions: true,
      bypassActors: bypass,
      bypassActorsVisible: actors !== undefined,
      requiredCheckApps: {},
      otherRequirements: [],
    };
    for (const rule of group) {
      const what = `rule ${rule.type} of ruleset ${id}`;
      if (rule.type === "pull_request") {
        const p = parseAnswer(PullRequestRuleParameters, rule.parameters, what);
        source.requirePullRequest = true;
        source.requiredApprovals = Math.max(source.requiredApprovals, p.required_approving_review_count);
        source.dismissStaleApprovals ||= p.dismiss_stale_reviews_on_push;
        source.requireCodeOwnerReview ||= p.require_code_owner_review;
        source.requireLastPushApproval ||= p.require_last_push_approval;
        if (p.require_code_owner_review) source.otherRequirements.push("require_code_owner_review");
        if (p.required_review_thread_resolution)
          source.otherRequirements.push("required_review_thread_resolution");
        if ((p.required_reviewers ?? []).length > 0) source.otherRequirements.push("required_reviewers");
      } else if (rule.type === "required_status_checks") {
        const p = parseAnswer(StatusChecksRuleParameters, rule.parameters, what);
        source.requiredStatusChecks = unique([
          ...source.requiredStatusChecks,
          ...p.required_status_checks.map((c) => c.context),
        ]);
        source.requiredCheckApps = {
          ...source.requiredCheckApps,
          ...pinnedChecks(p.required_status_checks.map((c) => [c.context, c.integration_id])),
        };
        if (p.strict_required_status_checks_policy) source.otherRequirements.push(UP_TO_DATE);
      } else if (rule.type === "non_fast_forward") {
        source.allowForcePushes = false;
      } else if (rule.type === "deletion") {
        source.allowDeletions = false;
      } else if (!RULES_READ_OR_NOT_ABOUT_MERGES.has(rule.type)) {
        // workflows, merge_queue, required_deployments, code_scanning, required_signatures,
        // required_linear_history, commit_message_pattern, … and any type GitHub adds later.
        source.otherRequirements.push(rule.type);
      }
    }
    source.otherRequirements = unique(source.otherRequirements);
    return source;
  });
}

/** Merges every source into one effective rule; no source at all is an unprotected branch. */
export function mergeRuleSources(branch: string, sources: RuleSource[]): BranchRule {
  const merged = unprotectedRule(branch);
  if (sources.length === 0) return merged;
  const pullRequestSources = sources.filter((s) => s.requirePullRequest);
  // Only classic protection restricts who may push; a ruleset's `update` rule is an other requirement.
  const restricted = sources.find((s) => s.restrictedTo !== undefined)?.restrictedTo;
  const requiredCheckApps: Record<string, number> = {};
  const conflicts: string[] = [];
  for (const source of sources) {
    for (const [name, app] of Object.entries(source.requiredCheckApps)) {
      const already = requiredCheckApps[name];
      if (already === undefined) requiredCheckApps[name] = app;
      // Two sources pinning one check to different apps: whether both were met is not verified.
      else if (already !== app) conflicts.push(`required_status_checks pinned to several apps: ${name}`);
    }
  }
  return {
    branch,
    sources: sources.flatMap((s) => s.sources),
    requirePullRequest: pullRequestSources.length > 0,
    requiredApprovals: Math.max(0, ...sources.map((s) => s.requiredApprovals)),
    dismissStaleApprovals: sources.some((s) => s.dismissStaleApprovals),
    requireCodeOwnerReview: sources.some((s) => s.requireCodeOwnerReview),
    requireLastPushApproval: sources.some((s) => s.requireLastPushApproval),
    requiredStatusChecks: unique(sources.flatMap((s) => s.requiredStatusChecks)),
    // Administrators must go through a pull request when any source requiring one binds them.
    enforceAdmins: pullRequestSources.some((s) => s.enforceAdmins),
    allowForcePushes: sources.every((s) => s.allowForcePushes),
    allowDeletions: sources.every((s) => s.allowDeletions),
    bypassActors: unique(sources.flatMap((s) => s.bypassActors)),
    bypassActorsVisible: sources.every((s) => s.bypassActorsVisible),
    requiredCheckApps,
    otherRequirements: unique([...sources.flatMap((s) => s.otherRequirements), ...conflicts]).sort(),
    ...(restricted !== undefined && { restrictedTo: restricted }),
  };
}

/** name -> app id for checks pinned to an app; null, absent or -1 (GitHub's "any source") pin nothing. */
function pinnedChecks(checks: Array<[string, number | null | undefined]>): Record<string, number> {
  const pinned: Record<string, number> = {};
  for (const [name, app] of checks) if (typeof app === "number" && app !== -1) pinned[name] = app;
  return pinned;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
