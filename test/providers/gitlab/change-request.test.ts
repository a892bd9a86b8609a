import { describe, expect, it } from "vitest";
import type { ChangeRequest } from "../../../src/model/index.js";
import {
  API,
  fixture,
  gitlab,
  HEAD,
  MERGE,
  mockUsers,
  MR,
  PROJECT,
  strictNock,
  testHost,
} from "./helpers.js";

strictNock();

interface Overrides {
  mergeRequest?: Record<string, unknown>;
  notes?: unknown[];
  versions?: unknown[];
  approvals?: unknown;
  approvalState?: unknown;
  /** The head's pipelines by sha; null: not asked (the MR's own head_pipeline is used). */
  headPipelines?: unknown[] | null;
  commits?: unknown[];
  members?: { status: number; body: unknown };
  approvalStateStatus?: number;
  /** The head the pipelines are asked for (the MR's sha). */
  head?: string;
  /** Whether the project is read (its merge settings, for bypass; its shares, for an approver's access). */
  readsProject?: boolean;
  /** Which users' accounts are asked for (alice 1, bob 2 by default) and which of them are bots. */
  users?: number[];
  bots?: number[];
}

/** The API answers for !12 of acme/api, from the fixtures unless a test overrides one. */
function mockMergeRequest(overrides: Overrides = {}): void {
  const scope = gitlab()
    .get(MR)
    .reply(200, { ...fixture<Record<string, unknown>>("merge-request"), ...overrides.mergeRequest })
    .get(`${MR}/commits`)
    .query(true)
    .reply(200, overrides.commits ?? fixture("mr-commits"))
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
    .reply(overrides.members?.status ?? 200, overrides.members?.body ?? fixture("project-members"));
  if (overrides.headPipelines !== null) {
    scope
      .get(`${PROJECT}/pipelines`)
      .query((query) => query.sha === (overrides.head ?? HEAD))
      .reply(200, overrides.headPipelines ?? fixture("pipelines-head"));
  }
  scope
    .get(`${PROJECT}/pipelines`)
    .query((query) => query.sha === MERGE)
    .reply(200, fixture("pipelines-merge"))
    .get(`${MR}/approval_state`)
    .reply(overrides.approvalStateStatus ?? 200, overrides.approvalState ?? fixture("mr-approval-state"));
  if (overrides.readsProject !== false) scope.get(PROJECT).query(true).reply(200, fixture("project"));
  mockUsers(overrides.users ?? [1, 2], overrides.bots);
}

const person = { reviewerKind: "user", authorCanPush: true } as const;
const pipeline = { appId: null, appSlug: null, reportedBy: null };

const clean: ChangeRequest = {
  repository: "acme/api",
  number: 12,
  title: "Add rate limiting",
  url: "https://gitlab.example.com/acme/api/-/merge_requests/12",
  author: "alice",
  authorKind: "user",
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
      authorEmail: "1-alice@users.noreply.gitlab.example.com",
      authorKind: "user",
      committerLogin: null,
      // The committer e-mail links to no account: what kind of account it is, GitLab cannot say.
      committerKind: "unknown",
      coAuthors: [],
      authoredAt: "2026-10-01T09:00:00.000Z",
      committedAt: "2026-10-01T09:00:00.000Z",
    },
  ],
  commitsTruncated: false,
  pushes: [{ at: "2026-10-01T09:01:00.000Z", actor: "alice", headSha: HEAD, forced: false }],
  reviews: [
    {
      reviewer: "bob",
      // A user (bot: false) with the Developer role on the project: could push when approving.
      reviewerKind: "user",
      authorCanPush: true,
      state: "approved",
      submittedAt: "2026-10-02T10:00:00.000Z",
      commitSha: null,
    },
  ],
  checks: [
    {
      name: "pipeline",
      kind: "pipeline",
      conclusion: "success",
      on: "head",
      sha: HEAD,
      url: "https://gitlab.example.com/acme/api/-/pipelines/4501",
      completedAt: "2026-10-01T09:10:00.000Z",
      ...pipeline,
    },
    {
      name: "pipeline",
      kind: "pipeline",
      conclusion: "success",
      on: "merge",
      sha: MERGE,
      url: "https://gitlab.example.com/acme/api/-/pipelines/4520",
      completedAt: "2026-10-02T15:09:00.000Z",
      ...pipeline,
    },
  ],
  truncated: [],
  mergedByQueue: false,
  bypassedProtection: { known: true, value: false },
};

