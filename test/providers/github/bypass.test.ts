import { describe, expect, it } from "vitest";
import { deriveBypassedProtection } from "../../../src/providers/github/index.js";
import { UNNAMED } from "../../../src/providers/github/branch-rules.js";
import { cleanBranchRule, makeChangeRequest, unknownOf } from "../../fixtures/build.js";
import type { BranchRule, Check, Review } from "../../../src/model/index.js";

const HEAD = "h".repeat(40);
const MERGE = "m".repeat(40);
const rule = (overrides: Partial<BranchRule> = {}) => ({
  known: true as const,
  value: cleanBranchRule(overrides),
});

function review(overrides: Partial<Review> = {}): Review {
  return {
    reviewer: "bob",
    reviewerKind: "user",
    authorCanPush: true,
    state: "approved",
    submittedAt: "2026-10-02T10:00:00Z",
    commitSha: HEAD,
    ...overrides,
  };
}

function check(overrides: Partial<Check> = {}): Check {
  return {
    name: "ci/test",
    kind: "check-run",
    conclusion: "success",
    on: "head",
    sha: HEAD,
    url: null,
    completedAt: "2026-10-01T09:10:00Z",
    appId: 15368,
    appSlug: "github-actions",
    reportedBy: null,
    ...overrides,
  };
}

/** Merged by alice, approved by bob (a person who can push) on the head, ci/test green on the head. */
function merged(overrides: Parameters<typeof makeChangeRequest>[0] = {}) {
  return makeChangeRequest({ reviews: [review()], checks: [check()], ...overrides });
}

const NO = { known: true, value: false };
const YES = { known: true, value: true };

