import { describe, expect, it } from "vitest";
import { requiredChecks } from "../../src/controls/cc8-required-checks.js";
import type { ChangeRequest, Check, Repository } from "../../src/model/index.js";
import {
  ACTIONS_APP,
  cleanBranchRule,
  makeChangeRequest,
  makeCheck,
  makeContext,
  makeRepository,
  unknownOf,
  type ChangeRequestOverrides,
} from "../fixtures/build.js";

const HEAD = "h".repeat(40);
const MERGE = "m".repeat(40);
const OPEN = {
  state: "open",
  mergedAt: null,
  mergedBy: null,
  mergeCommitSha: null,
} satisfies Partial<ChangeRequest>;

function evaluate(
  overrides: ChangeRequestOverrides = {},
  params: Record<string, unknown> = {},
  /** null: the repository's facts were not collected. */
  repository: Repository | null = makeRepository(),
) {
  const results = requiredChecks.evaluate(
    { changeRequest: makeChangeRequest(overrides), repository: repository ?? undefined },
    makeContext(requiredChecks.params.parse(params)),
  );
  expect(results).toHaveLength(1);
  return results[0]!;
}

function check(name: string, conclusion: Check["conclusion"], on: Check["on"] = "head", sha = HEAD): Check {
  return makeCheck({
    name,
    kind: "check-run",
    conclusion,
    on,
    sha,
    url: `https://github.com/acme/api/runs/${name}-${on}`,
    completedAt: conclusion === "pending" ? null : "2026-10-01T09:10:00Z",
  });
}

/** A commit status of that name, posted by `by` (anyone with write access can post one). */
function status(
  name: string,
  conclusion: Check["conclusion"],
  by: string,
  on: Check["on"] = "head",
  sha = HEAD,
): Check {
  return makeCheck({
    ...check(name, conclusion, on, sha),
    kind: "status",
    appId: null,
    appSlug: null,
    reportedBy: by,
  });
}

function repositoryRequiring(...names: string[]): Repository {
  return makeRepository({
    branchRules: { known: true, value: [cleanBranchRule({ requiredStatusChecks: names })] },
  });
}

