/**
 * The findings lifecycle: one issue per finding, found again by the fingerprint hidden in its body.
 * A finding is a control failing for a subject, except that failing change requests are grouped by
 * default: one issue per control and repository lists them (a large organization gets a bounded
 * number of issues, not one per merge). Opened when the control fails, updated only when what it
 * says changed, closed when it passes or is excepted, reopened when it fails again. A finding is
 * never closed because a fact could not be read: "unknown" is not "fixed".
 *
 * Writes: a write the host refused, or whose answer was lost, never stops the rest of the sync: it is
 * recorded in the summary with the host's own words, and the next sync finds the finding missing or
 * stale and writes it. After a lost answer the tracker is read again before writing again, so a create
 * that was applied is not made twice. Writes are paced to the host's content-creation limits.
 */
import type { Result } from "../../controls/types.js";
import { ProviderError, unreachableErrorIn } from "../../errors.js";
import {
  WriteError,
  type FindingIssue,
  type IssueTracker,
  type IssueTrackerLimits,
} from "../../providers/types.js";
import { markdownText, markdownUser } from "../../text/escape.js";
import { characterLength, clipCharacters, GITHUB_LIMITS } from "../../text/limits.js";
import {
  changeGroupScope,
  changeOfScope,
  fingerprint,
  readChangesMarker,
  readMarker,
  readScopeMarker,
  scopeOf,
} from "./fingerprint.js";
import { codeCell, formatTime } from "./format.js";
import {
  changeGroupFingerprint,
  changeLine,
  changeLinesOf,
  changeUrl,
  comparableBody,
  DEFAULT_FINDING_LABEL,
  renderChangeGroupIssue,
  remediationOf,
  renderFindingIssue,
  urlTemplateOf,
  type FindingContext,
} from "./render.js";

export type ChangeRequestGrouping = "by_repository" | "per_change_request";

export interface SyncOptions {
  /** The label every finding issue carries; default "soc2". */
  label?: string;
  /** The evaluation time of the results (an input, never the clock). */
  evaluatedAt: Date;
  /**
   * "audit": the results cover whole repositories/organizations, so a finding whose subject is gone
   * can be closed. "change-request": the results cover one change request; others are left alone.
   */
  scope: "audit" | "change-request";
  /**
   * Serialises runs that share this key even across tracker objects (e.g. "github:acme/compliance").
   * Without it, runs on the same tracker object are serialised.
   */
  lockKey?: string;
  /** Web URL of the code host, for subjects without a URL of their own. */
  hostUrl?: string;
  /**
   * The policy's `findings.group_change_requests`: one issue per control and repository listing its
   * failing change requests (default), or one issue per failing change request.
   */
  groupChangeRequests?: ChangeRequestGrouping;
  /**
   * Serialises the whole sync across processes (e.g. a PostgreSQL advisory lock), on top of the
   * in-process serialisation: called with the same key that serialises runs in the process.
   */
  lock?: <T>(key: string, work: () => Promise<T>) => Promise<T>;
  /** Called after each write and before each wait for the host's content-creation limits. */
  onProgress?: (progress: FindingsProgress) => void;
  /** The clock writes are paced by (tests replace it); default the real one. */
  clock?: WriteClock;
}

export interface WriteClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export interface FindingsProgress {
  /** Writes done (or given up) of those planned so far; the total grows when a later step plans more. */
  done: number;
  total: number;
  failed: number;
  /** Set while waiting for the host's content-creation limit, with how long. */
  waitingSeconds?: number;
}

/** A write that did not happen, or whose outcome is not known, with the host's own words. */
export interface FailedWrite {
  action: "create" | "update" | "reopen" | "close" | "comment";
  /** The issue it was for, when it exists. */
  issue?: number;
  /** The finding's title. */
  finding: string;
  /** "no": the host refused it; "unknown": its answer was lost and looking again did not settle it. */
  applied: "no" | "unknown";
  status?: number;
  /** What the host said, e.g. "title is too long (maximum is 256 characters)". */
  message: string;
  /** The fields the host named, e.g. ["title"]. */
  fields: string[];
}

export interface SyncSummary {
  created: number[];
  updated: number[];
  closed: number[];
  reopened: number[];
  unchanged: number[];
  duplicatesClosed: number[];
  /** Per-change issues closed into the issue of their control and repository (grouping switched on). */
  folded: number[];
  /** Writes that failed: the rest of the sync went on; the next sync retries them. */
  failed: FailedWrite[];
}

/** Brings the finding issues in line with `results`. Concurrent calls on one tracker run one by one. */
export function syncFindings(
  tracker: IssueTracker,
  results: Result[],
  options: SyncOptions,
): Promise<SyncSummary> {
  const label = options.label ?? DEFAULT_FINDING_LABEL;
  const key = options.lockKey === undefined ? label : `${options.lockKey}\n${label}`;
  const run = (): Promise<SyncSummary> =>
    sync(tracker, results, { ...options, label }, pacerOf(tracker, options));
  return serialise(tracker, key, options.lockKey !== undefined, () =>
    options.lock ? options.lock(key, run) : run(),
  );
}

// ---- serialisation within the process (across processes: options.lock, else duplicates converge) ----

