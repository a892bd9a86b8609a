/**
 * The simulated GitHub's rate limits, as docs.github.com documents them: "Rate limits for the REST
 * API" (primary limits, x-ratelimit-* headers, 403/429 with x-ratelimit-remaining 0, secondary
 * limits with retry-after) and "Rate limits and query limits for the GraphQL API" (points per hour
 * by GitHub's cost formula, a RATE_LIMITED error when exhausted, 2,000 secondary points per minute,
 * 100 concurrent requests). The clock is one the test advances, so an hour passes in an instant.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../src/sim/github/server.js";
import type { RateLimitOptions } from "../../src/sim/github/rate-limits.js";
import { createWorld } from "../../src/sim/github/world.js";
import { makeSnapshot } from "../fixtures/build.js";

const started: SimulatedGitHub[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

const T0 = Date.parse("2026-11-29T12:00:00Z");

async function start(rateLimits?: RateLimitOptions, extra: { latencyMs?: number } = {}) {
  const clock = { now: T0 };
  const sim = await startSimulatedGitHub({
    world: createWorld(makeSnapshot()),
    seed: 7,
    ...(rateLimits ? { rateLimits } : {}),
    ...extra,
    clock: () => clock.now,
  });
  started.push(sim);
  return { sim, clock };
}

const auth = (token: string) => ({ authorization: `token ${token}` });

function rate(res: Response): Record<string, string | null> {
  return Object.fromEntries(
    ["limit", "remaining", "used", "reset", "resource"].map((k) => [k, res.headers.get(`x-ratelimit-${k}`)]),
  );
}

/** 1 (repository) + 100 (commits of 100 PRs) + 100 (reviews of 100 PRs) = 201 requests: 2 points. */
const TWO_POINT_QUERY = `query {
  repository(owner: "acme", name: "api") {
    pullRequests(first: 100) { nodes { commits(first: 100) { totalCount } reviews(first: 100) { totalCount } } }
  }
  rateLimit { cost remaining }
}`;

async function graphql(url: string, token: string, query = TWO_POINT_QUERY): Promise<Response> {
  return fetch(`${url}/graphql`, {
    method: "POST",
    headers: { ...auth(token), "content-type": "application/json" },
    body: JSON.stringify({ query }),
  });
}

