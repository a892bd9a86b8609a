/**
 * Repository facts read in GraphQL batches must be the facts the REST reads give: the same world,
 * collected once through each path, gives deep-equal repositories, policy files and direct pushes,
 * and a fact GitHub refuses is unknown with the permission REST names, never "none".
 */
import { afterEach, describe, expect, it } from "vitest";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../../src/sim/github/server.js";
import { createWorld } from "../../../src/sim/github/world.js";
import type { Collaborator, Repository, Snapshot } from "../../../src/model/index.js";
import { collectAudit } from "../../../src/pipeline/audit.js";
import { createGitHubClient, createGitHubHost } from "../../../src/providers/github/index.js";
import {
  cleanBranchRule,
  makeChangeRequest,
  makeDirectPush,
  makeOrganization,
  makeRepository,
  makeSnapshot,
} from "../../fixtures/build.js";

const SINCE = new Date("2026-08-01T00:00:00Z");
const UNTIL = new Date("2026-11-01T00:00:00Z");
const started: SimulatedGitHub[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

const ORGANIZATION_POLICY = `version: 1
production_branches:
  default_branch: true
  patterns: ["release/*"]
`;
/** A repository's own layer making another branch production: the audit collects it again. */
const REPOSITORY_POLICY = `version: 1
production_branches:
  default_branch: true
  patterns: ["hotfix/*"]
`;

function people(count: number, outside: string[] = []): Collaborator[] {
  return [
    ...Array.from({ length: count }, (_, i): Collaborator => ({
      login: `dev${String(i).padStart(3, "0")}`,
      permission: (["read", "triage", "write", "maintain", "admin"] as const)[i % 5] ?? "read",
      outside: false,
    })),
    ...outside.map((login): Collaborator => ({ login, permission: "write", outside: true })),
  ];
}

function repository(name: string, overrides: Partial<Repository> = {}): Repository {
  return makeRepository({
    fullName: `acme/${name}`,
    url: `https://github.com/acme/${name}`,
    ...overrides,
  });
}

/** Every kind of fact the batch reads or leaves to REST, one repository each. */
function world(): Snapshot {
  const repositories = [
    // Classic protection with a bypass allowance, a pinned check and other requirements; more than
    // 100 collaborators (an outside one among them); two teams; a deploy key (read through REST).
    repository("api", {
      branchRules: {
        known: true,
        value: [
          cleanBranchRule({
            bypassActors: ["dave"],
            requiredCheckApps: { "ci/test": 15368 },
            otherRequirements: ["required_signatures", "required_linear_history"],
          }),
        ],
      },
      collaborators: { known: true, value: people(130, ["olga"]) },
      teams: {
        known: true,
        value: [
          { slug: "admins", permission: "admin" },
          { slug: "engineering", permission: "write" },
        ],
      },
      deployKeys: {
        known: true,
        value: [
          {
            id: "9001",
            title: "mirror",
            readOnly: true,
            createdAt: "2026-01-10T00:00:00Z",
            addedBy: "alice",
          },
        ],
      },
    }),
    // A ruleset and classic protection on the default branch, with bypass actors.
    repository("web", {
      branchRules: {
        known: true,
        value: [
          cleanBranchRule({
            sources: ["branch-protection", "ruleset:42"],
            bypassActors: ["team:core", "app:deployer"],
            enforceAdmins: false,
          }),
        ],
      },
    }),
    // A ruleset whose bypass actors GitHub hides from these credentials.
    repository("hidden", {
      branchRules: {
        known: true,
        value: [cleanBranchRule({ sources: ["ruleset:77"], bypassActorsVisible: false })],
      },
    }),
    // A token without administration: protection and deploy keys refused, collaborators too.
    repository("noadmin", {
      branchRules: { known: false, permission: "administration:read", reason: "403" },
      collaborators: { known: false, permission: "metadata:read", reason: "403" },
      deployKeys: { known: false, permission: "administration:read", reason: "403" },
    }),
    // Release branches the organization's pattern selects, each with its own rule.
    repository("releases", {
      productionBranches: ["main", "release/1.0", "release/2.0"],
      branchRules: {
        known: true,
        value: [
          cleanBranchRule(),
          cleanBranchRule({ branch: "release/1.0", requiredApprovals: 2 }),
          cleanBranchRule({ branch: "release/2.0", sources: [], requirePullRequest: false }),
        ],
      },
    }),
    // No protection at all, no teams, a repository layer making hotfix/* production.
    repository("bare", {
      productionBranches: ["main", "hotfix/a"],
      branchRules: { known: true, value: [] },
      teams: { known: true, value: [] },
    }),
    // More than 100 commits on the default branch in the period.
    repository("busy"),
  ];
  const busyPushes = Array.from({ length: 120 }, (_, i) =>
    makeDirectPush({
      repository: "acme/busy",
      sha: (i + 1).toString(16).padStart(40, "a"),
      message: `push ${i}`,
      at: new Date(Date.parse("2026-09-01T00:00:00Z") + i * 3_600_000).toISOString(),
      pushedAt: new Date(Date.parse("2026-09-01T00:00:00Z") + i * 3_600_000).toISOString(),
      url: `https://github.com/acme/busy/commit/${(i + 1).toString(16).padStart(40, "a")}`,
    }),
  );
  return makeSnapshot({
    organization: makeOrganization({ outsideCollaborators: { known: true, value: ["olga"] } }),
    repositories,
    changeRequests: [
      makeChangeRequest({ repository: "acme/api", number: 1, mergedAt: "2026-09-02T10:00:00Z" }),
      makeChangeRequest({
        repository: "acme/releases",
        number: 2,
        baseBranch: "release/1.0",
        mergedAt: "2026-09-03T10:00:00Z",
      }),
    ],
    directPushes: [makeDirectPush({ repository: "acme/api" }), ...busyPushes],
    policyFiles: [
      {
        layer: "organization",
        repository: null,
        path: "acme/.github:.github/soc2.yml",
        content: ORGANIZATION_POLICY,
      },
      {
        layer: "repository",
        repository: "acme/bare",
        path: "acme/bare:.github/soc2.yml@main",
        content: REPOSITORY_POLICY,
      },
    ],
  });
}

async function audit(snapshot: Snapshot, batch: boolean) {
  const sim = await startSimulatedGitHub({ world: createWorld(snapshot), primaryLimit: 1e9 });
  started.push(sim);
  const octokit = createGitHubClient({ token: "test", baseUrl: sim.url, throttle: false });
  const host = createGitHubHost({ octokit, baseUrl: sim.url });
  const collected = await collectAudit({
    host: batch ? host : { ...host, prefetchRepositories: undefined },
    organization: "acme",
    since: SINCE,
    until: UNTIL,
    now: () => UNTIL,
  });
  return { snapshot: collected, byRoute: { ...sim.stats.byRoute }, requests: sim.stats.requests };
}

const sorted = (facts: unknown[]) => facts.map((f) => JSON.stringify(f)).sort();

describe("repository facts in GraphQL batches", () => {
  it("collect the same repositories, policy files, changes and direct pushes as the REST reads", async () => {
    const rest = await audit(world(), false);
    const batch = await audit(world(), true);
    expect(batch.snapshot.repositories).toEqual(rest.snapshot.repositories);
    expect(batch.snapshot.policyFiles).toEqual(rest.snapshot.policyFiles);
    expect(batch.snapshot.changeRequests).toEqual(rest.snapshot.changeRequests);
    expect(batch.snapshot.directPushes).toEqual(rest.snapshot.directPushes);
    expect(sorted(batch.snapshot.unreadable)).toEqual(sorted(rest.snapshot.unreadable));
    // The world was read as it was planted, not merely the same way twice.
    const api = batch.snapshot.repositories.find((r) => r.fullName === "acme/api");
    expect(api?.collaborators.known && api.collaborators.value).toHaveLength(131);
    expect(api?.collaborators.known && api.collaborators.value.find((c) => c.login === "olga")).toEqual({
      login: "olga",
      permission: "write",
      outside: true,
    });
    expect(api?.branchRules.known && api.branchRules.value[0]?.requiredCheckApps).toEqual({
      "ci/test": 15368,
    });
    expect(batch.snapshot.directPushes.filter((p) => p.repository === "acme/busy")).toHaveLength(120);
    const releases = batch.snapshot.repositories.find((r) => r.fullName === "acme/releases");
    expect(releases?.productionBranches).toEqual(["main", "release/1.0", "release/2.0"]);
    const bare = batch.snapshot.repositories.find((r) => r.fullName === "acme/bare");
    expect(bare?.productionBranches).toEqual(["main", "hotfix/a"]);
  });

  it("reads collaborators, teams, keys, branches and policy files in a few queries instead of REST per repository", async () => {
    const rest = await audit(world(), false);
    const batch = await audit(world(), true);
    const count = (r: Record<string, number>, route: string) => r[route] ?? 0;
    // Seven repositories, acme/bare collected twice (its own layer names other branches).
    expect(count(rest.byRoute, "GET /repos/{owner}/{repo}/teams")).toBe(8);
    expect(count(batch.byRoute, "GET /repos/{owner}/{repo}/teams")).toBe(0);
    // acme/bare's second collection under its own layer reads through REST, as before.
    expect(count(batch.byRoute, "GET /repos/{owner}/{repo}/collaborators")).toBe(1);
    // Only acme/api has a deploy key (and acme/bare is collected a second time).
    expect(count(batch.byRoute, "GET /repos/{owner}/{repo}/keys")).toBe(2);
    // The organization's policy file only (acme/.github is no audited repository).
    expect(count(batch.byRoute, "GET /repos/{owner}/{repo}/contents/{path}")).toBe(1);
    expect(count(batch.byRoute, "GET /repos/{owner}/{repo}/branches")).toBe(1);
    // acme/hidden (its ruleset's bypass actors hidden), the release branches and acme/bare's
    // hotfix branch; acme/web's ruleset came with the batch, its bypass actors through REST.
    expect(count(batch.byRoute, "GET /repos/{owner}/{repo}/rules/branches/{branch}")).toBe(4);
    expect(count(batch.byRoute, "GET /repos/{owner}/{repo}/branches/{branch}/protection")).toBe(4);
    // acme/web's once; acme/hidden's twice: the batch's read hid the actors, REST reads it again.
    expect(count(rest.byRoute, "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}")).toBe(2);
    expect(count(batch.byRoute, "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}")).toBe(3);
    const web = batch.snapshot.repositories.find((r) => r.fullName === "acme/web");
    expect(web?.branchRules.known && web.branchRules.value[0]?.sources).toEqual([
      "branch-protection",
      "ruleset:42",
    ]);
    expect(batch.requests).toBeLessThan(rest.requests);
  });

  it("makes a refused field unknown with REST's permission, never 'no rule', 'no collaborators' or 'no keys'", async () => {
    const batch = await audit(world(), true);
    const noadmin = batch.snapshot.repositories.find((r) => r.fullName === "acme/noadmin");
    const refused = { known: false, reason: "403 Resource not accessible by integration" };
    expect(noadmin?.branchRules).toEqual({ ...refused, permission: "administration:read" });
    expect(noadmin?.collaborators).toEqual({ ...refused, permission: "metadata:read" });
    expect(noadmin?.deployKeys).toEqual({ ...refused, permission: "administration:read" });
    expect(batch.snapshot.unreadable).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ subject: "acme/noadmin", what: "protection of branch main" }),
        expect.objectContaining({ subject: "acme/noadmin", what: "collaborators" }),
        expect.objectContaining({ subject: "acme/noadmin", what: "deploy keys" }),
      ]),
    );
    // The hidden bypass actors stay unknown through the ruleset's REST read.
    const hidden = batch.snapshot.repositories.find((r) => r.fullName === "acme/hidden");
    expect(hidden?.branchRules.known && hidden.branchRules.value[0]?.bypassActorsVisible).toBe(false);
  });
});
