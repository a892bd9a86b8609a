import { describe, expect, it } from "vitest";
import type { Result } from "../../src/controls/types.js";
import { fingerprint, marker } from "../../src/reporters/findings/fingerprint.js";
import { syncFindings, type SyncOptions } from "../../src/reporters/findings/lifecycle.js";
import { renderFindingIssue } from "../../src/reporters/findings/render.js";
import { approvalResult, createFakeTracker, newStore } from "./fake-tracker.js";

const AT = new Date("2026-11-01T00:00:00Z");
const LATER = new Date("2026-11-02T00:00:00Z");
// These cases are about one issue per finding: change requests get their own (grouping is tested apart).
const PER_CHANGE = { groupChangeRequests: "per_change_request" } as const;
const AUDIT: SyncOptions = { evaluatedAt: AT, scope: "audit", ...PER_CHANGE };
const CHANGE: SyncOptions = { evaluatedAt: AT, scope: "change-request", ...PER_CHANGE };

function collaboratorResult(login: string, overrides: Partial<Result> = {}): Result {
  return {
    control: "cc6.outside-collaborator-access",
    criterion: "CC6.2",
    title: "Outside collaborator access",
    subject: { kind: "collaborator", id: `acme/api:@${login}`, repository: "acme/api", user: login },
    outcome: "fail",
    reason: `Outside collaborator ${login} has write access.`,
    evidence: [{ label: "permission", value: "write" }],
    remediation: "Remove the outside collaborator or lower the access to read.",
    ...overrides,
  };
}

function openIssues(tracker: ReturnType<typeof createFakeTracker>): number[] {
  return tracker.store.issues.filter((issue) => issue.state === "open").map((issue) => issue.number);
}

