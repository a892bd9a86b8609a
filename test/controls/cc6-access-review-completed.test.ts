import { describe, expect, it } from "vitest";
import { accessReviewCompleted } from "../../src/controls/cc6-access-review-completed.js";
import type { Evaluation } from "../../src/controls/types.js";
import type { AccessReviewRecord, Snapshot } from "../../src/model/index.js";
import { makeContext, makeRepository, makeSnapshot, unknownOf } from "../fixtures/build.js";
import { HEAD, makeRecord } from "../access-review/records.js";

const AT = new Date("2026-11-01T00:00:00Z");
const params = accessReviewCompleted.params.parse({ first_cycle: "2026-Q4" });

function judge(
  reviews: Snapshot["accessReviews"],
  options: { at?: Date; params?: typeof params; snapshot?: Partial<Snapshot> } = {},
): Evaluation[] {
  const snapshot = makeSnapshot({
    ...options.snapshot,
    ...(reviews === undefined ? {} : { accessReviews: reviews }),
  });
  return accessReviewCompleted.evaluate(
    snapshot.organization!,
    makeContext(options.params ?? params, { snapshot, at: options.at ?? AT }),
  );
}

const outcomes = (results: Evaluation[]) => results.map((r) => [r.subject.id, r.outcome]);
const known = (records: AccessReviewRecord[]) => ({ known: true as const, value: records });

