/**
 * Coverage from the ledger's records alone: per repository, production branch and UTC day, whether
 * the controls were observed (an audit run whose period covered the day and that collected the
 * repository without error, or a judgement of a change into that branch that day), each gap with
 * its cause as far as the records show it, and every merge of the period with how long the app took
 * to judge it. Nothing is asked of the code host: a day the ledger holds nothing for is a gap, never
 * assumed covered.
 */
import { StringDecoder } from "node:string_decoder";
import type { Snapshot } from "../model/index.js";
import type {
  CoverageBranch,
  CoverageMerge,
  CoverageReport,
  CoverageSegment,
} from "../reporters/files/coverage.js";
import {
  collectedFromSummary,
  collectedOf,
  snapshotParts,
  type AuditMerge,
  type CollectedAudit,
  type SnapshotPart,
} from "./collected.js";
import type { Queryable } from "./database.js";
import { readStoredFile } from "./files.js";
import type { Ledger } from "./ledger.js";
import { JUDGEMENT, type JudgementContent } from "./records.js";

/** What coverage needs of a judgement: its results only as "judged as a production change" or not. */
type JudgementFacts = Pick<
  JudgementContent,
  "host" | "repository" | "number" | "state" | "baseBranch" | "mergedAt" | "judgedAt"
> & { production: boolean };

export const DEFAULT_JUDGED_WITHIN_MINUTES = 15;

const DAY = 24 * 60 * 60 * 1000;

export interface CoverageOptions {
  since: Date;
  until: Date;
  judgedWithinMinutes: number;
  /** An audit not recorded yet (the one whose package is being written), counted as if it were. */
  pending?: { label: string; snapshot: Snapshot }[];
}

const ABSENT = 0;
const COLLECTED = 1;
const FAILED = 2;

/**
 * What coverage keeps of one audit for the whole period: a byte per repository (by its index in
 * Repositories) and the repositories it failed to collect. A year of daily audits of 1,000
 * repositories is 365 KB, not every audit's snapshot facts.
 */
interface AuditFacts {
  label: string;
  host: string;
  since: number;
  until: number;
  status: Uint8Array;
  failed: Map<number, { error: string; permissions: string[] }>;
}

/** Each host's repository named once, by index, across every audit of the period. */
class Repositories {
  private readonly ids = new Map<string, number>();
  readonly names: { host: string; repository: string }[] = [];
  id(host: string, repository: string): number {
    const name = `${host}\u0000${repository}`;
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.names.length;
      this.ids.set(name, id);
      this.names.push({ host, repository });
    }
    return id;
  }
  find(host: string, repository: string): number | undefined {
    return this.ids.get(`${host}\u0000${repository}`);
  }
}

function statusOf(audit: AuditFacts, id: number | undefined): number {
  return id === undefined || id >= audit.status.length ? ABSENT : audit.status[id]!;
}

