/**
 * Access reviews in the ledger (CC6.2, CC6.3): each review as the audits saw it, and each check of a
 * revoked grant. One hash-chained stream per review ("access-review:github/acme/2026-Q4/platform"):
 * an "access-review" record whenever what the host shows of the review changes (opened, decisions
 * pushed, approved, merged, closed), holding the file at its head, the decisions and the sign-off as
 * judged; and a "revocation-verification" record whenever a revoked grant's cc6.revocations-applied
 * outcome changes (pending, still present, removed, unknown). Daily audits of a merged review append
 * nothing: the same review is recorded once, each verification once per outcome it passes through,
 * so the stream reads as the review's history with the audit that first saw each step.
 *
 * `soc2-bot export` writes them for a period as access-reviews.csv (each decision of the period's
 * reviews, with its latest verification and the records it comes from) and access-reviews.json
 * (every record of those reviews, with its place in the chain).
 */
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SignOff } from "../access-review/index.js";
import type { Outcome, Result } from "../controls/types.js";
import type { AccessReviewRecord, PolicyFile, Snapshot } from "../model/index.js";
import {
  ACCESS_REVIEWS_CSV_HEADER,
  REVOCATION_CONTROL,
  accessReviewSettings,
  onTimeText,
  reviewDecisions,
  revocationSubjectId,
  verificationOf,
  verifyAfterOf,
} from "../reporters/files/access-reviews-csv.js";
import { parseCycle, signOffOf } from "../access-review/index.js";
import { sha256File } from "../reporters/files/manifest.js";
import { stableJson } from "../reporters/files/results-json.js";
import { csvRow } from "../text/escape.js";
import { canonicalJson, readStream, type ChainedRecord } from "./chain.js";
import type { Database } from "./database.js";
import type { RecordedEntry } from "./ledger.js";

export const ACCESS_REVIEW = "access-review";
export const REVOCATION_VERIFICATION = "revocation-verification";

export const ACCESS_REVIEW_FILES = ["access-reviews.csv", "access-reviews.json"] as const;

export function accessReviewStream(host: string, organization: string, cycle: string, owner: string): string {
  return `access-review:${host}/${organization}/${cycle}/${owner}`;
}

/** One decision of a review file, as recorded. */
export interface RecordedDecision {
  grant: string;
  account: string;
  person: string;
  kind: string;
  repositories: string[];
  role: string;
  decision: "keep" | "revoke";
  reason: string;
  line: number;
}

/** A review as the host showed it, with its sign-off as judged: one record per change. */
export interface AccessReviewContent {
  host: string;
  organization: string;
  cycle: string;
  owner: string;
  repository: string;
  number: number;
  url: string;
  branch: string;
  openedBy: string;
  openedAt: string;
  state: AccessReviewRecord["state"];
  mergedAt: string | null;
  mergedBy: string | null;
  headSha: string | null;
  approvals: AccessReviewRecord["approvals"];
  committers: string[];
  /** The file at the head, whole (the decisions' own evidence), and the SHA-256 of the file as opened. */
  file: { path: string; sha256: string; text: string } | null;
  openedSha256: string | null;
  signOff: {
    signedOff: boolean;
    independent: boolean;
    onTime: boolean;
    reviewers: string[];
    decidedAt: string | null;
    dueAt: string;
    why: string;
    problems: string[];
    uncommittedApprovals: string[];
  };
  decisions: RecordedDecision[];
  /** Why the file gives no decisions; null when it does. */
  noDecisions: string | null;
  /** The collection time of the audit that first saw the review in this state (not part of the change). */
  observedAt: string;
}

/** What an audit found of one revoked grant: one record per change of outcome. */
export interface RevocationVerificationContent {
  host: string;
  organization: string;
  cycle: string;
  owner: string;
  grant: string;
  /** The decision as the review recorded it (null when the audit had no readable review for it). */
  account: string | null;
  decisionReason: string | null;
  verifyAfter: string | null;
  /** The cc6.revocations-applied result. */
  outcome: Outcome;
  reason: string;
  /** "removed", "still present: …", "pending until …", "unknown: …". */
  verification: string;
  verifiedAt: string | null;
  observedAt: string;
  evaluatedAt: string;
}

