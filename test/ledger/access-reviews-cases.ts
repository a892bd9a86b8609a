/**
 * The ledger's access-review records, as a series of daily audits records them (shared by the fast
 * PGlite file and the slow PostgreSQL one): a review is recorded when first seen and again only
 * when it changes, each revoked grant's verification once per outcome (pending, then still present
 * or removed), nothing on a day when nothing changed; the chains verify; the period's export lists
 * each decision with its latest verification and the records it comes from.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evaluate } from "../../src/engine/index.js";
import {
  ACCESS_REVIEW,
  EXPORT_MANIFEST,
  REVOCATION_VERIFICATION,
  accessReviewStream,
  exportPeriod,
  openLedger,
  recordAuditAccessReviews,
  type AccessReviewContent,
  type Ledger,
  type RevocationVerificationContent,
} from "../../src/ledger/index.js";
import type { AccessReviewRecord, Snapshot } from "../../src/model/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import {
  invalidReview,
  mergedReview,
  OPENED_TEXT,
  reviewedSnapshot,
} from "../reporters/access-review-fixture.js";
import { parseCsv } from "../reporters/files-report-fixture.js";
import { testBackend } from "./backends.js";

const ADMINS = accessReviewStream("github", "acme", "2026-Q4", "organization-admins");
const PLATFORM = accessReviewStream("github", "acme", "2026-Q4", "platform");

/** One daily audit: the snapshot of that day, judged by the real engine, recorded. */
async function audit(ledger: Ledger, day: string, reviews: AccessReviewRecord[]) {
  const snapshot: Snapshot = { ...reviewedSnapshot(reviews), collectedAt: `${day}T00:00:00Z` };
  const at = new Date(snapshot.collectedAt);
  const report = evaluate(snapshot, policySetFor(snapshot), at);
  return recordAuditAccessReviews(ledger, {
    snapshot,
    organization: "acme",
    policyFiles: snapshot.policyFiles,
    results: report.results,
    evaluatedAt: at.toISOString(),
  });
}

async function recordsOf(ledger: Ledger, stream: string) {
  const out: { kind: string; content: unknown }[] = [];
  for await (const record of ledger.records(stream)) {
    out.push({ kind: record.kind, content: JSON.parse(record.content) });
  }
  return out;
}

/** The platform review fixed and merged: a valid file, approved by carol on the merged head. */
function platformMerged(): AccessReviewRecord {
  const opened = OPENED_TEXT.replace(/organization-admins/g, "platform");
  return mergedReview({
    owner: "platform",
    number: 8,
    url: "https://github.com/acme/soc2-findings/pull/8",
    branch: "soc2-bot/access-review/2026-Q4/platform",
    mergedAt: "2026-10-25T09:00:00Z",
    file: { path: "access-reviews/2026-Q4/platform.yml", text: opened },
    openedText: opened,
  });
}

