import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  cycleOf,
  renderReviewFile,
  reviewBranch,
  reviewPath,
  reviewTitle,
  type ReviewGrant,
} from "../../src/access-review/index.js";
import { createGitLabEndpoint } from "../../src/app/gitlab.js";
import {
  createGitLabHost,
  GITLAB_REVIEW_STATUS_NAME,
  GITLAB_STATUS_NAME,
} from "../../src/providers/gitlab/index.js";
import { startSimulatedGitLab, type SimulatedGitLab } from "../../src/sim/gitlab/server.js";
import type { SimProject } from "../../src/sim/gitlab/world.js";
import { makeOrganization, makeRepository, makeSnapshot } from "../fixtures/build.js";

/**
 * The GitLab app and an access review's merge request, end to end: GitLab's documented merge
 * request hook (its project, merge request and branch set to the review's) delivered to the real
 * endpoint, which reads the review through the real GitLab host from the simulated GitLab and puts
 * the status "soc2-bot access review" on the merge request's head instead of the change check.
 */

const SECRET = "hook-secret-5f2c";
const GROUP = "acme";
const FINDINGS = `${GROUP}/compliance`;
const cycle = cycleOf("quarter", new Date()).id;
const owner = "organization-admins";
const path = reviewPath("access-reviews", cycle, owner);
const branch = reviewBranch(cycle, owner);

const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
let sim: SimulatedGitLab;
let server: Server;
let url: string;
let settled: Promise<void>[];

