import { cleanBranchRule } from "../../fixtures/build.js";
import nock from "nock";
import { describe, expect, it } from "vitest";
import type { ChangeRequest } from "../../../src/model/index.js";
import { ProviderError } from "../../../src/errors.js";
import { createGitHubClient, createGitHubHost } from "../../../src/providers/github/index.js";
import type { PullRequestNode } from "../../../src/providers/github/schema.js";
import { fixture, github, graphqlReply, makePolicy, testHost, useHttpMock } from "./mock.js";

interface PullRequestFixture {
  rateLimit: { cost: number };
  repository: { pullRequest: PullRequestNode };
}

const HEAD = "9f2c4e1a7b3d5f6e8c0a1b2c3d4e5f60718293a4";
const FIRST = "3b8d1f0e2a4c6e8a0c2e4a6c8e0a2c4e6a8c0e2a";
const MERGE = "e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5";

function pullRequestAnswer(): PullRequestFixture {
  return fixture<PullRequestFixture>("pull-request.json");
}

function mockMainRules(
  scope: nock.Scope,
  protection: [number, unknown] = [200, fixture("branch-protection.json")],
) {
  return scope
    .get("/repos/acme/api/rules/branches/main")
    .query({ per_page: 100 })
    .reply(200, [])
    .get("/repos/acme/api/branches/main/protection")
    .reply(protection[0], protection[1] as nock.Body);
}

const EXPECTED: ChangeRequest = {
  repository: "acme/api",
  number: 42,
  title: "Add rate limiting to the public API",
  url: "https://github.com/acme/api/pull/42",
  author: "alice",
  authorKind: "user",
  state: "merged",
  draft: false,
  baseBranch: "main",
  headBranch: "feature/rate-limit",
  headSha: HEAD,
  mergeCommitSha: MERGE,
  createdAt: "2026-10-01T09:05:00Z",
  mergedAt: "2026-10-02T15:00:00Z",
  mergedBy: "alice",
  commits: [
    {
      sha: FIRST,
      authorLogin: "alice",
      authorName: "Alice Martin",
      authorEmail: "alice@acme.example",
      authorKind: "user",
      committerLogin: "alice",
      committerKind: "user",
      coAuthors: [],
      authoredAt: "2026-10-01T09:00:00Z",
      committedAt: "2026-10-01T09:00:00Z",
    },
    {
      sha: HEAD,
      // An e-mail GitHub links to no account: nobody can say who wrote it.
      authorLogin: null,
      authorName: "Alice M.",
      authorEmail: "alice.m@laptop.local",
      authorKind: "unknown",
      committerLogin: "web-flow",
      committerKind: "user",
      coAuthors: [],
      authoredAt: "2026-10-01T13:30:00+02:00",
      committedAt: "2026-10-01T13:31:00+02:00",
    },
  ],
  commitsTruncated: false,
  pushes: [
    { at: "2026-10-01T09:00:00Z", actor: "alice", headSha: FIRST, forced: false },
    { at: "2026-10-01T11:31:00Z", actor: "web-flow", headSha: HEAD, forced: false },
  ],
  reviews: [
    {
      reviewer: "bob",
      reviewerKind: "user",
      authorCanPush: true,
      state: "commented",
      submittedAt: "2026-10-01T10:00:00Z",
      commitSha: FIRST,
    },
    {
      reviewer: "bob",
      reviewerKind: "user",
      authorCanPush: true,
      state: "approved",
      submittedAt: "2026-10-02T10:00:00Z",
      commitSha: HEAD,
    },
  ],
  checks: [
    {
      name: "ci/test",
      kind: "check-run",
      conclusion: "success",
      on: "head",
      sha: HEAD,
      url: "https://github.com/acme/api/actions/runs/901/job/1",
      completedAt: "2026-10-01T11:42:00Z",
      appId: 15368,
      appSlug: "github-actions",
      reportedBy: null,
    },
    {
      name: "security/snyk",
      kind: "status",
      conclusion: "success",
      on: "head",
      sha: HEAD,
      url: "https://snyk.io/org/acme/test/1",
      completedAt: "2026-10-01T11:40:00Z",
      appId: null,
      appSlug: null,
      reportedBy: "snyk-bot",
    },
    {
      name: "deploy",
      kind: "check-run",
      conclusion: "success",
      on: "merge",
      sha: MERGE,
      url: "https://github.com/acme/api/actions/runs/903/job/2",
      completedAt: "2026-10-02T15:09:00Z",
      appId: 15368,
      appSlug: "github-actions",
      reportedBy: null,
    },
  ],
  truncated: [],
  mergedByQueue: false,
  bypassedProtection: { known: true, value: false },
};