export function accessReviewLedgerTests(name: "pglite" | "postgres"): void {
  describe(`access reviews in the ledger (${name})`, () => {
    const backend = testBackend(name);
    let ledger: Ledger;
    const dirs: string[] = [];

    beforeAll(async () => {
      ledger = openLedger({ ...(await backend.fresh()), now: () => new Date("2026-11-02T00:00:00Z") });
    });
    afterAll(async () => {
      await ledger?.close();
      await backend.stop();
      await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
    });

    it("records each review once and each verification once per outcome across daily audits", async () => {
      // 2026-10-21: merged the day before, grace_days 2: both revocations pending; platform open, invalid
      const first = await audit(ledger, "2026-10-21", [mergedReview(), invalidReview()]);
      expect(first).toMatchObject({ unchanged: 0 });
      expect(first!.reviews.map((entry) => entry.stream)).toEqual([ADMINS, PLATFORM]);
      expect(first!.verifications).toHaveLength(2);

      // the next day nothing changed: nothing is appended
      expect(await audit(ledger, "2026-10-22", [mergedReview(), invalidReview()])).toEqual({
        reviews: [],
        verifications: [],
        unchanged: 4,
      });

      // 2026-11-01: past the grace period, bob's access is still there, mallory's is gone; platform
      // was fixed and merged (a change: recorded), and its revocation-free review adds no verification
      const third = await audit(ledger, "2026-11-01", [mergedReview(), platformMerged()]);
      expect(third!.reviews.map((entry) => entry.stream)).toEqual([PLATFORM]);
      expect(third!.verifications.map((entry) => entry.stream)).toEqual([ADMINS, ADMINS]);
      expect(await audit(ledger, "2026-11-02", [mergedReview(), platformMerged()])).toMatchObject({
        reviews: [],
        verifications: [],
      });

      const admins = await recordsOf(ledger, ADMINS);
      expect(admins.map((record) => record.kind)).toEqual([
        ACCESS_REVIEW,
        REVOCATION_VERIFICATION,
        REVOCATION_VERIFICATION,
        REVOCATION_VERIFICATION,
        REVOCATION_VERIFICATION,
      ]);
      const review = admins[0]!.content as AccessReviewContent;
      expect(review).toMatchObject({
        cycle: "2026-Q4",
        owner: "organization-admins",
        repository: "acme/soc2-findings",
        number: 7,
        state: "merged",
        observedAt: "2026-10-21T00:00:00Z",
        signOff: {
          signedOff: true,
          independent: true,
          onTime: true,
          reviewers: ["carol"],
          decidedAt: "2026-10-20T15:00:00Z",
          dueAt: "2026-11-30T00:00:00.000Z",
        },
        noDecisions: null,
      });
      expect(review.file?.text).toBe(mergedReview().file!.text);
      expect(review.decisions.map((d) => [d.grant, d.decision])).toEqual([
        ["collaborator:alice:admin", "keep"],
        ["collaborator:bob:write", "revoke"],
        ["collaborator:mallory:write", "revoke"],
      ]);
      const verifications = admins.slice(1).map((record) => record.content as RevocationVerificationContent);
      expect(verifications.map((v) => [v.observedAt.slice(0, 10), v.grant, v.outcome])).toEqual([
        ["2026-10-21", "collaborator:bob:write", "not-applicable"],
        ["2026-10-21", "collaborator:mallory:write", "not-applicable"],
        ["2026-11-01", "collaborator:bob:write", "fail"],
        ["2026-11-01", "collaborator:mallory:write", "pass"],
      ]);
      expect(verifications[0]!.verification).toBe("pending until 2026-10-22T15:00:00.000Z");
      expect(verifications[2]!.verification).toMatch(/^still present: /);
      expect(verifications[3]).toMatchObject({ verification: "removed", verifiedAt: "2026-11-01T00:00:00Z" });

      const platform = (await recordsOf(ledger, PLATFORM)).map((r) => r.content as AccessReviewContent);
      expect(platform.map((r) => [r.state, r.noDecisions === null])).toEqual([
        ["open", false],
        ["merged", true],
      ]);
      expect(platform[0]!.noDecisions).toMatch(/platform\.yml:\d+:\d+/);

      const verified = await ledger.verify();
      expect(verified.breaks).toEqual([]);
    });

    it("exports the period's reviews: each decision with its latest verification and its records", async () => {
      const out = join(await mkdtemp(join(tmpdir(), "soc2-access-review-export-")), "export");
      dirs.push(join(out, ".."));
      const summary = await exportPeriod(ledger, {
        since: new Date("2026-10-01T00:00:00Z"),
        until: new Date("2026-11-01T12:00:00Z"),
        outDir: out,
        now: () => new Date("2026-11-03T00:00:00Z"),
      });
      expect(summary.accessReviews).toEqual({ reviews: 2, notRemoved: 1 });
      expect(summary.files.map((file) => file.name)).toEqual(
        expect.arrayContaining(["access-reviews.csv", "access-reviews.json"]),
      );
      const [header, ...rows] = parseCsv(await readFile(join(out, "access-reviews.csv"), "utf8"));
      const cell = (row: string[], column: string) => row[header!.indexOf(column)]!;
      const bob = rows.find(
        (row) =>
          cell(row, "grant") === "collaborator:bob:write" && cell(row, "owner") === "organization-admins",
      )!;
      expect(cell(bob, "verification")).toMatch(/^still present/);
      expect(cell(bob, "reviewers")).toBe("carol");
      expect(cell(bob, "verification_record")).toMatch(new RegExp(`^${ADMINS}#4 [0-9a-f]{64}$`));
      const mallory = rows.find(
        (row) =>
          cell(row, "grant") === "collaborator:mallory:write" && cell(row, "owner") === "organization-admins",
      )!;
      expect([cell(mallory, "verification"), cell(mallory, "verified_at")]).toEqual([
        "removed",
        "2026-11-01T00:00:00Z",
      ]);
      expect(cell(mallory, "reason").startsWith("'=HYPERLINK(")).toBe(true);
      // the platform review as it stood at the period's end: merged, three grants kept
      const platform = rows.filter((row) => cell(row, "owner") === "platform");
      expect(platform.map((row) => [cell(row, "state"), cell(row, "decision")])).toEqual([
        ["merged", "keep"],
        ["merged", "keep"],
        ["merged", "keep"],
      ]);

      const json = JSON.parse(await readFile(join(out, "access-reviews.json"), "utf8")) as {
        reviews: { stream: string; records: { sequence: number; kind: string }[] }[];
      };
      // every record of the two reviews (the 2026-11-02 audit appended nothing)
      expect(json.reviews.map((r) => [r.stream, r.records.length])).toEqual([
        [ADMINS, 5],
        [PLATFORM, 2],
      ]);
      const manifest = JSON.parse(await readFile(join(out, EXPORT_MANIFEST), "utf8")) as {
        files: { path: string }[];
        accessReviews: unknown;
      };
      expect(manifest.files.map((file) => file.path)).toEqual(
        expect.arrayContaining(["access-reviews.csv", "access-reviews.json"]),
      );
      expect(manifest.accessReviews).toEqual({ reviews: 2, notRemoved: 1 });
    });

    it("exports a period the ledger holds no review of with a row saying so", async () => {
      const out = join(await mkdtemp(join(tmpdir(), "soc2-access-review-export-")), "export");
      dirs.push(join(out, ".."));
      await exportPeriod(ledger, {
        since: new Date("2026-01-01T00:00:00Z"),
        until: new Date("2026-04-01T00:00:00Z"),
        outDir: out,
      });
      const [header, ...rows] = parseCsv(await readFile(join(out, "access-reviews.csv"), "utf8"));
      expect(rows).toHaveLength(1);
      expect(rows[0]![header!.indexOf("decision")]).toBe("none");
      expect(rows[0]![header!.indexOf("reason")]).toMatch(/holds no access review of this period/);
    });
  });
}
