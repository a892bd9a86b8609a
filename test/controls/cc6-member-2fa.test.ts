import { describe, expect, it } from "vitest";
import { memberTwoFactor } from "../../src/controls/cc6-member-2fa.js";
import type { Evaluation } from "../../src/controls/types.js";
import { makeContext, makeOrganization, unknownOf } from "../fixtures/build.js";

const context = makeContext(memberTwoFactor.params.parse({}));

function outcomes(results: Evaluation[]) {
  return results.map((result) => [result.subject.id, result.outcome]);
}

describe("cc6.member-2fa", () => {
  it("passes each member when nobody lacks two-factor authentication", () => {
    const results = memberTwoFactor.evaluate(makeOrganization(), context);
    expect(outcomes(results)).toEqual([
      ["acme:@alice", "pass"],
      ["acme:@bob", "pass"],
      ["acme:@carol", "pass"],
    ]);
    expect(results[1]).toEqual({
      subject: { kind: "member", id: "acme:@bob", user: "bob" },
      outcome: "pass",
      reason: "@bob has two-factor authentication enabled.",
      evidence: [
        { label: "member", value: "bob" },
        { label: "role", value: "member" },
        { label: "two-factor authentication", value: "enabled" },
      ],
    });
  });

  it("fails the members listed without two-factor, matching logins case-insensitively", () => {
    const organization = makeOrganization({ membersWithoutTwoFactor: { known: true, value: ["BOB"] } });
    const results = memberTwoFactor.evaluate(organization, context);
    expect(outcomes(results)).toEqual([
      ["acme:@alice", "pass"],
      ["acme:@bob", "fail"],
      ["acme:@carol", "pass"],
    ]);
    expect(results[1]?.reason).toMatch(/@bob does not have two-factor/);
  });

  it("fails members in the grace period even when the organization requires two-factor", () => {
    const organization = makeOrganization({
      twoFactorRequired: { known: true, value: true },
      membersWithoutTwoFactor: { known: true, value: ["carol"] },
    });
    expect(outcomes(memberTwoFactor.evaluate(organization, context))).toContainEqual(["acme:@carol", "fail"]);
  });

  it("still fails a login listed without two-factor that the member list does not show", () => {
    const organization = makeOrganization({ membersWithoutTwoFactor: { known: true, value: ["dave"] } });
    expect(outcomes(memberTwoFactor.evaluate(organization, context))).toContainEqual(["acme:@dave", "fail"]);
  });

  it("is one unknown on the organization when the two-factor list is unreadable", () => {
    const organization = makeOrganization({ membersWithoutTwoFactor: unknownOf("members:read (owner)") });
    const results = memberTwoFactor.evaluate(organization, context);
    expect(outcomes(results)).toEqual([["acme", "unknown"]]);
    expect(results[0]?.reason).toMatch(/two-factor.*members:read \(owner\)/);
  });

  it("fails each listed login and is unknown on the organization when the member list is unreadable", () => {
    const organization = makeOrganization({
      members: unknownOf("members:read"),
      membersWithoutTwoFactor: { known: true, value: ["bob", "eve"] },
    });
    const results = memberTwoFactor.evaluate(organization, context);
    expect(outcomes(results)).toEqual([
      ["acme:@bob", "fail"],
      ["acme:@eve", "fail"],
      ["acme", "unknown"],
    ]);
    expect(results[2]?.reason).toMatch(/member list.*members:read/);
  });

  it("is unknown rather than a vacuous pass when no member is visible", () => {
    const organization = makeOrganization({ members: { known: true, value: [] } });
    const results = memberTwoFactor.evaluate(organization, context);
    expect(outcomes(results)).toEqual([["acme", "unknown"]]);
    expect(results[0]?.reason).toMatch(/No member is visible/);
  });
});
