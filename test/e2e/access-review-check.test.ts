/**
 * The app's check of an access review's pull request (issue 15), through the real GitHub provider
 * against the simulated GitHub: GitHub's documented pull_request webhook (opened, synchronize) on a
 * review branch of the findings repository gets "soc2-bot access review" (file:line:column of every
 * problem when the file is invalid), never the change-management check.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ACCESS_REVIEW_CHECK_NAME } from "../../src/app/access-review-check.js";
import { ACCESS_REVIEW_BRANCH_PREFIX, renderReviewFile } from "../../src/access-review/index.js";
import { createGitHubClient, createGitHubHost } from "../../src/providers/github/index.js";
import { CHECK_NAME } from "../../src/reporters/check.js";
import { commitText, pullHead, revokeInText, type SimPerson } from "../../src/sim/github/reviewer.js";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../src/sim/github/server.js";
import { createWorld, type World } from "../../src/sim/github/world.js";
import { examplePayload, INSTALLATION_ID, loadApp } from "../fixtures/app/github-app.js";
import { makeRepository, makeSnapshot } from "../fixtures/build.js";

const FINDINGS = "acme/compliance";
const BRANCH = `${ACCESS_REVIEW_BRANCH_PREFIX}2026-Q4/organization-admins`;
const PATH = "access-reviews/2026-Q4/organization-admins.yml";
const TEXT = renderReviewFile({
  cycle: "2026-Q4",
  organization: "acme",
  owner: "organization-admins",
  openedAt: new Date("2026-11-01T00:00:00Z"),
  graceDays: 7,
  grants: [
    {
      id: "collaborator:bob:write",
      kind: "collaborator",
      account: "bob",
      person: "bob",
      repositories: ["acme/api"],
      role: "write",
      twoFactor: "yes",
      lastActivity: "none since 2026-08-01",
      since: "unknown",
    },
  ],
});

let sim: SimulatedGitHub | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function setUp() {
  const world: World = createWorld(
    makeSnapshot({
      repositories: [
        makeRepository(),
        makeRepository({ fullName: FINDINGS, url: "https://github.com/acme/compliance" }),
      ],
      changeRequests: [],
    }),
  );
  world.tokens = new Map([["carol-token", "carol"]]);
  sim = await startSimulatedGitHub({ world, rateLimits: false });
  const octokit = createGitHubClient({ token: "bot-token", baseUrl: sim.url, throttle: false });
  const host = createGitHubHost({ octokit, baseUrl: sim.url });
  const opened = await host.accessReviews!(FINDINGS).openReview({
    branch: BRANCH,
    path: PATH,
    text: TEXT,
    title: "Access review 2026-Q4: organization-admins (acme)",
    body: "Review every grant.",
    labels: [],
  });
  const app = await loadApp({ hostFor: () => host });
  const carol: SimPerson = { api: sim.url, token: "carol-token" };
  /** GitHub's documented pull_request event for the review pull request as it is now. */
  const deliver = async (action: "opened" | "synchronize") => {
    const head = await pullHead(carol, FINDINGS, opened.number);
    const payload = examplePayload("pull_request", action) as unknown as {
      pull_request: Record<string, unknown> & { head: Record<string, unknown> };
      repository: { name: string; full_name: string; owner: { login: string } };
    };
    payload.repository.name = "compliance";
    payload.repository.full_name = FINDINGS;
    payload.repository.owner.login = "acme";
    Object.assign(payload, { installation: { id: INSTALLATION_ID } });
    Object.assign(payload.pull_request, { number: opened.number, state: "open" });
    Object.assign(payload.pull_request.head, { ref: head.branch, sha: head.sha });
    await app.receive("pull_request", payload as never);
    return head.sha;
  };
  const runsOn = (sha: string) =>
    (world.repositories.get(FINDINGS)?.checkRuns ?? []).filter((run) => run.headSha === sha);
  return { carol, deliver, runsOn, app, world, number: opened.number, api: sim.url };
}

/** A request to the simulated GitHub as carol. */
async function asCarol(
  api: string,
  method: string,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: "token carol-token" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}