/** The ledger operations these records need (the Ledger interface has them). */
export interface AccessReviewLedger {
  append(stream: string, kind: string, content: unknown): Promise<RecordedEntry>;
  records(stream: string): AsyncGenerator<ChainedRecord>;
}

export interface AccessReviewsInput {
  host: "github" | "gitlab";
  organization: string;
  /** The audit's collection time (when the reviews and the access were seen). */
  observedAt: string;
  evaluatedAt: string;
  reviews: readonly AccessReviewRecord[];
  /** signOffOf of each review (matched by cycle and owner). */
  signOffs: readonly SignOff[];
  /** The audit's cc6.revocations-applied results (other results are passed over). */
  verifications: readonly Result[];
  /** The policy's grace_days: when a merged review's revocations are checked. */
  graceDays: number;
}

export interface RecordedAccessReviews {
  /** Records appended: reviews that changed, and verifications whose outcome changed. */
  reviews: RecordedEntry[];
  verifications: RecordedEntry[];
  /** Reviews and verifications seen as the ledger already had them. */
  unchanged: number;
}

/**
 * Appends what changed since the ledger last recorded each review: the review when anything the
 * host shows of it or its sign-off changed, and each revoked grant's verification when its outcome
 * changed. Running it again with the same input appends nothing.
 */
export async function recordAccessReviews(
  ledger: AccessReviewLedger,
  input: AccessReviewsInput,
): Promise<RecordedAccessReviews> {
  const recorded: RecordedAccessReviews = { reviews: [], verifications: [], unchanged: 0 };
  const signOffs = new Map(input.signOffs.map((signOff) => [key(signOff.cycle, signOff.owner), signOff]));
  const verifications = new Map<string, Result[]>();
  for (const result of input.verifications) {
    if (result.control !== REVOCATION_CONTROL) continue;
    const subject = revocationOf(result.subject.id);
    if (!subject) continue;
    const list = verifications.get(key(subject.cycle, subject.owner)) ?? [];
    list.push(result);
    verifications.set(key(subject.cycle, subject.owner), list);
  }
  const records = new Map(input.reviews.map((record) => [key(record.cycle, record.owner), record]));
  const keys = [...new Set([...records.keys(), ...verifications.keys()])].sort();
  for (const reviewKey of keys) {
    const [cycle, owner] = reviewKey.split("\n") as [string, string];
    const stream = accessReviewStream(input.host, input.organization, cycle, owner);
    const last = await lastRecorded(ledger, stream);
    const record = records.get(reviewKey);
    const signOff = signOffs.get(reviewKey);
    let decisions: RecordedDecision[] = [];
    if (record && signOff) {
      const content = reviewContent(input, record, signOff);
      decisions = content.decisions;
      if (last.review !== changeKey(content)) {
        recorded.reviews.push(await ledger.append(stream, ACCESS_REVIEW, content));
      } else recorded.unchanged += 1;
    }
    const verifyAfter = record ? verifyAfterOf(record, input.graceDays) : null;
    for (const result of (verifications.get(reviewKey) ?? []).sort((a, b) =>
      compareText(a.subject.id, b.subject.id),
    )) {
      const grant = revocationOf(result.subject.id)!.grant;
      if (last.outcomes.get(grant) === result.outcome) {
        recorded.unchanged += 1;
        continue;
      }
      const decision = decisions.find((item) => item.grant === grant);
      const content: RevocationVerificationContent = {
        host: input.host,
        organization: input.organization,
        cycle,
        owner,
        grant,
        account: decision?.account ?? null,
        decisionReason: decision?.reason ?? null,
        verifyAfter,
        outcome: result.outcome,
        reason: result.reason,
        ...verificationOf(result, {
          merged: record?.state === "merged",
          signedOff: (record && signOffs.get(reviewKey)?.signedOff) ?? false,
          verifyAfter,
          collectedAt: input.observedAt,
        }),
        observedAt: input.observedAt,
        evaluatedAt: input.evaluatedAt,
      };
      recorded.verifications.push(await ledger.append(stream, REVOCATION_VERIFICATION, content));
    }
  }
  return recorded;
}

