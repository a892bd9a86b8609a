import { describe, expect, it } from "vitest";
import type { Result } from "../../src/controls/types.js";
import { evaluateAsOfMergeSafely, evaluateRepositoryAsOfMerge } from "../../src/ledger/timeline.js";
import type { Snapshot } from "../../src/model/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";

/** A ledger whose every read fails, as a database that went away mid-audit. */
const unreadableLedger = {
  location: "postgres://ledger.example",
  // eslint-disable-next-line require-yield
  async *records(): AsyncGenerator<never> {
    throw new Error("connection refused");
  },
};

function repositoryView(snapshot: Snapshot, fullName: string): Snapshot {
  return {
    ...snapshot,
    repositories: snapshot.repositories.filter((r) => r.fullName === fullName),
    changeRequests: snapshot.changeRequests.filter((c) => c.repository === fullName),
    directPushes: snapshot.directPushes.filter((p) => p.repository === fullName),
    policyFiles: snapshot.policyFiles.filter((f) => f.repository === null || f.repository === fullName),
  };
}

describe("judged as of the merge, one repository at a time", () => {
  it("says a ledger that cannot be read was not used, in each merge's evidence, as the whole audit does", async () => {
    const { snapshot, at } = generateSampleOrganization({ repositories: 4, pullRequestsPerRepository: 6 });
    const logged: string[] = [];
    const log = { error: (_object: object, message: string) => logged.push(message) };
    const whole = await evaluateAsOfMergeSafely(unreadableLedger, log, snapshot, policySetFor(snapshot), at);

    const results: Result[] = [];
    const merges = [];
    for (const repository of snapshot.repositories) {
      const view = repositoryView(snapshot, repository.fullName);
      const judged = await evaluateRepositoryAsOfMerge(unreadableLedger, log, view, policySetFor(view), at);
      results.push(...judged.results);
      merges.push(...(judged.snapshot.asOfMerge?.merges ?? []));
    }
    expect(merges).toEqual(whole.snapshot.asOfMerge?.merges);
    expect(merges.length).toBeGreaterThan(0);
    expect(merges.every((m) => m.ledgerError === "connection refused" && m.observation === null)).toBe(true);
    const perChange = (list: readonly Result[]) =>
      list
        .filter((r) => r.subject.kind === "change-request")
        .map((r) => JSON.stringify(r))
        .sort();
    expect(perChange(results)).toEqual(perChange(whole.report.results));
    expect(
      logged.every((message) => message === "branch rules as of the merge not read from the ledger"),
    ).toBe(true);
  });
});
