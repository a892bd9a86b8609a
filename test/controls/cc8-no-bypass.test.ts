import { describe, expect, it } from "vitest";
import { noBypass } from "../../src/controls/cc8-no-bypass.js";
import type { Repository } from "../../src/model/index.js";
import {
  cleanBranchRule,
  makeChangeRequest,
  makeContext,
  makeRepository,
  unknownOf,
  type ChangeRequestOverrides,
} from "../fixtures/build.js";

function evaluate(
  overrides: ChangeRequestOverrides = {},
  /** null: the repository's facts were not collected. */
  repository: Repository | null = makeRepository(),
) {
  const results = noBypass.evaluate(
    { changeRequest: makeChangeRequest(overrides), repository: repository ?? undefined },
    makeContext(noBypass.params.parse({})),
  );
  expect(results).toHaveLength(1);
  return results[0]!;
}

describe("cc8.no-bypass", () => {
  it("takes no parameters", () => {
    expect(noBypass.params.parse({})).toEqual({});
    expect(() => noBypass.params.parse({ strict: true })).toThrow();
  });

  it("passes a merge that went through branch protection", () => {
    const result = evaluate();
    expect(result).toMatchObject({
      outcome: "pass",
      reason: "Merged by alice with branch protection enforced.",
    });
    expect(result.evidence).toEqual([
      {
        label: "merged",
        value: `by alice into main as ${"m".repeat(40)}`,
        url: "https://github.com/acme/api/pull/12",
        at: "2026-10-02T15:00:00Z",
      },
      { label: "bypassed protection", value: "no" },
    ]);
  });

  it("fails a merge that bypassed branch protection, naming who merged", () => {
    const result = evaluate({ mergedBy: "root-admin", bypassedProtection: { known: true, value: true } });
    expect(result).toMatchObject({
      outcome: "fail",
      reason: "Merged by root-admin bypassing branch protection.",
    });
  });

  it("is unknown when the host would not say whether the merge bypassed protection", () => {
    const result = evaluate({ bypassedProtection: unknownOf("administration:read") });
    expect(result.outcome).toBe("unknown");
    expect(result.reason).toMatch(
      /^Cannot read whether the merge bypassed branch protection: the token lacks administration:read/,
    );
    expect(result.evidence).toEqual([{ label: "missing permission", value: "administration:read" }]);
  });

  describe("never says 'no bypass' for requirements it did not check", () => {
    const withRule = (overrides: Parameters<typeof cleanBranchRule>[0]) =>
      makeRepository({ branchRules: { known: true, value: [cleanBranchRule(overrides)] } });

    it("is unknown when the rule has requirements the collector could not verify, naming each", () => {
      const result = evaluate({}, withRule({ otherRequirements: ["required_signatures", "merge_queue"] }));
      expect(result).toMatchObject({
        outcome: "unknown",
        reason:
          "Cannot confirm that alice merged without bypassing the rules of main: the rule also requires required_signatures, which was not verified; the rule also requires merge_queue, which was not verified.",
      });
      expect(result.evidence).toContainEqual({
        label: "not verified",
        value:
          "the rule also requires required_signatures, which was not verified; the rule also requires merge_queue, which was not verified",
      });
      expect(result.evidence.some((entry) => entry.label === "bypassed protection")).toBe(false);
    });

    it("still passes when the ruleset's bypass actors are hidden: what the merge met was verified", () => {
      // Hidden bypass actors leave only "applies to admins" unknown (cc8.branch-protection): a merge
      // that met every requirement of the rule bypassed nothing, whoever could have.
      const result = evaluate({}, withRule({ bypassActorsVisible: false }));
      expect(result.outcome).toBe("pass");
    });

    it("is unknown when the rule cannot be read or the repository was not collected", () => {
      expect(evaluate({}, makeRepository({ branchRules: unknownOf("administration:read") })).reason).toMatch(
        /the rules of main cannot be read \(the token lacks administration:read\)/,
      );
      expect(evaluate({}, null).reason).toMatch(/the repository was not collected/);
    });

    it("still fails a known bypass whatever else is unverified", () => {
      const result = evaluate(
        { bypassedProtection: { known: true, value: true } },
        withRule({ otherRequirements: ["required_deployments"], bypassActorsVisible: false }),
      );
      expect(result.outcome).toBe("fail");
    });
  });

  it("does not apply before the merge, after closing without merging, or off production branches", () => {
    expect(evaluate({ state: "open", mergedAt: null, mergedBy: null, mergeCommitSha: null })).toMatchObject({
      outcome: "not-applicable",
      reason: "Not merged yet.",
    });
    expect(evaluate({ state: "closed", mergedAt: null, mergedBy: null, mergeCommitSha: null }).reason).toBe(
      "Closed without merging.",
    );
    expect(
      evaluate({ baseBranch: "develop", bypassedProtection: { known: true, value: true } }).outcome,
    ).toBe("not-applicable");
  });
});
