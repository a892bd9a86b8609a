import { describe, expect, it } from "vitest";
import type { MergedPullRequestNode } from "../../../src/providers/github/merged-pages.js";
import { asMergedPageNode } from "./pull-worlds.js";
import type { PullRequestNode } from "../../../src/providers/github/schema.js";
import { fixture, github, graphqlReply, testHost, useHttpMock } from "./mock.js";

const PERIOD = { since: new Date("2026-10-01T00:00:00Z"), until: new Date("2026-10-31T23:59:59Z") };

function pullRequest(
  number: number,
  updatedAt: string,
  mergedAt: string,
  baseRefName = "main",
): MergedPullRequestNode {
  const pr = fixture<{ repository: { pullRequest: PullRequestNode } }>("pull-request.json").repository
    .pullRequest;
  return asMergedPageNode({
    ...pr,
    number,
    url: `https://github.com/acme/api/pull/${number}`,
    updatedAt,
    mergedAt,
    baseRefName,
  });
}

const onlyMain = (branch: string) => branch === "main";

function page(nodes: MergedPullRequestNode[], endCursor: string | null) {
  return {
    repository: { pullRequests: { nodes, pageInfo: { hasNextPage: endCursor !== null, endCursor } } },
  };
}

describe("listMergedChangeRequests", () => {
  useHttpMock();

  it("pages by cursor, keeps merges within the period into selected bases and stops at the first update before it", async () => {
    const first = page(
      [
        pullRequest(50, "2026-11-02T10:00:00Z", "2026-11-01T09:00:00Z"), // merged after the period
        pullRequest(49, "2026-10-30T10:00:00Z", "2026-10-30T09:00:00Z"),
        pullRequest(48, "2026-10-29T10:00:00Z", "2026-10-29T09:00:00Z", "develop"), // not a selected base
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
          expect(variables).toEqual({ owner: "acme", name: "api", after: null }),
        ),
      )
      .post("/graphql")
      .reply(
        graphqlReply("MergedPullRequests", second, (variables) =>
          expect(variables).toEqual({ owner: "acme", name: "api", after: "Y3Vyc29yOjM=" }),
        ),
      )
      // Read again from the front for updates made while the listing ran: none is that recent.
      .post("/graphql")
      .reply(
        graphqlReply("MergedPullRequests", first, (variables) =>
          expect(variables).toEqual({ owner: "acme", name: "api", after: null }),
        ),
      )
      // Every merged pull request into main shares one read of main's rules.
      .get("/repos/acme/api/rules/branches/main")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/branches/main/protection")
      .reply(200, fixture("branch-protection.json"));

    const numbers: number[] = [];
    for await (const change of testHost().listMergedChangeRequests("acme/api", onlyMain, PERIOD)) {
      expect(change.bypassedProtection).toEqual({ known: true, value: false });
      numbers.push(change.number);
    }

    expect(numbers).toEqual([49, 40]);
  });

  it("finds a pull request updated while the later pages were read (it jumped ahead of the cursor)", async () => {
    const justNow = new Date().toISOString();
    const first = page([pullRequest(49, "2026-10-30T10:00:00Z", "2026-10-30T09:00:00Z")], "Y3Vyc29yOjE=");
    // #45 was on this page when the listing began; a comment since moved it to the front.
    const second = page([pullRequest(40, "2026-10-05T10:00:00Z", "2026-10-05T09:00:00Z")], null);
    const again = page(
      [
        pullRequest(45, justNow, "2026-10-12T09:00:00Z"),
        pullRequest(49, "2026-10-30T10:00:00Z", "2026-10-30T09:00:00Z"),
      ],
      "Y3Vyc29yOjI=",
    );
    github()
      .post("/graphql")
      .reply(graphqlReply("MergedPullRequests", first))
      .post("/graphql")
      .reply(graphqlReply("MergedPullRequests", second))
      .post("/graphql")
      .reply(
        graphqlReply("MergedPullRequests", again, (variables) =>
          expect(variables).toEqual({ owner: "acme", name: "api", after: null }),
        ),
      )
      .get("/repos/acme/api/rules/branches/main")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/branches/main/protection")
      .reply(200, fixture("branch-protection.json"));

    const numbers: number[] = [];
    for await (const change of testHost().listMergedChangeRequests("acme/api", onlyMain, PERIOD))
      numbers.push(change.number);

    expect(numbers).toEqual([49, 40, 45]);
  });

  it("fails, never stops short, when GitHub says there are more merged pull requests but gives no cursor", async () => {
    const broken = {
      repository: {
        pullRequests: {
          nodes: [pullRequest(49, "2026-10-30T10:00:00Z", "2026-10-30T09:00:00Z", "develop")],
          pageInfo: { hasNextPage: true, endCursor: null },
        },
      },
    };
    github().post("/graphql").reply(graphqlReply("MergedPullRequests", broken));

    const read = async () => {
      for await (const change of testHost().listMergedChangeRequests("acme/api", onlyMain, PERIOD))
        void change;
    };
    await expect(read()).rejects.toThrow(/no cursor/);
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
    for await (const change of testHost().listMergedChangeRequests("acme/api", onlyMain, PERIOD))
      changes.push(change);

    expect(changes).toEqual([]);
    expect(query).toMatch(/pullRequests\(states: MERGED, [^)]*first: 100, after: \$after\)/);
  });
});
