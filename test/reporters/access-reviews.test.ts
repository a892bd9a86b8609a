/**
 * access-reviews.csv and report.html's access-review section, from a review the real engine judged:
 * each decision with the sign-off (who, when, on time) and, for a revoked grant, what the audit found
 * (removed only when cc6.revocations-applied passed); a review without decisions and an audit that
 * could not read reviews each say why; untrusted text stays text.
 */
import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/engine/evaluate.js";
import type { Snapshot } from "../../src/model/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import {
  ACCESS_REVIEWS_CSV_HEADER,
  accessReviewEvidenceOf,
  accessReviewsCsvRows,
  accessReviewsHtmlSection,
  renderReportHtml,
} from "../../src/reporters/files/index.js";
import { REPORT_STYLE } from "../../src/reporters/files/report-html-script.js";
import { makeRepository, makeSnapshot } from "../fixtures/build.js";
import { HOSTILE_REASON, REVIEW_POLICY, mergedReview, reviewedSnapshot } from "./access-review-fixture.js";
import { parseCsv } from "./files-report-fixture.js";

function judged(snapshot: Snapshot) {
  const report = evaluate(snapshot, policySetFor(snapshot), new Date(snapshot.collectedAt));
  return { report, evidence: accessReviewEvidenceOf(snapshot, report.results) };
}

function csvOf(snapshot: Snapshot): Record<string, string>[] {
  const { evidence } = judged(snapshot);
  const [header, ...rows] = parseCsv([...accessReviewsCsvRows(evidence)].join(""));
  expect(header).toEqual([...ACCESS_REVIEWS_CSV_HEADER]);
  return rows.map((row) => Object.fromEntries(header!.map((column, i) => [column, row[i] ?? ""])));
}

describe("access-reviews.csv", () => {
  it("lists every decision with its sign-off and each revocation's verification", () => {
    const rows = csvOf(reviewedSnapshot());
    const decided = rows.filter((row) => row.owner === "organization-admins");
    expect(decided.map((row) => [row.grant, row.decision])).toEqual([
      ["collaborator:alice:admin", "keep"],
      ["collaborator:bob:write", "revoke"],
      ["collaborator:mallory:write", "revoke"],
    ]);
    for (const row of decided) {
      expect(row).toMatchObject({
        review: "2026-Q4",
        pull_request: "https://github.com/acme/soc2-findings/pull/7",
        reviewers: "carol",
        decided_at: "2026-10-20T15:00:00Z",
        due_at: "2026-11-30T00:00:00.000Z",
        on_time: "yes",
        kind: "collaborator",
        repositories: "acme/api",
      });
    }
    const [alice, bob, mallory] = decided;
    expect(alice).toMatchObject({ verification: "", verify_after: "", verified_at: "" });
    // merged 2026-10-20T15:00Z, grace_days 2: checked from 2026-10-22T15:00Z; the audit is of 2026-11-01
    expect(bob).toMatchObject({
      reason: "left the payments team",
      verify_after: "2026-10-22T15:00:00.000Z",
      verified_at: "",
    });
    expect(bob!.verification).toMatch(/^still present: .*@bob has write/);
    expect(mallory).toMatchObject({ verification: "removed", verified_at: "2026-11-01T00:00:00Z" });
    // a formula is neutralised and a right-to-left override shown, not obeyed
    expect(mallory!.reason).toBe(`'${HOSTILE_REASON.replace("\u202E", "‹U+202E›")}`);
  });

  it("gives a review without readable decisions one row naming file, line and column", () => {
    const rows = csvOf(reviewedSnapshot());
    const invalid = rows.filter((row) => row.owner === "platform");
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatchObject({
      decision: "no decisions",
      decided_at: "",
      on_time: "not decided (open)",
    });
    expect(invalid[0]!.reason).toMatch(/access-reviews\/2026-Q4\/platform\.yml:\d+:\d+: .*decision/);
  });

  it("says a revocation is pending until the grace period ends, never removed", () => {
    const snapshot = { ...reviewedSnapshot([mergedReview()]), collectedAt: "2026-10-21T00:00:00Z" };
    const mallory = csvOf(snapshot).find((row) => row.grant === "collaborator:mallory:write")!;
    expect(mallory).toMatchObject({
      verification: "pending until 2026-10-22T15:00:00.000Z",
      verified_at: "",
    });
  });

  it("says unknown when the repository's collaborators cannot be read", () => {
    const snapshot = reviewedSnapshot([mergedReview()]);
    snapshot.repositories = [
      makeRepository({ collaborators: { known: false, permission: "administration:read", reason: "403" } }),
    ];
    const bob = csvOf(snapshot).find((row) => row.grant === "collaborator:bob:write")!;
    expect(bob.verification).toMatch(/^unknown: .*administration:read/);
    expect(bob.verified_at).toBe("");
  });

  it("does not count a merge without an independent approval: its revocations are not decided", () => {
    const snapshot = reviewedSnapshot([
      mergedReview({ approvals: [{ login: "dave", at: "2026-10-20T14:00:00Z", commit: "c".repeat(40) }] }),
    ]);
    const rows = csvOf(snapshot);
    expect(rows.every((row) => row.reviewers === "" && row.on_time === "no sign-off")).toBe(true);
    const mallory = rows.find((row) => row.grant === "collaborator:mallory:write")!;
    expect(mallory).toMatchObject({
      verification: "not decided: the merge is not a sign-off",
      verify_after: "",
    });
  });

  it("still exists when reviews were not collected or not readable, saying why", () => {
    const older = csvOf(makeSnapshot({ policyFiles: [REVIEW_POLICY] }));
    expect(older).toHaveLength(1);
    expect(older[0]).toMatchObject({ review: "", decision: "not collected" });
    expect(older[0]!.reason).toMatch(/did not collect access reviews/);

    const unreadable = csvOf(
      makeSnapshot({
        policyFiles: [REVIEW_POLICY],
        accessReviews: {
          known: false,
          permission: "pull_requests:read",
          reason: "403 Resource not accessible",
        },
      }),
    );
    expect(unreadable).toHaveLength(1);
    expect(unreadable[0]!.reason).toMatch(/pull_requests:read.*403 Resource not accessible/);

    const none = csvOf(
      makeSnapshot({ policyFiles: [REVIEW_POLICY], accessReviews: { known: true, value: [] } }),
    );
    expect(none).toEqual([expect.objectContaining({ decision: "none" })]);
  });
});

