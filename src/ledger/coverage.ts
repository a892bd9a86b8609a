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
  type CollectedAudit,
  type CollectedSummary,
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
  pending?: (
    | { label: string; snapshot: Snapshot }
    /** An audit streamed to disk: what it collected, as its record will carry it. */
    | { label: string; host: string; period: { since: string; until: string }; collected: CollectedSummary }
  )[];
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

/**
 * Each host's repository and each of its branches named once, by index, across every audit and
 * judgement of the period: the per-day, per-branch and per-merge facts below are kept by these
 * numbers, never by a string built from the names (a year of 100,000 merges held as concatenated
 * keys was tens of MB of strings alone).
 */
class Names {
  private readonly hosts = new Map<string, Map<string, number>>();
  readonly repositories: {
    host: string;
    repository: string;
    /** Named by an audit (a repository only judgements named is not a "never collected" row). */
    audited: boolean;
    branches: Map<string, number>;
    /** Its merges by number. */
    merges: Map<number, MergeFacts>;
  }[] = [];
  readonly branches: {
    repository: number;
    branch: string;
    /** A production branch of an audit, or of a judgement judged as a production change. */
    covered: boolean;
    /** Judgements made on each day of the period (by day index), allocated at the branch's first. */
    judged: Uint32Array | null;
  }[] = [];

  repository(host: string, repository: string): number {
    let byName = this.hosts.get(host);
    if (!byName) {
      byName = new Map();
      this.hosts.set(host, byName);
    }
    let id = byName.get(repository);
    if (id === undefined) {
      id = this.repositories.length;
      byName.set(repository, id);
      this.repositories.push({ host, repository, audited: false, branches: new Map(), merges: new Map() });
    }
    return id;
  }

