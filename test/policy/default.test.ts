import { describe, expect, it } from "vitest";
import { CONTROLS } from "../../src/controls/index.js";
import { loadDefaultPolicyLayer, loadPolicy } from "../../src/policy/index.js";
import { problemsOf } from "./fake-controls.js";

describe("the shipped default policy", () => {
  it("parses, and sets every control soc2-bot has", () => {
    const layer = loadDefaultPolicyLayer(CONTROLS);
    expect(layer.file).toBe("policies/soc2.yml");
    expect(Object.keys(layer.controls)).toEqual(CONTROLS.map((control) => control.id));
    expect(layer.exceptions).toEqual([]);
  });

  it("resolves with the real controls: everything enabled but the access review's two, nothing locked, defaults as documented", () => {
    const policy = loadPolicy([], CONTROLS);
    // The access review is off until an organization starts reviewing (first_cycle): turned on, every
    // cycle of the audit period without a signed-off review would fail at once.
    const off = ["cc6.access-review-completed", "cc6.revocations-applied"];
    expect(Object.keys(policy.controls).sort()).toEqual(CONTROLS.map((control) => control.id).sort());
    for (const [id, setting] of Object.entries(policy.controls)) {
      expect({ id, enabled: setting.enabled, locked: setting.locked }).toEqual({
        id,
        enabled: !off.includes(id),
        locked: false,
      });
    }
    expect(policy.controls["cc6.access-review-completed"]?.params).toEqual({
      every: "quarter",
      due_within_days: 30,
      owners: [],
      folder: "access-reviews",
    });
    expect(policy.controls["cc6.revocations-applied"]?.params).toEqual({ grace_days: 7, apply: false });
    expect(policy.controls["cc8.independent-approval"]?.params).toEqual({
      min_approvals: 1,
      exclude_committers: true,
    });
    expect(policy.controls["cc6.owner-count"]?.params).toEqual({ max_owners: 3 });
    expect(policy.controls["cc6.stale-invitations"]?.params).toEqual({ max_days: 30 });
    expect(policy.productionBranches).toEqual({ defaultBranch: true, patterns: [] });
    expect(policy.findings).toEqual({ repository: "compliance", labels: ["soc2"] });
    expect(policy.audit).toEqual({ schedule: "weekly", include: [], exclude: [] });
    expect(policy.sources).toEqual(["policies/soc2.yml"]);
  });

  it("layers organization and repository files over it, reporting the problems of both at once", () => {
    const policy = loadPolicy(
      [
        {
          file: "acme/.github/soc2.yml",
          text: "version: 1\ncontrols:\n  cc6.owner-count: { max_owners: 5, locked: true }\n",
        },
        { file: "acme/api/.github/soc2.yml", text: "version: 1\naudit: { schedule: off }\n" },
      ],
      CONTROLS,
    );
    expect(policy.controls["cc6.owner-count"]).toEqual({
      enabled: true,
      locked: true,
      params: { max_owners: 5 },
      source: "acme/.github/soc2.yml",
    });
    expect(policy.audit.schedule).toBe("off");
    expect(
      problemsOf(() =>
        loadPolicy(
          [
            { file: "org.yml", text: "version: 1\nauditt: {}\n" },
            { file: "repo.yml", text: "version: 1\ncontrols:\n  cc6.owner-count: { max_owners: -1 }\n" },
          ],
          CONTROLS,
        ),
      ).map((problem) => `${problem.file}:${problem.line}:${problem.column}`),
    ).toEqual(["org.yml:2:1", "repo.yml:3:34"]);
  });
});
