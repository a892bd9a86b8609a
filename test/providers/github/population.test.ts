/**
 * The audit's population of merged changes, through the simulated GitHub: selected by the base
 * branch's name against the policy's production branches, so a `release/*` branch deleted after
 * its merges still brings its changes; one listing of merged pull requests per repository.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../../src/sim/github/server.js";
import { createWorld } from "../../../src/sim/github/world.js";
import { collectAudit } from "../../../src/pipeline/audit.js";
import { createGitHubClient, createGitHubHost } from "../../../src/providers/github/index.js";
import { makeChangeRequest, makeRepository, makeSnapshot } from "../../fixtures/build.js";

const started: SimulatedGitHub[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

const POLICY = 'version: 1\nproduction_branches:\n  default_branch: true\n  patterns: ["release/*"]\n';

function merged(number: number, baseBranch: string, mergedAt: string) {
  const headSha = number.toString(16).padStart(40, "a");
  return makeChangeRequest({
    number,
    url: `https://github.com/acme/api/pull/${number}`,
    baseBranch,
    headBranch: `feature/${number}`,
    headSha,
    mergeCommitSha: number.toString(16).padStart(40, "b"),
    createdAt: "2026-09-01T09:00:00Z",
    mergedAt,
    commits: [
      {
        sha: headSha,
        authorLogin: "alice",
        authorName: "Alice",
        committerLogin: "alice",
        authoredAt: "2026-09-01T09:00:00Z",
        committedAt: "2026-09-01T09:00:00Z",
      },
    ],
    pushes: [{ at: "2026-09-01T09:00:00Z", actor: "alice", headSha, forced: false }],
    reviews: [
      { reviewer: "bob", state: "approved", submittedAt: "2026-09-02T10:00:00Z", commitSha: headSha },
    ],
    checks: [],
  });
}

describe("the population of merged changes", () => {
  it("includes the changes merged into a release branch deleted since, and none into other branches", async () => {
    const snapshot = makeSnapshot({
      // Only main exists today: release/1.0 was deleted after its merges.
      repositories: [makeRepository({ productionBranches: ["main"] })],
      changeRequests: [
        merged(20, "main", "2026-09-10T12:00:00Z"),
        merged(21, "release/1.0", "2026-09-12T12:00:00Z"),
        merged(22, "release/1.0", "2026-09-20T12:00:00Z"),
        merged(23, "develop", "2026-09-25T12:00:00Z"),
        merged(24, "release/0.9", "2026-07-01T12:00:00Z"), // merged before the period
      ],
      policyFiles: [
        { layer: "organization", repository: null, path: "acme/.github:.github/soc2.yml", content: POLICY },
      ],
    });
    const world = createWorld(snapshot, {
      deletedBranches: ["acme/api:release/1.0", "acme/api:release/0.9"],
    });
    const sim = await startSimulatedGitHub({ world, seed: 5 });
    started.push(sim);
    const octokit = createGitHubClient({ token: "sim", baseUrl: sim.url, throttle: false });
    const operations: string[] = [];
    octokit.hook.before("request", (options) => {
      const query = (options as { query?: unknown }).query;
      if (typeof query === "string") operations.push(/query (\w+)/.exec(query)?.[1] ?? "?");
    });
    const host = createGitHubHost({ octokit, baseUrl: sim.url });
    const branches = (await (await fetch(`${sim.url}/repos/acme/api/branches`)).json()) as Array<{
      name: string;
    }>;
    expect(branches.map((b) => b.name)).not.toContain("release/1.0");

    const collected = await collectAudit({
      host,
      organization: "acme",
      since: new Date("2026-08-01T00:00:00Z"),
      until: new Date("2026-11-01T00:00:00Z"),
      now: () => new Date("2026-11-01T00:00:00Z"),
    });

    expect(collected.policyFiles.map((f) => f.content)).toEqual([POLICY]);
    expect(collected.repositories.map((r) => [r.fullName, r.productionBranches, r.collectionError])).toEqual([
      ["acme/api", ["main"], null],
    ]);
    expect(collected.changeRequests.map((c) => [c.number, c.baseBranch]).sort()).toEqual([
      [20, "main"],
      [21, "release/1.0"],
      [22, "release/1.0"],
    ]);
    // The deleted branch's rules cannot be read any more: whether its merges bypassed them is unknown,
    // and the answer says why (no permission is missing).
    const release = collected.changeRequests.find((c) => c.number === 21);
    expect(release?.bypassedProtection).toMatchObject({
      known: false,
      permission: expect.stringContaining("GitHub keeps none") as unknown,
    });
    // One listing of the repository's merged pull requests, whatever their base branches: its five
    // came whole with the repository's batch (the first six merged), so it asked no page of its own.
    expect(operations.filter((name) => name === "RepositoryFacts")).toHaveLength(1);
    expect(operations.filter((name) => name === "MergedPullRequests")).toHaveLength(0);
  });
});
