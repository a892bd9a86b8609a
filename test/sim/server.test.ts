import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { verify } from "@octokit/webhooks-methods";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../src/sim/github/server.js";
import { createWorld } from "../../src/sim/github/world.js";
import { createGitHubClient, createGitHubHost } from "../../src/providers/github/index.js";
import type { Policy } from "../../src/policy/types.js";
import { cleanBranchRule, makeChangeRequest, makeRepository, makeSnapshot } from "../fixtures/build.js";

const started: SimulatedGitHub[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

async function start(options: Partial<Parameters<typeof startSimulatedGitHub>[0]> = {}) {
  const world = options.world ?? createWorld(makeSnapshot());
  const sim = await startSimulatedGitHub({ seed: 7, ...options, world });
  started.push(sim);
  return sim;
}

const collaborators = Array.from({ length: 65 }, (_, i) => ({
  login: `dev${String(i).padStart(2, "0")}`,
  permission: "write" as const,
  outside: false,
}));

describe("simulated GitHub REST", () => {
  it("pages lists with GitHub's Link header", async () => {
    const sim = await start({
      world: createWorld(
        makeSnapshot({
          repositories: [makeRepository({ collaborators: { known: true, value: collaborators } })],
        }),
      ),
    });
    const first = await fetch(`${sim.url}/repos/acme/api/collaborators?per_page=30`);
    const firstLogins = ((await first.json()) as Array<{ login: string }>).map((u) => u.login);
    expect(firstLogins).toHaveLength(30);
    expect(first.headers.get("link")).toEqual(
      `<${sim.url}/repos/acme/api/collaborators?per_page=30&page=2>; rel="next", <${sim.url}/repos/acme/api/collaborators?per_page=30&page=3>; rel="last"`,
    );
    const last = await fetch(`${sim.url}/repos/acme/api/collaborators?per_page=30&page=3`);
    expect(((await last.json()) as unknown[]).length).toEqual(5);
    expect(last.headers.get("link")).toEqual(
      `<${sim.url}/repos/acme/api/collaborators?per_page=30&page=2>; rel="prev", <${sim.url}/repos/acme/api/collaborators?per_page=30&page=1>; rel="first"`,
    );
  });

  it("answers If-None-Match with 304 without spending the rate limit", async () => {
    const sim = await start();
    const first = await fetch(`${sim.url}/repos/acme/api`);
    const etag = first.headers.get("etag") ?? "";
    expect(first.headers.get("x-ratelimit-used")).toEqual("1");
    const again = await fetch(`${sim.url}/repos/acme/api`, { headers: { "if-none-match": etag } });
    expect([again.status, again.headers.get("x-ratelimit-used"), sim.stats.notModified]).toEqual([
      304,
      "1",
      1,
    ]);
  });

  it("answers unreadable facts with GitHub's 403 and a missing branch protection with 404", async () => {
    const repo = makeRepository({
      deployKeys: { known: false, permission: "administration:read", reason: "403" },
    });
    const sim = await start({
      world: createWorld(
        makeSnapshot({
          repositories: [
            repo,
            makeRepository({ fullName: "acme/web", branchRules: { known: true, value: [] } }),
          ],
        }),
      ),
    });
    const keys = await fetch(`${sim.url}/repos/acme/api/keys`);
    expect([keys.status, await keys.json()]).toEqual([
      403,
      {
        message: "Resource not accessible by integration",
        documentation_url: "https://docs.github.com/rest",
        status: "403",
      },
    ]);
    const protection = await fetch(`${sim.url}/repos/acme/web/branches/main/protection`);
    expect([protection.status, ((await protection.json()) as { message: string }).message]).toEqual([
      404,
      "Branch not protected",
    ]);
  });

  it("answers every n-th request with a secondary rate limit and a primary limit with remaining 0", async () => {
    const sim = await start({ faults: { rate: 0, secondaryRateLimitEvery: 3 }, primaryLimit: 4 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await fetch(`${sim.url}/repos/acme/api`)).status);
    expect(statuses).toEqual([200, 200, 403]);
    const third = await fetch(`${sim.url}/repos/acme/api`);
    expect(third.status).toEqual(200);
    await fetch(`${sim.url}/repos/acme/api`);
    const secondary = await fetch(`${sim.url}/repos/acme/api`);
    expect([
      secondary.status,
      secondary.headers.get("retry-after"),
      ((await secondary.json()) as { message: string }).message,
    ]).toEqual([403, "1", expect.stringContaining("secondary rate limit")]);
    const primary = await fetch(`${sim.url}/repos/acme/api`);
    expect([primary.status, primary.headers.get("x-ratelimit-remaining")]).toEqual([403, "0"]);
  });

  it("injects faults at the configured rate, the same schedule for the same seed", async () => {
    const schedule = async () => {
      const sim = await start({ faults: { rate: 0.3, timeoutMs: 50 } });
      const outcomes: string[] = [];
      for (let i = 0; i < 200; i += 1) {
        try {
          const res = await fetch(`${sim.url}/repos/acme/api`, { signal: AbortSignal.timeout(2000) });
          await res.json();
          outcomes.push(String(res.status));
        } catch {
          outcomes.push("broken");
        }
      }
      return { outcomes, faults: Object.values(sim.stats.faults).reduce((a, b) => a + b, 0) };
    };
    const a = await schedule();
    const b = await schedule();
    expect(a.outcomes).toEqual(b.outcomes);
    expect(a.faults).toBeGreaterThan(40);
    expect(a.faults).toBeLessThan(80);
    expect(a.outcomes.filter((o) => o !== "200")).toHaveLength(a.faults);
  });

  it("stores the issues and check runs the bot writes", async () => {
    const sim = await start();
    const created = await fetch(`${sim.url}/repos/acme/api/issues`, {
      method: "POST",
      body: JSON.stringify({ title: "cc8.approved fails", body: "x", labels: ["soc2"] }),
    });
    const issue = (await created.json()) as { number: number };
    await fetch(`${sim.url}/repos/acme/api/issues/${issue.number}`, {
      method: "PATCH",
      body: JSON.stringify({ state: "closed" }),
    });
    const listed = (await (
      await fetch(`${sim.url}/repos/acme/api/issues?labels=soc2&state=all`)
    ).json()) as Array<{ number: number; state: string; title: string }>;
    expect(listed.map((i) => [i.number, i.state, i.title])).toEqual([[13, "closed", "cc8.approved fails"]]);
  });
});

describe("webhook delivery", () => {
  it("signs the body so the receiver verifies it", async () => {
    const received: Array<{ headers: IncomingMessage["headers"]; body: string }> = [];
    const app = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push({ headers: req.headers, body });
        res.end("ok");
      });
    });
    await new Promise<void>((r) => app.listen(0, "127.0.0.1", r));
    const sim = await start();
    const answer = await sim.deliverWebhook(
      `http://127.0.0.1:${(app.address() as AddressInfo).port}/`,
      "pull_request",
      { action: "opened" },
      "s3cret",
    );
    app.close();
    const got = received[0];
    expect(answer).toEqual({ status: 200, body: "ok" });
    expect(got?.headers["x-github-event"]).toEqual("pull_request");
    expect(await verify("s3cret", got?.body ?? "", String(got?.headers["x-hub-signature-256"]))).toEqual(
      true,
    );
    expect(got?.headers["x-hub-signature-256"]).toEqual(
      `sha256=${createHmac("sha256", "s3cret")
        .update(got?.body ?? "")
        .digest("hex")}`,
    );
  });

  it("refuses to deliver anywhere but loopback", async () => {
    const sim = await start();
    await expect(sim.deliverWebhook("http://example.com/", "ping", {}, "s")).rejects.toThrow(
      "only talks to loopback",
    );
  });
});

