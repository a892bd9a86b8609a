import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { createGitLabWebhookHandler } from "../../../src/app/gitlab-webhook.js";
import { deployKeyWrite } from "../../../src/controls/cc6-deploy-key-write.js";
import type { Policy } from "../../../src/policy/types.js";
import { makeContext } from "../../fixtures/build.js";
import { API, gitlab, strictNock, testHost } from "./helpers.js";

/**
 * Fidelity: every example GitLab documents for an endpoint or webhook the GitLab side reads
 * (/work/shared/fixtures/gitlab-docs, copied from gitlabhq's doc/api and webhook docs) is served at
 * its documented path and fed through the real provider or webhook endpoint. Each test asserts the
 * facts it becomes, or the clear unknown it gives when the example lacks what a fact needs. Where a
 * read needs an answer GitLab documents no example of (the project, its members, users), the test
 * says so and gives the smallest answer; every documented example is used as published.
 */

strictNock();

const DOCS = "/work/shared/fixtures/gitlab-docs";
function documented<T = object>(name: string): T {
  return JSON.parse(readFileSync(`${DOCS}/${name}.json`, "utf8")) as T;
}

const PROJECT = `${API}/projects/my-group%2Fmy-project`;
const MR = `${PROJECT}/merge_requests/1`;

/** Not a documented example: the project fields the provider reads, with "pipelines must succeed". */
const project = {
  id: 3,
  path_with_namespace: "my-group/my-project",
  web_url: "https://gitlab.example.com/my-group/my-project",
  visibility: "private",
  archived: false,
  default_branch: "main",
  only_allow_merge_if_pipeline_succeeds: true,
  allow_merge_on_skipped_pipeline: false,
  shared_with_groups: [],
};

describe("GitLab's documented merge request examples through collectChangeRequest", () => {
  /** The documented single MR, commits, notes, versions, approvals and approval state. */
  function mockMergeRequest(mergeRequest: Record<string, unknown>, headPipelines: object): void {
    gitlab()
      .get(MR)
      .reply(200, mergeRequest)
      .get(`${MR}/commits`)
      .query(true)
      .reply(200, documented("mr-commits"))
      .get(`${MR}/notes`)
      .query(true)
      .reply(200, documented("notes"))
      .get(`${MR}/versions`)
      .query(true)
      .reply(200, documented("versions"))
      .get(`${MR}/approvals`)
      .reply(200, documented("mr-approvals"))
      .get(`${MR}/approval_state`)
      .reply(200, documented("mr-approval-state"))
      // No documented example: members the token cannot read, and an author whose account is gone.
      .get(`${PROJECT}/members/all`)
      .query(true)
      .reply(403, { message: "403 Forbidden" })
      .get(`${API}/users/1`)
      .reply(404, { message: "404 User Not Found" })
      .get(`${PROJECT}/pipelines`)
      .query((query) => query.sha === mergeRequest.sha)
      .reply(200, headPipelines)
      .get(PROJECT)
      .query(true)
      .reply(200, project);
  }

  it("reads mr-single, mr-commits, notes, versions, mr-approvals and mr-approval-state into facts", async () => {
    mockMergeRequest(documented("mr-single"), documented("pipelines"));
    const { host } = testHost();
    const change = await host.collectChangeRequest("my-group/my-project", 1);

    expect(change).toMatchObject({
      number: 1,
      title: "test1",
      author: "admin",
      // GET /users/1 answered 404: what kind of account it was, GitLab does not say.
      authorKind: "unknown",
      state: "merged",
      baseBranch: "master",
      headBranch: "test1",
      headSha: "8888888888888888888888888888888888888888",
      // No merge or squash commit: a fast-forward merge landed the head itself.
      mergeCommitSha: "8888888888888888888888888888888888888888",
      createdAt: "2017-04-29T08:46:00.000Z",
      mergedAt: "2018-09-07T11:16:17.520Z",
      // merge_user is absent from this (older) example: merged_by names who merged.
      mergedBy: "DouweM",
      commitsTruncated: false,
      truncated: [],
    });
    // The example's commits show only created_at (GitLab's committed date), and an e-mail no
    // account is known by: unattributed, and so of unknown kind, never taken for a person.
    expect(change.commits).toEqual(
      documented<Array<{ id: string; created_at: string }>>("mr-commits").map((commit) => ({
        sha: commit.id,
        authorLogin: null,
        authorName: "Example User",
        authorEmail: "user@example.com",
        authorKind: "unknown",
        committerLogin: null,
        committerKind: "unknown",
        coAuthors: [],
        authoredAt: new Date(commit.created_at).toISOString(),
        committedAt: new Date(commit.created_at).toISOString(),
      })),
    );
    // Each diff version is a push; no "added N commits" note says who pushed.
    expect(change.pushes).toEqual([
      {
        at: "2016-07-25T14:21:33.028Z",
        actor: null,
        headSha: "3eed087b29835c48015768f839d76e5ea8f07a24",
        forced: false,
      },
      {
        at: "2016-07-26T14:44:48.926Z",
        actor: null,
        headSha: "33e2ee8579fda5bc36accc9c6fbd0b4fefda9e30",
        forced: false,
      },
    ]);
    // root's approval has no approved_at and no note: dated at the MR's creation, the earliest
    // time possible; whether root could push is unknown (members unreadable).
    expect(change.reviews).toEqual([
      {
        reviewer: "root",
        reviewerKind: "unknown",
        authorCanPush: null,
        state: "approved",
        submittedAt: "2017-04-29T08:46:00.000Z",
        commitSha: null,
      },
    ]);
    // The example's `pipeline` ran on another sha than the MR's head, and the documented pipelines
    // list holds none of the head either: no pipeline is taken for the head's.
    expect(change.checks).toEqual([]);
    // The approval rule is satisfied, but "pipelines must succeed" and no pipeline of the head:
    // unknown, never "no bypass".
    expect(change.bypassedProtection).toEqual({
      known: false,
      permission: "Reporter role",
      reason:
        "pipelines must succeed, but GitLab shows no pipeline for the head 8888888888888888888888888888888888888888",
    });
  });

  it("reads the documented pipelines list: pending pipeline, no user in the list", async () => {
    const [first] = documented<Array<{ sha: string }>>("pipelines");
    // The documented MR, on the commit of the documented pipeline 47.
    mockMergeRequest(
      { ...documented<Record<string, unknown>>("mr-single"), sha: first!.sha },
      documented("pipelines"),
    );
    const { host } = testHost();
    const change = await host.collectChangeRequest("my-group/my-project", 1);
    expect(change.checks).toEqual(
      ["head", "merge"].map((on) => ({
        name: "pipeline",
        kind: "pipeline",
        conclusion: "pending",
        on,
        sha: "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
        url: "https://example.com/foo/bar/pipelines/47",
        completedAt: null,
        appId: null,
        appSlug: null,
        reportedBy: null,
      })),
    );
    // The required pipeline is not green (pending) on the merged head: counted as merged past it.
    expect(change.bypassedProtection).toEqual({ known: true, value: true });
  });
});

