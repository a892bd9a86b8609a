import { describe, expect, it } from "vitest";
import { outsideCollaboratorAccess } from "../../src/controls/cc6-outside-collaborator-access.js";
import type { Evaluation } from "../../src/controls/types.js";
import type { Collaborator } from "../../src/model/index.js";
import { makeContext, makeRepository, unknownOf } from "../fixtures/build.js";

const defaults = outsideCollaboratorAccess.params.parse({});

function withCollaborators(value: Collaborator[], overrides = {}) {
  return makeRepository({ collaborators: { known: true, value }, ...overrides });
}

function outcomes(results: Evaluation[]) {
  return results.map((result) => [result.subject.id, result.outcome]);
}

const contractors: Collaborator[] = [
  { login: "alice", permission: "admin", outside: false },
  { login: "Vendor-Dev", permission: "write", outside: true },
  { login: "auditor", permission: "read", outside: true },
];

describe("cc6.outside-collaborator-access", () => {
  it("defaults to read access and no allowances, and rejects unknown keys", () => {
    expect(defaults).toEqual({ max_permission: "read", allowed: [] });
    expect(() => outsideCollaboratorAccess.params.parse({ allowed: [{ login: "x" }] })).toThrow();
    expect(() => outsideCollaboratorAccess.params.parse({ max: "read" })).toThrow();
  });

  it("passes the repository once when it has no outside collaborators", () => {
    expect(outsideCollaboratorAccess.evaluate(makeRepository(), makeContext(defaults))).toEqual([
      {
        subject: {
          kind: "repository",
          id: "acme/api",
          repository: "acme/api",
          url: "https://github.com/acme/api",
        },
        outcome: "pass",
        reason: "No outside collaborators.",
        evidence: [],
      },
    ]);
  });

  it("gives one result per outside collaborator: above the maximum fails, within it passes", () => {
    const results = outsideCollaboratorAccess.evaluate(withCollaborators(contractors), makeContext(defaults));
    expect(outcomes(results)).toEqual([
      ["acme/api:@Vendor-Dev", "fail"],
      ["acme/api:@auditor", "pass"],
    ]);
    expect(results[0]?.subject).toEqual({
      kind: "collaborator",
      id: "acme/api:@Vendor-Dev",
      repository: "acme/api",
      user: "Vendor-Dev",
    });
    expect(results[0]?.reason).toMatch(/@Vendor-Dev has write, above the allowed read/);
    expect(results[1]?.reason).toMatch(/within the allowed read/);
  });

  it("passes an allowed outside collaborator on the named repository, case-insensitively", () => {
    const params = outsideCollaboratorAccess.params.parse({
      allowed: [{ user: "vendor-dev", repository: "ACME/API" }],
    });
    const [result] = outsideCollaboratorAccess.evaluate(withCollaborators(contractors), makeContext(params));
    expect(result?.outcome).toBe("pass");
    expect(result?.reason).toMatch(/allowed by policy/);
    expect(result?.evidence).toContainEqual({ label: "allowed by policy", value: "vendor-dev on ACME/API" });
  });

  it("allows any repository when the allowance names none, but not another repository when it does", () => {
    const anywhere = outsideCollaboratorAccess.params.parse({ allowed: [{ user: "VENDOR-DEV" }] });
    const repository = withCollaborators(contractors);
    expect(outsideCollaboratorAccess.evaluate(repository, makeContext(anywhere))[0]?.outcome).toBe("pass");

    const elsewhere = outsideCollaboratorAccess.params.parse({
      allowed: [{ user: "vendor-dev", repository: "acme/web" }],
    });
    expect(outsideCollaboratorAccess.evaluate(repository, makeContext(elsewhere))[0]?.outcome).toBe("fail");
  });

  it("still judges an archived repository: its access still exists", () => {
    const archived = withCollaborators(contractors, { archived: true });
    expect(outcomes(outsideCollaboratorAccess.evaluate(archived, makeContext(defaults)))).toEqual([
      ["acme/api:@Vendor-Dev", "fail"],
      ["acme/api:@auditor", "pass"],
    ]);
  });

  it("is one unknown on the repository when the collaborators are unreadable", () => {
    const repository = makeRepository({ collaborators: unknownOf("administration:read") });
    const results = outsideCollaboratorAccess.evaluate(repository, makeContext(defaults));
    expect(outcomes(results)).toEqual([["acme/api", "unknown"]]);
    expect(results[0]?.reason).toMatch(/collaborators.*administration:read/);
  });

  it("is unknown when the repository could not be collected", () => {
    const repository = makeRepository({ collectionError: "404 Not Found" });
    const results = outsideCollaboratorAccess.evaluate(repository, makeContext(defaults));
    expect(outcomes(results)).toEqual([["acme/api", "unknown"]]);
    expect(results[0]?.reason).toMatch(/could not be collected: 404/);
  });
});