const chainsByTracker = new WeakMap<IssueTracker, Map<string, Promise<unknown>>>();
const chainsByKey = new Map<string, Promise<unknown>>();

function serialise<T>(
  tracker: IssueTracker,
  key: string,
  byKey: boolean,
  task: () => Promise<T>,
): Promise<T> {
  let chains = byKey ? chainsByKey : chainsByTracker.get(tracker);
  if (!chains) {
    chains = new Map();
    chainsByTracker.set(tracker, chains);
  }
  const previous = chains.get(key) ?? Promise.resolve();
  // The next run waits for this one whether it succeeds or fails; its error goes to its own caller.
  const run = previous.then(task, task);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  chains.set(key, tail);
  // Drop finished chains so the map does not grow with every key ever used.
  void tail.then(() => {
    if (chains.get(key) === tail) chains.delete(key);
  });
  return run;
}

// ---- pacing: the host's content-creation limits, shared by the runs of one tracker in the process ----

const REAL_CLOCK: WriteClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** GitHub's limits: the default for a tracker that states none (the strictest host). */
const GITHUB_TRACKER_LIMITS: IssueTrackerLimits = {
  titleCharacters: GITHUB_LIMITS.issueTitleCharacters,
  bodyCharacters: GITHUB_LIMITS.issueBodyCharacters,
  commentCharacters: GITHUB_LIMITS.commentBodyCharacters,
  writesPerMinute: 80,
  writesPerHour: 500,
};

interface Pacer {
  /** Times of the writes of the last hour, oldest first. */
  stamps: number[];
}

const pacersByTracker = new WeakMap<IssueTracker, Pacer>();
const pacersByKey = new Map<string, Pacer>();

function pacerOf(tracker: IssueTracker, options: SyncOptions): Pacer {
  const byKey = options.lockKey;
  const existing = byKey === undefined ? pacersByTracker.get(tracker) : pacersByKey.get(byKey);
  if (existing) return existing;
  const pacer: Pacer = { stamps: [] };
  if (byKey === undefined) pacersByTracker.set(tracker, pacer);
  else pacersByKey.set(byKey, pacer);
  return pacer;
}

/** Waits until one more write fits the per-minute and per-hour limits, then counts it. */
async function pace(
  pacer: Pacer,
  limits: IssueTrackerLimits,
  clock: WriteClock,
  onWait: (ms: number) => void,
): Promise<void> {
  for (;;) {
    const now = clock.now();
    const stamps = pacer.stamps;
    while (stamps.length > 0 && stamps[0]! <= now - 3_600_000) stamps.shift();
    let wait = 0;
    const { writesPerMinute: perMinute, writesPerHour: perHour } = limits;
    if (perHour !== undefined && stamps.length >= perHour) {
      wait = Math.max(wait, stamps[stamps.length - perHour]! + 3_600_000 - now);
    }
    if (perMinute !== undefined) {
      const inMinute = stamps.filter((stamp) => stamp > now - 60_000).length;
      if (inMinute >= perMinute) wait = Math.max(wait, stamps[stamps.length - perMinute]! + 60_000 - now);
    }
    if (wait <= 0) {
      stamps.push(now);
      return;
    }
    onWait(wait);
    await clock.sleep(wait);
  }
}

// ---- writes that survive refusals and lost answers ----

/** How often a write whose answer was lost is tried (looking before each new try). */
const ATTEMPTS = 3;
const RETRY_DELAY_MS = 1_000;

/** What a failed write tells: refused (not applied) or lost (maybe applied), and the host's words. */
function describeWriteFailure(error: unknown): Omit<FailedWrite, "action" | "issue" | "finding"> {
  if (error instanceof WriteError) {
    return {
      applied: error.write.applied,
      ...(error.write.status === undefined ? {} : { status: error.write.status }),
      message: error.write.hostMessage || error.message,
      fields: error.write.fields,
    };
  }
  const status = error instanceof ProviderError ? error.details.status : undefined;
  const message = error instanceof Error ? error.message : String(error);
  // A 4xx answer is a refusal: nothing was written. Anything else (5xx, a timeout, a dropped
  // connection, an answer that could not be read) may have been applied.
  const refused = status !== undefined && status >= 400 && status < 500 && status !== 408;
  return {
    applied: refused ? "no" : "unknown",
    ...(status === undefined ? {} : { status }),
    message,
    fields: [],
  };
}

class WriteFailed extends Error {
  constructor(readonly failure: Omit<FailedWrite, "action" | "issue" | "finding">) {
    super(failure.message);
  }
}

interface Writer {
  tracker: IssueTracker;
  limits: IssueTrackerLimits;
  summary: SyncSummary;
  /** Writes planned and done, for the progress line. */
  plan(writes: number): void;
  /** Every write goes through here: paced, counted, reported. */
  send<T>(write: () => Promise<T>): Promise<T>;
  /** A write that will not be sent after all (its finding failed earlier): counted as done. */
  skip(writes: number): void;
  sleep(ms: number): Promise<void>;
  record(failure: FailedWrite): void;
}