describe("syncFindings", () => {
  it("opens one issue for a new failure, labelled with the criterion and control", async () => {
    const tracker = createFakeTracker();
    const summary = await syncFindings(tracker, [approvalResult()], CHANGE);
    expect(summary).toEqual({
      created: [1],
      updated: [],
      closed: [],
      reopened: [],
      unchanged: [],
      duplicatesClosed: [],
      folded: [],
      failed: [],
    });
    const [issue] = tracker.store.issues;
    expect(issue?.labels).toEqual(["soc2", "CC8.1", "cc8.independent-approval"]);
    expect(issue?.body).toContain(marker(fingerprint(approvalResult())));
  });

  it("does not create or update anything when the same failure is seen again, even a day later", async () => {
    const tracker = createFakeTracker();
    await syncFindings(tracker, [approvalResult()], CHANGE);
    const before = tracker.writes().length;
    const summary = await syncFindings(tracker, [approvalResult()], { ...CHANGE, evaluatedAt: LATER });
    expect(summary.unchanged).toEqual([1]);
    expect(tracker.writes().length).toBe(before);
  });

  it("updates the issue once when the evidence changed", async () => {
    const tracker = createFakeTracker();
    await syncFindings(tracker, [approvalResult()], CHANGE);
    const changed = approvalResult({ evidence: [{ label: "merged by", value: "carol" }] });
    const summary = await syncFindings(tracker, [changed], CHANGE);
    expect(summary.updated).toEqual([1]);
    expect(tracker.writes().filter((call) => call.method === "update")).toHaveLength(1);
    expect(tracker.store.issues[0]?.body).toContain("carol");
    expect((await syncFindings(tracker, [changed], CHANGE)).unchanged).toEqual([1]);
  });

  it("closes the issue with a comment when the control passes", async () => {
    const tracker = createFakeTracker();
    await syncFindings(tracker, [approvalResult()], CHANGE);
    const passing = approvalResult({ outcome: "pass", reason: "Approved by bob, who is not the author." });
    const summary = await syncFindings(tracker, [passing], CHANGE);
    expect(summary.closed).toEqual([1]);
    expect(tracker.store.issues[0]?.state).toBe("closed");
    expect(tracker.store.comments.map((comment) => comment.number)).toEqual([1]);
    expect(tracker.store.comments[0]?.body).toContain("passes now");
    expect(tracker.store.comments[0]?.body).toContain("Approved by bob");
  });

  it("closes the issue naming the exception that accepted the risk", async () => {
    const tracker = createFakeTracker();
    await syncFindings(tracker, [approvalResult()], CHANGE);
    const excepted = approvalResult({
      outcome: "excepted",
      exception: {
        reason: "Emergency fix for incident 42, reviewed after merge",
        approvedBy: "carol",
        expires: "2026-12-31",
        source: ".github/soc2.yml:14",
      },
    });
    const summary = await syncFindings(tracker, [excepted], CHANGE);
    expect(summary.closed).toEqual([1]);
    const comment = tracker.store.comments[0]?.body ?? "";
    expect(comment).toContain("Emergency fix for incident 42");
    expect(comment).toContain("`carol`");
    expect(comment).toContain("2026\\-12\\-31");
    expect(comment).toContain(".github/soc2.yml:14");
  });

  it("reopens a closed finding that fails again, with a comment", async () => {
    const tracker = createFakeTracker();
    await syncFindings(tracker, [approvalResult()], CHANGE);
    await syncFindings(tracker, [approvalResult({ outcome: "pass", reason: "Approved." })], CHANGE);
    const summary = await syncFindings(tracker, [approvalResult()], { ...CHANGE, evaluatedAt: LATER });
    expect(summary.reopened).toEqual([1]);
    expect(summary.created).toEqual([]);
    expect(openIssues(tracker)).toEqual([1]);
    expect(tracker.store.comments.at(-1)?.body).toContain("Failing again");
  });

  it("never closes or opens a finding on an unknown result", async () => {
    const tracker = createFakeTracker();
    await syncFindings(tracker, [approvalResult()], AUDIT);
    const unknown = approvalResult({
      outcome: "unknown",
      reason: "Cannot read the reviews: the token lacks pull_requests:read (403).",
    });
    const summary = await syncFindings(tracker, [unknown], AUDIT);
    expect(summary.unchanged).toEqual([1]);
    expect(openIssues(tracker)).toEqual([1]);
    const fresh = createFakeTracker();
    await syncFindings(fresh, [unknown], AUDIT);
    expect(fresh.store.issues).toEqual([]);
  });

  describe("a finding whose subject vanished", () => {
    async function withOpenFinding(): Promise<ReturnType<typeof createFakeTracker>> {
      const tracker = createFakeTracker();
      await syncFindings(
        tracker,
        [collaboratorResult("mallory"), collaboratorResult("bob", { outcome: "pass" })],
        AUDIT,
      );
      expect(openIssues(tracker)).toEqual([1]);
      return tracker;
    }

    it("is closed by an audit that evaluated the control in that repository cleanly", async () => {
      const tracker = await withOpenFinding();
      const summary = await syncFindings(tracker, [collaboratorResult("bob", { outcome: "pass" })], AUDIT);
      expect(summary.closed).toEqual([1]);
      expect(tracker.store.comments[0]?.body).toContain("no longer present");
    });

    it("stays open when part of that scope could not be read", async () => {
      const tracker = await withOpenFinding();
      const unreadable = collaboratorResult("bob", {
        outcome: "unknown",
        reason: "Cannot read collaborators: the token lacks administration:read (403).",
      });
      const summary = await syncFindings(tracker, [unreadable], AUDIT);
      expect(summary.closed).toEqual([]);
      expect(openIssues(tracker)).toEqual([1]);
    });

    it("stays open when the audit did not evaluate that control in that repository", async () => {
      const tracker = await withOpenFinding();
      const elsewhere = collaboratorResult("bob", {
        outcome: "pass",
        subject: { kind: "collaborator", id: "acme/web:@bob", repository: "acme/web", user: "bob" },
      });
      await syncFindings(tracker, [elsewhere, approvalResult({ outcome: "pass" })], AUDIT);
      expect(openIssues(tracker)).toEqual([1]);
    });

    it("stays open for a merged change outside a later audit's period: a past event never vanishes", async () => {
      const tracker = createFakeTracker();
      await syncFindings(tracker, [approvalResult()], AUDIT);
      const laterWindow = approvalResult({
        outcome: "pass",
        subject: { kind: "change-request", id: "acme/api#13", repository: "acme/api", number: 13 },
      });
      const summary = await syncFindings(tracker, [laterWindow], AUDIT);
      expect(summary.closed).toEqual([]);
      expect(openIssues(tracker)).toEqual([1]);
    });

    it("is never touched by a change-request run", async () => {
      const tracker = await withOpenFinding();
      await syncFindings(tracker, [collaboratorResult("bob", { outcome: "pass" })], CHANGE);
      expect(openIssues(tracker)).toEqual([1]);
    });
  });

  describe("concurrency", () => {
    it("two runs at once on one tracker end with one issue", async () => {
      const tracker = createFakeTracker();
      const [first, second] = await Promise.all([
        syncFindings(tracker, [approvalResult()], CHANGE),
        syncFindings(tracker, [approvalResult()], CHANGE),
      ]);
      expect(first.created).toEqual([1]);
      expect(second.unchanged).toEqual([1]);
      expect(tracker.store.issues.map((issue) => issue.number)).toEqual([1]);
    });

    it("two processes sharing the code host converge to the lowest-numbered open issue", async () => {
      const store = newStore();
      const [one, two] = [createFakeTracker(store), createFakeTracker(store)];
      await Promise.all([
        syncFindings(one, [approvalResult()], CHANGE),
        syncFindings(two, [approvalResult()], CHANGE),
      ]);
      expect(store.issues.filter((issue) => issue.state === "open").map((issue) => issue.number)).toEqual([
        1,
      ]);
      expect(
        store.comments.filter((comment) => comment.body.includes("Duplicate of #1")).length,
      ).toBeGreaterThan(0);
    });

    it("closes pre-existing duplicates, keeping the lowest number", async () => {
      const rendered = renderFindingIssue(approvalResult(), { evaluatedAt: AT });
      const issue = (number: number) => ({
        number,
        ...rendered,
        state: "open" as const,
        url: `https://x/${number}`,
      });
      const tracker = createFakeTracker(newStore([issue(7), issue(3), issue(9)]));
      const summary = await syncFindings(tracker, [approvalResult()], CHANGE);
      expect(summary.unchanged).toEqual([3]);
      expect(summary.duplicatesClosed).toEqual([7, 9]);
      expect(tracker.store.comments.map((comment) => comment.number)).toEqual([7, 9]);
      expect(tracker.store.comments[0]?.body).toContain("Duplicate of #3");
      expect(openIssues(tracker)).toEqual([3]);
    });

    it("serialises by lock key across tracker objects", async () => {
      const store = newStore();
      const options = { ...CHANGE, lockKey: "github:acme/compliance" };
      const [a, b] = await Promise.all([
        syncFindings(createFakeTracker(store), [approvalResult()], options),
        syncFindings(createFakeTracker(store), [approvalResult()], options),
      ]);
      expect([a.created, b.unchanged]).toEqual([[1], [1]]);
      expect(store.issues).toHaveLength(1);
    });
  });

  it("leaves issues without a soc2-bot marker alone", async () => {
    const manual = {
      number: 5,
      title: "Question about SOC 2",
      body: "Who owns CC6?",
      state: "open" as const,
      url: "u",
      labels: ["soc2"],
    };
    const tracker = createFakeTracker(newStore([manual]));
    await syncFindings(tracker, [collaboratorResult("bob", { outcome: "pass" })], AUDIT);
    expect(tracker.writes()).toEqual([]);
  });
});
