import { describe, expect, it } from "vitest";
import {
  NOT_EVALUATED,
  POPULATION_CONTROLS,
  populationVerdict,
} from "../../src/reporters/files/period-population.js";

describe("populationVerdict", () => {
  it("no result at all is unknown, never a pass or not applicable", () => {
    const verdict = populationVerdict([]);
    expect(verdict.overall).toBe("unknown");
    for (const id of POPULATION_CONTROLS) expect(verdict.outcomes[id]).toBe(NOT_EVALUATED);
  });

  it("the worst outcome decides, per control and overall", () => {
    const verdict = populationVerdict([
      { control: "cc8.independent-approval", outcome: "pass" },
      { control: "cc8.independent-approval", outcome: "unknown" },
      { control: "cc8.required-checks", outcome: "pass" },
      { control: "cc8.no-bypass", outcome: "excepted" },
    ]);
    expect(verdict.outcomes["cc8.independent-approval"]).toBe("unknown");
    expect(verdict.outcomes["cc8.required-checks"]).toBe("pass");
    expect(verdict.overall).toBe("unknown");
    expect(populationVerdict([{ control: "cc8.no-bypass", outcome: "fail" }]).overall).toBe("fail");
    expect(populationVerdict([{ control: "cc8.no-bypass", outcome: "not-applicable" }]).overall).toBe(
      "not-applicable",
    );
  });
});
