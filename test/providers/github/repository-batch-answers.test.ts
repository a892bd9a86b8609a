/**
 * What the repository batch does with GitHub's answers that are not plain facts: a policy path that
 * holds a symlink, a directory or a truncated blob is answered by REST exactly as readFile always
 * answered it; a refused field is unknown with its permission; an error the batch does not know
 * leaves the repository to REST. GitHub's answers as documented: null data with an error naming
 * the field's path and its type.
 */
import { describe, expect, it } from "vitest";
import type { PullRequestNode } from "../../../src/providers/github/schema.js";
import { fixture, github, makePolicy, testHost, useHttpMock } from "./mock.js";
import { asMergedPageNode } from "./pull-worlds.js";

useHttpMock();

const PERIOD = { since: new Date("2026-10-01T00:00:00Z"), until: new Date("2026-10-31T23:59:59Z") };
const POLICY = ".github/soc2.yml";

function protection() {
  return {
    requiresApprovingReviews: true,
    requiredApprovingReviewCount: 2,
    dismissesStaleReviews: true,
    requiresCodeOwnerReviews: false,
    requireLastPushApproval: false,
    requiresStatusChecks: true,
    requiresStrictStatusChecks: true,
    requiredStatusCheckContexts: ["ci/test"],
    requiredStatusChecks: [{ context: "ci/test", app: null }],
    isAdminEnforced: true,
    allowsForcePushes: false,
    allowsDeletions: false,
    requiresCommitSignatures: false,
    requiresLinearHistory: false,
    requiresConversationResolution: false,
    lockBranch: false,
    restrictsPushes: false,
    bypassPullRequestAllowances: { totalCount: 0, nodes: [] },
    pushAllowances: { totalCount: 0, nodes: [] },
  };
}

function repositoryNode(file: unknown, overrides: Record<string, unknown> = {}) {
  return {
    nameWithOwner: "acme/api",
    url: "https://github.com/acme/api",
    visibility: "PRIVATE",
    isArchived: false,
    isPrivate: true,
    viewerPermission: "ADMIN",
    defaultBranchRef: {
      name: "main",
      target: { __typename: "Commit", file },
      branchProtectionRule: protection(),
      rules: { totalCount: 0, nodes: [] },
    },
    collaborators: {
      totalCount: 1,
      pageInfo: { hasNextPage: false, endCursor: "Y3Vyc29yOnYyOjA=" },
      edges: [{ permission: "ADMIN", node: { login: "alice" } }],
    },
    ...overrides,
  };
}

const TEAMS = {
  organization: {
    teams: {
      pageInfo: { hasNextPage: false, endCursor: null },
      nodes: [
        {
          slug: "engineering",
          repositories: {
            pageInfo: { hasNextPage: false, endCursor: null },
            edges: [{ permission: "WRITE", node: { nameWithOwner: "acme/api" } }],
          },
        },
      ],
    },
  },
};

/** Answers the batch and the organization's teams walk, whichever comes first. */
function answerGraphql(facts: { data: unknown; errors?: unknown[] }) {
  github()
    .post("/graphql")
    .times(2)
    .reply((_uri, body) => {
      const request = body as { query: string; variables: Record<string, unknown> };
      if (request.query.includes("query OrganizationTeams(")) return [200, { data: TEAMS }];
      expect(request.query).toContain("query RepositoryFacts(");
      expect(request.variables).toMatchObject({ o0: "acme", n0: "api", path: POLICY, branches: false });
      return [200, facts];
    });
}

const keys = { deployKeys: { totalCount: 0 } };