function newWriter(
  tracker: IssueTracker,
  summary: SyncSummary,
  pacer: Pacer,
  options: Pick<SyncOptions, "clock" | "onProgress">,
): Writer {
  const limits = tracker.limits ?? GITHUB_TRACKER_LIMITS;
  const clock = options.clock ?? REAL_CLOCK;
  const progress = { done: 0, total: 0 };
  const report = (waitingMs?: number): void =>
    options.onProgress?.({
      done: progress.done,
      total: progress.total,
      failed: summary.failed.length,
      ...(waitingMs === undefined ? {} : { waitingSeconds: Math.ceil(waitingMs / 1000) }),
    });
  return {
    tracker,
    limits,
    summary,
    plan(writes) {
      progress.total += writes;
    },
    async send(write) {
      await pace(pacer, limits, clock, (ms) => report(ms));
      try {
        return await write();
      } finally {
        progress.done += 1;
        progress.total = Math.max(progress.total, progress.done);
        report();
      }
    },
    skip(writes) {
      progress.done += writes;
      report();
    },
    sleep: (ms) => clock.sleep(ms),
    record(failure) {
      summary.failed.push(failure);
    },
  };
}

/**
 * Creates the issue of fingerprint `fp`. When an answer is lost the tracker is read again: an issue
 * with the fingerprint means the create was applied; none means it is tried again.
 */
async function createIssue(
  writer: Writer,
  issue: { title: string; body: string; labels: string[] },
  fp: string,
  label: string,
): Promise<FindingIssue> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await writer.send(() => writer.tracker.create(issue));
    } catch (error) {
      // No connection at all: no write went out, and none of the next ones would either.
      if (unreachableErrorIn(error)) throw error;
      const failure = describeWriteFailure(error);
      if (failure.applied === "no") throw new WriteFailed(failure);
      const found = (await writer.tracker.listByLabel(label))
        .filter((candidate) => readMarker(candidate.body) === fp && candidate.state === "open")
        .sort((a, b) => a.number - b.number)[0];
      if (found) return found;
      if (attempt >= ATTEMPTS) throw new WriteFailed(failure);
      writer.plan(1);
      await writer.sleep(RETRY_DELAY_MS * attempt);
    }
  }
}

/** An edit says what the issue is to be, so a lost answer is settled by sending it again. */
async function updateIssue(
  writer: Writer,
  number: number,
  change: Parameters<IssueTracker["update"]>[1],
): Promise<FindingIssue> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await writer.send(() => writer.tracker.update(number, change));
    } catch (error) {
      if (unreachableErrorIn(error)) throw error;
      const failure = describeWriteFailure(error);
      if (failure.applied === "no" || attempt >= ATTEMPTS) throw new WriteFailed(failure);
      writer.plan(1);
      await writer.sleep(RETRY_DELAY_MS * attempt);
    }
  }
}

/**
 * A comment is not sent twice: a lost answer may mean it was posted, and a second copy would notify
 * everyone again. It is recorded as of unknown outcome and the sync goes on; a refusal throws.
 */
async function commentIssue(writer: Writer, number: number, body: string, finding: string): Promise<void> {
  const text = clipCharacters(body, writer.limits.commentCharacters);
  try {
    await writer.send(() => writer.tracker.comment(number, text));
  } catch (error) {
    if (unreachableErrorIn(error)) throw error;
    const failure = describeWriteFailure(error);
    if (failure.applied === "no") throw new WriteFailed(failure);
    writer.record({ action: "comment", issue: number, finding, ...failure });
  }
}

/** Runs one finding's writes; a failure is recorded under `action` and the sync goes on. */
async function attempt(
  writer: Writer,
  what: { action: FailedWrite["action"]; issue?: number; finding: string; writes: number },
  work: (done: () => void) => Promise<void>,
): Promise<boolean> {
  let sent = 0;
  try {
    await work(() => (sent += 1));
    return true;
  } catch (error) {
    // The host gone: the sync stops here (exit 3) rather than record every write left as failed.
    if (unreachableErrorIn(error)) throw error;
    const failure = error instanceof WriteFailed ? error.failure : describeWriteFailure(error);
    writer.record({
      action: what.action,
      ...(what.issue === undefined ? {} : { issue: what.issue }),
      finding: what.finding,
      ...failure,
    });
    writer.skip(Math.max(0, what.writes - sent - 1));
    return false;
  }
}

// ---- one run ----

/** When several results share a fingerprint, the one that must not be lost decides. */
const PRECEDENCE: Record<Result["outcome"], number> = {
  fail: 0,
  unknown: 1,
  excepted: 2,
  pass: 3,
  "not-applicable": 4,
};

/** This run's results for one control in one repository's change requests, by change number. */
interface ChangeGroupResults {
  control: string;
  repository: string;
  byNumber: Map<number, Result>;
}

type Close = (issue: FindingIssue, comment: string, into: number[], finding?: string) => Promise<boolean>;

