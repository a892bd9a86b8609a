import { z } from "zod";
import type { BranchRule } from "../model/index.js";
import { plural } from "./approvals.js";
import { repositoryNotCollected, repositorySubject, unknownBecause } from "./subjects.js";
import { defineControl, type Evidence } from "./types.js";

const params = z
  .object({
    required_approvals: z.number().int().min(0).default(1),
    dismiss_stale_approvals: z.boolean().default(true),
    require_status_checks: z.boolean().default(true),
    enforce_admins: z.boolean().default(true),
    block_force_pushes: z.boolean().default(true),
    block_deletions: z.boolean().default(true),
    require_code_owner_review: z.boolean().default(false),
  })
  .strict();

type Params = z.infer<typeof params>;

export const branchProtection = defineControl({
  id: "cc8.branch-protection",
  criterion: "CC8.1",
  title: "Production branches are protected",
  appliesTo: "repository",
  params,
  passes:
    "Every production branch requires a change request with the policy's approvals, dismisses stale approvals, requires status checks, applies to admins, and blocks force pushes and deletion.",
  fails: "A production branch is unprotected, or its protection is weaker than the policy asks.",
  remediation:
    "In the repository settings (branch protection or rulesets on GitHub, protected branches on GitLab), protect each production branch as the policy lists, including administrators.",
  evidence:
    "The effective rules of each production branch, merged from every source (classic protection and rulesets; GitLab protected branches and approval settings).",
  unknownWhen:
    "The branch rules cannot be read, the repository could not be collected, or the rule's bypass actors are hidden (whether it applies to admins).",
  evaluate(repository, context) {
    const notCollected = repositoryNotCollected(repository);
    if (notCollected) return [notCollected];
    if (repository.archived) {
      return [
        {
          subject: repositorySubject(repository),
          outcome: "not-applicable",
          reason: "The repository is archived: nothing can be pushed to it.",
          evidence: [],
        },
      ];
    }
    if (repository.productionBranches.length === 0) {
      return [
        {
          subject: repositorySubject(repository),
          outcome: "not-applicable",
          reason: "The repository has no production branch under the policy.",
          evidence: [],
        },
      ];
    }
    const rules = repository.branchRules;
    return repository.productionBranches.map((branch) => {
      const subject = repositorySubject(repository, branch);
      if (!rules.known) return unknownBecause(subject, `the protection of ${branch}`, rules);
      const rule = rules.value.find((entry) => entry.branch === branch);
      if (!rule || !rule.requirePullRequest) {
        return {
          subject,
          outcome: "fail",
          reason: `${branch} is unprotected: changes can land without a change request.`,
          evidence: rule ? ruleEvidence(rule) : [{ label: "rule", value: `no rule protects ${branch}` }],
        };
      }
      const shortfalls = shortfallsOf(rule, context.params);
      if (shortfalls.length > 0) {
        return {
          subject,
          outcome: "fail",
          reason: `${branch} falls short of the policy: ${shortfalls.join("; ")}.`,
          evidence: ruleEvidence(rule),
        };
      }
      if (context.params.enforce_admins && !rule.bypassActorsVisible) {
        // The rest of the rule is met; only whether it binds admins cannot be told.
        return {
          subject,
          outcome: "unknown",
          reason: `${branch} meets the policy except that whether its rules apply to admins is unknown: the ruleset's bypass actors are shown only to callers with write access to the rulesets.`,
          evidence: ruleEvidence(rule),
        };
      }
      return {
        subject,
        outcome: "pass",
        reason: `${branch} requires a change request with ${plural(rule.requiredApprovals, "approval")} and ${plural(rule.requiredStatusChecks.length, "required check")}, for admins too.`,
        evidence: ruleEvidence(rule),
      };
    });
  },
});

/** Every way the rule falls short of the policy, each as a short phrase. */
function shortfallsOf(rule: BranchRule, policy: Params): string[] {
  const shortfalls: string[] = [];
  if (rule.requiredApprovals < policy.required_approvals) {
    shortfalls.push(
      `requires ${plural(rule.requiredApprovals, "approval")} (policy: ${policy.required_approvals})`,
    );
  }
  if (policy.dismiss_stale_approvals && !rule.dismissStaleApprovals) {
    shortfalls.push("stale approvals are kept after new pushes");
  }
  if (policy.require_status_checks && rule.requiredStatusChecks.length === 0) {
    shortfalls.push("no required status checks");
  }
  if (policy.enforce_admins && !rule.enforceAdmins) shortfalls.push("admins can bypass");
  if (policy.enforce_admins && rule.bypassActors.length > 0) {
    shortfalls.push(`bypass allowed for ${rule.bypassActors.join(", ")}`);
  }
  if (policy.block_force_pushes && rule.allowForcePushes) shortfalls.push("force pushes allowed");
  if (policy.block_deletions && rule.allowDeletions) shortfalls.push("deletion allowed");
  if (policy.require_code_owner_review && !rule.requireCodeOwnerReview) {
    shortfalls.push("code owner review not required");
  }
  return shortfalls;
}

function ruleEvidence(rule: BranchRule): Evidence[] {
  return [
    { label: "rule sources", value: rule.sources.length > 0 ? rule.sources.join(", ") : "none" },
    { label: "requires a change request", value: yesNo(rule.requirePullRequest) },
    { label: "required approvals", value: String(rule.requiredApprovals) },
    { label: "dismisses stale approvals", value: yesNo(rule.dismissStaleApprovals) },
    { label: "requires code owner review", value: yesNo(rule.requireCodeOwnerReview) },
    {
      label: "required status checks",
      value: rule.requiredStatusChecks.length > 0 ? rule.requiredStatusChecks.join(", ") : "none",
    },
    { label: "applies to admins", value: yesNo(rule.enforceAdmins) },
    {
      label: "bypass actors",
      value: !rule.bypassActorsVisible
        ? "hidden by the host (needs write access to the rulesets)"
        : rule.bypassActors.length > 0
          ? rule.bypassActors.join(", ")
          : "none",
    },
    { label: "force pushes allowed", value: yesNo(rule.allowForcePushes) },
    { label: "deletion allowed", value: yesNo(rule.allowDeletions) },
  ];
}

function yesNo(value: boolean): string {
  return value ? "yes" : "no";
}
