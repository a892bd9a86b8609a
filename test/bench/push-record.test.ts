/**
 * The push record's benchmark at a tiny size: the same organization audited without and with a
 * ledger holding the year's push webhooks gives byte-identical results, and with the record no
 * branch's activity is read (the long tail's empty branches included). No time is
 * asserted: CI machines vary.
 */
import { describe, expect, it } from "vitest";
import { measurePushRecord, pushRecordLines } from "../../bench/push-record.js";

describe("push record benchmark", () => {
  it("audits with the record to the same results, reading no activity", { timeout: 300_000 }, async () => {
    const uniform = await measurePushRecord({
      shape: { repositories: 3, pullRequestsPerRepository: 5 },
      latencyMs: 0,
    });
    const longTail = await measurePushRecord({
      shape: { repositories: 12, totalPullRequests: 60 },
      latencyMs: 0,
    });

    for (const figures of [uniform, longTail]) {
      expect(figures.withoutRecord.error).toBeNull();
      expect(figures.withRecord.error).toBeNull();
      expect(figures.resultsEqual).toBe(true);
      expect(figures.backend).toBe(process.env.DATABASE_URL ? "PostgreSQL" : "PGlite");
      // Every production branch's activity without the record (the findings repository's main too),
      // none with it.
      expect(figures.withoutRecord.activityRequests).toBeGreaterThan(figures.fill.branches - 1);
      expect(figures.withRecord.activityRequests).toBe(0);
      // Nothing else is read instead (the record's pushes need no comparison either).
      expect(figures.withRecord.requests).toBeLessThanOrEqual(
        figures.withoutRecord.requests - figures.withoutRecord.activityRequests,
      );
      expect(figures.fill.deliveries).toBeGreaterThan(figures.mergedPullRequests);
      // The record is trusted only over reconciled spans: the fill wrote the app's checkpoints too.
      expect(figures.fill.checkpoints).toBeGreaterThan(0);
      expect(Date.parse(figures.fill.reconciledFrom)).toBeLessThan(Date.parse(figures.fill.reconciledTo));
    }
    expect(pushRecordLines([uniform])[0]).toMatch(
      /^- 3x5 \(15 PRs, ledger on (PGlite|PostgreSQL)\): [\d.]+ requests per 1,000 PRs for the first audit .* results identical$/,
    );
  });
});
