/**
 * access-reviews.csv: every access review the audit found (CC6.2, CC6.3), one row per decision of
 * each review: who reviewed, when, whether on time, what was decided for each grant and, for a
 * revoked grant, whether the access is gone. A review whose file gives no decisions (missing, or
 * edited into an invalid shape) gets one row saying why, and an audit that could not read reviews
 * one row saying so: an empty file would read as "no review was ever done".
 *
 * Built from what the snapshot holds (the review pull requests as the host showed them), the policy
 * the audit evaluated (the sign-off rule's deadline, the grace period, the people map) and the
 * cc6.revocations-applied results: a revocation shows as removed only when its result passed.
 * The same evidence feeds report.html's section and the ledger's access-review records.
 */
import {
  accessReviewSettings as accessReviewSettingsOf,
  REVOCATION_CONTROL,
  signOffOf,
  type AccessReviewParams,
  type ReviewDecision,
  type RevocationParams,
  type SignOff,
} from "../../access-review/index.js";
import type { Outcome, PeopleDirectory, Result } from "../../controls/types.js";

export { ACCESS_REVIEW_CONTROL, REVOCATION_CONTROL } from "../../access-review/index.js";
import type { AccessReviewRecord, PolicyFile, Snapshot } from "../../model/index.js";
import { policySetFor } from "../../pipeline/policies.js";
import { peopleDirectory } from "../../policy/people.js";
import { csvRow } from "../../text/escape.js";

export const ACCESS_REVIEWS_CSV = "access-reviews.csv";

export const ACCESS_REVIEWS_CSV_HEADER = [
  "review",
  "owner",
  "pull_request",
  "reviewers",
  "decided_at",
  "due_at",
  "on_time",
  "grant",
  "account",
  "person",
  "kind",
  "repositories",
  "role",
  "decision",
  "reason",
  "verify_after",
  "verification",
  "verified_at",
] as const;

const DAY_MS = 24 * 60 * 60 * 1000;

/** What judging a review needs from the organization's policy. */
export interface AccessReviewSettings {
  review: AccessReviewParams;
  revocation: RevocationParams;
  people: PeopleDirectory;
}

/** One decision of a review, and for a revoked grant what the audit found of it. */
export interface ReviewGrantEvidence {
  decision: ReviewDecision;
  /** Merge time plus the grace period: when the revocation is checked (revoked grants of a merged review). */
  verifyAfter: string | null;
  /** "removed", "still present", "pending until …", "unknown: …"; "" for a kept grant. */
  verification: string;
  /** When the access was seen gone (the collection time of the audit whose result passed). */
  verifiedAt: string | null;
  /** The cc6.revocations-applied result's outcome; null when there is none (kept, or not judged). */
  outcome: Outcome | null;
}

export interface ReviewEvidence {
  record: AccessReviewRecord;
  signOff: SignOff;
  grants: ReviewGrantEvidence[];
  /** Why the review gives no decisions (no file, an invalid file); null when it does. */
  noDecisions: string | null;
}

/** The access reviews of an audit: each with its evidence, or why there are none to show. */
export type AccessReviewEvidence =
  { collected: true; reviews: ReviewEvidence[] } | { collected: false; why: string };

/** The organization policy's access-review settings, from the policy files the audit evaluated. */
export function accessReviewSettings(
  policyFiles: readonly PolicyFile[],
  host: "github" | "gitlab",
): AccessReviewSettings {
  // repository layers cannot set organization controls; a broken one must not hide the reviews
  const policy = policySetFor({
    policyFiles: policyFiles.filter((file) => file.layer !== "repository"),
  }).organization;
  const { review, revocation } = accessReviewSettingsOf(policy);
  return { review, revocation, people: peopleDirectory(policy.people, host) };
}

/** The subject id of a revoked grant's cc6.revocations-applied result. */
export function revocationSubjectId(cycle: string, owner: string, grant: string): string {
  return `revocation:${cycle}:${owner}:${grant}`;
}