/**
 * recordAccessReviews for an audit: the sign-offs judged by the organization policy of the audit's
 * policy files, as access-reviews.csv judges them. Nothing is recorded when the audit could not read
 * the reviews (the ledger keeps what was seen, never an empty list for an unreadable one).
 */
export async function recordAuditAccessReviews(
  ledger: AccessReviewLedger,
  input: {
    snapshot: Pick<Snapshot, "accessReviews" | "collectedAt" | "collector">;
    organization: string;
    policyFiles: readonly PolicyFile[];
    results: Iterable<Result>;
    evaluatedAt: string;
  },
): Promise<RecordedAccessReviews | null> {
  const reviews = input.snapshot.accessReviews;
  if (!reviews?.known) return null;
  const verifications = [...input.results].filter((result) => result.control === REVOCATION_CONTROL);
  if (reviews.value.length === 0 && verifications.length === 0) {
    return { reviews: [], verifications: [], unchanged: 0 };
  }
  const settings = accessReviewSettings(input.policyFiles, input.snapshot.collector.host);
  return recordAccessReviews(ledger, {
    host: input.snapshot.collector.host,
    organization: input.organization,
    observedAt: input.snapshot.collectedAt,
    evaluatedAt: input.evaluatedAt,
    reviews: reviews.value,
    signOffs: reviews.value.map((record) => signOffOf(record, settings.review, settings.people)),
    verifications,
    graceDays: settings.revocation.grace_days,
  });
}

/** recordAuditAccessReviews that logs a failure instead of failing the audit (its package is written). */
export async function recordAuditAccessReviewsSafely(
  ledger: (AccessReviewLedger & { location?: string }) | undefined,
  log: { error(object: object, message: string): void },
  input: Parameters<typeof recordAuditAccessReviews>[1],
): Promise<RecordedAccessReviews | null> {
  if (!ledger) return null;
  try {
    return await recordAuditAccessReviews(ledger, input);
  } catch (error) {
    log.error(
      { ledger: ledger.location, err: error instanceof Error ? error.message : String(error) },
      "access reviews not recorded in the ledger",
    );
    return null;
  }
}