export async function coverageFromLedger(ledger: Ledger, options: CoverageOptions): Promise<CoverageReport> {
  const since = options.since.getTime();
  const until = options.until.getTime();
  const db = await ledger.database();
  const problems: string[] = [];
  const audits: AuditFacts[] = [];
  const repositories = new Repositories();
  // The branches to cover: each audit's production branches, and those a judgement judged as production.
  const branches = new Map<string, { host: string; repository: string; branch: string }>();
  const addBranch = (host: string, repository: string, branch: string) =>
    branches.set(key(host, repository, branch), { host, repository, branch });
  const auditMerges = new Map<string, PendingMerge>();
  // Each audit is read, folded into these and dropped before the next is read.
  const fold = (parsed: CollectedAudit) => {
    const failed: AuditFacts["failed"] = new Map();
    const ids: [number, number][] = [];
    for (const [repository, facts] of parsed.repositories) {
      const id = repositories.id(parsed.host, repository);
      ids.push([id, facts.error === null ? COLLECTED : FAILED]);
      if (facts.error !== null) failed.set(id, { error: facts.error, permissions: facts.permissions });
      for (const branch of facts.branches) addBranch(parsed.host, repository, branch);
    }
    const status = new Uint8Array(repositories.names.length);
    for (const [id, state] of ids) status[id] = state;
    for (const m of parsed.merges) noteAuditMerge(auditMerges, parsed.host, m, parsed.label);
    audits.push({
      label: parsed.label,
      host: parsed.host,
      since: parsed.since,
      until: parsed.until,
      status,
      failed,
    });
  };
  for await (const { record, content } of ledger.auditRunsIn(options)) {
    const label = `${record.stream} record ${record.sequence}`;
    const file = content.package.files.find((f) => f.name === "snapshot.json");
    if (!file || !content.period) {
      problems.push(`${label}: its package holds no snapshot.json, so what it collected is not known`);
      continue;
    }
    try {
      // a run recorded with the summary of what it collected is not read back from its snapshot
      fold(
        content.collected
          ? collectedFromSummary(label, content.host, content.period, content.collected)
          : await collectedOf(label, storedParts(db, file.sha256)),
      );
    } catch (error) {
      problems.push(`${label}: snapshot.json could not be read: ${(error as Error).message}`);
    }
  }
  for (const pending of options.pending ?? []) {
    if (!pending.snapshot.period) continue;
    fold(await collectedOf(pending.label, snapshotParts(pending.snapshot)));
  }
  // Judgements read a page at a time and folded in: 100,000 of them are never held at once.
  const judgedPerDay = new Map<string, Map<number, number>>();
  const judgementMerges = new Map<string, { host: string; merge: AuditMerge }>();
  const judgedAt = new Map<string, number>();
  for await (const page of judgementsOf(db, since, until)) {
    for (const j of page) {
      const at = Date.parse(j.judgedAt);
      const merged = j.mergedAt === null ? NaN : Date.parse(j.mergedAt);
      if (!((at >= since && at < until) || (merged >= since && merged < until))) continue;
      if (j.production) addBranch(j.host, j.repository, j.baseBranch);
      const day = Math.floor(at / DAY) * DAY;
      const branchKey = key(j.host, j.repository, j.baseBranch);
      const perDay = judgedPerDay.get(branchKey) ?? new Map<number, number>();
      perDay.set(day, (perDay.get(day) ?? 0) + 1);
      judgedPerDay.set(branchKey, perDay);
      if (j.mergedAt === null) continue;
      const merge = {
        repository: j.repository,
        number: j.number,
        baseBranch: j.baseBranch,
        mergedAt: j.mergedAt,
      };
      const variant = `${j.host}\u0000${j.repository}#${j.number}\u0000${j.baseBranch}\u0000${j.mergedAt}`;
      if (j.state === "merged" && !judgementMerges.has(variant))
        judgementMerges.set(variant, { host: j.host, merge });
      const id = `${j.host}\u0000${j.repository}#${j.number}`;
      // only a judgement made after the merge judged the merge (a check run before it judged a head)
      if (at >= merged && at < (judgedAt.get(id) ?? Infinity)) judgedAt.set(id, at);
    }
  }
  // A repository no audit could collect and no judgement named: its branches are not known, still a row.
  const withBranches = new Set([...branches.values()].map((b) => `${b.host}\u0000${b.repository}`));
  for (const { host, repository } of repositories.names) {
    if (!withBranches.has(`${host}\u0000${repository}`)) {
      addBranch(host, repository, "(production branches not known: never collected)");
    }
  }

  const firstDay = Math.floor(since / DAY) * DAY;
  const dayStarts: number[] = [];
  for (let day = firstDay; day < until; day += DAY) dayStarts.push(day);
  // Indexed once, not per branch and day: a year of 1,000 repositories and 100,000 judgements.
  const auditsByDay = dayStarts.map((day) => {
    const start = Math.max(day, since);
    const end = Math.min(day + DAY, until);
    return audits.filter((a) => a.since < end && a.until > start);
  });
  const rows: CoverageBranch[] = [];
  for (const target of [...branches.values()].sort(compareBranch)) {
    const days: Day[] = [];
    const judgedOn = judgedPerDay.get(key(target.host, target.repository, target.branch));
    const id = repositories.find(target.host, target.repository);
    dayStarts.forEach((day, index) => {
      const start = Math.max(day, since);
      const end = Math.min(day + DAY, until);
      const overlapping = auditsByDay[index]!.filter((a) => a.host === target.host);
      const collected = overlapping.filter((a) => statusOf(a, id) === COLLECTED);
      const judged = judgedOn?.get(day) ?? 0;
      const uncovered = uncoveredParts(
        start,
        end,
        collected.map((a) => [a.since, a.until]),
      );
      const seen = { day, audits: collected.map((a) => a.label), judgements: judged };
      if (uncovered.length === 0 || judged > 0) days.push({ ...seen, observed: true, cause: null });
      else days.push({ ...seen, observed: false, cause: gapCause(id, overlapping, uncovered, start, end) });
    });
    rows.push({ ...target, ...segmentsOf(days) });
  }

  const merges = mergesOf(
    auditMerges,
    judgementMerges,
    judgedAt,
    branches,
    since,
    until,
    options.judgedWithinMinutes,
  );
  return {
    since: options.since.toISOString(),
    until: options.until.toISOString(),
    ledger: ledger.location,
    judgedWithinMinutes: options.judgedWithinMinutes,
    days: Math.round((Math.ceil(until / DAY) * DAY - firstDay) / DAY),
    branches: rows,
    merges,
    problems,
  };
}

