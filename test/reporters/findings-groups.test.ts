import { describe, expect, it } from "vitest";
import type { Result } from "../../src/controls/types.js";
import {
  fingerprint,
  readChangesMarker,
  readMarker,
  readScopeMarker,
} from "../../src/reporters/findings/fingerprint.js";
import {
  syncFindings,
  type FindingsProgress,
  type SyncOptions,
} from "../../src/reporters/findings/lifecycle.js";
import { changeGroupFingerprint } from "../../src/reporters/findings/render.js";
import { characterLength, GITHUB_LIMITS } from "../../src/text/limits.js";
import { approvalResult, createFakeTracker, newStore, type FakeTracker } from "./fake-tracker.js";

const AT = new Date("2026-11-01T00:00:00Z");
const LATER = new Date("2026-11-08T00:00:00Z");
const AUDIT: SyncOptions = { evaluatedAt: AT, scope: "audit" };
const PER_CHANGE: SyncOptions = { ...AUDIT, groupChangeRequests: "per_change_request" };

/** A failing (or other) cc8.independent-approval result for change `number` of `repository`. */
function change(number: number, repository = "acme/api", overrides: Partial<Result> = {}): Result {
  return approvalResult({
    subject: {
      kind: "change-request",
      id: `${repository}#${number}`,
      repository,
      number,
      user: "alice",
      url: `https://github.com/${repository}/pull/${number}`,
    },
    reason: `Merged without an independent approval (#${number}).`,
    ...overrides,
  });
}

function collaborator(login: string): Result {
  return {
    control: "cc6.outside-collaborator-access",
    criterion: "CC6.2",
    title: "Outside collaborator access",
    subject: { kind: "collaborator", id: `acme/api:@${login}`, repository: "acme/api", user: login },
    outcome: "fail",
    reason: `Outside collaborator ${login} has write access.`,
    evidence: [{ label: "permission", value: "write" }],
  };
}

function open(tracker: FakeTracker) {
  return tracker.store.issues.filter((issue) => issue.state === "open");
}

/** Every change listed by an open issue, as "repository#number", with how many open issues list it. */
function trackedChanges(tracker: FakeTracker): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (key: string): void => void counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const issue of open(tracker)) {
    const scope = readScopeMarker(issue.body)?.scope ?? "";
    const grouped = readChangesMarker(issue.body);
    if (grouped) {
      for (const number of grouped.failing) add(`${scope.replace(/^changes:/, "")}#${number}`);
    } else {
      add(scope.replace(/^(event|repository):/, ""));
    }
  }
  return counts;
}

