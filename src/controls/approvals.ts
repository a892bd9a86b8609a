import type { ChangeRequest, Review } from "../model/index.js";
import { changeRequestSubject } from "./subjects.js";
import type { ChangeRequestSubject, ControlContext, Evaluation, Evidence, PeopleDirectory } from "./types.js";

/**
 * Who counts as an independent approver of a change request. Shared by cc8.independent-approval
 * and cc8.approval-covers-final-code so both controls always agree on the same people.
 *
 * Identities are compared as people, not logins: every login and e-mail goes through the policy's
 * people directory first, so a second account of the author, or a commit e-mail the policy names,
 * is the same person.
 */

/**
 * Committer logins of GitHub's web UI (merges of the base into the branch, suggestions applied in the
 * browser). They are the code host, not a person: the commit's author is still counted.
 */
const HOST_COMMITTERS = new Set(["web-flow", "github"]);

/** GitHub shows the reviews of a deleted account as by "ghost": nobody can be held to them. */
const DELETED_ACCOUNT = "ghost";

export interface IndependenceOptions {
  /** Commit authors, co-authors, committers and pushers of the change request are not independent. */
  excludeCommitters: boolean;
  people: PeopleDirectory;
}

export interface ExcludedApproval {
  review: Review;
  /** Why the approval does not count, e.g. ["authored commits", "pushed to the branch"]. */
  because: string[];
}

/** Evidence that is missing or partial, so an approval cannot be confirmed as independent. */
export interface EvidenceGap {
  /** Half a sentence for the reason, e.g. "the host listed only part of the commits". */
  reason: string;
  evidence: Evidence;
}

export interface ApprovalAnalysis {
  /** The standing approval of each person who is independent of the change, oldest first. */
  independent: Review[];
  /**
   * Standing approvals that do not count: by people involved in the change (the author, commit
   * authors and co-authors, committers, pushers), by bots, by deleted accounts, or by someone who
   * could not push to the repository.
   */
  excluded: ExcludedApproval[];
  /**
   * Standing approvals that would count if the host had said more: whether the reviewer could push
   * to the repository, or what kind of account they are. Never counted as independent.
   */
  unconfirmed: ExcludedApproval[];
  /** Approvals withdrawn by a later review of the same person (changes requested, dismissed). */
  withdrawn: { approval: Review; by: Review }[];
  /** Approvals submitted after the merge: they did not authorize it. */
  afterMerge: Review[];
  /**
   * Why the independent approvals cannot be confirmed: truncated connections, commits by people
   * the host links to no account. Empty when the evidence is complete.
   */
  gaps: EvidenceGap[];
}

export function analyzeApprovals(
  changeRequest: ChangeRequest,
  options: IndependenceOptions,
): ApprovalAnalysis {
  const { people } = options;
  const mergedAt =
    changeRequest.state === "merged" && changeRequest.mergedAt ? time(changeRequest.mergedAt) : null;
  const afterMerge: Review[] = [];
  // Reviews are grouped by person: two accounts of one person are one approval, and a request for
  // changes from either account withdraws it.
  const byPerson = new Map<string, Review[]>();
  for (const review of sortedReviews(changeRequest.reviews)) {
    if (review.state === "pending") continue; // a draft review nobody submitted
    if (mergedAt !== null && time(review.submittedAt) > mergedAt) {
      if (review.state === "approved") afterMerge.push(review);
      continue;
    }
    const key = personKey(people, review.reviewer);
    byPerson.set(key, [...(byPerson.get(key) ?? []), review]);
  }

  const { involvement, gaps } = involvementOf(changeRequest, options);
  const independent: Review[] = [];
  const excluded: ExcludedApproval[] = [];
  const unconfirmed: ExcludedApproval[] = [];
  const withdrawn: ApprovalAnalysis["withdrawn"] = [];
  for (const [key, reviews] of byPerson) {
    // A comment after an approval leaves it standing; only a new verdict replaces it.
    const verdicts = reviews.filter((review) => review.state !== "commented");
    const latest = verdicts.at(-1);
    if (!latest) continue;
    if (latest.state !== "approved") {
      const approval = verdicts.findLast((review) => review.state === "approved");
      if (approval) withdrawn.push({ approval, by: latest });
      continue;
    }
    const because = [
      ...accountReasons(latest),
      ...(involvement.get(key) ?? []).map((entry) => describeInvolvement(entry, latest.reviewer)),
    ];
    if (because.length > 0) {
      excluded.push({ review: latest, because });
      continue;
    }
    const doubts = doubtsAbout(latest);
    if (doubts.length > 0) unconfirmed.push({ review: latest, because: doubts });
    else independent.push(latest);
  }

  const byTime = (a: ExcludedApproval, b: ExcludedApproval) =>
    time(a.review.submittedAt) - time(b.review.submittedAt);
  return {
    independent: sortedReviews(independent),
    excluded: excluded.sort(byTime),
    unconfirmed: unconfirmed.sort(byTime),
    withdrawn,
    afterMerge,
    gaps,
  };
}