describe("GitLab's documented project examples through collectRepository", () => {
  const policy = {
    productionBranches: { defaultBranch: true, patterns: ["release/*"] },
  } as Pick<Policy, "productionBranches"> as Policy;

  function mockRepository(deployKeys: object): void {
    gitlab()
      .get(PROJECT)
      .query(true)
      .reply(200, project)
      // Not documented here: the branches and members (the documented protected branches name them).
      .get(`${PROJECT}/repository/branches`)
      .query(true)
      .reply(200, [{ name: "main" }, { name: "release/2.0" }])
      .get(`${PROJECT}/members/all`)
      .query(true)
      .reply(200, [])
      .get(`${API}/groups/my-group/members/all`)
      .query(true)
      .reply(200, [])
      .get(`${PROJECT}/protected_branches`)
      .query(true)
      .reply(200, documented("protected-branches"))
      .get(`${PROJECT}/approvals`)
      .reply(200, documented("project-approvals"))
      .get(`${PROJECT}/approval_rules`)
      .query(true)
      .reply(200, documented("approval-rules"))
      .get(`${PROJECT}/deploy_keys`)
      .query(true)
      .reply(200, deployKeys);
  }

  it("reads protected-branches, project-approvals, approval-rules and deploy-keys into branch rules and keys", async () => {
    mockRepository(documented("deploy-keys"));
    const { host } = testHost();
    const repository = await host.collectRepository("my-group/my-project", policy);
    const common = {
      dismissStaleApprovals: true,
      requireCodeOwnerReview: false,
      // merge_requests_disable_committers_approval: false
      requireLastPushApproval: false,
      requiredStatusChecks: ["pipeline"],
      allowForcePushes: false,
      allowDeletions: false,
      bypassActorsVisible: true,
      requiredCheckApps: {},
      otherRequirements: [],
    };
    expect(repository.branchRules).toEqual({
      known: true,
      value: [
        {
          branch: "main",
          // The "security" rule applies to main only: 3 approvals, more than approvals_before_merge.
          sources: ["protected-branch:main", "approval-settings", "approval-rule:1"],
          // Maintainers and deploy key 1 may push: no merge request is required of them.
          requirePullRequest: false,
          requiredApprovals: 3,
          enforceAdmins: false,
          bypassActors: ["role:Maintainers", "deploy-key:1"],
          ...common,
        },
        {
          branch: "release/2.0",
          sources: ["protected-branch:release/*", "approval-settings"],
          requirePullRequest: false,
          requiredApprovals: 2,
          enforceAdmins: false,
          bypassActors: ["role:Maintainers"],
          ...common,
        },
      ],
    });
    expect(repository.deployKeys).toEqual({
      known: true,
      value: [
        {
          id: "1",
          title: "Public key",
          readOnly: true,
          createdAt: "2013-10-02T10:12:29.000Z",
          addedBy: null,
        },
      ],
    });
  });

  it("reads deploy-keys-v3 (no can_push) as unknown, and cc6.deploy-key-write answers unknown, not pass", async () => {
    mockRepository(documented("deploy-keys-v3"));
    const { host } = testHost();
    const repository = await host.collectRepository("my-group/my-project", policy);
    expect(repository.deployKeys).toEqual({
      known: false,
      permission: "a GitLab version that shows can_push",
      reason:
        'GitLab did not say whether "Public key", "Another Public key" can push (no can_push in the answer)',
    });
    const results = deployKeyWrite.evaluate(repository, makeContext(deployKeyWrite.params.parse({})));
    expect(results.map((result) => result.outcome)).toEqual(["unknown"]);
  });
});

