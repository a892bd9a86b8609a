import { describe, expect, it } from "vitest";
import { noDirectPush } from "../../src/controls/cc8-no-direct-push.js";
import type { DirectPush } from "../../src/model/index.js";
import { makeContext, makeDirectPush } from "../fixtures/build.js";

const SHA = "d".repeat(40);

function evaluate(overrides: Partial<DirectPush> = {}) {
  return noDirectPush.evaluate(makeDirectPush(overrides), makeContext(noDirectPush.params.parse({})));
}

describe("cc8.no-direct-push", () => {
  it("takes no parameters", () => {
    expect(noDirectPush.params.parse({})).toEqual({});
  });

  it("fails a commit pushed straight to a production branch, naming the pusher and the commit", () => {
    const results = evaluate();
    expect(results).toHaveLength(1);
    expect(results[0]).toEqual({
      subject: {
        kind: "direct-push",
        id: `acme/api@${SHA.slice(0, 12)}`,
        repository: "acme/api",
        commit: SHA,
        user: "mallory",
        url: `https://github.com/acme/api/commit/${SHA}`,
      },
      outcome: "fail",
      reason:
        'Pushed directly to main by mallory at 2026-10-05T12:00:00Z without a change request: ddddddd "hotfix".',
      evidence: [
        {
          label: "commit",
          value: SHA,
          url: `https://github.com/acme/api/commit/${SHA}`,
          at: "2026-10-05T12:00:00Z",
        },
        { label: "branch", value: "main" },
        { label: "pushed by", value: "mallory" },
        { label: "pushed at", value: "2026-10-05T12:00:00Z", at: "2026-10-05T12:00:00Z" },
        { label: "author", value: "mallory" },
        { label: "committer", value: "mallory" },
        { label: "message", value: "hotfix" },
      ],
    });
  });

  it("names the author and committer when the host did not record the pusher", () => {
    const [result] = evaluate({
      pushedBy: null,
      authorLogin: "dave",
      committerLogin: null,
      branch: "release/2.1",
    });
    expect(result!.outcome).toBe("fail");
    expect(result!.reason).toMatch(
      /^Pushed directly to release\/2\.1 by an unrecorded pusher \(author dave, committer unknown\)/,
    );
  });

  it("says the push time was not recorded when only the commit date is known", () => {
    const [result] = evaluate({ pushedAt: null, pushedBy: null });
    expect(result!.reason).toMatch(
      /^Pushed directly to main by an unrecorded pusher \(author mallory, committer mallory\) \(push time not recorded; commit dated 2026-10-05T12:00:00Z\) without/,
    );
    expect(result!.evidence).toContainEqual({
      label: "pushed at",
      value: "push time not recorded (commit date shown: 2026-10-05T12:00:00Z)",
    });
  });

  it("names the push time the host recorded, not the commit date, and says a push was forced", () => {
    const [result] = evaluate({ at: "2026-01-01T00:00:00Z", pushedAt: "2026-10-07T08:30:00Z", forced: true });
    expect(result!.reason).toMatch(
      /^Force-pushed directly to main by mallory at 2026-10-07T08:30:00Z without/,
    );
    expect(result!.evidence).toContainEqual({
      label: "force push",
      value: "yes: the push replaced the branch's history",
    });
    expect(result!.evidence).toContainEqual({
      label: "commit",
      value: SHA,
      url: expect.any(String),
      at: "2026-01-01T00:00:00Z",
    });
  });

  it("keeps the reason to the message's first line and the full message in the evidence", () => {
    const message = `Fix prod\n\nLong explanation\nwith [links](https://x) and @mentions`;
    const [result] = evaluate({ message });
    expect(result!.reason).toMatch(/: ddddddd "Fix prod"\.$/);
    expect(result!.evidence).toContainEqual({ label: "message", value: message });
  });

  it("shortens a very long first line", () => {
    const [result] = evaluate({ message: "x".repeat(200) });
    expect(result!.reason).toContain(`"${"x".repeat(71)}…"`);
  });

  it("does not apply to a branch that is not a production branch", () => {
    expect(evaluate({ branch: "feature/experiment" })).toEqual([
      {
        subject: expect.objectContaining({ kind: "direct-push" }),
        outcome: "not-applicable",
        reason: "The branch feature/experiment is not a production branch.",
        evidence: [{ label: "branch", value: "feature/experiment" }],
      },
    ]);
  });

  it("never passes a direct push: every production-branch push fails", () => {
    const outcomes = ["main", "release/1.0", "release/2.0"].flatMap((branch) =>
      evaluate({ branch }).map((result) => result.outcome),
    );
    expect(outcomes).toEqual(["fail", "fail", "fail"]);
  });
});
