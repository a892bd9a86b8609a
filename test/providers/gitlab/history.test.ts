import { describe, expect, it } from "vitest";
import type { ChangeRequest, DirectPush } from "../../../src/model/index.js";
import {
  API,
  fixture,
  gitlab,
  HEAD,
  MERGE,
  mockMergeRequestReads,
  mockOpenChangeContext,
  mockPipelines,
  mockUsers,
  PROJECT,
  strictNock,
  testHost,
} from "./helpers.js";

strictNock();

const PERIOD = { since: new Date("2026-10-01T00:00:00Z"), until: new Date("2026-11-01T00:00:00Z") };
const mergeRequest = fixture<Record<string, unknown>>("merge-request");

/** A merged MR like the fixture !12, with its own iid and merge time. */
function mergedMr(iid: number, mergedAt: string): Record<string, unknown> {
  return {
    ...mergeRequest,
    iid,
    merged_at: mergedAt,
    updated_at: mergedAt,
    web_url: `https://gitlab.example.com/acme/api/-/merge_requests/${iid}`,
  };
}

/** The per-MR reads of collectChangeRequest (project members and settings are read once per host). */
function mockMergedRequestReads(mr: Record<string, unknown>): void {
  mockMergeRequestReads(mr);
  mockPipelines(true);
  gitlab()
    .get(`${PROJECT}/merge_requests/${String(mr.iid)}/approval_state`)
    .reply(200, fixture("mr-approval-state"));
}

function mockProjectOnce(): void {
  gitlab()
    .get(`${PROJECT}/members/all`)
    .query(true)
    .reply(200, fixture("project-members"))
    .get(PROJECT)
    .query(true)
    .reply(200, fixture("project"));
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const list: T[] = [];
  for await (const item of items) list.push(item);
  return list;
}

/** The second listing: merged MRs updated since the first one began (a minute ago, not the period). */
function mockUpdatedSinceListing(mrs: unknown[]): void {
  gitlab()
    .get(`${PROJECT}/merge_requests`)
    .query(
      (query) =>
        query.state === "merged" &&
        query.sort === "desc" &&
        Date.now() - Date.parse(String(query.updated_after)) < 10 * 60_000,
    )
    .reply(200, mrs, { "x-next-page": "", "x-page": "1" });
}

