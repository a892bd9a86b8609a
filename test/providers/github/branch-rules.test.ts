/**
 * The effective rule read from GitHub's documented answers (@octokit/openapi examples): every
 * requirement beyond pull request, approvals, status checks, force push and deletion is named in
 * otherRequirements, so no control assumes it met.
 */
import { describe, expect, it } from "vitest";
import { documentedExample } from "../../fidelity/openapi.js";
import { github, makePolicy, testHost, useHttpMock } from "./mock.js";

const REPO = {
  full_name: "acme/api",
  html_url: "https://github.com/acme/api",
  private: true,
  visibility: "private",
  archived: false,
  default_branch: "main",
};

function mockEverythingBut(
  rules: unknown,
  protection: [number, unknown] | null,
  rulesets: Record<number, unknown> = {},
) {
  const scope = github()
    .get("/repos/acme/api")
    .reply(200, REPO)
    .get("/repos/acme/api/rules/branches/main")
    .query({ per_page: 100 })
    .reply(200, rules as object)
    .get("/repos/acme/api/collaborators")
    .query({ affiliation: "all", per_page: 100 })
    .reply(200, [])
    .get("/repos/acme/api/collaborators")
    .query({ affiliation: "outside", per_page: 100 })
    .reply(200, [])
    .get("/repos/acme/api/teams")
    .query({ per_page: 100 })
    .reply(200, [])
    .get("/repos/acme/api/keys")
    .query({ per_page: 100 })
    .reply(200, []);
  if (protection) {
    const [status, body] = protection;
    scope.get("/repos/acme/api/branches/main/protection").reply(status, body as object);
  }
  for (const [id, body] of Object.entries(rulesets))
    scope
      .get(`/repos/acme/api/rulesets/${id}`)
      .query({ includes_parents: true })
      .reply(200, body as object);
  return scope;
}

async function ruleOfMain() {
  const repository = await testHost().collectRepository("acme/api", makePolicy());
  if (!repository.branchRules.known) throw new Error("rules unreadable");
  const [rule] = repository.branchRules.value;
  if (!rule) throw new Error("no rule for main");
  return rule;
}

const NOT_PROTECTED: [number, unknown] = [404, { message: "Branch not protected" }];

