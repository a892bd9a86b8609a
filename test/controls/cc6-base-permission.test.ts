import { describe, expect, it } from "vitest";
import { basePermission } from "../../src/controls/cc6-base-permission.js";
import type { Permission } from "../../src/model/index.js";
import { makeContext, makeOrganization, unknownOf } from "../fixtures/build.js";

const defaults = basePermission.params.parse({});

function withBase(value: Permission) {
  return makeOrganization({ basePermission: { known: true, value } });
}

describe("cc6.base-permission", () => {
  it("defaults to read and rejects permissions that do not exist", () => {
    expect(defaults).toEqual({ max_permission: "read" });
    expect(() => basePermission.params.parse({ max_permission: "owner" })).toThrow();
  });

  it("passes a base permission at or below the maximum", () => {
    for (const base of ["none", "read"] as const) {
      const results = basePermission.evaluate(withBase(base), makeContext(defaults));
      expect(results.map((r) => [r.subject.id, r.outcome])).toEqual([["acme", "pass"]]);
    }
    const [result] = basePermission.evaluate(withBase("read"), makeContext(defaults));
    expect(result?.evidence).toEqual([
      { label: "base permission", value: "read" },
      { label: "maximum permission", value: "read" },
    ]);
  });

  it("fails a base permission above the maximum", () => {
    const [result] = basePermission.evaluate(withBase("write"), makeContext(defaults));
    expect(result?.outcome).toBe("fail");
    expect(result?.reason).toMatch(/write, above the allowed read/);
  });

  it("follows a raised maximum", () => {
    const context = makeContext(basePermission.params.parse({ max_permission: "write" }));
    expect(basePermission.evaluate(withBase("write"), context)[0]?.outcome).toBe("pass");
    expect(basePermission.evaluate(withBase("admin"), context)[0]?.outcome).toBe("fail");
  });

  it("is unknown when the base permission is unreadable", () => {
    const organization = makeOrganization({ basePermission: unknownOf("organization_administration:read") });
    const results = basePermission.evaluate(organization, makeContext(defaults));
    expect(results.map((r) => [r.subject.id, r.outcome])).toEqual([["acme", "unknown"]]);
    expect(results[0]?.reason).toMatch(/base permission.*organization_administration:read/);
  });
});
