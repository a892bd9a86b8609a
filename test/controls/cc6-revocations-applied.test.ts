import { describe, expect, it } from "vitest";
import { revocationsApplied } from "../../src/controls/cc6-revocations-applied.js";
import type { Evaluation } from "../../src/controls/types.js";
import type { AccessReviewRecord, Snapshot } from "../../src/model/index.js";
import { makeContext, makeOrganization, makeRepository, makeSnapshot, unknownOf } from "../fixtures/build.js";
import { makeRecord, openedText, revoke } from "../access-review/records.js";

const params = revocationsApplied.params.parse({});
const BOB = "revocation:2026-Q4:organization-admins:collaborator:bob:write";
const CAROL = "revocation:2026-Q4:organization-admins:member:carol:member (base read)";

/** The review revoking bob's write on acme/api and carol's membership, merged 2026-10-20. */
const decided = revoke(
  revoke(openedText(), "collaborator:bob:write", "moved to sales"),
  "member:carol:member (base read)",
  "left in October",
);

function judge(
  snapshot: Partial<Snapshot>,
  records: AccessReviewRecord[] = [makeRecord({ text: decided })],
  options: { params?: typeof params } = {},
): Evaluation[] {
  const facts = makeSnapshot({ accessReviews: { known: true, value: records }, ...snapshot });
  return revocationsApplied.evaluate(
    facts.organization!,
    makeContext(options.params ?? params, { snapshot: facts }),
  );
}

const outcomes = (results: Evaluation[]) => results.map((r) => [r.subject.id, r.outcome]);
const withoutBob = makeRepository({
  collaborators: { known: true, value: [{ login: "alice", permission: "admin", outside: false }] },
});
const withoutCarol = makeOrganization({
  members: {
    known: true,
    value: [
      { login: "alice", role: "owner" },
      { login: "bob", role: "member" },
    ],
  },
});

describe("cc6.revocations-applied", () => {
  it("defaults to seven days of grace and never removes access itself unless told", () => {
    expect(params).toEqual({ grace_days: 7, apply: false });
    expect(() => revocationsApplied.params.parse({ grace_days: -1 })).toThrow();
  });

  it("fails a revoked grant still present after the grace period, naming the review and the decision", () => {
    const results = judge({});
    expect(outcomes(results)).toEqual([
      [BOB, "fail"],
      [CAROL, "fail"],
    ]);
    expect(results[0]?.reason).toBe(
      'collaborator:bob:write was revoked in acme/compliance#7 on 2026-10-20T15:00:00Z ("moved to sales") but is still present after the 7-day grace period: acme/api: @bob has write.',
    );
    expect(results[0]?.subject).toEqual({
      kind: "revocation",
      id: BOB,
      number: 7,
      url: "https://github.com/acme/compliance/pull/7",
      user: "bob",
    });
  });

  it("names a GitLab review as GitLab does: project!iid", () => {
    const base = makeSnapshot({});
    const results = judge({ collector: { ...base.collector, host: "gitlab" } });
    expect(results[0]?.reason).toContain("revoked in acme/compliance!7 on");
  });

  it("passes a revoked grant that is gone, with when it was seen gone", () => {
    const results = judge({ repositories: [withoutBob], organization: withoutCarol });
    expect(outcomes(results)).toEqual([
      [BOB, "pass"],
      [CAROL, "pass"],
    ]);
    expect(results[0]?.evidence).toContainEqual({
      label: "verified",
      value: "gone from acme/api",
      at: "2026-11-01T00:00:00Z",
    });
  });

  it("counts access lowered below the role reviewed as removed, not a higher one", () => {
    const lowered = makeRepository({
      collaborators: { known: true, value: [{ login: "bob", permission: "read", outside: false }] },
    });
    const raised = makeRepository({
      collaborators: { known: true, value: [{ login: "bob", permission: "admin", outside: false }] },
    });
    expect(outcomes(judge({ repositories: [lowered] }))[0]).toEqual([BOB, "pass"]);
    expect(outcomes(judge({ repositories: [raised] }))[0]).toEqual([BOB, "fail"]);
  });

  it("waits for the grace period after the merge", () => {
    const results = judge({}, undefined, { params: revocationsApplied.params.parse({ grace_days: 30 }) });
    expect(outcomes(results)).toEqual([
      [BOB, "not-applicable"],
      [CAROL, "not-applicable"],
    ]);
    expect(results[0]?.reason).toContain("checked after the 30-day grace period (2026-11-19T15:00:00.000Z)");
  });

  it("is unknown when the access a revoked grant names cannot be read or was not collected", () => {
    const unreadable = makeRepository({ collaborators: unknownOf("administration:read") });
    const results = judge({
      repositories: [unreadable],
      organization: makeOrganization({ members: unknownOf("members:read") }),
    });
    expect(outcomes(results)).toEqual([
      [BOB, "unknown"],
      [CAROL, "unknown"],
    ]);
    expect(results[0]?.reason).toBe(
      "Cannot tell whether collaborator:bob:write, revoked in acme/compliance#7, was removed: cannot read the collaborators of acme/api: administration:read (403 Resource not accessible by integration).",
    );
    const elsewhere = makeRepository({ fullName: "acme/web", url: "https://github.com/acme/web" });
    expect(judge({ repositories: [elsewhere] })[0]?.reason).toContain(
      "the access of acme/api was not collected (archived, excluded or deleted)",
    );
  });

  it("takes no revoke from a review that is no sign-off, and is unknown without the reviews", () => {
    expect(outcomes(judge({}, [makeRecord({ text: decided, approvals: [] })]))).toEqual([
      ["acme", "not-applicable"],
    ]);
    const facts = makeSnapshot();
    const [result] = revocationsApplied.evaluate(
      facts.organization!,
      makeContext(params, { snapshot: facts }),
    );
    expect(result).toMatchObject({ subject: { id: "acme" }, outcome: "unknown" });
  });
});
