/**
 * The reliability suite, bounded for CI: three real app processes (`npm start`'s entry point) on one
 * PostgreSQL behind a round-robin, against the simulated GitHub on 127.0.0.1; a burst with
 * redeliveries and out-of-order events, a directed race, and one instance SIGKILLed mid-work (its
 * dropped deliveries redelivered), about a third of the check-run and issue writes applied with their answer
 * lost (a 502 or a reset connection). bench/reliability.ts runs it; `npm run bench -- --reliability`
 * runs the full one.
 */
import { afterAll, describe, expect, it } from "vitest";
import { runReliability } from "../../bench/reliability.js";
import { testBackend } from "../ledger/backends.js";

describe("many instances on one PostgreSQL", () => {
  const backend = testBackend("postgres");
  afterAll(() => backend.stop());

  it("ends with one correct check run per head, the race failing, one issue per finding and none lost, answers lost included", async () => {
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
      // "Write applied, answer lost": a share of check-run and issue writes answered 502 or reset.
      lostAnswerShare: 0.35,
      log: (line) => console.log(`[reliability] ${line}`),
    });
    console.log(`[reliability] ${JSON.stringify(figures)}`);
    expect(figures.duplicateCheckRuns).toBe(0);
    expect(figures.wrongVerdicts).toEqual([]);
    // An approval dismissed while another instance had read the change approved: it must fail.
    expect(figures.raceConclusion).toBe("failure");
    expect(figures.duplicateIssues).toBe(0);
    expect(figures.lostFindings).toEqual([]);
    const { checkRuns, issues, comments } = figures.answersLost;
    expect(checkRuns + issues + comments).toBeGreaterThan(0);
    // Every redelivery (same id, same bytes) that reached a live instance after the first was done is ignored.
    expect(figures.duplicatesIgnored).toBeGreaterThan(0);
  }, 120_000);
});
