/**
 * judgeAsOfMerge: which required checks a merged change still waits for on its merge commit, and
 * what its cc8.required-checks result says while it waits and once the bounded wait is over.
 */
import { describe, expect, it } from "vitest";
import { CONTROLS } from "../../src/controls/index.js";
import type { Result } from "../../src/controls/types.js";
import type { ChangeRequest } from "../../src/model/index.js";
import {
  awaitedOnMergeCommit,
  judgeAsOfMerge,
  judgeMergesAsOf,
  MERGE_COMMIT_CHECKS_WAIT_MS,
} from "../../src/pipeline/change-check.js";
import { loadDefaultPolicyLayer, parsePolicyLayer, resolvePolicy } from "../../src/policy/index.js";
import type { Policy } from "../../src/policy/types.js";
import {
  cleanBranchRule,
  makeChangeRequest,
  makeRepository,
  type CheckOverrides,
} from "../fixtures/build.js";

const HEAD = "h".repeat(40);
const MERGE = "m".repeat(40);
const MERGED_AT = Date.parse("2026-10-02T15:00:00Z");
const SOON = new Date(MERGED_AT + 60_000);
const AFTER_WAIT = new Date(MERGED_AT + MERGE_COMMIT_CHECKS_WAIT_MS);

function policy(yaml?: string): Policy {
  const layers = [loadDefaultPolicyLayer(CONTROLS)];
  if (yaml) layers.push(parsePolicyLayer(yaml, "acme/.github:.github/soc2.yml", CONTROLS));
  return resolvePolicy(layers, CONTROLS);
}

function run(on: "head" | "merge", conclusion: string, completedAt: string | null): CheckOverrides {
  return {
    name: "ci/test",
    kind: "check-run",
    conclusion: conclusion as CheckOverrides["conclusion"],
    on,
    sha: on === "head" ? HEAD : MERGE,
    url: null,
    completedAt,
  };
}

const GREEN_HEAD = run("head", "success", "2026-10-01T09:10:00Z");

function result(
  control: string,
  outcome: Result["outcome"],
  reason: string,
  subjectId = "acme/api#12",
): Result {
  return {
    control,
    criterion: "CC8.1",
    title: control,
    subject: { kind: "change-request", id: subjectId, repository: "acme/api", number: 12 },
    outcome,
    reason,
    evidence: [{ label: "required check", value: "ci/test" }],
    ...(outcome === "fail" || outcome === "unknown" ? { remediation: "Fix or re-run." } : {}),
  };
}

/** The results the controls gave; the hold touches cc8.required-checks only. */
function outcomeOf(changeRequest: ChangeRequest, requiredChecks: Result, p: Policy = policy()) {
  return {
    changeRequest,
    repository: makeRepository(),
    policy: p,
    results: [
      result("cc8.independent-approval", "fail", "0 independent approvals, 1 required."),
      requiredChecks,
      result("cc8.no-bypass", "pass", "Merged with protection enforced."),
    ],
  };
}

