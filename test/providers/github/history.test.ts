import { describe, expect, it } from "vitest";
import type { DirectPush } from "../../../src/model/index.js";
import type { HistoryCommit, PullRequestNode } from "../../../src/providers/github/schema.js";
import { fixture, github, graphqlReply, testHost, useHttpMock } from "./mock.js";

const PERIOD = { since: new Date("2026-10-01T00:00:00Z"), until: new Date("2026-10-31T23:59:59Z") };

function pullRequest(number: number, updatedAt: string, mergedAt: string): PullRequestNode {
  const pr = fixture<{ repository: { pullRequest: PullRequestNode } }>("pull-request.json").repository
    .pullRequest;
  return { ...pr, number, url: `https://github.com/acme/api/pull/${number}`, updatedAt, mergedAt };
}

function page(nodes: PullRequestNode[], endCursor: string | null) {
  return {
    repository: { pullRequests: { nodes, pageInfo: { hasNextPage: endCursor !== null, endCursor } } },
  };
}

describe("listMergedChangeRequests", () => {
  useHttpMock();

  it("pages by cursor, keeps merges within the period and stops at the first update before it", async () => {
    const first = page(
      [
        pullRequest(50, "2026-11-02T10:00:00Z", "2026-11-01T09:00:00Z"), // merged after the period
        pullRequest(49, "2026-10-30T10:00:00Z", "2026-10-30T09:00:00Z"),
        pullRequest(31, "2026-10-20T10:00:00Z", "2026-09-28T09:00:00Z"), // merged before, touched within
      ],
      "Y3Vyc29yOjM=",
    );
    const second = page(
      [
        pullRequest(40, "2026-10-05T10:00:00Z", "2026-10-05T09:00:00Z"),
        pullRequest(20, "2026-09-15T10:00:00Z", "2026-09-15T09:00:00Z"),
      ],
      "Y3Vyc29yOjU=", // more pages exist, but they are all older
    );
    github()
      .post("/graphql")
      .reply(
        graphqlReply("MergedPullRequests", first, (variables) =>
          expect(variables).toEqual({ owner: "acme", name: "api", base: "main", after: null }),
        ),
      )
      .post("/graphql")
      .reply(
        graphqlReply("MergedPullRequests", second, (variables) =>
          expect(variables).toEqual({ owner: "acme", name: "api", base: "main", after: "Y3Vyc29yOjM=" }),
        ),
      )
      // Every merged pull request into main shares one read of main's rules.
      .get("/repos/acme/api/rules/branches/main")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/branches/main/protection")
      .reply(200, fixture("branch-protection.json"));

    const numbers: number[] = [];
    for await (const change of testHost().listMergedChangeRequests("acme/api", ["main"], PERIOD)) {
      expect(change.bypassedProtection).toEqual({ known: true, value: false });
      numbers.push(change.number);
    }

    expect(numbers).toEqual([49, 40]);
  });

  it("asks for merged pull requests 100 at a time, GitHub's largest page", async () => {
    let query = "";
    github()
      .post("/graphql")
      .reply((_uri, body) => {
        query = (body as { query: string }).query;
        return [200, { data: page([], null) }];
      });

    const changes = [];
    for await (const change of testHost().listMergedChangeRequests("acme/api", ["main"], PERIOD))
      changes.push(change);

    expect(changes).toEqual([]);
    expect(query).toMatch(/pullRequests\(states: MERGED, [^)]*first: 100, after: \$after\)/);
  });
});

function commit(oid: string, overrides: Partial<HistoryCommit> = {}): HistoryCommit {
  return {
    oid,
    messageHeadline: `commit ${oid.slice(0, 4)}`,
    committedDate: "2026-10-10T12:00:00Z",
    url: `https://github.com/acme/api/commit/${oid}`,
    author: { user: { login: "alice" } },
    committer: { user: { login: "web-flow" } },
    parents: { totalCount: 1 },
    associatedPullRequests: { nodes: [] },
    ...overrides,
  };
}

describe("listDirectPushes", () => {
  useHttpMock();

  it("reports only commits that no merged pull request into the branch brought", async () => {
    const merged = (number: number, baseRefName: string, mergeCommit: string | null = null) => ({
      number,
      merged: true,
      baseRefName,
      mergeCommit: mergeCommit === null ? null : { oid: mergeCommit },
    });
    const nodes = [
      commit("a".repeat(40)), // in mergedShas
      commit("b".repeat(40), { associatedPullRequests: { nodes: [merged(7, "main")] } }),
      commit("c".repeat(40), { associatedPullRequests: { nodes: [merged(8, "develop", "c".repeat(40))] } }),
      commit("d".repeat(40), {
        messageHeadline: "hotfix: disable rate limiter",
        author: { user: { login: "mallory" } },
        committer: { user: null },
        associatedPullRequests: {
          nodes: [{ number: 9, merged: false, baseRefName: "main", mergeCommit: null }],
        },
      }),
    ];
    const last = commit("e".repeat(40), {
      committedDate: "2026-10-03T08:00:00Z",
      author: null,
      committer: null,
    });
    const history = (list: HistoryCommit[], endCursor: string | null) => ({
      repository: {
        ref: {
          target: { history: { nodes: list, pageInfo: { hasNextPage: endCursor !== null, endCursor } } },
        },
      },
    });
    github()
      .post("/graphql")
      .reply(
        graphqlReply("BranchHistory", history(nodes, "Yz0x"), (variables) =>
          expect(variables).toEqual({
            owner: "acme",
            name: "api",
            ref: "refs/heads/main",
            since: "2026-10-01T00:00:00.000Z",
            until: "2026-10-31T23:59:59.000Z",
            after: null,
          }),
        ),
      )
      .post("/graphql")
      .reply(
        graphqlReply("BranchHistory", history([last], null), (variables) =>
          expect(variables.after).toBe("Yz0x"),
        ),
      );

    const pushes: DirectPush[] = [];
    for await (const push of testHost().listDirectPushes(
      "acme/api",
      "main",
      PERIOD,
      new Set(["a".repeat(40)]),
    )) {
      pushes.push(push);
    }

    expect(pushes).toEqual([
      {
        repository: "acme/api",
        branch: "main",
        sha: "d".repeat(40),
        message: "hotfix: disable rate limiter",
        authorLogin: "mallory",
        committerLogin: null,
        pushedBy: null,
        at: "2026-10-10T12:00:00Z",
        url: `https://github.com/acme/api/commit/${"d".repeat(40)}`,
      },
      {
        repository: "acme/api",
        branch: "main",
        sha: "e".repeat(40),
        message: "commit eeee",
        authorLogin: null,
        committerLogin: null,
        pushedBy: null,
        at: "2026-10-03T08:00:00Z",
        url: `https://github.com/acme/api/commit/${"e".repeat(40)}`,
      },
    ] satisfies DirectPush[]);
  });

  it("yields nothing for a branch that no longer exists", async () => {
    github()
      .post("/graphql")
      .reply(graphqlReply("BranchHistory", { repository: { ref: null } }));

    const pushes: DirectPush[] = [];
    for await (const push of testHost().listDirectPushes("acme/api", "gone", PERIOD, new Set()))
      pushes.push(push);

    expect(pushes).toEqual([]);
  });
});
