import { describe, expect, it } from "vitest";
import { API, fixture, gitlab, strictNock, testHost } from "./helpers.js";

strictNock();

const GROUP = `${API}/groups/acme`;

function mockGroup(members: unknown[]): void {
  gitlab()
    .get(GROUP)
    .reply(200, fixture("group"))
    .get(`${GROUP}/members/all`)
    .query(true)
    .reply(200, members)
    .get(`${GROUP}/invitations`)
    .query(true)
    .reply(200, fixture("group-invitations"))
    .get(`${GROUP}/projects`)
    .query(true)
    .reply(200, [{ id: 3, path_with_namespace: "acme/api" }])
    .get(`${API}/projects/acme%2Fapi/members`)
    .query(true)
    .reply(200, fixture("project-members"));
}

describe("GitLab collectOrganization", () => {
  it("lists members without two-factor authentication when the token is an instance administrator's", async () => {
    mockGroup(fixture("group-members-admin"));
    const { host } = testHost();
    expect(await host.collectOrganization("acme")).toEqual({
      login: "acme",
      url: "https://gitlab.example.com/groups/acme",
      twoFactorRequired: { known: true, value: true },
      basePermission: { known: true, value: "none" },
      members: {
        known: true,
        value: [
          { login: "alice", role: "owner" },
          { login: "bob", role: "member" },
          { login: "carol", role: "member" },
        ],
      },
      membersWithoutTwoFactor: { known: true, value: ["bob"] },
      invitations: {
        known: true,
        value: [
          {
            login: null,
            email: "dave@partner.example",
            role: "developer",
            invitedAt: "2026-08-01T12:00:00.000Z",
            inviter: "Alice Liddell",
          },
        ],
      },
      outsideCollaborators: { known: true, value: ["erin"] },
    });
  });

  it("says two-factor status is unknown, naming the instance administrator, when the field is absent", async () => {
    const members = fixture<Array<Record<string, unknown>>>("group-members-admin").map(
      ({ two_factor_enabled: _hidden, ...member }) => member,
    );
    mockGroup(members);
    const { host } = testHost();
    const organization = await host.collectOrganization("acme");
    expect(organization.membersWithoutTwoFactor).toEqual({
      known: false,
      permission: "instance administrator",
      reason: "two_factor_enabled is only shown to instance administrators",
    });
    expect(organization.members.known).toBe(true);
  });
});