describe("GitLab listMergedChangeRequests", () => {
  it("finds an MR updated while the list was read (it moved to the front, past the page being read)", async () => {
    const listQuery = {
      state: "merged",
      updated_after: "2026-10-01T00:00:00.000Z",
      order_by: "updated_at",
      sort: "desc",
      per_page: "100",
    };
    const moved = { ...mergedMr(14, "2026-10-15T10:00:00.000Z"), updated_at: new Date().toISOString() };
    gitlab()
      .get(`${PROJECT}/merge_requests`)
      .query(listQuery)
      .reply(200, [mergedMr(13, "2026-10-20T10:00:00.000Z")], { "x-next-page": "2", "x-page": "1" })
      // !14 was on this page when the listing began; a comment since took it to the front.
      .get(`${PROJECT}/merge_requests`)
      .query({ ...listQuery, page: "2" })
      .reply(200, [mergedMr(12, "2026-10-02T15:00:00.000Z")], { "x-next-page": "", "x-page": "2" });
    mockUpdatedSinceListing([moved]);
    mockProjectOnce();
    mockUsers([1, 2]);
    mockMergedRequestReads(mergedMr(12, "2026-10-02T15:00:00.000Z"));
    mockMergedRequestReads(mergedMr(13, "2026-10-20T10:00:00.000Z"));
    mockMergedRequestReads(moved);

    const { host } = testHost();
    const merged = await all(
      host.listMergedChangeRequests("acme/api", (branch) => branch === "main", PERIOD),
    );

    expect(merged.map((cr) => cr.number)).toEqual([12, 13, 14]);
  });

  it("follows x-next-page and keeps only the merge requests merged within the period", async () => {
    const listQuery = {
      state: "merged",
      updated_after: "2026-10-01T00:00:00.000Z",
      order_by: "updated_at",
      sort: "desc",
      per_page: "100",
    };
    gitlab()
      .get(`${PROJECT}/merge_requests`)
      .query(listQuery)
      // !9 was updated in the period (a late comment) but merged before it: not in the population.
      .reply(200, [mergedMr(13, "2026-10-20T10:00:00.000Z"), mergedMr(9, "2026-09-20T10:00:00.000Z")], {
        "x-next-page": "2",
        "x-page": "1",
      })
      .get(`${PROJECT}/merge_requests`)
      .query({ ...listQuery, page: "2" })
      .reply(200, [mergedMr(12, "2026-10-02T15:00:00.000Z")], { "x-next-page": "", "x-page": "2" });
    mockUpdatedSinceListing([]);
    mockProjectOnce();
    // Account types are asked once per host, however many merge requests name the person.
    mockUsers([1, 2]);
    mockMergedRequestReads(mergedMr(12, "2026-10-02T15:00:00.000Z"));
    mockMergedRequestReads(mergedMr(13, "2026-10-20T10:00:00.000Z"));

    const { host } = testHost();
    const merged = await all(
      host.listMergedChangeRequests("acme/api", (branch) => branch === "main", PERIOD),
    );

    expect(
      merged.map((cr): Partial<ChangeRequest> => ({
        number: cr.number,
        mergedAt: cr.mergedAt,
        state: cr.state,
        url: cr.url,
      })),
    ).toEqual([
      {
        number: 12,
        mergedAt: "2026-10-02T15:00:00.000Z",
        state: "merged",
        url: "https://gitlab.example.com/acme/api/-/merge_requests/12",
      },
      {
        number: 13,
        mergedAt: "2026-10-20T10:00:00.000Z",
        state: "merged",
        url: "https://gitlab.example.com/acme/api/-/merge_requests/13",
      },
    ]);
    expect(merged.map((cr) => cr.reviews.map((review) => review.reviewer))).toEqual([["bob"], ["bob"]]);
  });
});

