/**
 * The ledger-year benchmark at a tiny size (5 repositories x 10 days): what it writes through the
 * ledger is what it counts, and export, coverage and verify run on it in child processes. No time or
 * memory is asserted: machines vary.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateLedgerYear, measureLedgerYear, renderLedgerYear } from "../../bench/ledger-year.js";

describe("ledger-year benchmark", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it(
    "writes 5 repositories x 10 days and measures export, coverage and verify on them",
    { timeout: 240_000 },
    async () => {
      const dir = await mkdtemp(join(tmpdir(), "soc2-ledger-year-test-"));
      dirs.push(dir);
      const options = {
        repositories: 5,
        days: 10,
        merges: 60,
        start: new Date("2025-01-01T00:00:00Z"),
        dir,
        changesPerDay: 1,
      };
      const generated = await generateLedgerYear(options);
      // one observation of the organization and of each repository a day, one audit run a day
      expect(generated.observations).toEqual(10 * (5 + 1));
      expect(generated.auditRuns).toEqual(10);
      expect(generated.judgements).toEqual(60);
      // the first day is recorded whole; most of the rest unchanged
      expect(generated.observationsUnchanged).toBeGreaterThan(generated.observations / 2);
      expect(generated.observationsUnchanged).toBeLessThanOrEqual(generated.observations - 6);

      const report = await measureLedgerYear(options, generated);
      const counted = Object.values(report.size.records).reduce((sum, r) => sum + r.count, 0);
      expect(counted).toEqual(generated.observations + generated.judgements + generated.auditRuns);
      expect(report.size.records.observation?.count).toEqual(generated.observations);
      expect(report.size.records.judgement?.count).toEqual(generated.judgements);
      expect(report.size.records["audit-run"]?.count).toEqual(generated.auditRuns);
      expect(report.size.folderBytes).toBeGreaterThan(0);
      expect(report.size.files.storedBytes).toBeGreaterThan(0);

      expect(report.export.exitCode).toEqual(0);
      // every run's package and the export manifest
      expect(report.export.files).toBeGreaterThan(generated.auditRuns);
      expect(report.export.bytes).toBeGreaterThan(0);
      // 0 fully covered, 1 with a gap or a late merge: both are answers, 2 or more is a failure
      expect(report.coverage.exitCode).toBeLessThanOrEqual(1);
      expect(report.coverage.summary).toContain(`${generated.productionBranches} production branches`);
      expect(generated.productionBranches).toBeGreaterThanOrEqual(5);
      expect(report.verify.exitCode).toEqual(0);
      expect(report.verifySkipFiles.exitCode).toEqual(0);
      for (const command of [report.export, report.coverage, report.verify]) {
        expect(command.peakRssMiB).toBeGreaterThan(0);
      }

      const section = renderLedgerYear(report, { command: "test", date: new Date("2026-11-29T00:00:00Z") });
      expect(section).toContain("## Ledger: a year of 5 repositories");
      expect(section).toContain(`| observation | ${generated.observations} |`);
    },
  );
});
