/**
 * The simulated hosts refuse what GitHub and GitLab refuse: content over their documented limits,
 * with their error shapes. Then the change check, built from a hostile, multi-byte pull request and
 * a huge evaluation, is published through the simulated GitHub and accepted.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startSimulatedGitLab, type SimulatedGitLab } from "../../src/sim/gitlab/server.js";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../src/sim/github/server.js";
import { createWorld } from "../../src/sim/github/world.js";
import type { Result } from "../../src/controls/types.js";
import { createGitHubClient, createGitHubHost } from "../../src/providers/github/index.js";
import { buildChangeCheck, CHECK_NAME } from "../../src/reporters/check.js";
import { characterLength, GITHUB_LIMITS, utf8Length } from "../../src/text/limits.js";
import { makeChangeRequest, makeSnapshot } from "../fixtures/build.js";

const started: Array<SimulatedGitHub | SimulatedGitLab> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

async function github(): Promise<SimulatedGitHub> {
  const sim = await startSimulatedGitHub({ seed: 7, world: createWorld(makeSnapshot()) });
  started.push(sim);
  return sim;
}

async function send(sim: { url: string }, method: string, path: string, body: unknown, headers = {}) {
  const answer = await fetch(`${sim.url}${path}`, {
    method,
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: answer.status, body: (await answer.json()) as Record<string, unknown> };
}

const HEAD = "h".repeat(40);

describe("simulated GitHub: content limits", () => {
  it("refuses a check-run summary over 65,535 bytes even within 65,535 characters", async () => {
    const sim = await github();
    // 30,000 characters, 90,000 bytes: what a character budget lets through
    const summary = "変".repeat(30_000);
    const refused = await send(sim, "POST", "/repos/acme/api/check-runs", {
      name: "SOC 2 change management",
      head_sha: HEAD,
      status: "completed",
      conclusion: "success",
      output: { title: "t", summary },
    });
    expect(refused).toEqual({
      status: 422,
      body: {
        message: "Validation Failed",
        errors: [
          {
            resource: "CheckRun",
            code: "custom",
            field: "summary",
            message: "summary exceeds a maximum bytesize of 65535",
          },
        ],
        documentation_url: "https://docs.github.com/rest/checks/runs#create-a-check-run",
        status: "422",
      },
    });
    const accepted = await send(sim, "POST", "/repos/acme/api/check-runs", {
      name: "SOC 2 change management",
      head_sha: HEAD,
      output: { title: "t", summary: "変".repeat(21_845) }, // 65,535 bytes
    });
    expect(accepted.status).toBe(201);
    const id = accepted.body.id as number;
    const update = await send(sim, "PATCH", `/repos/acme/api/check-runs/${id}`, {
      output: { title: "t", summary: "s", text: "😀".repeat(16_384) }, // 65,536 bytes
    });
    expect(update.status).toBe(422);
    expect(update.body.errors).toEqual([
      {
        resource: "CheckRun",
        code: "custom",
        field: "text",
        message: "text exceeds a maximum bytesize of 65535",
      },
    ]);
  });

  it("refuses a check-run summary over 65,535 characters as its schema does", async () => {
    const sim = await github();
    const refused = await send(sim, "POST", "/repos/acme/api/check-runs", {
      name: "n",
      head_sha: HEAD,
      output: { title: "t", summary: "x".repeat(85_289) },
    });
    expect(refused.status).toBe(422);
    expect(refused.body.message).toBe(
      "Invalid request.\n\nOnly 65535 characters are allowed; 85289 were supplied.",
    );
  });

  it("refuses issue titles over 256 characters and bodies over 65,536, counting code points", async () => {
    const sim = await github();
    const title = "😀".repeat(256); // 256 characters, 512 UTF-16 units: accepted
    const created = await send(sim, "POST", "/repos/acme/api/issues", { title, body: "b".repeat(65_536) });
    expect(created.status).toBe(201);
    const tooLong = await send(sim, "POST", "/repos/acme/api/issues", {
      title: `${title}x`,
      body: "b".repeat(65_537),
    });
    expect(tooLong).toEqual({
      status: 422,
      body: {
        message: "Validation Failed",
        errors: [
          {
            resource: "Issue",
            code: "custom",
            field: "title",
            message: "title is too long (maximum is 256 characters)",
          },
          {
            resource: "Issue",
            code: "custom",
            field: "body",
            message: "body is too long (maximum is 65536 characters)",
          },
        ],
        documentation_url: "https://docs.github.com/rest/issues/issues#create-an-issue",
        status: "422",
      },
    });
    const number = created.body.number as number;
    const update = await send(sim, "PATCH", `/repos/acme/api/issues/${number}`, { title: "t".repeat(257) });
    expect([update.status, (update.body.errors as Array<{ field: string }>)[0]?.field]).toEqual([
      422,
      "title",
    ]);
    const comment = await send(sim, "POST", `/repos/acme/api/issues/${number}/comments`, {
      body: "c".repeat(65_537),
    });
    expect(comment).toEqual({
      status: 422,
      body: {
        message: "Validation Failed",
        errors: [
          {
            resource: "IssueComment",
            code: "unprocessable",
            field: "data",
            message: "Body is too long (maximum is 65536 characters)",
          },
        ],
        documentation_url: "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
        status: "422",
      },
    });
    const fits = await send(sim, "POST", `/repos/acme/api/issues/${number}/comments`, {
      body: "c".repeat(65_536),
    });
    expect(fits.status).toBe(201);
  });
});

describe("the change check through the simulated GitHub", () => {
  it("publishes a check for a hostile multi-byte title and a huge evaluation within GitHub's byte limits", async () => {
    const sim = await github();
    // 40 owners mentioned, right-to-left overrides and CJK: every character escaped or multi-byte
    const title = `${Array.from({ length: 40 }, (_, i) => `@owner${i}`).join(" ")} \u202Egnp.exe 変更#12 ${"変".repeat(400)}`;
    const changeRequest = makeChangeRequest({ title, headSha: HEAD });
    const evidence = Array.from({ length: 3000 }, (_, i) => ({
      label: `コミット ${i}`,
      value: `${"変更".repeat(150)} 😀`,
    }));
    const results: Result[] = [
      {
        control: "cc8.approval-covers-final-code",
        criterion: "CC8.1",
        title: "Approval covers the final code",
        subject: {
          kind: "change-request",
          id: "acme/api#12",
          repository: "acme/api",
          number: 12,
          user: "alice",
          url: "https://github.com/acme/api/pull/12",
        },
        outcome: "fail",
        reason: "3000 commits were pushed after the approval.",
        evidence,
      },
    ];
    const check = buildChangeCheck({ changeRequest, results, policySources: ["policies/soc2.yml"] });
    // what the character budget used to let through is far over GitHub's byte limit
    expect(characterLength(check.summary)).toBeLessThanOrEqual(GITHUB_LIMITS.checkRunSummaryBytes);
    expect(utf8Length(check.summary)).toBeLessThanOrEqual(GITHUB_LIMITS.checkRunSummaryBytes);
    expect(utf8Length(check.summary)).toBeGreaterThan(GITHUB_LIMITS.checkRunSummaryBytes - 4_000);
    expect(check.summary).toMatch(/_Truncated: \d+ more lines did not fit in the check summary/);

    const octokit = createGitHubClient({ token: "sim", baseUrl: sim.url, throttle: false });
    const host = createGitHubHost({ octokit, baseUrl: sim.url });
    await host.publishChangeCheck({ repository: "acme/api", number: 12, headSha: HEAD }, check);
    const listed = await fetch(
      `${sim.url}/repos/acme/api/commits/${HEAD}/check-runs?check_name=${encodeURIComponent(CHECK_NAME)}`,
    );
    const { check_runs } = (await listed.json()) as {
      check_runs: Array<{ name: string; conclusion: string; output: { summary: string } }>;
    };
    expect(check_runs.map((r) => [r.name, r.conclusion])).toEqual([["SOC 2 change management", "failure"]]);
    expect(check_runs[0]?.output.summary).toBe(check.summary);
  });
});

describe("simulated GitLab: content limits", () => {
  async function gitlab(): Promise<SimulatedGitLab> {
    const sim = await startSimulatedGitLab({ snapshot: makeSnapshot(), extraProjects: ["compliance"] });
    started.push(sim);
    return sim;
  }

  it("refuses issue titles over 255 characters and notes over 1,000,000 as GitLab does", async () => {
    const sim = await gitlab();
    const headers = { "private-token": sim.token };
    const issues = "/api/v4/projects/acme%2Fcompliance/issues";
    const refused = await send(sim, "POST", issues, { title: "t".repeat(256) }, headers);
    expect(refused).toEqual({
      status: 400,
      body: { message: { title: ["is too long (maximum is 255 characters)"] } },
    });
    const created = await send(sim, "POST", issues, { title: "😀".repeat(255), description: "d" }, headers);
    expect(created.status).toBe(201);
    const iid = created.body.iid as number;
    const longNote = await send(
      sim,
      "POST",
      `${issues}/${iid}/notes`,
      { body: "n".repeat(1_000_001) },
      headers,
    );
    expect(longNote).toEqual({
      status: 400,
      body: {
        message: '400 Bad request - Note {:note=>["is too long (maximum is 1000000 characters)"]}',
      },
    });
    const note = await send(sim, "POST", `${issues}/${iid}/notes`, { body: "n".repeat(1_000_000) }, headers);
    expect(note.status).toBe(201);
    const description = await send(
      sim,
      "PUT",
      `${issues}/${iid}`,
      { description: "d".repeat(1_048_577) },
      headers,
    );
    expect(description).toEqual({
      status: 400,
      body: { message: { description: ["is too long (maximum is 1048576 characters)"] } },
    });
  });
});
