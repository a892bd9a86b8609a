import { describe, expect, it } from "vitest";
import { ownerCount } from "../../src/controls/cc6-owner-count.js";
import { makeContext, makeOrganization, unknownOf } from "../fixtures/build.js";
import type { Member } from "../../src/model/index.js";

const defaults = ownerCount.params.parse({});

function withMembers(value: Member[]) {
  return makeOrganization({ members: { known: true, value } });
}

describe("cc6.owner-count", () => {
  it("defaults to at most 3 owners and rejects bad parameters", () => {
    expect(defaults).toEqual({ max_owners: 3 });
    expect(() => ownerCount.params.parse({ max_owners: 0 })).toThrow();
    expect(() => ownerCount.params.parse({ max_owners: 2.5 })).toThrow();
    expect(() => ownerCount.params.parse({ maxOwners: 2 })).toThrow();
  });

  it("passes with owners within the maximum", () => {
    const results = ownerCount.evaluate(makeOrganization(), makeContext(defaults));
    expect(results).toEqual([
      {
        subject: { kind: "organization", id: "acme", url: "https://github.com/acme" },
        outcome: "pass",
        reason: "1 owner (@alice), within the maximum of 3.",
        evidence: [
          { label: "maximum owners", value: "3" },
          { label: "owner", value: "alice" },
        ],
      },
    ]);
  });

  it("passes at exactly the maximum and fails above it, naming the owners", () => {
    const members: Member[] = [
      { login: "alice", role: "owner" },
      { login: "bob", role: "owner" },
      { login: "carol", role: "member" },
    ];
    const context = makeContext({ max_owners: 2 });
    expect(ownerCount.evaluate(withMembers(members), context)[0]?.outcome).toBe("pass");

    const more = [...members, { login: "dave", role: "owner" as const }];
    const [result] = ownerCount.evaluate(withMembers(more), context);
    expect(result?.outcome).toBe("fail");
    expect(result?.subject.id).toBe("acme");
    expect(result?.reason).toBe("3 owners (@alice, @bob, @dave), more than the maximum of 2.");
  });

  it("is unknown when the members are unreadable", () => {
    const organization = makeOrganization({ members: unknownOf("members:read") });
    const results = ownerCount.evaluate(organization, makeContext(defaults));
    expect(results.map((r) => [r.subject.id, r.outcome])).toEqual([["acme", "unknown"]]);
    expect(results[0]?.reason).toMatch(/members:read/);
  });

  it("is unknown when no owner is visible", () => {
    const organization = withMembers([{ login: "bob", role: "member" }]);
    const [result] = ownerCount.evaluate(organization, makeContext(defaults));
    expect(result?.outcome).toBe("unknown");
    expect(result?.reason).toMatch(/No owner visible/);
  });
});
