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
 * Every read collectChangeContext makes for the open !12 of acme/api: the merge request, its commits,
 * notes, versions, approvals, the project's members, the head pipeline, and the target branch's
 * rules (project, protected branches, approval settings and rules).
 */
export function mockOpenChangeContext(
  answers: { approvals?: object; approvalRules?: object } = {},
): nock.Scope {
  return gitlab()
    .get(MR)
    .reply(200, openMergeRequest())
    .get(`${MR}/commits`)
    .query(true)
    .reply(200, fixture("mr-commits"))
    .get(`${MR}/notes`)
    .query(true)
    .reply(200, fixture("mr-notes"))
    .get(`${MR}/versions`)
    .query(true)
    .reply(200, fixture("mr-versions"))
    .get(`${MR}/approvals`)
    .reply(200, answers.approvals ?? fixture("mr-approvals"))
    .get(`${PROJECT}/members/all`)
    .query(true)
    .reply(200, fixture("project-members"))
    .get(`${PROJECT}/pipelines`)
    .query((query) => query.sha === HEAD)
    .reply(200, fixture("pipelines-head"))
    .get(PROJECT)
    .query(true)
    .reply(200, fixture("project"))
    .get(`${PROJECT}/protected_branches`)
    .query(true)
    .reply(200, fixture("protected-branches"))
    .get(`${PROJECT}/approvals`)
    .reply(200, fixture("project-approvals"))
    .get(`${PROJECT}/approval_rules`)
    .query(true)
    .reply(200, answers.approvalRules ?? fixture("approval-rules"));
}