describe("findings grouped per control and repository (the default)", () => {
  it("opens one issue per control and repository listing its failing changes, and one per other subject", async () => {
    const tracker = createFakeTracker();
    const summary = await syncFindings(
      tracker,
      [
        change(12),
        change(13),
        change(14),
        change(7, "acme/web"),
        change(15, "acme/api", { outcome: "pass" }),
        collaborator("bob"),
      ],
      AUDIT,
    );
    expect(summary.created).toHaveLength(3);
    expect(summary.failed).toEqual([]);
    const api = tracker.store.issues.find(
      (issue) => readMarker(issue.body) === changeGroupFingerprint("cc8.independent-approval", "acme/api"),
    );
    expect(api?.title).toBe("[soc2] cc8.independent-approval: acme/api — 3 merged change requests fail");
    expect(api?.labels).toEqual(["soc2", "CC8.1", "cc8.independent-approval"]);
    expect(api?.body).toContain("### Failing change requests (3)");
    expect(api?.body).toContain(
      "](https://github.com/acme/api/pull/14) — Merged without an independent approval",
    );
    expect(api?.body).not.toContain("/pull/15)");
    expect(readChangesMarker(api?.body)).toEqual({
      urlTemplate: "https://github.com/acme/api/pull/{n}",
      failing: [12, 13, 14],
      dropped: 0,
    });
    // newest first
    expect(api!.body.indexOf("/pull/14)")).toBeLessThan(api!.body.indexOf("/pull/12)"));
    expect(open(tracker).map((issue) => issue.title)).toContain(
      "[soc2] cc6.outside-collaborator-access: acme/api:@​bob — Outside collaborator bob has write access",
    );
  });

  it("writes nothing on a second run with the same results", async () => {
    const tracker = createFakeTracker();
    const results = [change(12), change(13), collaborator("bob")];
    await syncFindings(tracker, results, AUDIT);
    const writes = tracker.writes().length;
    const second = await syncFindings(tracker, results, { ...AUDIT, evaluatedAt: LATER });
    expect(second.unchanged).toHaveLength(2);
    expect([second.created, second.updated, second.closed, second.failed]).toEqual([[], [], [], []]);
    expect(tracker.writes()).toHaveLength(writes);
    expect(open(tracker)).toHaveLength(2);
  });

  it("keeps the list current: new failures added (with a comment), earlier ones kept, passing ones removed, closed when none is left", async () => {
    const tracker = createFakeTracker();
    await syncFindings(tracker, [change(12), change(13)], AUDIT);
    // A later audit's period: #12 and #13 are not in it, #20 fails, #13 was excepted meanwhile.
    const later = await syncFindings(
      tracker,
      [change(20), change(13, "acme/api", { outcome: "excepted", reason: "Accepted risk." })],
      { ...AUDIT, evaluatedAt: LATER },
    );
    expect(later.updated).toEqual([1]);
    const [issue] = tracker.store.issues;
    expect(readChangesMarker(issue?.body)?.failing).toEqual([12, 20]);
    expect(issue?.title).toBe("[soc2] cc8.independent-approval: acme/api — 2 merged change requests fail");
    expect(tracker.store.comments).toEqual([
      { number: 1, body: expect.stringContaining("❌ 1 more failing change request") },
    ]);
    expect(tracker.store.comments[0]?.body).toContain("/pull/20)");

    const fixed = await syncFindings(
      tracker,
      [change(12, "acme/api", { outcome: "pass" }), change(20, "acme/api", { outcome: "pass" })],
      { ...AUDIT, evaluatedAt: LATER },
    );
    expect(fixed.closed).toEqual([1]);
    expect(tracker.store.issues[0]?.state).toBe("closed");
    expect(tracker.store.comments.at(-1)?.body).toContain(
      "Every change request this issue listed passes now",
    );

    const again = await syncFindings(tracker, [change(31)], { ...AUDIT, evaluatedAt: LATER });
    expect(again.reopened).toEqual([1]);
    expect(readChangesMarker(tracker.store.issues[0]?.body)?.failing).toEqual([31]);
    expect(tracker.store.issues).toHaveLength(1);
  });

  it("keeps 1,000 failing changes of one repository in one issue within GitHub's limits, counting what is not shown", async () => {
    const tracker = createFakeTracker();
    const results = Array.from({ length: 1000 }, (_, i) =>
      change(10_000 + i * 7, "acme/api", {
        reason: `Merged without an independent approval: ${"@owner ".repeat(40)}`,
      }),
    );
    const summary = await syncFindings(tracker, results, AUDIT);
    expect(summary.created).toEqual([1]);
    const [issue] = tracker.store.issues;
    expect(characterLength(issue!.body)).toBeLessThanOrEqual(GITHUB_LIMITS.issueBodyCharacters);
    expect(characterLength(issue!.title)).toBeLessThanOrEqual(GITHUB_LIMITS.issueTitleCharacters);
    expect(issue?.title).toContain("1000 merged change requests fail");
    const shown = issue!.body.split("\n").filter((line) => line.startsWith("- [")).length;
    expect(shown).toBeGreaterThan(50);
    expect(shown).toBeLessThan(1000);
    expect(issue?.body).toContain(`_… and ${1000 - shown} more failing change requests not shown here`);
    expect(issue?.body).toContain("evidence package");
    // every change is still tracked, so none is lost from the finding
    expect(readChangesMarker(issue?.body)?.failing).toHaveLength(1000);
    expect(issue?.body).not.toMatch(/@[a-z]/i);
  });

  it("clips a title made long by many @ once they are made inert (each gains a zero-width space)", async () => {
    const tracker = createFakeTracker();
    const owners = Array.from({ length: 40 }, (_, i) => `@owner${i}`).join(" ");
    await syncFindings(
      tracker,
      [
        {
          control: "cc6.owner-count",
          criterion: "CC6.3",
          title: "Owner count",
          subject: { kind: "organization", id: "acme" },
          outcome: "fail",
          reason: `Too many owners: ${owners}`,
          evidence: [],
        },
      ],
      AUDIT,
    );
    const [issue] = tracker.store.issues;
    expect(characterLength(issue!.title)).toBeLessThanOrEqual(256);
    expect(issue?.title.endsWith("…")).toBe(true);
  });
});