describe("collectChangeRequest", () => {
  useHttpMock();

  it("maps one GraphQL answer and the base branch's rules into the exact change request", async () => {
    const scope = github()
      .post(
        "/graphql",
        (body: { variables: Record<string, unknown> }) =>
          JSON.stringify(body.variables) === JSON.stringify({ owner: "acme", name: "api", number: 42 }),
      )
      .reply(graphqlReply("PullRequest", pullRequestAnswer()));
    mockMainRules(scope);

    const change = await testHost().collectChangeRequest("acme/api", 42);

    expect(change).toEqual(EXPECTED);
    expect(scope.isDone()).toBe(true);
  });

  it("shows a force push after the approval and derives a bypass when stale approvals were dismissed", async () => {
    const answer = pullRequestAnswer();
    const pr = answer.repository.pullRequest;
    const forcedHead = "7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c7c";
    pr.headRefOid = forcedHead;
    pr.headCommit.nodes[0]!.commit.oid = forcedHead;
    pr.timelineItems.nodes.push({
      __typename: "HeadRefForcePushedEvent",
      actor: { login: "alice" },
      createdAt: "2026-10-02T12:00:00Z",
      afterCommit: { oid: forcedHead },
    });
    github().post("/graphql").reply(graphqlReply("PullRequest", answer));
    mockMainRules(github());

    const change = await testHost().collectChangeRequest("acme/api", 42);

    expect(change.pushes.at(-1)).toEqual({
      at: "2026-10-02T12:00:00Z",
      actor: "alice",
      headSha: forcedHead,
      forced: true,
    });
    expect(change.reviews.find((r) => r.state === "approved")?.commitSha).toBe(HEAD);
    // The only approval is on the old head and ci/test never ran on the new one: merging needed a bypass.
    expect(change.bypassedProtection).toEqual({ known: true, value: true });
  });

  it("says the commit list is partial when GitHub has more commits than it returned", async () => {
    const answer = pullRequestAnswer();
    answer.repository.pullRequest.commits.totalCount = 250;
    github().post("/graphql").reply(graphqlReply("PullRequest", answer));
    mockMainRules(github());

    const change = await testHost().collectChangeRequest("acme/api", 42);

    expect(change.commitsTruncated).toBe(true);
    expect(change.commits).toHaveLength(2);
  });

  it("maps check runs and commit statuses of every state, never reading a pending or unknown one as success", async () => {
    const answer = pullRequestAnswer();
    const pr = answer.repository.pullRequest;
    pr.state = "OPEN";
    pr.mergedAt = null;
    pr.mergedBy = null;
    pr.mergeCommit = null;
    const run = { __typename: "CheckRun" as const, detailsUrl: null, completedAt: null };
    const status = {
      __typename: "StatusContext" as const,
      targetUrl: null,
      createdAt: "2026-10-01T12:00:00Z",
    };
    pr.headCommit.nodes[0]!.commit.statusCheckRollup = {
      contexts: {
        totalCount: 7,
        pageInfo: { hasNextPage: false, endCursor: null },
        nodes: [
          { ...run, name: "lint", conclusion: null, status: "IN_PROGRESS" },
          {
            ...run,
            name: "e2e",
            conclusion: "STARTUP_FAILURE",
            status: "COMPLETED",
            completedAt: "2026-10-01T12:05:00Z",
          },
          {
            ...run,
            name: "docs",
            conclusion: "SKIPPED",
            status: "COMPLETED",
            completedAt: "2026-10-01T12:01:00Z",
          },
          {
            ...run,
            name: "future",
            conclusion: "SOMETHING_NEW",
            status: "COMPLETED",
            completedAt: "2026-10-01T12:02:00Z",
          },
          { ...status, context: "ci/jenkins", state: "FAILURE" },
          { ...status, context: "ci/legacy", state: "ERROR" },
          { ...status, context: "coverage", state: "PENDING" },
        ],
      },
    };
    // An open pull request has bypassed nothing yet: no branch-rule requests.
    github().post("/graphql").reply(graphqlReply("PullRequest", answer));

    const change = await testHost().collectChangeRequest("acme/api", 42);

    expect(change.checks.map((c) => [c.name, c.kind, c.conclusion, c.completedAt])).toEqual([
      ["lint", "check-run", "pending", null],
      ["e2e", "check-run", "failure", "2026-10-01T12:05:00Z"],
      ["docs", "check-run", "skipped", "2026-10-01T12:01:00Z"],
      ["future", "check-run", "error", "2026-10-01T12:02:00Z"],
      ["ci/jenkins", "status", "failure", "2026-10-01T12:00:00Z"],
      ["ci/legacy", "status", "error", "2026-10-01T12:00:00Z"],
      ["coverage", "status", "pending", null],
    ]);
    expect(change.state).toBe("open");
    expect(change.bypassedProtection).toEqual({ known: true, value: false });
  });

  it("answers unknown naming administration:read when branch protection is forbidden", async () => {
    github().post("/graphql").reply(graphqlReply("PullRequest", pullRequestAnswer()));
    mockMainRules(github(), [403, { message: "Resource not accessible by integration" }]);
    const host = testHost();

    const change = await host.collectChangeRequest("acme/api", 42);

    expect(change.bypassedProtection).toEqual({
      known: false,
      permission: "administration:read",
      reason: "403 Resource not accessible by integration",
    });
    expect(host.drainUnreadable()).toEqual([
      {
        subject: "acme/api",
        what: "protection of branch main",
        permission: "administration:read",
        reason: "403 Resource not accessible by integration",
      },
    ]);
    expect(host.drainUnreadable()).toEqual([]);
  });

  it("fails with a ProviderError naming the field path when GitHub answers an unexpected shape", async () => {
    const answer = pullRequestAnswer();
    (answer.repository.pullRequest as { state: string }).state = "QUEUED";
    github().post("/graphql").reply(graphqlReply("PullRequest", answer));

    const error = await testHost()
      .collectChangeRequest("acme/api", 42)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).message).toContain("repository.pullRequest.state");
  });

  it("fails with a 404 ProviderError when the pull request does not exist", async () => {
    github()
      .post("/graphql")
      .reply(200, {
        data: { repository: null },
        errors: [{ type: "NOT_FOUND", path: ["repository"], message: "Could not resolve to a Repository" }],
      });

    const error = await testHost()
      .collectChangeRequest("acme/api", 7)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).details.status).toBe(404);
  });

  it("costs 8 requests for one merged pull request and its repository, branch rules read once", async () => {
    const client = createGitHubClient({ token: "test", throttle: false });
    const host = createGitHubHost({ octokit: client });
    github().post("/graphql").reply(graphqlReply("PullRequest", pullRequestAnswer()));
    mockMainRules(github());
    github()
      .get("/repos/acme/api")
      .reply(200, {
        full_name: "acme/api",
        html_url: "https://github.com/acme/api",
        private: true,
        visibility: "private",
        archived: false,
        default_branch: "main",
      })
      .get("/repos/acme/api/collaborators")
      .query({ affiliation: "all", per_page: 100 })
      .reply(200, [{ login: "alice", role_name: "admin" }])
      .get("/repos/acme/api/collaborators")
      .query({ affiliation: "outside", per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/teams")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/keys")
      .query({ per_page: 100 })
      .reply(200, []);

    const change = await host.collectChangeRequest("acme/api", 42);
    const repository = await host.collectRepository("acme/api", makePolicy());

    expect(change.bypassedProtection).toEqual({ known: true, value: false });
    expect(repository.branchRules.known && repository.branchRules.value[0]?.sources).toEqual([
      "branch-protection",
    ]);
    expect(client.stats).toEqual({ requests: 8, graphqlPoints: 1, notModified: 0 });
  });

  it("sends GraphQL to GHES at /api/graphql when the REST base URL ends in /api/v3", async () => {
    const client = createGitHubClient({
      token: "test",
      throttle: false,
      baseUrl: "https://ghe.example/api/v3",
    });
    const host = createGitHubHost({ octokit: client, baseUrl: "https://ghe.example/api/v3" });
    const answer = pullRequestAnswer();
    answer.repository.pullRequest.state = "OPEN";
    nock("https://ghe.example").post("/api/graphql").reply(graphqlReply("PullRequest", answer));

    const change = await host.collectChangeRequest("acme/api", 42);

    expect(change.number).toBe(42);
    expect(host.baseUrl).toBe("https://ghe.example/api/v3");
  });
});