/** The decisions of a review's file at its head (as the sign-off read it), or why it gives none. */
export function reviewDecisions(signOff: Pick<SignOff, "review" | "problems">): {
  decisions: ReviewDecision[];
  noDecisions: string | null;
} {
  if (signOff.review) return { decisions: signOff.review.decisions, noDecisions: null };
  // every problem, each with its place: the reviewer fixes them all at once
  const problems = signOff.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`);
  return {
    decisions: [],
    noDecisions: `the review file gives no decisions: ${problems.join("; ") || "it cannot be read"}`,
  };
}

/** When a revoked grant of a merged review is checked again: the merge plus the grace period. */
export function verifyAfterOf(record: AccessReviewRecord, graceDays: number): string | null {
  if (record.state !== "merged" || !record.mergedAt) return null;
  return new Date(Date.parse(record.mergedAt) + graceDays * DAY_MS).toISOString();
}

/**
 * What a revoked grant's cc6.revocations-applied result says of it. Only a pass is "removed": no
 * result, or any other outcome, never reads as a revocation carried out.
 */
export function verificationOf(
  result: Pick<Result, "outcome" | "reason" | "exception"> | undefined,
  context: { merged: boolean; signedOff: boolean; verifyAfter: string | null; collectedAt: string },
): { verification: string; verifiedAt: string | null } {
  if (!result) {
    return {
      verification: !context.merged
        ? "not decided: the review is not merged"
        : !context.signedOff
          ? "not decided: the merge is not a sign-off"
          : `not judged: no ${REVOCATION_CONTROL} result for this grant (is the control enabled?)`,
      verifiedAt: null,
    };
  }
  switch (result.outcome) {
    case "pass":
      return { verification: "removed", verifiedAt: context.collectedAt };
    case "fail":
      return { verification: `still present: ${result.reason}`, verifiedAt: null };
    case "excepted":
      return {
        verification: `still present, excepted: ${result.exception?.reason ?? result.reason}`,
        verifiedAt: null,
      };
    case "unknown":
      return { verification: `unknown: ${result.reason}`, verifiedAt: null };
    case "not-applicable":
      return {
        verification:
          context.verifyAfter && Date.parse(context.collectedAt) < Date.parse(context.verifyAfter)
            ? `pending until ${context.verifyAfter}`
            : `not applicable: ${result.reason}`,
        verifiedAt: null,
      };
  }
}

/**
 * The evidence of every review in the snapshot. `results` are the audit's results (any of them; the
 * cc6.revocations-applied ones are used), `settings` the policy's, or a function building them (not
 * called when the snapshot holds no reviews).
 */
export function accessReviewEvidence(input: {
  snapshot: Pick<Snapshot, "accessReviews" | "collectedAt">;
  settings: AccessReviewSettings | (() => AccessReviewSettings);
  results: Iterable<Result>;
}): AccessReviewEvidence {
  const reviews = input.snapshot.accessReviews;
  if (!reviews) {
    return {
      collected: false,
      why: "this audit did not collect access reviews: the policy turns neither cc6.access-review-completed nor cc6.revocations-applied on (or the snapshot predates access reviews)",
    };
  }
  if (!reviews.known) {
    return {
      collected: false,
      why: `access reviews could not be read (${reviews.permission}): ${reviews.reason}`,
    };
  }
  if (reviews.value.length === 0) return { collected: true, reviews: [] };
  let settings: AccessReviewSettings;
  try {
    settings = typeof input.settings === "function" ? input.settings() : input.settings;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { collected: false, why: `the policy's access-review settings could not be read: ${message}` };
  }
  const revocations = new Map<string, Result>();
  for (const result of input.results) {
    if (result.control === REVOCATION_CONTROL) revocations.set(result.subject.id, result);
  }
  const sorted = [...reviews.value].sort(
    (a, b) => compareText(a.cycle, b.cycle) || compareText(a.owner, b.owner) || a.number - b.number,
  );
  return {
    collected: true,
    reviews: sorted.map((record) => {
      const signOff = signOffOf(record, settings.review, settings.people);
      const { decisions, noDecisions } = reviewDecisions(signOff);
      // a revoke in a merge that is no sign-off decides nothing, so nothing is checked after it
      const verifyAfter = signOff.signedOff ? verifyAfterOf(record, settings.revocation.grace_days) : null;
      const grants = decisions.map((decision): ReviewGrantEvidence => {
        if (decision.decision === "keep") {
          return { decision, verifyAfter: null, verification: "", verifiedAt: null, outcome: null };
        }
        const result = revocations.get(revocationSubjectId(record.cycle, record.owner, decision.id));
        return {
          decision,
          verifyAfter,
          ...verificationOf(result, {
            merged: record.state === "merged",
            signedOff: signOff.signedOff,
            verifyAfter,
            collectedAt: input.snapshot.collectedAt,
          }),
          outcome: result?.outcome ?? null,
        };
      });
      return { record, signOff, grants, noDecisions };
    }),
  };
}

