/**
 * The effective rule of one branch from classic branch protection and rulesets. GitHub enforces
 * every source at once, so the most restrictive value of each setting wins. Pure.
 */
import { unprotectedBranchRule, type BranchRule } from "../../model/index.js";
import {
  parseAnswer,
  PullRequestRuleParameters,
  StatusChecksRuleParameters,
  type ProtectionAnswer,
  type RuleAnswer,
  type RulesetAnswer,
} from "./schema.js";

/** One source's contribution, before merging. */
type RuleSource = Omit<BranchRule, "branch">;

export function unprotectedRule(branch: string): BranchRule {
  return unprotectedBranchRule(branch);
}

export function protectionSource(protection: ProtectionAnswer): RuleSource {
  const reviews = protection.required_pull_request_reviews;
  const allowances = reviews?.bypass_pull_request_allowances;
  const checks = protection.required_status_checks;
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
  };
}

/** One source per ruleset: the rules GitHub says apply to the branch, grouped by ruleset. */
export function rulesetSources(
  rules: RuleAnswer[],
  rulesets: ReadonlyMap<number, RulesetAnswer>,
): RuleSource[] {
  const byRuleset = new Map<number, RuleAnswer[]>();
  for (const rule of rules) byRuleset.set(rule.ruleset_id, [...(byRuleset.get(rule.ruleset_id) ?? []), rule]);
  return [...byRuleset].map(([id, group]) => {
    const bypass = (rulesets.get(id)?.bypass_actors ?? []).map(
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
      // A ruleset without bypass actors binds administrators too.
      enforceAdmins: bypass.length === 0,
      allowForcePushes: true,
      allowDeletions: true,
      bypassActors: bypass,
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
      } else if (rule.type === "required_status_checks") {
        const p = parseAnswer(StatusChecksRuleParameters, rule.parameters, what);
        source.requiredStatusChecks = unique([
          ...source.requiredStatusChecks,
          ...p.required_status_checks.map((c) => c.context),
        ]);
      } else if (rule.type === "non_fast_forward") {
        source.allowForcePushes = false;
      } else if (rule.type === "deletion") {
        source.allowDeletions = false;
      }
    }
    return source;
  });
}

/** Merges every source into one effective rule; no source at all is an unprotected branch. */
export function mergeRuleSources(branch: string, sources: RuleSource[]): BranchRule {
  const merged = unprotectedRule(branch);
  if (sources.length === 0) return merged;
  const pullRequestSources = sources.filter((s) => s.requirePullRequest);
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
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