describe("cc6.access-review-completed", () => {
  it("defaults as the contract says and rejects a cycle id it cannot read", () => {
    expect(accessReviewCompleted.params.parse({})).toEqual({
      every: "quarter",
      due_within_days: 30,
      owners: [],
      folder: "access-reviews",
    });
    expect(() => accessReviewCompleted.params.parse({ first_cycle: "Q4 2026" })).toThrow();
    expect(() => accessReviewCompleted.params.parse({ due_within_days: 0 })).toThrow();
    expect(() =>
      accessReviewCompleted.params.parse({ owners: [{ owner: "platform", repositories: ["infra/"] }] }),
    ).toThrow(/repository name pattern/);
    expect(() =>
      accessReviewCompleted.params.parse({ owners: [{ owner: "organization-admins", repositories: ["*"] }] }),
    ).toThrow();
  });

  it("is unknown when the reviews were not collected, saying what collects them", () => {
    const [result] = judge(undefined);
    expect(result).toMatchObject({ subject: { kind: "organization", id: "acme" }, outcome: "unknown" });
    expect(result?.reason).toContain("read access to the findings repository's pull requests");
  });

  it("is unknown when the findings repository's pull requests cannot be read, naming the permission", () => {
    const results = judge(unknownOf("pull_requests:read"));
    expect(results).toEqual([
      {
        subject: { kind: "organization", id: "acme", url: "https://github.com/acme" },
        outcome: "unknown",
        reason:
          "Cannot read the access reviews in the findings repository: the token lacks pull_requests:read (403 Resource not accessible by integration).",
        evidence: [{ label: "missing permission", value: "pull_requests:read" }],
      },
    ]);
  });

  it("passes the cycle's review merged on time with an independent approval, with the sign-off as evidence", () => {
    const results = judge(known([makeRecord()]));
    expect(outcomes(results)).toEqual([["access-review:2026-Q4:organization-admins", "pass"]]);
    expect(results[0]?.subject).toEqual({
      kind: "access-review",
      id: "access-review:2026-Q4:organization-admins",
      number: 7,
      url: "https://github.com/acme/compliance/pull/7",
    });
    expect(results[0]?.evidence).toContainEqual({ label: "independent reviewers", value: "dave" });
    expect(results[0]?.evidence).toContainEqual({
      label: "decisions",
      value: "2 grant(s): 2 keep, 0 revoke",
    });
  });

  it("fails a missing review once it is due, and waits for it before", () => {
    expect(outcomes(judge(known([])))).toEqual([["access-review:2026-Q4:organization-admins", "fail"]]);
    expect(judge(known([]))[0]?.reason).toBe(
      "No access review of 2026-Q4 was opened for organization-admins; it was due 2026-10-31T00:00:00.000Z.",
    );
    const early = judge(known([makeRecord({ state: "open", mergedAt: null, mergedBy: null })]), {
      at: new Date("2026-10-15T00:00:00Z"),
      snapshot: { period: { since: "2026-10-01T00:00:00Z", until: "2026-10-15T00:00:00Z" } },
    });
    expect(outcomes(early)).toEqual([["access-review:2026-Q4:organization-admins", "not-applicable"]]);
  });

  it("fails a review merged without an independent approval, merged late, or still open past due", () => {
    const unapproved = judge(known([makeRecord({ approvals: [] })]));
    expect(outcomes(unapproved)).toEqual([["access-review:2026-Q4:organization-admins", "fail"]]);
    expect(unapproved[0]?.reason).toContain("merged without an approval of the merged head");
    const late = judge(known([makeRecord({ mergedAt: "2026-10-31T06:00:00Z" })]));
    expect(late[0]).toMatchObject({ outcome: "fail" });
    expect(late[0]?.reason).toContain("6 hour(s) after it was due");
    const open = judge(known([makeRecord({ state: "open", mergedAt: null, mergedBy: null })]));
    expect(open[0]).toMatchObject({ outcome: "fail" });
  });

  it("judges an older cycle by the reviews it has: today's owners owed none then", () => {
    const owners = accessReviewCompleted.params.parse({
      owners: [{ owner: "platform", repositories: ["infra-*"] }],
    });
    const snapshot = {
      period: { since: "2026-10-01T00:00:00Z", until: "2026-11-01T00:00:00Z" },
      repositories: [
        makeRepository(),
        makeRepository({ fullName: "acme/infra-dns", url: "https://github.com/acme/infra-dns" }),
      ],
    };
    const results = judge(
      known([
        makeRecord({
          cycle: "2026-Q2",
          number: 2,
          mergedAt: "2026-04-20T15:00:00Z",
          approvals: [{ login: "dave", at: "2026-04-20T14:00:00Z", commit: HEAD }],
        }),
        makeRecord({ owner: "platform", number: 9 }),
        makeRecord({ number: 10 }),
        makeRecord({ cycle: "2026-X9", branch: "soc2-bot/access-review/2026-X9/x", number: 11 }),
      ]),
      { params: owners, snapshot },
    );
    expect(outcomes(results)).toEqual([
      ["access-review:2026-X9:organization-admins", "not-applicable"],
      ["access-review:2026-Q2:organization-admins", "pass"],
      ["access-review:2026-Q4:organization-admins", "pass"],
      ["access-review:2026-Q4:platform", "pass"],
    ]);
  });

  it("fails a review whose file is of another organization", () => {
    const text = makeRecord().file!.text.replace("organization: acme", "organization: other");
    const results = judge(known([makeRecord({ text, openedText: text })]));
    expect(results[0]).toMatchObject({ outcome: "fail" });
    expect(results[0]?.reason).toBe(
      'The access review of 2026-Q4 for organization-admins reviews organization "other", not acme.',
    );
  });

  it("judges every cycle of the audit period without first_cycle, and none before it", () => {
    const all = judge(known([makeRecord()]), { params: accessReviewCompleted.params.parse({}) });
    expect(outcomes(all)).toEqual([
      ["access-review:2026-Q3:organization-admins", "fail"],
      ["access-review:2026-Q4:organization-admins", "pass"],
    ]);
    const older = judge(known([makeRecord(), makeRecord({ cycle: "2026-Q3", number: 3 })]));
    expect(outcomes(older)).toEqual([
      ["access-review:2026-Q3:organization-admins", "not-applicable"],
      ["access-review:2026-Q4:organization-admins", "pass"],
    ]);
  });

  it("expects a review from each owner with grants, and counts one reopened after a closed one", () => {
    const owners = accessReviewCompleted.params.parse({
      first_cycle: "2026-Q4",
      owners: [{ owner: "platform", repositories: ["infra-*"] }],
    });
    const snapshot = {
      repositories: [
        makeRepository(),
        makeRepository({ fullName: "acme/infra-dns", url: "https://github.com/acme/infra-dns" }),
      ],
    };
    const results = judge(
      known([
        makeRecord(),
        makeRecord({ owner: "platform", number: 8, state: "closed", mergedAt: null, mergedBy: null }),
        makeRecord({ owner: "platform", number: 9 }),
      ]),
      { params: owners, snapshot },
    );
    expect(outcomes(results)).toEqual([
      ["access-review:2026-Q4:organization-admins", "pass"],
      ["access-review:2026-Q4:platform", "pass"],
    ]);
    expect(results[1]?.subject.number).toBe(9);
    const missing = judge(known([makeRecord()]), { params: owners, snapshot });
    expect(outcomes(missing)).toEqual([
      ["access-review:2026-Q4:organization-admins", "pass"],
      ["access-review:2026-Q4:platform", "fail"],
    ]);
  });
});
