import { z } from "zod";
import type { ChangeRequest, Push, Review } from "../model/index.js";
import {
  analyzeApprovals,
  approvalEvidence,
  changeRequestNotApplicable,
  plural,
  shortSha,
  time,
} from "./approvals.js";
import { changeRequestSubject } from "./subjects.js";
import { defineControl, type Evidence } from "./types.js";

const params = z
  .object({
    min_approvals: z.number().int().min(1).default(1),
    allow_pushes_after_approval: z.boolean().default(false),
  })
  .strict();

type Coverage = "covers" | "stale" | "undetermined";

export const approvalCoversFinalCode = defineControl({
  id: "cc8.approval-covers-final-code",
  criterion: "CC8.1",
  title: "The approval covers the code that was merged",
  appliesTo: "change-request",
  params,
  passes:
    "Enough independent approvals were given on the final commit of the change, so nothing was pushed after the reviewers looked.",
  fails:
    "Commits were pushed (or force-pushed) after the last independent approval and nobody approved them.",
  remediation:
    "Turn on dismissal of stale approvals (or require approval of the most recent push) on the production branch, and have changes pushed after an approval reviewed again.",
  evaluate(facts, context) {
    const notApplicable = changeRequestNotApplicable(facts, context);
    if (notApplicable) return [notApplicable];
    const { changeRequest } = facts;
    const { min_approvals: minApprovals, allow_pushes_after_approval: allowPushes } = context.params;
    const subject = changeRequestSubject(changeRequest);
    // Same people as cc8.independent-approval with its default: authors, committers and pushers excluded.
    const analysis = analyzeApprovals(changeRequest, { excludeCommitters: true });
    if (analysis.independent.length === 0) {
      return [
        {
          subject,
          outcome: "not-applicable",
          reason: "No independent approval; see cc8.independent-approval.",
          evidence: [],
        },
      ];
    }

    const lastPushAt = lastPushTime(changeRequest);
    const judged = analysis.independent.map((review) => ({
      review,
      coverage: coverageOf(review, changeRequest, lastPushAt),
    }));
    const covering = judged.filter((entry) => entry.coverage === "covers").map((entry) => entry.review);
    const undetermined = judged
      .filter((entry) => entry.coverage === "undetermined")
      .map((entry) => entry.review);
    const stale = judged.filter((entry) => entry.coverage === "stale").map((entry) => entry.review);
    // The pushes that matter are the ones after the latest approval that no longer covers the code.
    const outdated = stale.at(-1);
    const later = outdated ? changesAfter(changeRequest, outdated.submittedAt) : { pushes: [], commits: [] };

    const evidence: Evidence[] = [
      { label: "final head", value: changeRequest.headSha },
      ...judged.map(({ review, coverage }) =>
        approvalEvidence(
          review,
          coverage === "covers" ? "approval of the final code" : "approval of earlier code",
        ),
      ),
      ...later.pushes.map(pushEvidence),
      ...later.commits.map((commit) => ({
        label: "commit after the approval",
        value: `${commit.sha} by ${commit.authorLogin ?? commit.authorName}`,
        at: commit.committedAt,
      })),
    ];

    if (covering.length >= minApprovals) {
      if (analysis.independenceUnconfirmed) {
        return [
          {
            subject,
            outcome: "unknown",
            reason: `Commit list truncated: cannot confirm that ${names(covering)} did not author one of the commits the host did not list.`,
            evidence,
          },
        ];
      }
      return [
        {
          subject,
          outcome: "pass",
          reason: `Approved on the final code (${shortSha(changeRequest.headSha)}) by ${names(covering)}.`,
          evidence,
        },
      ];
    }
    if (covering.length + undetermined.length >= minApprovals) {
      return [
        {
          subject,
          outcome: "unknown",
          reason: `Cannot tell whether the approval of ${names(undetermined)} covers the final code: the host recorded neither the approved commit nor the time of the last push.`,
          evidence,
        },
      ];
    }

    const afterApproval = outdated
      ? describeChanges(later, changeRequest, outdated)
      : "no approval of the final code";
    if (allowPushes && analysis.independent.length >= minApprovals) {
      return [
        {
          subject,
          outcome: "pass",
          reason: `Approved by ${names(analysis.independent)}, but ${afterApproval}; the policy allows pushes after approval (allow_pushes_after_approval).`,
          evidence,
        },
      ];
    }
    return [
      {
        subject,
        outcome: "fail",
        reason: `${plural(covering.length, "independent approval")} of the final code, ${minApprovals} required: ${afterApproval}.`,
        evidence,
      },
    ];
  },
});

/**
 * An approval covers the final code when it was given on the head commit. GitLab does not record the
 * approved commit, so there an approval covers it when nothing was pushed after it.
 */
function coverageOf(review: Review, changeRequest: ChangeRequest, lastPushAt: number | null): Coverage {
  if (review.commitSha !== null) return review.commitSha === changeRequest.headSha ? "covers" : "stale";
  if (lastPushAt === null) return "undetermined";
  return time(review.submittedAt) >= lastPushAt ? "covers" : "stale";
}

/**
 * The time of the last push; the pushes are the host's own record. Commit times are set by the
 * author's machine, so they are only a fallback, and useless when the host truncated the list.
 */
function lastPushTime(changeRequest: ChangeRequest): number | null {
  const pushTimes = changeRequest.pushes.map((push) => time(push.at));
  if (pushTimes.length > 0) return Math.max(...pushTimes);
  if (changeRequest.commitsTruncated) return null;
  const commitTimes = changeRequest.commits.map((commit) => time(commit.committedAt));
  return commitTimes.length > 0 ? Math.max(...commitTimes) : null;
}

interface Changes {
  pushes: Push[];
  commits: ChangeRequest["commits"];
}

function changesAfter(changeRequest: ChangeRequest, at: string): Changes {
  const since = time(at);
  const pushes = changeRequest.pushes.filter((push) => time(push.at) > since);
  // Commits are named only when no push is recorded after the approval: the pushes say it better.
  const commits =
    pushes.length > 0 ? [] : changeRequest.commits.filter((commit) => time(commit.committedAt) > since);
  return { pushes, commits };
}

function describeChanges(later: Changes, changeRequest: ChangeRequest, outdated: Review): string {
  if (later.pushes.length > 0) {
    const pushes = later.pushes.map(
      (push) =>
        `${push.forced ? "force-pushed" : "pushed"} by ${push.actor ?? "unknown"} at ${push.at} (head ${shortSha(push.headSha)})`,
    );
    return `after ${outdated.reviewer}'s approval the branch was ${pushes.join(", then ")}`;
  }
  if (later.commits.length > 0) {
    const commits = later.commits.map(
      (commit) =>
        `${shortSha(commit.sha)} by ${commit.authorLogin ?? commit.authorName} at ${commit.committedAt}`,
    );
    return `commits after ${outdated.reviewer}'s approval: ${commits.join(", ")}`;
  }
  const approved = outdated.commitSha ? shortSha(outdated.commitSha) : "an earlier commit";
  return `${outdated.reviewer} approved ${approved}, not the final head ${shortSha(changeRequest.headSha)}`;
}

function pushEvidence(push: Push): Evidence {
  return {
    label: push.forced ? "force push after the approval" : "push after the approval",
    value: `${push.actor ?? "unknown"} pushed head ${push.headSha}`,
    at: push.at,
  };
}

function names(reviews: readonly Review[]): string {
  return reviews.map((review) => review.reviewer).join(", ");
}
