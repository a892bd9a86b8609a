import { describe, expect, it } from "vitest";
import { noBypass } from "../../src/controls/cc8-no-bypass.js";
import type { ChangeRequest } from "../../src/model/index.js";
import { makeChangeRequest, makeContext, makeRepository, unknownOf } from "../fixtures/build.js";

function evaluate(overrides: Partial<ChangeRequest> = {}) {
  const results = noBypass.evaluate(
    { changeRequest: makeChangeRequest(overrides), repository: makeRepository() },
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
