import { describe, expect, it } from "vitest";
import { repoAdminCount } from "../../src/controls/cc6-repo-admin-count.js";
import type { Collaborator, TeamAccess } from "../../src/model/index.js";
import { makeContext, makeOrganization, makeRepository, makeSnapshot, unknownOf } from "../fixtures/build.js";

const defaults = repoAdminCount.params.parse({});

function admins(...logins: string[]): Collaborator[] {
  return logins.map((login) => ({ login, permission: "admin", outside: false }));
}

function withAccess(collaborators: Collaborator[], teams: TeamAccess[] = [], overrides = {}) {
  return makeRepository({
    collaborators: { known: true, value: collaborators },
    teams: { known: true, value: teams },
    ...overrides,
  });
}

describe("cc6.repo-admin-count", () => {
  it("defaults to at most 3 admins and rejects a negative maximum", () => {
    expect(defaults).toEqual({ max_admins: 3 });
    expect(() => repoAdminCount.params.parse({ max_admins: -1 })).toThrow();
  });

  it("passes and excludes organization owners (counted by cc6.owner-count)", () => {
    const results = repoAdminCount.evaluate(makeRepository(), makeContext(defaults));
    expect(results.map((r) => [r.subject.id, r.outcome])).toEqual([["acme/api", "pass"]]);
    expect(results[0]?.reason).toBe("No admins besides organization owners, within the maximum of 3.");
  });

  it("counts admin teams as one each and fails above the maximum, naming them", () => {
    const repository = withAccess(
      [...admins("alice", "dave", "erin"), { login: "bob", permission: "maintain", outside: false }],
      [
        { slug: "platform", permission: "admin" },
        { slug: "engineering", permission: "write" },
      ],
    );
    const [result] = repoAdminCount.evaluate(repository, makeContext({ max_admins: 2 }));
    expect(result?.outcome).toBe("fail");
    expect(result?.reason).toBe("3 admins (@dave, @erin, team platform), more than the maximum of 2.");
    expect(result?.evidence).toEqual([
      { label: "maximum admins", value: "2" },
      { label: "admin", value: "dave" },
      { label: "admin", value: "erin" },
      { label: "admin team", value: "platform" },
    ]);
  });

  it("matches owners to collaborators case-insensitively", () => {
    const repository = withAccess(admins("ALICE", "dave"));
    const [result] = repoAdminCount.evaluate(repository, makeContext({ max_admins: 1 }));
    expect(result?.outcome).toBe("pass");
    expect(result?.reason).toBe("1 admin (@dave), within the maximum of 1.");
  });

  it("counts owners too, and says so, when the organization's members are unreadable", () => {
    const snapshot = makeSnapshot({ organization: makeOrganization({ members: unknownOf("members:read") }) });
    const repository = withAccess(admins("alice", "dave"));
    const [result] = repoAdminCount.evaluate(repository, makeContext({ max_admins: 1 }, { snapshot }));
    expect(result?.outcome).toBe("fail");
    expect(result?.reason).toMatch(/2 admins \(@alice, @dave\).*owners could not be read/);
  });

  it("does not exclude the owners of another organization", () => {
    const repository = withAccess(admins("alice"), [], { fullName: "other/api" });
    const [result] = repoAdminCount.evaluate(repository, makeContext({ max_admins: 0 }));
    expect(result?.outcome).toBe("fail");
    expect(result?.subject.id).toBe("other/api");
  });

  it("still counts the admins of an archived repository", () => {
    const repository = withAccess(admins("dave", "erin"), [], { archived: true });
    expect(repoAdminCount.evaluate(repository, makeContext({ max_admins: 1 }))[0]?.outcome).toBe("fail");
  });

  it("is unknown when the collaborators are unreadable", () => {
    const repository = makeRepository({ collaborators: unknownOf("administration:read") });
    const results = repoAdminCount.evaluate(repository, makeContext(defaults));
    expect(results.map((r) => [r.subject.id, r.outcome])).toEqual([["acme/api", "unknown"]]);
    expect(results[0]?.reason).toMatch(/collaborators.*administration:read/);
  });

  it("is unknown when teams are unreadable and the people alone are within the maximum", () => {
    const repository = withAccess(admins("dave"));
    const unreadableTeams = { ...repository, teams: unknownOf<TeamAccess[]>("members:read") };
    const [result] = repoAdminCount.evaluate(unreadableTeams, makeContext(defaults));
    expect(result?.outcome).toBe("unknown");
    expect(result?.reason).toMatch(/teams.*members:read/);
  });

  it("fails when teams are unreadable but the people alone exceed the maximum", () => {
    const repository = withAccess(admins("dave", "erin"));
    const unreadableTeams = { ...repository, teams: unknownOf<TeamAccess[]>("members:read") };
    expect(repoAdminCount.evaluate(unreadableTeams, makeContext({ max_admins: 1 }))[0]?.outcome).toBe("fail");
  });

  it("is unknown when the repository could not be collected", () => {
    const repository = makeRepository({ collectionError: "403 Forbidden" });
    const [result] = repoAdminCount.evaluate(repository, makeContext(defaults));
    expect(result?.outcome).toBe("unknown");
    expect(result?.reason).toMatch(/could not be collected/);
  });
});
