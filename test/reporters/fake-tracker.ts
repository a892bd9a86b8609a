import type { Result } from "../../src/controls/types.js";
/**
 * An in-memory issue tracker for the findings lifecycle tests. Several trackers can share one store,
 * as several app processes share one code host. Every call is recorded, and every call yields to the
 * event loop first so concurrent runs interleave as they would over HTTP.
 */
import { ProviderError } from "../../src/errors.js";
import { WriteError, type FindingIssue, type IssueTracker } from "../../src/providers/types.js";

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

/**
 * A fault for the next matching write: "lost" applies it and then fails as a 502 would (the answer
 * never came back), "refused" fails without applying it, as GitHub's 422 does.
 */
export type TrackerFault =
  { kind: "lost" } | { kind: "refused"; status: number; message: string; field?: string };

export interface FakeTracker extends IssueTracker {
  store: TrackerStore;
  calls: TrackerCall[];
  /** Calls that write (create, update, comment). */
  writes(): TrackerCall[];
  /** The next write of `method` for which `when` holds (default: the next one) meets `fault`. */
  failNext(
    method: "create" | "update" | "comment",
    fault: TrackerFault,
    when?: (call: TrackerCall) => boolean,
  ): void;
}

export function newStore(issues: FindingIssue[] = []): TrackerStore {
  return { issues: issues.map((issue) => ({ ...issue })), comments: [] };
}

export function createFakeTracker(
  store: TrackerStore = newStore(),
  limits?: IssueTracker["limits"],
): FakeTracker {
  const calls: TrackerCall[] = [];
  const faults: Array<{ method: string; fault: TrackerFault; when: (call: TrackerCall) => boolean }> = [];
  /** The fault for this call, taken once: "refused" throws here, "lost" once the write is applied. */
  const faultFor = (call: TrackerCall): TrackerFault | undefined => {
    const index = faults.findIndex((f) => f.method === call.method && f.when(call));
    if (index < 0) return undefined;
    const fault = faults.splice(index, 1)[0]!.fault;
    if (fault.kind === "refused") {
      throw new WriteError(`GitHub refused to write: ${fault.status} Validation Failed`, {
        host: "github",
        status: fault.status,
        applied: "no",
        hostMessage: fault.message,
        fields: fault.field ? [fault.field] : [],
      });
    }
    return fault;
  };
  const lost = (): never => {
    throw new ProviderError("GitHub answered 502 Bad Gateway", { host: "github", status: 502 });
  };
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
    ...(limits ? { limits } : {}),
    failNext(method, fault, when = () => true) {
      faults.push({ method, fault, when });
    },
    async listByLabel(label) {
      calls.push({ method: "listByLabel", label });
      await tick();
      return store.issues.filter((issue) => issue.labels.includes(label)).map((issue) => ({ ...issue }));
    },
    async create(issue) {
      const call: TrackerCall = { method: "create", ...issue };
      calls.push(call);
      await tick();
      const fault = faultFor(call);
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
      if (fault) lost();
      return { ...created };
    },
    async update(number, change) {
      const call: TrackerCall = { method: "update", number, change };
      calls.push(call);
      await tick();
      const fault = faultFor(call);
      const issue = find(number);
      Object.assign(issue, change);
      if (fault) lost();
      return { ...issue };
    },
    async comment(number, body) {
      const call: TrackerCall = { method: "comment", number, body };
      calls.push(call);
      await tick();
      const fault = faultFor(call);
      find(number);
      store.comments.push({ number, body });
      if (fault) lost();
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
