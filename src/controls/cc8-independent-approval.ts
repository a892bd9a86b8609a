import { z } from "zod";
import {
  analyzeApprovals,
  approvalEvidence,
  changeRequestNotApplicable,
  describeExclusion,
  describeUnconfirmed,
  describeWithdrawal,
  joinWords,
  notCountedEvidence,
  plural,
} from "./approvals.js";
import { changeRequestSubject } from "./subjects.js";
import { defineControl, type Evidence } from "./types.js";

const params = z
  .object({
    min_approvals: z.number().int().min(1).default(1),
    exclude_committers: z.boolean().default(true),
  })
  .strict();

export const independentApproval = defineControl({
  id: "cc8.independent-approval",
  criterion: "CC8.1",
  title: "Changes are approved by someone independent of the change",
  appliesTo: "change-request",
  params,
  passes:
    "Every change merged to a production branch was approved, before the merge, by enough reviewers who neither opened it nor wrote or pushed its commits.",
  fails:
    "A change was merged with too few independent approvals: approved by its author or one of its committers, an approval withdrawn, or no approval at all.",
  remediation:
    "Require approving reviews in the production branch's protection, ask a reviewer who did not work on the change to approve it, and review merged changes that lacked one after the fact.",
  evidence:
    "The reviews (reviewer, account kind, write access, commit, time), the change's author, commit authors, co-authors (Co-authored-by, GitHub's commit authors), committers and pushers, each resolved to a person through the policy's people.",
  unknownWhen:
    "The host did not say whether an approver could push or what kind of account they are, a commit or co-author is linked to no account and no person of the policy, or the reviews, commits, co-authors or pushes were truncated.",
  evaluate(facts, context) {
    const notApplicable = changeRequestNotApplicable(facts, context);
    if (notApplicable) return [notApplicable];
    const { changeRequest } = facts;
    const { min_approvals: minApprovals, exclude_committers: excludeCommitters } = context.params;
    const subject = changeRequestSubject(changeRequest);
    const analysis = analyzeApprovals(changeRequest, { excludeCommitters, people: context.people });

    const evidence: Evidence[] = [
      { label: "author", value: changeRequest.author, url: changeRequest.url, at: changeRequest.createdAt },
      ...analysis.independent.map((review) => approvalEvidence(review)),
      ...notCountedEvidence(analysis),
      ...analysis.withdrawn.map((entry) => ({
        label: "approval withdrawn",
        value: `${describeWithdrawal(entry)} (${entry.by.state})`,
        at: entry.by.submittedAt,
      })),
      ...analysis.afterMerge.map((review) =>
        approvalEvidence(review, "approval after the merge, not counted"),
      ),
    ];
    if (changeRequest.state === "merged") {
      evidence.push({
        label: "merged",
        value: `by ${changeRequest.mergedBy ?? "unknown"} as ${changeRequest.mergeCommitSha ?? "unknown commit"}`,
        ...(changeRequest.mergedAt ? { at: changeRequest.mergedAt } : {}),
      });
    }

    const count = analysis.independent.length;
    if (count < minApprovals) {
      // Approvals the host said too little about could make up the difference: not a known failure.
      if (count + analysis.unconfirmed.length >= minApprovals) {
        return [
          {
            subject,
            outcome: "unknown",
            reason: `${plural(count, "confirmed independent approval")}, ${minApprovals} required: ${analysis.unconfirmed.map(describeUnconfirmed).join("; ")}.`,
            evidence: [...evidence, ...analysis.gaps.map((gap) => gap.evidence)],
          },
        ];
      }
      const why = [
        ...analysis.excluded.map(describeExclusion),
        ...analysis.unconfirmed.map(describeUnconfirmed),
        ...analysis.withdrawn.map(describeWithdrawal),
        ...analysis.afterMerge.map((review) => `${review.reviewer} approved after the merge`),
      ];
      return [
        {
          subject,
          outcome: "fail",
          reason:
            `${plural(count, "independent approval")}, ${minApprovals} required` +
            (why.length > 0 ? `: ${why.join("; ")}.` : ": nobody else approved it."),
          evidence,
        },
      ];
    }

    const approvers = analysis.independent.map((review) => review.reviewer).join(", ");
    if (analysis.gaps.length > 0) {
      return [
        {
          subject,
          outcome: "unknown",
          reason: `Cannot confirm that ${approvers} ${analysis.independent.length === 1 ? "is" : "are"} independent of the change: ${joinWords(analysis.gaps.map((gap) => gap.reason))}.`,
          evidence: [...evidence, ...analysis.gaps.map((gap) => gap.evidence)],
        },
      ];
    }
    const independentOf = excludeCommitters ? "the author, co-authors, committers and pushers" : "the author";
    return [
      {
        subject,
        outcome: "pass",
        reason: `Approved by ${approvers}, independent of ${independentOf}.`,
        evidence,
      },
    ];
  },
});