function gapCause(
  id: number | undefined,
  overlapping: AuditFacts[],
  uncovered: [number, number][],
  start: number,
  end: number,
): string {
  const part =
    uncovered.length === 1 && uncovered[0]![0] === start && uncovered[0]![1] === end
      ? ""
      : ` (not covered: ${uncovered.map(([a, b]) => `${time(a)}-${time(b)}`).join(", ")})`;
  const failed = overlapping.filter((a) => statusOf(a, id) === FAILED);
  if (failed.length > 0) {
    return failed
      .map((a) => {
        const facts = a.failed.get(id!)!;
        const permission = facts.permissions.length
          ? `; missing permission: ${facts.permissions.join(", ")}`
          : "";
        return `repository not collected by ${a.label}: ${facts.error}${permission}`;
      })
      .join(" | ")
      .concat(part);
  }
  const without = overlapping.filter((a) => statusOf(a, id) === ABSENT);
  if (without.length > 0) {
    return (
      `repository not in ${without.map((a) => a.label).join(", ")} (not installed on it, excluded, or not yet created)` +
      part
    );
  }
  return `no record — app down or not installed${part}`;
}

/** The parts of [start, end) no interval covers. */
function uncoveredParts(start: number, end: number, intervals: [number, number][]): [number, number][] {
  const sorted = intervals.filter(([a, b]) => a < end && b > start).sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  let at = start;
  for (const [a, b] of sorted) {
    if (a > at) out.push([at, Math.min(a, end)]);
    at = Math.max(at, b);
    if (at >= end) break;
  }
  if (at < end) out.push([at, end]);
  return out;
}

interface Day {
  day: number;
  observed: boolean;
  cause: string | null;
  audits: string[];
  judgements: number;
}

function segmentsOf(days: Day[]): { observedDays: number; gapDays: number; segments: CoverageSegment[] } {
  // a Set keeps the audits in the order first seen, without a search per day (a year-long run names 365)
  const runs: { segment: CoverageSegment; audits: Set<string>; judgements: number }[] = [];
  for (const day of days) {
    const date = new Date(day.day).toISOString().slice(0, 10);
    const last = runs[runs.length - 1];
    if (last && last.segment.observed === day.observed && last.segment.cause === day.cause) {
      last.segment.to = date;
      last.segment.days += 1;
      for (const audit of day.audits) last.audits.add(audit);
      last.judgements += day.judgements;
    } else {
      runs.push({
        segment: { from: date, to: date, days: 1, observed: day.observed, cause: day.cause, by: [] },
        audits: new Set(day.audits),
        judgements: day.judgements,
      });
    }
  }
  for (const run of runs) {
    run.segment.by = [
      ...run.audits,
      ...(run.judgements > 0 ? [`${run.judgements} judgement${run.judgements === 1 ? "" : "s"}`] : []),
    ];
  }
  return {
    observedDays: days.filter((d) => d.observed).length,
    gapDays: days.filter((d) => !d.observed).length,
    segments: runs.map((run) => run.segment),
  };
}

/** A merge as audits saw it, before the branches to cover are all known. */
interface PendingMerge {
  host: string;
  merge: AuditMerge;
  seenIn: string[];
}

function noteAuditMerge(
  pending: Map<string, PendingMerge>,
  host: string,
  m: AuditMerge,
  label: string,
): void {
  const id = `${host}\u0000${m.repository}#${m.number}\u0000${m.baseBranch}\u0000${m.mergedAt}`;
  const found = pending.get(id);
  if (!found) pending.set(id, { host, merge: m, seenIn: [label] });
  else if (!found.seenIn.includes(label)) found.seenIn.push(label);
}