describe("simulated GitHub rate limits", () => {
  it("sends GitHub's x-ratelimit headers on every answer, decreasing per charged request, per token", async () => {
    const { sim } = await start();
    const first = await fetch(`${sim.url}/repos/acme/api`, { headers: auth("one") });
    const second = await fetch(`${sim.url}/repos/acme/api/branches`, { headers: auth("one") });
    const missing = await fetch(`${sim.url}/repos/acme/nothing`, { headers: auth("one") });
    const other = await fetch(`${sim.url}/repos/acme/api`, { headers: auth("two") });
    const reset = String(Math.ceil((T0 + 3_600_000) / 1000));
    expect(rate(first)).toEqual({ limit: "5000", remaining: "4999", used: "1", reset, resource: "core" });
    expect(rate(second)).toEqual({ limit: "5000", remaining: "4998", used: "2", reset, resource: "core" });
    // A 404 is charged too.
    expect([missing.status, rate(missing).remaining]).toEqual([404, "4997"]);
    expect(rate(other).remaining).toEqual("4999");
    const limits = (await (await fetch(`${sim.url}/rate_limit`, { headers: auth("one") })).json()) as {
      resources: { core: { remaining: number } };
    };
    // GET /rate_limit does not count against the primary rate limit.
    expect(limits.resources.core.remaining).toEqual(4997);
    expect(sim.stats.charged.one).toEqual({ core: 3, graphql: 0 });
  });

  it("answers an exhausted REST budget with 403, remaining 0 and the documented body, until the reset", async () => {
    const { sim, clock } = await start({ restPerHour: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 2; i += 1)
      statuses.push((await fetch(`${sim.url}/repos/acme/api`, { headers: auth("t") })).status);
    clock.now += 10 * 60_000;
    const refused = await fetch(`${sim.url}/repos/acme/api`, { headers: auth("t") });
    expect(statuses).toEqual([200, 200]);
    expect(refused.status).toEqual(403);
    expect(rate(refused)).toEqual({
      limit: "2",
      remaining: "0",
      used: "2",
      reset: String(Math.ceil((T0 + 3_600_000) / 1000)),
      resource: "core",
    });
    expect(await refused.json()).toEqual({
      message: expect.stringMatching(/^API rate limit exceeded for installation\./),
      documentation_url:
        "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-the-primary-rate-limit",
      status: "403",
    });
    expect(sim.stats.rateLimited.primary).toEqual(1);
    expect(sim.stats.rateLimitWaitSeconds).toEqual(50 * 60);

    // The window opened with the first request resets an hour later; a new one starts.
    clock.now = T0 + 3_600_000;
    const after = await fetch(`${sim.url}/repos/acme/api`, { headers: auth("t") });
    expect([after.status, rate(after).remaining, rate(after).reset]).toEqual([
      200,
      "1",
      String(Math.ceil((T0 + 7_200_000) / 1000)),
    ]);
  });

  it("does not charge a 304 Not Modified", async () => {
    const { sim } = await start();
    const first = await fetch(`${sim.url}/repos/acme/api`, { headers: auth("t") });
    const etag = first.headers.get("etag") ?? "";
    const again = await fetch(`${sim.url}/repos/acme/api`, {
      headers: { ...auth("t"), "if-none-match": etag },
    });
    const third = await fetch(`${sim.url}/repos/acme/api`, { headers: auth("t") });
    expect([again.status, rate(again).remaining, rate(again).resource]).toEqual([304, "4999", "core"]);
    expect(rate(third).remaining).toEqual("4998");
  });

  it("charges GraphQL points by GitHub's cost formula and refuses a query the hour cannot pay", async () => {
    const { sim } = await start({ graphqlPointsPerHour: 5 });
    const first = await graphql(sim.url, "t");
    const body = (await first.json()) as { data: { rateLimit: { cost: number; remaining: number } } };
    expect(body.data.rateLimit).toEqual({ cost: 2, remaining: 3 });
    expect(rate(first)).toMatchObject({ limit: "5", remaining: "3", used: "2", resource: "graphql" });
    const second = await graphql(sim.url, "t");
    expect(rate(second).remaining).toEqual("1");
    // 2 points with 1 left: GitHub answers 200 with a RATE_LIMITED error and remaining 0.
    const refused = await graphql(sim.url, "t");
    expect(refused.status).toEqual(200);
    expect(rate(refused)).toMatchObject({ remaining: "0", resource: "graphql" });
    expect(await refused.json()).toEqual({
      errors: [
        { type: "RATE_LIMITED", code: "graphql_rate_limit", message: expect.stringContaining("rate limit") },
      ],
    });
    // REST has its own budget.
    const rest = await fetch(`${sim.url}/repos/acme/api`, { headers: auth("t") });
    expect([rest.status, rate(rest).remaining, rate(rest).resource]).toEqual([200, "4999", "core"]);
    expect(sim.stats.graphqlPoints).toEqual(4);
  });

  it("answers GraphQL secondary points per minute exceeded with a secondary limit and retry-after", async () => {
    const { sim, clock } = await start({ graphqlSecondaryPointsPerMinute: 3 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await graphql(sim.url, "t")).status);
    clock.now += 20_000;
    const refused = await graphql(sim.url, "t");
    expect(statuses).toEqual([200, 200, 200]);
    expect([refused.status, refused.headers.get("retry-after")]).toEqual([403, "40"]);
    expect(((await refused.json()) as { message: string }).message).toMatch(
      /^You have exceeded a secondary rate limit/,
    );
    // Refused requests are not charged to the hour (3 queries of 2 points).
    expect(rate(refused).used).toEqual("6");
    clock.now += 40_000;
    expect((await graphql(sim.url, "t")).status).toEqual(200);
    expect(sim.stats.rateLimited["secondary-points"]).toEqual(1);
  });

  it("refuses more concurrent requests than allowed with a secondary limit", async () => {
    const { sim } = await start({ concurrentRequests: 2 }, { latencyMs: 150 });
    const answers = await Promise.all(
      [1, 2, 3].map(() => fetch(`${sim.url}/repos/acme/api`, { headers: auth("t") })),
    );
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, 200, 403]);
    const refused = answers.find((a) => a.status === 403);
    expect(refused?.headers.get("retry-after")).toEqual("60");
    expect(((await refused?.json()) as { message: string }).message).toMatch(/secondary rate limit/);
    // Another token has its own count, and the first is free again once the answers are in.
    const other = await fetch(`${sim.url}/repos/acme/api`, { headers: auth("u") });
    const later = await fetch(`${sim.url}/repos/acme/api`, { headers: auth("t") });
    expect([other.status, later.status]).toEqual([200, 200]);
    expect(sim.stats.rateLimited.concurrency).toEqual(1);
  });

  it("gives an Enterprise Cloud installation its larger budget: 15,000 REST requests, 10,000 GraphQL points", async () => {
    const { sim } = await start({ enterpriseCloud: true });
    const rest = await fetch(`${sim.url}/repos/acme/api`, { headers: auth("t") });
    const gql = await graphql(sim.url, "t");
    expect([rate(rest).limit, rate(gql).limit]).toEqual(["15000", "10000"]);
  });
});
