import { describe, expect, it } from "vitest";
import { independentApproval } from "../../src/controls/cc8-independent-approval.js";
import { peopleDirectory as policyPeople } from "../../src/policy/index.js";
import type { Commit, Review } from "../../src/model/index.js";
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

const HEAD = "h".repeat(40);

function evaluate(
  overrides: ChangeRequestOverrides = {},
  params: Record<string, unknown> = {},
  people: Record<string, TestPerson> = {},
) {
  const results = independentApproval.evaluate(
    { changeRequest: makeChangeRequest(overrides), repository: makeRepository() },
    makeContext(independentApproval.params.parse(params), { people: peopleDirectory(people) }),
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
  return makeReview({ reviewer, state, submittedAt, commitSha });
}

/** A commit by `login` (null: linked to no account), optionally with co-authors. */
function commitBy(login: string | null, extra: Partial<Commit> = {}): Commit {
  return makeCommit({
    sha: "c".repeat(40),
    authorLogin: login,
    authorName: login ?? "Unknown Author",
    committerLogin: login ?? "web-flow",
    authoredAt: "2026-10-01T10:00:00Z",
    committedAt: "2026-10-01T10:00:00Z",
    ...extra,
  });
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
    expect(result.reason).toBe(
      "Approved by bob, independent of the author, co-authors, committers and pushers.",
    );
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
    const commits = [...makeChangeRequest().commits, commitBy("Bob")];
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
    const webCommit = commitBy("carol", { sha: "w".repeat(40), committerLogin: "web-flow" });
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
    expect(result.reason).toBe(
      "Cannot confirm that bob is independent of the change: the host listed only 1 commit of the change, so an approver may have authored or committed one it did not list.",
    );
    expect(result.evidence).toContainEqual({ label: "commits listed", value: "1 (truncated by the host)" });
  });

  it("is unknown, never a pass, when reviews, pushes or co-authors were truncated", () => {
    for (const connection of ["reviews", "pushes", "co-authors"] as const) {
      const result = evaluate({ truncated: [connection] });
      expect(result.outcome, connection).toBe("unknown");
      expect(result.reason).toMatch(
        /^Cannot confirm that bob is independent of the change: the host returned only part of the/,
      );
    }
    // With committers allowed to approve, hidden pushes or co-authors do not matter; hidden reviews do.
    expect(evaluate({ truncated: ["pushes", "co-authors"] }, { exclude_committers: false }).outcome).toBe(
      "pass",
    );
    expect(evaluate({ truncated: ["reviews"] }, { exclude_committers: false }).outcome).toBe("unknown");
  });

  describe("people, not logins", () => {
    it("does not count a reviewer credited as co-author (a suggestion committed in the web UI)", () => {
      // GitHub commits an applied suggestion as the PR's author via web-flow, crediting the reviewer.
      const suggestion = commitBy("alice", {
        committerLogin: "web-flow",
        coAuthors: [
          { login: "bob", name: "Bob", email: "bob@acme.example", kind: "user", source: "trailer" },
        ],
      });
      const result = evaluate({ commits: [...makeChangeRequest().commits, suggestion] });
      expect(result.outcome).toBe("fail");
      expect(result.reason).toBe(
        "0 independent approvals, 1 required: bob approved but co-authored commits.",
      );
    });

    it("does not count a co-author the host linked only by e-mail when the policy names the e-mail", () => {
      const coAuthored = commitBy("alice", {
        coAuthors: [
          { login: null, name: "Bob", email: "Bob@Personal.example", kind: "user", source: "trailer" },
        ],
      });
      const result = evaluate(
        { commits: [coAuthored] },
        {},
        { bob: { github: ["bob"], emails: ["bob@personal.example"] } },
      );
      expect(result.outcome).toBe("fail");
      expect(result.reason).toMatch(/bob approved but co-authored commits \(as Bob@Personal\.example\)/);
    });

    it("does not count a second account of the author declared under people", () => {
      const result = evaluate(
        { reviews: [review("alice-work", "approved", "2026-10-02T10:00:00Z")] },
        {},
        { alice: { github: ["alice", "alice-work"] } },
      );
      expect(result.outcome).toBe("fail");
      expect(result.reason).toBe(
        "0 independent approvals, 1 required: alice-work approved their own change request (as alice).",
      );
    });

    it("counts two accounts of one person once", () => {
      const result = evaluate(
        {
          reviews: [
            review("bob", "approved", "2026-10-02T09:00:00Z"),
            review("bob-work", "approved", "2026-10-02T10:00:00Z"),
          ],
        },
        { min_approvals: 2 },
        { bob: { github: ["bob", "bob-work"] } },
      );
      expect(result.outcome).toBe("fail");
      expect(result.reason).toMatch(/^1 independent approval, 2 required/);
    });

    it("makes an e-mail-only commit author who is a known person involved", () => {
      const fromLaptop = commitBy(null, {
        authorName: "Bob",
        authorEmail: "bob@laptop.example",
        committerLogin: "alice",
      });
      const result = evaluate(
        { commits: [...makeChangeRequest().commits, fromLaptop] },
        {},
        { bob: { github: ["bob"], emails: ["bob@laptop.example"] } },
      );
      expect(result.outcome).toBe("fail");
      expect(result.reason).toBe(
        "0 independent approvals, 1 required: bob approved but authored commits (as bob@laptop.example).",
      );
    });

    it("takes a GitHub no-reply e-mail as the account it names (the policy's people directory)", () => {
      const fromNoreply = commitBy(null, {
        authorName: "Bob",
        authorEmail: "1234+bob@users.noreply.github.com",
        committerLogin: "alice",
      });
      const results = independentApproval.evaluate(
        {
          changeRequest: makeChangeRequest({ commits: [...makeChangeRequest().commits, fromNoreply] }),
          repository: makeRepository(),
        },
        makeContext(independentApproval.params.parse({}), { people: policyPeople([], "github") }),
      );
      expect(results[0]).toMatchObject({
        outcome: "fail",
        reason:
          "0 independent approvals, 1 required: bob approved but authored commits (as 1234+bob@users.noreply.github.com).",
      });
    });

    it("is unknown when a commit's author is linked to no account and no person, naming commit and e-mail", () => {
      const unattributed = commitBy(null, {
        authorName: "Build Box",
        authorEmail: "root@build-7.internal",
        committerLogin: "alice",
      });
      const result = evaluate({ commits: [...makeChangeRequest().commits, unattributed] });
      expect(result.outcome).toBe("unknown");
      expect(result.reason).toBe(
        `Cannot confirm that bob is independent of the change: commit ${"c".repeat(40)} was authored by Build Box <root@build-7.internal>, whom the host links to no account and the policy's people do not name.`,
      );
      expect(result.evidence).toContainEqual({
        label: "unattributed commit",
        value: `${"c".repeat(40)} authored by Build Box <root@build-7.internal>`,
        at: "2026-10-01T10:00:00Z",
      });
    });

    it("is unknown for an unattributed co-author, and for a commit whose committer is linked to nobody", () => {
      const coAuthored = commitBy("alice", {
        coAuthors: [
          { login: null, name: "Pat", email: "pat@elsewhere.example", kind: "user", source: "host" },
        ],
      });
      expect(evaluate({ commits: [coAuthored] }).reason).toMatch(
        /credits co-author Pat <pat@elsewhere\.example>, whom the host links to no account/,
      );
      const unlinkedCommitter = commitBy("alice", { committerLogin: null });
      expect(evaluate({ commits: [unlinkedCommitter] }).outcome).toBe("unknown");
      const unnamedPusher = { at: "2026-10-01T12:00:00Z", actor: null, headSha: HEAD, forced: true };
      expect(evaluate({ pushes: [unnamedPusher] }).reason).toBe(
        "Cannot confirm that bob is independent of the change: the host did not say who pushed head hhhhhhh at 2026-10-01T12:00:00Z.",
      );
    });

    it("keeps a bot's commits from making anything unknown: the change's author stays involved", () => {
      const botCommit = commitBy(null, {
        authorName: "dependabot[bot]",
        authorEmail: "49699333+dependabot[bot]@users.noreply.github.com",
        authorKind: "bot",
        committerLogin: null,
        committerKind: "bot",
      });
      expect(evaluate({ commits: [botCommit] }).outcome).toBe("pass");
      const selfApproved = evaluate({
        commits: [botCommit],
        reviews: [review("alice", "approved", "2026-10-02T10:00:00Z")],
      });
      expect(selfApproved.reason).toMatch(/alice approved their own change request/);
    });
  });

  describe("accounts that can never approve", () => {
    it("does not count a bot's approval, by kind or by [bot] login, and says so", () => {
      const byKind = evaluate({
        reviews: [{ ...review("renovate", "approved", "2026-10-02T10:00:00Z"), reviewerKind: "bot" }],
      });
      expect(byKind.outcome).toBe("fail");
      expect(byKind.reason).toBe("0 independent approvals, 1 required: renovate approved but is a bot.");
      const byLogin = evaluate({ reviews: [review("renovate[bot]", "approved", "2026-10-02T10:00:00Z")] });
      expect(byLogin.outcome).toBe("fail");
      expect(byLogin.evidence).toContainEqual({
        label: "approval not counted",
        value: `renovate[bot] approved but is a bot (commit ${HEAD})`,
        at: "2026-10-02T10:00:00Z",
      });
    });

    it("never counts a deleted account (ghost)", () => {
      const result = evaluate({ reviews: [review("ghost", "approved", "2026-10-02T10:00:00Z")] });
      expect(result.outcome).toBe("fail");
      expect(result.reason).toMatch(/ghost approved but is a deleted account \(ghost\)/);
    });

    it("does not count a drive-by approval by someone who could not push", () => {
      const result = evaluate({
        reviews: [{ ...review("stranger", "approved", "2026-10-02T10:00:00Z"), authorCanPush: false }],
      });
      expect(result.outcome).toBe("fail");
      expect(result.reason).toBe(
        "0 independent approvals, 1 required: stranger approved but could not push to the repository (drive-by approval).",
      );
    });

    it("is unknown, not a pass, when the host did not say whether the approver could push", () => {
      const result = evaluate({
        reviews: [{ ...review("bob", "approved", "2026-10-02T10:00:00Z"), authorCanPush: null }],
      });
      expect(result.outcome).toBe("unknown");
      expect(result.reason).toBe(
        "0 confirmed independent approvals, 1 required: bob's approval cannot be confirmed: the host did not say whether bob could push to the repository.",
      );
      expect(result.evidence).toContainEqual(expect.objectContaining({ label: "approval not confirmed" }));
    });

    it("is unknown when the host did not say what kind of account the approver is", () => {
      const result = evaluate({
        reviews: [{ ...review("bob", "approved", "2026-10-02T10:00:00Z"), reviewerKind: "unknown" }],
      });
      expect(result.outcome).toBe("unknown");
      expect(result.reason).toMatch(/the host did not say what kind of account bob is/);
    });

    it("still fails when even the unconfirmed approvals would not be enough", () => {
      const result = evaluate(
        { reviews: [{ ...review("bob", "approved", "2026-10-02T10:00:00Z"), authorCanPush: null }] },
        { min_approvals: 2 },
      );
      expect(result.outcome).toBe("fail");
    });
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
