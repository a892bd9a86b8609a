/**
 * The app judges a merge minutes after it happened: of the verdict by the last observation before
 * the merge and the verdict by the rule just read, the stricter stands, so a webhook the ledger
 * missed can never turn into a pass.
 */
import { describe, expect, it } from "vitest";
import type { Outcome, Result } from "../../src/controls/types.js";
import { RULE_AS_OF_MERGE, stricterOf } from "../../src/ledger/timeline.js";

function result(control: string, outcome: Outcome, reason: string): Result {
  return {
    control,
    criterion: "CC8.1",
    title: control,
    subject: { kind: "change-request", id: "acme/api#9", repository: "acme/api", number: 9 },
    outcome,
    reason,
    evidence: [],
  };
}

describe("stricterOf", () => {
  it("keeps today's failure over the observation's pass, saying why", () => {
    const asOf = [result("cc8.required-checks", "pass", "no check required then")];
    const today = [result("cc8.required-checks", "fail", "ci/test failed")];
    const [judged] = stricterOf(asOf, today);
    expect(judged?.outcome).toBe("fail");
    expect(judged?.reason).toBe("ci/test failed");
    expect(judged?.evidence.find((e) => e.label === RULE_AS_OF_MERGE)?.value).toMatch(
      /stricter than the last observation before the merge \(which gave pass\)/,
    );
  });

  it("keeps the observation's verdict when it is as strict or stricter, and unknown over pass", () => {
    const asOf = [
      result("cc8.required-checks", "fail", "weak then"),
      result("cc8.no-bypass", "pass", "met then"),
      result("cc8.independent-approval", "pass", "approved"),
    ];
    const today = [
      result("cc8.required-checks", "pass", "green now"),
      result("cc8.no-bypass", "unknown", "signatures not verified"),
      result("cc8.independent-approval", "pass", "approved"),
    ];
    expect(stricterOf(asOf, today).map((r) => [r.control, r.outcome, r.reason])).toEqual([
      ["cc8.required-checks", "fail", "weak then"],
      ["cc8.no-bypass", "unknown", "signatures not verified"],
      ["cc8.independent-approval", "pass", "approved"],
    ]);
  });
});
