/**
 * Merge-time syncs of grouped change-request findings: each merge's sync carries only its own
 * change's results (scope "change-request"), so the grouped issue of a control and repository must
 * gain that change and keep every change listed before; a change that passes later leaves the list.
 * The reliability suite found #5 missing from "cc8.no-bypass: acme-demo/api"; these pin the lifecycle's
 * side of it with two merges synced one after the other and at once under the cross-process lock.
 */
import { describe, expect, it } from "vitest";
import type { Result } from "../../src/controls/types.js";
import { readChangesMarker } from "../../src/reporters/findings/fingerprint.js";
import { syncFindings, type SyncOptions } from "../../src/reporters/findings/lifecycle.js";
import { createFakeTracker, newStore, type FakeTracker } from "./fake-tracker.js";

const MERGED_FIRST = new Date("2026-11-01T10:00:00Z");
const MERGED_SECOND = new Date("2026-11-01T10:05:00Z");
const LOCK_KEY = "github:acme-demo/compliance";

/** cc8.no-bypass for a merged change of acme-demo/api, as the engine reports it. */
function noBypass(number: number, outcome: Result["outcome"], mergedBy = "walter"): Result {
  const failing = outcome === "fail";
  return {
    control: "cc8.no-bypass",
    criterion: "CC8.1",
    title: "No bypass of branch protection",
    subject: {
      kind: "change-request",
      id: `acme-demo/api#${number}`,
      repository: "acme-demo/api",
      number,
      user: "alice",
      url: `https://github.com/acme-demo/api/pull/${number}`,
    },
    outcome,
    reason: failing
      ? `Merged by ${mergedBy} bypassing branch protection.`
      : `Merged by ${mergedBy} with branch protection enforced.`,
    evidence: [{ label: "merged by", value: mergedBy, at: "2026-11-01T10:00:00Z" }],
    ...(failing ? { remediation: "Do not let administrators bypass the branch rule." } : {}),
  };
}

/** One merge's sync, as the app runs it when a pull request closes merged. */
function mergeSync(at: Date, lock?: SyncOptions["lock"]): SyncOptions {
  return { evaluatedAt: at, scope: "change-request", lockKey: LOCK_KEY, ...(lock ? { lock } : {}) };
}

function openIssues(tracker: FakeTracker) {
  return tracker.store.issues.filter((issue) => issue.state === "open");
}

/** An advisory lock shared by "processes": one holder at a time per key, the others wait in order. */
function sharedLock() {
  const tails = new Map<string, Promise<unknown>>();
  const held = { now: 0, most: 0, keys: [] as string[] };
  const lock = async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    held.keys.push(key);
    const previous = tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    tails.set(key, new Promise<void>((resolve) => (release = resolve)));
    await previous;
    held.now += 1;
    held.most = Math.max(held.most, held.now);
    try {
      return await work();
    } finally {
      held.now -= 1;
      release();
    }
  };
  return { lock, held };
}