async function sync(
  tracker: IssueTracker,
  results: Result[],
  options: SyncOptions & { label: string },
  pacer: Pacer,
): Promise<SyncSummary> {
  const summary: SyncSummary = {
    created: [],
    updated: [],
    closed: [],
    reopened: [],
    unchanged: [],
    duplicatesClosed: [],
    folded: [],
    failed: [],
  };
  const writer = newWriter(tracker, summary, pacer, options);
  const grouping = options.groupChangeRequests ?? "by_repository";
  const context: FindingContext = {
    evaluatedAt: options.evaluatedAt,
    label: options.label,
    limits: { titleCharacters: writer.limits.titleCharacters, bodyCharacters: writer.limits.bodyCharacters },
    ...(options.hostUrl ? { hostUrl: options.hostUrl } : {}),
  };
  const when = formatTime(options.evaluatedAt);
  const state = new Map<number, FindingIssue>();
  // Issues by fingerprint, read once: looking each result's issues up by scanning every issue made a
  // sync of many results over many issues quadratic. An issue's fingerprint never changes (updates
  // keep its marker), so only created issues are added.
  const numbersByFingerprint = new Map<string, number[]>();
  const remember = (issue: FindingIssue): void => {
    state.set(issue.number, issue);
    const fp = readMarker(issue.body);
    if (fp === undefined) return;
    const numbers = numbersByFingerprint.get(fp);
    if (!numbers) numbersByFingerprint.set(fp, [issue.number]);
    else if (!numbers.includes(issue.number)) numbers.push(issue.number);
  };
  for (const issue of await tracker.listByLabel(options.label)) remember(issue);
  const issuesOf = (fp: string): FindingIssue[] =>
    (numbersByFingerprint.get(fp) ?? [])
      .map((number) => state.get(number)!)
      .sort((a, b) => a.number - b.number);

  const decisive = new Map<string, Result>();
  const groups = new Map<string, ChangeGroupResults>();
  for (const result of results) {
    const change = groupable(result);
    if (grouping === "by_repository" && change) {
      const fp = changeGroupFingerprint(result.control, change.repository);
      let group = groups.get(fp);
      if (!group)
        groups.set(
          fp,
          (group = { control: result.control, repository: change.repository, byNumber: new Map() }),
        );
      const seen = group.byNumber.get(change.number);
      if (!seen || PRECEDENCE[result.outcome] < PRECEDENCE[seen.outcome])
        group.byNumber.set(change.number, result);
      continue;
    }
    const fp = fingerprint(result);
    const seen = decisive.get(fp);
    if (!seen || PRECEDENCE[result.outcome] < PRECEDENCE[seen.outcome]) decisive.set(fp, result);
  }

  const close: Close = async (issue, comment, into, finding = issue.title) => {
    return attempt(writer, { action: "close", issue: issue.number, finding, writes: 2 }, async (sent) => {
      await commentIssue(writer, issue.number, comment, finding);
      sent();
      state.set(issue.number, await updateIssue(writer, issue.number, { state: "closed" }));
      into.push(issue.number);
    });
  };

  // Fingerprints whose issue now says what this run found (written, or already right).
  const settled = new Set<string>();
  const plans: Array<{ writes: number; run: () => Promise<void> }> = [];

  for (const [fp, result] of decisive) {
    const issues = issuesOf(fp);
    const open = issues.filter((issue) => issue.state === "open");
    switch (result.outcome) {
      case "fail": {
        const rendered = renderFindingIssue(result, context);
        const current = open[0];
        const closed = issues[0];
        if (current) {
          const same =
            current.title === rendered.title &&
            comparableBody(current.body) === comparableBody(rendered.body);
          if (same) {
            summary.unchanged.push(current.number);
            settled.add(fp);
          } else {
            plans.push({
              writes: 1,
              run: async () => {
                const change = { title: rendered.title, body: rendered.body };
                const written = await attempt(
                  writer,
                  { action: "update", issue: current.number, finding: rendered.title, writes: 1 },
                  async () => {
                    state.set(current.number, await updateIssue(writer, current.number, change));
                    summary.updated.push(current.number);
                  },
                );
                if (written) settled.add(fp);
              },
            });
          }
        } else if (closed) {
          plans.push({
            writes: 2,
            run: async () => {
              const written = await attempt(
                writer,
                { action: "reopen", issue: closed.number, finding: rendered.title, writes: 2 },
                async (sent) => {
                  const change = { title: rendered.title, body: rendered.body, state: "open" as const };
                  state.set(closed.number, await updateIssue(writer, closed.number, change));
                  sent();
                  summary.reopened.push(closed.number);
                  await commentIssue(
                    writer,
                    closed.number,
                    `❌ Failing again (evaluated ${when}): ${markdownText(result.reason)}\n\nReopened by soc2-bot.`,
                    rendered.title,
                  );
                },
              );
              if (written) settled.add(fp);
            },
          });
        } else {
          plans.push({
            writes: 1,
            run: async () => {
              const written = await attempt(
                writer,
                { action: "create", finding: rendered.title, writes: 1 },
                async () => {
                  const created = await createIssue(writer, rendered, fp, options.label);
                  remember(created);
                  summary.created.push(created.number);
                },
              );
              if (written) settled.add(fp);
            },
          });
        }
        break;
      }
      case "pass":
      case "not-applicable": {
        settled.add(fp);
        const verdict =
          result.outcome === "pass" ? "✅ This finding passes now" : "➖ This control no longer applies";
        for (const issue of open) {
          plans.push({
            writes: 2,
            run: async () => {
              await close(
                issue,
                `${verdict} (evaluated ${when}): ${markdownText(result.reason)}\n\nClosed by soc2-bot; it reopens this issue if the control fails again.`,
                summary.closed,
              );
            },
          });
        }
        break;
      }
      case "excepted":
        settled.add(fp);
        for (const issue of open) {
          plans.push({
            writes: 2,
            run: async () => {
              await close(issue, exceptionComment(result, when), summary.closed);
            },
          });
        }
        break;
      case "unknown":
        // Not readable is not fixed: the finding stays as it is until a run can decide.
        for (const issue of open) summary.unchanged.push(issue.number);
        break;
    }
  }
  await runPlans(writer, plans);

  const groupSync: GroupSync = { writer, state, issuesOf, remember, context, when, close, options, summary };
  if (grouping === "by_repository") await syncChangeGroups(groupSync, groups);
  else await shrinkChangeGroups(groupSync, decisive, settled);

  if (options.scope === "audit") {
    const handled = new Set([...decisive.keys(), ...groups.keys()]);
    await closeVanished(writer, results, handled, state, when, close, summary);
  }

  // Another process may have created the same finding meanwhile: the lowest number wins everywhere,
  // so every run that looks after creating reaches the same single open issue.
  if (summary.created.length > 0) {
    state.clear();
    for (const issue of await tracker.listByLabel(options.label)) state.set(issue.number, issue);
  }
  await closeDuplicates(groupSync);
  return summary;
}