describe("round trip through the GitHub provider", () => {
  const policy = { productionBranches: { defaultBranch: true, patterns: [] } } as unknown as Policy;

  it("collects back the repository and pull request the world was built from", async () => {
    const repository = makeRepository({
      branchRules: {
        known: true,
        value: [cleanBranchRule({ requiredApprovals: 2, bypassActors: ["carol"] })],
      },
      collaborators: {
        known: true,
        value: [
          { login: "alice", permission: "admin", outside: false },
          { login: "eve", permission: "write", outside: true },
        ],
      },
      deployKeys: {
        known: false,
        permission: "administration:read",
        reason: "403 Resource not accessible by integration",
      },
    });
    // GitHub dates a plain push by its commit (pushedDate is gone), so the round-trippable push is at the commit's time.
    const change = makeChangeRequest({
      pushes: [{ at: "2026-10-01T09:00:00Z", actor: "alice", headSha: "h".repeat(40), forced: false }],
      // One approval where the rule asks for two: GitHub only lets that merge through a bypass.
      bypassedProtection: { known: true, value: true },
    });
    const sim = await start({
      world: createWorld(makeSnapshot({ repositories: [repository], changeRequests: [change] })),
    });
    const octokit = createGitHubClient({ token: "sim", baseUrl: sim.url, throttle: false });
    const host = createGitHubHost({ octokit, baseUrl: sim.url });

    const collected = await host.collectRepository("acme/api", policy);
    expect({
      ...collected,
      url: repository.url,
      deployKeys: { ...collected.deployKeys, reason: "403 Resource not accessible by integration" },
    }).toEqual(repository);
    expect(await host.collectChangeRequest("acme/api", 12)).toEqual(change);
    expect(sim.stats.graphqlPoints).toBeGreaterThanOrEqual(1);
  });
});
