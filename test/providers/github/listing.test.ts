/**
 * An audit lists the organization's repositories and outside collaborators first; collecting a
 * repository then reuses those answers instead of asking GET /repos/{owner}/{repo} and
 * collaborators?affiliation=outside again, and gives the same facts as asking.
 */
import type nock from "nock";
import { describe, expect, it } from "vitest";
import type { CodeHost } from "../../../src/providers/types.js";
import { github, makePolicy, testHost, useHttpMock } from "./mock.js";

const API_REPO = {
  full_name: "acme/api",
  html_url: "https://github.com/acme/api",
  private: true,
  visibility: "private",
  archived: false,
  default_branch: "main",
  owner: { login: "acme" },
};

/** Everything but GET /repos/acme/api and the affiliation=outside list. */
function mockRepositoryFacts(scope: nock.Scope): nock.Scope {
  return scope
    .get("/repos/acme/api/rules/branches/main")
    .query({ per_page: 100 })
    .reply(200, [])
    .get("/repos/acme/api/branches/main/protection")
    .reply(404, { message: "Branch not protected" })
    .get("/repos/acme/api/collaborators")
    .query({ affiliation: "all", per_page: 100 })
    .reply(200, [
      { login: "alice", role_name: "admin" },
      { login: "vendor-dev", role_name: "write" },
    ])
    .get("/repos/acme/api/teams")
    .query({ per_page: 100 })
    .reply(200, [])
    .get("/repos/acme/api/keys")
    .query({ per_page: 100 })
    .reply(200, []);
}

function mockAskedDirectly(scope: nock.Scope): nock.Scope {
  return scope
    .get("/repos/acme/api")
    .reply(200, API_REPO)
    .get("/repos/acme/api/collaborators")
    .query({ affiliation: "outside", per_page: 100 })
    .reply(200, [{ login: "vendor-dev", role_name: "write" }]);
}

function mockOrganization(scope: nock.Scope, outside: { status: number; body: unknown }): nock.Scope {
  return scope
    .get("/orgs/acme")
    .reply(200, { login: "acme", html_url: "https://github.com/acme" })
    .get("/orgs/acme/members")
    .query({ role: "admin", per_page: 100 })
    .reply(200, [{ login: "alice" }])
    .get("/orgs/acme/members")
    .query({ role: "all", per_page: 100 })
    .reply(200, [{ login: "alice" }])
    .get("/orgs/acme/members")
    .query({ filter: "2fa_disabled", per_page: 100 })
    .reply(200, [])
    .get("/orgs/acme/invitations")
    .query({ per_page: 100 })
    .reply(200, [])
    .get("/orgs/acme/outside_collaborators")
    .query({ per_page: 100 })
    .reply(outside.status, outside.body as nock.Body);
}

function mockListing(scope: nock.Scope, repos: unknown[]): nock.Scope {
  return scope.get("/orgs/acme/repos").query({ type: "all", per_page: 100 }).reply(200, repos);
}

async function auditOrder(host: CodeHost) {
  await host.collectOrganization("acme");
  const names: string[] = [];
  for await (const name of host.listRepositories("acme")) names.push(name);
  return Promise.all(names.map((name) => host.collectRepository(name, makePolicy())));
}

describe("collectRepository after the organization's listing", () => {
  useHttpMock();

  it("reuses the listed settings and outside collaborators, with the facts asking would give", async () => {
    mockRepositoryFacts(mockAskedDirectly(github()));
    const asked = await testHost().collectRepository("acme/api", makePolicy());

    mockRepositoryFacts(
      mockListing(mockOrganization(github(), { status: 200, body: [{ login: "vendor-dev" }] }), [API_REPO]),
    );
    const reused = await auditOrder(testHost());

    expect(reused).toEqual([asked]);
    expect(asked.collaborators).toEqual({
      known: true,
      value: [
        { login: "alice", permission: "admin", outside: false },
        { login: "vendor-dev", permission: "write", outside: true },
      ],
    });
    expect(asked.visibility).toBe("private");
  });

  it("asks the repository when the organization's outside collaborators are unreadable", async () => {
    mockRepositoryFacts(
      mockListing(mockOrganization(github(), { status: 403, body: { message: "Must have admin rights" } }), [
        API_REPO,
      ]),
    )
      .get("/repos/acme/api/collaborators")
      .query({ affiliation: "outside", per_page: 100 })
      .reply(200, [{ login: "vendor-dev", role_name: "write" }]);

    const [repository] = await auditOrder(testHost());

    expect(repository?.collaborators).toEqual({
      known: true,
      value: [
        { login: "alice", permission: "admin", outside: false },
        { login: "vendor-dev", permission: "write", outside: true },
      ],
    });
  });

  it("asks GET /repos when the listing lacks a setting, or for a repository it did not list", async () => {
    const { default_branch: _dropped, ...incomplete } = API_REPO;
    mockRepositoryFacts(mockAskedDirectly(mockListing(github(), [incomplete])));
    const host = testHost();
    const names: string[] = [];
    for await (const name of host.listRepositories("acme")) names.push(name);

    const repository = await host.collectRepository("acme/api", makePolicy());

    expect(names).toEqual(["acme/api"]);
    expect(repository.defaultBranch).toBe("main");
    expect(repository.collectionError).toBeNull();
  });

  it("asks afresh when the same repository is collected a second time", async () => {
    mockRepositoryFacts(
      mockListing(mockOrganization(github(), { status: 200, body: [{ login: "vendor-dev" }] }), [API_REPO]),
    );
    const host = testHost();
    const [first] = await auditOrder(host);
    // Branch rules stay cached per host; the settings do not.
    github()
      .get("/repos/acme/api")
      .reply(200, { ...API_REPO, archived: true })
      .get("/repos/acme/api/collaborators")
      .query({ affiliation: "all", per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/teams")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/keys")
      .query({ per_page: 100 })
      .reply(200, []);

    const second = await host.collectRepository("acme/api", makePolicy());

    expect(first?.archived).toBe(false);
    expect(second.archived).toBe(true);
  });
});
