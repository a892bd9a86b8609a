import { afterEach, describe, expect, it } from "vitest";
import { startSimulatedGitLab, type SimulatedGitLab } from "../../src/sim/gitlab/server.js";
import { makeOrganization, makeRepository, makeSnapshot } from "../fixtures/build.js";

/**
 * The simulated GitLab's git and merge request writes answer as GitLab's API documents them:
 * refusals with GitLab's status and message, each write by the token's own user.
 */

const started: SimulatedGitLab[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

const PROJECT = `/projects/${encodeURIComponent("acme/compliance")}`;

async function start() {
  const sim = await startSimulatedGitLab({
    snapshot: makeSnapshot({
      organization: makeOrganization({ login: "acme" }),
      repositories: [makeRepository({ fullName: "acme/api" })],
      changeRequests: [],
    }),
    extraProjects: ["compliance"],
    users: { "glpat-carol": "carol" },
    now: () => new Date("2026-10-28T14:00:00Z"),
  });
  started.push(sim);
  const call = async (token: string, method: string, path: string, body?: object) => {
    const response = await fetch(`${sim.url}/api/v4${path}`, {
      method,
      headers: { "PRIVATE-TOKEN": token, "content-type": "application/json" },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
  };
  return {
    sim,
    bot: (m: string, p: string, b?: object) => call(sim.token, m, p, b),
    carol: (m: string, p: string, b?: object) => call("glpat-carol", m, p, b),
  };
}

describe("simulated GitLab: branches, files and merge requests", () => {
  it("refuses what GitLab refuses, with GitLab's messages", async () => {
    const { bot, carol } = await start();
    expect(
      (await bot("POST", `${PROJECT}/repository/branches`, { branch: "review", ref: "main" })).status,
    ).toBe(201);
    expect(await bot("POST", `${PROJECT}/repository/branches`, { branch: "review", ref: "main" })).toEqual({
      status: 400,
      body: { message: "Branch already exists" },
    });
    expect(await bot("POST", `${PROJECT}/repository/branches`, { branch: "x", ref: "nope" })).toEqual({
      status: 400,
      body: { message: "Invalid reference name: nope" },
    });
    const file = `${PROJECT}/repository/files/${encodeURIComponent("a/b.yml")}`;
    expect(await bot("POST", file, { branch: "review", content: "one", commit_message: "Add" })).toEqual({
      status: 201,
      body: { file_path: "a/b.yml", branch: "review" },
    });
    expect(await bot("POST", file, { branch: "review", content: "two", commit_message: "Add" })).toEqual({
      status: 400,
      body: { message: "A file with this name already exists" },
    });
    const opened = await bot("POST", `${PROJECT}/merge_requests`, {
      source_branch: "review",
      target_branch: "main",
      title: "Review",
    });
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({
      iid: 1,
      state: "opened",
      author: { username: "soc2-bot" },
      created_at: "2026-10-28T14:00:00.000Z",
    });
    expect(
      await bot("POST", `${PROJECT}/merge_requests`, {
        source_branch: "review",
        target_branch: "main",
        title: "Again",
      }),
    ).toEqual({
      status: 409,
      body: { message: ["Another open merge request already exists for this source branch: !1"] },
    });
    // carol's commit is hers: the MR's head moves and GitLab notes who pushed.
    await carol("PUT", file, { branch: "review", content: "two", commit_message: "Decide" });
    const commits = await bot("GET", `${PROJECT}/merge_requests/1/commits`);
    expect(
      (commits.body as unknown as Array<{ author_email: string }>).map((c) => c.author_email.split("@")[0]),
    ).toEqual([expect.stringMatching(/^\d+-carol$/), "9999-soc2-bot"]);
    // An approval or merge of another version than the head: 409.
    const stale = "0".repeat(40);
    expect((await carol("POST", `${PROJECT}/merge_requests/1/approve`, { sha: stale })).status).toBe(409);
    expect((await carol("PUT", `${PROJECT}/merge_requests/1/merge`, { sha: stale })).status).toBe(409);
    // Unapproving without an approval: 404, as GitLab's RemoveApprovalService answers.
    expect((await carol("POST", `${PROJECT}/merge_requests/1/unapprove`)).status).toBe(404);
    const merged = await carol("PUT", `${PROJECT}/merge_requests/1/merge`, {});
    expect(merged.body).toMatchObject({
      state: "merged",
      merged_by: { username: "carol" },
      merged_at: "2026-10-28T14:00:00.000Z",
    });
    expect((await carol("PUT", `${PROJECT}/merge_requests/1/merge`, {})).status).toBe(405);
    // The merged file is on the default branch.
    const raw = await fetch(`${started[0]!.url}/api/v4${file}/raw?ref=main`, {
      headers: { "PRIVATE-TOKEN": started[0]!.token },
    });
    expect(await raw.text()).toBe("two");
    // Removing what is not there: 404.
    expect(
      (await bot("DELETE", `/projects/${encodeURIComponent("acme/api")}/deploy_keys/12345`)).status,
    ).toBe(404);
  });

  it("answers GET /user as the token's user", async () => {
    const { bot, carol } = await start();
    expect((await bot("GET", "/user")).body).toMatchObject({ username: "soc2-bot" });
    expect((await carol("GET", "/user")).body).toMatchObject({ username: "carol" });
  });
});