/** Every merge of the period into a covered branch: how many, how many judged in time, and the others. */
function mergesOf(
  auditMerges: Map<string, PendingMerge>,
  judgementMerges: Map<string, { host: string; merge: AuditMerge }>,
  judgedAt: Map<string, number>,
  branches: Map<string, unknown>,
  since: number,
  until: number,
  minutes: number,
): { total: number; inTime: number; late: CoverageMerge[] } {
  const merges = new Map<string, Omit<CoverageMerge, "judgedAt" | "minutes" | "inTime">>();
  const note = (host: string, m: AuditMerge, from: string) => {
    const at = Date.parse(m.mergedAt);
    if (!(at >= since && at < until) || !branches.has(key(host, m.repository, m.baseBranch))) return;
    const id = `${host}\u0000${m.repository}#${m.number}`;
    const found = merges.get(id);
    if (found) {
      if (!found.seenIn.includes(from)) found.seenIn.push(from);
    } else {
      merges.set(id, {
        host,
        repository: m.repository,
        branch: m.baseBranch,
        number: m.number,
        mergedAt: m.mergedAt,
        seenIn: [from],
      });
    }
  };
  for (const { host, merge, seenIn } of auditMerges.values()) {
    for (const label of seenIn) note(host, merge, label);
  }
  for (const { host, merge } of judgementMerges.values()) note(host, merge, "judgement");
  let inTime = 0;
  const late: CoverageMerge[] = [];
  for (const [id, merge] of merges) {
    const at = judgedAt.get(id);
    const delay =
      at === undefined ? null : Math.round(((at - Date.parse(merge.mergedAt)) / 60_000) * 10) / 10;
    if (delay !== null && delay <= minutes) {
      inTime += 1;
      continue;
    }
    late.push({
      ...merge,
      judgedAt: at === undefined ? null : new Date(at).toISOString(),
      minutes: delay,
      inTime: false,
    });
  }
  late.sort(
    (a, b) =>
      Date.parse(a.mergedAt) - Date.parse(b.mergedAt) ||
      (a.repository < b.repository ? -1 : 1) ||
      a.number - b.number,
  );
  return { total: merges.size, inTime, late };
}

/**
 * The judgements recorded from an hour before the period to a day after it (the app records a
 * judgement as it makes it, so its record time follows its judgedAt by moments): not the whole ledger
 * for each day's scheduled audit. A merge of the period judged only later than that is not in time
 * either way; it is listed as never judged.
 */
async function* judgementsOf(db: Queryable, since: number, until: number): AsyncGenerator<JudgementFacts[]> {
  // a page of records at a time, parsed here and reduced to the fields coverage reads (parsing the
  // JSON in SQL was slower than in JavaScript, and held every row at once)
  let after: { at: Date; stream: string; sequence: number } | null = null;
  for (;;) {
    const rows: { content: string; recorded_at: Date; stream: string; sequence: number }[] = await db.query(
      `SELECT content, recorded_at, stream, sequence FROM records
        WHERE kind = $1 AND recorded_at >= $2 AND recorded_at < $3
          ${after ? "AND recorded_at >= $4 AND (recorded_at, stream, sequence) > ($4, $5, $6)" : ""}
        ORDER BY recorded_at, stream, sequence LIMIT ${JUDGEMENT_PAGE}`,
      [
        JUDGEMENT,
        new Date(since - 60 * 60 * 1000),
        new Date(until + DAY),
        ...(after ? [after.at, after.stream, after.sequence] : []),
      ],
    );
    yield rows.map((row) => {
      const c = JSON.parse(row.content) as JudgementContent;
      return {
        host: c.host,
        repository: c.repository,
        number: c.number,
        state: c.state,
        baseBranch: c.baseBranch,
        mergedAt: c.mergedAt,
        judgedAt: c.judgedAt,
        production: (c.results ?? []).some((r) => r.outcome !== "not-applicable"),
      };
    });
    const last = rows[rows.length - 1];
    if (!last || rows.length < JUDGEMENT_PAGE) return;
    after = { at: last.recorded_at, stream: last.stream, sequence: last.sequence };
  }
}

const JUDGEMENT_PAGE = 250;

