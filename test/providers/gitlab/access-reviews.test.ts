import { afterEach, describe, expect, it } from "vitest";
import {
  ACCESS_REVIEW_BRANCH_PREFIX,
  cycleOf,
  renderReviewFile,
  reviewBranch,
  reviewPath,
  reviewTitle,
  signOffOf,
  type ReviewGrant,
} from "../../../src/access-review/index.js";
import { collectAccessReviews } from "../../../src/pipeline/access-reviews.js";
import type { Policy } from "../../../src/policy/types.js";
import { createGitLabHost } from "../../../src/providers/gitlab/index.js";
import { WriteError, type ReviewHost } from "../../../src/providers/types.js";
import { startSimulatedGitLab, type SimulatedGitLab } from "../../../src/sim/gitlab/server.js";
import { makeOrganization, makeRepository, makeSnapshot, peopleDirectory } from "../../fixtures/build.js";

/**
 * Access reviews on GitLab, end to end: the real GitLab host against the simulated GitLab over
 * HTTP. The bot opens the review merge request; reviewers decide it with their own tokens (their
 * commits, approvals and merge are theirs, as GitLab records them); the host then reads it back as
 * the audit does, and signOffOf judges it.
 */

const GROUP = "acme";
const FINDINGS = `${GROUP}/compliance`;
const TOKENS = { "glpat-carol": "carol", "glpat-dave": "dave", "glpat-erin": "erin", "glpat-frank": "frank" };

