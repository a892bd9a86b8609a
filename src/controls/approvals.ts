import type { ChangeRequest, Review } from "../model/index.js";
import { changeRequestSubject } from "./subjects.js";
import type { ChangeRequestSubject, ControlContext, Evaluation, Evidence } from "./types.js";

/**
 * Who counts as an independent approver of a change request. Shared by cc8.independent-approval
 * and cc8.approval-covers-final-code so both controls always agree on the same people.
 */

/**
 * Committer logins of GitHub's web UI (merges of the base into the branch, suggestions applied in the
 * browser). They are the code host, not a person: the commit's author is still counted.
 */
const HOST_COMMITTERS = new Set(["web-flow", "github"]);

export interface IndependenceOptions {
  /** Commit authors, committers and pushers of the change request do not count as independent. */
  excludeCommitters: boolean;
}

export interface ExcludedApproval {
  review: Review;
  /** Why the approval does not count, e.g. ["authored commits", "pushed to the branch"]. */
  because: string[];
}

export interface ApprovalAnalysis {
  /** The standing approval of each reviewer who is independent of the change, oldest first. */
  independent: Review[];
  /** Standing approvals by people who are not independent (the author, committers, pushers). */
  excluded: ExcludedApproval[];
  /** Approvals withdrawn by a later review of the same reviewer (changes requested, dismissed). */
  withdrawn: { approval: Review; by: Review }[];
  /** Approvals submitted after the merge: they did not authorize it. */
  afterMerge: Review[];
  /**
   * True when the commit list is truncated and committers are excluded: an independent approver
   * may have authored one of the commits we could not see.
   */
  independenceUnconfirmed: boolean;
}

export function analyzeApprovals(
  changeRequest: ChangeRequest,
  options: IndependenceOptions,
): ApprovalAnalysis {
  const mergedAt =
    changeRequest.state === "merged" && changeRequest.mergedAt ? time(changeRequest.mergedAt) : null;
  const afterMerge: Review[] = [];
  const byReviewer = new Map<string, Review[]>();
  for (const review of sortedReviews(changeRequest.reviews)) {
    if (review.state === "pending") continue; // a draft review nobody submitted
    if (mergedAt !== null && time(review.submittedAt) > mergedAt) {
      if (review.state === "approved") afterMerge.push(review);
      continue;
    }
    const key = login(review.reviewer);
    byReviewer.set(key, [...(byReviewer.get(key) ?? []), review]);
  }

  const involvement = involvementOf(changeRequest, options);
  const independent: Review[] = [];
  const excluded: ExcludedApproval[] = [];
  const withdrawn: ApprovalAnalysis["withdrawn"] = [];
  for (const reviews of byReviewer.values()) {
    // A comment after an approval leaves it standing; only a new verdict replaces it.
    const verdicts = reviews.filter((review) => review.state !== "commented");
    const latest = verdicts.at(-1);
    if (!latest) continue;
    if (latest.state !== "approved") {
      const approval = verdicts.findLast((review) => review.state === "approved");
      if (approval) withdrawn.push({ approval, by: latest });
      continue;
    }
    const because = involvement.get(login(latest.reviewer)) ?? [];
    if (because.length > 0) excluded.push({ review: latest, because });
    else independent.push(latest);
  }

  return {
    independent: sortedReviews(independent),
    excluded: excluded.sort((a, b) => time(a.review.submittedAt) - time(b.review.submittedAt)),
    withdrawn,
    afterMerge,
    independenceUnconfirmed: options.excludeCommitters && changeRequest.commitsTruncated,
  };
}

/** "alice approved their own change request", "bob approved but authored commits and pushed to the branch". */
export function describeExclusion(excludedApproval: ExcludedApproval): string {
  const { review, because } = excludedApproval;
  if (because.includes("is the author")) return `${review.reviewer} approved their own change request`;
  return `${review.reviewer} approved but ${joinWords(because)}`;
}

export function describeWithdrawal(entry: { approval: Review; by: Review }): string {
  const how = entry.by.state === "dismissed" ? "was dismissed" : "was followed by a request for changes";
  return `${entry.approval.reviewer}'s approval ${how}`;
}

/** One evidence line per approval: who, when, on which commit. */
export function approvalEvidence(review: Review, label = "approval"): Evidence {
  return {
    label,
    value: `${review.reviewer} on commit ${review.commitSha ?? "(not recorded by the host)"}`,
    at: review.submittedAt,
  };
}

/**
 * Why a change-request control does not apply: the change request was closed without merging, or
 * its base branch is not a production branch. Undefined when the control applies.
 */
export function changeRequestNotApplicable(
  facts: ChangeRequestSubject,
  context: Pick<ControlContext<unknown>, "isProductionBranch">,
): Evaluation | undefined {
  const { changeRequest, repository } = facts;
  const subject = changeRequestSubject(changeRequest);
  if (changeRequest.state === "closed") {
    return { subject, outcome: "not-applicable", reason: "Closed without merging.", evidence: [] };
  }
  if (!context.isProductionBranch(repository, changeRequest.repository, changeRequest.baseBranch)) {
    return {
      subject,
      outcome: "not-applicable",
      reason: `The base branch ${changeRequest.baseBranch} is not a production branch.`,
      evidence: [{ label: "base branch", value: changeRequest.baseBranch }],
    };
  }
  return undefined;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}

export function time(iso: string): number {
  return Date.parse(iso);
}

/** Logins compare case-insensitively, as both code hosts treat them. */
export function login(name: string): string {
  return name.toLowerCase();
}

/** For each person involved in writing the change, what they did (lower-case login -> reasons). */
function involvementOf(changeRequest: ChangeRequest, options: IndependenceOptions): Map<string, string[]> {
  const involvement = new Map<string, string[]>();
  const add = (who: string | null, what: string) => {
    if (!who) return;
    const key = login(who);
    const reasons = involvement.get(key) ?? [];
    if (!reasons.includes(what)) involvement.set(key, [...reasons, what]);
  };
  add(changeRequest.author, "is the author");
  if (!options.excludeCommitters) return involvement;
  for (const commit of changeRequest.commits) {
    add(commit.authorLogin, "authored commits");
    if (commit.committerLogin && !HOST_COMMITTERS.has(login(commit.committerLogin))) {
      add(commit.committerLogin, "committed commits");
    }
  }
  for (const push of changeRequest.pushes) add(push.actor, "pushed to the branch");
  return involvement;
}

function sortedReviews(reviews: readonly Review[]): Review[] {
  // Array.prototype.sort is stable: reviews at the same second keep the host's order.
  return [...reviews].sort((a, b) => time(a.submittedAt) - time(b.submittedAt));
}

function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}
