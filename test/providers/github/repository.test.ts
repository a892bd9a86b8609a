import type nock from "nock";
import { describe, expect, it } from "vitest";
import type { BranchRule, Repository } from "../../../src/model/index.js";
import { fixture, github, makePolicy, testHost, useHttpMock } from "./mock.js";

const REPO = {
  full_name: "acme/api",
  html_url: "https://github.com/acme/api",
  private: true,
  visibility: "private",
  archived: false,
  default_branch: "main",
  owner: { login: "acme" },
};

/** The requests every healthy collection makes besides branch rules. */
function mockAccess(scope: nock.Scope): nock.Scope {
  return scope
    .get("/repos/acme/api/collaborators")
    .query({ affiliation: "all", per_page: 100 })
    .reply(200, [
      { login: "alice", role_name: "admin", permissions: { admin: true, push: true, pull: true } },
    ])
    .get("/repos/acme/api/collaborators")
    .query({ affiliation: "outside", per_page: 100 })
    .reply(200, [])
    .get("/repos/acme/api/teams")
    .query({ per_page: 100 })
    .reply(200, [{ slug: "engineering", permission: "push" }])
    .get("/repos/acme/api/keys")
    .query({ per_page: 100 })
    .reply(200, []);
}

function mockRepo(scope: nock.Scope = github()): nock.Scope {
  return scope.get("/repos/acme/api").reply(200, REPO);
}

const PULL_REQUEST_RULE = {
  type: "pull_request",
  ruleset_source_type: "Repository",
  ruleset_source: "acme/api",
  ruleset_id: 12,
  parameters: {
    required_approving_review_count: 2,
    dismiss_stale_reviews_on_push: false,
    require_code_owner_review: true,
    require_last_push_approval: true,
    required_review_thread_resolution: false,
  },
};

