import { z } from "zod";
import type { Repository } from "../model/index.js";
import { changeRequestNotApplicable } from "./approvals.js";
import { changeRequestSubject, unknownBecause } from "./subjects.js";
import { defineControl, type Evidence } from "./types.js";

const params = z.object({}).strict();

export const noBypass = defineControl({
  id: "cc8.no-bypass",
  criterion: "CC8.1",
  title: "Changes are merged through branch protection, not around it",
  appliesTo: "change-request",
  params,
  passes: "The change was merged with the production branch's protection enforced.",
  fails: "An administrator or bypass actor merged the change while overriding the branch protection.",
  remediation:
    "Enforce the branch protection for administrators and remove bypass actors; have every bypassed merge reviewed after the fact and documented as an emergency change.",
  evidence:
    "Whether the merge bypassed the rules (the host's record of bypasses, or derived by the provider from the whole rule), and the base branch's rule.",
  unknownWhen:
    "The host does not say whether the merge bypassed the rules, or the rule has requirements the collector could not verify (signatures, merge queue, deployments, code scanning, \u2026).",
  evaluate(facts, context) {
    const notApplicable = changeRequestNotApplicable(facts, context);
    if (notApplicable) return [notApplicable];
    const { changeRequest } = facts;
    const subject = changeRequestSubject(changeRequest);
    if (changeRequest.state !== "merged") {
      return [{ subject, outcome: "not-applicable", reason: "Not merged yet.", evidence: [] }];
    }
    const bypassed = changeRequest.bypassedProtection;
    if (!bypassed.known)
      return [unknownBecause(subject, "whether the merge bypassed branch protection", bypassed)];
    const mergedBy = changeRequest.mergedBy ?? "an unknown user";
    const evidence: Evidence[] = [
      {
        label: "merged",
        value: `by ${mergedBy} into ${changeRequest.baseBranch} as ${changeRequest.mergeCommitSha ?? "unknown commit"}`,
        url: changeRequest.url,
        ...(changeRequest.mergedAt ? { at: changeRequest.mergedAt } : {}),
      },
      { label: "bypassed protection", value: bypassed.value ? "yes" : "no" },
    ];
    if (bypassed.value) {
      return [
        {
          subject,
          outcome: "fail",
          reason: `Merged by ${mergedBy} bypassing branch protection.`,
          evidence,
        },
      ];
    }
    // "No bypass" is only as good as the rule it was checked against: every requirement of the rule
    // must have been verified. Who may bypass it (hidden without write access to rulesets) does not
    // matter here: a merge that met the whole rule bypassed nothing; cc8.branch-protection judges
    // whether the rule applies to admins.
    const unverified = unverifiedParts(facts.repository, changeRequest.baseBranch);
    if (unverified.length > 0) {
      return [
        {
          subject,
          outcome: "unknown",
          reason: `Cannot confirm that ${mergedBy} merged without bypassing the rules of ${changeRequest.baseBranch}: ${unverified.join("; ")}.`,
          evidence: [
            ...evidence.filter((entry) => entry.label !== "bypassed protection"),
            { label: "not verified", value: unverified.join("; ") },
          ],
        },
      ];
    }
    return [
      {
        subject,
        outcome: "pass",
        reason: `Merged by ${mergedBy} with branch protection enforced.`,
        evidence,
      },
    ];
  },
});

/** What of the base branch's rule the collector could not verify, each as a short phrase. */
function unverifiedParts(repository: Repository | undefined, branch: string): string[] {
  if (repository === undefined)
    return [`the repository was not collected, so the rule of ${branch} is unknown`];
  if (!repository.branchRules.known) {
    return [`the rules of ${branch} cannot be read (the token lacks ${repository.branchRules.permission})`];
  }
  const rule = repository.branchRules.value.find((entry) => entry.branch === branch);
  if (!rule) return [];
  const parts = rule.otherRequirements.map(
    (requirement) => `the rule also requires ${requirement}, which was not verified`,
  );
  return parts;
}