describe("the repository batch with GitHub's answers", () => {
  it("reads a policy file that is a blob from the batch, with no REST request", async () => {
    answerGraphql({
      data: {
        rateLimit: { cost: 1 },
        r0: repositoryNode({
          mode: 0o100644,
          type: "blob",
          object: {
            __typename: "Blob",
            text: "version: 1\n",
            isBinary: false,
            isTruncated: false,
            byteSize: 11,
          },
        }),
        k0: keys,
      },
    });
    const host = testHost();
    await host.prefetchRepositories?.(["acme/api"], makePolicy(), PERIOD);
    await expect(host.readFile("acme/api", POLICY, "main")).resolves.toBe("version: 1\n");
  });

  it("says no policy file only when the path holds nothing", async () => {
    answerGraphql({ data: { rateLimit: { cost: 1 }, r0: repositoryNode(null), k0: keys } });
    const host = testHost();
    await host.prefetchRepositories?.(["acme/api"], makePolicy(), PERIOD);
    await expect(host.readFile("acme/api", POLICY, "main")).resolves.toBeNull();
  });

  it("leaves a symlink at the policy path to REST, which refuses it as before", async () => {
    answerGraphql({
      data: {
        rateLimit: { cost: 1 },
        r0: repositoryNode({
          mode: 0o120000,
          type: "blob",
          object: {
            __typename: "Blob",
            text: "../policy.yml",
            isBinary: false,
            isTruncated: false,
            byteSize: 13,
          },
        }),
        k0: keys,
      },
    });
    github()
      .get("/repos/acme/api/contents/.github%2Fsoc2.yml")
      .query({ ref: "main" })
      .reply(200, { type: "symlink", target: "../policy.yml", name: "soc2.yml", path: POLICY, size: 13 });
    const host = testHost();
    await host.prefetchRepositories?.(["acme/api"], makePolicy(), PERIOD);
    await expect(host.readFile("acme/api", POLICY, "main")).rejects.toThrow(
      /a symlink \(to \.\.\/policy\.yml\)/,
    );
  });

  it("leaves a directory at the policy path to REST, which refuses it as before", async () => {
    answerGraphql({
      data: {
        rateLimit: { cost: 1 },
        r0: repositoryNode({ mode: 0o40000, type: "tree", object: { __typename: "Tree" } }),
        k0: keys,
      },
    });
    github()
      .get("/repos/acme/api/contents/.github%2Fsoc2.yml")
      .query({ ref: "main" })
      .reply(200, [{ type: "file", name: "a.yml", path: `${POLICY}/a.yml` }]);
    const host = testHost();
    await host.prefetchRepositories?.(["acme/api"], makePolicy(), PERIOD);
    await expect(host.readFile("acme/api", POLICY, "main")).rejects.toThrow(/a directory/);
  });

  it("reads a truncated blob through REST instead of judging by part of it", async () => {
    answerGraphql({
      data: {
        rateLimit: { cost: 1 },
        r0: repositoryNode({
          mode: 0o100644,
          type: "blob",
          object: {
            __typename: "Blob",
            text: "version: 1\n# part",
            isBinary: false,
            isTruncated: true,
            byteSize: 600000,
          },
        }),
        k0: keys,
      },
    });
    github()
      .get("/repos/acme/api/contents/.github%2Fsoc2.yml")
      .query({ ref: "main" })
      .reply(200, {
        type: "file",
        encoding: "base64",
        content: Buffer.from("version: 1\n# whole").toString("base64"),
      });
    const host = testHost();
    await host.prefetchRepositories?.(["acme/api"], makePolicy(), PERIOD);
    await expect(host.readFile("acme/api", POLICY, "main")).resolves.toBe("version: 1\n# whole");
  });

  it("makes refused protection, collaborators and deploy keys unknown with the permission REST names", async () => {
    const refused = (path: string[]) => ({
      type: "FORBIDDEN",
      path,
      extensions: { saml_failure: false },
      locations: [{ line: 1, column: 1 }],
      message: "Resource not accessible by integration",
    });
    const node = repositoryNode(null, { collaborators: null });
    node.defaultBranchRef.branchProtectionRule = null as unknown as ReturnType<typeof protection>;
    answerGraphql({
      data: { rateLimit: { cost: 1 }, r0: node, k0: null },
      errors: [
        refused(["r0", "defaultBranchRef", "branchProtectionRule"]),
        refused(["r0", "collaborators"]),
        refused(["k0", "deployKeys"]),
      ],
    });
    const host = testHost();
    await host.prefetchRepositories?.(["acme/api"], makePolicy(), PERIOD);
    const repository = await host.collectRepository("acme/api", makePolicy());
    const reason = "403 Resource not accessible by integration";
    expect(repository.branchRules).toEqual({ known: false, permission: "administration:read", reason });
    expect(repository.collaborators).toEqual({ known: false, permission: "metadata:read", reason });
    expect(repository.deployKeys).toEqual({ known: false, permission: "administration:read", reason });
    expect(repository.teams).toEqual({ known: true, value: [{ slug: "engineering", permission: "write" }] });
  });

  it("reads the settings and the rule from the batch when no ruleset applies", async () => {
    answerGraphql({ data: { rateLimit: { cost: 1 }, r0: repositoryNode(null), k0: keys } });
    // The organization's outside collaborators are unknown to this host: REST asks the repository.
    github()
      .get("/repos/acme/api/collaborators")
      .query({ affiliation: "all", per_page: 100 })
      .reply(200, [{ login: "alice", role_name: "admin" }]);
    github()
      .get("/repos/acme/api/collaborators")
      .query({ affiliation: "outside", per_page: 100 })
      .reply(200, []);
    const host = testHost();
    await host.prefetchRepositories?.(["acme/api"], makePolicy(), PERIOD);
    const repository = await host.collectRepository("acme/api", makePolicy());
    expect(repository.branchRules.known && repository.branchRules.value[0]).toMatchObject({
      branch: "main",
      sources: ["branch-protection"],
      requirePullRequest: true,
      requiredApprovals: 2,
      requiredStatusChecks: ["ci/test"],
      otherRequirements: ["required_status_checks_up_to_date"],
      enforceAdmins: true,
    });
    expect(repository.deployKeys).toEqual({ known: true, value: [] });
    expect(repository).toMatchObject({
      fullName: "acme/api",
      url: "https://github.com/acme/api",
      visibility: "private",
      archived: false,
      defaultBranch: "main",
      productionBranches: ["main"],
    });
  });

  it("leaves a repository to REST when its answer carries an error the batch does not know", async () => {
    answerGraphql({
      data: { rateLimit: { cost: 1 }, r0: repositoryNode(null, { collaborators: null }), k0: keys },
      errors: [{ type: "SERVICE_UNAVAILABLE", path: ["r0", "collaborators"], message: "timed out" }],
    });
    github()
      .get("/repos/acme/api/contents/.github%2Fsoc2.yml")
      .query({ ref: "main" })
      .reply(404, { message: "Not Found" });
    const host = testHost();
    await host.prefetchRepositories?.(["acme/api"], makePolicy(), PERIOD);
    // REST answers the policy file (and would answer every other fact): nothing was taken from
    // a repository whose answer was partly broken.
    await expect(host.readFile("acme/api", POLICY, "main")).resolves.toBeNull();
  });

  it("asks REST whether there is protection or a deploy key when the viewer may not administer the repository", async () => {
    // GitHub's GraphQL answers such a viewer with no protection rule and no keys, without an error.
    answerGraphql({
      data: {
        rateLimit: { cost: 1 },
        r0: repositoryNode(null, {
          viewerPermission: "WRITE",
          defaultBranchRef: {
            name: "main",
            target: { __typename: "Commit", file: null },
            branchProtectionRule: null,
            rules: { totalCount: 0, nodes: [] },
          },
        }),
        k0: keys,
      },
    });
    const refused = { message: "Resource not accessible by integration" };
    github().get("/repos/acme/api/rules/branches/main").query({ per_page: 100 }).reply(200, []);
    github().get("/repos/acme/api/branches/main/protection").reply(403, refused);
    github().get("/repos/acme/api/keys").query({ per_page: 100 }).reply(403, refused);
    github()
      .get("/repos/acme/api/collaborators")
      .query({ affiliation: "all", per_page: 100 })
      .reply(200, [{ login: "alice", role_name: "admin" }]);
    github()
      .get("/repos/acme/api/collaborators")
      .query({ affiliation: "outside", per_page: 100 })
      .reply(200, []);
    const host = testHost();
    await host.prefetchRepositories?.(["acme/api"], makePolicy(), PERIOD);
    const repository = await host.collectRepository("acme/api", makePolicy());
    const reason = "403 Resource not accessible by integration";
    expect(repository.branchRules).toEqual({ known: false, permission: "administration:read", reason });
    expect(repository.deployKeys).toEqual({ known: false, permission: "administration:read", reason });
  });

  it("reads an organization's ruleset once for every repository it applies to", async () => {
    const orgRules = {
      totalCount: 2,
      nodes: [
        { type: "PULL_REQUEST", repositoryRuleset: { databaseId: 900, enforcement: "ACTIVE" } },
        { type: "NON_FAST_FORWARD", repositoryRuleset: { databaseId: 900, enforcement: "ACTIVE" } },
      ],
    };
    const node = (name: string) => {
      const base = repositoryNode(null, {
        nameWithOwner: `acme/${name}`,
        url: `https://github.com/acme/${name}`,
      });
      return {
        ...base,
        defaultBranchRef: { ...base.defaultBranchRef, branchProtectionRule: null, rules: orgRules },
      };
    };
    github()
      .post("/graphql")
      .times(2)
      .reply((_uri, body) => {
        const request = body as { query: string };
        if (request.query.includes("query OrganizationTeams(")) return [200, { data: TEAMS }];
        return [
          200,
          { data: { rateLimit: { cost: 1 }, r0: node("api"), k0: keys, r1: node("web"), k1: keys } },
        ];
      });
    // GitHub's answer to a repository's reader: the organization's ruleset, includes_parents.
    github()
      .get("/repos/acme/api/rulesets/900")
      .query({ includes_parents: true })
      .reply(200, {
        id: 900,
        name: "organization default",
        target: "branch",
        source_type: "Organization",
        source: "acme",
        enforcement: "active",
        bypass_actors: [{ actor_id: 1, actor_type: "OrganizationAdmin", bypass_mode: "always" }],
        rules: [
          {
            type: "pull_request",
            parameters: {
              required_approving_review_count: 1,
              dismiss_stale_reviews_on_push: false,
              require_code_owner_review: false,
              require_last_push_approval: false,
              required_review_thread_resolution: false,
            },
          },
          { type: "non_fast_forward" },
        ],
      });
    const host = testHost();
    await host.prefetchRepositories?.(["acme/api", "acme/web"], makePolicy(), PERIOD);
    for (const name of ["api", "web"]) {
      github()
        .get(`/repos/acme/${name}/collaborators`)
        .query({ affiliation: "all", per_page: 100 })
        .reply(200, [{ login: "alice", role_name: "admin" }]);
      github()
        .get(`/repos/acme/${name}/collaborators`)
        .query({ affiliation: "outside", per_page: 100 })
        .reply(200, []);
      const repository = await host.collectRepository(`acme/${name}`, makePolicy());
      expect(repository.branchRules.known && repository.branchRules.value).toEqual([
        expect.objectContaining({
          branch: "main",
          sources: ["ruleset:900"],
          requirePullRequest: true,
          requiredApprovals: 1,
          allowForcePushes: false,
          allowDeletions: true,
          enforceAdmins: false,
          bypassActors: ["OrganizationAdmin:1"],
          bypassActorsVisible: true,
        }),
      ]);
    }
  });

  it("keeps the facts of the previous chunk while the next is read, and drops older ones", async () => {
    const blob = (text: string) => ({
      mode: 0o100644,
      type: "blob",
      object: { __typename: "Blob", text, isBinary: false, isTruncated: false, byteSize: text.length },
    });
    github()
      .post("/graphql")
      .times(4)
      .reply((_uri, body) => {
        const request = body as { query: string; variables: Record<string, unknown> };
        if (request.query.includes("query OrganizationTeams(")) return [200, { data: TEAMS }];
        const name = String(request.variables.n0);
        const node = repositoryNode(blob(`# ${name}\n`), {
          nameWithOwner: `acme/${name}`,
          url: `https://github.com/acme/${name}`,
        });
        return [200, { data: { rateLimit: { cost: 1 }, r0: node, k0: keys } }];
      });
    // acme/a was read two chunks ago and never used: REST reads its file again.
    github()
      .get("/repos/acme/a/contents/.github%2Fsoc2.yml")
      .query({ ref: "main" })
      .reply(200, {
        type: "file",
        encoding: "base64",
        content: Buffer.from("# a from REST\n").toString("base64"),
      });
    const host = testHost();
    for (const name of ["a", "b", "c"])
      await host.prefetchRepositories?.([`acme/${name}`], makePolicy(), PERIOD);
    await expect(host.readFile("acme/a", POLICY, "main")).resolves.toBe("# a from REST\n");
    await expect(host.readFile("acme/b", POLICY, "main")).resolves.toBe("# b\n");
    await expect(host.readFile("acme/c", POLICY, "main")).resolves.toBe("# c\n");
  });
});

