import type { Result } from "../../src/controls/types.js";
/**
 * An in-memory issue tracker for the findings lifecycle tests. Several trackers can share one store,
 * as several app processes share one code host. Every call is recorded, and every call yields to the
 * event loop first so concurrent runs interleave as they would over HTTP.
 */
import type { FindingIssue, IssueTracker } from "../../src/providers/types.js";

export interface TrackerStore {
  issues: FindingIssue[];
  comments: Array<{ number: number; body: string }>;
}

export type TrackerCall =
  | { method: "listByLabel"; label: string }
  | { method: "create"; title: string; body: string; labels: string[] }
  | {
      method: "update";
      number: number;
      change: { title?: string; body?: string; state?: "open" | "closed"; labels?: string[] };
    }
  | { method: "comment"; number: number; body: string };

export interface FakeTracker extends IssueTracker {
  store: TrackerStore;
  calls: TrackerCall[];
  /** Calls that write (create, update, comment). */
  writes(): TrackerCall[];
}

export function newStore(issues: FindingIssue[] = []): TrackerStore {
  return { issues: issues.map((issue) => ({ ...issue })), comments: [] };
}

export function createFakeTracker(store: TrackerStore = newStore()): FakeTracker {
  const calls: TrackerCall[] = [];
  const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  const find = (number: number): FindingIssue => {
    const issue = store.issues.find((candidate) => candidate.number === number);
    if (!issue) throw new Error(`no issue #${number}`);
    return issue;
  };
  return {
    store,
    calls,
    writes: () => calls.filter((call) => call.method !== "listByLabel"),
    async listByLabel(label) {
      calls.push({ method: "listByLabel", label });
      await tick();
      return store.issues.filter((issue) => issue.labels.includes(label)).map((issue) => ({ ...issue }));
    },
    async create(issue) {
      calls.push({ method: "create", ...issue });
      await tick();
      const number = Math.max(0, ...store.issues.map((existing) => existing.number)) + 1;
      const created: FindingIssue = {
        number,
        title: issue.title,
        body: issue.body,
        labels: [...issue.labels],
        state: "open",
        url: `https://github.com/acme/compliance/issues/${number}`,
      };
      store.issues.push(created);
      return { ...created };
    },
    async update(number, change) {
      calls.push({ method: "update", number, change });
      await tick();
      const issue = find(number);
      Object.assign(issue, change);
      return { ...issue };
    },
    async comment(number, body) {
      calls.push({ method: "comment", number, body });
      await tick();
      find(number);
      store.comments.push({ number, body });
    },
  };
}

/** A failing cc8.independent-approval result for acme/api#12, as the engine reports it. */
export function approvalResult(overrides: Partial<Result> = {}): Result {
  return {
    control: "cc8.independent-approval",
    criterion: "CC8.1",
    title: "Independent approval",
    subject: {
      kind: "change-request",
      id: "acme/api#12",
      repository: "acme/api",
      number: 12,
      user: "alice",
      url: "https://github.com/acme/api/pull/12",
    },
    outcome: "fail",
    reason: "Merged without an approval by someone other than the author (alice).",
    evidence: [
      { label: "author", value: "alice" },
      { label: "merged by", value: "alice", at: "2026-10-02T15:00:00Z" },
    ],
    remediation: "Require one approving review by someone other than the author before merging.",
    ...overrides,
  };
}
