/**
 * Property test of the GitHub provider's bypass derivation (cc8.no-bypass relies on it): over
 * generated merges and rules, "no bypass" (known false) is said only when the evidence shows every
 * requirement of the whole rule met. The oracle is written from GitHub's rules, not from bypass.ts:
 * the derivation may be stricter (a bypass, or unknown), never more lenient.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { deriveBypassedProtection } from "../../src/providers/github/index.js";
import type { BranchRule, ChangeRequest, Check, Push, Review } from "../../src/model/index.js";
import { cleanBranchRule, makeChangeRequest } from "../fixtures/build.js";

const HEAD = "h".repeat(40);
const OLDER = "a".repeat(40);
const MERGE = "m".repeat(40);
const START = Date.parse("2026-10-01T00:00:00Z");
const at = (minutes: number) => new Date(START + minutes * 60_000).toISOString();
const NAMES = ["ci/test", "ci/lint"];
const ACTIONS = 15368;
/** The conclusions GitHub accepts for a required check. */
const SATISFYING = new Set(["success", "neutral", "skipped"]);

const check: fc.Arbitrary<Check> = fc
  .record({
    name: fc.constantFrom(...NAMES),
    kind: fc.constantFrom<Check["kind"]>("check-run", "check-run", "status"),
    conclusion: fc.constantFrom<Check["conclusion"]>("success", "success", "failure", "neutral", "pending"),
    on: fc.constantFrom<Check["on"]>("head", "merge"),
    minute: fc.integer({ min: 0, max: 30 }),
    appId: fc.constantFrom<number | null>(ACTIONS, ACTIONS, 999, null),
  })
  .map(({ minute, appId, ...rest }) => ({
    ...rest,
    sha: rest.on === "head" ? HEAD : MERGE,
    url: null,
    completedAt: rest.conclusion === "pending" ? null : at(minute),
    appId: rest.kind === "check-run" ? appId : null,
    appSlug: null,
    reportedBy: rest.kind === "status" ? "someone" : null,
  }));

const review: fc.Arbitrary<Review> = fc.record({
  reviewer: fc.constantFrom("alice", "bob", "carol"),
  reviewerKind: fc.constantFrom<Review["reviewerKind"]>("user", "bot"),
  authorCanPush: fc.constantFrom<boolean | null>(true, true, false, null),
  state: fc.constantFrom<Review["state"]>(
    "approved",
    "approved",
    "changes_requested",
    "commented",
    "dismissed",
  ),
  submittedAt: fc.integer({ min: 0, max: 60 }).map(at),
  commitSha: fc.constantFrom<string | null>(HEAD, HEAD, OLDER),
});

const push: fc.Arbitrary<Push> = fc.record({
  at: fc.integer({ min: 0, max: 60 }).map(at),
  actor: fc.constantFrom<string | null>("alice", "bob", "carol", null),
  headSha: fc.constantFrom(HEAD, OLDER),
  forced: fc.boolean(),
});

const merge = fc.record({
  checks: fc.array(check, { maxLength: 6 }),
  reviews: fc.array(review, { maxLength: 4 }),
  pushes: fc.array(push, { maxLength: 2 }),
  mergedByQueue: fc.boolean(),
  mergedBy: fc.constantFrom<string | null>("alice", "bob", "dave", null),
  truncated: fc.constantFrom<ChangeRequest["truncated"]>([], [], ["checks"], ["reviews"]),
});

const rule: fc.Arbitrary<BranchRule> = fc
  .record({
    requiredStatusChecks: fc.subarray(NAMES),
    pinned: fc.boolean(),
    requiredApprovals: fc.constantFrom(0, 1, 2),
    dismissStaleApprovals: fc.boolean(),
    requireLastPushApproval: fc.boolean(),
    restrictedTo: fc.constantFrom<string[] | undefined>(
      undefined,
      undefined,
      ["bob"],
      ["bob", "team:release"],
    ),
    otherRequirements: fc.constantFrom<string[]>([], [], ["required_signatures"]),
  })
  .map(({ pinned, restrictedTo, ...rest }) =>
    cleanBranchRule({
      ...rest,
      requiredCheckApps: pinned ? { "ci/test": ACTIONS } : {},
      ...(restrictedTo !== undefined && { restrictedTo }),
    }),
  );

