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

describe("GitLab listMergedChangeRequests", () => {
  it("follows x-next-page and keeps only the merge requests merged within the period", async () => {
    const listQuery = {
      state: "merged",
      updated_after: "2026-10-01T00:00:00.000Z",
      order_by: "updated_at",
      sort: "asc",
      per_page: "100",
    };
    gitlab()
      .get(`${PROJECT}/merge_requests`)
      .query(listQuery)
      .reply(200, [mergedMr(12, "2026-10-02T15:00:00.000Z")], { "x-next-page": "2", "x-page": "1" })
      .get(`${PROJECT}/merge_requests`)
      .query({ ...listQuery, page: "2" })
      // !9 was updated in the period (a late comment) but merged before it: not in the population.
      .reply(200, [mergedMr(9, "2026-09-20T10:00:00.000Z"), mergedMr(13, "2026-10-20T10:00:00.000Z")], {
        "x-next-page": "",
        "x-page": "2",
      });
    mockProjectOnce();
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
  const commit = fixture<Array<Record<string, unknown>>>("mr-commits")[0]!;
  const direct = "d1d2d3d4d5d6d7d8d9d0e1e2e3e4e5e6e7e8e9e0";
  const fastForwarded = "f1f2f3f4f5f6f7f8f9f0a1a2a3a4a5a6a7a8a9a0";

  it("reports a commit no merge request brought, and not one that a merged MR brought", async () => {
    gitlab()
      .get(`${PROJECT}/members/all`)
      .query(true)
      .reply(200, fixture("project-members"))
      .get(COMMITS)
      .query({
        ref_name: "main",
        since: "2026-10-01T00:00:00.000Z",
        until: "2026-11-01T00:00:00.000Z",
        first_parent: "true",
        per_page: "100",
      })
      .reply(200, [
        // The merge commit of !12: known from the merged population, not asked about again.
        { ...commit, id: MERGE, title: "Merge branch 'feature/rate-limit' into 'main'" },
        // A fast-forward merge: its commit landed as it was; GitLab knows the MR.
        { ...commit, id: fastForwarded, title: "Bump version" },
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
      .get(`${COMMITS}/${fastForwarded}/merge_requests`)
      .reply(200, [{ iid: 14, state: "merged", target_branch: "main" }])
      // The hotfix has an MR, but one that was closed unmerged: it did not bring the commit.
      .get(`${COMMITS}/${direct}/merge_requests`)
      .reply(200, [{ iid: 15, state: "closed", target_branch: "main" }]);

    const { host } = testHost();
    const pushes = await all(host.listDirectPushes("acme/api", "main", PERIOD, new Set([MERGE, HEAD])));

    expect(pushes).toEqual([
      {
        repository: "acme/api",
        branch: "main",
        sha: direct,
        message: "Hotfix: raise pool size\n",
        // Linked through bob's public e-mail among the project members.
        authorLogin: "bob",
        committerLogin: "bob",
        // GitLab's commits API does not say who pushed.
        pushedBy: null,
        at: "2026-10-05T22:10:00.000Z",
        url: `https://gitlab.example.com/acme/api/-/commit/${direct}`,
      } satisfies DirectPush,
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
          },
        ],
      },
      collaborators: skipped,
      teams: skipped,
      deployKeys: skipped,
      collectionError: null,
    });
    expect(host.stats.requests).toBe(11);
  });
});

describe("GitLab changeRequestsForCommit", () => {
  it("names only the open merge requests whose head is the commit", async () => {
    gitlab()
      .get(`${PROJECT}/repository/commits/${HEAD}/merge_requests`)
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
      .reply(404, { message: "404 Project Not Found" });
    const { host } = testHost();
    await expect(host.changeRequestsForCommit("acme/secret", HEAD)).rejects.toMatchObject({
      status: 404,
      message: expect.stringContaining("404 Project Not Found"),
    });
  });
});