beforeEach(async () => {
  settled = [];
  log.error.mockReset();
  sim = await startSimulatedGitLab({
    snapshot: makeSnapshot({
      organization: makeOrganization({ login: GROUP, url: `https://gitlab.example.com/${GROUP}` }),
      repositories: [makeRepository({ fullName: `${GROUP}/api` })],
      changeRequests: [],
    }),
    extraProjects: ["compliance"],
    users: { "glpat-carol": "carol" },
  });
  const handle = createGitLabEndpoint({
    secret: SECRET,
    host: () => createGitLabHost({ baseUrl: sim.url, token: sim.token }),
    log,
  });
  server = createServer((req, res) => void settled.push(handle(req, res)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gitlab/webhook`;
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  await sim.close();
});

const grants = [
  {
    id: "collaborator:bob:write",
    kind: "collaborator",
    account: "bob",
    person: "bob",
    repositories: [`${GROUP}/api`],
    role: "write",
    twoFactor: "yes",
    lastActivity: "unknown: not collected in this test",
    since: "unknown",
  },
] as ReviewGrant[];
const opened = renderReviewFile({
  cycle,
  organization: GROUP,
  owner,
  openedAt: new Date(),
  grants,
  graceDays: 7,
});

async function openReview(): Promise<{ number: number; project: SimProject }> {
  const host = createGitLabHost({ baseUrl: sim.url, token: sim.token });
  const { number } = await host.accessReviews!(FINDINGS).openReview({
    branch,
    path,
    text: opened,
    title: reviewTitle(cycle, owner, GROUP),
    body: "Review.",
    labels: [],
  });
  return { number, project: sim.world.group.projects.find((p) => p.path === FINDINGS)! };
}

async function edit(content: string): Promise<void> {
  const response = await fetch(
    `${sim.url}/api/v4/projects/${encodeURIComponent(FINDINGS)}/repository/files/${encodeURIComponent(path)}`,
    {
      method: "PUT",
      headers: { "PRIVATE-TOKEN": "glpat-carol", "content-type": "application/json" },
      body: JSON.stringify({ branch, content, commit_message: "Decide" }),
    },
  );
  expect(response.status).toBe(200);
}

/** GitLab's documented merge request hook, for this project's merge request and branch. */
function hook(number: number, headSha: string, action = "update"): Record<string, unknown> {
  const documented = JSON.parse(
    readFileSync("/work/shared/fixtures/gitlab-docs/hook-merge-request.json", "utf8"),
  ) as { project: object; object_attributes: { last_commit: object } };
  return {
    ...documented,
    project: { ...documented.project, path_with_namespace: FINDINGS },
    object_attributes: {
      ...documented.object_attributes,
      iid: number,
      action,
      state: "opened",
      source_branch: branch,
      target_branch: "main",
      last_commit: { ...documented.object_attributes.last_commit, id: headSha },
    },
  };
}

async function deliver(payload: unknown): Promise<number> {
  const response = await fetch(url, {
    method: "POST",
    body: JSON.stringify(payload),
    headers: {
      "content-type": "application/json",
      "x-gitlab-token": SECRET,
      "x-gitlab-event": "Merge Request Hook",
    },
  });
  await response.text();
  await Promise.all(settled);
  return response.status;
}

describe("an access review's merge request on GitLab gets the review status", () => {
  it("fails naming file:line:column when the file is edited into an invalid shape; succeeds once valid", async () => {
    const { number, project } = await openReview();
    await edit(opened.replace(/\n(\s+)decision: keep/, "\n$1decision: maybe"));
    const broken = String(project.mergeRequests[0]!.wire.sha);
    expect(await deliver(hook(number, broken))).toBe(202);
    expect(log.error).not.toHaveBeenCalled();
    const failed = project.statuses.filter((s) => s.sha === broken);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ name: GITLAB_REVIEW_STATUS_NAME, status: "failed" });
    const line = opened.split("\n").findIndex((l) => /^\s+decision: keep/.test(l)) + 1;
    const description = String(failed[0]!.description);
    expect(description).toMatch(new RegExp(`^${path.replace(/[.]/g, "\\.")}:${line}:\\d+ `));
    expect([...description].length).toBeLessThanOrEqual(255);
    // The bot's note holds every problem; no change-management status on a review.
    const note = project.mergeRequests[0]!.notes.find((n) => !n.system);
    expect(String(note?.body)).toContain(`${path}:${line}:`);
    expect(project.statuses.some((s) => s.name === GITLAB_STATUS_NAME)).toBe(false);

    await edit(
      opened.replace(
        /\n(\s+)decision: keep\n(\s+)reason: ""/,
        '\n$1decision: revoke\n$2reason: "left the company"',
      ),
    );
    const fixed = String(project.mergeRequests[0]!.wire.sha);
    await deliver(hook(number, fixed));
    expect(project.statuses.filter((s) => s.sha === fixed)).toEqual([
      expect.objectContaining({ name: GITLAB_REVIEW_STATUS_NAME, status: "success" }),
    ]);
    // One note, updated in place.
    expect(project.mergeRequests[0]!.notes.filter((n) => !n.system)).toHaveLength(1);
  });

  it("a pipeline finishing on the review's merge request starts no change check: its status comes from the file", async () => {
    const { number, project } = await openReview();
    const head = String(project.mergeRequests[0]!.wire.sha);
    const documented = JSON.parse(
      readFileSync("/work/shared/fixtures/gitlab-docs/hook-pipeline.json", "utf8"),
    ) as { object_attributes: object; merge_request: object; project: object };
    const payload = {
      ...documented,
      project: { ...documented.project, path_with_namespace: FINDINGS },
      object_attributes: { ...documented.object_attributes, sha: head, status: "success" },
      merge_request: { ...documented.merge_request, iid: number, state: "opened", source_branch: branch },
      builds: [],
    };
    const response = await fetch(url, {
      method: "POST",
      body: JSON.stringify(payload),
      headers: {
        "content-type": "application/json",
        "x-gitlab-token": SECRET,
        "x-gitlab-event": "Pipeline Hook",
      },
    });
    await response.text();
    await Promise.all(settled);
    expect(response.status).toBe(202);
    expect(project.statuses.some((s) => s.name === GITLAB_STATUS_NAME)).toBe(false);
    expect(log.error).not.toHaveBeenCalled();
  });

  it("a merge request named like a review outside the findings project is checked as a change", async () => {
    const { number } = await openReview();
    const payload = hook(number, "a".repeat(40), "open");
    (payload.project as Record<string, unknown>).path_with_namespace = `${GROUP}/api`;
    await deliver(payload);
    const api = sim.world.group.projects.find((p) => p.path === `${GROUP}/api`)!;
    // The change check ran for it (the MR is unknown to acme/api, so its failure is reported, not a review status).
    expect(api.statuses.some((s) => s.name === GITLAB_REVIEW_STATUS_NAME)).toBe(false);
    expect(log.error).toHaveBeenCalledWith(
      expect.objectContaining({ project: `${GROUP}/api` }),
      "GitLab change check failed",
    );
  });
});
