/**
 * Branch rules, bypasses, direct pushes and editions through the simulated GitHub, which serves the
 * repository activity, comparisons, rule suites, pinned checks and hidden bypass actors as GitHub
 * documents them: what the world holds must come back, and what GitHub does not show must be unknown.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../../src/sim/github/server.js";
import { createWorld } from "../../../src/sim/github/world.js";
import type { DirectPush, Snapshot } from "../../../src/model/index.js";
import { createGitHubClient, createGitHubHost } from "../../../src/providers/github/index.js";
import {
  cleanBranchRule,
  makeChangeRequest,
  makeDirectPush,
  makeRepository,
  makeSnapshot,
} from "../../fixtures/build.js";
import { makePolicy } from "./mock.js";

const PERIOD = { since: new Date("2026-10-01T00:00:00Z"), until: new Date("2026-10-31T23:59:59Z") };
const started: SimulatedGitHub[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

async function serve(snapshot: Snapshot, enterpriseVersion?: string) {
  const sim = await startSimulatedGitHub({
    world: createWorld(snapshot),
    seed: 3,
    ...(enterpriseVersion ? { enterpriseVersion } : {}),
  });
  started.push(sim);
  const octokit = createGitHubClient({ token: "test", baseUrl: sim.url, throttle: false });
  return { sim, host: createGitHubHost({ octokit, baseUrl: sim.url }) };
}

async function directPushes(host: ReturnType<typeof createGitHubHost>, mergedShas: ReadonlySet<string>) {
  const found: DirectPush[] = [];
  for await (const push of host.listDirectPushes("acme/api", "main", PERIOD, mergedShas)) found.push(push);
  return found;
}

const merged = makeChangeRequest({ mergedAt: "2026-10-02T15:00:00Z" });
const mergedShas = new Set([merged.headSha, merged.mergeCommitSha ?? ""]);

describe("direct pushes through the simulated GitHub", () => {
  it("finds each push by its push time (a commit dated before the period too), with the pusher and force", async () => {
    const early = makeDirectPush({
      sha: "1".repeat(40),
      message: "backdated hotfix",
      at: "2026-09-20T12:00:00Z",
      pushedAt: "2026-10-10T08:00:00Z",
      pushedBy: "mallory",
      url: `https://github.com/acme/api/commit/${"1".repeat(40)}`,
    });
    const forced = makeDirectPush({
      sha: "2".repeat(40),
      message: "rewrite history",
      authorLogin: "bob",
      committerLogin: "bob",
      at: "2026-10-20T00:30:00Z",
      pushedAt: "2026-10-20T01:00:00Z",
      pushedBy: "bob",
      forced: true,
      url: `https://github.com/acme/api/commit/${"2".repeat(40)}`,
    });
    const { sim, host } = await serve(
      makeSnapshot({ changeRequests: [merged], directPushes: [early, forced] }),
    );

    expect(await directPushes(host, mergedShas)).toEqual([early, forced]);
    // One activity page, one comparison per push: the history by commit date is not read at all.
    expect(sim.stats.byRoute).toEqual({
      "GET /repos/{owner}/{repo}/activity": 1,
      "GET /repos/{owner}/{repo}/compare/{basehead}": 2,
    });
  });

  it("reads the history, push time not recorded, only for the part of the period the activity record does not reach", async () => {
    const unrecorded = makeDirectPush({
      sha: "3".repeat(40),
      at: "2026-10-03T12:00:00Z",
      pushedAt: null,
      pushedBy: null,
      url: `https://github.com/acme/api/commit/${"3".repeat(40)}`,
    });
    const recorded = makeDirectPush({
      sha: "4".repeat(40),
      at: "2026-10-12T12:00:00Z",
      pushedAt: "2026-10-12T12:05:00Z",
      pushedBy: "mallory",
      url: `https://github.com/acme/api/commit/${"4".repeat(40)}`,
    });
    const { sim, host } = await serve(
      makeSnapshot({
        changeRequests: [makeChangeRequest({ mergedAt: "2026-10-20T15:00:00Z" })],
        directPushes: [unrecorded, recorded],
      }),
    );

    const found = await directPushes(host, mergedShas);

    expect(found.map((p) => [p.sha, p.pushedAt, p.pushedBy])).toEqual([
      [recorded.sha, recorded.pushedAt, "mallory"],
      [unrecorded.sha, null, null],
    ]);
    expect(sim.stats.byRoute["POST /graphql"]).toBe(1);
  });
});

describe("branch rules through the simulated GitHub", () => {
  it("gives back pinned checks and other requirements from classic protection and a ruleset", async () => {
    const rule = cleanBranchRule({
      sources: ["branch-protection", "ruleset:12"],
      requiredCheckApps: { "ci/test": 15368 },
      otherRequirements: ["merge_queue", "required_signatures", "workflows"],
    });
    const { host } = await serve(
      makeSnapshot({ repositories: [makeRepository({ branchRules: { known: true, value: [rule] } })] }),
    );

    const repository = await host.collectRepository("acme/api", makePolicy());

    expect(repository.branchRules).toEqual({ known: true, value: [rule] });
  });

  it("keeps a ruleset's rules when GitHub hides its bypass actors, naming write access to rulesets", async () => {
    const rule = cleanBranchRule({
      sources: ["ruleset:12"],
      enforceAdmins: false,
      bypassActors: [],
      bypassActorsVisible: false,
    });
    const { host } = await serve(
      makeSnapshot({ repositories: [makeRepository({ branchRules: { known: true, value: [rule] } })] }),
    );

    const repository = await host.collectRepository("acme/api", makePolicy());

    expect(repository.branchRules).toEqual({ known: true, value: [rule] });
    expect(host.drainUnreadable()).toEqual([
      expect.objectContaining({
        what: "bypass actors of ruleset 12",
        permission: expect.stringMatching(/^write access to the repository's rulesets/),
      }),
    ]);
  });
});

describe("bypasses through the simulated GitHub", () => {
  it("takes GitHub's rule suite record of a bypass over evidence that looks met", async () => {
    const rule = cleanBranchRule({ sources: ["ruleset:12"], otherRequirements: ["workflows"] });
    const bypassed = makeChangeRequest({
      number: 31,
      mergedAt: "2026-10-30T10:00:00Z",
      mergeCommitSha: "b".repeat(40),
      bypassedProtection: { known: true, value: true },
    });
    const { sim, host } = await serve(
      makeSnapshot({
        repositories: [makeRepository({ branchRules: { known: true, value: [rule] } })],
        changeRequests: [bypassed],
      }),
    );

    const change = await host.collectChangeRequest("acme/api", 31);

    expect(change.bypassedProtection).toEqual({ known: true, value: true });
    expect(sim.stats.byRoute["GET /repos/{owner}/{repo}/rulesets/rule-suites"]).toBe(1);
  });

  it("applies the record to a merge judged the minute it happens (the change check of a merged pull request)", async () => {
    const rule = cleanBranchRule({ sources: ["ruleset:12"] });
    const bypassed = makeChangeRequest({
      number: 32,
      mergedAt: "2026-10-30T10:00:00Z",
      mergeCommitSha: "c".repeat(40),
      bypassedProtection: { known: true, value: true },
    });
    const { host } = await serve(
      makeSnapshot({
        repositories: [makeRepository({ branchRules: { known: true, value: [rule] } })],
        changeRequests: [bypassed],
      }),
    );

    const { changeRequest } = await host.collectChangeContext("acme/api", 32);

    expect(changeRequest.bypassedProtection).toEqual({ known: true, value: true });
  });

  it("stays unknown, naming the unverified requirement, when the record lists no bypass", async () => {
    const rule = cleanBranchRule({ sources: ["ruleset:12"], otherRequirements: ["workflows"] });
    const { host } = await serve(
      makeSnapshot({
        repositories: [makeRepository({ branchRules: { known: true, value: [rule] } })],
        changeRequests: [makeChangeRequest({ mergedAt: "2026-10-30T10:00:00Z" })],
      }),
    );

    const change = await host.collectChangeRequest("acme/api", 12);

    expect(change.bypassedProtection).toMatchObject({
      known: false,
      reason: expect.stringContaining("workflows"),
    });
  });

  it("asks for no rule suites on a branch that only classic protection guards", async () => {
    const { sim, host } = await serve(makeSnapshot());

    await host.collectChangeRequest("acme/api", 12);

    expect(sim.stats.byRoute["GET /repos/{owner}/{repo}/rulesets/rule-suites"]).toBeUndefined();
  });
});

describe("GitHub Enterprise Server through the simulated GitHub", () => {
  it("says invitations are not available on this host, not that a permission is missing", async () => {
    const { host } = await serve(makeSnapshot(), "3.17.0");

    const organization = await host.collectOrganization("acme");

    expect(organization.invitations).toEqual({
      known: false,
      permission: expect.stringMatching(/^not available on this host \(GitHub Enterprise Server 3\.17\.0/),
      reason: "404 Not Found",
    });
    expect(organization.members.known).toBe(true);
  });

  it("still names the missing permission when api.github.com refuses invitations", async () => {
    const snapshot = makeSnapshot();
    const org = snapshot.organization;
    if (!org) throw new Error("no organization");
    const refused = { known: false as const, permission: "members:read", reason: "403" };
    const { host } = await serve({ ...snapshot, organization: { ...org, invitations: refused } });

    const organization = await host.collectOrganization("acme");

    expect(organization.invitations).toMatchObject({ known: false, permission: "members:read" });
  });
});