describe("GitLab listDirectPushes", () => {
  const COMMITS = `${PROJECT}/repository/commits`;
  const EVENTS = `${PROJECT}/events`;
  const commit = fixture<Array<Record<string, unknown>>>("mr-commits")[0]!;
  const direct = "d1d2d3d4d5d6d7d8d9d0e1e2e3e4e5e6e7e8e9e0";
  const fastForwarded = "f1f2f3f4f5f6f7f8f9f0a1a2a3a4a5a6a7a8a9a0";
  const otherBranchMerge = "abababababababababababababababababababab";
  const backdated = "bdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbdbd";
  const commitsQuery = {
    ref_name: "main",
    since: "2026-10-01T00:00:00.000Z",
    until: "2026-11-01T00:00:00.000Z",
    first_parent: "true",
    per_page: "100",
  };
  const eventsQuery = {
    action: "pushed",
    after: "2026-09-30",
    before: "2026-11-02",
    sort: "asc",
    per_page: "100",
  };
  /** A push event as GET /projects/:id/events?action=pushed lists it. */
  const pushEvent = (sha: string, at: string, by: string, ref = "main", extra: object = {}) => ({
    id: Math.floor(Math.random() * 1e6),
    project_id: 3,
    action_name: "pushed to",
    author_username: by,
    author: { id: 2, username: by, name: by },
    created_at: at,
    push_data: {
      commit_count: 1,
      action: "pushed",
      ref_type: "branch",
      commit_from: "0000000000000000000000000000000000000000",
      commit_to: sha,
      ref,
      commit_title: "",
      ...extra,
    },
  });

  it("reports a commit no merge request brought into this branch, with who pushed it and when", async () => {
    gitlab()
      .get(`${PROJECT}/members/all`)
      .query(true)
      .reply(200, fixture("project-members"))
      .get(EVENTS)
      .query(eventsQuery)
      .reply(200, [
        pushEvent(direct, "2026-10-05T22:15:00.000Z", "bob"),
        // A push to another branch says nothing about main.
        pushEvent(fastForwarded, "2026-10-06T08:00:00.000Z", "erin", "develop"),
      ])
      .get(COMMITS)
      .query(commitsQuery)
      .reply(200, [
        // The merge commit of !12: in the merged population, but this host did not collect it,
        // so which branch !12 was merged into is asked.
        { ...commit, id: MERGE, title: "Merge branch 'feature/rate-limit' into 'main'" },
        // A fast-forward merge: its commit landed as it was; GitLab knows the MR.
        { ...commit, id: fastForwarded, title: "Bump version" },
        // The merge commit of an MR into develop, brought to main by pushing develop: a direct push.
        { ...commit, id: otherBranchMerge, title: "Merge branch 'feature/x' into 'develop'" },
        {
          ...commit,
          id: direct,
          title: "Hotfix: raise pool size",
          message: "Hotfix: raise pool size\n",
          author_email: "bob@acme.example",
          committer_email: "bob@acme.example",
          committed_date: "2026-10-05T22:10:00.000+00:00",
          web_url: `https://gitlab.example.com/acme/api/-/commit/${direct}`,
        },
      ])
      .get(`${COMMITS}/${MERGE}/merge_requests`)
      .query(true)
      .reply(200, [{ iid: 12, state: "merged", target_branch: "main" }])
      .get(`${COMMITS}/${fastForwarded}/merge_requests`)
      .query(true)
      .reply(200, [{ iid: 14, state: "merged", target_branch: "main" }])
      .get(`${COMMITS}/${otherBranchMerge}/merge_requests`)
      .query(true)
      .reply(200, [{ iid: 16, state: "merged", target_branch: "develop" }])
      // The hotfix has an MR, but one that was closed unmerged: it did not bring the commit.
      .get(`${COMMITS}/${direct}/merge_requests`)
      .query(true)
      .reply(200, [{ iid: 15, state: "closed", target_branch: "main" }]);

    const { host } = testHost();
    const pushes = await all(host.listDirectPushes("acme/api", "main", PERIOD, new Set([MERGE, HEAD])));

    expect(pushes.map((push) => [push.sha, push.pushedBy, push.pushedAt])).toEqual([
      // No push event records it: the push time is not recorded.
      [otherBranchMerge, null, null],
      [direct, "bob", "2026-10-05T22:15:00.000Z"],
    ]);
    expect(pushes[1]).toEqual({
      repository: "acme/api",
      branch: "main",
      sha: direct,
      message: "Hotfix: raise pool size\n",
      // Linked through bob's public e-mail among the project members.
      authorLogin: "bob",
      committerLogin: "bob",
      pushedBy: "bob",
      at: "2026-10-05T22:10:00.000Z",
      pushedAt: "2026-10-05T22:15:00.000Z",
      forced: false,
      url: `https://gitlab.example.com/acme/api/-/commit/${direct}`,
    } satisfies DirectPush);
  });

  it("finds commits dated before the period but pushed within it, each credited to the push that brought it", async () => {
    const middle = "cececececececececececececececececececece";
    const tip = "edededededededededededededededededededed";
    const old = (sha: string, date: string, parent: string) => ({
      ...commit,
      id: sha,
      parent_ids: [parent],
      committed_date: date,
      message: `Old ${sha.slice(0, 4)}`,
    });
    gitlab()
      .get(`${PROJECT}/members/all`)
      .query(true)
      .reply(200, fixture("project-members"))
      .get(EVENTS)
      .query(eventsQuery)
      .reply(200, [
        pushEvent(backdated, "2026-10-03T12:00:00.000Z", "erin"),
        // Two commits in one push: GitLab names only the first's parent and the last.
        pushEvent(tip, "2026-10-04T12:00:00.000Z", "alice", "main", {
          commit_count: 2,
          commit_from: backdated,
        }),
      ])
      // Every one of them is dated before the period: the commit dates find none.
      .get(COMMITS)
      .query(commitsQuery)
      .reply(200, [])
      .get(`${PROJECT}/repository/compare`)
      .query({ from: backdated, to: tip, straight: "true" })
      .reply(200, {
        commits: [
          { id: middle, parent_ids: [backdated] },
          { id: tip, parent_ids: [middle] },
        ],
        compare_timeout: false,
      });
    for (const [sha, date, parent] of [
      [backdated, "2026-09-01T00:00:00.000+00:00", "0".repeat(40)],
      [middle, "2026-09-02T00:00:00.000+00:00", backdated],
      [tip, "2026-09-03T00:00:00.000+00:00", middle],
    ] as const) {
      gitlab()
        .get(`${COMMITS}/${sha}`)
        .reply(200, old(sha, date, parent))
        .get(`${COMMITS}/${sha}/merge_requests`)
        .query(true)
        .reply(200, []);
    }

    const { host } = testHost();
    const pushes = await all(host.listDirectPushes("acme/api", "main", PERIOD, new Set()));
    expect(pushes.map((push) => [push.sha, push.at, push.pushedBy, push.pushedAt])).toEqual([
      [backdated, "2026-09-01T00:00:00.000Z", "erin", "2026-10-03T12:00:00.000Z"],
      [middle, "2026-09-02T00:00:00.000Z", "alice", "2026-10-04T12:00:00.000Z"],
      [tip, "2026-09-03T00:00:00.000Z", "alice", "2026-10-04T12:00:00.000Z"],
    ]);
  });

  it("reports a push that reset the branch to an earlier commit (no commit added, commits removed) as a forced direct push", async () => {
    gitlab()
      .get(`${PROJECT}/members/all`)
      .query(true)
      .reply(200, fixture("project-members"))
      .get(EVENTS)
      .query(eventsQuery)
      .reply(200, [
        // A force push back to !12's merge commit: GitLab counts no commit pushed (none is new).
        pushEvent(MERGE, "2026-10-07T09:00:00.000Z", "mallory", "main", {
          commit_count: 0,
          commit_from: direct,
        }),
      ])
      .get(COMMITS)
      .query(commitsQuery)
      .reply(200, [])
      .get(`${COMMITS}/${MERGE}`)
      .reply(200, {
        ...commit,
        id: MERGE,
        title: "Merge branch 'feature/rate-limit' into 'main'",
        message: "Merge branch 'feature/rate-limit' into 'main'\n",
        committed_date: "2026-09-20T10:00:00.000+00:00",
        web_url: `https://gitlab.example.com/acme/api/-/commit/${MERGE}`,
      })
      .get(`${COMMITS}/${MERGE}/merge_requests`)
      .query(true)
      .reply(200, [{ iid: 12, state: "merged", target_branch: "main" }]);

    const { host } = testHost();
    const pushes = await all(host.listDirectPushes("acme/api", "main", PERIOD, new Set([MERGE])));
    expect(pushes).toEqual([
      {
        repository: "acme/api",
        branch: "main",
        sha: MERGE,
        message:
          "Push reset main to this earlier commit, removing the commits after it: Merge branch 'feature/rate-limit' into 'main'\n",
        // The commit's author (alice's public e-mail), not the one who reset the branch to it.
        authorLogin: "alice",
        committerLogin: null,
        pushedBy: "mallory",
        at: "2026-09-20T10:00:00.000Z",
        pushedAt: "2026-10-07T09:00:00.000Z",
        forced: true,
        url: `https://gitlab.example.com/acme/api/-/commit/${MERGE}`,
      },
    ] satisfies DirectPush[]);
  });

  it("says the push time is not recorded when the events cannot be read", async () => {
    gitlab()
      .get(`${PROJECT}/members/all`)
      .query(true)
      .reply(200, fixture("project-members"))
      .get(EVENTS)
      .query(eventsQuery)
      .reply(403, { message: "403 Forbidden" })
      .get(COMMITS)
      .query(commitsQuery)
      .reply(200, [{ ...commit, id: direct }])
      .get(`${COMMITS}/${direct}/merge_requests`)
      .query(true)
      .reply(200, []);
    const { host } = testHost();
    const pushes = await all(host.listDirectPushes("acme/api", "main", PERIOD, new Set()));
    expect(pushes.map((push) => [push.sha, push.pushedBy, push.pushedAt])).toEqual([[direct, null, null]]);
    expect(host.drainUnreadable()).toMatchObject([
      { subject: "acme/api", what: "push times and pushers of main", permission: "Reporter role" },
    ]);
  });
});

