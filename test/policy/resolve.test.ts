import { describe, expect, it } from "vitest";
import { parsePolicyLayer, resolvePolicy } from "../../src/policy/index.js";
import type { PolicyLayer } from "../../src/policy/index.js";
import { FAKE_CONTROLS, FAKE_DEFAULT, fixture, problemsOf } from "./fake-controls.js";

function layer(text: string, file: string): PolicyLayer {
  return parsePolicyLayer(text, file, FAKE_CONTROLS);
}

const DEFAULT = layer(FAKE_DEFAULT, "policies/soc2.yml");
const ORG = layer(fixture("org.yml"), "org.yml");

describe("resolvePolicy: layering", () => {
  it("fills every control from the default, with parameter defaults from the control", () => {
    const policy = resolvePolicy([DEFAULT], FAKE_CONTROLS);
    expect(policy.controls).toEqual({
      "cc8.independent-approval": {
        enabled: true,
        locked: false,
        params: { min_approvals: 1, exclude_committers: true },
        source: "policies/soc2.yml",
      },
      "cc8.no-direct-push": { enabled: true, locked: false, params: {}, source: "policies/soc2.yml" },
      "cc6.outside-collaborator-access": {
        enabled: true,
        locked: false,
        params: { max_permission: "read", allowed: [] },
        source: "policies/soc2.yml",
      },
    });
    expect(policy.productionBranches).toEqual({ defaultBranch: true, patterns: [] });
    expect(policy.findings).toEqual({ repository: "compliance", labels: [] });
    expect(policy.audit).toEqual({ schedule: "weekly", include: [], exclude: [] });
    expect(policy.sources).toEqual(["policies/soc2.yml"]);
  });

  it("lets the organization override the default key by key", () => {
    const policy = resolvePolicy([DEFAULT, ORG], FAKE_CONTROLS);
    expect(policy.controls["cc8.independent-approval"]).toEqual({
      enabled: true,
      locked: true,
      params: { min_approvals: 2, exclude_committers: true },
      source: "org.yml",
    });
    expect(policy.productionBranches).toEqual({
      defaultBranch: true,
      patterns: ["release/*", "hotfix/**/*"],
    });
    expect(policy.findings).toEqual({ repository: "soc2-findings", labels: ["soc2", "compliance"] });
    expect(policy.audit).toEqual({ schedule: "daily", include: [], exclude: ["sandbox-*"] });
    expect(policy.exceptions.map((exception) => exception.source)).toEqual(["org.yml:11"]);
  });

  it("lets the repository override the organization where nothing is locked", () => {
    const org = layer(
      "version: 1\ncontrols:\n  cc6.outside-collaborator-access:\n    max_permission: write\n",
      "org.yml",
    );
    const repo = layer(
      `version: 1
production_branches: { default_branch: false, patterns: [main] }
controls:
  cc6.outside-collaborator-access:
    allowed: [{ user: contractor-bob }]
  cc8.no-direct-push: { enabled: false }
`,
      "repo.yml",
    );
    const policy = resolvePolicy([DEFAULT, org, repo], FAKE_CONTROLS);
    expect(policy.controls["cc6.outside-collaborator-access"]).toEqual({
      enabled: true,
      locked: false,
      params: { max_permission: "write", allowed: [{ user: "contractor-bob" }] },
      source: "repo.yml",
    });
    expect(policy.controls["cc8.no-direct-push"]?.enabled).toBe(false);
    expect(policy.productionBranches).toEqual({ defaultBranch: false, patterns: ["main"] });
    expect(policy.sources).toEqual(["policies/soc2.yml", "org.yml", "repo.yml"]);
  });

  it("keeps the exceptions of every layer, lowest first", () => {
    const repo = layer(
      `version: 1
exceptions:
  - control: cc6.outside-collaborator-access
    subject: { user: contractor-bob }
    reason: "Contract ends in June"
    approved_by: carol
    expires: 2026-06-30
`,
      "repo.yml",
    );
    const policy = resolvePolicy([DEFAULT, ORG, repo], FAKE_CONTROLS);
    expect(policy.exceptions.map((exception) => [exception.control, exception.source])).toEqual([
      ["cc8.no-direct-push", "org.yml:11"],
      ["cc6.outside-collaborator-access", "repo.yml:3"],
    ]);
  });
});