describe("collectChangeContext", () => {
  useHttpMock();

  it("reads an open change check with one query and the base branch's rules: 3 requests", async () => {
    const client = createGitHubClient({ token: "test", throttle: false });
    const answer = pullRequestAnswer();
    const pr = answer.repository.pullRequest;
    Object.assign(pr, { state: "OPEN", mergedAt: null, mergedBy: null, mergeCommit: null });
    github().post("/graphql").reply(graphqlReply("ChangeCheck", answer));
    mockMainRules(github());

    const { changeRequest, repository } = await createGitHubHost({ octokit: client }).collectChangeContext(
      "acme/api",
      42,
    );

    const skipped = {
      known: false,
      permission: "not collected for a change check",
      reason: "only the base branch's rules are read",
    };
    expect(changeRequest.state).toBe("open");
    expect(repository).toEqual({
      fullName: "acme/api",
      url: "https://github.com/acme/api",
      visibility: "private",
      archived: false,
      defaultBranch: "main",
      productionBranches: ["main"],
      // The fixture's protection pins ci/test to GitHub Actions (app 15368).
      branchRules: { known: true, value: [cleanBranchRule({ requiredCheckApps: { "ci/test": 15368 } })] },
      collaborators: skipped,
      teams: skipped,
      deployKeys: skipped,
      collectionError: null,
    });
    expect(client.stats.requests).toBe(3);
  });

  it("finds the open pull requests whose head is a commit", async () => {
    github()
      .get(`/repos/acme/api/commits/${HEAD}/pulls`)
      .query({ per_page: 100 })
      .reply(200, [
        { number: 42, state: "open", head: { sha: HEAD } },
        { number: 41, state: "closed", head: { sha: HEAD } },
        { number: 40, state: "open", head: { sha: FIRST } },
      ]);

    expect(await testHost().changeRequestsForCommit("acme/api", HEAD)).toEqual([42]);
  });
});
