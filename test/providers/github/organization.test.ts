import type nock from "nock";
import { describe, expect, it } from "vitest";
import { ProviderError } from "../../../src/errors.js";
import type { Organization } from "../../../src/model/index.js";
import { github, testHost, useHttpMock } from "./mock.js";

const ORG_ADMIN = "organization administration:read (members:read is not enough)";

function mockMembers(scope: nock.Scope): nock.Scope {
  return scope
    .get("/orgs/acme/members")
    .query({ role: "admin", per_page: 100 })
    .reply(200, [{ login: "alice" }])
    .get("/orgs/acme/members")
    .query({ role: "all", per_page: 100 })
    .reply(200, [{ login: "alice" }, { login: "bob" }])
    .get("/orgs/acme/invitations")
    .query({ per_page: 100 })
    .reply(200, [
      {
        id: 1,
        login: null,
        email: "dave@example.com",
        role: "direct_member",
        created_at: "2026-10-20T08:00:00Z",
        inviter: { login: "alice" },
      },
    ])
    .get("/orgs/acme/outside_collaborators")
    .query({ per_page: 100 })
    .reply(200, [{ login: "vendor-dev" }]);
}

describe("collectOrganization", () => {
  useHttpMock();

  it("reads an organization as an owner sees it", async () => {
    const scope = mockMembers(github())
      .get("/orgs/acme")
      .reply(200, {
        login: "acme",
        html_url: "https://github.com/acme",
        two_factor_requirement_enabled: true,
        default_repository_permission: "read",
      })
      .get("/orgs/acme/members")
      .query({ filter: "2fa_disabled", per_page: 100 })
      .reply(200, [{ login: "bob" }]);

    const organization = await testHost().collectOrganization("acme");

    expect(organization).toEqual({
      login: "acme",
      url: "https://github.com/acme",
      twoFactorRequired: { known: true, value: true },
      basePermission: { known: true, value: "read" },
      members: {
        known: true,
        value: [
          { login: "alice", role: "owner" },
          { login: "bob", role: "member" },
        ],
      },
      membersWithoutTwoFactor: { known: true, value: ["bob"] },
      invitations: {
        known: true,
        value: [
          {
            login: null,
            email: "dave@example.com",
            role: "direct_member",
            invitedAt: "2026-10-20T08:00:00Z",
            inviter: "alice",
          },
        ],
      },
      outsideCollaborators: { known: true, value: ["vendor-dev"] },
    } satisfies Organization);
    expect(scope.isDone()).toBe(true);
  });

  it("answers unknown for owner-only facts when the credentials are not an owner's", async () => {
    mockMembers(github())
      .get("/orgs/acme")
      .reply(200, { login: "acme", html_url: "https://github.com/acme" })
      .get("/orgs/acme/members")
      .query({ filter: "2fa_disabled", per_page: 100 })
      .reply(403, { message: "Resource not accessible by integration" });
    const host = testHost();

    const organization = await host.collectOrganization("acme");

    expect(organization.twoFactorRequired).toEqual({
      known: false,
      permission: ORG_ADMIN,
      reason: "GitHub did not return two_factor_requirement_enabled",
    });
    expect(organization.basePermission).toMatchObject({ known: false, permission: ORG_ADMIN });
    expect(organization.membersWithoutTwoFactor).toEqual({
      known: false,
      permission: ORG_ADMIN,
      reason: "403 Resource not accessible by integration",
    });
    expect(organization.members.known).toBe(true);
    expect(host.drainUnreadable().map((u) => u.what)).toEqual([
      "two_factor_requirement_enabled",
      "default_repository_permission",
      "members without two-factor authentication",
    ]);
  });

  it("fails with a ProviderError when the primary rate limit is exhausted", async () => {
    github()
      .get("/orgs/acme")
      .reply(
        403,
        { message: "API rate limit exceeded for installation ID 1." },
        { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1800000000" },
      );

    const error = await testHost()
      .collectOrganization("acme")
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toBe(
      "GitHub API rate limit exhausted while reading organization acme; it resets at 2027-01-15T08:00:00.000Z",
    );
  });
});

describe("listRepositories", () => {
  useHttpMock();

  it("streams every repository's full name across pages", async () => {
    github()
      .get("/orgs/acme/repos")
      .query({ type: "all", per_page: 100 })
      .reply(200, [{ full_name: "acme/api" }, { full_name: "acme/web" }], {
        Link: '<https://api.github.com/organizations/9/repos?type=all&per_page=100&page=2>; rel="next"',
      })
      .get("/organizations/9/repos")
      .query({ type: "all", per_page: 100, page: 2 })
      .reply(200, [{ full_name: "acme/old", archived: true }]);

    const names: string[] = [];
    for await (const name of testHost().listRepositories("acme")) names.push(name);

    expect(names).toEqual(["acme/api", "acme/web", "acme/old"]);
  });
});