describe("branch rules from GitHub's documented answers", () => {
  useHttpMock();

  it("names classic protection's linear history, conversation resolution and lock as other requirements", async () => {
    mockEverythingBut([], [200, documentedExample("GET /repos/{owner}/{repo}/branches/{branch}/protection")]);

    const rule = await ruleOfMain();

    expect(rule.requiredStatusChecks).toEqual(["continuous-integration/travis-ci"]);
    expect(rule.requiredCheckApps).toEqual({});
    expect(rule.otherRequirements).toEqual([
      "lock_branch",
      "require_code_owner_review",
      "required_conversation_resolution",
      "required_linear_history",
    ]);
  });

  it("reads classic protection's restrictions (who may push, and so merge) from the documented answer", async () => {
    mockEverythingBut([], [200, documentedExample("GET /repos/{owner}/{repo}/branches/{branch}/protection")]);

    const rule = await ruleOfMain();

    expect(rule.restrictedTo).toEqual(["octocat", "team:justice-league", "app:octoapp"]);
  });

  it("reads checks[].app_id as a pin, and app_id null or -1 as any source", async () => {
    const protection = documentedExample<Record<string, unknown>>(
      "GET /repos/{owner}/{repo}/branches/{branch}/protection",
    );
    protection.required_status_checks = {
      strict: true,
      contexts: ["build", "lint", "legacy"],
      checks: [
        { context: "build", app_id: 15368 },
        { context: "lint", app_id: null },
        { context: "legacy", app_id: -1 },
      ],
    };
    protection.required_signatures = { enabled: true };
    mockEverythingBut([], [200, protection]);

    const rule = await ruleOfMain();

    expect(rule.requiredStatusChecks).toEqual(["build", "lint", "legacy"]);
    expect(rule.requiredCheckApps).toEqual({ build: 15368 });
    expect(rule.otherRequirements).toContain("required_signatures");
  });

  it("names ruleset rules it does not verify (commit patterns, workflows, merge queue, unknown types)", async () => {
    const documented = documentedExample<Array<Record<string, unknown>>>(
      "GET /repos/{owner}/{repo}/rules/branches/{branch}",
    );
    const rules = [
      ...documented,
      { type: "workflows", ruleset_id: 42, parameters: { workflows: [] } },
      { type: "merge_queue", ruleset_id: 42, parameters: {} },
      {
        type: "required_deployments",
        ruleset_id: 42,
        parameters: { required_deployment_environments: ["prod"] },
      },
      { type: "code_scanning", ruleset_id: 73, parameters: { code_scanning_tools: [] } },
      { type: "a_rule_github_adds_next_year", ruleset_id: 73 },
      {
        type: "required_status_checks",
        ruleset_id: 42,
        parameters: {
          strict_required_status_checks_policy: false,
          required_status_checks: [{ context: "ci", integration_id: 15368 }, { context: "docs" }],
        },
      },
    ];
    const ruleset42 = documentedExample<Record<string, unknown>>(
      "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}",
    );
    mockEverythingBut(rules, NOT_PROTECTED, {
      42: ruleset42,
      73: { ...ruleset42, id: 73, bypass_actors: [] },
    });

    const rule = await ruleOfMain();

    expect(rule.sources).toEqual(["ruleset:42", "ruleset:73"]);
    expect(rule.requiredCheckApps).toEqual({ ci: 15368 });
    expect(rule.bypassActors).toEqual(["Team:234"]);
    expect(rule.bypassActorsVisible).toBe(true);
    expect(rule.otherRequirements).toEqual([
      "a_rule_github_adds_next_year",
      "code_scanning",
      "commit_author_email_pattern",
      "commit_message_pattern",
      "merge_queue",
      "required_deployments",
      "workflows",
    ]);
  });

  it("names pull request parameters it does not verify: code owners, thread resolution", async () => {
    mockEverythingBut(
      [
        {
          type: "pull_request",
          ruleset_id: 7,
          parameters: {
            required_approving_review_count: 1,
            dismiss_stale_reviews_on_push: true,
            require_code_owner_review: true,
            require_last_push_approval: true,
            required_review_thread_resolution: true,
          },
        },
      ],
      NOT_PROTECTED,
      { 7: { id: 7, name: "main", source: "acme/api", enforcement: "active", bypass_actors: [] } },
    );

    const rule = await ruleOfMain();

    expect(rule.requireLastPushApproval).toBe(true);
    expect(rule.enforceAdmins).toBe(true);
    // The last-push approval is verified from the reviews and pushes (bypass.ts); these are not.
    expect(rule.otherRequirements).toEqual([
      "require_code_owner_review",
      "required_review_thread_resolution",
    ]);
  });

  it("does not take two sources pinning one check to different apps as met by either", async () => {
    const protection = documentedExample<Record<string, unknown>>(
      "GET /repos/{owner}/{repo}/branches/{branch}/protection",
    );
    protection.required_status_checks = {
      strict: false,
      contexts: ["ci"],
      checks: [{ context: "ci", app_id: 1 }],
    };
    delete protection.required_linear_history;
    delete protection.required_conversation_resolution;
    delete protection.lock_branch;
    mockEverythingBut(
      [
        {
          type: "required_status_checks",
          ruleset_id: 5,
          parameters: {
            strict_required_status_checks_policy: false,
            required_status_checks: [{ context: "ci", integration_id: 2 }],
          },
        },
      ],
      [200, protection],
      { 5: { id: 5, name: "ci", source: "acme/api", enforcement: "active", bypass_actors: [] } },
    );

    const rule = await ruleOfMain();

    expect(rule.otherRequirements).toEqual([
      "require_code_owner_review",
      "required_status_checks pinned to several apps: ci",
    ]);
  });

  it("names 'branches up to date before merging' as a requirement it does not verify, classic or ruleset", async () => {
    // GitHub's documented protection example, with the "up to date" setting (`strict`) on and off.
    const documented = documentedExample<{ required_status_checks: Record<string, unknown> }>(
      "GET /repos/{owner}/{repo}/branches/{branch}/protection",
    );
    const strict = structuredClone(documented);
    strict.required_status_checks.strict = true;
    mockEverythingBut([], [200, strict], {});
    expect((await ruleOfMain()).otherRequirements).toContain("required_status_checks_up_to_date");

    const notStrict = structuredClone(documented);
    notStrict.required_status_checks.strict = false;
    mockEverythingBut(
      [
        {
          type: "required_status_checks",
          ruleset_id: 5,
          parameters: {
            strict_required_status_checks_policy: true,
            required_status_checks: [{ context: "ci" }],
          },
        },
      ],
      [200, notStrict],
      { 5: { id: 5, name: "ci", source: "acme/api", enforcement: "active", bypass_actors: [] } },
    );
    expect((await ruleOfMain()).otherRequirements).toContain("required_status_checks_up_to_date");

    mockEverythingBut([], [200, notStrict], {});
    expect((await ruleOfMain()).otherRequirements).not.toContain("required_status_checks_up_to_date");
  });

  it("is unknown naming the rule, not a permission, when GitHub sends a rule without its documented parameters", async () => {
    // Protection is not even asked: the rule is already unknown.
    mockEverythingBut([{ type: "pull_request", ruleset_id: 42 }], null, {
      42: { id: 42, name: "main", source: "acme/api", enforcement: "active", bypass_actors: [] },
    });

    const repository = await testHost().collectRepository("acme/api", makePolicy());

    expect(repository.collectionError).toBeNull();
    expect(repository.branchRules).toMatchObject({
      known: false,
      permission: expect.stringMatching(/^a well-formed answer from GitHub/),
      reason: expect.stringContaining("rule pull_request of ruleset 42"),
    });
  });
});