  branch(repository: number, branch: string): number {
    const byName = this.repositories[repository]!.branches;
    let id = byName.get(branch);
    if (id === undefined) {
      id = this.branches.length;
      byName.set(branch, id);
      this.branches.push({ repository, branch, covered: false, judged: null });
    }
    return id;
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
  const names = new Names();
  const firstDay = Math.floor(since / DAY) * DAY;
  const dayCount = Math.max(0, Math.ceil((until - firstDay) / DAY));
  // The branches to cover: each audit's production branches, and those a judgement judged as production.
  const cover = (host: string, repository: string, branch: string) => {
    names.branches[names.branch(names.repository(host, repository), branch)]!.covered = true;
  };
  const labels: string[] = [];
  let auditOrder = 0;
  // Each audit is read, folded into these and dropped before the next is read.
  const fold = (parsed: CollectedAudit) => {
    const failed: AuditFacts["failed"] = new Map();
    const ids: [number, number][] = [];
    for (const [repository, facts] of parsed.repositories) {
      const id = names.repository(parsed.host, repository);
      names.repositories[id]!.audited = true;
      ids.push([id, facts.error === null ? COLLECTED : FAILED]);
      if (facts.error !== null) failed.set(id, { error: facts.error, permissions: facts.permissions });
      for (const branch of facts.branches) cover(parsed.host, repository, branch);
    }
    const status = new Uint8Array(names.repositories.length);
    for (const [id, state] of ids) status[id] = state;
    const label = labels.length;
    labels.push(parsed.label);
    for (const m of parsed.merges) {
      const facts = mergeFacts(names, parsed.host, m.repository, m.number);
      const variant = variantOf(facts, names.branch(facts.repository, m.baseBranch), m.mergedAt);
      if (variant.auditOrder < 0) {
        variant.auditOrder = auditOrder++;
        variant.labels = [label];
      } else if (variant.labels![variant.labels!.length - 1] !== label) variant.labels!.push(label);
    }
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
    if ("collected" in pending) {
      fold(collectedFromSummary(pending.label, pending.host, pending.period, pending.collected));
      continue;
    }
    if (!pending.snapshot.period) continue;
    fold(await collectedOf(pending.label, snapshotParts(pending.snapshot)));
  }
  // Judgements read a page at a time and folded in: 100,000 of them are never held at once.
  let judgementOrder = 0;
  for await (const page of judgementsOf(db, since, until)) {
    for (const j of page) {
      const at = Date.parse(j.judgedAt);
      const merged = j.mergedAt === null ? NaN : Date.parse(j.mergedAt);
      if (!((at >= since && at < until) || (merged >= since && merged < until))) continue;
      const repository = names.repository(j.host, j.repository);
      const branch = names.branches[names.branch(repository, j.baseBranch)]!;
      if (j.production) branch.covered = true;
      const day = Math.floor((at - firstDay) / DAY);
      if (day >= 0 && day < dayCount) {
        const judged = (branch.judged ??= new Uint32Array(dayCount));
        judged[day] = judged[day]! + 1;
      }
      if (j.mergedAt === null) continue;
      const facts = mergeFacts(names, j.host, j.repository, j.number);
      if (j.state === "merged") {
        const variant = variantOf(facts, names.branch(repository, j.baseBranch), j.mergedAt);
        if (variant.judgementOrder < 0) variant.judgementOrder = judgementOrder++;
      }
      // only a judgement made after the merge judged the merge (a check run before it judged a head)
      if (at >= merged && at < facts.judgedAt) facts.judgedAt = at;
    }
  }
  // A repository no audit could collect and no judgement named: its branches are not known, still a row.
  const withBranches = new Set(names.branches.filter((b) => b.covered).map((b) => b.repository));
  names.repositories.forEach(({ audited }, id) => {
    if (audited && !withBranches.has(id)) {
      names.branches[names.branch(id, "(production branches not known: never collected)")]!.covered = true;
    }
  });
  const targets = names.branches
    .filter((b) => b.covered)
    .map((b) => ({
      ...names.repositories[b.repository]!,
      branch: b.branch,
      repositoryId: b.repository,
      judged: b.judged,
    }))
    .sort(compareBranch);
  const dayStarts: number[] = [];
  for (let day = firstDay; day < until; day += DAY) dayStarts.push(day);
  // Indexed once, not per branch and day: a year of 1,000 repositories and 100,000 judgements.
  const auditsByDay = dayStarts.map((day) => {
    const start = Math.max(day, since);
    const end = Math.min(day + DAY, until);
    return audits.filter((a) => a.since < end && a.until > start);
  });
  const rows: CoverageBranch[] = [];
  for (const target of targets) {
    const days: Day[] = [];
    const id = target.repositoryId;
    dayStarts.forEach((day, index) => {
      const start = Math.max(day, since);
      const end = Math.min(day + DAY, until);
      const overlapping = auditsByDay[index]!.filter((a) => a.host === target.host);
      const collected = overlapping.filter((a) => statusOf(a, id) === COLLECTED);
      const judged = target.judged?.[index] ?? 0;
      const uncovered = uncoveredParts(
        start,
        end,
        collected.map((a) => [a.since, a.until]),
      );
      const seen = { day, audits: collected.map((a) => a.label), judgements: judged };
      if (uncovered.length === 0 || judged > 0) days.push({ ...seen, observed: true, cause: null });
      else days.push({ ...seen, observed: false, cause: gapCause(id, overlapping, uncovered, start, end) });
    });
    rows.push({
      host: target.host,
      repository: target.repository,
      branch: target.branch,
      ...segmentsOf(days),
    });
  }

  const merges = mergesOf(names, labels, since, until, options.judgedWithinMinutes);
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

/**
 * One merge (a change request of a repository merged into a branch at a time) as audits and
 * judgements recorded it. A change is nearly always recorded one way; another branch or merge time
 * (a retargeted or re-merged change) is a further variant, kept in `other`. The first variant of a
 * change also carries when the app first judged it after its merge.
 */
class MergeFacts {
  /** Its place among the audits' merges, in the order first seen (-1: no audit holds it). */
  auditOrder = -1;
  /** The audits that hold it, by index into the audit labels, in the order read. */
  labels: number[] | null = null;
  /** Its place among the judgements' merges, in the order first judged (-1: no judgement of the merge). */
  judgementOrder = -1;
  /** The app's first judgement at or after the merge (first variant only). */
  judgedAt = Infinity;
  other: MergeFacts | null = null;
  constructor(
    readonly repository: number,
    readonly number: number,
    /** Its branch by index (-1: a change only judged, not yet seen merged). */
    public branch: number,
    public mergedAt: string,
  ) {}
}

/** A change's first variant (a placeholder when nothing recorded it merged yet). */
function mergeFacts(names: Names, host: string, repository: string, number: number): MergeFacts {
  const id = names.repository(host, repository);
  const merges = names.repositories[id]!.merges;
  let facts = merges.get(number);
  if (!facts) {
    facts = new MergeFacts(id, number, -1, "");
    merges.set(number, facts);
  }
  return facts;
}

/** The variant of a change merged into `branch` at `mergedAt`, added when new. */
function variantOf(first: MergeFacts, branch: number, mergedAt: string): MergeFacts {
  if (first.branch === -1) {
    first.branch = branch;
    first.mergedAt = mergedAt;
    return first;
  }
  let variant: MergeFacts = first;
  for (;;) {
    if (variant.branch === branch && variant.mergedAt === mergedAt) return variant;
    if (!variant.other) break;
    variant = variant.other;
  }
  variant.other = new MergeFacts(first.repository, first.number, branch, mergedAt);
  return variant.other;
}

/**
 * Every merge of the period into a covered branch: how many, how many judged in time, and the others.
 * A change counts once, with the branch and time of the first variant in the period and a covered
 * branch (the audits' in the order they were read, then the judgements'), recorded in every audit
 * and judgement that holds such a variant.
 */
function mergesOf(
  names: Names,
  labels: string[],
  since: number,
  until: number,
  minutes: number,
): { total: number; inTime: number; late: CoverageMerge[] } {
  let total = 0;
  let inTime = 0;
  const late: { order: number; merge: CoverageMerge }[] = [];
  const counts = (variant: MergeFacts) => {
    if (variant.branch < 0 || !names.branches[variant.branch]!.covered) return false;
    const at = Date.parse(variant.mergedAt);
    return at >= since && at < until;
  };
  for (const { host, repository, merges } of names.repositories) {
    for (const first of merges.values()) {
      let audited: MergeFacts | null = null;
      let judged: MergeFacts | null = null;
      for (let v: MergeFacts | null = first; v; v = v.other) {
        if ((v.auditOrder < 0 && v.judgementOrder < 0) || !counts(v)) continue;
        if (v.auditOrder >= 0 && (!audited || v.auditOrder < audited.auditOrder)) audited = v;
        if (v.judgementOrder >= 0 && (!judged || v.judgementOrder < judged.judgementOrder)) judged = v;
      }
      const shown = audited ?? judged;
      if (!shown) continue;
      total += 1;
      const at = first.judgedAt === Infinity ? undefined : first.judgedAt;
      const delay =
        at === undefined ? null : Math.round(((at - Date.parse(shown.mergedAt)) / 60_000) * 10) / 10;
      if (delay !== null && delay <= minutes) {
        inTime += 1;
        continue;
      }
      // where it is recorded: each audit holding a counted variant, in the order the audits saw them
      const seenIn: string[] = [];
      const variants: MergeFacts[] = [];
      for (let v: MergeFacts | null = first; v; v = v.other)
        if (v.auditOrder >= 0 && counts(v)) variants.push(v);
      variants.sort((x, y) => x.auditOrder - y.auditOrder);
      for (const v of variants) {
        for (const label of v.labels!) if (!seenIn.includes(labels[label]!)) seenIn.push(labels[label]!);
      }
      if (judged) seenIn.push("judgement");
      late.push({
        // the audits' merges are listed before the judgements'
        order: audited ? audited.auditOrder : Number.MAX_SAFE_INTEGER / 2 + judged!.judgementOrder,
        merge: {
          host,
          repository,
          branch: names.branches[shown.branch]!.branch,
          number: shown.number,
          mergedAt: shown.mergedAt,
          seenIn,
          judgedAt: at === undefined ? null : new Date(at).toISOString(),
          minutes: delay,
          inTime: false,
        },
      });
    }
  }
  // in the order first recorded, then by merge time and repository
  const sorted = late.sort((a, b) => a.order - b.order).map((entry) => entry.merge);
  sorted.sort(
    (a, b) =>
      Date.parse(a.mergedAt) - Date.parse(b.mergedAt) ||
      (a.repository < b.repository ? -1 : 1) ||
      a.number - b.number,
  );
  return { total, inTime, late: sorted };
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