/** The fields of a repository and of a change request that coverage reads (collected.ts). */
const FIELDS: Record<string, Set<string>> = {
  repositories: new Set(["fullName", "productionBranches", "collectionError", "branchRules"]),
  changeRequests: new Set(["repository", "number", "baseBranch", "state", "mergedAt"]),
};

const ELEMENTS: Record<string, "repository" | "changeRequest"> = {
  repositories: "repository",
  changeRequests: "changeRequest",
};

/**
 * A stored snapshot.json read a line at a time: the file is JSON.stringify(snapshot, null, 2), so each
 * top-level key starts a line at two spaces and each element of its arrays a line at four. A
 * repository or change request is parsed on its own and dropped: a year's snapshot of 100,000
 * changes is never held whole. Anything else in the file is an error, not a guess.
 */
async function* storedParts(db: Queryable, sha256: string): AsyncGenerator<SnapshotPart> {
  let topKey: string | null = null;
  let topLines: string[] = [];
  let element: string[] = [];
  let keep = true;
  let inArray = false;
  // lines come a decompressed piece at a time: a year of snapshots is tens of millions of lines
  for await (const batch of lines(readStoredFile(db, sha256)))
    for (const line of batch) {
      if (inArray) {
        if (/^ {2}\],?$/.test(line)) {
          inArray = false;
          topKey = null;
          continue;
        }
        const first = element.length === 0;
        const closing = !first && /^ {4}[\]}],?$/.test(line);
        if (first || closing) {
          // the entry kept last must not end with the comma of a field left out after it
          if (closing) element[element.length - 1] = element[element.length - 1]!.replace(/,$/, "");
          element.push(line);
        } else {
          // an element's own fields start at six spaces: only those coverage reads are kept and parsed
          const field = /^ {6}"([^"]+)": /.exec(line);
          if (field) keep = FIELDS[topKey!]!.has(field[1]!);
          if (keep) element.push(line);
        }
        const opened = first && /[[{]$/.test(line);
        if (first ? !opened : closing) {
          const text = element.join("\n").replace(/,$/, "");
          element = [];
          keep = true;
          yield { [ELEMENTS[topKey!]!]: JSON.parse(text) as unknown } as SnapshotPart;
        }
        continue;
      }
      if (topKey !== null) {
        topLines.push(line);
        if (/^ {2}[\]}],?$/.test(line)) {
          yield topPart(topKey, topLines);
          topKey = null;
        }
        continue;
      }
      if (line === "{" || line === "}" || line === "") continue;
      const match = /^ {2}"([^"]+)": (.*)$/.exec(line);
      if (!match) throw new Error(`unexpected line in snapshot.json: ${line.slice(0, 80)}`);
      const [, name, rest] = match as unknown as [string, string, string];
      if (rest === "[" && ELEMENTS[name]) {
        topKey = name;
        inArray = true;
      } else if (rest === "[" || rest === "{") {
        topKey = name;
        topLines = [rest];
      } else {
        yield topPart(name, [rest]);
      }
    }
}

function topPart(name: string, text: string[]): SnapshotPart {
  if (!["collector", "period", "unreadable"].includes(name)) return {};
  return { [name]: JSON.parse(text.join("\n").replace(/,$/, "")) as unknown } as SnapshotPart;
}

/** The text's lines, a piece's worth at a time (the last line of a piece waits for the next piece). */
async function* lines(pieces: AsyncIterable<Buffer>): AsyncGenerator<string[]> {
  const decoder = new StringDecoder("utf8");
  let rest = "";
  for await (const piece of pieces) {
    const parts = (rest + decoder.write(piece)).split("\n");
    rest = parts.pop() ?? "";
    yield parts;
  }
  rest += decoder.end();
  if (rest !== "") yield [rest];
}

function key(host: string, repository: string, branch: string): string {
  return `${host}\u0000${repository}\u0000${branch}`;
}

function compareBranch(
  a: { host: string; repository: string; branch: string },
  b: { host: string; repository: string; branch: string },
): number {
  return a.host < b.host
    ? -1
    : a.host > b.host
      ? 1
      : a.repository < b.repository
        ? -1
        : a.repository > b.repository
          ? 1
          : a.branch < b.branch
            ? -1
            : a.branch > b.branch
              ? 1
              : 0;
}

function time(ms: number): string {
  return new Date(ms).toISOString().slice(11, 16);
}
