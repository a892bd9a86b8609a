import { z } from "zod";
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