describe("report.html's access reviews", () => {
  it("shows each review's sign-off, counts and revocations as escaped static HTML", () => {
    const snapshot = reviewedSnapshot();
    const { report, evidence } = judged(snapshot);
    const section = accessReviewsHtmlSection(evidence);
    expect(section).toContain('<section id="access-reviews">');
    expect(section).toContain("Access review 2026-Q4: organization-admins");
    expect(section).toContain(
      '<a href="https://github.com/acme/soc2-findings/pull/7">acme/soc2-findings#7</a>',
    );
    expect(section).toContain("<dt>Reviewers</dt><dd><code>carol</code></dd>");
    expect(section).toContain("<dt>Decided at</dt><dd>2026-10-20T15:00:00Z</dd>");
    expect(section).toContain("<dt>On time</dt><dd>yes</dd>");
    expect(section).toContain("3 grants: <strong>1 kept</strong>, <strong>2 revoked</strong>.");
    expect(section).toMatch(
      /<tr class="verification-fail"><td><code>collaborator:bob:write<\/code>.*still present/,
    );
    expect(section).toMatch(
      /<tr class="verification-pass"><td><code>collaborator:mallory:write<\/code>.*<td>removed<\/td><td>2026-11-01T00:00:00Z<\/td>/,
    );
    // the invalid review says why it has no decisions, with the file's place
    expect(section).toMatch(/No decisions: .*access-reviews\/2026-Q4\/platform\.yml:\d+:\d+/);
    // untrusted text is text: no tag, no script, the bidi override shown
    expect(section).not.toContain("<script>");
    expect(section).not.toContain("</td><script>");
    expect(section).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(section).toContain("‹U+202E›");

    const page = renderReportHtml(snapshot, report);
    expect(page).toContain(section);
    // the page's only scripts stay its JSON data block and its hashed script
    expect(page.match(/<script\b/g)).toHaveLength(2);
  });

  it("says when an approval carries no commit (GitLab): accepted as the merged head, said", () => {
    const approvals = [{ login: "carol", at: "2026-10-20T14:00:00Z", commit: null }];
    const snapshot = reviewedSnapshot([mergedReview({ approvals })]);
    const section = accessReviewsHtmlSection(judged(snapshot).evidence);
    expect(section).toContain(
      '<dt>Reviewers</dt><dd><code>carol</code> <span class="note">(the host does not say which commit carol approved: taken as the merged head)</span></dd>',
    );
  });

  it("keeps only http(s) links and says when reviews were not collected", () => {
    const snapshot = reviewedSnapshot([mergedReview({ url: "javascript:alert(1)" })]);
    const section = accessReviewsHtmlSection(judged(snapshot).evidence);
    expect(section).not.toContain("<a href");
    expect(section).toContain("acme/soc2-findings#7");

    const older = accessReviewsHtmlSection(judged(makeSnapshot()).evidence);
    expect(older).toMatch(/Access reviews were not collected: this audit did not collect access reviews/);
  });

  it("prints: the print stylesheet keeps each review whole and its verifications readable in black", () => {
    const print = REPORT_STYLE.slice(REPORT_STYLE.indexOf("@media print"));
    expect(print).toContain("article.access-review {");
    expect(print).toMatch(/article\.access-review \{[^}]*break-inside: avoid/);
    expect(print).not.toMatch(/#access-reviews[^{]*\{[^}]*display: none/);
  });
});