describe("collectRepository", () => {
  useHttpMock();

  it("merges classic protection and a ruleset into one effective rule, the stricter value winning", async () => {
    const scope = mockAccess(mockRepo())
      .get("/repos/acme/api/rules/branches/main")
      .query({ per_page: 100 })
      .reply(200, [
        PULL_REQUEST_RULE,
        {
          type: "required_status_checks",
          ruleset_id: 12,
          parameters: {
            strict_required_status_checks_policy: true,
            required_status_checks: [{ context: "security/snyk", integration_id: 9426 }, { context: "lint" }],
          },
        },
        { type: "deletion", ruleset_id: 12 },
      ])
      .get("/repos/acme/api/rulesets/12")
      .query({ includes_parents: true })
      .reply(200, {
        id: 12,
        name: "production",
        bypass_actors: [{ actor_id: 5, actor_type: "RepositoryRole", bypass_mode: "always" }],
      })
      .get("/repos/acme/api/branches/main/protection")
      .reply(200, fixture("branch-protection.json"));

    const repository = await testHost().collectRepository("acme/api", makePolicy());

    expect(repository).toEqual({
      fullName: "acme/api",
      url: "https://github.com/acme/api",
      visibility: "private",
      archived: false,
      defaultBranch: "main",
      productionBranches: ["main"],
      branchRules: {
        known: true,
        value: [
          {
            branch: "main",
            sources: ["branch-protection", "ruleset:12"],
            requirePullRequest: true,
            requiredApprovals: 2,
            dismissStaleApprovals: true,
            requireCodeOwnerReview: true,
            requireLastPushApproval: true,
            requiredStatusChecks: ["ci/test", "security/snyk", "lint"],
            enforceAdmins: true,
            allowForcePushes: false,
            allowDeletions: false,
            bypassActors: ["RepositoryRole:5"],
            bypassActorsVisible: true,
            // Pinned to the app GitHub names (checks[].app_id, integration_id); lint from any source.
            requiredCheckApps: { "ci/test": 15368, "security/snyk": 9426 },
            // The ruleset's strict policy: whether the head was up to date at the merge is not read.
            otherRequirements: ["require_code_owner_review", "required_status_checks_up_to_date"],
          },
        ],
      },
      collaborators: { known: true, value: [{ login: "alice", permission: "admin", outside: false }] },
      teams: { known: true, value: [{ slug: "engineering", permission: "write" }] },
      deployKeys: { known: true, value: [] },
      collectionError: null,
    } satisfies Repository);
    expect(scope.isDone()).toBe(true);
  });

  it("answers unknown naming administration:read when protection is forbidden", async () => {
    mockAccess(mockRepo())
      .get("/repos/acme/api/rules/branches/main")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/branches/main/protection")
      .reply(403, { message: "Resource not accessible by integration" });
    const host = testHost();

    const repository = await host.collectRepository("acme/api", makePolicy());

    expect(repository.branchRules).toEqual({
      known: false,
      permission: "administration:read",
      reason: "403 Resource not accessible by integration",
    });
    expect(host.drainUnreadable().map((u) => u.permission)).toEqual(["administration:read"]);
  });

  it("reads 404 Branch not protected as a branch without rules", async () => {
    mockAccess(mockRepo())
      .get("/repos/acme/api/rules/branches/main")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/branches/main/protection")
      .reply(404, { message: "Branch not protected", status: "404" });

    const repository = await testHost().collectRepository("acme/api", makePolicy());

    expect(repository.branchRules).toEqual({
      known: true,
      value: [
        {
          branch: "main",
          sources: [],
          requirePullRequest: false,
          requiredApprovals: 0,
          dismissStaleApprovals: false,
          requireCodeOwnerReview: false,
          requireLastPushApproval: false,
          requiredStatusChecks: [],
          enforceAdmins: false,
          allowForcePushes: true,
          allowDeletions: true,
          bypassActors: [],
          bypassActorsVisible: true,
          requiredCheckApps: {},
          otherRequirements: [],
        } satisfies BranchRule,
      ],
    });
  });

  it("keeps a ruleset's rules when GitHub hides its bypass actors, and says who could bypass is unknown", async () => {
    mockAccess(mockRepo())
      .get("/repos/acme/api/rules/branches/main")
      .query({ per_page: 100 })
      .reply(200, [PULL_REQUEST_RULE, { type: "non_fast_forward", ruleset_id: 12 }])
      .get("/repos/acme/api/rulesets/12")
      .query({ includes_parents: true })
      .reply(200, { id: 12, name: "production", source: "acme/api", enforcement: "active" })
      .get("/repos/acme/api/branches/main/protection")
      .reply(404, { message: "Branch not protected", status: "404" });
    const host = testHost();

    const repository = await host.collectRepository("acme/api", makePolicy());

    expect(repository.branchRules.known && repository.branchRules.value[0]).toMatchObject({
      sources: ["ruleset:12"],
      requirePullRequest: true,
      requiredApprovals: 2,
      allowForcePushes: false,
      // Whether administrators are bound is not shown: never "enforced" on a guess.
      enforceAdmins: false,
      bypassActors: [],
      bypassActorsVisible: false,
    });
    const [missing] = host.drainUnreadable();
    expect(missing?.what).toBe("bypass actors of ruleset 12");
    // The app already has administration:read: what is really missing is write access to rulesets.
    expect(missing?.permission).toMatch(/^write access to the repository's rulesets/);
  });

  it("selects production branches by pattern and follows the Link header across collaborator pages", async () => {
    const scope = mockRepo()
      .get("/repos/acme/api/branches")
      .query({ per_page: 100 })
      .reply(200, [
        { name: "main" },
        { name: "release/1.0" },
        { name: "release/1.0/hotfix" },
        { name: "feature/x" },
      ]);
    for (const branch of ["main", "release%2F1.0"]) {
      scope
        .get(`/repos/acme/api/rules/branches/${branch}`)
        .query({ per_page: 100 })
        .reply(200, [])
        .get(`/repos/acme/api/branches/${branch}/protection`)
        .reply(200, fixture("branch-protection.json"));
    }
    scope
      .get("/repos/acme/api/collaborators")
      .query({ affiliation: "all", per_page: 100 })
      .reply(200, [{ login: "alice", role_name: "admin" }], {
        Link: '<https://api.github.com/repositories/1/collaborators?affiliation=all&per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/collaborators?affiliation=all&per_page=100&page=2>; rel="last"',
      })
      .get("/repositories/1/collaborators")
      .query({ affiliation: "all", per_page: 100, page: 2 })
      .reply(200, [
        {
          login: "vendor-dev",
          role_name: "triage-plus",
          permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
        },
        { login: "bob", role_name: "write" },
      ])
      .get("/repos/acme/api/collaborators")
      .query({ affiliation: "outside", per_page: 100 })
      .reply(200, [{ login: "vendor-dev" }])
      .get("/repos/acme/api/teams")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/keys")
      .query({ per_page: 100 })
      .reply(403, { message: "Resource not accessible by integration" });

    const repository = await testHost().collectRepository(
      "acme/api",
      makePolicy({ patterns: ["release/*"] }),
    );

    expect(repository.productionBranches).toEqual(["main", "release/1.0"]);
    expect(repository.branchRules.known && repository.branchRules.value.map((r) => r.branch)).toEqual([
      "main",
      "release/1.0",
    ]);
    expect(repository.collaborators).toEqual({
      known: true,
      value: [
        { login: "alice", permission: "admin", outside: false },
        { login: "vendor-dev", permission: "write", outside: true },
        { login: "bob", permission: "write", outside: false },
      ],
    });
    expect(repository.deployKeys).toEqual({
      known: false,
      permission: "administration:read",
      reason: "403 Resource not accessible by integration",
    });
  });

  it("makes teams and collaborators unknown, never 'none', when a custom role comes without its permission flags", async () => {
    const scope = mockRepo()
      .get("/repos/acme/api/collaborators")
      .query({ affiliation: "all", per_page: 100 })
      .reply(200, [{ login: "vendor-dev", role_name: "security-manager" }])
      .get("/repos/acme/api/collaborators")
      .query({ affiliation: "outside", per_page: 100 })
      .reply(200, [{ login: "vendor-dev" }])
      .get("/repos/acme/api/teams")
      .query({ per_page: 100 })
      // A custom repository role names itself in `permission`; only the flags say its base access.
      .reply(200, [{ slug: "platform", permission: "platform-admin" }])
      .get("/repos/acme/api/keys")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/rules/branches/main")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/branches/main/protection")
      .reply(404, { message: "Branch not protected" });

    const repository = await testHost().collectRepository("acme/api", makePolicy());

    expect(scope.isDone()).toBe(true);
    // The rest of the repository is collected; only these two facts are unknown, saying why.
    expect(repository.collectionError).toBeNull();
    expect(repository.teams).toMatchObject({
      known: false,
      reason: expect.stringContaining("team platform the role platform-admin without the permission flags"),
    });
    expect(repository.collaborators).toMatchObject({
      known: false,
      reason: expect.stringContaining("collaborator vendor-dev the role security-manager"),
    });
  });

  it("records a collection error for a repository GitHub cannot serve, and the audit goes on", async () => {
    github().get("/repos/acme/broken").reply(500, { message: "Server Error" });
    mockAccess(mockRepo())
      .get("/repos/acme/api/rules/branches/main")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/branches/main/protection")
      .reply(200, fixture("branch-protection.json"));
    const host = testHost();

    const broken = await host.collectRepository("acme/broken", makePolicy());
    const healthy = await host.collectRepository("acme/api", makePolicy());

    expect(broken.collectionError).toBe("GitHub could not read repository acme/broken: 500 Server Error");
    expect(broken.branchRules).toEqual({
      known: false,
      permission: "metadata:read",
      reason: "500 Server Error",
    });
    expect(broken.url).toBe("https://github.com/acme/broken");
    expect(healthy.collectionError).toBeNull();
    expect(healthy.branchRules.known).toBe(true);
  });
});
