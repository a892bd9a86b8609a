/**
 * What the demo, the benchmark and the end-to-end tests share: the sample organization served by the
 * simulated GitHub (with the repository finding issues go to), the real provider pointed at it, and
 * the comparison of an evaluation with the findings the sample planted.
 */
import type { EvaluationReport } from "../engine/index.js";
import type { Repository, Snapshot } from "../model/index.js";
import { createGitHubClient, createGitHubHost } from "../providers/github/index.js";
import type { CodeHost } from "../providers/types.js";
import {
  generateSampleOrganization,
  type ExpectedFinding,
  type SampleOrganization,
  type SampleOptions,
} from "../sample/generate.js";
import { startSimulatedGitHub, type SimulatedGitHub, type SimulatedGitHubOptions } from "./github/server.js";
import { createWorld, type World } from "./github/world.js";

/** Where the sample organization's policy sends finding issues (the shipped default). */
export const FINDINGS_REPOSITORY = "compliance";

export interface ServedSample {
  sample: SampleOrganization;
  /** The snapshot the simulated GitHub serves: the sample plus the findings repository. */
  served: Snapshot;
  world: World;
  sim: SimulatedGitHub;
}

/**
 * The sample's organization has no repository for finding issues; on GitHub it would be one more
 * repository of the organization, audited like the others. It is added as a clean copy of the first
 * repository (main protected, no deploy keys), so it plants no finding of its own.
 */
export function withFindingsRepository(snapshot: Snapshot): Snapshot {
  const org = snapshot.organization?.login ?? "acme-demo";
  const template = snapshot.repositories[0];
  if (!template) throw new Error("the sample has no repository to model the findings repository on");
  const fullName = `${org}/${FINDINGS_REPOSITORY}`;
  const mainRule = template.branchRules.known
    ? template.branchRules.value.filter((rule) => rule.branch === template.defaultBranch)
    : [];
  const repository: Repository = {
    ...template,
    fullName,
    url: template.url.replace(template.fullName, fullName),
    productionBranches: [template.defaultBranch],
    branchRules: { known: true, value: mainRule },
    deployKeys: { known: true, value: [] },
  };
  return { ...snapshot, repositories: [...snapshot.repositories, repository] };
}

export async function serveSample(
  options: SampleOptions,
  sim: Omit<SimulatedGitHubOptions, "world"> = {},
  /** Changes to what is served beyond the sample (e.g. open pull requests for the change check). */
  extend: (snapshot: Snapshot, sample: SampleOrganization) => Snapshot = (snapshot) => snapshot,
): Promise<ServedSample> {
  const sample = generateSampleOrganization(options);
  const served = extend(withFindingsRepository(sample.snapshot), sample);
  const world = createWorld(served);
  // For the demo and the end-to-end tests, which run many audits in one process: GitHub's secondary
  // limits apply, the hourly budget does not. The benchmark (bench/measure.ts) runs the simulated
  // GitHub in its own process with every documented limit.
  const started = await startSimulatedGitHub({ primaryLimit: 1e9, ...sim, world });
  return { sample, served, world, sim: started };
}

export interface SimHost {
  host: CodeHost;
  stats: { requests: number; graphqlPoints?: number };
}

/**
 * The real GitHub provider over the simulated GitHub. `throttle` keeps octokit's retry and
 * throttling plugins (production behaviour); without it nothing waits between requests.
 */
export function githubHostFor(sim: SimulatedGitHub, options: { throttle?: boolean } = {}): SimHost {
  const octokit = createGitHubClient({
    token: "demo",
    baseUrl: sim.url,
    throttle: options.throttle ?? false,
  });
  return { host: createGitHubHost({ octokit, baseUrl: sim.url }), stats: octokit.stats };
}

export function findingKey(finding: ExpectedFinding): string {
  return `${finding.outcome} ${finding.control} ${finding.subject}`;
}

/** The results the sample is meant to plant: everything not pass and not n/a. */
export function plantedOutcomes(report: Pick<EvaluationReport, "results">): ExpectedFinding[] {
  const found: ExpectedFinding[] = [];
  for (const result of report.results) {
    if (result.outcome === "fail" || result.outcome === "unknown" || result.outcome === "excepted")
      found.push({ control: result.control, subject: result.subject.id, outcome: result.outcome });
  }
  return found;
}

export interface ExpectedComparison {
  expected: number;
  found: number;
  /** Planted but not reported. */
  missing: string[];
  /** Reported but not planted. */
  unexpected: string[];
}

/** Set equality both ways: a missing finding is a wrong pass, an unexpected one a wrong fail. */
export function compareWithExpected(
  report: Pick<EvaluationReport, "results">,
  expected: readonly ExpectedFinding[],
): ExpectedComparison {
  const want = new Set(expected.map(findingKey));
  const got = new Set(plantedOutcomes(report).map(findingKey));
  return {
    expected: want.size,
    found: [...want].filter((key) => got.has(key)).length,
    missing: [...want].filter((key) => !got.has(key)).sort(),
    unexpected: [...got].filter((key) => !want.has(key)).sort(),
  };
}

export function period(sample: SampleOrganization): { since: Date; until: Date } {
  const since = sample.snapshot.period?.since;
  if (!since) throw new Error("the sample has no audit period");
  return { since: new Date(since), until: sample.at };
}