function reviewContent(
  input: Pick<AccessReviewsInput, "host" | "organization" | "observedAt">,
  record: AccessReviewRecord,
  signOff: SignOff,
): AccessReviewContent {
  const { decisions, noDecisions } = reviewDecisions(signOff);
  return {
    host: input.host,
    organization: input.organization,
    cycle: record.cycle,
    owner: record.owner,
    repository: record.repository,
    number: record.number,
    url: record.url,
    branch: record.branch,
    openedBy: record.openedBy,
    openedAt: record.openedAt,
    state: record.state,
    mergedAt: record.mergedAt,
    mergedBy: record.mergedBy,
    headSha: record.headSha,
    approvals: [...record.approvals].sort((a, b) => compareText(a.at, b.at) || compareText(a.login, b.login)),
    committers: [...record.committers].sort(compareText),
    file: record.file && { path: record.file.path, sha256: sha256(record.file.text), text: record.file.text },
    openedSha256: record.openedText === null ? null : sha256(record.openedText),
    signOff: {
      signedOff: signOff.signedOff,
      independent: signOff.independent,
      onTime: signOff.onTime,
      reviewers: signOff.reviewers,
      decidedAt: signOff.decidedAt,
      dueAt: signOff.dueAt,
      why: signOff.why,
      problems: signOff.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`),
      uncommittedApprovals: signOff.uncommittedApprovals,
    },
    decisions: decisions.map((d) => ({
      grant: d.id,
      account: d.account,
      person: d.person,
      kind: d.kind,
      repositories: d.repositories,
      role: d.role,
      decision: d.decision,
      reason: d.reason,
      line: d.line,
    })),
    noDecisions,
    observedAt: input.observedAt,
  };
}

/** A review's content as compared between audits: all of it but when it was seen. */
function changeKey(content: AccessReviewContent): string {
  const { observedAt: _observedAt, ...rest } = content;
  return canonicalJson(rest);
}

/** The stream's last review (as its change key) and each grant's last verified outcome. */
async function lastRecorded(
  ledger: AccessReviewLedger,
  stream: string,
): Promise<{ review: string | null; outcomes: Map<string, Outcome> }> {
  let review: string | null = null;
  const outcomes = new Map<string, Outcome>();
  // a review's stream holds a record per change: a handful, read whole
  for await (const record of ledger.records(stream)) {
    if (record.kind === ACCESS_REVIEW) review = changeKey(JSON.parse(record.content) as AccessReviewContent);
    else if (record.kind === REVOCATION_VERIFICATION) {
      const content = JSON.parse(record.content) as RevocationVerificationContent;
      outcomes.set(content.grant, content.outcome);
    }
  }
  return { review, outcomes };
}

/** Cycle, owner and grant of a revocation's subject id (cycle and owner hold no ":"; a grant id does). */
function revocationOf(id: string): { cycle: string; owner: string; grant: string } | null {
  const parts = id.split(":");
  if (parts[0] !== "revocation" || parts.length < 4) return null;
  const [, cycle, owner, ...grant] = parts as [string, string, string, ...string[]];
  const found = { cycle, owner, grant: grant.join(":") };
  return revocationSubjectId(found.cycle, found.owner, found.grant) === id ? found : null;
}

function key(cycle: string, owner: string): string {
  return `${cycle}\n${owner}`;
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// ---- the period's export ----

/** One review's records as the export lists them. */
interface ExportedReview {
  stream: string;
  records: { sequence: number; hash: string; kind: string; recordedAt: string; content: unknown }[];
}

export interface AccessReviewExportSummary {
  files: { name: string; path: string; sha256: string; bytes: number }[];
  /** Reviews of the period, and grants their sign-offs revoked that no audit has verified removed. */
  reviews: number;
  notRemoved: number;
}

/**
 * access-reviews.csv and access-reviews.json of the period [since, until): every review of it (its
 * cycle overlaps the period, it was opened or merged in it, or an audit in it saw it), each decision
 * as the ledger last recorded it with the latest verification, and every record of those reviews.
 * Records observed after the period are included: a quarter's review is often decided, and its
 * revocations verified, by audits after the quarter, and the auditor asks for exactly those; each
 * record says when it was observed.
 */
export async function writeAccessReviewFiles(
  db: Database,
  options: { since: Date; until: Date; outDir: string },
): Promise<AccessReviewExportSummary> {
  const since = options.since.getTime();
  const until = options.until.getTime();
  const streams = (
    await db.query<{ stream: string }>(
      `SELECT DISTINCT stream FROM records WHERE kind = $1 OR kind = $2 ORDER BY stream`,
      [ACCESS_REVIEW, REVOCATION_VERIFICATION],
    )
  ).map((row) => row.stream);
  const csv = [
    csvRow([...ACCESS_REVIEWS_CSV_HEADER, "state", "sign_off", "review_record", "verification_record"]),
  ];
  const exported: ExportedReview[] = [];
  let notRemoved = 0;
  const overlaps = (cycle: string): boolean => {
    const parsed = parseCycle(cycle);
    return parsed !== null && parsed.start.getTime() < until && parsed.end.getTime() > since;
  };
  const inPeriod = (at: string | null | undefined): boolean => {
    if (!at) return false;
    const time = Date.parse(at);
    return time >= since && time < until;
  };
  for (const stream of streams) {
    const kept: ExportedReview["records"] = [];
    let review: { record: ChainedRecord; content: AccessReviewContent } | null = null;
    const verified = new Map<string, { record: ChainedRecord; content: RevocationVerificationContent }>();
    let touched = false;
    for await (const record of readStream(db, stream)) {
      if (record.kind !== ACCESS_REVIEW && record.kind !== REVOCATION_VERIFICATION) continue;
      const content = JSON.parse(record.content) as AccessReviewContent | RevocationVerificationContent;
      touched ||= inPeriod(content.observedAt) || overlaps(content.cycle);
      kept.push({
        sequence: record.sequence,
        hash: record.hash,
        kind: record.kind,
        recordedAt: record.recordedAt,
        content,
      });
      if (record.kind === ACCESS_REVIEW) review = { record, content: content as AccessReviewContent };
      else {
        const verification = content as RevocationVerificationContent;
        verified.set(verification.grant, { record, content: verification });
      }
    }
    if (!touched && !(review && (inPeriod(review.content.openedAt) || inPeriod(review.content.mergedAt)))) {
      continue;
    }
    exported.push({ stream, records: kept });
    const where = (record: ChainedRecord): string => `${record.stream}#${record.sequence} ${record.hash}`;
    const head = review
      ? [
          review.content.cycle,
          review.content.owner,
          review.content.url,
          review.content.signOff.reviewers.join(" "),
          review.content.signOff.decidedAt ?? "",
          review.content.signOff.dueAt,
          onTimeText(review.content.signOff, review.content),
        ]
      : null;
    const listed = new Set<string>();
    for (const decision of review?.content.decisions ?? []) {
      listed.add(decision.grant);
      const verification = decision.decision === "revoke" ? verified.get(decision.grant) : undefined;
      const decided = review!.content.signOff.signedOff;
      if (decision.decision === "revoke" && decided && verification?.content.outcome !== "pass")
        notRemoved += 1;
      csv.push(
        csvRow([
          ...head!,
          decision.grant,
          decision.account,
          decision.person,
          decision.kind,
          decision.repositories.join(" "),
          decision.role,
          decision.decision,
          decision.reason,
          verification?.content.verifyAfter ?? "",
          verification?.content.verification ??
            (decision.decision !== "revoke"
              ? ""
              : review!.content.state !== "merged"
                ? "not decided: the review is not merged"
                : !decided
                  ? "not decided: the merge is not a sign-off"
                  : "not verified: no audit has judged it yet"),
          verification?.content.verifiedAt ?? "",
          review!.content.state,
          review!.content.signOff.why,
          where(review!.record),
          verification ? where(verification.record) : "",
        ]),
      );
    }
    if (review && review.content.decisions.length === 0) {
      csv.push(
        csvRow([
          ...head!,
          ...Array<string>(6).fill(""),
          "no decisions",
          review.content.noDecisions ?? "the review file lists no grant",
          "",
          "",
          "",
          review.content.state,
          review.content.signOff.why,
          where(review.record),
          "",
        ]),
      );
    }
    // a verification the ledger holds without the review's decision (the review was not readable then)
    for (const [grant, verification] of verified) {
      if (listed.has(grant)) continue;
      if (verification.content.outcome !== "pass") notRemoved += 1;
      csv.push(
        csvRow([
          verification.content.cycle,
          verification.content.owner,
          ...Array<string>(5).fill(""),
          grant,
          verification.content.account ?? "",
          "",
          "",
          "",
          "",
          "revoke",
          verification.content.decisionReason ?? "",
          verification.content.verifyAfter ?? "",
          verification.content.verification,
          verification.content.verifiedAt ?? "",
          review?.content.state ?? "not recorded",
          review?.content.signOff.why ?? "",
          review ? where(review.record) : "",
          where(verification.record),
        ]),
      );
    }
  }
  if (exported.length === 0) {
    csv.push(
      csvRow([
        ...Array<string>(13).fill(""),
        "none",
        "the ledger holds no access review of this period (reviews are recorded by audits run with the ledger)",
        ...Array<string>(7).fill(""),
      ]),
    );
  }
  const files: AccessReviewExportSummary["files"] = [];
  for (const [name, text] of [
    [ACCESS_REVIEW_FILES[0], csv.join("")],
    [
      ACCESS_REVIEW_FILES[1],
      stableJson({
        period: { since: options.since.toISOString(), until: options.until.toISOString() },
        reviews: exported,
      }),
    ],
  ] as const) {
    const path = join(options.outDir, name);
    await writeFile(path, text, "utf8");
    const hashed = await sha256File(path);
    files.push({ name, path, sha256: hashed.sha256, bytes: hashed.bytes });
  }
  return { files, reviews: exported.length, notRemoved };
}