async function runPlans(
  writer: Writer,
  plans: ReadonlyArray<{ writes: number; run: () => Promise<void> }>,
): Promise<void> {
  writer.plan(plans.reduce((sum, plan) => sum + plan.writes, 0));
  for (const plan of plans) await plan.run();
}

/** A change request's repository and number, when its result can join a grouped finding. */
function groupable(result: Result): { repository: string; number: number } | undefined {
  const { subject } = result;
  if (subject.kind !== "change-request" || !subject.repository || subject.number === undefined)
    return undefined;
  return { repository: subject.repository, number: subject.number };
}

// ---- grouped change-request findings ----

interface GroupSync {
  writer: Writer;
  state: Map<number, FindingIssue>;
  issuesOf(fp: string): FindingIssue[];
  remember(issue: FindingIssue): void;
  context: FindingContext;
  when: string;
  close: Close;
  options: SyncOptions & { label: string };
  summary: SyncSummary;
}

/** An open issue of one change request (per_change_request, or from before grouping). */
interface PerChangeIssue {
  issue: FindingIssue;
  control: string;
  repository: string;
  number: number;
}

function perChangeIssues(state: ReadonlyMap<number, FindingIssue>): PerChangeIssue[] {
  const found: PerChangeIssue[] = [];
  for (const issue of state.values()) {
    if (issue.state !== "open") continue;
    const where = readScopeMarker(issue.body);
    const change = where ? changeOfScope(where.scope) : undefined;
    if (where && change) found.push({ issue, control: where.control, ...change });
  }
  return found.sort((a, b) => a.issue.number - b.issue.number);
}

/** The address of the change an issue of its own links in its heading, as a template. */
function templateFromIssue(issue: FindingIssue, number: number): string | undefined {
  const heading = issue.body.split("\n", 1)[0] ?? "";
  const url = /\]\((https?:[^)\s]+)\)/.exec(heading)?.[1];
  return urlTemplateOf(url, number);
}

/**
 * by_repository: each control's failing changes in a repository are listed in one issue. The list
 * is this run's failing changes plus those the issue listed before (a later audit's period does not
 * contain them) and those of per-change issues folded in, minus the ones that pass or are excepted
 * now. A folded per-change issue is closed only once the grouped issue lists its change.
 */
