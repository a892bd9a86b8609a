import { describe, expect, it } from "vitest";
import { staleInvitations } from "../../src/controls/cc6-stale-invitations.js";
import type { Evaluation } from "../../src/controls/types.js";
import type { Invitation } from "../../src/model/index.js";
import { AT, makeContext, makeOrganization, unknownOf } from "../fixtures/build.js";

const defaults = staleInvitations.params.parse({});
const DAY_MS = 24 * 60 * 60 * 1000;

function daysBefore(days: number, extraMs = 0): string {
  return new Date(AT.getTime() - days * DAY_MS - extraMs).toISOString();
}

function invitation(overrides: Partial<Invitation> = {}): Invitation {
  return {
    login: "dave",
    email: null,
    role: "direct_member",
    invitedAt: daysBefore(3),
    inviter: "alice",
    ...overrides,
  };
}

function withInvitations(value: Invitation[]) {
  return makeOrganization({ invitations: { known: true, value } });
}

function outcomes(results: Evaluation[]) {
  return results.map((result) => [result.subject.id, result.outcome]);
}

describe("cc6.stale-invitations", () => {
  it("defaults to 30 days and rejects a fractional maximum", () => {
    expect(defaults).toEqual({ max_days: 30 });
    expect(() => staleInvitations.params.parse({ max_days: 1.5 })).toThrow();
  });

  it("passes the organization once when nothing is pending", () => {
    const results = staleInvitations.evaluate(makeOrganization(), makeContext(defaults));
    expect(outcomes(results)).toEqual([["acme", "pass"]]);
    expect(results[0]?.reason).toBe("No pending invitations.");
  });

  it("gives one result per invitation: recent passes, old fails with its age and inviter", () => {
    const organization = withInvitations([
      invitation(),
      invitation({ login: "erin", invitedAt: daysBefore(45), inviter: "bob" }),
    ]);
    const results = staleInvitations.evaluate(organization, makeContext(defaults));
    expect(outcomes(results)).toEqual([
      ["acme:invite:@dave", "pass"],
      ["acme:invite:@erin", "fail"],
    ]);
    expect(results[0]?.reason).toBe("Invited 3 days ago by @alice, within the 30 days allowed.");
    expect(results[1]?.reason).toMatch(/^Invited 45 days ago by @bob, pending longer than the 30 days/);
    expect(results[1]?.subject).toEqual({ kind: "invitation", id: "acme:invite:@erin", user: "erin" });
  });

  it("passes at exactly max_days and fails just after", () => {
    const exactly = withInvitations([invitation({ invitedAt: daysBefore(30) })]);
    expect(staleInvitations.evaluate(exactly, makeContext(defaults))[0]?.outcome).toBe("pass");
    const justAfter = withInvitations([invitation({ invitedAt: daysBefore(30, 1000) })]);
    expect(staleInvitations.evaluate(justAfter, makeContext(defaults))[0]?.outcome).toBe("fail");
  });

  it("never puts an invitee's e-mail address in the subject, reason or evidence", () => {
    const organization = withInvitations([
      invitation({ login: null, email: "jane.doe@example.com", invitedAt: daysBefore(40), inviter: null }),
    ]);
    const [result] = staleInvitations.evaluate(organization, makeContext(defaults));
    expect(result?.outcome).toBe("fail");
    expect(result?.subject.id).toMatch(/^acme:invite:email:j\*\*\*@example\.com~[0-9a-f]{8}$/);
    expect(result?.reason).toMatch(/by an unknown inviter/);
    expect(result?.evidence).toContainEqual({
      label: "invitee",
      value: result?.subject.id.split(":invite:")[1],
    });
    expect(JSON.stringify(result)).not.toMatch(/jane\.doe/);
  });

  it("gives two addresses with the same first letter and domain different subjects", () => {
    const organization = withInvitations([
      invitation({ login: null, email: "alice@example.com", invitedAt: daysBefore(40) }),
      invitation({ login: null, email: "andy@example.com", invitedAt: daysBefore(40) }),
    ]);
    const ids = staleInvitations.evaluate(organization, makeContext(defaults)).map((r) => r.subject.id);
    expect(new Set(ids).size).toBe(2);
  });

  it("is one unknown on the organization when invitations are unreadable", () => {
    const organization = makeOrganization({ invitations: unknownOf("members:read") });
    const results = staleInvitations.evaluate(organization, makeContext(defaults));
    expect(outcomes(results)).toEqual([["acme", "unknown"]]);
    expect(results[0]?.reason).toMatch(/invitations.*members:read/);
  });
});
