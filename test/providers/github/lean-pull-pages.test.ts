/**
 * The audit's merged pull request pages are sized to what evaluation needs (GitHub charges a page
 * by its nested connections) and read further only for the pull requests that have more. The
 * change requests collected must stay exactly what the full pages gave: the expectation is what the
 * provider collected from the same worlds with the full pages (six nested connections per pull
 * request), before they were made lean.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { queryCost } from "../../../src/sim/github/graphql.js";
import type { ChangeRequest } from "../../../src/model/index.js";
import { MERGED_PULL_REQUESTS_QUERY } from "../../../src/providers/github/queries.js";
import type { PullRequestNode } from "../../../src/providers/github/schema.js";
import { fixture, github, graphqlReply, testHost, useHttpMock } from "./mock.js";
import {
  asMergedPageNode,
  collectMerged,
  manyLongCommitsAndChecks,
  manyLongTimelines,
  WIDE_PERIOD,
  WORLDS,
} from "./pull-worlds.js";

const expected = JSON.parse(
  gunzipSync(
    readFileSync(new URL("../../fixtures/github/merged-pull-requests.expected.json.gz", import.meta.url)),
  ).toString("utf8"),
) as Record<keyof typeof WORLDS, ChangeRequest[]>;

describe("lean merged pull request pages", () => {
  it("cost at most 4 points a page of 100 pull requests", () => {
    expect(queryCost(parse(MERGED_PULL_REQUESTS_QUERY), {})).toBeLessThanOrEqual(4);
  });

  for (const name of Object.keys(WORLDS) as Array<keyof typeof WORLDS>) {
    it(`collect the same change requests as the full pages did (${name} world)`, async () => {
      const { changes } = await collectMerged(WORLDS[name]());

      expect(changes).toHaveLength(expected[name].length);
      expect(changes).toEqual(expected[name]);
    });
  }
});

describe("what a lean page leaves open is read after it, batched over the page", () => {
  it("asks the timelines that go on and the heads without a rollup 50 pull requests a query", async () => {
    const world = manyLongTimelines(60);
    const { changes, graphqlRequests, graphqlPoints } = await collectMerged(world);

    // One page; the 60 timelines' second pages in 2 queries; the 60 heads' checks in 2 more.
    expect(graphqlRequests).toBe(5);
    expect(graphqlPoints).toBe(4 + 4);
    const byNumber = [...changes].sort((a, b) => a.number - b.number);
    expect(byNumber.map((c) => [c.number, c.reviews.length, c.pushes.length, c.truncated])).toEqual(
      world.changeRequests.map((c) => [c.number, 70, 40, []]),
    );
  });
});

describe("commits and checks that go on", () => {
  it("are read 50 pull requests (or commits) a query too", async () => {
    const world = manyLongCommitsAndChecks(60);
    const { changes, graphqlRequests } = await collectMerged(world);

    // One page; the 60 pull requests' second page of timeline (121 items each) in 2 queries, of
    // commits in 2, of head checks in 2.
    expect(graphqlRequests).toBe(7);
    const byNumber = [...changes].sort((a, b) => a.number - b.number);
    expect(
      byNumber.map((c) => [c.number, c.commits.length, c.checks.length, c.commitsTruncated, c.truncated]),
    ).toEqual(world.changeRequests.map((c) => [c.number, 120, 122, false, []]));
  });
});

describe("when GitHub refuses a merged page's timeline further", () => {
  useHttpMock();

  it("marks the reviews and the pushes partial, keeping what was read", async () => {
    const pr = asMergedPageNode({
      ...fixture<{ repository: { pullRequest: PullRequestNode } }>("pull-request.json").repository
        .pullRequest,
      updatedAt: "2026-10-30T10:00:00Z",
      mergedAt: "2026-10-30T09:00:00Z",
    });
    pr.timelineItems.pageInfo = { hasNextPage: true, endCursor: "Y3Vyc29yOnYyOjM=" };
    github()
      .post("/graphql")
      .reply(
        graphqlReply("MergedPullRequests", {
          repository: { pullRequests: { nodes: [pr], pageInfo: { hasNextPage: false, endCursor: null } } },
        }),
      )
      .post(
        "/graphql",
        (body: { query: string; variables: Record<string, unknown> }) =>
          body.query.includes("query MergedTimelines(") && body.variables.a0 === "Y3Vyc29yOnYyOjM=",
      )
      .reply(200, {
        data: null,
        errors: [{ type: "FORBIDDEN", message: "Resource not accessible by integration" }],
      })
      .get("/repos/acme/api/rules/branches/main")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/branches/main/protection")
      .reply(200, fixture("branch-protection.json"));

    const changes: ChangeRequest[] = [];
    for await (const change of testHost().listMergedChangeRequests("acme/api", () => true, WIDE_PERIOD))
      changes.push(change);

    expect(changes.map((c) => [c.number, c.truncated, c.reviews.length, c.pushes.length])).toEqual([
      [42, ["reviews", "pushes"], 2, 2],
    ]);
  });
});

describe("when GitHub refuses a merged page's commits further", () => {
  useHttpMock();

  it("marks the commits partial, keeping what was read, and asks no more", async () => {
    const pr = asMergedPageNode({
      ...fixture<{ repository: { pullRequest: PullRequestNode } }>("pull-request.json").repository
        .pullRequest,
      updatedAt: "2026-10-30T10:00:00Z",
      mergedAt: "2026-10-30T09:00:00Z",
    });
    pr.commits.totalCount = 240;
    pr.commits.pageInfo = { hasNextPage: true, endCursor: "Y3Vyc29yOnYyOjE=" };
    github()
      .post("/graphql")
      .reply(
        graphqlReply("MergedPullRequests", {
          repository: { pullRequests: { nodes: [pr], pageInfo: { hasNextPage: false, endCursor: null } } },
        }),
      )
      .post(
        "/graphql",
        (body: { query: string; variables: Record<string, unknown> }) =>
          body.query.includes("query MergedCommits(") && body.variables.a0 === "Y3Vyc29yOnYyOjE=",
      )
      .reply(200, {
        data: null,
        errors: [{ type: "FORBIDDEN", message: "Resource not accessible by integration" }],
      })
      .get("/repos/acme/api/rules/branches/main")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/branches/main/protection")
      .reply(200, fixture("branch-protection.json"));

    const changes: ChangeRequest[] = [];
    for await (const change of testHost().listMergedChangeRequests("acme/api", () => true, WIDE_PERIOD))
      changes.push(change);

    expect(changes.map((c) => [c.commitsTruncated, c.commits.length, c.truncated])).toEqual([[true, 2, []]]);
  });
});