describe("resolvePolicy: locks", () => {
  it("names the locking file and the file that tries to change a locked control", () => {
    const repo = layer(fixture("repo.yml"), "repo.yml");
    expect(problemsOf(() => resolvePolicy([DEFAULT, ORG, repo], FAKE_CONTROLS))).toEqual([
      {
        file: "repo.yml",
        line: 5,
        column: 3,
        message:
          "cc8.independent-approval is locked by org.yml:5:3; repo.yml:5:3 cannot change it " +
          "(sets min_approvals to 1; the locked value is 2)",
      },
    ]);
  });

  it("rejects switching a locked control off or unlocking it", () => {
    const off = layer("version: 1\ncontrols:\n  cc8.independent-approval: { enabled: false }\n", "repo.yml");
    const unlock = layer(
      "version: 1\ncontrols:\n  cc8.independent-approval: { locked: false }\n",
      "repo.yml",
    );
    expect(problemsOf(() => resolvePolicy([DEFAULT, ORG, off], FAKE_CONTROLS)).map((p) => p.message)).toEqual(
      [
        "cc8.independent-approval is locked by org.yml:5:3; repo.yml:3:3 cannot change it (sets enabled: false)",
      ],
    );
    expect(
      problemsOf(() => resolvePolicy([DEFAULT, ORG, unlock], FAKE_CONTROLS)).map((p) => p.message),
    ).toEqual([
      "cc8.independent-approval is locked by org.yml:5:3; repo.yml:3:3 cannot change it (sets locked: false)",
    ]);
  });

  it("allows a later layer to restate the locked values, including defaults it did not write", () => {
    const repo = layer(
      "version: 1\ncontrols:\n  cc8.independent-approval:\n    min_approvals: 2\n    exclude_committers: true\n    locked: true\n",
      "repo.yml",
    );
    const policy = resolvePolicy([DEFAULT, ORG, repo], FAKE_CONTROLS);
    expect(policy.controls["cc8.independent-approval"]).toEqual({
      enabled: true,
      locked: true,
      params: { min_approvals: 2, exclude_committers: true },
      source: "repo.yml",
    });
  });

  it("rejects an exception to a locked control from a layer below the lock", () => {
    const repo = layer(
      `version: 1
exceptions:
  - control: cc8.independent-approval
    subject: { repository: acme/api, change_request: 7 }
    reason: "Nobody else was around"
    approved_by: mallory
    expires: 2026-12-31
`,
      "repo.yml",
    );
    expect(problemsOf(() => resolvePolicy([DEFAULT, ORG, repo], FAKE_CONTROLS))).toEqual([
      {
        file: "repo.yml",
        line: 3,
        column: 1,
        message:
          "cc8.independent-approval is locked by org.yml:5:3; an exception to it in repo.yml:3 is not allowed " +
          "(only org.yml or a file layered before it may grant one)",
      },
    ]);
  });

  it("accepts an exception to a locked control from the locking layer itself", () => {
    const org = layer(
      `version: 1
controls:
  cc8.independent-approval: { locked: true }
exceptions:
  - control: cc8.independent-approval
    subject: { repository: acme/api, change_request: 7 }
    reason: "Sole maintainer; reviewed by security after merge"
    approved_by: alice
    expires: 2026-12-31
`,
      "org.yml",
    );
    expect(
      resolvePolicy([DEFAULT, org], FAKE_CONTROLS).exceptions.map((exception) => exception.source),
    ).toEqual(["org.yml:5"]);
  });
});

describe("resolvePolicy: hash", () => {
  it("is the SHA-256 of the layered texts, changing with any text or order", () => {
    const repo = layer(fixture("repo.yml").replace("min_approvals: 1", "min_approvals: 2"), "repo.yml");
    const hash = resolvePolicy([DEFAULT, ORG, repo], FAKE_CONTROLS).hash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(resolvePolicy([DEFAULT, ORG, repo], FAKE_CONTROLS).hash).toBe(hash);
    expect(resolvePolicy([DEFAULT, ORG], FAKE_CONTROLS).hash).not.toBe(hash);
    const respaced = layer(`${repo.text}\n`, "repo.yml");
    expect(resolvePolicy([DEFAULT, ORG, respaced], FAKE_CONTROLS).hash).not.toBe(hash);
  });

  it("does not confuse where one file ends and the next begins", () => {
    const a = layer("version: 1\n", "a.yml");
    const b = layer("version: 1\n#\n", "a.yml");
    const c = layer("version: 1\n", "b.yml");
    expect(resolvePolicy([a, b], FAKE_CONTROLS).hash).not.toBe(resolvePolicy([b, a], FAKE_CONTROLS).hash);
    expect(resolvePolicy([a], FAKE_CONTROLS).hash).not.toBe(resolvePolicy([c], FAKE_CONTROLS).hash);
  });
});
