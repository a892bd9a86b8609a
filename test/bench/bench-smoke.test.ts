/**
 * The benchmark at a tiny size, as CI runs it: it completes, counts what it should, and the run with
 * injected faults gives exactly the fault-free results. No time is asserted: CI machines vary.
 */
import { describe, expect, it } from "vitest";
import { renderResults } from "../../bench/results.js";
import { parseSizes, runBenchmark } from "../../bench/run.js";

describe("benchmark smoke run", () => {
  it("audits, checks and survives faults at 3x5", { timeout: 180_000 }, async () => {
    const size = { repositories: 3, pullRequestsPerRepository: 5 };
    const report = await runBenchmark({
      sizes: [size],
      latencyMs: 0,
      checkEvents: 2,
      faultSize: size,
      naiveRepositories: 3,
    });

    const [audit] = report.audits;
    expect(audit?.mergedPullRequests).toEqual(15);
    expect(audit?.comparison.missing).toEqual([]);
    expect(audit?.comparison.unexpected).toEqual([]);
    expect(audit?.requests).toBeGreaterThan(0);
    expect(audit?.graphqlPoints).toBeGreaterThan(0);
    expect(audit?.byRoute["POST /graphql"]).toBeGreaterThan(0);
    // Four requests per merged PR plus the listing: the naive collector read all three repositories.
    expect(audit?.naive).toEqual({
      repositoriesMeasured: 3,
      pullRequestsMeasured: 15,
      requestsMeasured: 63,
      requestsForAll: 63,
      extrapolated: false,
    });

    expect(report.changeCheck.events).toEqual(3);
    expect(report.changeCheck.coldRequests).toBeGreaterThan(0);
    expect(report.changeCheck.warmRequests.every((n) => n > 0)).toEqual(true);
    expect(Object.values(report.changeCheck.conclusions).sort()).toEqual(["failure", "success"]);

    const faults = report.faults;
    expect(Object.values(faults.faultsInjected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(faults.faultsInjected["secondary-rate-limit"]).toBeGreaterThan(0);
    expect(faults.resultsEqual).toEqual(true);
    expect(faults.faulty.resultsText).toEqual(faults.clean.resultsText);
    expect(faults.faulty.findingIssues).toEqual(faults.clean.findingIssues);
    expect(faults.clean.findingIssues).toBeGreaterThan(0);

    const markdown = renderResults(report, { command: "test", date: new Date("2026-11-01T00:00:00Z") });
    expect(markdown).toContain("| 3x5 | 15 |");
  });

  it("reads sizes as REPOSITORIESxPULL_REQUESTS and rejects anything else", () => {
    expect(parseSizes("10x100, 2x5")).toEqual([
      { repositories: 10, pullRequestsPerRepository: 100 },
      { repositories: 2, pullRequestsPerRepository: 5 },
    ]);
    expect(() => parseSizes("10by100")).toThrow('--sizes: "10by100" is not REPOSITORIESxPULL_REQUESTS');
  });
});
