/**
 * The simulated GitHub pages connections as GitHub documents: `first`/`after` from the oldest,
 * `last`/`before` from the newest, at most 100 a page, and a totalCount that is the real count.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../src/sim/github/server.js";
import { createWorld } from "../../src/sim/github/world.js";
import { makeChangeRequest, makeSnapshot } from "../fixtures/build.js";

const REVIEWS = 150;
let sim: SimulatedGitHub;

beforeAll(async () => {
  const head = "h".repeat(40);
  const reviews = Array.from({ length: REVIEWS }, (_, i) => ({
    reviewer: `reviewer-${i}`,
    state: "commented" as const,
    submittedAt: new Date(Date.parse("2026-10-01T00:00:00Z") + i * 60_000).toISOString(),
    commitSha: head,
  }));
  sim = await startSimulatedGitHub({
    world: createWorld(makeSnapshot({ changeRequests: [makeChangeRequest({ reviews })] })),
    seed: 1,
  });
});
afterAll(() => sim.close());

interface ReviewPage {
  totalCount: number;
  nodes: Array<{ author: { login: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string; endCursor: string };
}

async function reviews(args: string): Promise<{ page?: ReviewPage; errors?: Array<{ message: string }> }> {
  const query = `{ repository(owner: "acme", name: "api") { pullRequest(number: 12) {
    reviews(${args}) { totalCount nodes { author { login } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
  } } }`;
  const answer = (await (
    await fetch(sim.graphqlUrl, { method: "POST", body: JSON.stringify({ query }) })
  ).json()) as {
    data?: { repository: { pullRequest: { reviews: ReviewPage } } };
    errors?: Array<{ message: string }>;
  };
  return { page: answer.data?.repository.pullRequest.reviews, errors: answer.errors };
}

const logins = (page: ReviewPage | undefined) => page?.nodes.map((n) => n.author.login) ?? [];
const range = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `reviewer-${from + i}`);

describe("GitHub's connection paging in the simulated GitHub", () => {
  it("gives the oldest with first/after and reads to the end", async () => {
    const first = await reviews("first: 100");
    expect([first.page?.totalCount, logins(first.page), first.page?.pageInfo.hasNextPage]).toEqual([
      REVIEWS,
      range(0, 100),
      true,
    ]);
    const rest = await reviews(`first: 100, after: "${first.page?.pageInfo.endCursor}"`);
    expect([logins(rest.page), rest.page?.pageInfo.hasNextPage]).toEqual([range(100, REVIEWS), false]);
  });

  it("gives the newest with last, so `last: 100` alone drops the oldest, and pages back with before", async () => {
    const last = await reviews("last: 100");
    expect([logins(last.page), last.page?.pageInfo.hasPreviousPage]).toEqual([range(50, REVIEWS), true]);
    const earlier = await reviews(`last: 100, before: "${last.page?.pageInfo.startCursor}"`);
    expect([logins(earlier.page), earlier.page?.pageInfo.hasPreviousPage]).toEqual([range(0, 50), false]);
  });

  it("refuses more than 100 a page, as GitHub does", async () => {
    const { errors } = await reviews("first: 101");
    expect(errors?.map((e) => e.message)).toEqual([
      "Requesting 101 records on the connection exceeds the `first` limit of 100 records.",
    ]);
  });
});
