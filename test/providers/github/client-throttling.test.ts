/**
 * The production client's rate limits, against nock answering as GitHub does (its rate-limit
 * headers and error bodies, from "Rate limits for the REST API" and "Rate limits and query limits
 * for the GraphQL API"): reads are not spaced like writes, budgets are read from the headers, and
 * no client waits behind another's requests.
 */
import { readFileSync } from "node:fs";
import { inspect } from "node:util";
import { Probot } from "probot";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../../src/app/logger.js";
import { createGitHubClient } from "../../../src/providers/github/index.js";
import {
  graphqlOperationType,
  RateLimitedOctokit,
  RateLimitExhaustedError,
  rateLimiterOf,
} from "../../../src/providers/github/read-limits.js";
import { github, useHttpMock } from "./mock.js";

const TOKEN = "ghs_S3cr3tInstallationTok3nValue0123456789";
const REPOSITORY_QUERY = `query Repository($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) { name }
}`;
const CLOSE_ISSUE = `mutation CloseIssue($id: ID!) {
  closeIssue(input: { issueId: $id }) { issue { id } }
}`;

interface GraphqlBody {
  query: string;
  variables: Record<string, unknown>;
}

/** GitHub's rate-limit headers for the GraphQL resource. */
function graphqlHeaders(used: number, options: { limit?: number; reset?: number } = {}) {
  const limit = options.limit ?? 5000;
  return {
    "x-ratelimit-limit": String(limit),
    "x-ratelimit-remaining": String(Math.max(0, limit - used)),
    "x-ratelimit-used": String(used),
    "x-ratelimit-reset": String(options.reset ?? Math.floor(Date.now() / 1000) + 3600),
    "x-ratelimit-resource": "graphql",
  };
}

const repositoryAnswer = { data: { repository: { name: "api" } } };

function capturingLog() {
  const lines: string[] = [];
  const keep = (...args: unknown[]) => lines.push(args.map((a) => inspect(a, { depth: 6 })).join(" "));
  return { lines, log: { debug: keep, info: keep, warn: keep, error: keep } };
}

