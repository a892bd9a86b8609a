import { describe, expect, it } from "vitest";
import { leavers } from "../../src/controls/cc6-leavers.js";
import type { Evaluation } from "../../src/controls/types.js";
import type { Snapshot } from "../../src/model/index.js";
import { loadPolicy, peopleDirectory } from "../../src/policy/index.js";
import { CONTROLS } from "../../src/controls/index.js";
import { makeContext, makeOrganization, makeRepository, makeSnapshot, unknownOf } from "../fixtures/build.js";

const defaults = leavers.params.parse({});

/** acme: alice owner, bob and carol members (base permission read); bob writes acme/api, dana (outside) too. */
const snapshot: Snapshot = makeSnapshot({
  repositories: [
    makeRepository({
      collaborators: {
        known: true,
        value: [
          { login: "alice", permission: "admin", outside: false },
          { login: "bob-work", permission: "write", outside: false },
          { login: "carol", permission: "read", outside: false },
          { login: "dana", permission: "write", outside: true },
        ],
      },
    }),
  ],
});

/** The people as the policy declares them, parsed and layered like any organization policy. */
function peopleOf(yaml: string) {
  const policy = loadPolicy([{ file: "org.yml", text: `version: 1\npeople:\n${yaml}` }], CONTROLS);
  return peopleDirectory(policy.people, "github");
}

const PEOPLE = `  alice: { github: [alice] }
  bob: { github: [bob, bob-work], left_on: 2026-10-15 }
  carol: { github: [carol], left_on: 2026-01-31 }
`;

function judge(
  people = peopleOf(PEOPLE),
  at = new Date("2026-11-01T00:00:00Z"),
  params = defaults,
  facts = snapshot,
) {
  return leavers.evaluate(facts.organization!, makeContext(params, { snapshot: facts, people, at }));
}

function outcomes(results: Evaluation[]) {
  return results.map((result) => [result.subject.id, result.outcome]);
}

describe("cc6.leavers", () => {
  it("defaults to one day of grace and rejects unknown keys", () => {
    expect(defaults).toEqual({ grace_days: 1 });
    expect(() => leavers.params.parse({ grace: 3 })).toThrow();
  });

  it("fails a leaver's account that still has write access after left_on plus grace, naming person, grant and date", () => {
    const results = judge();
    expect(outcomes(results)).toEqual([
      ["acme:@alice", "pass"],
      ["acme:@bob-work", "fail"],
      ["acme:@dana", "unknown"],
    ]);
    const bob = results[1]!;
    expect(bob.reason).toBe(
      "bob left on 2026-10-15, and their account @bob-work still has write (acme/api: write) after the 1-day grace period.",
    );
    expect(bob.evidence).toEqual([
      { label: "member", value: "bob-work" },
      { label: "highest permission", value: "write" },
      { label: "access", value: "acme/api: write" },
      { label: "person", value: "bob" },
      { label: "left on", value: "2026-10-15", at: "2026-10-15T00:00:00.000Z" },
      { label: "access to be removed by", value: "2026-10-17T00:00:00.000Z" },
    ]);
    // carol left but reads only: no write grant, nothing to judge
    expect(results.some((result) => result.subject.user === "carol")).toBe(false);
  });

  it("lists an account with access that belongs to no person as an unknown person", () => {
    const dana = judge()[2]!;
    expect(dana.subject).toEqual({ kind: "collaborator", id: "acme:@dana", user: "dana" });
    expect(dana.reason).toMatch(/@dana has write and belongs to no person of the policy \(unknown person\)/);
    expect(dana.evidence).toContainEqual({ label: "person", value: "unknown person" });
  });

  it("passes a leaver within the grace period, and fails them the day it ends", () => {
    const during = judge(undefined, new Date("2026-10-16T23:59:59Z"));
    expect(during[1]?.outcome).toBe("pass");
    expect(during[1]?.reason).toMatch(/left on 2026-10-15: still within the 1-day grace period/);
    expect(judge(undefined, new Date("2026-10-17T00:00:00Z"))[1]?.outcome).toBe("fail");
    expect(judge(undefined, new Date("2026-10-20T00:00:00Z"), { grace_days: 7 })[1]?.outcome).toBe("pass");
  });

  it("fails an owner who left: owners hold admin on every repository", () => {
    const people = peopleOf(`  alice: { github: [alice], left_on: 2026-09-30 }\n`);
    const alice = judge(people).find((result) => result.subject.id === "acme:@alice");
    expect(alice?.outcome).toBe("fail");
    expect(alice?.reason).toMatch(/still has admin \(organization owner; acme\/api: admin\)/);
  });

  it("is not applicable, listing the accounts, while the policy's people names nobody", () => {
    const results = judge(peopleDirectory([], "github"));
    expect(outcomes(results)).toEqual([["acme", "not-applicable"]]);
    expect(results[0]?.reason).toMatch(/names nobody, so leavers are not checked: 3 account\(s\)/);
    expect(results[0]?.evidence).toContainEqual({ label: "unknown person", value: "@dana (write)" });
  });

  it("is unknown, naming the permission, when the members cannot be read", () => {
    const hidden = { ...snapshot, organization: makeOrganization({ members: unknownOf("members:read") }) };
    const results = judge(undefined, undefined, defaults, hidden);
    expect(outcomes(results)).toEqual([["acme", "unknown"]]);
    expect(results[0]?.reason).toMatch(/cannot read the organization's members: members:read/);
  });
});