describe("merges of one repository failing one control", () => {
  it("list both changes when synced one after the other, each merge adding its own", async () => {
    const store = newStore();
    const first = await syncFindings(
      createFakeTracker(store),
      [noBypass(1, "fail")],
      mergeSync(MERGED_FIRST),
    );
    expect(first.created).toEqual([1]);

    // Another event, another tracker object (the app builds one per event), only #5's results.
    const tracker = createFakeTracker(store);
    const second = await syncFindings(tracker, [noBypass(5, "fail")], mergeSync(MERGED_SECOND));
    expect(second.unchanged).toEqual([]);
    expect(second.updated).toEqual([1]);
    const [issue, ...others] = openIssues(tracker);
    expect(others).toEqual([]);
    expect(issue?.title).toBe("[soc2] cc8.no-bypass: acme-demo/api — 2 merged change requests fail");
    expect(readChangesMarker(issue?.body)?.failing).toEqual([1, 5]);
    expect(issue?.body).toContain("(https://github.com/acme-demo/api/pull/1)");
    expect(issue?.body).toContain("(https://github.com/acme-demo/api/pull/5)");
    // Watchers are told which change joined, and only that one.
    const comments = store.comments.filter((comment) => comment.number === 1);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.body).toContain("/pull/5)");
    expect(comments[0]?.body).not.toContain("/pull/1)");
  });

  it("keep the other change when one passes later, and a redelivered merge changes nothing", async () => {
    const store = newStore();
    await syncFindings(createFakeTracker(store), [noBypass(1, "fail")], mergeSync(MERGED_FIRST));
    await syncFindings(createFakeTracker(store), [noBypass(5, "fail")], mergeSync(MERGED_SECOND));

    // #1 judged again (e.g. an exception or a corrected fact): it passes and leaves the list; #5 stays.
    const later = new Date("2026-11-02T00:00:00Z");
    const passing = await syncFindings(
      createFakeTracker(store),
      [noBypass(1, "pass", "chen")],
      mergeSync(later),
    );
    expect(passing.updated).toEqual([1]);
    expect(passing.closed).toEqual([]);
    const tracker = createFakeTracker(store);
    expect(readChangesMarker(openIssues(tracker)[0]?.body)?.failing).toEqual([5]);

    // #5's merge delivered again: same verdict, nothing to write, nothing dropped.
    const again = await syncFindings(tracker, [noBypass(5, "fail")], mergeSync(later));
    expect(again.unchanged).toEqual([1]);
    expect(tracker.writes()).toEqual([]);
    expect(readChangesMarker(openIssues(tracker)[0]?.body)?.failing).toEqual([5]);

    // #5 passes too: nothing is left, the issue closes.
    const done = await syncFindings(createFakeTracker(store), [noBypass(5, "pass")], mergeSync(later));
    expect(done.closed).toEqual([1]);
    expect(openIssues(createFakeTracker(store))).toEqual([]);
  });

  it("list both changes when the two merges sync at once under the cross-process lock", async () => {
    const store = newStore();
    const { lock, held } = sharedLock();
    const [first, second] = await Promise.all([
      syncFindings(createFakeTracker(store), [noBypass(1, "fail")], mergeSync(MERGED_FIRST, lock)),
      syncFindings(createFakeTracker(store), [noBypass(5, "fail")], mergeSync(MERGED_SECOND, lock)),
    ]);
    // One sync at a time, each under the same key.
    expect(held.most).toBe(1);
    expect(held.keys).toEqual([`${LOCK_KEY}\nsoc2`, `${LOCK_KEY}\nsoc2`]);
    expect(first.created).toEqual([1]);
    expect(second.updated).toEqual([1]);
    expect(store.issues).toHaveLength(1);
    const [issue] = openIssues(createFakeTracker(store));
    expect(issue?.title).toBe("[soc2] cc8.no-bypass: acme-demo/api — 2 merged change requests fail");
    expect(readChangesMarker(issue?.body)?.failing).toEqual([1, 5]);
  });

  it("list both changes when two processes without a shared lock race (their duplicates merged)", async () => {
    const store = newStore();
    // Different in-process keys stand for two processes: nothing serialises them.
    await Promise.all([
      syncFindings(createFakeTracker(store), [noBypass(1, "fail")], {
        ...mergeSync(MERGED_FIRST),
        lockKey: "process-one",
      }),
      syncFindings(createFakeTracker(store), [noBypass(5, "fail")], {
        ...mergeSync(MERGED_SECOND),
        lockKey: "process-two",
      }),
    ]);
    const opened = openIssues(createFakeTracker(store));
    expect(opened).toHaveLength(1);
    expect(readChangesMarker(opened[0]?.body)?.failing).toEqual([1, 5]);
  });
});

describe("GitLab merge requests", () => {
  it("are listed as !n (GitLab's #n is an issue), and a second merge keeps the first one's line", async () => {
    const store = newStore();
    const mergeRequest = (number: number): Result => {
      const result = noBypass(number, "fail");
      return {
        ...result,
        subject: {
          ...result.subject,
          url: `https://gitlab.example.com/acme-demo/api/-/merge_requests/${number}`,
        },
      };
    };
    await syncFindings(createFakeTracker(store), [mergeRequest(12)], mergeSync(MERGED_FIRST));
    const first = store.issues[0]!.body;
    const line =
      "- [acme\\-demo/api\\!\u200B12](https://gitlab.example.com/acme-demo/api/-/merge_requests/12) — ";
    expect(first).toContain(line);
    expect(first).not.toContain("api\\#");

    const tracker = createFakeTracker(store);
    await syncFindings(tracker, [mergeRequest(13)], mergeSync(MERGED_SECOND));
    const [issue] = openIssues(tracker);
    expect(readChangesMarker(issue?.body)?.failing).toEqual([12, 13]);
    // #12's line read back from the body, as it was (no result of this run names it).
    expect(issue?.body).toContain(`${line}Merged by walter bypassing branch protection\\.`);
    expect(issue?.body).toContain("(https://gitlab.example.com/acme-demo/api/-/merge_requests/13)");
  });
});