describe("deriveBypassedProtection", () => {
  it("is known false when the merge met every requirement of the rule", () => {
    expect(deriveBypassedProtection(merged(), rule())).toEqual(NO);
  });

  it("is known true when a required check was not green on the head at merge", () => {
    expect(deriveBypassedProtection(merged({ checks: [check({ conclusion: "failure" })] }), rule())).toEqual(
      YES,
    );
  });

  it("does not count a required check that only passed on the merge commit", () => {
    const change = merged({ checks: [check({ on: "merge", sha: MERGE })] });
    expect(deriveBypassedProtection(change, rule())).toEqual(YES);
  });

  it("accepts neutral and skipped required checks, as GitHub does", () => {
    const change = merged({
      checks: [
        check({ conclusion: "skipped" }),
        check({ name: "lint", kind: "status", conclusion: "neutral", appId: null, reportedBy: "ci-user" }),
      ],
    });
    expect(deriveBypassedProtection(change, rule({ requiredStatusChecks: ["ci/test", "lint"] }))).toEqual(NO);
  });

  it("lets the latest completed run decide: a green rerun cures a failed run, a failed rerun undoes a green one", () => {
    const failedThenGreen = [
      check({ conclusion: "failure", completedAt: "2026-10-01T09:10:00Z" }),
      check({ conclusion: "success", completedAt: "2026-10-01T09:30:00Z" }),
    ];
    const greenThenFailed = [
      check({ conclusion: "success", completedAt: "2026-10-01T09:10:00Z" }),
      check({ conclusion: "failure", completedAt: "2026-10-01T09:30:00Z" }),
    ];
    expect(deriveBypassedProtection(merged({ checks: failedThenGreen }), rule())).toEqual(NO);
    expect(deriveBypassedProtection(merged({ checks: greenThenFailed }), rule())).toEqual(YES);
  });

  it("is unknown when two runs of one source completed at the same moment, one failed and one green (found by the property test)", () => {
    const tied = [
      check({ conclusion: "failure", completedAt: "2026-10-01T09:30:00Z" }),
      check({ conclusion: "success", completedAt: "2026-10-01T09:30:00Z" }),
    ];
    for (const checks of [tied, [...tied].reverse()]) {
      const verdict = deriveBypassedProtection(merged({ checks }), rule());
      expect(verdict.known).toBe(false);
      expect(verdict).toMatchObject({ reason: expect.stringContaining("completed at the same time") });
    }
    // the same on the merge commit when the merge queue merged it (the property test's counterexample)
    const queued = tied.map((c) => ({ ...c, on: "merge" as const, sha: MERGE, appId: null, appSlug: null }));
    expect(
      deriveBypassedProtection(
        merged({ checks: queued, mergedByQueue: true, mergeCommitSha: MERGE, reviews: [] }),
        rule({ requiredStatusChecks: ["ci/test"], requiredApprovals: 0 }),
      ).known,
    ).toBe(false);
  });

  it("requires every source of an unpinned check's name, as GitHub does: a later status does not cure a failed run", () => {
    const forged = check({
      kind: "status",
      appId: null,
      appSlug: null,
      reportedBy: "mallory",
      completedAt: "2026-10-01T09:30:00Z",
    });
    const failed = check({ conclusion: "failure", completedAt: "2026-10-01T09:10:00Z" });
    expect(deriveBypassedProtection(merged({ checks: [failed, forged] }), rule())).toEqual(YES);
    const otherApp = check({ appId: 999, appSlug: "imitation", completedAt: "2026-10-01T09:30:00Z" });
    expect(deriveBypassedProtection(merged({ checks: [failed, otherApp] }), rule())).toEqual(YES);
    expect(deriveBypassedProtection(merged({ checks: [check(), forged] }), rule())).toEqual(NO);
    // Another source still running beside a green run: it may have started after the merge.
    const running = check({ ...forged, conclusion: "pending", completedAt: null });
    expect(deriveBypassedProtection(merged({ checks: [check(), running] }), rule()).known).toBe(false);
  });

  describe("classic protection restricting who may push", () => {
    it("is a bypass when someone not allowed to push merged (an administrator overriding the restriction)", () => {
      const restricted = rule({ restrictedTo: ["bob", "app:deploy-app"] });
      expect(deriveBypassedProtection(merged({ mergedBy: "mallory" }), restricted)).toEqual(YES);
      expect(deriveBypassedProtection(merged({ mergedBy: "Bob" }), restricted)).toEqual(NO);
      expect(deriveBypassedProtection(merged({ mergedBy: "deploy-app" }), restricted)).toEqual(NO);
      expect(deriveBypassedProtection(merged({ mergedBy: "nobody" }), rule({ restrictedTo: [] }))).toEqual(
        YES,
      );
    });

    it("is unknown when the merger may be allowed through a team, or the host did not say who merged", () => {
      const byTeam = rule({ restrictedTo: ["bob", "team:release"] });
      const result = deriveBypassedProtection(merged({ mergedBy: "carol" }), byTeam);
      expect(result.known).toBe(false);
      expect(!result.known && result.reason).toMatch(/carol .*team:release/);
      expect(deriveBypassedProtection(merged({ mergedBy: null }), byTeam).known).toBe(false);
      // GitHub documents a listed user's login as optional: someone unnamed may be the merger.
      const unnamed = rule({ restrictedTo: ["bob", UNNAMED] });
      expect(deriveBypassedProtection(merged({ mergedBy: "carol" }), unnamed).known).toBe(false);
    });
  });

  describe("a required check pinned to an app", () => {
    const pinned = rule({ requiredCheckApps: { "ci/test": 15368 } });

    it("is met by a run of that app", () => {
      expect(deriveBypassedProtection(merged(), pinned)).toEqual(NO);
    });

    it("is not met by a commit status of the same name, which anyone with write access can post", () => {
      const change = merged({
        checks: [check({ kind: "status", appId: null, appSlug: null, reportedBy: "mallory" })],
      });
      expect(deriveBypassedProtection(change, pinned)).toEqual(YES);
    });

    it("is not met by another app's run of the same name", () => {
      const change = merged({ checks: [check({ appId: 999, appSlug: "imitation" })] });
      expect(deriveBypassedProtection(change, pinned)).toEqual(YES);
    });

    it("is unknown when the host did not say which app reported the run", () => {
      const change = merged({ checks: [check({ appId: null, appSlug: null })] });
      const result = deriveBypassedProtection(change, pinned);
      expect(result.known).toBe(false);
      expect(!result.known && result.reason).toMatch(/required check ci\/test: it must come from app 15368/);
    });
  });

  it("is known true with fewer approvals than required, the author's own approval not counting", () => {
    const change = merged({
      reviews: [review(), review({ reviewer: "alice", submittedAt: "2026-10-02T10:05:00Z" })],
    });
    expect(deriveBypassedProtection(change, rule({ requiredApprovals: 2 }))).toEqual(YES);
  });

  it("counts an approval as GitHub enforces it: by anyone who could push, a bot included, never by one who could not", () => {
    const botWithWrite = merged({ reviews: [review({ reviewer: "renovate[bot]", reviewerKind: "bot" })] });
    const driveBy = merged({ reviews: [review({ reviewer: "drive-by", authorCanPush: false })] });
    // Not a bypass: GitHub let the bot's approval count; cc8.independent-approval judges the bot.
    expect(deriveBypassedProtection(botWithWrite, rule())).toEqual(NO);
    expect(deriveBypassedProtection(driveBy, rule())).toEqual(YES);
  });

  it("is unknown, naming the approver, when the host did not say whether they could push", () => {
    const result = deriveBypassedProtection(merged({ reviews: [review({ authorCanPush: null })] }), rule());
    expect(result.known).toBe(false);
    expect(!result.known && result.reason).toMatch(/not confirmed: bob \(write access not stated\)/);
  });

  it("lets a later change request from the same reviewer cancel the approval", () => {
    const change = merged({
      reviews: [
        review(),
        review({ state: "commented", submittedAt: "2026-10-02T10:30:00Z" }),
        review({ state: "changes_requested", submittedAt: "2026-10-02T11:00:00Z" }),
      ],
    });
    expect(deriveBypassedProtection(change, rule())).toEqual(YES);
  });

  it("counts only approvals of the head when stale approvals are dismissed", () => {
    const change = merged({ reviews: [review({ commitSha: "o".repeat(40) })] });
    expect(deriveBypassedProtection(change, rule({ dismissStaleApprovals: true }))).toEqual(YES);
    expect(deriveBypassedProtection(change, rule({ dismissStaleApprovals: false }))).toEqual(NO);
  });

  it("does not count the last pusher's approval when the most recent push must be approved by someone else", () => {
    const pushedByBob = merged({
      pushes: [
        { at: "2026-10-01T09:01:00Z", actor: "alice", headSha: "o".repeat(40), forced: false },
        { at: "2026-10-02T09:00:00Z", actor: "bob", headSha: HEAD, forced: false },
      ],
    });
    expect(deriveBypassedProtection(pushedByBob, rule({ requireLastPushApproval: true }))).toEqual(YES);
    expect(deriveBypassedProtection(merged(), rule({ requireLastPushApproval: true }))).toEqual(NO);
  });

  it("is unknown, naming each requirement it does not verify, when nothing shows the merge unmet", () => {
    const result = deriveBypassedProtection(
      merged(),
      rule({ otherRequirements: ["required_signatures", "workflows"] }),
    );
    expect(result).toEqual({
      known: false,
      permission: expect.stringMatching(/rule suites/),
      reason: expect.stringContaining("required_signatures, workflows"),
    });
  });

  it("is unknown when the rule requires code owners' review, which it cannot verify", () => {
    const result = deriveBypassedProtection(merged(), rule({ requireCodeOwnerReview: true }));
    expect(!result.known && result.reason).toMatch(/require_code_owner_review/);
  });

  it("is known true despite unverified requirements when a verified one was unmet", () => {
    const change = merged({ checks: [check({ conclusion: "failure" })] });
    expect(deriveBypassedProtection(change, rule({ otherRequirements: ["merge_queue"] }))).toEqual(YES);
  });

  it("does not make the merge unknown because a ruleset's bypass actors are hidden", () => {
    expect(
      deriveBypassedProtection(merged(), rule({ bypassActorsVisible: false, enforceAdmins: false })),
    ).toEqual(NO);
  });

  it("is unknown when the reviews or checks it would need were read only in part", () => {
    const shortOfApprovals = merged({ reviews: [], truncated: ["reviews"] });
    const checksCut = merged({ checks: [], truncated: ["checks"] });
    expect(deriveBypassedProtection(shortOfApprovals, rule()).known).toBe(false);
    expect(deriveBypassedProtection(checksCut, rule()).known).toBe(false);
  });

  it("is unknown, not 'no bypass', when what looked met was read only in part: a later review or run may undo it", () => {
    // A later request for changes by bob, or a failed run of another source, may be in the part not read.
    expect(deriveBypassedProtection(merged({ truncated: ["reviews"] }), rule()).known).toBe(false);
    expect(deriveBypassedProtection(merged({ truncated: ["checks"] }), rule()).known).toBe(false);
    // The last pusher may be in the pushes not read, when the most recent push must be approved.
    const pushed = { at: "2026-10-01T09:00:00Z", actor: "alice", headSha: HEAD, forced: false };
    const lastPush = rule({ requireLastPushApproval: true });
    expect(deriveBypassedProtection(merged({ pushes: [pushed] }), lastPush)).toEqual(NO);
    expect(
      deriveBypassedProtection(merged({ pushes: [pushed], truncated: ["pushes"] }), lastPush).known,
    ).toBe(false);
  });

  describe("a change merged by the merge queue", () => {
    it("is judged by the queue's checks on the merge commit, not a bypass for lacking them on the head", () => {
      const change = merged({ mergedByQueue: true, checks: [check({ on: "merge", sha: MERGE })] });
      expect(deriveBypassedProtection(change, rule())).toEqual(NO);
    });

    it("is a bypass when the queue's required check failed on the merge commit", () => {
      const change = merged({
        mergedByQueue: true,
        checks: [check(), check({ on: "merge", sha: MERGE, conclusion: "failure" })],
      });
      expect(deriveBypassedProtection(change, rule())).toEqual(YES);
    });

    it("is judged on both commits when the timeline (where the queue events are) was read only in part", () => {
      const onMergeOnly = merged({
        mergedByQueue: true,
        truncated: ["pushes"],
        checks: [check({ on: "merge", sha: MERGE })],
      });
      // A later "removed from the merge queue" may be in the part not read: then the head decided.
      expect(deriveBypassedProtection(onMergeOnly, rule()).known).toBe(false);
      const onBoth = merged({
        mergedByQueue: true,
        truncated: ["pushes"],
        checks: [check(), check({ on: "merge", sha: MERGE })],
      });
      expect(deriveBypassedProtection(onBoth, rule())).toEqual(NO);
      const failedOnBoth = merged({
        truncated: ["pushes"],
        checks: [check({ conclusion: "failure" }), check({ on: "merge", sha: MERGE, conclusion: "failure" })],
      });
      expect(deriveBypassedProtection(failedOnBoth, rule())).toEqual(YES);
    });
  });

  it("passes the unreadable rules on instead of guessing", () => {
    const rules = unknownOf<BranchRule>("administration:read");
    expect(deriveBypassedProtection(merged({ reviews: [] }), rules)).toEqual(rules);
  });

  it("is known false for a change request not merged, or a branch without rules", () => {
    expect(
      deriveBypassedProtection(
        makeChangeRequest({ state: "open", mergedAt: null }),
        unknownOf("administration:read"),
      ),
    ).toEqual(NO);
    expect(deriveBypassedProtection(merged({ reviews: [] }), { known: true, value: null })).toEqual(NO);
  });
});