describe("the first merged pull requests the batch could not give whole", () => {
  /** The listing's own first page, asked from the front: no merged pull request at all. */
  function answerOwnPage() {
    github()
      .post("/graphql")
      .reply((_uri, body) => {
        const request = body as { query: string; variables: Record<string, unknown> };
        expect(request.query).toContain("query MergedPullRequests(");
        expect(request.variables).toMatchObject({ owner: "acme", name: "api", after: null });
        const pullRequests = { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } };
        return [200, { data: { rateLimit: { cost: 4 }, repository: { pullRequests } } }];
      });
  }

  async function listAfterBatch(): Promise<unknown[]> {
    const host = testHost();
    await host.prefetchRepositories?.(["acme/api"], makePolicy(), PERIOD);
    // The facts still come from the batch: no REST read of the policy file.
    await expect(host.readFile("acme/api", POLICY, "main")).resolves.toBeNull();
    const changes: unknown[] = [];
    for await (const change of host.listMergedChangeRequests("acme/api", () => true, PERIOD))
      changes.push(change);
    return changes;
  }

  it("leaves the listing to its own page when GitHub refused them, the facts whole", async () => {
    // pullRequests is non-null: GitHub's refusal nulls the alias, and only it.
    answerGraphql({
      data: { rateLimit: { cost: 16 }, r0: repositoryNode(null), k0: keys, m0: null },
      errors: [
        {
          type: "FORBIDDEN",
          path: ["m0", "pullRequests"],
          message: "Resource not accessible by integration",
        },
      ],
    });
    answerOwnPage();
    await expect(listAfterBatch()).resolves.toEqual([]);
  });

  it("leaves the listing to its own page when they are not in the shape the listing reads", async () => {
    const pullRequests = {
      nodes: [{ number: 7, updatedAt: "2026-10-02T00:00:00Z" }],
      pageInfo: { hasNextPage: false, endCursor: "Y3Vyc29yOnYyOjA=" },
    };
    answerGraphql({
      data: { rateLimit: { cost: 16 }, r0: repositoryNode(null), k0: keys, m0: { pullRequests } },
    });
    answerOwnPage();
    await expect(listAfterBatch()).resolves.toEqual([]);
  });

  /** A page whose one pull request was last updated before the period: the whole listing. */
  function olderPage() {
    const pr = asMergedPageNode({
      ...fixture<{ repository: { pullRequest: PullRequestNode } }>("pull-request.json").repository
        .pullRequest,
      updatedAt: "2026-09-02T10:00:00Z",
      mergedAt: "2026-09-02T09:00:00Z",
    });
    return {
      nodes: [{ ...pr, statusCheckRollup: null }],
      pageInfo: { hasNextPage: true, endCursor: "Y3Vyc29yOnYyOjA=" },
    };
  }

  it("answers the listing from them when GitHub gave them whole", async () => {
    answerGraphql({
      data: {
        rateLimit: { cost: 16 },
        r0: repositoryNode(null),
        k0: keys,
        m0: { pullRequests: olderPage() },
      },
    });
    // No page of its own (the mock would say so): one pull request, updated before the period.
    await expect(listAfterBatch()).resolves.toEqual([]);
  });

  it("leaves the listing to its own page when GitHub refused a field of one of them", async () => {
    answerGraphql({
      data: {
        rateLimit: { cost: 16 },
        r0: repositoryNode(null),
        k0: keys,
        m0: { pullRequests: olderPage() },
      },
      errors: [
        {
          type: "FORBIDDEN",
          path: ["m0", "pullRequests", "nodes", 0, "statusCheckRollup"],
          message: "Resource not accessible by integration",
        },
      ],
    });
    answerOwnPage();
    await expect(listAfterBatch()).resolves.toEqual([]);
  });
});
