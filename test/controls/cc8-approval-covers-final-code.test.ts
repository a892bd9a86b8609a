import { describe, expect, it } from "vitest";
import { approvalCoversFinalCode } from "../../src/controls/cc8-approval-covers-final-code.js";
import type { ChangeRequest, Commit, Push, Review } from "../../src/model/index.js";
import {
  makeChangeRequest,
  makeCommit,
  makeContext,
  makeRepository,
  makeReview,
  peopleDirectory,
  type ChangeRequestOverrides,
  type TestPerson,
} from "../fixtures/build.js";

const FIRST = "a".repeat(40);
const HEAD = "h".repeat(40);

function evaluate(
  overrides: ChangeRequestOverrides = {},
  params: Record<string, unknown> = {},
  people: Record<string, TestPerson> = {},
) {
  const results = approvalCoversFinalCode.evaluate(
    { changeRequest: makeChangeRequest(overrides), repository: makeRepository() },
    makeContext(approvalCoversFinalCode.params.parse(params), { people: peopleDirectory(people) }),
  );
  expect(results).toHaveLength(1);
  return results[0]!;
}

function review(reviewer: string, submittedAt: string, commitSha: string | null): Review {
  return makeReview({ reviewer, state: "approved", submittedAt, commitSha });
}

function commit(sha: string, committedAt: string): Commit {
  return makeCommit({
    sha,
    authorLogin: "alice",
    authorName: "Alice",
    committerLogin: "alice",
    authoredAt: committedAt,
    committedAt,
  });
}

function push(at: string, headSha: string, forced = false, actor = "alice"): Push {
  return { at, actor, headSha, forced };
}

/** alice pushes FIRST, bob approves it at 10:00, alice pushes HEAD at 11:00; merged at 15:00. */
const pushedAfterApproval = {
  commits: [commit(FIRST, "2026-10-01T09:00:00Z"), commit(HEAD, "2026-10-02T10:55:00Z")],
  pushes: [push("2026-10-01T09:01:00Z", FIRST), push("2026-10-02T11:00:00Z", HEAD)],
  reviews: [review("bob", "2026-10-02T10:00:00Z", FIRST)],
} satisfies Partial<ChangeRequest>;

