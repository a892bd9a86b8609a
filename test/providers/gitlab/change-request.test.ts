import { describe, expect, it } from "vitest";
import type { ChangeRequest } from "../../../src/model/index.js";
import { fixture, gitlab, HEAD, MERGE, MR, PROJECT, strictNock, testHost } from "./helpers.js";

strictNock();

interface Overrides {
  mergeRequest?: Record<string, unknown>;
  notes?: unknown[];
  versions?: unknown[];
  approvals?: unknown;
  approvalState?: unknown;
  headPipelines?: unknown[];
  approvalStateStatus?: number;
  /** The head the pipelines are asked for (the MR's sha). */
  head?: string;
  /** Whether the project settings are read (not when the approval state is forbidden). */
  readsProject?: boolean;
}

/** The API answers for !12 of acme/api, from the fixtures unless a test overrides one. */
function mockMergeRequest(overrides: Overrides = {}): void {
  const scope = gitlab()
    .get(MR)
    .reply(200, { ...fixture<Record<string, unknown>>("merge-request"), ...overrides.mergeRequest })
    .get(`${MR}/commits`)
    .query(true)
    .reply(200, fixture("mr-commits"))
    .get(`${MR}/notes`)
    .query({ per_page: 100, sort: "asc", order_by: "created_at" })
    .reply(200, overrides.notes ?? fixture("mr-notes"))
    .get(`${MR}/versions`)
    .query(true)
    .reply(200, overrides.versions ?? fixture("mr-versions"))
    .get(`${MR}/approvals`)
    .reply(200, overrides.approvals ?? fixture("mr-approvals"))
    .get(`${PROJECT}/members/all`)
    .query(true)
    .reply(200, fixture("project-members"))
    .get(`${PROJECT}/pipelines`)
    .query((query) => query.sha === (overrides.head ?? HEAD))
    .reply(200, overrides.headPipelines ?? fixture("pipelines-head"))
    .get(`${PROJECT}/pipelines`)
    .query((query) => query.sha === MERGE)
    .reply(200, fixture("pipelines-merge"))
    .get(`${MR}/approval_state`)
    .reply(overrides.approvalStateStatus ?? 200, overrides.approvalState ?? fixture("mr-approval-state"));
  if (overrides.readsProject !== false) scope.get(PROJECT).query(true).reply(200, fixture("project"));
}

const clean: ChangeRequest = {
  repository: "acme/api",
  number: 12,
  title: "Add rate limiting",
  url: "https://gitlab.example.com/acme/api/-/merge_requests/12",
  author: "alice",
  state: "merged",
  draft: false,
  baseBranch: "main",
  headBranch: "feature/rate-limit",
  headSha: HEAD,
  mergeCommitSha: MERGE,
  createdAt: "2026-10-01T09:00:00.000Z",
  mergedAt: "2026-10-02T15:00:00.000Z",
  mergedBy: "alice",
  commits: [
    {
      sha: HEAD,
      // Linked through GitLab's no-reply address; the committer e-mail is nobody's public one.
      authorLogin: "alice",
      authorName: "Alice Liddell",
      committerLogin: null,
      authoredAt: "2026-10-01T09:00:00.000Z",
      committedAt: "2026-10-01T09:00:00.000Z",
    },
  ],
  commitsTruncated: false,
  pushes: [{ at: "2026-10-01T09:01:00.000Z", actor: "alice", headSha: HEAD, forced: false }],
  reviews: [{ reviewer: "bob", state: "approved", submittedAt: "2026-10-02T10:00:00.000Z", commitSha: null }],
  checks: [
    {
      name: "pipeline",
      kind: "pipeline",
      conclusion: "success",
      on: "head",
      sha: HEAD,
      url: "https://gitlab.example.com/acme/api/-/pipelines/4501",
      completedAt: "2026-10-01T09:10:00.000Z",
    },
    {
      name: "pipeline",
      kind: "pipeline",
      conclusion: "success",
      on: "merge",
      sha: MERGE,
      url: "https://gitlab.example.com/acme/api/-/pipelines/4520",
      completedAt: "2026-10-02T15:09:00.000Z",
    },
  ],
  bypassedProtection: { known: true, value: false },
};

