import { describe, expect, it } from "vitest";
import { deriveBypassedProtection } from "../../../src/providers/github/index.js";
import { cleanBranchRule, makeChangeRequest, unknownOf } from "../../fixtures/build.js";
import type { BranchRule } from "../../../src/model/index.js";

const HEAD = "h".repeat(40);
const rule = (overrides: Partial<BranchRule> = {}) => ({
  known: true as const,
  value: cleanBranchRule(overrides),
});

describe("deriveBypassedProtection", () => {
  it("is known false when the merge met the required approvals and checks", () => {
    expect(deriveBypassedProtection(makeChangeRequest(), rule())).toEqual({ known: true, value: false });
  });

  it("is known true when a required check was not green on the head at merge", () => {
    const change = makeChangeRequest({
      checks: [
        {
          name: "ci/test",
          kind: "check-run",
          conclusion: "failure",
          on: "head",
          sha: HEAD,
          url: null,
          completedAt: null,
        },
      ],
    });
    expect(deriveBypassedProtection(change, rule())).toEqual({ known: true, value: true });
  });

  it("does not count a required check that only passed on the merge commit", () => {
    const change = makeChangeRequest({
      checks: [
        {
          name: "ci/test",
          kind: "check-run",
          conclusion: "success",
          on: "merge",
          sha: "m".repeat(40),
          url: null,
          completedAt: null,
        },
      ],
    });
    expect(deriveBypassedProtection(change, rule())).toEqual({ known: true, value: true });
  });

  it("accepts neutral and skipped required checks, as GitHub does", () => {
    const change = makeChangeRequest({
      checks: [
        {
          name: "ci/test",
          kind: "check-run",
          conclusion: "skipped",
          on: "head",
          sha: HEAD,
          url: null,
          completedAt: null,
        },
        {
          name: "lint",
          kind: "status",
          conclusion: "neutral",
          on: "head",
          sha: HEAD,
          url: null,
          completedAt: null,
        },
      ],
    });
    expect(deriveBypassedProtection(change, rule({ requiredStatusChecks: ["ci/test", "lint"] }))).toEqual({
      known: true,
      value: false,
    });
  });

  it("is known true with fewer approvals than required, the author's own approval not counting", () => {
    const change = makeChangeRequest({
      reviews: [
        { reviewer: "bob", state: "approved", submittedAt: "2026-10-02T10:00:00Z", commitSha: HEAD },
        { reviewer: "alice", state: "approved", submittedAt: "2026-10-02T10:05:00Z", commitSha: HEAD },
      ],
    });
    expect(deriveBypassedProtection(change, rule({ requiredApprovals: 2 }))).toEqual({
      known: true,
      value: true,
    });
  });

  it("lets a later change request from the same reviewer cancel the approval", () => {
    const change = makeChangeRequest({
      reviews: [
        { reviewer: "bob", state: "approved", submittedAt: "2026-10-02T10:00:00Z", commitSha: HEAD },
        { reviewer: "bob", state: "commented", submittedAt: "2026-10-02T10:30:00Z", commitSha: HEAD },
        { reviewer: "bob", state: "changes_requested", submittedAt: "2026-10-02T11:00:00Z", commitSha: HEAD },
      ],
    });
    expect(deriveBypassedProtection(change, rule())).toEqual({ known: true, value: true });
  });

  it("counts only approvals of the head when stale approvals are dismissed", () => {
    const change = makeChangeRequest({
      reviews: [
        {
          reviewer: "bob",
          state: "approved",
          submittedAt: "2026-10-02T10:00:00Z",
          commitSha: "o".repeat(40),
        },
      ],
    });
    expect(deriveBypassedProtection(change, rule({ dismissStaleApprovals: true }))).toEqual({
      known: true,
      value: true,
    });
    expect(deriveBypassedProtection(change, rule({ dismissStaleApprovals: false }))).toEqual({
      known: true,
      value: false,
    });
  });

  it("passes the unreadable rules on instead of guessing", () => {
    const rules = unknownOf<BranchRule>("administration:read");
    expect(deriveBypassedProtection(makeChangeRequest({ reviews: [] }), rules)).toEqual(rules);
  });

  it("is known false for a change request not merged, or a branch without rules", () => {
    expect(
      deriveBypassedProtection(
        makeChangeRequest({ state: "open", mergedAt: null }),
        unknownOf("administration:read"),
      ),
    ).toEqual({
      known: true,
      value: false,
    });
    expect(
      deriveBypassedProtection(makeChangeRequest({ reviews: [] }), { known: true, value: null }),
    ).toEqual({
      known: true,
      value: false,
    });
  });
});
