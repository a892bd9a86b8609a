import { describe, expect, it } from "vitest";
import {
  evaluate,
  evaluateOrganization,
  evaluateRepository,
  resultOrder,
  totalsOf,
} from "../../src/engine/evaluate.js";
import { CONTROLS } from "../../src/controls/index.js";
import type { Result } from "../../src/controls/types.js";
import type { Snapshot } from "../../src/model/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";

function repositoryView(snapshot: Snapshot, fullName: string): Snapshot {
  return {
    ...snapshot,
    repositories: snapshot.repositories.filter((r) => r.fullName === fullName),
    changeRequests: snapshot.changeRequests.filter((c) => c.repository === fullName),
    directPushes: snapshot.directPushes.filter((p) => p.repository === fullName),
    policyFiles: snapshot.policyFiles.filter((f) => f.repository === null || f.repository === fullName),
  };
}

describe("evaluation one repository at a time", () => {
  it("gives the whole snapshot's results: the organization's controls once, each repository's own", () => {
    const { snapshot, at } = generateSampleOrganization({ repositories: 10, pullRequestsPerRepository: 10 });
    const policies = policySetFor(snapshot);
    const whole = evaluate(snapshot, policies, at);

    const organization = evaluateOrganization(snapshot, policies, at);
    expect(organization.length).toBeGreaterThan(0);
    const byRepository: Result[][] = snapshot.repositories.map((repository) => {
      const view = repositoryView(snapshot, repository.fullName);
      // each repository's view is evaluated with only its own policy layer, as the audit reads it
      const results = evaluateRepository(view, policySetFor(view), at);
      expect([...results].sort(resultOrder())).toEqual(results);
      return results;
    });
    // concatenated in the snapshot's order and sorted stably: the whole evaluation, result for result
    const merged = [...organization, ...byRepository.flat()].sort(resultOrder());
    expect(merged).toEqual(whole.results);
    expect(totalsOf(merged, CONTROLS)).toEqual(whole.totals);
    // no organization control ran per repository, and no repository control at the organization
    const organizationControls = new Set(
      CONTROLS.filter((c) => c.appliesTo === "organization").map((c) => c.id),
    );
    expect(byRepository.flat().some((r) => organizationControls.has(r.control))).toBe(false);
    expect(organization.every((r) => organizationControls.has(r.control))).toBe(true);
  });
});