describe("the production client's rate limits", () => {
  useHttpMock();

  it("sends GraphQL queries without a second between them", async () => {
    const client = createGitHubClient({ token: TOKEN });
    github().post("/graphql").times(10).reply(200, repositoryAnswer, graphqlHeaders(1));

    const started = performance.now();
    for (let i = 0; i < 10; i += 1) {
      expect(await client.graphql(REPOSITORY_QUERY, { owner: "acme", name: "api" })).toEqual(
        repositoryAnswer.data,
      );
    }

    // octokit's write limiter alone would take 9 s here.
    expect(performance.now() - started).toBeLessThan(1000);
    expect(client.stats.requests).toBe(10);
    expect(client.stats.rateLimits?.writeSpacingSeconds).toBe(0);
  });

  it("keeps GitHub's second between writes: mutations and REST POSTs", async () => {
    const client = createGitHubClient({ token: TOKEN });
    const arrivals: number[] = [];
    github()
      .post("/graphql", (body: GraphqlBody) => body.query.startsWith("mutation"))
      .times(2)
      .reply(() => {
        arrivals.push(performance.now());
        return [200, { data: { closeIssue: { issue: { id: "I_1" } } } }, graphqlHeaders(1)];
      })
      .post("/repos/acme/api/check-runs")
      .reply(() => {
        arrivals.push(performance.now());
        return [201, { id: 1 }];
      });

    await Promise.all([
      client.graphql(CLOSE_ISSUE, { id: "I_1" }),
      client.graphql(CLOSE_ISSUE, { id: "I_2" }),
      client.request("POST /repos/{owner}/{repo}/check-runs", {
        owner: "acme",
        repo: "api",
        name: "SOC 2 change management",
        head_sha: "a".repeat(40),
      }),
    ]);

    expect(arrivals).toHaveLength(3);
    const sorted = [...arrivals].sort((a, b) => a - b);
    // The limiter starts writes a second apart; their arrival here also carries each request's own
    // trip through the event loop, which on a busy machine differs by a few milliseconds (988 ms was
    // seen under load). Unspaced writes would arrive within milliseconds of each other.
    const JITTER_MS = 50;
    expect((sorted[1] ?? 0) - (sorted[0] ?? 0)).toBeGreaterThanOrEqual(1000 - JITTER_MS);
    expect((sorted[2] ?? 0) - (sorted[1] ?? 0)).toBeGreaterThanOrEqual(1000 - JITTER_MS);
    expect(client.stats.rateLimits?.writeSpacingSeconds).toBeGreaterThan(1.9);
  });

  it("waits for the primary reset when a read finds the budget used up, then resumes (an audit)", async () => {
    const client = createGitHubClient({ token: TOKEN });
    const reset = Math.floor(Date.now() / 1000) + 2;
    let answeredAt = 0;
    let resumedAt = 0;
    github()
      .post("/graphql")
      .reply(() => {
        answeredAt = Date.now();
        return [200, repositoryAnswer, graphqlHeaders(5000, { reset })];
      })
      .post("/graphql")
      .reply(() => {
        resumedAt = Date.now();
        return [200, repositoryAnswer, graphqlHeaders(1)];
      });

    await client.graphql(REPOSITORY_QUERY, { owner: "acme", name: "api" });
    expect(answeredAt).toBeGreaterThan(0);
    expect(await client.graphql(REPOSITORY_QUERY, { owner: "acme", name: "api" })).toEqual(
      repositoryAnswer.data,
    );

    // Not before the reset: GitHub asks for a retry after it.
    expect(resumedAt).toBeGreaterThanOrEqual(reset * 1000);
    expect(client.stats.requests).toBe(2);
    expect(client.stats.rateLimits?.primaryResetWaits).toBe(1);
    expect(client.stats.rateLimits?.primaryResetWaitSeconds).toBeGreaterThan(0);
  });

  it("retries a read GitHub refused for the used-up budget after the reset (an audit)", async () => {
    const client = createGitHubClient({ token: TOKEN });
    const reset = Math.floor(Date.now() / 1000) + 2;
    let resumedAt = 0;
    github()
      .get("/repos/acme/api")
      .reply(
        403,
        {
          message: "API rate limit exceeded for installation ID 99.",
          documentation_url:
            "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-the-primary-rate-limit",
        },
        {
          "x-ratelimit-limit": "5000",
          "x-ratelimit-remaining": "0",
          "x-ratelimit-used": "5000",
          "x-ratelimit-reset": String(reset),
          "x-ratelimit-resource": "core",
        },
      )
      .get("/repos/acme/api")
      .reply(() => {
        resumedAt = Date.now();
        return [200, { full_name: "acme/api" }];
      });

    const { data } = await client.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "api" });

    expect(data).toEqual({ full_name: "acme/api" });
    expect(resumedAt).toBeGreaterThanOrEqual(reset * 1000);
    expect(client.stats.rateLimits?.primaryResetWaits).toBe(1);
  });

  it("fails a pull request check's read at once, naming the reset, when GitHub refuses it for the budget", async () => {
    const { lines, log } = capturingLog();
    const client = createGitHubClient({ token: TOKEN, onPrimaryExhausted: "fail", log });
    const reset = Math.floor(Date.now() / 1000) + 2;
    github()
      .post("/graphql")
      .reply(
        403,
        { message: "API rate limit exceeded for installation ID 99." },
        graphqlHeaders(5000, { reset }),
      );

    const started = Date.now();
    const error = await client.graphql(REPOSITORY_QUERY, { owner: "acme", name: "api" }).catch((e) => e);

    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(RateLimitExhaustedError);
    expect((error as Error).message).toContain(new Date(reset * 1000).toISOString());
    expect((error as Error).message).toContain("graphql rate limit");
    expect((error as RateLimitExhaustedError).resetAt.getTime()).toBe(reset * 1000);
    expect(client.stats.requests).toBe(1);
    // Credentials never appear in what an operator sees.
    for (const text of [
      String(error),
      (error as Error).stack ?? "",
      inspect(error, { depth: 10 }),
      ...lines,
    ]) {
      expect(text).not.toContain(TOKEN);
    }
  });

  it("does not send a pull request check's read while the budget it last saw is used up", async () => {
    const client = createGitHubClient({ token: TOKEN, onPrimaryExhausted: "fail" });
    const reset = Math.floor(Date.now() / 1000) + 30;
    // One answer only: the second read must not reach GitHub (the mock fails the test if it does).
    github().post("/graphql").reply(200, repositoryAnswer, graphqlHeaders(5000, { reset }));

    await client.graphql(REPOSITORY_QUERY, { owner: "acme", name: "api" });
    const error = await client.graphql(REPOSITORY_QUERY, { owner: "acme", name: "api" }).catch((e) => e);

    expect(error).toBeInstanceOf(RateLimitExhaustedError);
    expect((error as Error).message).toBe(
      `GitHub's graphql rate limit (5000 per hour) is used up until ${new Date(reset * 1000).toISOString()}: ` +
        "POST /graphql was not sent (this client does not wait for the reset)",
    );
    expect(client.stats.requests).toBe(1);
  });

  it("gives up instead of waiting longer than the longest wait", async () => {
    const client = createGitHubClient({ token: TOKEN, maxRateLimitWaitSeconds: 5 });
    const reset = Math.floor(Date.now() / 1000) + 600;
    github().post("/graphql").reply(200, repositoryAnswer, graphqlHeaders(5000, { reset }));

    await client.graphql(REPOSITORY_QUERY, { owner: "acme", name: "api" });
    const error = await client.graphql(REPOSITORY_QUERY, { owner: "acme", name: "api" }).catch((e) => e);

    expect(error).toBeInstanceOf(RateLimitExhaustedError);
    expect((error as Error).message).toContain("longer than this client's longest wait, 5s");
  });

  it("reads the budget from x-ratelimit-limit (a GitHub Enterprise Cloud app has more than 5,000)", async () => {
    const client = createGitHubClient({ token: TOKEN });
    github()
      .post("/graphql")
      .times(2)
      .reply(200, repositoryAnswer, graphqlHeaders(6000, { limit: 10_000 }));

    await client.graphql(REPOSITORY_QUERY, { owner: "acme", name: "api" });
    const started = Date.now();
    await client.graphql(REPOSITORY_QUERY, { owner: "acme", name: "api" });

    expect(Date.now() - started).toBeLessThan(500);
    expect(rateLimiterOf(client)?.budget("graphql")).toMatchObject({ limit: 10_000, remaining: 4000 });
  });

  it("holds a query back when the points of the last minute would pass the per-minute budget", async () => {
    // A 10-point budget over a 1.5 s window stands for GitHub's 2,000 points per minute.
    const client = createGitHubClient({
      token: TOKEN,
      rateLimits: { graphqlPointsPerMinute: 10, windowMs: 1500 },
    });
    const arrivals: number[] = [];
    let used = 0;
    github()
      .post("/graphql")
      .times(4)
      .reply(() => {
        arrivals.push(performance.now());
        used += 4;
        return [200, repositoryAnswer, graphqlHeaders(used)];
      });

    for (let i = 0; i < 4; i += 1) await client.graphql(REPOSITORY_QUERY, { owner: "acme", name: "api" });

    const [first = 0, , third = 0, fourth = 0] = arrivals;
    // Three queries fit in the budget and go at once; the fourth waits for the first to leave the window.
    expect(third - first).toBeLessThan(300);
    expect(fourth - first).toBeGreaterThanOrEqual(1400);
    expect(client.stats.rateLimits?.pacedRequests).toBeGreaterThanOrEqual(1);
    expect(client.stats.rateLimits?.pacedSeconds).toBeGreaterThan(1);
  });

  it("paces by the cost a query's answer reports, not by what other clients of the token spent", async () => {
    const client = createGitHubClient({
      token: TOKEN,
      rateLimits: { graphqlPointsPerMinute: 10, windowMs: 1500 },
    });
    const arrivals: number[] = [];
    let used = 0;
    github()
      .post("/graphql")
      .times(3)
      .reply(() => {
        arrivals.push(performance.now());
        // Another client of the token (an audit) spends 1,000 points between these answers.
        used += 1000;
        return [
          200,
          { data: { repository: { name: "api" }, rateLimit: { cost: 6 } } },
          graphqlHeaders(used, { limit: 100_000 }),
        ];
      });
    const query = `query Repository($owner: String!, $name: String!) {
      repository(owner: $owner, name: $name) { name }
      rateLimit { cost }
    }`;

    for (let i = 0; i < 3; i += 1) await client.graphql(query, { owner: "acme", name: "api" });

    const [first = 0, second = 0, third = 0] = arrivals;
    // 6 points, then 6 more fit in 10 only once the first 6 have left the window.
    expect(second - first).toBeLessThan(300);
    expect(third - first).toBeGreaterThanOrEqual(1400);
  });

  it("sends a query costing more than the whole per-minute budget alone, once the window is empty", async () => {
    const client = createGitHubClient({
      token: TOKEN,
      rateLimits: { graphqlPointsPerMinute: 1, windowMs: 300 },
    });
    const arrivals: number[] = [];
    github()
      .post("/graphql")
      .times(3)
      .reply(() => {
        arrivals.push(performance.now());
        return [200, { data: { repository: { name: "api" }, rateLimit: { cost: 5 } } }, graphqlHeaders(1)];
      });

    for (let i = 0; i < 3; i += 1) await client.graphql(REPOSITORY_QUERY, { owner: "acme", name: "api" });

    const [first = 0, second = 0, third = 0] = arrivals;
    expect(second - first).toBeGreaterThanOrEqual(280);
    expect(third - second).toBeGreaterThanOrEqual(280);
    expect(third - first).toBeLessThan(1500);
  });

  it("paces REST reads per endpoint, as GitHub counts its per-minute points", async () => {
    // Two points per 1.2 s stand for GitHub's 900 per minute to one endpoint.
    const client = createGitHubClient({
      token: TOKEN,
      rateLimits: { restPointsPerMinute: 2, windowMs: 1200 },
    });
    const arrivals: Record<string, number[]> = { teams: [], keys: [] };
    github()
      .get("/repos/acme/api/teams")
      .times(3)
      .reply(() => {
        arrivals.teams?.push(performance.now());
        return [200, []];
      })
      .get("/repos/acme/api/keys")
      .reply(() => {
        arrivals.keys?.push(performance.now());
        return [200, []];
      });
    const teams = () => client.request("GET /repos/{owner}/{repo}/teams", { owner: "acme", repo: "api" });

    const started = performance.now();
    await Promise.all([
      teams(),
      teams(),
      teams(),
      client.request("GET /repos/{owner}/{repo}/keys", { owner: "acme", repo: "api" }),
    ]);

    const [first = 0, second = 0, third = 0] = [...(arrivals.teams ?? [])].sort((a, b) => a - b);
    expect(second - first).toBeLessThan(300);
    expect(third - first).toBeGreaterThanOrEqual(1100);
    // Another endpoint has its own count.
    expect((arrivals.keys?.[0] ?? 0) - started).toBeLessThan(300);
    expect(client.stats.rateLimits?.pacedRequests).toBe(1);
  });

  it("retries a GraphQL secondary rate limit after the retry-after GitHub names", async () => {
    const { lines, log } = capturingLog();
    const client = createGitHubClient({ token: TOKEN, log });
    github()
      .post("/graphql")
      .reply(
        403,
        {
          message:
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.",
        },
        { ...graphqlHeaders(10), "retry-after": "1" },
      )
      .post("/graphql")
      .reply(200, repositoryAnswer, graphqlHeaders(11));

    const started = Date.now();
    expect(await client.graphql(REPOSITORY_QUERY, { owner: "acme", name: "api" })).toEqual(
      repositoryAnswer.data,
    );

    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(client.stats.requests).toBe(2);
    expect(client.stats.rateLimits?.secondaryRetries).toBe(1);
    expect(
      lines.some((line) => line.includes("GitHub secondary rate limit on POST /graphql: retry in 1s")),
    ).toBe(true);
    for (const line of lines) expect(line).not.toContain(TOKEN);
  });

  it("does not queue a pull request check behind another client's 50 reads in flight", async () => {
    // As Probot makes them: two clients of one installation, with the same throttle id.
    const audit = new RateLimitedOctokit({
      auth: TOKEN,
      throttle: { id: "99" },
      rateLimits: { maxConcurrentRequests: 50 },
    });
    const check = new RateLimitedOctokit({
      auth: TOKEN,
      throttle: { id: "99" },
      rateLimits: { onPrimaryExhausted: "fail" },
    });
    github()
      .post("/graphql", (body: GraphqlBody) => body.variables.name === "audited")
      .times(50)
      .delay(1500)
      .reply(200, repositoryAnswer, graphqlHeaders(1))
      .post("/graphql", (body: GraphqlBody) => body.variables.name === "checked")
      .reply(200, repositoryAnswer, graphqlHeaders(2));

    const auditReads = Promise.all(
      Array.from({ length: 50 }, () => audit.graphql(REPOSITORY_QUERY, { owner: "acme", name: "audited" })),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    let auditDone = false;
    void auditReads.then(() => (auditDone = true));
    const started = performance.now();
    await check.graphql(REPOSITORY_QUERY, { owner: "acme", name: "checked" });
    const checkMs = performance.now() - started;

    expect(auditDone).toBe(false);
    expect(checkMs).toBeLessThan(500);
    expect(await auditReads).toHaveLength(50);
  });
});