describe("GitLab collectChangeRequest", () => {
  it("collects a clean merged merge request into a ChangeRequest", async () => {
    mockMergeRequest();
    const { host } = testHost();
    expect(await host.collectChangeRequest("acme/api", 12)).toEqual(clean);
    expect(host.stats.requests).toBe(10);
  });

  it("shows the author's own approval and a committer's approval in the reviews", async () => {
    const approvals = fixture<{ approved_by: unknown[] }>("mr-approvals");
    approvals.approved_by = [
      { user: { id: 1, username: "alice", name: "Alice Liddell" }, approved_at: "2026-10-02T11:00:00.000Z" },
      { user: { id: 2, username: "bob", name: "Bob Builder" }, approved_at: "2026-10-02T10:00:00.000Z" },
    ];
    mockMergeRequest({ approvals });
    const { host } = testHost();
    const collected = await host.collectChangeRequest("acme/api", 12);
    expect(collected.author).toBe("alice");
    expect(collected.commits.map((commit) => commit.authorLogin)).toEqual(["alice"]);
    expect(collected.reviews).toEqual([
      { reviewer: "bob", state: "approved", submittedAt: "2026-10-02T10:00:00.000Z", commitSha: null },
      { reviewer: "alice", state: "approved", submittedAt: "2026-10-02T11:00:00.000Z", commitSha: null },
    ]);
  });

  it("dates an approval before the last push by the approval note and the diff versions", async () => {
    const later = "aaaabbbbccccddddeeeeffff0000111122223333";
    const notes = [
      ...fixture<Array<Record<string, unknown>>>("mr-notes"),
      {
        id: 310,
        body: "added 1 commit\n\n<ul><li>aaaabbbb - Tweak limits</li></ul>",
        author: { id: 1, username: "alice", name: "Alice Liddell" },
        created_at: "2026-10-02T12:00:01.000Z",
        system: true,
      },
    ];
    const versions = [
      { id: 111, head_commit_sha: later, created_at: "2026-10-02T12:00:00.000Z" },
      ...fixture<unknown[]>("mr-versions"),
    ];
    mockMergeRequest({ notes, versions, mergeRequest: { sha: later }, head: later });
    const { host } = testHost();
    const { pushes, reviews, headSha } = await host.collectChangeRequest("acme/api", 12);
    expect(headSha).toBe(later);
    expect(pushes).toEqual([
      { at: "2026-10-01T09:01:00.000Z", actor: "alice", headSha: HEAD, forced: false },
      { at: "2026-10-02T12:00:00.000Z", actor: "alice", headSha: later, forced: false },
    ]);
    expect(reviews).toEqual([
      { reviewer: "bob", state: "approved", submittedAt: "2026-10-02T10:00:00.000Z", commitSha: null },
    ]);
    expect(Date.parse(reviews[0]!.submittedAt)).toBeLessThan(Date.parse(pushes.at(-1)!.at));
  });

  it("maps a failed head pipeline to a failed pipeline check and a bypass when pipelines must succeed", async () => {
    const failed = fixture<Array<Record<string, unknown>>>("pipelines-head").map((pipeline) => ({
      ...pipeline,
      status: "failed",
    }));
    mockMergeRequest({ headPipelines: failed });
    const { host } = testHost();
    const collected = await host.collectChangeRequest("acme/api", 12);
    expect(collected.checks[0]).toEqual({ ...clean.checks[0], conclusion: "failure" });
    expect(collected.bypassedProtection).toEqual({ known: true, value: true });
  });

  it("has no approved review when nobody approved, and a merge past an unsatisfied rule is a bypass", async () => {
    const approvalState = fixture<{ rules: Array<Record<string, unknown>> }>("mr-approval-state");
    approvalState.rules = approvalState.rules.map((rule) => ({ ...rule, approved: false, approved_by: [] }));
    mockMergeRequest({
      approvals: { ...fixture<object>("mr-approvals"), approved_by: [] },
      notes: fixture<Array<{ id: number }>>("mr-notes").filter((note) => note.id !== 302),
      approvalState,
    });
    const { host } = testHost();
    const collected = await host.collectChangeRequest("acme/api", 12);
    expect(collected.reviews).toEqual([]);
    expect(collected.bypassedProtection).toEqual({ known: true, value: true });
  });

  it("says bypass is unknown, naming the role, when the approval state is forbidden", async () => {
    mockMergeRequest({
      approvalStateStatus: 403,
      approvalState: { message: "403 Forbidden" },
      readsProject: false,
    });
    const { host } = testHost();
    const collected = await host.collectChangeRequest("acme/api", 12);
    expect(collected.bypassedProtection).toEqual({
      known: false,
      permission: "Reporter role",
      reason:
        "403 GitLab GET /projects/acme%2Fapi/merge_requests/12/approval_state answered 403: 403 Forbidden",
    });
    expect(host.drainUnreadable()).toMatchObject([
      { subject: "acme/api!12", what: "merge request approval state", permission: "Reporter role" },
    ]);
  });
});