/** "alice approved their own change request", "bob approved but authored commits and pushed to the branch". */
export function describeExclusion(excludedApproval: ExcludedApproval): string {
  const { review, because } = excludedApproval;
  const own = because.find((reason) => reason.startsWith("is the author"));
  if (own !== undefined) {
    const as = own.slice("is the author".length);
    return `${review.reviewer} approved their own change request${as}`;
  }
  return `${review.reviewer} approved but ${joinWords(because)}`;
}

/** "carol's approval cannot be confirmed: the host did not say whether carol could push to the repository". */
export function describeUnconfirmed(entry: ExcludedApproval): string {
  return `${entry.review.reviewer}'s approval cannot be confirmed: ${joinWords(entry.because)}`;
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

/** Evidence lines for approvals that do not count or cannot be confirmed, with why. */
export function notCountedEvidence(analysis: ApprovalAnalysis): Evidence[] {
  return [
    ...analysis.excluded.map((entry) => ({
      ...approvalEvidence(entry.review, "approval not counted"),
      value: `${describeExclusion(entry)} (commit ${entry.review.commitSha ?? "not recorded"})`,
    })),
    ...analysis.unconfirmed.map((entry) => ({
      ...approvalEvidence(entry.review, "approval not confirmed"),
      value: `${describeUnconfirmed(entry)} (commit ${entry.review.commitSha ?? "not recorded"})`,
    })),
  ];
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

export function joinWords(words: readonly string[]): string {
  if (words.length <= 1) return words.join("");
  return `${words.slice(0, -1).join(", ")} and ${words.at(-1)}`;
}

/** Whether a login is a bot account by its name: GitHub Apps act as "<app>[bot]". */
export function isBotLogin(name: string): boolean {
  return login(name).endsWith("[bot]");
}

function personKey(people: PeopleDirectory, account: string): string {
  return people.personOf({ login: account }) ?? `login:${login(account)}`;
}

/** Why an approval can never count, whoever gave it: a bot, a deleted account, a drive-by. */
function accountReasons(review: Review): string[] {
  const reasons: string[] = [];
  if (review.reviewerKind === "bot" || isBotLogin(review.reviewer)) reasons.push("is a bot");
  if (login(review.reviewer) === DELETED_ACCOUNT) reasons.push("is a deleted account (ghost)");
  if (review.authorCanPush === false) reasons.push("could not push to the repository (drive-by approval)");
  return reasons;
}

/** What the host did not say about an otherwise independent approver. */
function doubtsAbout(review: Review): string[] {
  const doubts: string[] = [];
  if (review.reviewerKind !== "user")
    doubts.push(`the host did not say what kind of account ${review.reviewer} is`);
  if (review.authorCanPush === null)
    doubts.push(`the host did not say whether ${review.reviewer} could push to the repository`);
  return doubts;
}

interface Involvement {
  /** What they did: "is the author", "authored commits", … */
  what: string;
  /** The account or e-mail they did it as. */
  as: string;
}

/** "authored commits", or "authored commits (as alice@acme.com)" when done under another identity. */
function describeInvolvement(entry: Involvement, reviewer: string): string {
  return entry.as.toLowerCase() === login(reviewer) ? entry.what : `${entry.what} (as ${entry.as})`;
}

/**
 * For each person involved in writing the change (person key -> what they did), and the gaps that
 * keep us from knowing everyone involved.
 */
function involvementOf(
  changeRequest: ChangeRequest,
  options: IndependenceOptions,
): { involvement: Map<string, Involvement[]>; gaps: EvidenceGap[] } {
  const { people } = options;
  const involvement = new Map<string, Involvement[]>();
  const gaps: EvidenceGap[] = [];
  const add = (identity: { login: string | null; email: string | null }, what: string) => {
    // The identity's own key and the keys of its login and e-mail alone: if the policy names either,
    // that person is involved.
    const keys = new Set(
      [
        people.personOf(identity),
        identity.login ? people.personOf({ login: identity.login }) : null,
        identity.email ? people.personOf({ email: identity.email }) : null,
      ].filter((key): key is string => key !== null),
    );
    const as = identity.login ?? identity.email;
    if (as === null) return;
    for (const key of keys) {
      const entries = involvement.get(key) ?? [];
      if (!entries.some((entry) => entry.what === what && entry.as === as))
        involvement.set(key, [...entries, { what, as }]);
    }
  };
  /**
   * A person the host links to no account and the people directory cannot name from the e-mail
   * either (a person of the policy, or an account by the host's no-reply address): nobody knows
   * who they are. A bot without an account is still a bot.
   */
  const unattributed = (identity: { login: string | null; email: string | null; kind: string }) => {
    if (identity.login !== null || identity.kind === "bot") return false;
    const key = identity.email === null ? null : people.personOf({ email: identity.email });
    return key === null || key.startsWith("email:");
  };

  add({ login: changeRequest.author, email: null }, "is the author");
  if (changeRequest.truncated.includes("reviews")) {
    gaps.push({
      reason: "the host returned only part of the reviews, so a later review may have withdrawn an approval",
      evidence: { label: "reviews", value: `${changeRequest.reviews.length} listed (truncated by the host)` },
    });
  }
  if (!options.excludeCommitters) return { involvement, gaps };

  for (const commit of changeRequest.commits) {
    add({ login: commit.authorLogin, email: commit.authorEmail }, "authored commits");
    if (unattributed({ login: commit.authorLogin, email: commit.authorEmail, kind: commit.authorKind })) {
      gaps.push({
        reason: `commit ${commit.sha} was authored by ${commit.authorName} <${commit.authorEmail ?? "no e-mail recorded"}>, whom the host links to no account and the policy's people do not name`,
        evidence: {
          label: "unattributed commit",
          value: `${commit.sha} authored by ${commit.authorName} <${commit.authorEmail ?? "no e-mail recorded"}>`,
          at: commit.authoredAt,
        },
      });
    }
    for (const coAuthor of commit.coAuthors) {
      add({ login: coAuthor.login, email: coAuthor.email }, "co-authored commits");
      if (unattributed(coAuthor)) {
        gaps.push({
          reason: `commit ${commit.sha} credits co-author ${coAuthor.name} <${coAuthor.email ?? "no e-mail recorded"}>, whom the host links to no account and the policy's people do not name`,
          evidence: {
            label: "unattributed co-author",
            value: `${commit.sha} co-authored by ${coAuthor.name} <${coAuthor.email ?? "no e-mail recorded"}> (${coAuthor.source})`,
          },
        });
      }
    }
    if (commit.committerLogin === null) {
      if (commit.committerKind !== "bot") {
        gaps.push({
          reason: `the committer of commit ${commit.sha} is linked to no account`,
          evidence: {
            label: "unattributed committer",
            value: `${commit.sha} committed by an unlinked account`,
          },
        });
      }
    } else if (!HOST_COMMITTERS.has(login(commit.committerLogin))) {
      add({ login: commit.committerLogin, email: null }, "committed commits");
    }
  }
  for (const push of changeRequest.pushes) {
    if (push.actor === null) {
      gaps.push({
        reason: `the host did not say who pushed head ${shortSha(push.headSha)} at ${push.at}`,
        evidence: {
          label: "unattributed push",
          value: `head ${push.headSha} pushed by an account the host did not name`,
          at: push.at,
        },
      });
    } else add({ login: push.actor, email: null }, "pushed to the branch");
  }

  if (changeRequest.commitsTruncated) {
    gaps.push({
      reason: `the host listed only ${plural(changeRequest.commits.length, "commit")} of the change, so an approver may have authored or committed one it did not list`,
      evidence: { label: "commits listed", value: `${changeRequest.commits.length} (truncated by the host)` },
    });
  }
  if (changeRequest.truncated.includes("co-authors")) {
    gaps.push({
      reason:
        "the host returned only part of the commits' co-authors, so an approver may be a co-author it did not list",
      evidence: { label: "co-authors", value: "truncated by the host" },
    });
  }
  if (changeRequest.truncated.includes("pushes")) {
    gaps.push({
      reason: "the host returned only part of the pushes, so an approver may have pushed to the branch",
      evidence: { label: "pushes", value: `${changeRequest.pushes.length} listed (truncated by the host)` },
    });
  }
  return { involvement, gaps };
}

function sortedReviews(reviews: readonly Review[]): Review[] {
  // Array.prototype.sort is stable: reviews at the same second keep the host's order.
  return [...reviews].sort((a, b) => time(a.submittedAt) - time(b.submittedAt));
}