describe("installation clients Probot makes with RateLimitedOctokit", () => {
  useHttpMock();

  it("each have their own limits: a pull request check is not queued behind the audit of its installation", async () => {
    const probot = new Probot({
      appId: 1,
      privateKey: readFileSync(new URL("../../fixtures/app/private-key.pem", import.meta.url), "utf8"),
      log: createLogger({ level: "silent" }),
      Octokit: RateLimitedOctokit.defaults({ rateLimits: { onPrimaryExhausted: "fail" } }),
    });
    github()
      .post("/app/installations/99/access_tokens")
      .reply(201, { token: "ghs_installation", expires_at: "2099-01-01T00:00:00Z" })
      .post("/graphql", (body: GraphqlBody) => body.variables.name === "audited")
      .times(20)
      .delay(1500)
      .reply(200, repositoryAnswer, graphqlHeaders(1))
      .post("/graphql", (body: GraphqlBody) => body.variables.name === "checked")
      .reply(200, repositoryAnswer, graphqlHeaders(2));
    // The scheduled audit and a webhook's check, as src/app/index.ts gets them: app.auth(installation).
    const audit = await probot.auth(99);
    const check = await probot.auth(99);
    rateLimiterOf(audit)?.configure({ onPrimaryExhausted: "wait" });

    const auditReads = Promise.all(
      Array.from({ length: 20 }, () => audit.graphql(REPOSITORY_QUERY, { owner: "acme", name: "audited" })),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await check.graphql(REPOSITORY_QUERY, { owner: "acme", name: "checked" });

    expect(performance.now() - started).toBeLessThan(500);
    expect(rateLimiterOf(check)?.mode).toBe("fail");
    expect(rateLimiterOf(audit)?.mode).toBe("wait");
    expect(rateLimiterOf(audit)).not.toBe(rateLimiterOf(check));
    expect(await auditReads).toHaveLength(20);
  });
});

describe("graphqlOperationType", () => {
  it("tells a mutation from a query, whatever words its strings and comments hold", () => {
    expect(graphqlOperationType(REPOSITORY_QUERY)).toBe("query");
    expect(graphqlOperationType("{ viewer { login } }")).toBe("query");
    expect(graphqlOperationType(CLOSE_ISSUE)).toBe("mutation");
    expect(
      graphqlOperationType(`# mutation in a comment
        query Q { search(query: "mutation { x }", type: ISSUE, first: 1) { issueCount } }`),
    ).toBe("query");
    expect(
      graphqlOperationType(`fragment F on Issue { id }
        mutation M($id: ID!) { closeIssue(input: { issueId: $id }) { issue { ...F } } }`),
    ).toBe("mutation");
  });
});
