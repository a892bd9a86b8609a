import { describe, expect, it } from "vitest";
import { CONTROLS } from "../../src/controls/index.js";
import { evaluate } from "../../src/engine/index.js";
import { Snapshot } from "../../src/model/index.js";
import { loadPolicy } from "../../src/policy/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";
import { AT, makeChangeRequest, makeRepository, makeSnapshot } from "../fixtures/build.js";

const policy = loadPolicy([], CONTROLS);

describe("evaluate", () => {
  it("gives identical results for a snapshot written to JSON and read back", () => {
    const sample = generateSampleOrganization({ repositories: 6, pullRequestsPerRepository: 10 });
    const policies = policySetFor(sample.snapshot);
    const live = evaluate(sample.snapshot, policies, sample.at);
    const roundTripped = Snapshot.parse(JSON.parse(JSON.stringify(sample.snapshot)));
    const again = evaluate(roundTripped, policySetFor(roundTripped), sample.at);
    expect(JSON.stringify(again)).toBe(JSON.stringify(live));
  });

  it("is deterministic: the same input gives the same report, whatever the input order", () => {
    const snapshot = makeSnapshot({
      changeRequests: [makeChangeRequest({ number: 2 }), makeChangeRequest({ number: 1 })],
    });
    const reversed = { ...snapshot, changeRequests: [...snapshot.changeRequests].reverse() };
    expect(evaluate(reversed, policy, AT)).toEqual(evaluate(snapshot, policy, AT));
  });

  it("passes a clean organization on every control that applies", () => {
    const report = evaluate(makeSnapshot(), policy, AT);
    const notPassing = report.results.filter((r) => r.outcome !== "pass" && r.outcome !== "not-applicable");
    expect(notPassing).toEqual([]);
    expect(Object.keys(report.totals)).toEqual(CONTROLS.map((c) => c.id));
  });

  it("leaves out a control the policy disables", () => {
    const lenient = loadPolicy(
      [{ file: "org.yml", text: "version: 1\ncontrols:\n  cc8.independent-approval:\n    enabled: false\n" }],
      CONTROLS,
    );
    const snapshot = makeSnapshot({ changeRequests: [makeChangeRequest({ reviews: [] })] });
    expect(evaluate(snapshot, policy, AT).results.some((r) => r.control === "cc8.independent-approval")).toBe(
      true,
    );
    expect(
      evaluate(snapshot, lenient, AT).results.some((r) => r.control === "cc8.independent-approval"),
    ).toBe(false);
  });

  it("turns a failure covered by an exception into 'excepted' until the exception expires", () => {
    const withException = loadPolicy(
      [
        {
          file: "org.yml",
          text: [
            "version: 1",
            "exceptions:",
            "  - control: cc8.independent-approval",
            "    subject: { repository: acme/api, change_request: 12 }",
            '    reason: "Emergency fix, reviewed after the fact"',
            "    approved_by: carol",
            "    expires: 2026-11-30",
            "",
          ].join("\n"),
        },
      ],
      CONTROLS,
    );
    const snapshot = makeSnapshot({ changeRequests: [makeChangeRequest({ reviews: [] })] });
    const during = evaluate(snapshot, withException, AT).results.find(
      (r) => r.control === "cc8.independent-approval",
    );
    expect(during?.outcome).toBe("excepted");
    expect(during?.exception).toMatchObject({
      approvedBy: "carol",
      expires: "2026-11-30",
      source: "org.yml:3",
    });
    const after = evaluate(snapshot, withException, new Date("2026-12-01T00:00:00Z")).results.find(
      (r) => r.control === "cc8.independent-approval",
    );
    expect(after?.outcome).toBe("fail");
    expect(after?.remediation).toBeTruthy();
  });

  it("judges a change as production when the repository's facts are missing, never waves it through", () => {
    const snapshot = makeSnapshot({ repositories: [], changeRequests: [makeChangeRequest({ reviews: [] })] });
    const result = evaluate(snapshot, policy, AT).results.find(
      (r) => r.control === "cc8.independent-approval",
    );
    expect(result?.outcome).toBe("fail");
  });

  it("uses a repository's own policy layer for that repository only", () => {
    const snapshot = makeSnapshot({
      repositories: [
        makeRepository(),
        makeRepository({ fullName: "acme/web", url: "https://github.com/acme/web" }),
      ],
      changeRequests: [
        makeChangeRequest({ reviews: [] }),
        makeChangeRequest({
          repository: "acme/web",
          reviews: [],
          url: "https://github.com/acme/web/pull/12",
        }),
      ],
      policyFiles: [
        {
          layer: "repository",
          repository: "acme/web",
          path: "acme/web:.github/soc2.yml@main",
          content: "version: 1\ncontrols:\n  cc8.independent-approval:\n    enabled: false\n",
        },
      ],
    });
    const results = evaluate(snapshot, policySetFor(snapshot), AT).results.filter(
      (r) => r.control === "cc8.independent-approval",
    );
    expect(results.map((r) => r.subject.id)).toEqual(["acme/api#12"]);
  });
});
