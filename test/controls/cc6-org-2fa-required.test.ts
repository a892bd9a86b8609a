import { describe, expect, it } from "vitest";
import { orgTwoFactorRequired } from "../../src/controls/cc6-org-2fa-required.js";
import { makeContext, makeOrganization, unknownOf } from "../fixtures/build.js";

const context = makeContext(orgTwoFactorRequired.params.parse({}));

describe("cc6.org-2fa-required", () => {
  it("passes when the organization requires two-factor authentication", () => {
    const [result, ...rest] = orgTwoFactorRequired.evaluate(makeOrganization(), context);
    expect(rest).toEqual([]);
    expect(result).toEqual({
      subject: { kind: "organization", id: "acme", url: "https://github.com/acme" },
      outcome: "pass",
      reason: "The organization requires two-factor authentication of every member.",
      evidence: [{ label: "two-factor required", value: "true" }],
    });
  });

  it("fails when the requirement is off", () => {
    const organization = makeOrganization({ twoFactorRequired: { known: true, value: false } });
    const results = orgTwoFactorRequired.evaluate(organization, context);
    expect(results.map((r) => [r.subject.id, r.outcome])).toEqual([["acme", "fail"]]);
    expect(results[0]?.reason).toMatch(/does not require two-factor/);
  });

  it("is unknown, naming the permission, when the setting is unreadable", () => {
    const organization = makeOrganization({
      twoFactorRequired: unknownOf("organization_administration:read"),
    });
    const results = orgTwoFactorRequired.evaluate(organization, context);
    expect(results.map((r) => [r.subject.id, r.outcome])).toEqual([["acme", "unknown"]]);
    expect(results[0]?.reason).toMatch(/organization_administration:read/);
  });

  it("takes no parameters and rejects unknown ones", () => {
    expect(orgTwoFactorRequired.params.parse({})).toEqual({});
    expect(() => orgTwoFactorRequired.params.parse({ required: true })).toThrow();
  });
});
