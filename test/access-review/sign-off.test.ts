import { describe, expect, it } from "vitest";
import { signOffOf } from "../../src/access-review/index.js";
import { CONTROLS } from "../../src/controls/index.js";
import { loadPolicy, peopleDirectory } from "../../src/policy/index.js";
import { HEAD, makeRecord, OLDER, openedText, revoke } from "./records.js";

const PARAMS = { due_within_days: 30 };
const NOBODY = peopleDirectory([], "github");

function peopleOf(yaml: string) {
  const policy = loadPolicy([{ file: "org.yml", text: `version: 1\npeople:\n${yaml}` }], CONTROLS);
  return peopleDirectory(policy.people, "github");
}

const decided = revoke(openedText(), "collaborator:bob:write", "left the api team");

describe("the sign-off of an access review", () => {
  it("is the merge with an approval of the merged head by someone who neither opened nor wrote on it", () => {
    const signOff = signOffOf(makeRecord({ text: decided }), PARAMS, NOBODY);
    expect(signOff).toMatchObject({
      cycle: "2026-Q4",
      owner: "organization-admins",
      dueAt: "2026-10-31T00:00:00.000Z",
      onTime: true,
      independent: true,
      signedOff: true,
      reviewers: ["dave"],
      decidedAt: "2026-10-20T15:00:00Z",
      problems: [],
      uncommittedApprovals: [],
    });
    expect(signOff.review?.decisions.filter((d) => d.decision === "revoke").map((d) => d.id)).toEqual([
      "collaborator:bob:write",
    ]);
    expect(signOff.why).toBe("signed off by @dave on 2026-10-20T15:00:00Z, due 2026-10-31T00:00:00.000Z");
  });

  it("is none when the only approval is the opener's or a committer's", () => {
    const self = signOffOf(
      makeRecord({ approvals: [{ login: "soc2-bot[bot]", at: "2026-10-20T14:00:00Z", commit: HEAD }] }),
      PARAMS,
      NOBODY,
    );
    expect(self).toMatchObject({ independent: false, signedOff: false, reviewers: [] });
    expect(self.why).toBe(
      "merged without an approval of the merged head by someone who neither opened it nor wrote on it " +
        "(@soc2-bot[bot] wrote on the branch or opened it)",
    );
    const committer = signOffOf(
      makeRecord({ approvals: [{ login: "Erin", at: "2026-10-20T14:00:00Z", commit: HEAD }] }),
      PARAMS,
      NOBODY,
    );
    expect(committer).toMatchObject({ independent: false, signedOff: false });
    expect(signOffOf(makeRecord({ approvals: [] }), PARAMS, NOBODY).why).toMatch(/\(no approval\)$/);
  });

  it("does not count an approval of an older head: it did not see the decisions merged", () => {
    const signOff = signOffOf(
      makeRecord({ approvals: [{ login: "dave", at: "2026-10-10T14:00:00Z", commit: OLDER }] }),
      PARAMS,
      NOBODY,
    );
    expect(signOff).toMatchObject({ independent: false, signedOff: false });
    expect(signOff.why).toContain(`@dave approved ${OLDER.slice(0, 7)}, not the merged head`);
  });

  it("does not count an approval given after the merge: it did not allow the merge", () => {
    const signOff = signOffOf(
      makeRecord({ approvals: [{ login: "dave", at: "2026-10-21T09:00:00Z", commit: HEAD }] }),
      PARAMS,
      NOBODY,
    );
    expect(signOff).toMatchObject({ independent: false, signedOff: false });
    expect(signOff.why).toContain("@dave approved after the merge");
  });

  it("accepts an approval the host gives no commit for (GitLab), and says so", () => {
    const signOff = signOffOf(
      makeRecord({ approvals: [{ login: "dave", at: "2026-10-20T14:00:00Z", commit: null }] }),
      PARAMS,
      NOBODY,
    );
    expect(signOff).toMatchObject({ signedOff: true, reviewers: ["dave"], uncommittedApprovals: ["dave"] });
  });

  it("compares persons: an approval from another account of the committer is not independent", () => {
    const people = peopleOf("  erin: { github: [erin, erin-admin] }\n  dave: { github: [dave] }\n");
    const record = makeRecord({
      approvals: [{ login: "erin-admin", at: "2026-10-20T14:00:00Z", commit: HEAD }],
    });
    expect(signOffOf(record, PARAMS, people)).toMatchObject({ independent: false, signedOff: false });
    // without the people map the two accounts look like two people
    expect(signOffOf(record, PARAMS, NOBODY)).toMatchObject({ independent: true, signedOff: true });
  });

  it("compares a committer the host knows only by e-mail through the policy's people", () => {
    const people = peopleOf("  erin: { github: [erin-admin], emails: [erin@example.com] }\n");
    const record = makeRecord({
      committers: ["erin@example.com"],
      approvals: [{ login: "erin-admin", at: "2026-10-20T14:00:00Z", commit: HEAD }],
    });
    expect(signOffOf(record, PARAMS, people)).toMatchObject({ independent: false, signedOff: false });
  });

  it("is late when merged after the due time, saying by how much", () => {
    const signOff = signOffOf(makeRecord({ mergedAt: "2026-11-03T12:00:00Z" }), PARAMS, NOBODY);
    expect(signOff).toMatchObject({ signedOff: true, onTime: false, decidedAt: "2026-11-03T12:00:00Z" });
    expect(signOff.why).toBe(
      "signed off by @dave on 2026-11-03T12:00:00Z, 3 day(s) after it was due (2026-10-31T00:00:00.000Z)",
    );
  });

  it("is none while open or once closed unmerged", () => {
    const open = signOffOf(makeRecord({ state: "open", mergedAt: null, mergedBy: null }), PARAMS, NOBODY);
    expect(open).toMatchObject({
      signedOff: false,
      onTime: false,
      decidedAt: null,
      why: "open: not merged yet",
    });
    const closed = signOffOf(makeRecord({ state: "closed", mergedAt: null, mergedBy: null }), PARAMS, NOBODY);
    expect(closed).toMatchObject({ signedOff: false, why: "closed without merge: not a sign-off" });
  });

  it("is none when the merged file is invalid, naming file, line and column", () => {
    const broken = openedText().replace("    decision: keep", "    decision: revoke");
    const signOff = signOffOf(makeRecord({ text: broken }), PARAMS, NOBODY);
    expect(signOff).toMatchObject({ signedOff: false, independent: true, review: null });
    expect(signOff.why).toBe(
      "the review file is invalid at the merged head: access-reviews/2026-Q4/organization-admins.yml:20:13 " +
        "grant `collaborator:bob:write` is revoked without a reason: write why in `reason`",
    );
  });

  it("is none when the file as opened cannot be found: its decisions cannot be checked", () => {
    const signOff = signOffOf(makeRecord({ openedText: null, text: decided }), PARAMS, NOBODY);
    expect(signOff.signedOff).toBe(false);
    expect(signOff.problems.map((p) => p.message)).toEqual([
      "the file as opened cannot be found, so the decisions cannot be checked against the grants opened for review",
    ]);
  });
});
