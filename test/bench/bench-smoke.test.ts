/**
 * The benchmark at a tiny size, as CI runs it: the simulated GitHub in its own process with GitHub's
 * rate limits on, the tool audited in another, both shapes, the change check alone and during an
 * audit, findings sync, and the run with injected faults giving exactly the fault-free results. No
 * time is asserted: CI machines vary.
 */
import { describe, expect, it } from "vitest";
import { renderResults } from "../../bench/results.js";
import { ledgerSection, parseLongTail, parseSizes, runBenchmark } from "../../bench/run.js";

describe("benchmark smoke run", () => {
  it("audits both shapes, checks and survives faults at a tiny size", { timeout: 300_000 }, async () => {
    const size = { repositories: 3, pullRequestsPerRepository: 5 };
    const report = await runBenchmark({
      sizes: [size],
      longTail: [{ repositories: 12, totalPullRequests: 60 }],
      latencyMs: 0,
      checkEvents: 2,
      checkIntervalMs: 0,
      checkAuditShape: size,
      faultSize: size,
      naiveRepositories: 3,
      findingsResults: [200, 2000],
      rateLimits: {},
    });

    const [uniform, longTail] = report.audits;
    expect(uniform?.mergedPullRequests).toEqual(15);
    expect(uniform?.error).toBeNull();
    expect(uniform?.comparison.missing).toEqual([]);
    expect(uniform?.comparison.unexpected).toEqual([]);
    expect(uniform?.comparison.found).toBeGreaterThan(0);
    expect(uniform?.requests).toBeGreaterThan(0);
    expect(uniform?.graphqlPoints).toBeGreaterThan(0);
    expect(uniform?.byRoute["POST /graphql"]).toBeGreaterThan(0);
    // The tool's own process: a Node process with the app loaded, far below the simulator's world.
    expect(uniform?.peakRssBytes).toBeGreaterThan(20 * 2 ** 20);
    // Four requests per merged PR plus one listing page per repository, on its own token.
    expect(uniform?.naive).toEqual({
      repositoriesMeasured: 3,
      pullRequestsMeasured: 15,
      requestsMeasured: 63,
      requestsForAll: 63,
      extrapolated: false,
    });

    // The long tail: 12 repositories, most with 0 to 5 merges, three sharing the rest.
    expect(longTail?.mergedPullRequests).toEqual(60);
    expect(longTail?.repositories).toEqual(12);
    expect(longTail?.error).toBeNull();
    expect(longTail?.comparison.missing).toEqual([]);
    expect(longTail?.comparison.unexpected).toEqual([]);
    expect(longTail?.naive?.extrapolated).toEqual(true);

    const check = report.changeCheck;
    expect(check.alone.events).toEqual(3);
    expect(check.alone.coldRequests).toBeGreaterThan(0);
    expect(check.alone.warmRequests).toHaveLength(2);
    expect(check.backToBack.warmRequests).toHaveLength(2);
    expect(Object.values(check.alone.conclusions).sort()).toEqual(["failure", "success"]);
    expect(check.duringAudit.auditError).toBeNull();
    expect(check.duringAudit.coldRequests).toBeNull();

    const faults = report.faults;
    expect(Object.values(faults.faultsInjected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(faults.faultsInjected["secondary-rate-limit"]).toBeGreaterThan(0);
    expect(faults.faulty.error).toBeNull();
    expect(faults.resultsEqual).toEqual(true);
    expect(faults.faulty.resultsHash).toEqual(faults.clean.resultsHash);
    expect(faults.faulty.findingIssues).toEqual(faults.clean.findingIssues);
    expect(faults.clean.findingIssues).toBeGreaterThan(0);

    expect(report.findingsSync.map((f) => [f.results, f.findings])).toEqual([
      [200, 2],
      [2000, 20],
    ]);
    // The second sync lists the finding issues (one page each here) and writes nothing.
    expect(report.findingsSync.map((f) => f.secondRequests)).toEqual([1, 1]);

    const markdown = renderResults(report, { command: "test", date: new Date("2026-11-01T00:00:00Z") });
    expect(markdown).toContain("| 3x5 | 3 | 15 |");
    expect(markdown).toContain("| long-tail 12/60 | 12 | 60 |");
    expect(markdown).toContain("## Targets (issue 12)");
    expect(markdown).toMatch(/\| every planted violation found, both shapes \| .* \| met \|/);
  });

  it("reads sizes as REPOSITORIESxPULL_REQUESTS and rejects anything else", () => {
    expect(parseSizes("10x100, 2x5")).toEqual([
      { repositories: 10, pullRequestsPerRepository: 100 },
      { repositories: 2, pullRequestsPerRepository: 5 },
    ]);
    expect(() => parseSizes("10by100")).toThrow('--sizes: "10by100" is not REPOSITORIESxPULL_REQUESTS');
    expect(parseLongTail("1000x100000")).toEqual([{ repositories: 1000, totalPullRequests: 100_000 }]);
  });

  it("keeps the ledger's section of an existing results file", () => {
    const text =
      "# Benchmark results\n\n## Audit\n\nx\n\n## Ledger: a year of 1000 repositories\n\nfigures\n\n### Notes\n\nn\n";
    expect(ledgerSection(text)).toEqual(
      "## Ledger: a year of 1000 repositories\n\nfigures\n\n### Notes\n\nn",
    );
    expect(ledgerSection("# Benchmark results\n")).toBeNull();
  });
});