async function syncChangeGroups(sync: GroupSync, groups: Map<string, ChangeGroupResults>): Promise<void> {
  const { writer, when, summary } = sync;
  const folding = new Map<string, PerChangeIssue[]>();
  for (const perChange of perChangeIssues(sync.state)) {
    const fp = changeGroupFingerprint(perChange.control, perChange.repository);
    // An audit folds every per-change issue; a single change's sync (a webhook) only those of the
    // groups it writes, so switching grouping on never makes one webhook write for the whole organization.
    if (sync.options.scope !== "audit" && !groups.has(fp)) continue;
    if (!groups.has(fp))
      groups.set(fp, { control: perChange.control, repository: perChange.repository, byNumber: new Map() });
    const list = folding.get(fp) ?? [];
    list.push(perChange);
    folding.set(fp, list);
  }
  const plans: Array<{ writes: number; run: () => Promise<void> }> = [];
  for (const [fp, group] of groups) {
    const issues = sync.issuesOf(fp);
    const open = issues.find((issue) => issue.state === "open");
    const closed = issues[0];
    const previous = open ? readChangesMarker(open.body) : undefined;
    const lines = changeLinesOf(open?.body);
    const failing = new Set(previous?.failing ?? []);
    let urlTemplate = previous?.urlTemplate ?? "";
    const resolved = new Map<number, Result>();
    const added: number[] = [];
    let remediation: string | undefined;
    for (const [number, result] of group.byNumber) {
      urlTemplate ||= urlTemplateOf(result.subject.url, number) ?? "";
      if (result.outcome === "fail") {
        if (!failing.has(number)) added.push(number);
        failing.add(number);
        lines.set(number, changeLine(group.repository, number, result.subject.url, result.reason));
        remediation ??= result.remediation;
      } else if (result.outcome !== "unknown") {
        resolved.set(number, result);
        failing.delete(number);
      }
    }
    const folded: PerChangeIssue[] = [];
    for (const perChange of folding.get(fp) ?? []) {
      if (resolved.has(perChange.number)) continue;
      urlTemplate ||= templateFromIssue(perChange.issue, perChange.number) ?? "";
      if (!failing.has(perChange.number)) {
        failing.add(perChange.number);
        lines.set(
          perChange.number,
          changeLine(
            group.repository,
            perChange.number,
            changeUrl(urlTemplate, perChange.number),
            `fails this control (moved here from issue ${perChange.issue.number})`,
          ),
        );
      }
      folded.push(perChange);
    }
    // Per-change issues of changes that pass now close as they would have on their own.
    const passing = (folding.get(fp) ?? []).filter((perChange) => resolved.has(perChange.number));

    const rendered = renderChangeGroupIssue(
      {
        control: group.control,
        repository: group.repository,
        failing: [...failing],
        lines,
        dropped: previous?.dropped ?? 0,
        urlTemplate,
        ...(remediation ? { remediation } : withFix(open?.body)),
      },
      sync.context,
    );
    const nothingLeft = failing.size === 0 && (previous?.dropped ?? 0) === 0;
    let groupWrites = 0;
    let groupWrite: (() => Promise<boolean>) | undefined;
    if (nothingLeft) {
      if (open) {
        groupWrites = 2;
        groupWrite = () =>
          sync.close(
            open,
            `✅ Every change request this issue listed passes now or is covered by an exception (evaluated ${when}).\n\n` +
              "Closed by soc2-bot; it reopens this issue if a change request fails this control again.",
            summary.closed,
          );
      }
    } else if (open) {
      const same =
        open.title === rendered.title && comparableBody(open.body) === comparableBody(rendered.body);
      if (same) {
        summary.unchanged.push(open.number);
      } else {
        const newly = added.filter((number) => !folded.some((perChange) => perChange.number === number));
        groupWrites = newly.length > 0 ? 2 : 1;
        groupWrite = () =>
          attempt(
            writer,
            { action: "update", issue: open.number, finding: rendered.title, writes: groupWrites },
            async (sent) => {
              const change = { title: rendered.title, body: rendered.body };
              sync.state.set(open.number, await updateIssue(writer, open.number, change));
              sent();
              summary.updated.push(open.number);
              if (newly.length > 0) {
                await commentIssue(
                  writer,
                  open.number,
                  addedComment(group.repository, newly, lines, when),
                  rendered.title,
                );
              }
            },
          );
      }
    } else if (closed) {
      groupWrites = 2;
      groupWrite = () =>
        attempt(
          writer,
          { action: "reopen", issue: closed.number, finding: rendered.title, writes: 2 },
          async (sent) => {
            const change = { title: rendered.title, body: rendered.body, state: "open" as const };
            sync.state.set(closed.number, await updateIssue(writer, closed.number, change));
            sent();
            summary.reopened.push(closed.number);
            await commentIssue(
              writer,
              closed.number,
              `❌ Failing again (evaluated ${when}): ${failing.size} merged change request(s) fail this control.\n\nReopened by soc2-bot.`,
              rendered.title,
            );
          },
        );
    } else {
      groupWrites = 1;
      groupWrite = () =>
        attempt(writer, { action: "create", finding: rendered.title, writes: 1 }, async () => {
          const created = await createIssue(writer, rendered, fp, sync.options.label);
          sync.remember(created);
          summary.created.push(created.number);
        });
    }
    plans.push({
      writes: groupWrites + folded.length + 2 * passing.length,
      run: async () => {
        // Without its grouped issue written, a per-change issue stays open: nothing is lost.
        const listed = groupWrite ? await groupWrite() : true;
        for (const perChange of passing) {
          const result = resolved.get(perChange.number)!;
          await sync.close(perChange.issue, resolvedComment(result, when), summary.closed);
        }
        if (!listed || nothingLeft) {
          writer.skip(folded.length);
          return;
        }
        const target = sync.issuesOf(fp).find((issue) => issue.state === "open");
        for (const perChange of folded) {
          await foldInto(sync, perChange, target);
        }
      },
    });
  }
  await runPlans(writer, plans);
}

/**
 * Closes a per-change issue its grouped issue now lists, with one write (an organization switching
 * grouping on may have thousands, each a content write GitHub limits to about 500 an hour): the
 * note goes at the top of its body, not in a comment, and the body keeps its fingerprint, so the
 * issue is reopened if grouping is switched off and the change fails again.
 */
async function foldInto(
  sync: GroupSync,
  perChange: PerChangeIssue,
  target: FindingIssue | undefined,
): Promise<void> {
  const { writer, summary } = sync;
  const { issue } = perChange;
  const note =
    `> **Folded into ${target ? `#${target.number}` : "the issue of this control and repository"}**, which lists every ` +
    `failing change request of ${codeCell(perChange.control)} in ${markdownText(perChange.repository)} ` +
    "(the policy's `findings.group_change_requests` is `by_repository`). Closed by soc2-bot.\n\n";
  // Without room for the note, the issue is closed as it is: its fingerprint must not be clipped away.
  const body =
    characterLength(note + issue.body) <= writer.limits.bodyCharacters ? note + issue.body : issue.body;
  await attempt(
    writer,
    { action: "close", issue: issue.number, finding: issue.title, writes: 1 },
    async () => {
      sync.state.set(issue.number, await updateIssue(writer, issue.number, { state: "closed", body }));
      summary.folded.push(issue.number);
    },
  );
}