describe("GitLab collectChangeContext", () => {
  it("reads the open MR and only its target branch's rules, leaving people and keys uncollected", async () => {
    mockOpenChangeContext();

    const { host } = testHost();
    const { changeRequest, repository } = await host.collectChangeContext("acme/api", 12);

    expect(changeRequest).toMatchObject({
      number: 12,
      state: "open",
      mergeCommitSha: null,
      mergedAt: null,
      bypassedProtection: { known: true, value: false },
    });
    expect(changeRequest.checks.map((check) => [check.on, check.conclusion])).toEqual([["head", "success"]]);
    const skipped = {
      known: false,
      permission: "not collected for a change check",
      reason: "only the branch rules are read",
    };
    expect(repository).toEqual({
      fullName: "acme/api",
      url: "https://gitlab.example.com/acme/api",
      visibility: "private",
      archived: false,
      defaultBranch: "main",
      productionBranches: ["main"],
      branchRules: {
        known: true,
        value: [
          {
            branch: "main",
            sources: ["protected-branch:main", "approval-settings", "approval-rule:7"],
            requirePullRequest: true,
            requiredApprovals: 2,
            dismissStaleApprovals: true,
            requireCodeOwnerReview: true,
            requireLastPushApproval: true,
            requiredStatusChecks: ["pipeline"],
            enforceAdmins: true,
            allowForcePushes: false,
            allowDeletions: false,
            bypassActors: [],
            bypassActorsVisible: true,
            requiredCheckApps: {},
            otherRequirements: [],
          },
        ],
      },
      collaborators: skipped,
      teams: skipped,
      deployKeys: skipped,
      collectionError: null,
    });
    // The MR's five reads, the members, two account types, the head pipeline, four for the rules.
    expect(host.stats.requests).toBe(13);
  });
});