describe("cc8.required-checks", () => {
  it("has defaults for every parameter and rejects unknown keys", () => {
    expect(requiredChecks.params.parse({})).toEqual({ checks: [], require_at_least_one: true });
    expect(() => requiredChecks.params.parse({ check: ["ci"] })).toThrow();
  });

  it("passes when the branch rule's required check succeeded on the head", () => {
    const result = evaluate();
    expect(result).toMatchObject({
      outcome: "pass",
      reason: "Required checks succeeded on the merged code: ci/test.",
    });
    expect(result.evidence).toContainEqual({
      label: "required check",
      value: `ci/test: success on head ${HEAD} (check-run, reported by app github-actions (id 15368))`,
      url: "https://github.com/acme/api/runs/1",
      at: "2026-10-01T09:10:00Z",
    });
    expect(result.evidence).toContainEqual({
      label: "branch rule",
      value: "main requires [ci/test] (branch-protection)",
    });
  });

  it("adds the policy's checks to the branch rule's and fails a missing one", () => {
    const result = evaluate({}, { checks: ["ci/lint"] });
    expect(result.outcome).toBe("fail");
    expect(result.reason).toBe("Required checks did not succeed: ci/lint missing.");
  });

  it("fails a neutral or skipped required check, naming the conclusion", () => {
    const result = evaluate(
      { checks: [check("ci/test", "neutral"), check("ci/lint", "skipped")] },
      {},
      repositoryRequiring("ci/test", "ci/lint"),
    );
    expect(result.outcome).toBe("fail");
    expect(result.reason).toBe(
      "Required checks did not succeed: ci/test neutral on the final head; ci/lint skipped on the final head.",
    );
  });

  it("fails cancelled and stale checks too: only success passes", () => {
    for (const conclusion of ["cancelled", "stale", "action_required", "pending"] as const) {
      expect(evaluate({ checks: [check("ci/test", conclusion)] }).reason).toBe(
        `Required checks did not succeed: ci/test ${conclusion} on the final head.`,
      );
    }
  });

  it("fails a failure on the merge commit even when the head was green", () => {
    const result = evaluate({
      checks: [check("ci/test", "success"), check("ci/test", "failure", "merge", MERGE)],
    });
    expect(result).toMatchObject({
      outcome: "fail",
      reason: "Required checks did not succeed: ci/test failure on the merge commit.",
    });
  });

  it("does not let a green run on the merge commit cure a failure on the final head; both are shown", () => {
    const result = evaluate({
      checks: [check("ci/test", "failure"), check("ci/test", "success", "merge", MERGE)],
    });
    expect(result).toMatchObject({
      outcome: "fail",
      reason: "Required checks did not succeed: ci/test failure on the final head.",
    });
    expect(result.evidence).toContainEqual(
      expect.objectContaining({ value: expect.stringMatching(/^ci\/test: failure on head h+ /) }),
    );
    expect(result.evidence).toContainEqual(
      expect.objectContaining({ value: expect.stringMatching(/^ci\/test: success on merge commit m+ /) }),
    );
  });

  it("passes a check that ran only on the merge commit (a merge queue's commit)", () => {
    const result = evaluate({ mergedByQueue: true, checks: [check("ci/test", "success", "merge", MERGE)] });
    expect(result.outcome).toBe("pass");
    expect(result.evidence).toContainEqual({
      label: "merge queue",
      value: `merged by the merge queue: its commit ${MERGE} is the merge commit judged`,
    });
    expect(result.evidence).toContainEqual(
      expect.objectContaining({
        value: `ci/test: success on merge commit ${MERGE} (check-run, reported by app github-actions (id 15368))`,
      }),
    );
  });

  it("is waiting, not failed, while the merge commit's run is still going after a green head", () => {
    const result = evaluate({
      checks: [check("ci/test", "success"), check("ci/test", "pending", "merge", MERGE)],
    });
    expect(result).toMatchObject({ outcome: "unknown", reason: "Waiting for ci/test on the merge commit." });
  });

  describe("provenance", () => {
    const pinned = makeRepository({
      branchRules: {
        known: true,
        value: [cleanBranchRule({ requiredCheckApps: { "ci/test": ACTIONS_APP.appId } })],
      },
    });

    it("accepts a pinned check only from its app, naming the pin", () => {
      const result = evaluate({}, {}, pinned);
      expect(result.outcome).toBe("pass");
      expect(result.evidence).toContainEqual({
        label: "pinned check",
        value: "ci/test must be reported by the GitHub App with id 15368",
      });
    });

    it("does not let a commit status of the same name satisfy a pinned check", () => {
      const result = evaluate({ checks: [status("ci/test", "success", "mallory")] }, {}, pinned);
      expect(result).toMatchObject({
        outcome: "fail",
        reason:
          "Required checks did not succeed: ci/test was reported only by a commit status posted by mallory, not by the GitHub App the rule pins it to (id 15368).",
      });
      expect(result.evidence).toContainEqual(
        expect.objectContaining({
          label: "check not accepted",
          value: expect.stringContaining("not counted: the rule pins ci/test to app id 15368"),
        }),
      );
    });

    it("does not let another app's run satisfy a pinned check", () => {
      const other = { ...check("ci/test", "success"), appId: 999, appSlug: "homemade-ci" };
      const result = evaluate({ checks: [other] }, {}, pinned);
      expect(result.reason).toBe(
        "Required checks did not succeed: ci/test was reported only by app homemade-ci (id 999), not by the GitHub App the rule pins it to (id 15368).",
      );
    });

    it("ignores another source's result beside the pinned app's: the app's run decides", () => {
      const result = evaluate(
        { checks: [check("ci/test", "success"), status("ci/test", "failure", "mallory")] },
        {},
        pinned,
      );
      expect(result.outcome).toBe("pass");
      const failing = evaluate(
        { checks: [check("ci/test", "failure"), status("ci/test", "success", "mallory")] },
        {},
        pinned,
      );
      expect(failing.outcome).toBe("fail");
    });

    it("does not let a later commit status of the same name cure an unpinned check run's failure: GitHub requires both", () => {
      const forged = { ...status("ci/test", "success", "mallory"), completedAt: "2026-10-01T10:00:00Z" };
      const result = evaluate({ checks: [check("ci/test", "failure"), forged] });
      expect(result.outcome).toBe("fail");
      expect(result.reason).toBe("Required checks did not succeed: ci/test failure on the final head.");
      // Both results are in the evidence.
      expect(result.evidence).toContainEqual(
        expect.objectContaining({ value: expect.stringContaining("success on head") }),
      );
      expect(result.evidence).toContainEqual(
        expect.objectContaining({ value: expect.stringContaining("failure on head") }),
      );
      // Nor another app's later green run of the same name, on the merge commit either.
      const imitation = { ...check("ci/test", "success", "merge", MERGE), appId: 999, appSlug: "imitation" };
      const onMerge = evaluate({
        checks: [check("ci/test", "success"), check("ci/test", "failure", "merge", MERGE), imitation],
      });
      expect(onMerge.outcome).toBe("fail");
      // A re-run by the same source still replaces its earlier run.
      const rerun = { ...check("ci/test", "success"), completedAt: "2026-10-01T10:00:00Z" };
      expect(evaluate({ checks: [check("ci/test", "failure"), rerun, forged] }).outcome).toBe("pass");
    });

    it("says which user posted an unpinned status that decided", () => {
      const result = evaluate({ checks: [status("ci/test", "success", "jenkins-bot")] });
      expect(result.outcome).toBe("pass");
      expect(result.evidence).toContainEqual(
        expect.objectContaining({
          value: `ci/test: success on head ${HEAD} (status, reported by a commit status posted by jenkins-bot)`,
        }),
      );
    });
  });

  it("names who ran a pipeline that decided (GitLab pins no source)", () => {
    const pipeline = {
      ...check("pipeline", "success"),
      kind: "pipeline" as const,
      appId: null,
      appSlug: null,
    };
    const result = evaluate(
      { checks: [{ ...pipeline, reportedBy: "alice" }] },
      {},
      repositoryRequiring("pipeline"),
    );
    expect(result.outcome).toBe("pass");
    expect(result.evidence).toContainEqual(
      expect.objectContaining({
        value: `pipeline: success on head ${HEAD} (pipeline, reported by the pipeline run by alice)`,
      }),
    );
  });

  it("is unknown, never a pass, when the host returned only part of the checks", () => {
    const result = evaluate({ truncated: ["checks"] });
    expect(result.outcome).toBe("unknown");
    expect(result.reason).toBe(
      "The host returned only part of the checks, so the required checks cannot be confirmed.",
    );
    expect(result.evidence).toContainEqual({ label: "checks", value: "1 listed (truncated by the host)" });
    expect(evaluate({ truncated: ["checks"], checks: [] }).reason).toBe(
      "The host returned only part of the checks, so the required checks cannot be confirmed (among those returned: ci/test missing).",
    );
  });

  it("does not accept a success on an earlier commit", () => {
    const result = evaluate({ checks: [check("ci/test", "success", "head", "a".repeat(40))] });
    expect(result.outcome).toBe("fail");
    expect(result.reason).toBe(
      "Required checks did not succeed: ci/test ran only on aaaaaaa, not the merged code.",
    );
  });

  it("takes the latest of several runs of the same check", () => {
    const rerun = { ...check("ci/test", "success"), completedAt: "2026-10-01T10:00:00Z" };
    expect(evaluate({ checks: [rerun, check("ci/test", "failure")] }).outcome).toBe("pass");
    const brokenRerun = { ...check("ci/test", "failure"), completedAt: "2026-10-01T10:00:00Z" };
    expect(evaluate({ checks: [check("ci/test", "success"), brokenRerun] }).outcome).toBe("fail");
    // A re-run still going after the merge does not hide the completed result.
    expect(evaluate({ checks: [check("ci/test", "pending"), rerun] }).outcome).toBe("pass");
    // Two results completed at the same second: the failure wins, whatever the host's order.
    expect(evaluate({ checks: [check("ci/test", "success"), check("ci/test", "failure")] }).outcome).toBe(
      "fail",
    );
  });

  it("fails when nothing is required: the change is not shown to be tested", () => {
    const result = evaluate({}, {}, repositoryRequiring());
    expect(result).toMatchObject({
      outcome: "fail",
      reason: "No required checks: the change is not shown to be tested.",
    });
    const noRule = evaluate({}, {}, makeRepository({ branchRules: { known: true, value: [] } }));
    expect(noRule.outcome).toBe("fail");
    expect(noRule.evidence).toContainEqual({ label: "branch rule", value: "main has no rule" });
  });

  it("does not apply when nothing is required and the policy does not ask for a check", () => {
    expect(evaluate({}, { require_at_least_one: false }, repositoryRequiring()).outcome).toBe(
      "not-applicable",
    );
  });

  it("is unknown when the branch rules cannot be read and the policy names no check", () => {
    const unreadable = makeRepository({ branchRules: unknownOf("administration:read") });
    const result = evaluate({}, {}, unreadable);
    expect(result.outcome).toBe("unknown");
    expect(result.reason).toMatch(
      /^Cannot read the branch rules of acme\/api: the token lacks administration:read/,
    );
    expect(evaluate({}, { checks: ["ci/test"] }, unreadable).outcome).toBe("pass");
  });

  it("is unknown without repository facts unless the policy names the checks", () => {
    const result = evaluate({}, {}, null);
    expect(result.outcome).toBe("unknown");
    expect(result.reason).toMatch(/was not collected/);
    expect(evaluate({}, { checks: ["ci/test"] }, null).outcome).toBe("pass");
  });

  describe("an open change request", () => {
    it("is waiting (unknown) while a required check is pending or has not started", () => {
      const result = evaluate({ ...OPEN, checks: [check("ci/test", "pending")] }, { checks: ["ci/e2e"] });
      expect(result).toMatchObject({ outcome: "unknown", reason: "Waiting for ci/test, ci/e2e." });
    });

    it("fails as soon as a required check failed, even while others are pending", () => {
      const result = evaluate({ ...OPEN, checks: [check("ci/test", "failure")] }, { checks: ["ci/e2e"] });
      expect(result).toMatchObject({
        outcome: "fail",
        reason: "Required checks did not succeed: ci/test failure on the final head.",
      });
    });

    it("is waiting while a re-run of a failed check is going", () => {
      const rerun = { ...check("ci/test", "pending"), completedAt: null };
      expect(evaluate({ ...OPEN, checks: [check("ci/test", "failure"), rerun] }).outcome).toBe("unknown");
    });

    it("passes once every required check succeeded on the head", () => {
      expect(evaluate(OPEN)).toMatchObject({
        outcome: "pass",
        reason: "Required checks succeeded on the final head: ci/test.",
      });
    });
  });

  it("does not apply to a change closed without merging or to a non-production base", () => {
    expect(evaluate({ state: "closed", mergedAt: null, mergedBy: null, mergeCommitSha: null }).outcome).toBe(
      "not-applicable",
    );
    expect(evaluate({ baseBranch: "develop", checks: [] }).outcome).toBe("not-applicable");
  });
});