/**
 * per_change_request: a grouped issue left from by_repository keeps the changes that have no issue
 * of their own yet; each change this run wrote an issue for (or found passing) leaves it, and the
 * grouped issue closes when none is left. No change is tracked twice, none is dropped.
 */
async function shrinkChangeGroups(
  sync: GroupSync,
  decisive: ReadonlyMap<string, Result>,
  settled: ReadonlySet<string>,
): Promise<void> {
  const { writer, when, summary } = sync;
  const leaving = new Map<string, Set<number>>();
  for (const [fp, result] of decisive) {
    const change = groupable(result);
    if (!change || result.outcome === "unknown") continue;
    if (result.outcome === "fail" && !settled.has(fp)) continue;
    const key = changeGroupFingerprint(result.control, change.repository);
    const numbers = leaving.get(key) ?? new Set<number>();
    numbers.add(change.number);
    leaving.set(key, numbers);
  }
  const plans: Array<{ writes: number; run: () => Promise<void> }> = [];
  for (const issue of [...sync.state.values()].sort((a, b) => a.number - b.number)) {
    if (issue.state !== "open") continue;
    const previous = readChangesMarker(issue.body);
    const where = readScopeMarker(issue.body);
    const fp = readMarker(issue.body);
    if (!previous || !where || !fp || !where.scope.startsWith("changes:")) continue;
    const repository = where.scope.slice("changes:".length);
    if (where.scope !== changeGroupScope(repository)) continue;
    const gone = leaving.get(fp) ?? new Set<number>();
    const failing = previous.failing.filter((number) => !gone.has(number));
    if (failing.length === 0 && previous.dropped === 0) {
      plans.push({
        writes: 2,
        run: async () => {
          await sync.close(
            issue,
            `Every change request this issue listed now has an issue of its own or passes (evaluated ${when}): ` +
              "the policy's `findings.group_change_requests` is `per_change_request`. Closed by soc2-bot.",
            summary.closed,
          );
        },
      });
      continue;
    }
    if (failing.length === previous.failing.length) continue;
    const rendered = renderChangeGroupIssue(
      {
        control: where.control,
        repository,
        failing,
        lines: changeLinesOf(issue.body),
        dropped: previous.dropped,
        urlTemplate: previous.urlTemplate,
        ...withFix(issue.body),
        note:
          "_The policy's `findings.group_change_requests` is `per_change_request`: a change request that fails " +
          "from now on gets an issue of its own. This issue keeps the ones listed before until each passes, " +
          "is excepted or gets its own issue._",
      },
      sync.context,
    );
    plans.push({
      writes: 1,
      run: async () => {
        await attempt(
          writer,
          { action: "update", issue: issue.number, finding: rendered.title, writes: 1 },
          async () => {
            sync.state.set(
              issue.number,
              await updateIssue(writer, issue.number, { title: rendered.title, body: rendered.body }),
            );
            summary.updated.push(issue.number);
          },
        );
      },
    });
  }
  await runPlans(writer, plans);
}

/** "2 more failing change requests": the new ones linked, so watchers of the issue are told. */
function addedComment(
  repository: string,
  added: number[],
  lines: ReadonlyMap<number, string>,
  when: string,
): string {
  const newest = [...added].sort((a, b) => b - a);
  const shown = newest
    .slice(0, 50)
    .map((number) => lines.get(number) ?? `- ${markdownText(`${repository} ${number}`)}`);
  const more = newest.length - shown.length;
  return [
    `❌ ${added.length} more failing change request${added.length === 1 ? "" : "s"} (evaluated ${when}):`,
    "",
    ...shown,
    ...(more > 0 ? ["", `… and ${more} more, listed in the issue.`] : []),
  ].join("\n");
}

function resolvedComment(result: Result, when: string): string {
  if (result.outcome === "excepted") return exceptionComment(result, when);
  const verdict =
    result.outcome === "pass" ? "✅ This finding passes now" : "➖ This control no longer applies";
  return `${verdict} (evaluated ${when}): ${markdownText(result.reason)}\n\nClosed by soc2-bot; it reopens this issue if the control fails again.`;
}