/**
 * The access reviews of a snapshot, judged by the policy it was evaluated against (its policy files)
 * and the revocations' results: what access-reviews.csv, report.html and the ledger show.
 */
export function accessReviewEvidenceOf(
  snapshot: Pick<Snapshot, "accessReviews" | "collectedAt" | "collector"> & {
    policyFiles: readonly PolicyFile[];
  },
  results: Iterable<Result>,
): AccessReviewEvidence {
  return accessReviewEvidence({
    snapshot,
    settings: () => accessReviewSettings(snapshot.policyFiles, snapshot.collector.host),
    results,
  });
}

/** "yes" / "no" for a signed-off review; for a merge that is no sign-off, or a review not decided, that. */
export function onTimeText(
  signOff: Pick<SignOff, "decidedAt" | "onTime" | "signedOff">,
  record: Pick<AccessReviewRecord, "state">,
): string {
  if (signOff.decidedAt && signOff.signedOff) return signOff.onTime ? "yes" : "no";
  return record.state === "merged" ? "no sign-off" : `not decided (${record.state})`;
}

/** access-reviews.csv, row by row, header first. */
export function* accessReviewsCsvRows(evidence: AccessReviewEvidence): Generator<string> {
  yield csvRow(ACCESS_REVIEWS_CSV_HEADER);
  if (!evidence.collected) {
    yield csvRow(row({ decision: "not collected", reason: evidence.why }));
    return;
  }
  if (evidence.reviews.length === 0) {
    yield csvRow(row({ decision: "none", reason: "no access review was found in the findings repository" }));
    return;
  }
  for (const review of evidence.reviews) {
    const { record, signOff } = review;
    const head = {
      review: record.cycle,
      owner: record.owner,
      pull_request: record.url,
      reviewers: signOff.reviewers.join(" "),
      decided_at: signOff.decidedAt ?? "",
      due_at: signOff.dueAt,
      on_time: onTimeText(signOff, record),
    };
    if (review.noDecisions !== null || review.grants.length === 0) {
      yield csvRow(
        row({
          ...head,
          decision: "no decisions",
          reason: review.noDecisions ?? "the review file lists no grant",
        }),
      );
      continue;
    }
    for (const grant of review.grants) {
      const d = grant.decision;
      yield csvRow(
        row({
          ...head,
          grant: d.id,
          account: d.account,
          person: d.person,
          kind: d.kind,
          repositories: d.repositories.join(" "),
          role: d.role,
          decision: d.decision,
          reason: d.reason,
          verify_after: grant.verifyAfter ?? "",
          verification: grant.verification,
          verified_at: grant.verifiedAt ?? "",
        }),
      );
    }
  }
}

type Column = (typeof ACCESS_REVIEWS_CSV_HEADER)[number];

function row(cells: Partial<Record<Column, string>>): string[] {
  return ACCESS_REVIEWS_CSV_HEADER.map((column) => cells[column] ?? "");
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
