/**
 * The demo's quarter of access review, as evidence (issue 15): the audit job after the review puts
 * it in the package's access-reviews.csv (the sign-off, one revocation removed, one still present),
 * records the review and both verifications in the demo's ledger, and `soc2-bot export` of the
 * period the demo names writes them, though the audit that saw them ran after that period.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import {
  ACCESS_REVIEW,
  REVOCATION_VERIFICATION,
  accessReviewStream,
  openLedger,
  type RevocationVerificationContent,
} from "../../src/ledger/index.js";
import type { Snapshot } from "../../src/model/index.js";
import { memoryIo } from "../fixtures/memory-io.js";
import { parseCsv } from "../reporters/files-report-fixture.js";

const ZOE = "collaborator:zoe:write";
const LEE = "outside-collaborator:auditor-lee:read";

function rowsOf(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  return rows.map((row) => Object.fromEntries(header!.map((column, i) => [column, row[i] ?? ""])));
}

describe("the demo's access review as evidence", () => {
  it("is in the package, in the ledger and in the period's export", async () => {
    const out = await mkdtemp(join(tmpdir(), "soc2-demo-access-evidence-"));
    expect(await main(["demo", "--out", out], memoryIo())).toBe(0);
    const snapshot = JSON.parse(await readFile(join(out, "snapshot.json"), "utf8")) as Snapshot;

    const packaged = rowsOf(await readFile(join(out, "access-reviews.csv"), "utf8"));
    const revoked = packaged.filter((row) => row.decision === "revoke");
    expect(revoked.map((row) => row.grant).sort()).toEqual([ZOE, LEE].sort());
    for (const row of revoked) {
      expect(row).toMatchObject({ review: "2026-Q4", owner: "organization-admins", on_time: "yes" });
      expect(row.reviewers).not.toBe("");
    }
    const zoe = revoked.find((row) => row.grant === ZOE)!;
    const lee = revoked.find((row) => row.grant === LEE)!;
    expect(zoe.verification).toMatch(/^still present: /);
    expect([lee.verification, lee.verified_at]).toEqual(["removed", snapshot.collectedAt]);
    expect(packaged.filter((row) => row.decision === "keep").length).toBeGreaterThan(0);

    const ledger = openLedger({ dir: join(out, "ledger"), create: false });
    try {
      const stream = accessReviewStream("github", "acme-demo", "2026-Q4", "organization-admins");
      const records: { kind: string; content: unknown }[] = [];
      for await (const record of ledger.records(stream)) {
        records.push({ kind: record.kind, content: JSON.parse(record.content) });
      }
      expect(records.map((record) => record.kind)).toEqual([
        ACCESS_REVIEW,
        REVOCATION_VERIFICATION,
        REVOCATION_VERIFICATION,
      ]);
      const verified = records.slice(1).map((record) => record.content as RevocationVerificationContent);
      expect(verified.map((v) => [v.grant, v.outcome]).sort()).toEqual(
        [
          [LEE, "pass"],
          [ZOE, "fail"],
        ].sort(),
      );
      expect((await ledger.verify()).breaks).toEqual([]);
    } finally {
      await ledger.close();
    }

    // the period the demo names ends before the audit that saw the review: the cycle overlaps it
    const exported = join(await mkdtemp(join(tmpdir(), "soc2-demo-access-export-")), "export");
    const io = memoryIo();
    const args = ["--ledger", join(out, "ledger"), "--since", "2026-05-01", "--until", "2026-11-01"];
    expect(await main(["export", ...args, "--out", exported], io)).toBe(0);
    const period = rowsOf(await readFile(join(exported, "access-reviews.csv"), "utf8"));
    const exportedZoe = period.find((row) => row.grant === ZOE)!;
    expect(exportedZoe.verification).toMatch(/^still present: /);
    expect(exportedZoe.verification_record).toMatch(
      /^access-review:github\/acme-demo\/2026-Q4\/organization-admins#\d+ [0-9a-f]{64}$/,
    );
    expect(period.find((row) => row.grant === LEE)).toMatchObject({ verification: "removed" });
  }, 300_000);
});
