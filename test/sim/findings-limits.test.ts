/**
 * Finding issues written to the simulated GitHub, which refuses what GitHub refuses (titles over 256
 * characters, bodies and comments over 65,536): an organization with 40 owners, a hostile pull-request
 * title, and evidence far over a body's limit, synced without one refused write.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startSimulatedGitLab, type SimulatedGitLab } from "../../src/sim/gitlab/server.js";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../src/sim/github/server.js";
import { createWorld } from "../../src/sim/github/world.js";
import type { Result } from "../../src/controls/types.js";
import { createGitHubClient, createGitHubHost } from "../../src/providers/github/index.js";
import { createGitLabHost } from "../../src/providers/gitlab/index.js";
import { syncFindings } from "../../src/reporters/findings/lifecycle.js";
import { characterLength, GITHUB_LIMITS, GITLAB_LIMITS } from "../../src/text/limits.js";
import { makeRepository, makeSnapshot } from "../fixtures/build.js";

const started: Array<SimulatedGitHub | SimulatedGitLab> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

const OWNERS = Array.from({ length: 40 }, (_, i) => `owner-${String(i).padStart(2, "0")}`);
const HOSTILE = `@acme/admins fixes #1 GH-2 acme/api#3 \u202Eexe.txt ${"変更😀".repeat(200)}`;
const AT = new Date("2026-11-01T00:00:00Z");
/** No waiting for GitHub's content-creation limits in a test: the pacing is another test's subject. */
const clock = { now: () => 0, sleep: () => Promise.resolve() };

function ownerCount(): Result {
  return {
    control: "cc6.owner-count",
    criterion: "CC6.3",
    title: "Few organization owners",
    subject: { kind: "organization", id: "acme", url: "https://github.com/acme" },
    outcome: "fail",
    reason: `40 owners, at most 4 allowed: ${OWNERS.map((o) => `@${o}`).join(", ")}`,
    remediation: "Demote owners who do not need to change every setting.",
    evidence: OWNERS.map((login) => ({ label: "owner", value: `@${login}` })),
  };
}

function changeFinding(number: number): Result {
  return {
    control: "cc8.independent-approval",
    criterion: "CC8.1",
    title: "Independent approval",
    subject: {
      kind: "change-request",
      id: `acme/api#${number}`,
      repository: "acme/api",
      number,
      user: "alice",
      url: `https://github.com/acme/api/pull/${number}`,
    },
    outcome: "fail",
    reason: `Only the author approved: ${HOSTILE}`,
    remediation: "Ask someone other than the author to approve the final code.",
    // far more than one body holds: 3,000 rows of multi-byte text
    evidence: Array.from({ length: 3_000 }, (_, i) => ({
      label: `commit ${i}`,
      value: `${"変更".repeat(40)} ${HOSTILE.slice(0, 40)}`,
    })),
  };
}

describe("finding issues through the simulated GitHub's content limits", () => {
  it.each(["by_repository", "per_change_request"] as const)(
    "are all written, within GitHub's limits (%s)",
    async (groupChangeRequests) => {
      const world = createWorld(
        makeSnapshot({ repositories: [makeRepository({ fullName: "acme/compliance" })] }),
      );
      const sim = await startSimulatedGitHub({ seed: 7, world });
      started.push(sim);
      const octokit = createGitHubClient({ token: "sim", baseUrl: sim.url, throttle: false });
      const host = createGitHubHost({ octokit, baseUrl: sim.url });
      const results = [ownerCount(), ...Array.from({ length: 30 }, (_, i) => changeFinding(100 + i))];

      const summary = await syncFindings(host.issues("acme/compliance"), results, {
        evaluatedAt: AT,
        scope: "audit",
        groupChangeRequests,
        clock,
      });

      expect(summary.failed).toEqual([]);
      const issues = [...(world.repositories.get("acme/compliance")?.issues.values() ?? [])];
      expect(issues.length).toBe(summary.created.length);
      expect(issues.length).toBeGreaterThan(1);
      for (const issue of issues) {
        expect(characterLength(issue.title)).toBeLessThanOrEqual(GITHUB_LIMITS.issueTitleCharacters);
        expect(characterLength(issue.body)).toBeLessThanOrEqual(GITHUB_LIMITS.issueBodyCharacters);
        expect(issue.title).not.toMatch(/@[a-z0-9]/i);
        expect(issue.title).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
        expect(issue.body).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
      }
    },
  );
});

describe("finding issues through the simulated GitLab's content limits", () => {
  it("are all written, titles within GitLab's 255 characters", async () => {
    const sim = await startSimulatedGitLab({ snapshot: makeSnapshot(), extraProjects: ["compliance"] });
    started.push(sim);
    const host = createGitLabHost({ baseUrl: sim.url, token: sim.token });
    const results = [ownerCount(), ...Array.from({ length: 5 }, (_, i) => changeFinding(100 + i))];

    const summary = await syncFindings(host.issues("acme/compliance"), results, {
      evaluatedAt: AT,
      scope: "audit",
      groupChangeRequests: "per_change_request",
      clock,
    });

    expect(summary.failed).toEqual([]);
    const project = sim.world.group.projects.find((p) => p.wire.path_with_namespace === "acme/compliance");
    const issues = project?.issues ?? [];
    expect(issues.length).toBe(6);
    for (const issue of issues) {
      expect(characterLength(issue.title)).toBeLessThanOrEqual(GITLAB_LIMITS.issueTitleCharacters);
      expect(characterLength(issue.description)).toBeLessThanOrEqual(
        GITLAB_LIMITS.issueDescriptionCharacters,
      );
    }
  });
});