describe("awaitedOnMergeCommit", () => {
  it("waits for a required check whose latest run on the merge commit is still running, even after a completed one (a re-run)", () => {
    const change = makeChangeRequest({
      checks: [GREEN_HEAD, run("merge", "failure", "2026-10-02T15:05:00Z"), run("merge", "pending", null)],
    });
    expect(awaitedOnMergeCommit(change, makeRepository(), policy())).toEqual([
      { name: "ci/test", state: "pending" },
    ]);
  });

  it("waits for a required check that reported nothing yet, on the merge commit or the final head", () => {
    const change = makeChangeRequest({ checks: [run("head", "pending", null)] });
    expect(awaitedOnMergeCommit(change, makeRepository(), policy())).toEqual([
      { name: "ci/test", state: "not reported" },
    ]);
  });

  it("does not wait when the check completed on the merge commit, or completed on the head and nothing runs on the merge commit", () => {
    const completedOnMerge = makeChangeRequest({
      checks: [run("merge", "failure", "2026-10-02T15:05:00Z")],
    });
    // Many repositories run no CI on the base branch: a completed head run is what there is.
    const completedOnHead = makeChangeRequest({ checks: [GREEN_HEAD] });
    expect(awaitedOnMergeCommit(completedOnMerge, makeRepository(), policy())).toEqual([]);
    expect(awaitedOnMergeCommit(completedOnHead, makeRepository(), policy())).toEqual([]);
  });

  it("waits for the policy's checks as well as the branch rule's", () => {
    const change = makeChangeRequest({
      checks: [GREEN_HEAD, { ...run("merge", "pending", null), name: "e2e" }],
    });
    const withE2e = policy("version: 1\ncontrols:\n  cc8.required-checks:\n    checks: [e2e]\n");
    expect(awaitedOnMergeCommit(change, makeRepository(), withE2e)).toEqual([
      { name: "e2e", state: "pending" },
    ]);
  });

  it("waits for a pinned check from its app only: a commit status of the same name does not count", () => {
    const change = makeChangeRequest({
      checks: [
        {
          name: "ci/test",
          kind: "status",
          conclusion: "success",
          on: "merge",
          sha: MERGE,
          url: null,
          completedAt: "2026-10-02T15:01:00Z",
        },
      ],
    });
    const pinned = makeRepository({
      branchRules: { known: true, value: [cleanBranchRule({ requiredCheckApps: { "ci/test": 15368 } })] },
    });
    expect(awaitedOnMergeCommit(change, pinned, policy())).toEqual([
      { name: "ci/test", state: "not reported" },
    ]);
  });

  it("waits for nothing when the control is switched off", () => {
    const change = makeChangeRequest({ checks: [run("merge", "pending", null)] });
    const off = policy("version: 1\ncontrols:\n  cc8.required-checks:\n    enabled: false\n");
    expect(awaitedOnMergeCommit(change, makeRepository(), off)).toEqual([]);
  });
});

describe("judgeAsOfMerge", () => {
  const pendingOnMerge = makeChangeRequest({ checks: [GREEN_HEAD, run("merge", "pending", null)] });

  it("holds a failing required-checks verdict as waiting until the checks on the merge commit complete", () => {
    const outcome = outcomeOf(
      pendingOnMerge,
      result("cc8.required-checks", "fail", "Required checks did not succeed: ci/test pending."),
    );

    const judged = judgeAsOfMerge(outcome, SOON);

    const held = judged.results.find((r) => r.control === "cc8.required-checks")!;
    expect(held.outcome).toBe("unknown");
    expect(held.reason).toBe(
      "Waiting for ci/test on the merge commit mmmmmmm: the change merged before its checks there completed; " +
        "it is judged again when they complete, at the latest 2026-10-02T21:00:00.000Z.",
    );
    expect(held.evidence).toContainEqual({
      label: "merged before its checks completed",
      value: `ci/test on merge commit ${MERGE}`,
      at: "2026-10-02T15:00:00Z",
    });
    expect(judged.waiting).toEqual({
      mergeCommitSha: MERGE,
      checks: [{ name: "ci/test", state: "pending" }],
      until: new Date(MERGED_AT + MERGE_COMMIT_CHECKS_WAIT_MS),
    });
    // The other controls are decided and reported as they are.
    expect(judged.results.filter((r) => r.control !== "cc8.required-checks")).toEqual(
      outcome.results.filter((r) => r.control !== "cc8.required-checks"),
    );
  });

  it("after the wait, makes the control's own waiting a failure saying the checks never completed", () => {
    const own = result("cc8.required-checks", "unknown", "Waiting for ci/test on the merge commit.");

    const judged = judgeAsOfMerge(outcomeOf(pendingOnMerge, own), AFTER_WAIT);

    const failed = judged.results.find((r) => r.control === "cc8.required-checks")!;
    expect(failed.outcome).toBe("fail");
    expect(failed.reason).toBe(
      "Required checks never completed on the merge commit mmmmmmm within 6 hours of the merge: ci/test.",
    );
    expect(failed.evidence).toContainEqual({ label: "control said", value: own.reason });
    expect(judged.waiting).toBeNull();
  });

  it("after the wait, keeps the control's failure and says the checks never completed", () => {
    const missing = makeChangeRequest({ checks: [] });
    const control = result(
      "cc8.required-checks",
      "fail",
      "Required checks did not succeed: ci/test missing.",
    );

    const judged = judgeAsOfMerge(outcomeOf(missing, control), AFTER_WAIT);

    expect(judged.results.find((r) => r.control === "cc8.required-checks")).toEqual(
      expect.objectContaining({
        outcome: "fail",
        reason:
          "Required checks never completed on the merge commit mmmmmmm within 6 hours of the merge: " +
          "ci/test (not reported yet). Required checks did not succeed: ci/test missing.",
      }),
    );
  });

  it("uses the wait it is given", () => {
    const outcome = outcomeOf(pendingOnMerge, result("cc8.required-checks", "fail", "ci/test pending."));
    const wait = 30 * 60_000;
    expect(judgeAsOfMerge(outcome, new Date(MERGED_AT + wait - 1), wait).waiting).not.toBeNull();
    const over = judgeAsOfMerge(outcome, new Date(MERGED_AT + wait), wait);
    expect(over.waiting).toBeNull();
    expect(over.results.find((r) => r.control === "cc8.required-checks")!.reason).toContain(
      "within 30 minutes",
    );
  });

  it("leaves an unknown for another cause, not-applicable and excepted results alone", () => {
    for (const standing of [
      result(
        "cc8.required-checks",
        "unknown",
        "Cannot read the branch rules of acme/api (administration:read).",
      ),
      result("cc8.required-checks", "not-applicable", "main is not a production branch."),
      result("cc8.required-checks", "excepted", "Required checks did not succeed: ci/test pending."),
    ]) {
      const outcome = outcomeOf(pendingOnMerge, standing);
      expect(judgeAsOfMerge(outcome, SOON).results).toEqual(outcome.results);
    }
  });

  it("holds nothing for an open change, or when the merged change's checks are complete", () => {
    const open = makeChangeRequest({
      state: "open",
      mergedAt: null,
      mergedBy: null,
      mergeCommitSha: null,
      checks: [run("head", "pending", null)],
    });
    const complete = makeChangeRequest({
      checks: [GREEN_HEAD, run("merge", "success", "2026-10-02T15:06:00Z")],
    });
    for (const change of [open, complete]) {
      const outcome = outcomeOf(change, result("cc8.required-checks", "pass", "Required checks succeeded."));
      expect(judgeAsOfMerge(outcome, SOON)).toEqual({ results: outcome.results, waiting: null });
    }
  });

  it("holds nothing when the policy could not be read (nothing is judged then)", () => {
    const outcome = {
      ...outcomeOf(pendingOnMerge, result("cc8.required-checks", "fail", "x")),
      policy: null,
    };
    expect(judgeAsOfMerge(outcome, SOON).waiting).toBeNull();
  });
});

