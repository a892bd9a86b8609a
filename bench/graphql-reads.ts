/**
 * Wall time of GraphQL reads through the production client (throttling and retries on) against the
 * simulated GitHub: what octokit's write limiter costs reads, and what the read limits cost instead.
 *
 *   npx tsx bench/graphql-reads.ts [--queries 100] [--latency 50] [--concurrency 10]
 *
 * The reads are sent two ways: one after another (a single audit worker), and all at once (an audit
 * with several workers; the client's concurrency, 10 by default, bounds them).
 */
import { parseArgs } from "node:util";
import { createGitHubClient } from "../src/providers/github/index.js";
import { serveSample } from "./harness.js";

const REPOSITORY_QUERY = `query ($owner: String!, $name: String!) {
  repository(owner: $owner, name: $name) { name isArchived }
  rateLimit { cost remaining }
}`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      queries: { type: "string", default: "100" },
      latency: { type: "string", default: "50" },
      concurrency: { type: "string" },
    },
  });
  const queries = Number(values.queries);
  const latencyMs = Number(values.latency);
  const served = await serveSample({ repositories: 5, pullRequestsPerRepository: 1 }, { latencyMs });
  const [owner, name] = (served.served.repositories[0]?.fullName ?? "acme-demo/api").split("/");
  try {
    for (const mode of ["sequential", "concurrent"] as const) {
      const client = createGitHubClient({
        token: "bench",
        baseUrl: served.sim.url,
        ...(values.concurrency ? { rateLimits: { maxConcurrentRequests: Number(values.concurrency) } } : {}),
      });
      const read = () => client.graphql(REPOSITORY_QUERY, { owner, name });
      const started = performance.now();
      if (mode === "sequential") {
        for (let i = 0; i < queries; i += 1) await read();
      } else {
        await Promise.all(Array.from({ length: queries }, read));
      }
      const seconds = (performance.now() - started) / 1000;
      console.log(
        `${queries} GraphQL reads, ${mode}, ${latencyMs} ms latency: ${seconds.toFixed(2)} s ` +
          `(${client.stats.requests} requests, stats ${JSON.stringify(client.stats)})`,
      );
    }
  } finally {
    await served.sim.close();
  }
}

void main();
