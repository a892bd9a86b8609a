import { z } from "zod";
import type { ChangeRequest, Push, Review } from "../model/index.js";
import {
  analyzeApprovals,
  approvalEvidence,
  changeRequestNotApplicable,
  describeUnconfirmed,
  joinWords,
  notCountedEvidence,
  plural,
  shortSha,
  time,
} from "./approvals.js";
import { changeRequestSubject } from "./subjects.js";
import { defineControl, type Evaluation, type Evidence } from "./types.js";

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
  evidence:
    "The commit each independent approval was given on (or, where the host does not record it, the approval time against the host's record of pushes), the final head, and the same people as cc8.independent-approval.",
  unknownWhen:
    "The host recorded neither the approved commit nor the push times, an approval cannot be confirmed (write access or account kind not said), or independence cannot be confirmed (truncated reviews, commits, co-authors or pushes; commits linked to nobody).",
  evaluate(facts, context) {
    const notApplicable = changeRequestNotApplicable(facts, context);
    if (notApplicable) return [notApplicable];
    const { changeRequest } = facts;
    const { min_approvals: minApprovals, allow_pushes_after_approval: allowPushes } = context.params;
    const subject = changeRequestSubject(changeRequest);
    // Same people as cc8.independent-approval with its default: authors, committers and pushers excluded.
    const analysis = analyzeApprovals(changeRequest, { excludeCommitters: true, people: context.people });
    const candidates = [...analysis.independent, ...analysis.unconfirmed.map((entry) => entry.review)];
    if (candidates.length === 0) {
      return [
        {
          subject,
          outcome: "not-applicable",
          reason: "No independent approval; see cc8.independent-approval.",
          evidence: notCountedEvidence(analysis),
        },
      ];
    }

    const lastPushAt = lastPushTime(changeRequest);
    const confirmed = new Set(analysis.independent);
    const judged = sortedByTime(candidates).map((review) => ({
      review,
      confirmed: confirmed.has(review),
      coverage: coverageOf(review, changeRequest, lastPushAt),
    }));
    const covering = judged
      .filter((entry) => entry.confirmed && entry.coverage === "covers")
      .map((entry) => entry.review);
    const maybeCovering = judged
      .filter((entry) => !entry.confirmed || entry.coverage === "undetermined")
      .filter((entry) => entry.coverage !== "stale")
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
          coverage === "covers"
            ? "approval of the final code"
            : coverage === "stale"
              ? "approval of earlier code"
              : "approval of undetermined code",
        ),
      ),
      ...notCountedEvidence(analysis),
      ...later.pushes.map(pushEvidence),
      ...later.commits.map((commit) => ({
        label: "commit after the approval",
        value: `${commit.sha} by ${commit.authorLogin ?? commit.authorName}`,
        at: commit.committedAt,
      })),
    ];
    const gaps = analysis.gaps;
    const unconfirmedGaps = (): Evaluation => ({
      subject,
      outcome: "unknown",
      reason: `Cannot confirm that ${names(covering.length > 0 ? covering : analysis.independent)} ${
        (covering.length > 0 ? covering : analysis.independent).length === 1 ? "is" : "are"
      } independent of the change: ${joinWords(gaps.map((gap) => gap.reason))}.`,
      evidence: [...evidence, ...gaps.map((gap) => gap.evidence)],
    });

    if (covering.length >= minApprovals) {
      if (gaps.length > 0) return [unconfirmedGaps()];
      return [
        {
          subject,
          outcome: "pass",
          reason: `Approved on the final code (${shortSha(changeRequest.headSha)}) by ${names(covering)}.`,
          evidence,
        },
      ];
    }
    if (covering.length + maybeCovering.length >= minApprovals) {
      const doubts = maybeCovering.map((review) => {
        const entry = analysis.unconfirmed.find((item) => item.review === review);
        if (entry) return describeUnconfirmed(entry);
        return `the host recorded neither the commit ${review.reviewer} approved nor the time of every push, so whether it covers the final code is unknown`;
      });
      return [
        {
          subject,
          outcome: "unknown",
          reason: `Cannot tell whether enough independent approvals cover the final code: ${doubts.join("; ")}.`,
          evidence: [...evidence, ...gaps.map((gap) => gap.evidence)],
        },
      ];
    }

    const afterApproval = outdated
      ? describeChanges(later, changeRequest, outdated)
      : "no approval of the final code";
    if (allowPushes && analysis.independent.length >= minApprovals) {
      if (gaps.length > 0) return [unconfirmedGaps()];
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
 * The time of the last push, from the host's own record of pushes. Commit times are set by the
 * author's machine (a commit dated before the approval can be pushed after it), so they never stand
 * in for it: without a complete push record the time is unknown.
 */
function lastPushTime(changeRequest: ChangeRequest): number | null {
  if (changeRequest.truncated.includes("pushes")) return null;
  const pushTimes = changeRequest.pushes.map((push) => time(push.at));
  return pushTimes.length > 0 ? Math.max(...pushTimes) : null;
}

function sortedByTime(reviews: readonly Review[]): Review[] {
  return [...reviews].sort((a, b) => time(a.submittedAt) - time(b.submittedAt));
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