describe("GitLab's documented group examples through collectOrganization", () => {
  function mockGroup(invitations: object): void {
    gitlab()
      .get(`${API}/groups/twitter`)
      .reply(200, documented("group"))
      // Not documented here: the members and projects.
      .get(`${API}/groups/twitter/members/all`)
      .query(true)
      .reply(200, [])
      .get(`${API}/groups/twitter/invitations`)
      .query(true)
      .reply(200, invitations)
      .get(`${API}/groups/twitter/projects`)
      .query(true)
      .reply(200, []);
  }

  it.each([
    ["invitations", "created_at"],
    ["invitations-old", "invited_at (older GitLab)"],
  ])("reads group and %s (%s) into the organization", async (name) => {
    mockGroup(documented(name));
    const { host } = testHost();
    const organization = await host.collectOrganization("twitter");
    expect(organization).toMatchObject({
      login: "twitter",
      url: "https://gitlab.example.com/groups/twitter",
      // Public group: every signed-in user can read its projects.
      basePermission: { known: true, value: "read" },
      // The example does not show require_two_factor_authentication: unknown, naming the role.
      twoFactorRequired: { known: false, permission: "Owner role" },
      invitations: {
        known: true,
        value: [
          {
            login: null,
            email: "member@example.org",
            role: "developer",
            invitedAt: "2020-10-22T14:13:35.000Z",
            inviter: name === "invitations" ? "Administrator" : null,
          },
        ],
      },
    });
  });
});

describe("GitLab's documented webhook examples through the webhook endpoint", () => {
  async function deliver(name: string, event: string) {
    const onMergeRequest = vi.fn();
    const onPipeline = vi.fn();
    const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const handle = createGitLabWebhookHandler({ secret: "s3cret", onMergeRequest, onPipeline, log });
    const settled: Promise<void>[] = [];
    const server = createServer((req, res) => void settled.push(handle(req, res)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, {
        method: "POST",
        body: readFileSync(`${DOCS}/${name}.json`, "utf8"),
        headers: { "content-type": "application/json", "x-gitlab-token": "s3cret", "x-gitlab-event": event },
      });
      await response.text();
      await Promise.all(settled);
      return { status: response.status, onMergeRequest, onPipeline };
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it("reads hook-merge-request into a merge request event", async () => {
    const { status, onMergeRequest } = await deliver("hook-merge-request", "Merge Request Hook");
    expect(status).toBe(202);
    expect(onMergeRequest.mock.calls).toEqual([
      [
        {
          project: "gitlabhq/gitlab-test",
          iid: 1,
          action: "open",
          state: "opened",
          headSha: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
          targetBranch: "master",
          sourceBranch: "ms-viewport",
          url: "http://example.com/diaspora/merge_requests/1",
          actor: "root",
        },
      ],
    ]);
  });

  it("reads hook-pipeline into a pipeline event naming its merge request", async () => {
    const { status, onPipeline } = await deliver("hook-pipeline", "Pipeline Hook");
    expect(status).toBe(202);
    expect(onPipeline.mock.calls).toEqual([
      [
        {
          project: "gitlab-org/gitlab-test",
          pipelineId: 31,
          sha: "bcbb5ec396a2c0f828686f14fac9b80b780504f2",
          ref: "master",
          status: "success",
          // The merge request is found by its iid, not by the sha (merged-results pipelines).
          mergeRequestIid: 1,
          mergeRequestState: "opened",
          mergeRequestSourceBranch: "test",
          source: "merge_request_event",
          jobNames: ["production", "test-image", "test-build"],
        },
      ],
    ]);
  });
});