const started: SimulatedGitLab[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

async function start(options: Partial<Parameters<typeof startSimulatedGitLab>[0]> = {}) {
  const snapshot = makeSnapshot({
    organization: makeOrganization({ login: GROUP, url: `https://gitlab.example.com/${GROUP}` }),
    repositories: [
      makeRepository({
        fullName: `${GROUP}/api`,
        collaborators: {
          known: true,
          value: [
            { login: "alice", permission: "admin", outside: false },
            { login: "zed", permission: "write", outside: true },
          ],
        },
        deployKeys: {
          known: true,
          value: [
            { id: "11", title: "ci", readOnly: false, createdAt: "2026-01-01T00:00:00Z", addedBy: null },
          ],
        },
      }),
    ],
    changeRequests: [],
  });
  const sim = await startSimulatedGitLab({
    snapshot,
    extraProjects: ["compliance"],
    users: TOKENS,
    // Pages of two: commits and merge requests are read across pages (x-next-page, Link).
    maxPerPage: 2,
    ...options,
  });
  started.push(sim);
  return sim;
}

const cycle = cycleOf("quarter", new Date()).id;
const owner = "organization-admins";
const grants: ReviewGrant[] = [
  grant("collaborator:zed:write", "zed", "collaborator", [`${GROUP}/api`], "write"),
  grant("member:bob:member", "bob", "member", [], "member"),
  grant("deploy-key:11:write", `${GROUP}/api#11 ci`, "deploy-key", [`${GROUP}/api`], "write"),
];
const opened = renderReviewFile({
  cycle,
  organization: GROUP,
  owner,
  openedAt: new Date(),
  grants,
  graceDays: 0,
});
const request = {
  branch: reviewBranch(cycle, owner),
  path: reviewPath("access-reviews", cycle, owner),
  text: opened,
  title: reviewTitle(cycle, owner, GROUP),
  body: "The quarter's access review. Mark each grant keep or revoke; an independent approval and the merge sign it off.",
  labels: ["soc2-access-review"],
};

function grant(id: string, account: string, kind: ReviewGrant["kind"], repositories: string[], role: string) {
  return {
    id,
    kind,
    account,
    person: account,
    repositories,
    role,
    twoFactor: "unknown",
    lastActivity: "unknown: not collected in this test",
    since: "unknown",
  } as ReviewGrant;
}

/** A user's own call to the simulated GitLab's API, with their token. */
async function as(sim: SimulatedGitLab, token: string, method: string, path: string, body?: object) {
  const response = await fetch(`${sim.url}/api/v4${path}`, {
    method,
    headers: { "PRIVATE-TOKEN": token, "content-type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

function reviewsOf(sim: SimulatedGitLab, fetchImpl?: typeof fetch): ReviewHost {
  const host = createGitLabHost({
    baseUrl: sim.url,
    token: sim.token,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  return host.accessReviews!(FINDINGS);
}

const project = `/projects/${encodeURIComponent(FINDINGS)}`;
const file = `${project}/repository/files/${encodeURIComponent(request.path)}`;

describe("GitLab access reviews through the simulated GitLab", () => {
  it("opens one merge request however often it is asked", async () => {
    const sim = await start();
    const reviews = reviewsOf(sim);
    const first = await reviews.openReview(request);
    const second = await reviews.openReview(request);
    expect(first).toMatchObject({ number: 1, created: true });
    expect(first.url).toBe(`${sim.url}/${FINDINGS}/-/merge_requests/1`);
    expect(second).toEqual({ ...first, created: false });
    const project = sim.world.group.projects.find((p) => p.path === FINDINGS)!;
    expect(project.mergeRequests).toHaveLength(1);
    expect(project.mergeRequests[0]!.wire).toMatchObject({
      source_branch: request.branch,
      target_branch: "main",
      title: request.title,
      labels: ["soc2-access-review"],
      author: { username: "soc2-bot" },
    });
  });

  it("after a lost answer to the merge request's creation, finds the one it made instead of opening another", async () => {
    const sim = await start();
    let lost = 0;
    // GitLab applied the write; the answer never arrived (the connection dropped after the request).
    const dropping: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method === "POST" && String(input).endsWith("/merge_requests") && lost++ === 0) {
        await response.body?.cancel();
        throw new TypeError("fetch failed: socket hang up");
      }
      return response;
    };
    const result = await reviewsOf(sim, dropping).openReview(request);
    expect(lost).toBe(1);
    expect(result).toMatchObject({ number: 1, created: true });
    const again = await reviewsOf(sim).openReview(request);
    expect(again).toMatchObject({ number: 1, created: false });
    expect(sim.world.group.projects.find((p) => p.path === FINDINGS)!.mergeRequests).toHaveLength(1);
  });

  it("reuses a branch and file an earlier run left without a merge request", async () => {
    const sim = await start();
    // An earlier run made the branch and committed the file, then stopped before opening the MR.
    await as(sim, sim.token, "POST", `${project}/repository/branches`, {
      branch: request.branch,
      ref: "main",
    });
    await as(sim, sim.token, "POST", file, {
      branch: request.branch,
      content: request.text,
      commit_message: "x",
    });
    const result = await reviewsOf(sim).openReview(request);
    expect(result.created).toBe(true);
    const mr = sim.world.group.projects.find((p) => p.path === FINDINGS)!.mergeRequests[0]!;
    expect(mr.commits).toHaveLength(1);
  });

  it("a refused write says it was refused, naming GitLab's message", async () => {
    const sim = await start({
      fault: ({ method, path }) =>
        method === "POST" && path.endsWith("/merge_requests")
          ? { status: 403, body: { message: "403 Forbidden" } }
          : undefined,
    });
    const error = await reviewsOf(sim)
      .openReview(request)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WriteError);
    expect((error as WriteError).write).toMatchObject({ applied: "no", status: 403 });
  });

  it("a reviewer decides, another approves and merges: the record shows it, signOffOf accepts it, removals are then read as gone", async () => {
    const sim = await start();
    const reviews = reviewsOf(sim);
    const { number } = await reviews.openReview(request);

    // carol marks two grants revoke, in two commits (with the bot's, three: more than a page of two).
    const decided = opened
      .replace(
        /(id: collaborator:zed:write[\s\S]*?decision: )keep(\s+reason: )""/,
        '$1revoke$2"left the project"',
      )
      .replace(
        /(id: deploy-key:11:write[\s\S]*?decision: )keep(\s+reason: )""/,
        '$1revoke$2"CI moved to OIDC"',
      );
    expect(decided).not.toBe(opened);
    const half = opened.replace(
      /(id: collaborator:zed:write[\s\S]*?decision: )keep(\s+reason: )""/,
      '$1revoke$2"left the project"',
    );
    for (const [content, message] of [
      [half, "Revoke zed"],
      [decided, "Revoke the CI deploy key"],
    ]) {
      const put = await as(sim, "glpat-carol", "PUT", file, {
        branch: request.branch,
        content,
        commit_message: message,
      });
      expect(put).toEqual({ status: 200, body: { file_path: request.path, branch: request.branch } });
    }
    // Approvals: dave, erin and frank (GitLab lists them all in one answer: the approvals API has no pages).
    for (const token of ["glpat-dave", "glpat-erin", "glpat-frank"]) {
      expect((await as(sim, token, "POST", `${project}/merge_requests/${number}/approve`)).status).toBe(201);
    }
    // The author cannot approve their own merge request; a second approval by the same user is refused.
    expect((await as(sim, sim.token, "POST", `${project}/merge_requests/${number}/approve`)).status).toBe(
      401,
    );
    expect((await as(sim, "glpat-dave", "POST", `${project}/merge_requests/${number}/approve`)).status).toBe(
      401,
    );
    const merged = await as(sim, "glpat-dave", "PUT", `${project}/merge_requests/${number}/merge`, {});
    expect(merged.body).toMatchObject({ state: "merged", merge_user: { username: "dave" } });

    const list = await reviews.listReviews(ACCESS_REVIEW_BRANCH_PREFIX);
    if (!list.known) throw new Error(list.reason);
    expect(list.value).toHaveLength(1);
    const record = list.value[0]!;
    expect(record).toMatchObject({
      cycle,
      owner,
      repository: FINDINGS,
      number,
      branch: request.branch,
      openedBy: "soc2-bot",
      state: "merged",
      mergedBy: "dave",
      file: { path: request.path, text: decided },
      openedText: opened,
    });
    expect(record.approvals.map((a) => a.login)).toEqual(["dave", "erin", "frank"]);
    expect(record.approvals.every((a) => a.commit === null)).toBe(true);
    // Authors from GitLab's no-reply addresses; carol also from the "added 1 commit" notes.
    expect(record.committers).toEqual(["carol", "soc2-bot"]);
    const mr = sim.world.group.projects.find((p) => p.path === FINDINGS)!.mergeRequests[0]!;
    expect(record.headSha).toBe(mr.wire.sha);
    expect(mr.commits).toHaveLength(3);

    // What the audit collects into the snapshot's accessReviews is this record.
    const audited = await collectAccessReviews(
      createGitLabHost({ baseUrl: sim.url, token: sim.token }),
      GROUP,
      { findings: { repository: "compliance", labels: [] } } as unknown as Pick<Policy, "findings">,
    );
    expect(audited).toEqual({ known: true, value: [record] });

    const signOff = signOffOf(record, { due_within_days: 400 }, peopleDirectory());
    expect(signOff.problems).toEqual([]);
    expect(signOff).toMatchObject({ signedOff: true, independent: true, onTime: true });
    expect(signOff.reviewers).toEqual(["dave", "erin", "frank"]);
    expect(signOff.review?.decisions.filter((d) => d.decision === "revoke").map((d) => d.id)).toEqual([
      "collaborator:zed:write",
      "deploy-key:11:write",
    ]);

    // The removals decided, applied by the host; the next read of the project no longer shows them.
    const host = createGitLabHost({ baseUrl: sim.url, token: sim.token });
    await reviews.removeAccess({ kind: "collaborator", account: "zed", repository: `${GROUP}/api` });
    await reviews.removeAccess({ kind: "deploy-key", account: "11", repository: `${GROUP}/api` });
    await reviews.removeAccess({ kind: "member", account: "bob", repository: null });
    // Removing again is no error: what was asked holds (a retry after a lost answer).
    await reviews.removeAccess({ kind: "deploy-key", account: "11", repository: `${GROUP}/api` });
    const repository = await host.collectRepository(`${GROUP}/api`, {
      productionBranches: { defaultBranch: true, patterns: [] },
    } as Pick<Policy, "productionBranches"> as Policy);
    expect(
      repository.collaborators.known && repository.collaborators.value.map((c) => c.login),
    ).not.toContain("zed");
    expect(repository.deployKeys).toEqual({ known: true, value: [] });
    const organization = await host.collectOrganization(GROUP);
    expect(organization.members.known && organization.members.value.map((m) => m.login)).not.toContain("bob");
  });

  it("merged by the one who wrote the decisions, with only their own approval elsewhere: not a sign-off", async () => {
    const sim = await start();
    const reviews = reviewsOf(sim);
    const { number } = await reviews.openReview(request);
    const decided = opened.replace(
      /(id: member:bob:member[\s\S]*?decision: )keep(\s+reason: )""/,
      '$1revoke$2"left"',
    );
    await as(sim, "glpat-carol", "PUT", file, {
      branch: request.branch,
      content: decided,
      commit_message: "Revoke bob",
    });
    // carol wrote the decision and approves it herself (GitLab lets a committer approve unless the
    // project forbids it), then merges.
    expect((await as(sim, "glpat-carol", "POST", `${project}/merge_requests/${number}/approve`)).status).toBe(
      201,
    );
    await as(sim, "glpat-carol", "PUT", `${project}/merge_requests/${number}/merge`, {});
    const list = await reviews.listReviews(ACCESS_REVIEW_BRANCH_PREFIX);
    if (!list.known) throw new Error(list.reason);
    const signOff = signOffOf(list.value[0]!, { due_within_days: 400 }, peopleDirectory());
    expect(signOff.signedOff).toBe(false);
    expect(signOff.why).toMatch(/@carol wrote on the branch/);
  });

  it("lists every review merge request across pages, in any state, and no other", async () => {
    const sim = await start();
    const reviews = reviewsOf(sim);
    const owners = ["organization-admins", "platform", "payments"];
    for (const name of owners) {
      await reviews.openReview({
        ...request,
        branch: reviewBranch(cycle, name),
        path: reviewPath("access-reviews", cycle, name),
        title: reviewTitle(cycle, name, GROUP),
      });
    }
    // Someone else's merge request in the findings project, and a closed review.
    await as(sim, "glpat-carol", "POST", `${project}/repository/branches`, {
      branch: "fix-typo",
      ref: "main",
    });
    await as(sim, "glpat-carol", "POST", `${project}/repository/files/README.md`, {
      branch: "fix-typo",
      content: "hello",
      commit_message: "Readme",
    });
    await as(sim, "glpat-carol", "POST", `${project}/merge_requests`, {
      source_branch: "fix-typo",
      target_branch: "main",
      title: "Readme",
    });
    const mr = sim.world.group.projects.find((p) => p.path === FINDINGS)!.mergeRequests[1]!;
    mr.wire.state = "closed";
    const list = await reviews.listReviews(ACCESS_REVIEW_BRANCH_PREFIX);
    if (!list.known) throw new Error(list.reason);
    expect(list.value.map((r) => [r.owner, r.state])).toEqual([
      ["organization-admins", "open"],
      ["platform", "closed"],
      ["payments", "open"],
    ]);
    expect(list.value.every((r) => r.file?.text === opened && r.openedText === opened)).toBe(true);
  });

  it("removes a group share; refuses to call inherited access removed", async () => {
    const sim = await start();
    const reviews = reviewsOf(sim);
    const host = createGitLabHost({ baseUrl: sim.url, token: sim.token });
    const policy = { productionBranches: { defaultBranch: true, patterns: [] } } as Pick<
      Policy,
      "productionBranches"
    > as Policy;
    const before = await host.collectRepository(`${GROUP}/api`, policy);
    expect(before.teams).toEqual({
      known: true,
      value: [{ slug: `${GROUP}/engineering`, permission: "write" }],
    });
    await reviews.removeAccess({ kind: "team", account: `${GROUP}/engineering`, repository: `${GROUP}/api` });
    // The next audit (a new host: the project is read once per host) no longer finds the share.
    const after = await createGitLabHost({ baseUrl: sim.url, token: sim.token }).collectRepository(
      `${GROUP}/api`,
      policy,
    );
    expect(after.teams).toEqual({ known: true, value: [] });
    // alice is an Owner of the group: the project has no membership of hers to remove.
    const error = await reviews
      .removeAccess({ kind: "collaborator", account: "alice", repository: `${GROUP}/api` })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WriteError);
    expect((error as WriteError).message).toMatch(/inherited from a group/);
    expect((error as WriteError).write.applied).toBe("no");
  });

  it("on GitLab Free the merge request's approvals are still listed and read", async () => {
    const sim = await start({ edition: "free" });
    const reviews = reviewsOf(sim);
    const { number } = await reviews.openReview(request);
    expect((await as(sim, "glpat-dave", "POST", `${project}/merge_requests/${number}/approve`)).status).toBe(
      201,
    );
    // Free has no approval rules: the Premium-only settings answer GitLab's 404 for a missing route.
    expect((await as(sim, sim.token, "GET", `${project}/approval_rules`)).status).toBe(404);
    await as(sim, "glpat-dave", "PUT", `${project}/merge_requests/${number}/merge`, {});
    const list = await reviews.listReviews(ACCESS_REVIEW_BRANCH_PREFIX);
    if (!list.known) throw new Error(list.reason);
    expect(list.value[0]!.approvals).toEqual([{ login: "dave", at: expect.any(String), commit: null }]);
    expect(signOffOf(list.value[0]!, { due_within_days: 400 }, peopleDirectory()).signedOff).toBe(true);
  });

  it("a token that cannot read the findings project gives unknown, naming the role", async () => {
    const sim = await start({
      fault: ({ path }) =>
        path.includes("/merge_requests") ? { status: 403, body: { message: "403 Forbidden" } } : undefined,
    });
    const list = await reviewsOf(sim).listReviews(ACCESS_REVIEW_BRANCH_PREFIX);
    expect(list).toMatchObject({ known: false, permission: expect.stringMatching(/Reporter role/) });
    if (!list.known) expect(list.reason).toMatch(/403/);
  });
});
