import { readFileSync } from "node:fs";
import nock from "nock";
import { afterEach, expect } from "vitest";
import { createGitLabHost, type GitLabHost } from "../../../src/providers/gitlab/index.js";

export const BASE = "https://gitlab.example.com";
export const API = "/api/v4";
export const HEAD = "1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e";
export const MERGE = "9f8e7d6c5b4a39281706f5e4d3c2b1a098765432";
export const MR = `${API}/projects/acme%2Fapi/merge_requests/12`;
export const PROJECT = `${API}/projects/acme%2Fapi`;

/** A GitLab fixture (test/fixtures/gitlab), parsed fresh so a test may change its copy. */
export function fixture<T = unknown>(name: string): T {
  return JSON.parse(
    readFileSync(new URL(`../../fixtures/gitlab/${name}.json`, import.meta.url), "utf8"),
  ) as T;
}

/** A host whose retries do not sleep; waits are recorded instead. */
export function testHost(): { host: GitLabHost; waits: number[] } {
  const waits: number[] = [];
  const host = createGitLabHost({
    baseUrl: BASE,
    token: "glpat-test-token",
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
  return { host, waits };
}

export function gitlab(): nock.Scope {
  return nock(BASE, { reqheaders: { "private-token": "glpat-test-token" } });
}

/** Every mock must be used, and no request may go unanswered by one. */
export function strictNock(): void {
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending).toEqual([]);
  });
}

/** The merge request fixture as GitLab shows it while open: no merge commit, nobody merged it. */
export function openMergeRequest(): Record<string, unknown> {
  return {
    ...fixture<Record<string, unknown>>("merge-request"),
    state: "opened",
    merged_at: null,
    merged_by: null,
    merge_user: null,
    merge_commit_sha: null,
    squash_commit_sha: null,
  };
}

/**
 * The fixture's commits with the committer linked too (alice's no-reply address): a commit whose
 * committer is linked to no account makes independence unknown, so a clean change needs this.
 */
export function linkedCommits(): Array<Record<string, unknown>> {
  return fixture<Array<Record<string, unknown>>>("mr-commits").map((commit) => ({
    ...commit,
    committer_email: commit.author_email,
  }));
}

/** The reads of one merge request itself: the MR, its commits, notes, versions and approvals. */
export function mockMergeRequestReads(
  mr: Record<string, unknown>,
  approvals: object = fixture("mr-approvals"),
): nock.Scope {
  const base = `${PROJECT}/merge_requests/${String(mr.iid)}`;
  return gitlab()
    .get(base)
    .reply(200, mr)
    .get(`${base}/commits`)
    .query(true)
    .reply(200, linkedCommits())
    .get(`${base}/notes`)
    .query(true)
    .reply(200, fixture("mr-notes"))
    .get(`${base}/versions`)
    .query(true)
    .reply(200, fixture("mr-versions"))
    .get(`${base}/approvals`)
    .reply(200, approvals);
}

/** The pipelines of a merge request's head and, when merged, of its merge commit. */
export function mockPipelines(merged: boolean): nock.Scope {
  const scope = gitlab()
    .get(`${PROJECT}/pipelines`)
    .query((query) => query.sha === HEAD)
    .reply(200, fixture("pipelines-head"));
  return merged
    ? scope
        .get(`${PROJECT}/pipelines`)
        .query((query) => query.sha === MERGE)
        .reply(200, fixture("pipelines-merge"))
    : scope;
}

/** The target branch's rules: project settings, protected branches, approval settings and rules. */
export function mockBranchRules(
  approvalRules: object = fixture("approval-rules"),
  edition: "premium" | "free" = "premium",
): nock.Scope {
  const scope = gitlab()
    .get(PROJECT)
    .query(true)
    .reply(200, fixture("project"))
    .get(`${PROJECT}/protected_branches`)
    .query(true)
    .reply(200, fixture("protected-branches"));
  // GitLab Free/CE has no approval settings or rules: Grape's 404 for both (read together).
  if (edition === "free") {
    return scope
      .get(`${PROJECT}/approvals`)
      .reply(404, { error: "404 Not Found" })
      .get(`${PROJECT}/approval_rules`)
      .query(true)
      .reply(404, { error: "404 Not Found" });
  }
  return scope
    .get(`${PROJECT}/approvals`)
    .reply(200, fixture("project-approvals"))
    .get(`${PROJECT}/approval_rules`)
    .query(true)
    .reply(200, approvalRules);
}

/**
 * GET /users/:id for the fixture people (alice 1, bob 2, erin 5), as GitLab's Users API answers:
 * `bot` says whether the account is a bot (access-token users, service accounts). Each id is asked
 * once per host.
 */
export function mockUsers(ids: number[], bots: number[] = []): nock.Scope {
  const names: Record<number, string> = { 1: "alice", 2: "bob", 5: "erin" };
  const scope = gitlab();
  for (const id of ids) {
    scope.get(`${API}/users/${id}`).reply(200, {
      id,
      username: names[id] ?? `user${id}`,
      name: names[id] ?? `User ${id}`,
      state: "active",
      bot: bots.includes(id),
      public_email: null,
    });
  }
  return scope;
}

export function mockProjectMembers(): nock.Scope {
  return gitlab().get(`${PROJECT}/members/all`).query(true).reply(200, fixture("project-members"));
}

/**
 * Every read collectChangeContext makes for the open !12 of acme/api: the merge request itself, the
 * project's members, the people's account types, the head pipeline, and the target branch's rules.
 */
export function mockOpenChangeContext(
  answers: {
    approvals?: object;
    approvalRules?: object;
    headPipeline?: object;
    edition?: "premium" | "free";
  } = {},
): void {
  const mr = { ...openMergeRequest(), iid: 12 };
  mockMergeRequestReads(
    answers.headPipeline ? { ...mr, head_pipeline: answers.headPipeline } : mr,
    answers.approvals,
  );
  mockProjectMembers();
  // The author (alice, also the commit's author by her no-reply address) and the approver (bob).
  mockUsers([1, 2]);
  // The MR's own head_pipeline, when it names one, is not looked up by sha.
  if (!answers.headPipeline) mockPipelines(false);
  mockBranchRules(answers.approvalRules, answers.edition);
}