describe("switching findings.group_change_requests", () => {
  it("per_change_request to by_repository folds the per-change issues into one, never two open for a change", async () => {
    const tracker = createFakeTracker();
    await syncFindings(tracker, [change(12), change(13), change(14), collaborator("bob")], PER_CHANGE);
    expect(open(tracker)).toHaveLength(4);

    // The next audit's period has only #20; #12 to #14 are in the earlier one.
    const switched = await syncFindings(tracker, [change(20), change(14, "acme/api", { outcome: "pass" })], {
      ...AUDIT,
      evaluatedAt: LATER,
    });
    expect(switched.created).toHaveLength(1);
    expect(switched.folded.sort()).toEqual([1, 2]);
    expect(switched.closed).toEqual([3]);
    expect(switched.failed).toEqual([]);
    const group = tracker.store.issues.find((issue) => issue.number === switched.created[0]);
    expect(readChangesMarker(group?.body)?.failing).toEqual([12, 13, 20]);
    expect(group?.body).toContain("/pull/12) — fails this control \\(moved here from issue 1\\)");
    // one write per folded issue: the note heads its body (no comment), its fingerprint stays
    const folded = tracker.store.issues.find((issue) => issue.number === 1);
    expect(folded?.state).toBe("closed");
    expect(folded?.body.startsWith(`> **Folded into #${group?.number}**`)).toBe(true);
    expect(readMarker(folded?.body)).toBe(fingerprint(change(12)));
    expect(tracker.store.comments.filter((c) => c.number === 1 || c.number === 2)).toEqual([]);
    expect([...trackedChanges(tracker).values()].every((count) => count === 1)).toBe(true);
    expect([...trackedChanges(tracker).keys()].sort()).toEqual([
      "acme/api", // the collaborator finding, scoped to its repository
      "acme/api#12",
      "acme/api#13",
      "acme/api#20",
    ]);

    const writes = tracker.writes().length;
    const again = await syncFindings(tracker, [change(20)], { ...AUDIT, evaluatedAt: LATER });
    expect(again.created).toEqual([]);
    expect(tracker.writes()).toHaveLength(writes);
  });

  it("by_repository to per_change_request moves each change evaluated again to its own issue and closes the grouped one when empty", async () => {
    const tracker = createFakeTracker();
    await syncFindings(tracker, [change(12), change(13)], AUDIT);
    const first = await syncFindings(tracker, [change(12)], { ...PER_CHANGE, evaluatedAt: LATER });
    expect(first.created).toEqual([2]);
    expect(first.updated).toEqual([1]);
    expect(readChangesMarker(tracker.store.issues[0]?.body)?.failing).toEqual([13]);
    expect(tracker.store.issues[0]?.body).toContain(
      "`per_change_request`: a change request that fails from now on",
    );
    expect([...trackedChanges(tracker).entries()].sort()).toEqual([
      ["acme/api#12", 1],
      ["acme/api#13", 1],
    ]);

    const second = await syncFindings(tracker, [change(13, "acme/api", { outcome: "pass" })], {
      ...PER_CHANGE,
      evaluatedAt: LATER,
    });
    expect(second.closed).toEqual([1]);
    expect(open(tracker).map((issue) => issue.number)).toEqual([2]);
  });

  it("a change-request sync (one merge) folds only the issues of the group it writes", async () => {
    const tracker = createFakeTracker();
    await syncFindings(tracker, [change(12), change(7, "acme/web")], PER_CHANGE);
    const merge = await syncFindings(tracker, [change(30)], { evaluatedAt: LATER, scope: "change-request" });
    expect(merge.folded).toEqual([1]);
    expect(open(tracker).map((issue) => readChangesMarker(issue.body)?.failing ?? issue.number)).toEqual([
      2,
      [12, 30],
    ]);
  });
});

