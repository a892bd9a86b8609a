/**
 * The reliability suite, bounded for CI: three real app processes (`npm start`'s entry point) on one
 * PostgreSQL behind a round-robin, against the simulated GitHub on 127.0.0.1; a burst with
 * redeliveries and out-of-order events, a directed race, and one instance SIGKILLed mid-work (its
 * dropped deliveries redelivered). bench/reliability.ts runs it; `npm run bench -- --reliability`
 * runs the full one.
 */
import { afterAll, describe, expect, it } from "vitest";
import { runReliability } from "../../bench/reliability.js";
import { testBackend } from "../ledger/backends.js";

describe("many instances on one PostgreSQL", () => {
  const backend = testBackend("postgres");
  afterAll(() => backend.stop());

  it("ends with one correct check run per head, the race failing, one issue per finding and none lost", async () => {
    const { databaseUrl } = await backend.fresh();
    const figures = await runReliability({
      databaseUrl: databaseUrl!,
      instances: 3,
      openPullRequests: 8,
      deliveries: 40,
      redeliveryShare: 0.4,
      mergedFailing: 3,
      directedRace: true,
      killOne: true,
      rateLimits: false,
      log: (line) => console.log(`[reliability] ${line}`),
    });
    console.log(`[reliability] ${JSON.stringify(figures)}`);
    expect(figures.duplicateCheckRuns).toBe(0);
    expect(figures.wrongVerdicts).toEqual([]);
    // An approval dismissed while another instance had read the change approved: it must fail.
    expect(figures.raceConclusion).toBe("failure");
    expect(figures.duplicateIssues).toBe(0);
    expect(figures.lostFindings).toEqual([]);
    // Every redelivery (same id, same bytes) that reached a live instance after the first was done is ignored.
    expect(figures.duplicatesIgnored).toBeGreaterThan(0);
  }, 120_000);
});
