/**
 * One quarter's access review as the GitHub host records it, for the evidence tests (access-reviews.csv,
 * report.html's section, the ledger's records): the review file as the bot opened it (rendered by
 * src/access-review) and as a reviewer decided it (two grants revoked, one with hostile text in its
 * reason), approved by someone who did not write on the branch and merged. The repository still
 * grants one revoked account (bob) and no longer the other (mallory): the real engine judges them.
 */
import { renderReviewFile, reviewBranch, type ReviewGrant } from "../../src/access-review/index.js";
import type { AccessReviewRecord, PolicyFile, Snapshot } from "../../src/model/index.js";
import { makeSnapshot } from "../fixtures/build.js";

export const HOSTILE_REASON =
  '=HYPERLINK("https://evil.example") </td><script>alert(1)</script> \u202Egnp.exe';

export const REVIEW_POLICY: PolicyFile = {
  layer: "organization",
  repository: null,
  path: "acme/.github:.github/soc2.yml@main",
  content: `version: 1
controls:
  cc6.access-review-completed:
    enabled: true
    first_cycle: "2026-Q4"
    due_within_days: 60
  cc6.revocations-applied:
    enabled: true
    grace_days: 2
`,
};

const GRANTS: ReviewGrant[] = [
  {
    id: "collaborator:alice:admin",
    kind: "collaborator",
    account: "alice",
    person: "unknown person",
    repositories: ["acme/api"],
    role: "admin",
    twoFactor: "yes",
    lastActivity: "2026-10-01 merged acme/api#3",
    since: "unknown",
  },
  {
    id: "collaborator:bob:write",
    kind: "collaborator",
    account: "bob",
    person: "unknown person",
    repositories: ["acme/api"],
    role: "write",
    twoFactor: "yes",
    lastActivity: "none since 2026-08-01",
    since: "unknown",
  },
  {
    id: "collaborator:mallory:write",
    kind: "collaborator",
    account: "mallory",
    person: "unknown person",
    repositories: ["acme/api"],
    role: "write",
    twoFactor: "no",
    lastActivity: "none since 2026-08-01",
    since: "unknown",
  },
];

/** The file with `decision: revoke` and a reason for each of `revoked` (grant id -> reason). */
export function decide(opened: string, revoked: Record<string, string>): string {
  let text = opened;
  for (const [id, reason] of Object.entries(revoked)) {
    const start = text.indexOf(`  - id: ${id}\n`);
    if (start === -1) throw new Error(`no grant ${id} in the file`);
    const keep = text.indexOf('decision: keep\n    reason: ""', start);
    text =
      text.slice(0, keep) +
      `decision: revoke\n    reason: ${JSON.stringify(reason)}` +
      text.slice(keep + 'decision: keep\n    reason: ""'.length);
  }
  return text;
}

export const OPENED_TEXT = renderReviewFile({
  cycle: "2026-Q4",
  organization: "acme",
  owner: "organization-admins",
  openedAt: new Date("2026-10-02T10:00:00Z"),
  grants: GRANTS,
  graceDays: 2,
});

const HEAD = "c".repeat(40);

/** The merged review: decided by dave, approved by carol on the merged head. */
export function mergedReview(overrides: Partial<AccessReviewRecord> = {}): AccessReviewRecord {
  return {
    cycle: "2026-Q4",
    owner: "organization-admins",
    repository: "acme/soc2-findings",
    number: 7,
    url: "https://github.com/acme/soc2-findings/pull/7",
    branch: reviewBranch("2026-Q4", "organization-admins"),
    openedBy: "soc2-bot[bot]",
    openedAt: "2026-10-02T10:00:00Z",
    state: "merged",
    mergedAt: "2026-10-20T15:00:00Z",
    mergedBy: "carol",
    headSha: HEAD,
    approvals: [{ login: "carol", at: "2026-10-20T14:00:00Z", commit: HEAD }],
    committers: ["dave"],
    file: {
      path: "access-reviews/2026-Q4/organization-admins.yml",
      text: decide(OPENED_TEXT, {
        "collaborator:bob:write": "left the payments team",
        "collaborator:mallory:write": HOSTILE_REASON,
      }),
    },
    openedText: OPENED_TEXT,
    ...overrides,
  };
}

/** A review of another owner whose file was edited into an invalid shape. */
export function invalidReview(): AccessReviewRecord {
  const opened = OPENED_TEXT.replace(/organization-admins/g, "platform");
  return mergedReview({
    owner: "platform",
    number: 8,
    url: "https://github.com/acme/soc2-findings/pull/8",
    branch: reviewBranch("2026-Q4", "platform"),
    state: "open",
    mergedAt: null,
    mergedBy: null,
    approvals: [],
    file: {
      path: "access-reviews/2026-Q4/platform.yml",
      text: opened.replace("    decision: keep", "    decision: maybe"),
    },
    openedText: opened,
  });
}

/** The audit of 2026-11-01: mallory's access is gone, bob's is not. */
export function reviewedSnapshot(
  reviews: AccessReviewRecord[] = [mergedReview(), invalidReview()],
): Snapshot {
  return makeSnapshot({ accessReviews: { known: true, value: reviews }, policyFiles: [REVIEW_POLICY] });
}