/** Each required check: on the commit GitHub judged, every accepted source's latest result satisfies it. */
function checksMet(change: ChangeRequest, rule: BranchRule): boolean {
  const sha = change.mergedByQueue ? change.mergeCommitSha : change.headSha;
  return rule.requiredStatusChecks.every((name) => {
    const pin = rule.requiredCheckApps[name];
    const results = change.checks.filter(
      (c) =>
        c.name === name &&
        c.sha === sha &&
        (pin === undefined || (c.kind === "check-run" && c.appId === pin)),
    );
    const sources = new Set(results.map((c) => `${c.kind} ${c.appId}`));
    if (sources.size === 0) return false;
    return [...sources].every((source) => {
      // A source's run still going beside its completed ones may be a re-run started after the merge.
      const own = results.filter((c) => `${c.kind} ${c.appId}` === source && c.completedAt !== null);
      if (own.length === 0) return false;
      const last = Math.max(...own.map((c) => Date.parse(c.completedAt!)));
      return own
        .filter((c) => Date.parse(c.completedAt!) === last)
        .every((c) => SATISFYING.has(c.conclusion));
    });
  });
}

/** Enough approvals GitHub counts: each reviewer's latest verdict, by someone else who could push. */
function approvalsMet(change: ChangeRequest, rule: BranchRule): boolean {
  if (rule.requiredApprovals === 0) return true;
  if (change.truncated.includes("reviews")) return false;
  const pushes = [...change.pushes].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const lastPusher = pushes.at(-1)?.actor;
  if (rule.requireLastPushApproval && lastPusher === null) return false;
  const latest = new Map<string, Review>();
  for (const r of [...change.reviews].sort((a, b) => Date.parse(a.submittedAt) - Date.parse(b.submittedAt)))
    if (r.state !== "commented" && r.state !== "pending") latest.set(r.reviewer, r);
  const counted = [...latest.values()].filter(
    (r) =>
      r.reviewer !== change.author &&
      r.state === "approved" &&
      r.authorCanPush === true &&
      (!(rule.dismissStaleApprovals || rule.requireLastPushApproval) || r.commitSha === change.headSha) &&
      (!rule.requireLastPushApproval || r.reviewer !== lastPusher),
  );
  return counted.length >= rule.requiredApprovals;
}

function wholeRuleMet(change: ChangeRequest, rule: BranchRule): boolean {
  return (
    checksMet(change, rule) &&
    approvalsMet(change, rule) &&
    rule.otherRequirements.length === 0 &&
    !rule.requireCodeOwnerReview &&
    (rule.restrictedTo === undefined ||
      (!change.mergedByQueue && change.mergedBy !== null && rule.restrictedTo.includes(change.mergedBy)))
  );
}

describe("the bypass derivation", () => {
  it("says 'no bypass' only for merges whose evidence shows the whole rule met", () => {
    fc.assert(
      fc.property(merge, rule, (facts, branchRule) => {
        const change = makeChangeRequest({ ...facts, headSha: HEAD, mergeCommitSha: MERGE });
        const result = deriveBypassedProtection(change, { known: true, value: branchRule });
        if (result.known && !result.value) expect(wholeRuleMet(change, branchRule)).toBe(true);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 3000) },
    );
  });

  it("is not vacuous: it says 'no bypass', 'bypass' and unknown", () => {
    const outcomes = fc
      .sample(fc.tuple(merge, rule), { seed: 10, numRuns: 2000 })
      .map(([facts, branchRule]) => {
        const change = makeChangeRequest({ ...facts, headSha: HEAD, mergeCommitSha: MERGE });
        const result = deriveBypassedProtection(change, { known: true, value: branchRule });
        return result.known ? String(result.value) : "unknown";
      });
    for (const outcome of ["false", "true", "unknown"])
      expect(outcomes.filter((o) => o === outcome).length).toBeGreaterThan(20);
  });
});