describe("judgeMergesAsOf (the scheduled audit)", () => {
  it("holds the required-checks verdict of each merge still waiting for its merge commit, and only those", () => {
    const waiting = makeChangeRequest({ number: 12, checks: [GREEN_HEAD, run("merge", "pending", null)] });
    const complete = makeChangeRequest({
      number: 13,
      checks: [GREEN_HEAD, run("merge", "success", "2026-10-02T15:06:00Z")],
    });
    const elsewhere = makeChangeRequest({
      number: 14,
      repository: "acme/web",
      checks: [run("merge", "pending", null)],
    });
    const failing = (id: string) =>
      result("cc8.required-checks", "fail", "Required checks did not succeed: ci/test pending.", id);
    const results = [
      failing("acme/api#12"),
      result("cc8.no-bypass", "fail", "Merged by alice bypassing branch protection.", "acme/api#12"),
      result("cc8.required-checks", "pass", "Required checks succeeded.", "acme/api#13"),
      // acme/web was not collected: nothing says what it requires, so its result stands.
      failing("acme/web#14"),
    ];
    const p = policy();
    const policies = { organization: p, forRepository: () => p };
    const snapshot = { changeRequests: [waiting, complete, elsewhere], repositories: [makeRepository()] };

    const soon = judgeMergesAsOf(snapshot, policies, results, SOON);
    expect(soon.map((r) => [r.subject.id, r.control, r.outcome])).toEqual([
      ["acme/api#12", "cc8.required-checks", "unknown"],
      ["acme/api#12", "cc8.no-bypass", "fail"],
      ["acme/api#13", "cc8.required-checks", "pass"],
      ["acme/web#14", "cc8.required-checks", "fail"],
    ]);
    expect(soon[0]!.reason).toMatch(/^Waiting for ci\/test on the merge commit mmmmmmm/);

    const later = judgeMergesAsOf(snapshot, policies, results, AFTER_WAIT);
    expect(later[0]!.outcome).toBe("fail");
    expect(later[0]!.reason).toMatch(/^Required checks never completed on the merge commit mmmmmmm/);
    expect(later.slice(1)).toEqual(results.slice(1));
  });
});