describe("the access review's check run", () => {
  it("passes a valid review file, and the pull request gets no change-management check", async () => {
    const { carol, deliver, runsOn } = await setUp();
    await commitText(
      carol,
      FINDINGS,
      BRANCH,
      PATH,
      revokeInText(TEXT, "collaborator:bob:write", "left"),
      "Decide",
    );
    const sha = await deliver("synchronize");

    const runs = runsOn(sha);
    expect(runs.map((r) => [r.name, r.conclusion])).toEqual([[ACCESS_REVIEW_CHECK_NAME, "success"]]);
    expect(runs[0]?.title).toBe("Review file valid: 1 grant(s), 1 to revoke");
    expect(runs.some((r) => r.name === CHECK_NAME)).toBe(false);
  });

  it("fails an invalid review file naming file, line and column", async () => {
    const { carol, deliver, runsOn } = await setUp();
    const broken = TEXT.replace("    decision: keep", "    decision: maybe");
    const line = broken.split("\n").findIndex((l) => l.includes("decision: maybe")) + 1;
    await commitText(carol, FINDINGS, BRANCH, PATH, broken, "Decide");
    const sha = await deliver("synchronize");

    const [run, ...others] = runsOn(sha);
    expect(others).toEqual([]);
    expect(run).toMatchObject({ name: ACCESS_REVIEW_CHECK_NAME, conclusion: "failure" });
    // The title names the first problem; the summary every one, the bad decision's line among them.
    expect(run?.title).toMatch(new RegExp(`^${PATH.replace(/[.]/g, "\\.")}:\\d+:\\d+ `));
    expect(run?.summary).toContain(`\`${PATH}:${line}:`);
    // The bad decision is annotated on its line of the file, as GitHub shows it in "Files changed".
    expect(run?.annotations).toContainEqual(
      expect.objectContaining({ path: PATH, start_line: line, end_line: line, annotation_level: "failure" }),
    );
  });

  it("a review-named branch in another repository is judged by the change check, not the review check", async () => {
    const { app, api, world } = await setUp();
    // carol names a production branch like a review's: it must not escape change management.
    const base = world.repositories.get("acme/api")!;
    const mainSha = (await asCarol(api, "GET", "/repos/acme/api/git/ref/heads%2Fmain", undefined).catch(
      () => ({}),
    )) as { object?: { sha: string } };
    await asCarol(api, "POST", "/repos/acme/api/git/refs", {
      ref: `refs/heads/${BRANCH}`,
      sha: mainSha.object?.sha,
    });
    await asCarol(api, "PUT", "/repos/acme/api/contents/src%2Fapp.ts", {
      message: "change",
      content: Buffer.from("export const x = 1;\n").toString("base64"),
      branch: BRANCH,
    });
    const pull = (await asCarol(api, "POST", "/repos/acme/api/pulls", {
      title: "A change",
      head: BRANCH,
      base: "main",
    })) as { number: number; head: { sha: string } };
    const payload = examplePayload("pull_request", "opened") as unknown as {
      pull_request: Record<string, unknown> & { head: Record<string, unknown> };
      repository: { name: string; full_name: string; owner: { login: string } };
    };
    Object.assign(payload.repository, { name: "api", full_name: "acme/api" });
    payload.repository.owner.login = "acme";
    Object.assign(payload, { installation: { id: INSTALLATION_ID } });
    Object.assign(payload.pull_request, { number: pull.number, state: "open" });
    Object.assign(payload.pull_request.head, { ref: BRANCH, sha: pull.head.sha });
    await app.receive("pull_request", payload as never);

    const runs = base.checkRuns.filter((run) => run.headSha === pull.head.sha).map((run) => run.name);
    expect(runs).toEqual([CHECK_NAME]);
  });

  it("CI completing on the review's head starts no change check", async () => {
    const { app, runsOn, carol, number } = await setUp();
    const head = await pullHead(carol, FINDINGS, number);
    const payload = examplePayload("check_run", "completed") as unknown as {
      check_run: Record<string, unknown> & { check_suite: Record<string, unknown> };
      repository: { name: string; full_name: string; owner: { login: string } };
    };
    Object.assign(payload.repository, { name: "compliance", full_name: FINDINGS });
    payload.repository.owner.login = "acme";
    Object.assign(payload, { installation: { id: INSTALLATION_ID } });
    Object.assign(payload.check_run, {
      name: "ci/test",
      head_sha: head.sha,
      pull_requests: [{ number, head: { sha: head.sha } }],
    });
    Object.assign(payload.check_run.check_suite, {
      head_branch: BRANCH,
      head_sha: head.sha,
      pull_requests: [],
    });
    await app.receive("check_run", payload as never);

    expect(runsOn(head.sha)).toEqual([]);
  });

  it("checks the file as opened when the pull request is opened", async () => {
    const { deliver, runsOn } = await setUp();
    const sha = await deliver("opened");
    expect(runsOn(sha).map((r) => [r.name, r.conclusion])).toEqual([[ACCESS_REVIEW_CHECK_NAME, "success"]]);
  });
});
