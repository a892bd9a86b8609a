/**
 * A pull request check once warm (the app's conditional cache holds the branch rules and the
 * policy files) sends one GraphQL query and one write that GitHub charges: the check run to update
 * and the commits' co-authors come from the query itself, the base branch's policy file too, and
 * GitHub answers the conditional reads of what did not change with an uncharged 304.
 */
import { afterEach, describe, expect, it } from "vitest";
import { withOpenPullRequests, type OpenPullRequest } from "../../../bench/pr-check.js";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../../src/sim/github/server.js";
import { createWorld } from "../../../src/sim/github/world.js";
import { runChangeCheck } from "../../../src/pipeline/change-check.js";
import {
  createConditionalCache,
  createGitHubClient,
  createGitHubHost,
  type GitHubClient,
} from "../../../src/providers/github/index.js";
import { generateSampleOrganization } from "../../../src/sample/generate.js";
import { makeChangeRequest, makeRepository, makeSnapshot } from "../../fixtures/build.js";
import { fixture, github, graphqlReply, testHost, useHttpMock } from "./mock.js";

const started: SimulatedGitHub[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

async function serveOpenPullRequests() {
  const sample = generateSampleOrganization({ repositories: 2, pullRequestsPerRepository: 20 });
  const { snapshot, open } = withOpenPullRequests(sample.snapshot, sample);
  const sim = await startSimulatedGitHub({ world: createWorld(snapshot), primaryLimit: 1e9 });
  started.push(sim);
  return { sim, open, organization: sample.snapshot.organization?.login ?? "acme-demo" };
}

/** An open pull request whose commit names a co-author in a Co-authored-by trailer. */
async function serveCoAuthoredPullRequest() {
  const head = "c0a7".padEnd(40, "1");
  const change = makeChangeRequest({
    number: 31,
    url: "https://github.com/acme/api/pull/31",
    state: "open",
    mergeCommitSha: null,
    mergedAt: null,
    mergedBy: null,
    headSha: head,
    commits: [
      {
        sha: head,
        authorLogin: "alice",
        authorName: "Alice",
        committerLogin: "alice",
        authoredAt: "2026-10-01T09:00:00Z",
        committedAt: "2026-10-01T09:00:00Z",
        coAuthors: [
          {
            login: "bob",
            name: "Bob Stone",
            email: "5129+bob@users.noreply.github.com",
            kind: "user",
            source: "trailer",
          },
        ],
      },
    ],
  });
  const world = createWorld(makeSnapshot({ repositories: [makeRepository()], changeRequests: [change] }));
  const sim = await startSimulatedGitHub({ world, primaryLimit: 1e9 });
  started.push(sim);
  return { sim, target: { repository: "acme/api", number: 31 }, organization: "acme" };
}

/** As the app: one client and conditional cache for the process, a new host for every event. */
function checker(sim: SimulatedGitHub, organization: string) {
  const octokit: GitHubClient = createGitHubClient({
    token: "sim",
    baseUrl: sim.url,
    throttle: false,
    conditionalCache: createConditionalCache(),
  });
  return async (target: OpenPullRequest) => {
    const before = {
      requests: sim.stats.requests,
      notModified: sim.stats.notModified,
      routes: { ...sim.stats.byRoute },
    };
    const outcome = await runChangeCheck(createGitHubHost({ octokit, baseUrl: sim.url }), target, {
      organization,
      now: new Date(),
    });
    const routes = Object.entries(sim.stats.byRoute)
      .filter(([route, count]) => count > (before.routes[route] ?? 0))
      .map(([route]) => route)
      .sort();
    return {
      conclusion: outcome.check.conclusion,
      coAuthors: outcome.changeRequest.commits.flatMap((c) => c.coAuthors.map((a) => a.login)),
      charged: sim.stats.requests - before.requests - (sim.stats.notModified - before.notModified),
      routes,
    };
  };
}

describe("a warm pull request check", () => {
  it("costs one GraphQL query and one write, verdicts unchanged", async () => {
    const { sim, open, organization } = await serveOpenPullRequests();
    const check = checker(sim, organization);

    const cold = [await check(open.clean), await check(open.violating)];
    const warm = [];
    for (let i = 0; i < 4; i++) warm.push(await check(i % 2 === 0 ? open.clean : open.violating));

    expect(cold.map((e) => e.conclusion)).toEqual(["success", "failure"]);
    expect(warm.map((e) => e.conclusion)).toEqual(["success", "failure", "success", "failure"]);
    expect(warm.map((e) => e.charged)).toEqual([2, 2, 2, 2]);
    // The write updates the run the first event created: no list of the head's runs is asked.
    expect(warm[0]?.routes.filter((r) => r.includes("check-runs"))).toEqual([
      "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
    ]);
    expect(sim.stats.byRoute["GET /repos/{owner}/{repo}/commits/{ref}/check-runs"]).toBeUndefined();
  });

  it("reads co-authored commits' authors in the same query", async () => {
    const { sim, target, organization } = await serveCoAuthoredPullRequest();
    const check = checker(sim, organization);

    await check(target);
    const warm = await check(target);

    expect(warm.coAuthors.length).toBeGreaterThan(0);
    expect(warm.coAuthors).toEqual(["bob"]);
    expect(warm.charged).toBe(2);
    expect(warm.routes.filter((r) => r === "POST /graphql")).toHaveLength(1);
  });
});

describe("the policy files the change check's query read", () => {
  useHttpMock();

  const PATH = ".github/soc2.yml";
  const entry = (mode: number, text: string | null, type = "blob") => ({
    type,
    mode,
    object: text === null ? null : { text, isBinary: false, isTruncated: false },
  });

  /** The recorded pull request (open) as CHANGE_CHECK_QUERY's answer, with the two policy entries. */
  function answer(base: unknown, organization: unknown) {
    const recorded = fixture<{ repository: { pullRequest: Record<string, unknown> } }>("pull-request.json");
    Object.assign(recorded.repository.pullRequest, {
      state: "OPEN",
      mergedAt: null,
      mergedBy: null,
      mergeCommit: null,
      baseRef: { target: { policyFile: base } },
    });
    return {
      ...recorded,
      policyRepository:
        organization === undefined ? null : { defaultBranchRef: { target: { policyFile: organization } } },
    };
  }

  function rules() {
    return github()
      .get("/repos/acme/api/rules/branches/main")
      .query({ per_page: 100 })
      .reply(200, [])
      .get("/repos/acme/api/branches/main/protection")
      .reply(200, fixture("branch-protection.json"));
  }

  it("serves a plain file and no file from the query, without asking REST", async () => {
    github()
      .post("/graphql")
      .reply(
        graphqlReply("ChangeCheck", answer(entry(0o100644, "controls: {}\n"), null), (variables) =>
          expect(variables).toMatchObject({ policyPath: PATH, policyRepository: ".github" }),
        ),
      );
    rules();
    const host = testHost();

    await host.collectChangeContext("acme/api", 42);

    expect(await host.readFile("acme/api", PATH, "main")).toBe("controls: {}\n");
    expect(await host.readFile("acme/.github", PATH)).toBeNull();
  });

  it("reads a symlink, a directory or a repository GitHub would not name through REST, as before", async () => {
    github()
      .post("/graphql")
      .reply(graphqlReply("ChangeCheck", answer(entry(0o120000, "../x.yml"), entry(0o40000, null, "tree"))));
    rules()
      .get(`/repos/acme/api/contents/${encodeURIComponent(PATH)}`)
      .query({ ref: "main" })
      .reply(200, { type: "symlink", target: "../x.yml", size: 8, name: "soc2.yml", path: PATH, sha: "a" })
      .get(`/repos/acme/.github/contents/${encodeURIComponent(PATH)}`)
      .reply(200, [{ type: "file", name: "a.yml", path: `${PATH}/a.yml`, sha: "b", size: 1 }]);
    const host = testHost();

    await host.collectChangeContext("acme/api", 42);

    await expect(host.readFile("acme/api", PATH, "main")).rejects.toThrow(/symlink/);
    await expect(host.readFile("acme/.github", PATH)).rejects.toThrow(/directory/);
  });

  it("reads GitHub's NOT_FOUND for the policy repository as no organization layer, and fails on any other error", async () => {
    const missing = { ...answer(null, undefined) };
    github()
      .post("/graphql")
      .reply(200, {
        data: missing,
        errors: [
          {
            type: "NOT_FOUND",
            path: ["policyRepository"],
            message: "Could not resolve to a Repository with the name 'acme/.github'.",
          },
        ],
      })
      .post("/graphql")
      .reply(200, {
        data: missing,
        errors: [
          {
            type: "FORBIDDEN",
            path: ["policyRepository"],
            message: "Resource not accessible by integration",
          },
        ],
      });
    rules();
    const host = testHost();

    await host.collectChangeContext("acme/api", 42);
    expect(await host.readFile("acme/.github", PATH)).toBeNull();
    expect(await host.readFile("acme/api", PATH, "main")).toBeNull();
    await expect(testHost().collectChangeContext("acme/api", 42)).rejects.toThrow(/FORBIDDEN/);
  });
});
