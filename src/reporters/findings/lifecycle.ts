/**
 * The findings lifecycle: one issue per finding (control + subject), found again by the
 * fingerprint hidden in its body. Opened when the control fails, updated only when what it says
 * changed, closed when it passes or is excepted, reopened when it fails again. A finding is never
 * closed because a fact could not be read: "unknown" is not "fixed".
 */
import type { Result } from "../../controls/types.js";
import type { FindingIssue, IssueTracker } from "../../providers/types.js";
import { markdownText, markdownUser } from "../escape.js";
import { fingerprint, readMarker, readScopeMarker, scopeOf } from "./fingerprint.js";
import { codeCell, formatTime } from "./format.js";
import { comparableBody, DEFAULT_FINDING_LABEL, renderFindingIssue, type FindingContext } from "./render.js";

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
}

export interface SyncSummary {
  created: number[];
  updated: number[];
  closed: number[];
  reopened: number[];
  unchanged: number[];
  duplicatesClosed: number[];
}

/** Brings the finding issues in line with `results`. Concurrent calls on one tracker run one by one. */
export function syncFindings(
  tracker: IssueTracker,
  results: Result[],
  options: SyncOptions,
): Promise<SyncSummary> {
  const label = options.label ?? DEFAULT_FINDING_LABEL;
  return serialise(tracker, label, options.lockKey, () => sync(tracker, results, { ...options, label }));
}

// ---- serialisation within the process (across processes, duplicates converge instead) ----

const chainsByTracker = new WeakMap<IssueTracker, Map<string, Promise<unknown>>>();
const chainsByKey = new Map<string, Promise<unknown>>();

function serialise<T>(
  tracker: IssueTracker,
  label: string,
  lockKey: string | undefined,
  task: () => Promise<T>,
): Promise<T> {
  let chains = lockKey === undefined ? chainsByTracker.get(tracker) : chainsByKey;
  if (!chains) {
    chains = new Map();
    chainsByTracker.set(tracker, chains);
  }
  const key = lockKey === undefined ? label : `${lockKey}\n${label}`;
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

// ---- one run ----

/** When several results share a fingerprint, the one that must not be lost decides. */
const PRECEDENCE: Record<Result["outcome"], number> = {
  fail: 0,
  unknown: 1,
  excepted: 2,
  pass: 3,
  "not-applicable": 4,
};

async function sync(
  tracker: IssueTracker,
  results: Result[],
  options: SyncOptions & { label: string },
): Promise<SyncSummary> {
  const summary: SyncSummary = {
    created: [],
    updated: [],
    closed: [],
    reopened: [],
    unchanged: [],
    duplicatesClosed: [],
  };
  const context: FindingContext = {
    evaluatedAt: options.evaluatedAt,
    label: options.label,
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
  for (const result of results) {
    const fp = fingerprint(result);
    const seen = decisive.get(fp);
    if (!seen || PRECEDENCE[result.outcome] < PRECEDENCE[seen.outcome]) decisive.set(fp, result);
  }

  const close = async (issue: FindingIssue, comment: string, into: number[]): Promise<void> => {
    await tracker.comment(issue.number, comment);
    state.set(issue.number, await tracker.update(issue.number, { state: "closed" }));
    into.push(issue.number);
  };

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
          } else {
            const change = { title: rendered.title, body: rendered.body };
            state.set(current.number, await tracker.update(current.number, change));
            summary.updated.push(current.number);
          }
        } else if (closed) {
          const change = { title: rendered.title, body: rendered.body, state: "open" as const };
          state.set(closed.number, await tracker.update(closed.number, change));
          await tracker.comment(
            closed.number,
            `❌ Failing again (evaluated ${when}): ${markdownText(result.reason)}\n\nReopened by soc2-bot.`,
          );
          summary.reopened.push(closed.number);
        } else {
          const created = await tracker.create(rendered);
          remember(created);
          summary.created.push(created.number);
        }
        break;
      }
      case "pass":
      case "not-applicable": {
        const verdict =
          result.outcome === "pass" ? "✅ This finding passes now" : "➖ This control no longer applies";
        for (const issue of open) {
          await close(
            issue,
            `${verdict} (evaluated ${when}): ${markdownText(result.reason)}\n\nClosed by soc2-bot; it reopens this issue if the control fails again.`,
            summary.closed,
          );
        }
        break;
      }
      case "excepted":
        for (const issue of open) await close(issue, exceptionComment(result, when), summary.closed);
        break;
      case "unknown":
        // Not readable is not fixed: the finding stays as it is until a run can decide.
        for (const issue of open) summary.unchanged.push(issue.number);
        break;
    }
  }

  if (options.scope === "audit") await closeVanished(results, decisive, state, when, close, summary);

  // Another process may have created the same finding meanwhile: the lowest number wins everywhere,
  // so every run that looks after creating reaches the same single open issue.
  if (summary.created.length > 0) {
    state.clear();
    for (const issue of await tracker.listByLabel(options.label)) state.set(issue.number, issue);
  }
  await closeDuplicates(state, close, summary);
  return summary;
}

/** Audit scope: an open finding with no result is closed only when its control and scope were evaluated cleanly. */
async function closeVanished(
  results: Result[],
  decisive: ReadonlyMap<string, Result>,
  state: Map<number, FindingIssue>,
  when: string,
  close: (issue: FindingIssue, comment: string, into: number[]) => Promise<void>,
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
  for (const issue of open) {
    const fp = readMarker(issue.body);
    if (!fp || decisive.has(fp)) continue;
    const where = readScopeMarker(issue.body);
    if (!where) continue;
    const entry = evaluated.get(`${where.control}\n${where.scope}`);
    // Not evaluated there, or part of it unreadable: the subject may still exist, so keep the finding.
    if (!entry || entry.unknown) continue;
    const place = where.scope.replace(/^(repository|organization):/, "");
    await close(
      issue,
      `This finding is no longer present: the audit evaluated ${codeCell(where.control)} for ${markdownText(place)} ` +
        `(evaluated ${when}) and its subject is gone, for example a collaborator who was removed. Closed by soc2-bot.`,
      summary.closed,
    );
  }
}

async function closeDuplicates(
  state: Map<number, FindingIssue>,
  close: (issue: FindingIssue, comment: string, into: number[]) => Promise<void>,
  summary: SyncSummary,
): Promise<void> {
  const openByFingerprint = new Map<string, FindingIssue[]>();
  for (const issue of state.values()) {
    const fp = readMarker(issue.body);
    if (!fp || issue.state !== "open") continue;
    const issues = openByFingerprint.get(fp);
    if (issues) issues.push(issue);
    else openByFingerprint.set(fp, [issue]);
  }
  for (const [fp, issues] of openByFingerprint) {
    const [keep, ...duplicates] = [...issues].sort((a, b) => a.number - b.number);
    if (!keep) continue;
    for (const duplicate of duplicates) {
      await close(
        duplicate,
        `Duplicate of #${keep.number}: both issues track the same finding (fingerprint ${codeCell(fp)}). Closed by soc2-bot.`,
        summary.duplicatesClosed,
      );
    }
  }
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