/** Audit scope: an open finding with no result is closed only when its control and scope were evaluated cleanly. */
async function closeVanished(
  writer: Writer,
  results: Result[],
  handled: ReadonlySet<string>,
  state: Map<number, FindingIssue>,
  when: string,
  close: Close,
  summary: SyncSummary,
): Promise<void> {
  const evaluated = new Map<string, { unknown: boolean }>();
  for (const result of results) {
    const key = `${result.control}\n${scopeOf(result)}`;
    const entry = evaluated.get(key) ?? { unknown: false };
    entry.unknown ||= result.outcome === "unknown";
    evaluated.set(key, entry);
  }
  const open = [...state.values()]
    .filter((issue) => issue.state === "open")
    .sort((a, b) => a.number - b.number);
  const plans: Array<{ writes: number; run: () => Promise<void> }> = [];
  for (const issue of open) {
    const fp = readMarker(issue.body);
    if (!fp || handled.has(fp)) continue;
    const where = readScopeMarker(issue.body);
    if (!where) continue;
    const entry = evaluated.get(`${where.control}\n${where.scope}`);
    // Not evaluated there, or part of it unreadable: the subject may still exist, so keep the finding.
    if (!entry || entry.unknown) continue;
    const place = where.scope.replace(/^(repository|organization):/, "");
    plans.push({
      writes: 2,
      run: async () => {
        await close(
          issue,
          `This finding is no longer present: the audit evaluated ${codeCell(where.control)} for ${markdownText(place)} ` +
            `(evaluated ${when}) and its subject is gone, for example a collaborator who was removed. Closed by soc2-bot.`,
          summary.closed,
        );
      },
    });
  }
  await runPlans(writer, plans);
}

/**
 * Of several open issues with one fingerprint, the lowest number is kept. A grouped finding's
 * duplicate may list changes the kept one does not (two runs raced): they are added to it first.
 */
async function closeDuplicates(sync: GroupSync): Promise<void> {
  const { writer, state, summary } = sync;
  const openByFingerprint = new Map<string, FindingIssue[]>();
  for (const issue of state.values()) {
    const fp = readMarker(issue.body);
    if (!fp || issue.state !== "open") continue;
    const issues = openByFingerprint.get(fp);
    if (issues) issues.push(issue);
    else openByFingerprint.set(fp, [issue]);
  }
  const plans: Array<{ writes: number; run: () => Promise<void> }> = [];
  for (const [fp, issues] of openByFingerprint) {
    const [keep, ...duplicates] = [...issues].sort((a, b) => a.number - b.number);
    if (!keep || duplicates.length === 0) continue;
    const merged = mergedGroup(keep, duplicates);
    plans.push({
      writes: (merged ? 1 : 0) + 2 * duplicates.length,
      run: async () => {
        if (merged) {
          const rendered = renderChangeGroupIssue(merged, sync.context);
          const kept = await attempt(
            writer,
            { action: "update", issue: keep.number, finding: rendered.title, writes: 1 },
            async () => {
              state.set(
                keep.number,
                await updateIssue(writer, keep.number, { title: rendered.title, body: rendered.body }),
              );
              summary.updated.push(keep.number);
            },
          );
          // The duplicate's changes must be listed somewhere before it closes.
          if (!kept) return writer.skip(2 * duplicates.length);
        }
        for (const duplicate of duplicates) {
          await sync.close(
            duplicate,
            `Duplicate of #${keep.number}: both issues track the same finding (fingerprint ${codeCell(fp)}). Closed by soc2-bot.`,
            summary.duplicatesClosed,
          );
        }
      },
    });
  }
  await runPlans(writer, plans);
}

/** The kept grouped issue with the duplicates' changes added, or undefined when it lists them all already. */
function mergedGroup(
  keep: FindingIssue,
  duplicates: FindingIssue[],
): Parameters<typeof renderChangeGroupIssue>[0] | undefined {
  const kept = readChangesMarker(keep.body);
  const where = readScopeMarker(keep.body);
  if (!kept || !where || !where.scope.startsWith("changes:")) return undefined;
  const failing = new Set(kept.failing);
  const lines = changeLinesOf(keep.body);
  let dropped = kept.dropped;
  let urlTemplate = kept.urlTemplate;
  for (const duplicate of duplicates) {
    const other = readChangesMarker(duplicate.body);
    if (!other) continue;
    urlTemplate ||= other.urlTemplate;
    dropped = Math.max(dropped, other.dropped);
    const otherLines = changeLinesOf(duplicate.body);
    for (const number of other.failing) {
      if (failing.has(number)) continue;
      failing.add(number);
      const line = otherLines.get(number);
      if (line) lines.set(number, line);
    }
  }
  if (failing.size === kept.failing.length && dropped === kept.dropped) return undefined;
  return {
    control: where.control,
    repository: where.scope.slice("changes:".length),
    failing: [...failing],
    lines,
    dropped,
    urlTemplate,
    ...withFix(keep.body),
  };
}

/** The issue's own "How to fix", for a render without a failing result to say it. */
function withFix(body: string | undefined): { remediationMarkdown?: string } {
  const text = remediationOf(body);
  return text === undefined ? {} : { remediationMarkdown: text };
}

function exceptionComment(result: Result, when: string): string {
  const exception = result.exception;
  if (!exception) {
    return `🛡 Closed as an accepted exception in the policy (evaluated ${when}): ${markdownText(result.reason)}`;
  }
  return [
    `🛡 Closed as an accepted exception (evaluated ${when}):`,
    "",
    `- reason: ${markdownText(exception.reason)}`,
    `- approved by: ${markdownUser(exception.approvedBy)}`,
    `- expires: ${markdownText(exception.expires)}`,
    `- written in: ${codeCell(exception.source)}`,
    "",
    "soc2-bot reopens this issue when the exception expires and the control still fails.",
  ].join("\n");
}