describe("two processes at once", () => {
  it("converge on one grouped issue listing the changes both found", async () => {
    const store = newStore();
    await Promise.all([
      syncFindings(createFakeTracker(store), [change(12)], { ...AUDIT, lockKey: "process-one" }),
      syncFindings(createFakeTracker(store), [change(13)], { ...AUDIT, lockKey: "process-two" }),
    ]);
    const tracker = createFakeTracker(store);
    const opened = open(tracker);
    expect(opened).toHaveLength(1);
    expect(readChangesMarker(opened[0]?.body)?.failing).toEqual([12, 13]);
    expect(store.issues).toHaveLength(2);
  });
});

describe("failed writes", () => {
  it("looks for the issue after a create whose answer was lost, and creates no second one", async () => {
    const tracker = createFakeTracker();
    tracker.failNext("create", { kind: "lost" });
    const summary = await syncFindings(tracker, [change(12), collaborator("bob")], AUDIT);
    expect(tracker.store.issues).toHaveLength(2);
    expect(tracker.calls.filter((call) => call.method === "create")).toHaveLength(2);
    expect(summary.created.sort()).toEqual([1, 2]);
    expect(summary.failed).toEqual([]);
  });

  it("goes on after a refused write, reports it with the host's words, and writes it on the next sync", async () => {
    const tracker = createFakeTracker();
    tracker.failNext(
      "create",
      {
        kind: "refused",
        status: 422,
        message: "title is too long (maximum is 256 characters)",
        field: "title",
      },
      (call) => call.method === "create" && call.title.includes("acme/web"),
    );
    const summary = await syncFindings(
      tracker,
      [change(12), change(7, "acme/web"), collaborator("bob")],
      AUDIT,
    );
    expect(summary.created).toHaveLength(2);
    expect(summary.failed).toEqual([
      {
        action: "create",
        finding: "[soc2] cc8.independent-approval: acme/web — 1 merged change request fails",
        applied: "no",
        status: 422,
        message: "title is too long (maximum is 256 characters)",
        fields: ["title"],
      },
    ]);
    const next = await syncFindings(tracker, [change(12), change(7, "acme/web"), collaborator("bob")], AUDIT);
    expect(next.created).toHaveLength(1);
    expect(next.failed).toEqual([]);
    expect(open(tracker)).toHaveLength(3);
  });

  it("keeps a per-change issue open when its grouped issue could not be written", async () => {
    const tracker = createFakeTracker();
    await syncFindings(tracker, [change(12)], PER_CHANGE);
    tracker.failNext("create", { kind: "refused", status: 422, message: "body is too long", field: "body" });
    const summary = await syncFindings(tracker, [change(20)], AUDIT);
    expect(summary.failed).toHaveLength(1);
    expect(summary.folded).toEqual([]);
    expect(tracker.store.issues[0]?.state).toBe("open");
  });
});

describe("pacing and locking", () => {
  it("waits for the host's content-creation limit and reports the wait", async () => {
    let now = 0;
    const waits: number[] = [];
    const progress: FindingsProgress[] = [];
    const tracker = createFakeTracker(newStore(), {
      titleCharacters: 256,
      bodyCharacters: 65_536,
      commentCharacters: 65_536,
      writesPerMinute: 80,
      writesPerHour: 2,
    });
    const summary = await syncFindings(
      tracker,
      ["a", "b", "c", "d"].map((login) => collaborator(login)),
      {
        ...AUDIT,
        lockKey: "pacing-test",
        onProgress: (p) => progress.push(p),
        clock: {
          now: () => now,
          sleep: async (ms) => {
            waits.push(ms);
            now += ms;
          },
        },
      },
    );
    expect(summary.created).toHaveLength(4);
    expect(waits).toEqual([3_600_000]);
    expect(progress).toContainEqual({ done: 2, total: 4, failed: 0, waitingSeconds: 3600 });
    expect(progress.at(-1)).toEqual({ done: 4, total: 4, failed: 0 });
  });

  it("runs the whole sync under the cross-process lock, keyed like the in-process serialisation", async () => {
    const tracker = createFakeTracker();
    const keys: string[] = [];
    let inside = false;
    const summary = await syncFindings(tracker, [change(12)], {
      ...AUDIT,
      lockKey: "github:acme/compliance",
      lock: async (key, work) => {
        keys.push(key);
        inside = true;
        try {
          return await work();
        } finally {
          inside = false;
        }
      },
    });
    expect(keys).toEqual(["github:acme/compliance\nsoc2"]);
    expect(summary.created).toEqual([1]);
    expect(inside).toBe(false);
  });
});
