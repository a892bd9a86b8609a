import { describe, expect, it } from "vitest";
import { independentApproval } from "../../src/controls/cc8-independent-approval.js";
import type { ChangeRequest, Review } from "../../src/model/index.js";
import { makeChangeRequest, makeContext, makeRepository } from "../fixtures/build.js";

const HEAD = "h".repeat(40);

function evaluate(overrides: Partial<ChangeRequest> = {}, params: Record<string, unknown> = {}) {
  const results = independentApproval.evaluate(
    { changeRequest: makeChangeRequest(overrides), repository: makeRepository() },
    makeContext(independentApproval.params.parse(params)),
  );
  expect(results).toHaveLength(1);
  return results[0]!;
}

function review(
  reviewer: string,
  state: Review["state"],
  submittedAt: string,
  commitSha: string | null = HEAD,
): Review {
  return { reviewer, state, submittedAt, commitSha };
}

describe("cc8.independent-approval", () => {
  it("has defaults for every parameter and rejects unknown keys", () => {
    expect(independentApproval.params.parse({})).toEqual({ min_approvals: 1, exclude_committers: true });
    expect(() => independentApproval.params.parse({ min_approval: 2 })).toThrow();
    expect(() => independentApproval.params.parse({ min_approvals: 0 })).toThrow();
  });

  it("passes when bob, who wrote none of it, approved before the merge", () => {
    const result = evaluate();
    expect(result.outcome).toBe("pass");
    expect(result.reason).toBe("Approved by bob, independent of the author, committers and pushers.");
    expect(result.subject).toMatchObject({ kind: "change-request", id: "acme/api#12" });
    expect(result.evidence).toContainEqual({
      label: "approval",
      value: `bob on commit ${HEAD}`,
      at: "2026-10-02T10:00:00Z",
    });
    expect(result.evidence).toContainEqual({
      label: "merged",
      value: `by alice as ${"m".repeat(40)}`,
      at: "2026-10-02T15:00:00Z",
    });
  });

  it("fails a change with no review at all", () => {
    const result = evaluate({ reviews: [] });
    expect(result.outcome).toBe("fail");
    expect(result.reason).toBe("0 independent approvals, 1 required: nobody else approved it.");
  });

  it("does not count a self-approval, whatever the case of the login", () => {
    const result = evaluate({ reviews: [review("ALICE", "approved", "2026-10-02T10:00:00Z")] });
    expect(result.outcome).toBe("fail");
    expect(result.reason).toMatch(/ALICE approved their own change request/);
  });

  it("does not count an approval by someone who authored commits, case-insensitively", () => {
    const commits = [
      ...makeChangeRequest().commits,
      {
        sha: "c".repeat(40),
        authorLogin: "Bob",
        authorName: "Bob",
        committerLogin: "Bob",
        authoredAt: "2026-10-01T10:00:00Z",
        committedAt: "2026-10-01T10:00:00Z",
      },
    ];
    const result = evaluate({ commits });
    expect(result.outcome).toBe("fail");
    expect(result.reason).toBe(
      "0 independent approvals, 1 required: bob approved but authored commits and committed commits.",
    );
    expect(result.evidence).toContainEqual({
      label: "approval not counted",
      value: `bob approved but authored commits and committed commits (commit ${HEAD})`,
      at: "2026-10-02T10:00:00Z",
    });
  });

  it("does not count an approval by someone who pushed to the branch", () => {
    const pushes = [{ at: "2026-10-01T12:00:00Z", actor: "bob", headSha: HEAD, forced: false }];
    const result = evaluate({ pushes });
    expect(result.outcome).toBe("fail");
    expect(result.reason).toMatch(/bob approved but pushed to the branch/);
  });

  it("counts committers when exclude_committers is off, but never the author", () => {
    const pushes = [{ at: "2026-10-01T12:00:00Z", actor: "bob", headSha: HEAD, forced: false }];
    expect(evaluate({ pushes }, { exclude_committers: false })).toMatchObject({
      outcome: "pass",
      reason: "Approved by bob, independent of the author.",
    });
    const selfApproved = evaluate(
      { reviews: [review("alice", "approved", "2026-10-02T10:00:00Z")] },
      { exclude_committers: false },
    );
    expect(selfApproved.outcome).toBe("fail");
  });

  it("ignores GitHub's web-flow committer but still counts the web commit's author", () => {
    // carol clicked "Update branch": GitHub commits as web-flow on her behalf.
    const webCommit = {
      sha: "w".repeat(40),
      authorLogin: "carol",
      authorName: "Carol",
      committerLogin: "web-flow",
      authoredAt: "2026-10-01T11:00:00Z",
      committedAt: "2026-10-01T11:00:00Z",
    };
    const result = evaluate({
      commits: [...makeChangeRequest().commits, webCommit],
      reviews: [
        review("bob", "approved", "2026-10-02T09:00:00Z"),
        review("carol", "approved", "2026-10-02T10:00:00Z"),
      ],
    });
    expect(result).toMatchObject({ outcome: "pass", reason: expect.stringMatching(/^Approved by bob,/) });
    expect(result.evidence).toContainEqual({
      label: "approval not counted",
      value: `carol approved but authored commits (commit ${HEAD})`,
      at: "2026-10-02T10:00:00Z",
    });
  });

  it("treats changes requested after the approval as withdrawing it", () => {
    const result = evaluate({
      reviews: [
        review("bob", "approved", "2026-10-02T10:00:00Z"),
        review("bob", "changes_requested", "2026-10-02T11:00:00Z"),
      ],
    });
    expect(result.outcome).toBe("fail");
    expect(result.reason).toMatch(/bob's approval was followed by a request for changes/);
  });

  it("treats a dismissed review as no approval", () => {
    const result = evaluate({
      reviews: [
        review("bob", "approved", "2026-10-02T09:00:00Z"),
        review("bob", "dismissed", "2026-10-02T10:00:00Z"),
      ],
    });
    expect(result.outcome).toBe("fail");
    expect(result.reason).toMatch(/bob's approval was dismissed/);
  });

  it("keeps an approval standing when the reviewer only comments afterwards", () => {
    const result = evaluate({
      reviews: [
        review("bob", "approved", "2026-10-02T10:00:00Z"),
        review("bob", "commented", "2026-10-02T11:00:00Z"),
      ],
    });
    expect(result.outcome).toBe("pass");
  });

  it("uses the latest verdict by time, not by the order the host listed them", () => {
    const result = evaluate({
      reviews: [
        review("bob", "approved", "2026-10-02T12:00:00Z"),
        review("bob", "changes_requested", "2026-10-02T09:00:00Z"),
      ],
    });
    expect(result.outcome).toBe("pass");
  });

  it("ignores an approval given after the merge", () => {
    const result = evaluate({ reviews: [review("bob", "approved", "2026-10-03T09:00:00Z")] });
    expect(result.outcome).toBe("fail");
    expect(result.reason).toBe("0 independent approvals, 1 required: bob approved after the merge.");
    expect(result.evidence).toContainEqual({
      label: "approval after the merge, not counted",
      value: `bob on commit ${HEAD}`,
      at: "2026-10-03T09:00:00Z",
    });
  });

  it("counts an approval given at the very second of the merge", () => {
    expect(evaluate({ reviews: [review("bob", "approved", "2026-10-02T15:00:00Z")] }).outcome).toBe("pass");
  });

  it("requires min_approvals distinct independent reviewers", () => {
    const twice = evaluate(
      {
        reviews: [
          review("bob", "approved", "2026-10-02T09:00:00Z"),
          review("BOB", "approved", "2026-10-02T10:00:00Z"),
        ],
      },
      { min_approvals: 2 },
    );
    expect(twice.outcome).toBe("fail");
    expect(twice.reason).toMatch(/^1 independent approval, 2 required/);
    const two = evaluate(
      {
        reviews: [
          review("bob", "approved", "2026-10-02T09:00:00Z"),
          review("carol", "approved", "2026-10-02T10:00:00Z"),
        ],
      },
      { min_approvals: 2 },
    );
    expect(two).toMatchObject({ outcome: "pass", reason: expect.stringMatching(/^Approved by bob, carol,/) });
  });

  it("is unknown when the commit list is truncated and the approver may be a hidden committer", () => {
    const result = evaluate({ commitsTruncated: true });
    expect(result.outcome).toBe("unknown");
    expect(result.reason).toMatch(/^Commit list truncated: cannot confirm that bob/);
    expect(result.evidence).toContainEqual({ label: "commits listed", value: "1 (truncated by the host)" });
  });

  it("still fails a truncated change with no approval, and passes it when committers may approve", () => {
    expect(evaluate({ commitsTruncated: true, reviews: [] }).outcome).toBe("fail");
    expect(evaluate({ commitsTruncated: true }, { exclude_committers: false }).outcome).toBe("pass");
  });

  it("judges an open change request as if it were merged now", () => {
    const open = { state: "open" as const, mergedAt: null, mergedBy: null, mergeCommitSha: null };
    expect(evaluate(open).outcome).toBe("pass");
    expect(evaluate({ ...open, reviews: [review("bob", "approved", "2026-12-01T00:00:00Z")] }).outcome).toBe(
      "pass",
    );
    expect(evaluate({ ...open, reviews: [] }).outcome).toBe("fail");
  });

  it("does not apply to a change closed without merging or to a non-production base", () => {
    const closed = evaluate({
      state: "closed",
      mergedAt: null,
      mergedBy: null,
      mergeCommitSha: null,
      reviews: [],
    });
    expect(closed).toMatchObject({ outcome: "not-applicable", reason: "Closed without merging." });
    const feature = evaluate({ baseBranch: "develop", reviews: [] });
    expect(feature).toMatchObject({
      outcome: "not-applicable",
      reason: "The base branch develop is not a production branch.",
    });
  });
});
