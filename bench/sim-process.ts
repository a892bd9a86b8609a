/**
 * The simulated GitHub in a process of its own (forked by the benchmark, bench/worker.ts): builds the
 * sample organization of a shape from its seed, serves it on 127.0.0.1 with GitHub's rate limits,
 * and answers with its URL and the few facts the benchmark needs (planted findings, period, counts),
 * never the snapshot itself, so the tool's process holds only what the tool reads from the API.
 */
import type { ExpectedFinding } from "../src/sample/generate.js";
import { generateSampleOrganization } from "../src/sample/generate.js";
import { FINDINGS_REPOSITORY, withFindingsRepository } from "../src/sim/harness.js";
import { withOpenPullRequests, type OpenPullRequests } from "./pr-check.js";
import { sampleOptionsFor, type OrgShape } from "./shapes.js";
import { startLoopMonitor, type LoopDelaySummary, type LoopMonitor } from "./loop-monitor.js";
import { serveWorker } from "./worker.js";
import { githubSchema } from "../src/sim/github/graphql.js";
import type { RateLimitOptions } from "../src/sim/github/rate-limits.js";
import {
  startSimulatedGitHub,
  type SimulatedGitHub,
  type SimulatedGitHubOptions,
  type SimulatedGitHubStats,
} from "../src/sim/github/server.js";
import { createWorld, type World } from "../src/sim/github/world.js";

export interface SimProcessConfig {
  shape: OrgShape;
  /** The sample's seed (the same organization for the same seed). */
  seed?: number;
  /** The fault schedule's seed. */
  faultSeed?: number;
  latencyMs: number;
  faults?: SimulatedGitHubOptions["faults"];
  /** GitHub's documented limits unless given (false: none, said explicitly). */
  rateLimits?: RateLimitOptions | false;
  /** Adds a clean and an unapproved open pull request for the change check. */
  openPullRequests?: boolean;
  /**
   * Server-Timing on every answer and a record of this process's blocked event loop (the "loop"
   * request), so the benchmark can say how long a request waited for the simulator itself.
   */
  timing?: boolean;
}

export interface SimProcessReady {
  url: string;
  organization: string;
  since: string;
  until: string;
  /** The evaluation time the sample is meant for. */
  at: string;
  findingsRepository: string;
  /** Merged pull requests of each repository of the sample (the findings repository has none). */
  pullRequestCounts: Record<string, number>;
  mergedPullRequests: number;
  expected: ExpectedFinding[];
  open?: OpenPullRequests;
}

export interface SimProcessStats extends SimulatedGitHubStats {
  /** Issues of each repository that has any (the finding issues the tool filed). */
  issues: Record<string, number>;
}

let sim: SimulatedGitHub | undefined;
let world: World | undefined;
let loop: LoopMonitor | undefined;

serveWorker<SimProcessConfig, SimProcessReady>({
  async start(config) {
    const sample = generateSampleOrganization(sampleOptionsFor(config.shape, config.seed ?? 42));
    let snapshot = withFindingsRepository(sample.snapshot);
    let open: OpenPullRequests | undefined;
    if (config.openPullRequests) {
      const extended = withOpenPullRequests(snapshot, sample);
      snapshot = extended.snapshot;
      open = extended.open;
    }
    world = createWorld(snapshot);
    // Built now, not on the audit's first query: GitHub's schema is not the tool's wall time.
    githubSchema();
    sim = await startSimulatedGitHub({
      world,
      latencyMs: config.latencyMs,
      seed: config.faultSeed ?? 7,
      ...(config.faults ? { faults: config.faults } : {}),
      ...(config.rateLimits === undefined ? {} : { rateLimits: config.rateLimits }),
      ...(config.timing ? { serverTiming: true } : {}),
    });
    if (config.timing) loop = startLoopMonitor();
    const organization = snapshot.organization?.login ?? "acme-demo";
    const pullRequestCounts: Record<string, number> = {};
    for (const repository of sample.snapshot.repositories) pullRequestCounts[repository.fullName] = 0;
    for (const change of sample.snapshot.changeRequests)
      pullRequestCounts[change.repository] = (pullRequestCounts[change.repository] ?? 0) + 1;
    const since = sample.snapshot.period?.since;
    if (!since) throw new Error("the sample has no audit period");
    return {
      url: sim.url,
      organization,
      since,
      until: sample.at.toISOString(),
      at: sample.at.toISOString(),
      findingsRepository: `${organization}/${FINDINGS_REPOSITORY}`,
      pullRequestCounts,
      mergedPullRequests: sample.snapshot.changeRequests.length,
      expected: sample.expected,
      ...(open ? { open } : {}),
    };
  },
  async handle(message) {
    if (message.type === "loop") {
      if (!loop) throw new Error("the simulated GitHub was started without timing");
      const since = typeof message.since === "number" ? message.since : 0;
      return loop.summary(since) satisfies LoopDelaySummary;
    }
    if (message.type !== "stats") throw new Error(`unknown request ${message.type}`);
    if (!sim || !world) throw new Error("the simulated GitHub has not started");
    const issues: Record<string, number> = {};
    for (const [name, repository] of world.repositories)
      if (repository.issues.size > 0) issues[name] = repository.issues.size;
    return structuredClone({ ...sim.stats, issues }) satisfies SimProcessStats;
  },
  async close() {
    await sim?.close();
    // The parent disconnects after this answer; the process then ends with nothing left to run.
  },
});
