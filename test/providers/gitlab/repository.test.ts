import { describe, expect, it } from "vitest";
import type { Policy } from "../../../src/policy/types.js";
import { API, fixture, gitlab, PROJECT, strictNock, testHost } from "./helpers.js";

strictNock();

const policy = {
  productionBranches: { defaultBranch: true, patterns: ["release/*"] },
} as Pick<Policy, "productionBranches"> as Policy;

const RULE_DEFAULTS = { bypassActorsVisible: true, requiredCheckApps: {}, otherRequirements: [] };

function mockProject(
  protectedStatus = 200,
  answers: { approvalsStatus?: number; deployKeys?: unknown } = {},
): void {
  const scope = gitlab()
    .get(PROJECT)
    .query(true)
    .reply(200, fixture("project"))
    .get(`${PROJECT}/repository/branches`)
    .query(true)
    .reply(200, [{ name: "main" }, { name: "release/1.0" }, { name: "feature/x" }])
    .get(`${PROJECT}/protected_branches`)
    .query(true)
    .reply(
      protectedStatus,
      protectedStatus === 200 ? fixture("protected-branches") : { message: "403 Forbidden" },
    )
    .get(`${PROJECT}/members/all`)
    .query(true)
    .reply(200, fixture("project-members"))
    .get(`${API}/groups/acme/members/all`)
    .query(true)
    .reply(200, fixture("group-members-admin"))
    .get(`${PROJECT}/deploy_keys`)
    .query(true)
    .reply(200, answers.deployKeys ?? fixture("deploy-keys"));
  // The approval settings are read once the protected branches could be.
  if (protectedStatus !== 200) return;
  const status = answers.approvalsStatus ?? 200;
  // GitLab Free/CE has no such routes: Grape's 404.
  const missing = { error: "404 Not Found" };
  scope.get(`${PROJECT}/approvals`).reply(status, status === 200 ? fixture("project-approvals") : missing);
  scope
    .get(`${PROJECT}/approval_rules`)
    .query(true)
    .reply(status, status === 200 ? fixture("approval-rules") : missing);
}

describe("GitLab collectRepository", () => {
  it("maps protected branches, approval settings, members and deploy keys", async () => {
    mockProject();
    const { host } = testHost();
    const repository = await host.collectRepository("acme/api", policy);
    expect(repository).toEqual({
      fullName: "acme/api",
      url: "https://gitlab.example.com/acme/api",
      visibility: "private",
      archived: false,
      defaultBranch: "main",
      productionBranches: ["main", "release/1.0"],
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
            ...RULE_DEFAULTS,
          },
          {
            branch: "release/1.0",
            sources: ["protected-branch:release/*", "approval-settings"],
            requirePullRequest: false,
            requiredApprovals: 0,
            dismissStaleApprovals: true,
            requireCodeOwnerReview: false,
            requireLastPushApproval: true,
            requiredStatusChecks: ["pipeline"],
            enforceAdmins: false,
            allowForcePushes: true,
            allowDeletions: false,
            bypassActors: ["role:Maintainers"],
            ...RULE_DEFAULTS,
          },
        ],
      },
      collaborators: {
        known: true,
        value: [
          { login: "alice", permission: "admin", outside: false },
          { login: "bob", permission: "write", outside: false },
          { login: "erin", permission: "maintain", outside: true },
        ],
      },
      teams: { known: true, value: [{ slug: "acme-audit/auditors", permission: "read" }] },
      deployKeys: {
        known: true,
        value: [
          {
            id: "11",
            title: "ci-deploy",
            readOnly: false,
            createdAt: "2026-02-01T00:00:00.000Z",
            addedBy: null,
          },
          { id: "12", title: "mirror", readOnly: true, createdAt: "2026-02-02T00:00:00.000Z", addedBy: null },
        ],
      },
      collectionError: null,
    });
  });

  it("says branch rules are unknown, naming the Maintainer role, on a 403", async () => {
    mockProject(403);
    const { host } = testHost();
    const repository = await host.collectRepository("acme/api", policy);
    expect(repository.branchRules).toEqual({
      known: false,
      permission: "Maintainer role",
      reason: "403 GitLab GET /projects/acme%2Fapi/protected_branches answered 403: 403 Forbidden",
    });
    expect(repository.collaborators.known).toBe(true);
    expect(host.drainUnreadable()).toEqual([
      {
        subject: "acme/api",
        what: "protected branches",
        permission: "Maintainer role",
        reason: "403 GitLab GET /projects/acme%2Fapi/protected_branches answered 403: 403 Forbidden",
      },
    ]);
  });

  it("says branch rules are unknown on GitLab Free, whose approval settings answer 404, and goes on", async () => {
    mockProject(200, { approvalsStatus: 404 });
    const { host } = testHost();
    const repository = await host.collectRepository("acme/api", policy);
    // How many approvals a branch needs is a Premium fact: never read as "none required".
    expect(repository.branchRules).toEqual({
      known: false,
      permission: "GitLab Premium",
      reason: expect.stringMatching(/^not available on this GitLab edition .*answered 404/),
    });
    expect(repository.collaborators.known).toBe(true);
    expect(repository.deployKeys.known).toBe(true);
    expect(host.drainUnreadable()).toMatchObject([
      { subject: "acme/api", what: "merge request approval settings", permission: "GitLab Premium" },
    ]);
  });

  it("says deploy keys are unknown, not read-only, when GitLab does not show can_push", async () => {
    const oldAnswer = fixture<Array<Record<string, unknown>>>("deploy-keys").map(
      ({ can_push: _canPush, ...key }) => key,
    );
    mockProject(200, { deployKeys: oldAnswer });
    const { host } = testHost();
    const repository = await host.collectRepository("acme/api", policy);
    expect(repository.deployKeys).toEqual({
      known: false,
      permission: "a GitLab version that shows can_push",
      reason: 'GitLab did not say whether "ci-deploy", "mirror" can push (no can_push in the answer)',
    });
  });
});