describe("cc8.approval-covers-final-code", () => {
  it("has defaults for every parameter and rejects unknown keys", () => {
    expect(approvalCoversFinalCode.params.parse({})).toEqual({
      min_approvals: 1,
      allow_pushes_after_approval: false,
    });
    expect(() => approvalCoversFinalCode.params.parse({ allow_pushes: true })).toThrow();
  });

  it("passes when bob approved the final head", () => {
    const result = evaluate();
    expect(result).toMatchObject({ outcome: "pass", reason: "Approved on the final code (hhhhhhh) by bob." });
    expect(result.evidence).toContainEqual({
      label: "approval of the final code",
      value: `bob on commit ${HEAD}`,
      at: "2026-10-02T10:00:00Z",
    });
  });

  it("fails a stale approval after a new push, naming the push", () => {
    const result = evaluate(pushedAfterApproval);
    expect(result.outcome).toBe("fail");
    expect(result.reason).toBe(
      "0 independent approvals of the final code, 1 required: after bob's approval the branch was pushed by alice at 2026-10-02T11:00:00Z (head hhhhhhh).",
    );
    expect(result.evidence).toContainEqual({
      label: "push after the approval",
      value: `alice pushed head ${HEAD}`,
      at: "2026-10-02T11:00:00Z",
    });
  });

  it("fails a force push after the approval and says it was forced", () => {
    const result = evaluate({
      ...pushedAfterApproval,
      pushes: [push("2026-10-01T09:01:00Z", FIRST), push("2026-10-02T11:00:00Z", HEAD, true)],
    });
    expect(result.outcome).toBe("fail");
    expect(result.reason).toMatch(/force-pushed by alice at 2026-10-02T11:00:00Z/);
    expect(result.evidence).toContainEqual(
      expect.objectContaining({ label: "force push after the approval" }),
    );
  });

  it("names the commits when the host recorded no push after the approval", () => {
    const result = evaluate({ ...pushedAfterApproval, pushes: [] });
    expect(result.outcome).toBe("fail");
    expect(result.reason).toMatch(/commits after bob's approval: hhhhhhh by alice at 2026-10-02T10:55:00Z/);
  });

  it("passes with the reason stated when the policy allows pushes after approval", () => {
    const result = evaluate(pushedAfterApproval, { allow_pushes_after_approval: true });
    expect(result.outcome).toBe("pass");
    expect(result.reason).toMatch(/^Approved by bob, but after bob's approval the branch was pushed/);
    expect(result.reason).toMatch(/allow_pushes_after_approval/);
  });

  it("passes when a second reviewer approved the final head after the push", () => {
    const result = evaluate({
      ...pushedAfterApproval,
      reviews: [...pushedAfterApproval.reviews!, review("carol", "2026-10-02T12:00:00Z", HEAD)],
    });
    expect(result).toMatchObject({
      outcome: "pass",
      reason: "Approved on the final code (hhhhhhh) by carol.",
    });
  });

  it("needs min_approvals approvals of the final code", () => {
    const result = evaluate(
      {
        ...pushedAfterApproval,
        reviews: [...pushedAfterApproval.reviews!, review("carol", "2026-10-02T12:00:00Z", HEAD)],
      },
      { min_approvals: 2 },
    );
    expect(result.outcome).toBe("fail");
    expect(result.reason).toMatch(
      /^1 independent approval of the final code, 2 required: after bob's approval/,
    );
  });

  describe("GitLab approvals without a commit", () => {
    it("covers the final code when given after the last push", () => {
      const result = evaluate({
        ...pushedAfterApproval,
        reviews: [review("bob", "2026-10-02T12:00:00Z", null)],
      });
      expect(result.outcome).toBe("pass");
    });

    it("is stale when a push came after it", () => {
      const result = evaluate({
        ...pushedAfterApproval,
        reviews: [review("bob", "2026-10-02T10:00:00Z", null)],
      });
      expect(result.outcome).toBe("fail");
      expect(result.reason).toMatch(
        /after bob's approval the branch was pushed by alice at 2026-10-02T11:00:00Z/,
      );
    });

    it("never judges by commit dates when no push is recorded: the client sets them", () => {
      // The last commit is dated 10:55, but it may have been pushed after either approval.
      const noPushes = { ...pushedAfterApproval, pushes: [] };
      for (const at of ["2026-10-02T10:00:00Z", "2026-10-02T11:00:00Z"]) {
        const result = evaluate({ ...noPushes, reviews: [review("bob", at, null)] });
        expect(result.outcome).toBe("unknown");
        expect(result.reason).toBe(
          "Cannot tell whether enough independent approvals cover the final code: the host recorded neither the commit bob approved nor the time of every push, so whether it covers the final code is unknown.",
        );
      }
    });

    it("is unknown when the host returned only part of the pushes", () => {
      const result = evaluate({
        ...pushedAfterApproval,
        truncated: ["pushes"],
        reviews: [review("bob", "2026-10-02T12:00:00Z", null)],
      });
      expect(result.outcome).toBe("unknown");
      expect(result.evidence).toContainEqual({ label: "pushes", value: "2 listed (truncated by the host)" });
    });
  });

  it("is unknown when the commit list is truncated and bob may be a hidden committer", () => {
    const result = evaluate({ commitsTruncated: true });
    expect(result.outcome).toBe("unknown");
    expect(result.reason).toBe(
      "Cannot confirm that bob is independent of the change: the host listed only 1 commit of the change, so an approver may have authored or committed one it did not list.",
    );
  });

  it("agrees with cc8.independent-approval on who is independent", () => {
    // Each of these approvals of the final head is not independent, for the reason named.
    const cases: [ChangeRequestOverrides, RegExp, Record<string, TestPerson>?][] = [
      [
        {
          reviews: [
            makeReview({ ...review("renovate[bot]", "2026-10-02T10:00:00Z", HEAD), reviewerKind: "bot" }),
          ],
        },
        /renovate\[bot\] approved but is a bot/,
      ],
      [
        { reviews: [review("ghost", "2026-10-02T10:00:00Z", HEAD)] },
        /ghost approved but is a deleted account/,
      ],
      [
        { reviews: [{ ...review("bob", "2026-10-02T10:00:00Z", HEAD), authorCanPush: false }] },
        /drive-by approval/,
      ],
      [
        {
          commits: [
            makeCommit({
              ...commit(HEAD, "2026-10-01T09:00:00Z"),
              coAuthors: [
                { login: "bob", name: "Bob", email: "bob@acme.example", kind: "user", source: "trailer" },
              ],
            }),
          ],
        },
        /bob approved but co-authored commits/,
      ],
      [{}, /bob approved their own change request \(as alice\)/, { alice: { github: ["alice", "bob"] } }],
    ];
    for (const [overrides, why, people] of cases) {
      const result = evaluate(overrides, {}, people);
      expect(result.outcome).toBe("not-applicable");
      expect(result.evidence).toContainEqual(
        expect.objectContaining({ label: "approval not counted", value: expect.stringMatching(why) }),
      );
    }
  });

  it("is unknown, never a pass, when the host did not say whether the approver could push", () => {
    const result = evaluate({
      reviews: [{ ...review("bob", "2026-10-02T10:00:00Z", HEAD), authorCanPush: null }],
    });
    expect(result.outcome).toBe("unknown");
    expect(result.reason).toBe(
      "Cannot tell whether enough independent approvals cover the final code: bob's approval cannot be confirmed: the host did not say whether bob could push to the repository.",
    );
  });

  it("is unknown when a commit's author is linked to no account, naming the commit and e-mail", () => {
    const unattributed = makeCommit({
      ...commit(HEAD, "2026-10-01T09:00:00Z"),
      authorLogin: null,
      authorName: "Someone",
      authorEmail: "someone@laptop.local",
    });
    const result = evaluate({ commits: [unattributed] });
    expect(result.outcome).toBe("unknown");
    expect(result.reason).toContain(`commit ${HEAD} was authored by Someone <someone@laptop.local>`);
  });

  it("does not apply when there is no independent approval: the other control fails that", () => {
    for (const reviews of [
      [],
      [review("ALICE", "2026-10-02T10:00:00Z", HEAD)],
      [review("bob", "2026-10-03T00:00:00Z", HEAD)],
    ]) {
      expect(evaluate({ reviews })).toMatchObject({
        outcome: "not-applicable",
        reason: "No independent approval; see cc8.independent-approval.",
      });
    }
  });

  it("does not apply to a change closed without merging or to a non-production base", () => {
    expect(evaluate({ state: "closed", mergedAt: null, mergedBy: null, mergeCommitSha: null }).outcome).toBe(
      "not-applicable",
    );
    expect(evaluate({ baseBranch: "feature/x" }).reason).toBe(
      "The base branch feature/x is not a production branch.",
    );
  });

  it("judges an open change request on its current head", () => {
    const open = { state: "open" as const, mergedAt: null, mergedBy: null, mergeCommitSha: null };
    expect(evaluate({ ...open, ...pushedAfterApproval }).outcome).toBe("fail");
    expect(evaluate(open).outcome).toBe("pass");
  });
});
