import { describe, expect, it } from "vitest";
import { branchProtection } from "../../src/controls/cc8-branch-protection.js";
import type { BranchRule, Repository } from "../../src/model/index.js";
import { cleanBranchRule, makeContext, makeRepository, unknownOf } from "../fixtures/build.js";

function evaluate(overrides: Partial<Repository> = {}, params: Record<string, unknown> = {}) {
  return branchProtection.evaluate(
    makeRepository(overrides),
    makeContext(branchProtection.params.parse(params)),
  );
}

function withRules(...rules: BranchRule[]): Partial<Repository> {
  return { productionBranches: rules.map((rule) => rule.branch), branchRules: { known: true, value: rules } };
}

describe("cc8.branch-protection", () => {
  it("has defaults for every parameter and rejects unknown keys", () => {
    expect(branchProtection.params.parse({})).toEqual({
      required_approvals: 1,
      dismiss_stale_approvals: true,
      require_status_checks: true,
      enforce_admins: true,
      block_force_pushes: true,
      block_deletions: true,
      require_code_owner_review: false,
    });
    expect(() => branchProtection.params.parse({ enforce_admin: true })).toThrow();
  });

  it("passes a production branch protected as the policy asks", () => {
    const results = evaluate();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({
      subject: { kind: "repository", id: "acme/api:main", repository: "acme/api" },
      outcome: "pass",
      reason: "main requires a change request with 1 approval and 1 required check, for admins too.",
    });
    expect(results[0]!.evidence).toContainEqual({ label: "rule sources", value: "branch-protection" });
  });

  it("lists every shortfall in one reason", () => {
    const [result] = evaluate(
      withRules(
        cleanBranchRule({
          requiredApprovals: 0,
          enforceAdmins: false,
          allowForcePushes: true,
          sources: ["ruleset:12"],
        }),
      ),
    );
    expect(result!.outcome).toBe("fail");
    expect(result!.reason).toBe(
      "main falls short of the policy: requires 0 approvals (policy: 1); admins can bypass; force pushes allowed.",
    );
    expect(result!.evidence).toContainEqual({ label: "rule sources", value: "ruleset:12" });
  });

  it("names bypass actors as a way around the rule for admins", () => {
    const [result] = evaluate(withRules(cleanBranchRule({ bypassActors: ["release-bot", "ops-team"] })));
    expect(result).toMatchObject({
      outcome: "fail",
      reason: "main falls short of the policy: bypass allowed for release-bot, ops-team.",
    });
    const [allowed] = evaluate(withRules(cleanBranchRule({ bypassActors: ["release-bot"] })), {
      enforce_admins: false,
    });
    expect(allowed!.outcome).toBe("pass");
  });

  it("is unknown only about admins when the host hid the ruleset's bypass actors", () => {
    const [hidden] = evaluate(withRules(cleanBranchRule({ bypassActorsVisible: false })));
    expect(hidden).toMatchObject({
      outcome: "unknown",
      reason:
        "main meets the policy except that whether its rules apply to admins is unknown: the ruleset's bypass actors are shown only to callers with write access to the rulesets.",
    });
    expect(hidden!.evidence).toContainEqual({
      label: "bypass actors",
      value: "hidden by the host (needs write access to the rulesets)",
    });
    // The rest of the rule still counts: a shortfall elsewhere is a failure.
    const [weak] = evaluate(
      withRules(cleanBranchRule({ bypassActorsVisible: false, allowForcePushes: true })),
    );
    expect(weak!.outcome).toBe("fail");
    const [notAsked] = evaluate(withRules(cleanBranchRule({ bypassActorsVisible: false })), {
      enforce_admins: false,
    });
    expect(notAsked!.outcome).toBe("pass");
  });

  it("checks the remaining settings against the policy", () => {
    const rule = cleanBranchRule({
      dismissStaleApprovals: false,
      requiredStatusChecks: [],
      allowDeletions: true,
    });
    const [result] = evaluate(withRules(rule), { required_approvals: 2, require_code_owner_review: true });
    expect(result!.reason).toBe(
      "main falls short of the policy: requires 1 approval (policy: 2); stale approvals are kept after new pushes; no required status checks; deletion allowed; code owner review not required.",
    );
    const [relaxed] = evaluate(withRules(rule), {
      dismiss_stale_approvals: false,
      require_status_checks: false,
      block_deletions: false,
    });
    expect(relaxed!.outcome).toBe("pass");
  });

  it("fails a production branch without a rule, or whose rule does not require a change request", () => {
    const results = evaluate({
      productionBranches: ["main", "release/1.0"],
      branchRules: { known: true, value: [cleanBranchRule({ requirePullRequest: false })] },
    });
    expect(results.map((result) => [result.subject.id, result.outcome, result.reason])).toEqual([
      ["acme/api:main", "fail", "main is unprotected: changes can land without a change request."],
      [
        "acme/api:release/1.0",
        "fail",
        "release/1.0 is unprotected: changes can land without a change request.",
      ],
    ]);
    expect(results[1]!.evidence).toEqual([{ label: "rule", value: "no rule protects release/1.0" }]);
  });

  it("gives one result per production branch", () => {
    const results = evaluate(
      withRules(cleanBranchRule(), cleanBranchRule({ branch: "release/1.0", allowForcePushes: true })),
    );
    expect(results.map((result) => [result.subject.id, result.outcome])).toEqual([
      ["acme/api:main", "pass"],
      ["acme/api:release/1.0", "fail"],
    ]);
  });

  it("is unknown for each branch when the branch rules cannot be read", () => {
    const results = evaluate({
      productionBranches: ["main", "release/1.0"],
      branchRules: unknownOf("administration:read"),
    });
    expect(results.map((result) => result.outcome)).toEqual(["unknown", "unknown"]);
    expect(results[0]!.reason).toMatch(
      /^Cannot read the protection of main: the token lacks administration:read/,
    );
  });

  it("is unknown when the repository could not be collected", () => {
    const results = evaluate({ collectionError: "404 Not Found" });
    expect(results).toEqual([
      {
        subject: {
          kind: "repository",
          id: "acme/api",
          repository: "acme/api",
          url: "https://github.com/acme/api",
        },
        outcome: "unknown",
        reason: "The repository could not be collected: 404 Not Found",
        evidence: [],
      },
    ]);
  });

  it("does not apply to an archived repository or one without production branches", () => {
    expect(evaluate({ archived: true, branchRules: { known: true, value: [] } })).toMatchObject([
      { outcome: "not-applicable", reason: "The repository is archived: nothing can be pushed to it." },
    ]);
    expect(evaluate({ productionBranches: [] })).toMatchObject([
      { outcome: "not-applicable", reason: "The repository has no production branch under the policy." },
    ]);
  });
});