describe("GitLab collectChangeRequest", () => {
  it("collects a clean merged merge request into a ChangeRequest", async () => {
    mockMergeRequest();
    const { host } = testHost();
    expect(await host.collectChangeRequest("acme/api", 12)).toEqual(clean);
    expect(host.stats.requests).toBe(12);
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
      {
        reviewer: "bob",
        ...person,
        state: "approved",
        submittedAt: "2026-10-02T10:00:00.000Z",
        commitSha: null,
      },
      {
        reviewer: "alice",
        ...person,
        state: "approved",
        submittedAt: "2026-10-02T11:00:00.000Z",
        commitSha: null,
      },
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
      {
        reviewer: "bob",
        ...person,
        state: "approved",
        submittedAt: "2026-10-02T10:00:00.000Z",
        commitSha: null,
      },
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
      // Nobody but the author appears: no other account is asked about.
      users: [1],
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

  it("says what kind of account each person is, from the Users API's bot flag", async () => {
    const approvals = fixture<{ approved_by: unknown[] }>("mr-approvals");
    // A project access token's user approving: GitLab marks the account bot: true.
    approvals.approved_by = [
      {
        user: { id: 77, username: "project_3_bot_5e1f", name: "ci-token" },
        approved_at: "2026-10-02T10:00:00.000Z",
      },
    ];
    const members = [
      ...fixture<unknown[]>("project-members"),
      { id: 77, username: "project_3_bot_5e1f", name: "ci-token", state: "active", access_level: 40 },
    ];
    mockMergeRequest({
      approvals,
      notes: fixture<Array<{ id: number }>>("mr-notes").filter((note) => note.id !== 302),
      members: { status: 200, body: members },
      users: [1, 77],
      bots: [77],
    });
    const { host } = testHost();
    const collected = await host.collectChangeRequest("acme/api", 12);
    expect(collected.authorKind).toBe("user");
    expect(collected.reviews).toEqual([
      {
        reviewer: "project_3_bot_5e1f",
        reviewerKind: "bot",
        authorCanPush: true,
        state: "approved",
        submittedAt: "2026-10-02T10:00:00.000Z",
        commitSha: null,
      },
    ]);
  });

  it("never takes GitLab's Ghost User (a deleted account) for a person", async () => {
    const approvals = fixture<{ approved_by: unknown[] }>("mr-approvals");
    approvals.approved_by = [
      { user: { id: 3, username: "ghost", name: "Ghost User" }, approved_at: "2026-10-02T10:00:00.000Z" },
    ];
    mockMergeRequest({
      approvals,
      notes: fixture<Array<{ id: number }>>("mr-notes").filter((note) => note.id !== 302),
      users: [1],
    });
    gitlab()
      .get(`${API}/users/3`)
      .reply(200, { id: 3, username: "ghost", name: "Ghost User", state: "active", bot: false });
    const { host } = testHost();
    const collected = await host.collectChangeRequest("acme/api", 12);
    expect(collected.reviews.map((review) => [review.reviewer, review.reviewerKind])).toEqual([
      ["ghost", "unknown"],
    ]);
  });

  it("says whether an approver could push from their role, through a shared group too, and null when it cannot be read", async () => {
    const approvals = fixture<{ approved_by: unknown[] }>("mr-approvals");
    approvals.approved_by = [
      { user: { id: 2, username: "bob" }, approved_at: "2026-10-02T10:00:00.000Z" },
      // Not among the project's members: the project is shared with acme-audit/auditors, but only
      // as Reporter, so nobody can push through that share.
      { user: { id: 9, username: "zoe" }, approved_at: "2026-10-02T10:30:00.000Z" },
    ];
    const members = fixture<Array<{ username: string; access_level: number }>>("project-members").map(
      (member) => (member.username === "bob" ? { ...member, access_level: 20 } : member),
    );
    mockMergeRequest({ approvals, members: { status: 200, body: members }, users: [1, 2, 9] });
    const collected = await testHost().host.collectChangeRequest("acme/api", 12);
    expect(collected.reviews.map((review) => [review.reviewer, review.authorCanPush])).toEqual([
      ["bob", false],
      ["zoe", false],
    ]);

    // Shared as Developer with two groups: zoe is a Maintainer of one (Developer through the share);
    // the other group is hidden from the token, so for bob it cannot be told.
    const project = {
      ...fixture<Record<string, unknown>>("project"),
      shared_with_groups: [
        { group_id: 14, group_full_path: "acme-audit/auditors", group_access_level: 30 },
        { group_id: 15, group_full_path: "partners/secret", group_access_level: 30 },
      ],
    };
    mockMergeRequest({
      approvals,
      members: { status: 200, body: members },
      users: [1, 2, 9],
      readsProject: false,
    });
    gitlab()
      .get(PROJECT)
      .query(true)
      .reply(200, project)
      .get(`${API}/groups/acme-audit%2Fauditors/members/all`)
      .query(true)
      .reply(200, [{ id: 9, username: "zoe", state: "active", access_level: 40 }])
      .get(`${API}/groups/partners%2Fsecret/members/all`)
      .query(true)
      .reply(404, { message: "404 Group Not Found" });
    const shared = await testHost().host.collectChangeRequest("acme/api", 12);
    expect(shared.reviews.map((review) => [review.reviewer, review.authorCanPush])).toEqual([
      ["bob", null],
      ["zoe", true],
    ]);

    mockMergeRequest({ members: { status: 403, body: { message: "403 Forbidden" } } });
    const other = await testHost().host.collectChangeRequest("acme/api", 12);
    // The members cannot be read: whether bob could push is unknown, never assumed.
    expect(other.reviews.map((review) => [review.reviewer, review.authorCanPush])).toEqual([["bob", null]]);
  });

  it("makes Co-authored-by trailers co-authors, linked to a member by their public e-mail", async () => {
    const [commit] = fixture<Array<Record<string, unknown>>>("mr-commits");
    const commits = [
      {
        ...commit,
        message:
          "Add rate limiting\n\nCo-authored-by: Bob Builder <bob@acme.example>\nCo-authored-by: Mallory <mallory@elsewhere.example>\n",
      },
    ];
    mockMergeRequest({ commits });
    const { host } = testHost();
    const collected = await host.collectChangeRequest("acme/api", 12);
    expect(collected.commits[0]?.coAuthors).toEqual([
      { login: "bob", name: "Bob Builder", email: "bob@acme.example", kind: "user", source: "trailer" },
      // No account GitLab shows has that e-mail: unattributed, and so not a known kind.
      {
        login: null,
        name: "Mallory",
        email: "mallory@elsewhere.example",
        kind: "unknown",
        source: "trailer",
      },
    ]);
  });

  it("credits a co-author named without an address, or with a space before the colon, as unattributed, never dropped", async () => {
    const [commit] = fixture<Array<Record<string, unknown>>>("mr-commits");
    const commits = [
      {
        ...commit,
        message:
          "Add rate limiting\n\nCo-authored-by : Bob Builder <bob@acme.example>\nco-authored-by: Carol\nCo-Authored-By: pat@contractor.example\n",
      },
    ];
    mockMergeRequest({ commits });
    const { host } = testHost();
    const collected = await host.collectChangeRequest("acme/api", 12);
    expect(collected.commits[0]?.coAuthors).toEqual([
      { login: "bob", name: "Bob Builder", email: "bob@acme.example", kind: "user", source: "trailer" },
      { login: null, name: "Carol", email: null, kind: "unknown", source: "trailer" },
      { login: null, name: "", email: "pat@contractor.example", kind: "unknown", source: "trailer" },
    ]);
  });

  it("uses the MR's own head_pipeline, a merged-results pipeline on GitLab's internal commit, with who ran it", async () => {
    const internal = "4444444444444444444444444444444444444444";
    mockMergeRequest({
      mergeRequest: {
        head_pipeline: {
          id: 4600,
          sha: internal,
          status: "success",
          source: "merge_request_event",
          web_url: "https://gitlab.example.com/acme/api/-/pipelines/4600",
          updated_at: "2026-10-02T14:00:00.000Z",
          finished_at: "2026-10-02T13:59:00.000Z",
          user: { id: 2, username: "bob", name: "Bob Builder" },
        },
      },
      // Not looked up by the head's sha: GitLab named the pipeline.
      headPipelines: null,
    });
    // GitLab's internal merge commit merges the head into the target: the pipeline tested this head.
    gitlab()
      .get(`${PROJECT}/repository/commits/${internal}`)
      .reply(200, {
        ...fixture<Array<Record<string, unknown>>>("mr-commits")[0],
        id: internal,
        parent_ids: [MERGE, HEAD],
      });
    const { host } = testHost();
    const collected = await host.collectChangeRequest("acme/api", 12);
    expect(collected.checks[0]).toEqual({
      name: "pipeline",
      kind: "pipeline",
      conclusion: "success",
      on: "head",
      // Recorded on the head it tested, as GitLab's merge check counts it; its url names the pipeline.
      sha: HEAD,
      url: "https://gitlab.example.com/acme/api/-/pipelines/4600",
      completedAt: "2026-10-02T13:59:00.000Z",
      appId: null,
      appSlug: null,
      reportedBy: "bob",
    });
    expect(collected.bypassedProtection).toEqual({ known: true, value: false });
  });

  it("records a pipeline GitLab made from a commit status someone posted (source external) as a commit status, with who posted it", async () => {
    mockMergeRequest({
      mergeRequest: {
        head_pipeline: {
          id: 4700,
          sha: HEAD,
          status: "success",
          // POST /projects/:id/statuses/:sha on a commit without a pipeline makes an external one:
          // anyone with the Developer role can post it, no CI ran.
          source: "external",
          web_url: "https://gitlab.example.com/acme/api/-/pipelines/4700",
          updated_at: "2026-10-02T14:00:00.000Z",
          finished_at: "2026-10-02T13:59:00.000Z",
          user: { id: 1, username: "alice", name: "Alice" },
        },
      },
      headPipelines: null,
    });
    const collected = await testHost().host.collectChangeRequest("acme/api", 12);
    expect(collected.checks[0]).toMatchObject({ kind: "status", reportedBy: "alice", sha: HEAD });
  });

  it("does not take a merge request pipeline of an earlier head (GitLab leaves head_pipeline as it was when a push starts none) for the head's", async () => {
    const earlier = "0000000000000000000000000000000000000001";
    mockMergeRequest({
      mergeRequest: {
        // A detached merge request pipeline of the head before the last push: its sha is that head.
        head_pipeline: {
          id: 4401,
          sha: earlier,
          ref: "refs/merge-requests/12/head",
          status: "success",
          source: "merge_request_event",
          user: { id: 1, username: "alice" },
        },
      },
      // GitLab has no pipeline for the head itself.
      headPipelines: [],
    });
    // Whether the pipeline's commit is a merge of the head (a merged-results pipeline): it is not.
    gitlab()
      .get(`${PROJECT}/repository/commits/${earlier}`)
      .reply(200, {
        ...fixture<Array<Record<string, unknown>>>("mr-commits")[0],
        id: earlier,
        parent_ids: [],
      });
    const { host } = testHost();
    const collected = await host.collectChangeRequest("acme/api", 12);
    expect(collected.checks.map((check) => check.on)).toEqual(["merge"]);
    expect(collected.bypassedProtection).toEqual({
      known: false,
      permission: "Reporter role",
      reason: `pipelines must succeed, but GitLab shows no pipeline for the head ${HEAD}`,
    });
  });

  it("does not take a merged-results pipeline of an earlier head, whose merge commit's parents do not include the head", async () => {
    const internal = "4444444444444444444444444444444444444444";
    mockMergeRequest({
      mergeRequest: {
        head_pipeline: {
          id: 4601,
          sha: internal,
          ref: "refs/merge-requests/12/merge",
          status: "success",
          source: "merge_request_event",
          user: { id: 2, username: "bob" },
        },
      },
      headPipelines: [],
    });
    gitlab()
      .get(`${PROJECT}/repository/commits/${internal}`)
      .reply(200, {
        ...fixture<Array<Record<string, unknown>>>("mr-commits")[0],
        id: internal,
        parent_ids: [MERGE, "0000000000000000000000000000000000000001"],
      });
    const { host } = testHost();
    const collected = await host.collectChangeRequest("acme/api", 12);
    expect(collected.checks.map((check) => check.on)).toEqual(["merge"]);
    expect(collected.bypassedProtection.known).toBe(false);
  });

  it("does not take a pipeline of an earlier head for the head's, and a required pipeline not found makes bypass unknown", async () => {
    mockMergeRequest({
      mergeRequest: {
        head_pipeline: {
          id: 4400,
          sha: "0000000000000000000000000000000000000001",
          status: "success",
          source: "push",
          user: { id: 1, username: "alice" },
        },
      },
      // GitLab has no pipeline for the head itself.
      headPipelines: [],
    });
    const { host } = testHost();
    const collected = await host.collectChangeRequest("acme/api", 12);
    expect(collected.checks.map((check) => check.on)).toEqual(["merge"]);
    // "Pipelines must succeed" is on and the head's pipeline is nowhere: not "no bypass".
    expect(collected.bypassedProtection).toEqual({
      known: false,
      permission: "Reporter role",
      reason: `pipelines must succeed, but GitLab shows no pipeline for the head ${HEAD}`,
    });
  });

  it("on GitLab Free (approval_state answers 404) still collects the MR, with bypass unknown for the edition", async () => {
    mockMergeRequest({
      approvalStateStatus: 404,
      approvalState: { error: "404 Not Found" },
      readsProject: false,
    });
    const { host } = testHost();
    const collected = await host.collectChangeRequest("acme/api", 12);
    // What Free offers is there: the approvals, the pipelines, the people.
    expect(collected.reviews.map((review) => [review.reviewer, review.state])).toEqual([["bob", "approved"]]);
    expect(collected.checks).toHaveLength(2);
    expect(collected.bypassedProtection).toEqual({
      known: false,
      permission: "GitLab Premium",
      reason:
        "not available on this GitLab edition (Premium or Ultimate only): GitLab GET /projects/acme%2Fapi/merge_requests/12/approval_state answered 404: 404 Not Found",
    });
  });
});