describe("GitLab changeRequestsForCommit", () => {
  it("names only the open merge requests whose head is the commit", async () => {
    gitlab()
      .get(`${PROJECT}/repository/commits/${HEAD}/merge_requests`)
      .query({ per_page: "100" })
      .reply(200, [
        { ...mergeRequest, iid: 12, state: "opened", sha: HEAD },
        // The commit is in !20's history, but !20's head moved on.
        { ...mergeRequest, iid: 20, state: "opened", sha: MERGE },
        { ...mergeRequest, iid: 7, state: "merged", sha: HEAD },
        { ...mergeRequest, iid: 21, state: "opened", sha: HEAD },
      ]);
    const { host } = testHost();
    expect(await host.changeRequestsForCommit("acme/api", HEAD)).toEqual([12, 21]);
  });

  it("fails with the status when the project cannot be read", async () => {
    gitlab()
      .get(`${API}/projects/acme%2Fsecret/repository/commits/${HEAD}/merge_requests`)
      .query(true)
      .reply(404, { message: "404 Project Not Found" });
    const { host } = testHost();
    await expect(host.changeRequestsForCommit("acme/secret", HEAD)).rejects.toMatchObject({
      status: 404,
      message: expect.stringContaining("404 Project Not Found"),
    });
  });
});
