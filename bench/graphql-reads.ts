/**
 * Wall time of GraphQL reads through the production client (throttling and retries on) against the
 * simulated GitHub: what octokit's write limiter costs reads, and what the read limits cost instead.
 *
 *   npx tsx bench/graphql-reads.ts [--queries 100] [--latency 50] [--concurrency 10] [--client probot]
 *
 * Three measurements: the reads one after another (a single audit worker); all at once (an audit
 * with several workers; the client's concurrency, 10 by default, bounds them); and one pull request
 * check's query sent while an audit client of the same installation has all of them in flight.
 * `--client probot` measures plain ProbotOctokit with octokit's throttling as it was configured
 * before (every GraphQL request through the shared write limiter), for the comparison.
 */
import { parseArgs } from "node:util";
import { ProbotOctokit } from "probot";
import { createGitHubClient } from "../src/providers/github/index.js";
import { serveSample } from "../src/sim/harness.js";

const REPOSITORY_QUERY = `query ($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) { name isArchived }
  rateLimit { cost remaining }
}`;

type Reader = (owner: string, name: string) => Promise<unknown>;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      queries: { type: "string", default: "100" },
      latency: { type: "string", default: "50" },
      concurrency: { type: "string" },
      client: { type: "string", default: "production" },
    },
  });
  const queries = Number(values.queries);
  const latencyMs = Number(values.latency);
  const served = await serveSample({ repositories: 5, pullRequestsPerRepository: 1 }, { latencyMs });
  const [owner = "acme-demo", name = "api"] = (served.served.repositories[0]?.fullName ?? "").split("/");
  // Both clients of one installation, as the app gets them from Probot (same throttle id).
  const client = (role: "audit" | "check"): Reader => {
    if (values.client === "probot") {
      const octokit = new ProbotOctokit({
        auth: { token: "bench" },
        baseUrl: served.sim.url,
        throttle: {
          id: "installation-1",
          onRateLimit: () => false,
          onSecondaryRateLimit: (_after: number, _options: unknown, _octokit: unknown, count: number) =>
            count < 3,
        },
      });
      return (o, n) => octokit.graphql(REPOSITORY_QUERY, { owner: o, name: n });
    }
    const octokit = createGitHubClient({
      token: "bench",
      baseUrl: served.sim.url,
      ...(role === "check" ? { onPrimaryExhausted: "fail" as const } : {}),
      ...(values.concurrency ? { rateLimits: { maxConcurrentRequests: Number(values.concurrency) } } : {}),
    });
    return (o, n) => octokit.graphql(REPOSITORY_QUERY, { owner: o, name: n });
  };
  const seconds = (since: number) => ((performance.now() - since) / 1000).toFixed(2);
  try {
    const sequential = client("audit");
    let started = performance.now();
    for (let i = 0; i < queries; i += 1) await sequential(owner, name);
    console.log(`${queries} GraphQL reads one after another, ${latencyMs} ms latency: ${seconds(started)} s`);

    const concurrent = client("audit");
    started = performance.now();
    await Promise.all(Array.from({ length: queries }, () => concurrent(owner, name)));
    console.log(`${queries} GraphQL reads sent at once, ${latencyMs} ms latency: ${seconds(started)} s`);

    const audit = client("audit");
    const check = client("check");
    const auditReads = Promise.all(Array.from({ length: queries }, () => audit(owner, name)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    started = performance.now();
    await check(owner, name);
    console.log(
      `a pull request check's query while the audit client has ${queries} reads queued: ${seconds(started)} s`,
    );
    await auditReads;
  } finally {
    await served.sim.close();
  }
}

void main();
