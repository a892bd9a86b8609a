/**
 * The period's own files in `soc2-bot export`, built from the ledger alone: the configuration
 * timeline (every change observed in the period, every weakening window with who weakened and who
 * restored, and the merges that landed inside each window with their verdicts as judged then), the
 * access snapshots at the points the policy names, coverage, and the period's population
 * (population.csv: every merge into a production branch once, with the verdict it was first given).
 *
 * Bounded for a year of daily observations of 1,000 repositories: observation streams are replayed
 * one at a time, once each, from the records that changed something (nearly every daily record says
 * "unchanged since", and repeats its stream's facts); the weakening windows, the changes and the
 * facts at each point come from that one replay, and only the current stream's facts at each point
 * are held. Which observation was the last before each point is found in one SQL pass. Each
 * subject's timeline goes to a temporary file as it is built; the merges inside the windows are
 * looked up afterwards (the app's judgements in SQL; merges it never judged from coverage, which
 * reads the audit runs' populations once, with their verdicts from that run's results.json), and the
 * timeline is then written out subject by subject.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { StringDecoder } from "node:string_decoder";
import type { Outcome } from "../controls/types.js";
import { describeAge } from "../engine/age.js";
import type { AccessSnapshotPoints } from "../policy/types.js";
import {
  ACCESS_SNAPSHOT_CSV_HEADER,
  accessSnapshotCsvRows,
  noObservationsCsvRow,
  type AccessPointInfo,
  type AccessRow,
  type AccessSubjectSnapshot,
} from "../reporters/files/access-snapshots.js";
import {
  coverageCsvRows,
  coverageJsonChunks,
  renderCoverageMarkdown,
  type CoverageMerge,
  type CoverageReport,
} from "../reporters/files/coverage.js";
import { sha256File } from "../reporters/files/manifest.js";
import { sortKeys, stableJson } from "../reporters/files/results-json.js";
import {
  TIMELINE_CSV_HEADER,
  timelineCsvRows,
  timelineMarkdownHeader,
  timelineMarkdownSubject,
  timelineMarkdownUnchanged,
  type MergeVerdict,
  type TimelineChange,
  type TimelineMerge,
  type TimelinePoint,
  type TimelineSource,
  type TimelineSubject,
  type TimelineSummary,
  type TimelineWindow,
} from "../reporters/files/timeline.js";
import {
  POPULATION_CONTROLS,
  delayMinutes,
  populationCsvHeader,
  populationCsvRow,
  populationJsonElement,
  populationVerdict,
  type PopulationJudge,
  type PopulationRow,
} from "../reporters/files/period-population.js";
import { csvRow } from "../text/escape.js";
import type { ChainedRecord, Json } from "./chain.js";
import { coverageFromLedger } from "./coverage.js";
import type { Queryable } from "./database.js";
import { readStoredFile } from "./files.js";
import type { Ledger } from "./ledger.js";
import {
  OBSERVATION,
  diffFacts,
  replayObservations,
  type ObservationSource,
  type ObservedFacts,
  type ReplayedObservation,
} from "./observations.js";
import { JUDGEMENT, judgementStream, type JudgementContent } from "./records.js";
import { changedBy, weakeningWindows, type ObservationPoint, type WeakeningWindow } from "./weakening.js";

const DAY = 24 * 60 * 60 * 1000;

export const TIMELINE_FILES = [
  "configuration-timeline.md",
  "configuration-timeline.csv",
  "configuration-timeline.json",
] as const;

export const POPULATION_FILES = ["population.csv", "population.json"] as const;

export interface PeriodFilesOptions {
  since: Date;
  until: Date;
  outDir: string;
  accessSnapshots: AccessSnapshotPoints;
  judgedWithinMinutes: number;
}

export interface PeriodFile {
  name: string;
  path: string;
  sha256: string;
  bytes: number;
}

export interface PeriodFilesSummary {
  files: PeriodFile[];
  points: AccessPointInfo[];
  /** Days the policy names that fall outside the period (no file is written for them). */
  pointsOutside: string[];
  timeline: TimelineSummary;
  /** population.csv: how many merges it lists, and what kept a verdict from being known. */
  population: { merges: number; problems: string[] };
}

/**
 * The points of the period at which access is listed: each quarter's or month's last day, or the
 * days the policy lists, that end inside the period, and the period's end. A point is the end of its
 * day (UTC): observations made before midnight count.
 */
export function accessPoints(
  since: Date,
  until: Date,
  spec: AccessSnapshotPoints,
): { points: AccessPointInfo[]; outside: string[] } {
  const from = since.getTime();
  const to = until.getTime();
  const points = new Map<number, AccessPointInfo>();
  const outside: string[] = [];
  const add = (at: number, label: string, reason: string): boolean => {
    if (at <= from || at > to) return false;
    const found = points.get(at);
    if (found) {
      if (!found.reasons.includes(reason)) found.reasons.push(reason);
    } else points.set(at, { label, at: new Date(at).toISOString(), reasons: [reason] });
    return true;
  };
  const dayLabel = (end: number) => new Date(end - DAY).toISOString().slice(0, 10);
  if (typeof spec === "string") {
    const first = new Date(from);
    for (
      let year = first.getUTCFullYear(), month = first.getUTCMonth();
      Date.UTC(year, month, 1) <= to;
      month === 11 ? ((year += 1), (month = 0)) : (month += 1)
    ) {
      if (spec === "quarter-ends" && month % 3 !== 2) continue;
      const end = Date.UTC(year, month + 1, 1);
      add(end, dayLabel(end), spec === "quarter-ends" ? "quarter end" : "month end");
    }
  } else {
    for (const day of spec) {
      const end = Date.parse(`${day}T00:00:00Z`) + DAY;
      if (!add(end, day, "named in the policy")) outside.push(day);
    }
  }
  const midnight = to % DAY === 0;
  add(to, midnight ? dayLabel(to) : until.toISOString(), "end of the period");
  return { points: [...points.values()].sort((a, b) => Date.parse(a.at) - Date.parse(b.at)), outside };
}

/** The file names of a point's snapshot ("access-2026-03-31.csv"). */
export function accessFileName(point: AccessPointInfo, extension: "csv" | "json"): string {
  return `access-${point.label.replace(/[^\w.-]+/g, "-")}.${extension}`;
}

/** Writes the timeline, the access snapshots and coverage into outDir; returns them hashed. */
export async function writePeriodFiles(
  ledger: Ledger,
  options: PeriodFilesOptions,
): Promise<PeriodFilesSummary> {
  const { points, outside } = accessPoints(options.since, options.until, options.accessSnapshots);
  const db = await ledger.database();
  const scratch = await mkdtemp(join(tmpdir(), "soc2-export-timeline-"));
  const written: string[] = [];
  try {
    let streams = 0;
    const subjectsFile = join(scratch, "subjects.jsonl");
    const subjectsOut = textFile(subjectsFile);
    const access = points.map((point) => ({
      point,
      csv: textFile(join(options.outDir, accessFileName(point, "csv"))),
      json: textFile(join(options.outDir, accessFileName(point, "json"))),
      subjects: 0,
    }));
    for (const file of access) {
      written.push(join(options.outDir, accessFileName(file.point, "csv")));
      written.push(join(options.outDir, accessFileName(file.point, "json")));
      await file.csv.write(csvRow(ACCESS_SNAPSHOT_CSV_HEADER));
      await file.json.write(
        `{\n  "ledger": ${JSON.stringify(ledger.location)},\n  "point": ${indent(stableJson(file.point).trimEnd(), "  ")},\n  "subjects": [`,
      );
    }
    /** One subject's rows at every point, in each point's CSV and JSON. */
    const writeAccess = async (name: string, replayed: ReplayedStream) => {
      for (const [index, file] of access.entries()) {
        const snapshot = accessAt(name, replayed, index, file.point);
        for (const row of accessSnapshotCsvRows(file.point, snapshot)) await file.csv.write(row);
        await file.json.write(
          `${file.subjects === 0 ? "" : ","}\n    ${indent(JSON.stringify(sortKeys(snapshot), null, 2), "    ")}`,
        );
        file.subjects += 1;
      }
    };
    const windows: PendingWindow[] = [];
    const problems: string[] = [];
    const unchanged: string[] = [];
    let changes = 0;
    let subjectsChanged = 0;
    const beforePoints = await observationsBeforePoints(db, points);
    const replayedStreams = new Set<string>();
    for await (const { stream: name, records } of observationStreams(db)) {
      streams += 1;
      replayedStreams.add(name);
      const replayed = await replayStream(
        name,
        records,
        beforePoints.get(name) ?? points.map(() => null),
        options,
      );
      if (replayed.problem) problems.push(replayed.problem);
      await writeAccess(name, replayed);
      const inPeriod = replayed.windows.filter((w) => overlaps(w, options.since, options.until));
      if (replayed.changes.length === 0 && inPeriod.length === 0) {
        unchanged.push(`${replayed.host}:${replayed.subject}`);
        continue;
      }
      const changed = replayed.changes.reduce((sum, c) => sum + c.changes.length, 0);
      if (changed > 0) subjectsChanged += 1;
      changes += changed;
      const ids: number[] = [];
      for (const window of inPeriod) {
        ids.push(windows.length);
        windows.push(pendingWindow(window, replayed, options));
      }
      const line: StoredSubject = {
        host: replayed.host,
        subject: replayed.subject,
        kind: replayed.kind,
        stream: name,
        changes: replayed.changes,
        windows: ids,
      };
      await subjectsOut.write(`${JSON.stringify(line)}\n`);
    }
    await subjectsOut.close();
    // a stream of "unchanged" records only never recorded its subject whole: said, never left out
    for (const name of beforePoints.keys()) {
      if (replayedStreams.has(name)) continue;
      streams += 1;
      const problem = `${name}: it holds no observation recorded whole, so its facts are not known`;
      problems.push(problem);
      const replayed: ReplayedStream = {
        host: name.slice("observation:".length).split("/")[0]!,
        subject: name.slice("observation:".length).split("/").slice(1).join("/"),
        kind: "repository",
        changes: [],
        windows: [],
        atPoints: points.map(() => null),
        changed: new Map(),
        problem,
      };
      await writeAccess(name, replayed);
    }
    for (const file of access) {
      if (file.subjects === 0) await file.csv.write(noObservationsCsvRow(file.point));
      await file.json.write(
        file.subjects === 0
          ? `],\n  "note": "the ledger holds no configuration observation: access at this point is not known"\n}\n`
          : `\n  ]\n}\n`,
      );
      await file.csv.close();
      await file.json.close();
    }

    // coverage reads every audit run's population once: the merges the app never judged come from it
    const coverage = await coverageFromLedger(ledger, {
      since: options.since,
      until: options.until,
      judgedWithinMinutes: options.judgedWithinMinutes,
    });
    await mergesFromJudgements(db, windows);
    // the audit runs' verdicts of the merges the app never judged: read once, for the timeline and the population
    const unjudged = await unjudgedMerges(ledger, db, windows, coverage);
    problems.push(...unjudged.problems);
    problems.push(
      ...coverage.problems.map((problem) => `${problem} (its merges are not in the timeline either)`),
    );

    const stillWeakened = windows.filter((w) => w.stillWeakened).length;
    const summary: TimelineSummary = {
      since: options.since.toISOString(),
      until: options.until.toISOString(),
      ledger: ledger.location,
      subjects: streams,
      subjectsChanged,
      changes,
      windows: windows.length,
      stillWeakened,
      mergesInWindows: new Set(
        windows.flatMap((w) => [...w.merges.values()].map((m) => `${m.host}:${m.repository}#${m.number}`)),
      ).size,
      problems,
    };
    written.push(...(await writeTimeline(options.outDir, subjectsFile, windows, summary, unchanged)));

    // a year's coverage.json and coverage.csv are tens of MB of text: written a piece at a time
    for (const [name, pieces] of [
      ["coverage.md", () => [renderCoverageMarkdown(coverage)]],
      ["coverage.csv", () => coverageCsvRows(coverage)],
      ["coverage.json", () => coverageJsonChunks(coverage)],
    ] as const) {
      const out = textFile(join(options.outDir, name));
      for (const piece of pieces()) await out.write(piece);
      await out.close();
      written.push(join(options.outDir, name));
    }
    const population = await writePopulation(db, options, coverage, unjudged.verdicts);
    written.push(...population.paths);
    const files: PeriodFile[] = [];
    for (const path of written) {
      const hashed = await sha256File(path);
      files.push({ name: hashed.name, path, sha256: hashed.sha256, bytes: hashed.bytes });
    }
    return {
      files,
      points,
      pointsOutside: outside,
      timeline: summary,
      population: {
        merges: population.merges,
        problems: [
          ...population.problems,
          ...unjudged.problems,
          ...coverage.problems.map((problem) => `${problem} (its merges are not in the population either)`),
        ],
      },
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

const PAGE = 2_000;

/** An observation's place in its stream, without its facts. */
interface ObservationRef {
  sequence: number;
  observedAt: string;
  source: ObservationSource;
}

/** A record that changed its stream's facts (or recorded them whole), and when the observation before it was made. */
interface ChangedRecord {
  record: ChainedRecord;
  previousObservedAt: string | null;
}

/**
 * Every observation record that changed something (or recorded its subject whole), in stream and
 * sequence order, a page at a time across streams. The "unchanged since" records, nearly all of a
 * year of daily observations, repeat their stream's facts: the replay, the changes and the weakening
 * windows need only these (the chains were verified before the export began).
 */
async function* changedObservationRecords(db: Queryable): AsyncGenerator<ChangedRecord> {
  let after = { stream: "observation:", sequence: 0 };
  for (;;) {
    const rows = await db.query<{
      stream: string;
      sequence: number;
      kind: string;
      content: string;
      previous: string | null;
    }>(
      `SELECT r.stream, r.sequence, r.kind, r.content, p.content::jsonb->>'observedAt' AS previous
         FROM records r LEFT JOIN records p ON p.stream = r.stream AND p.sequence = r.sequence - 1
        WHERE r.stream < 'observation;' AND (r.stream, r.sequence) > ($1, $2)
          AND NOT (r.content::jsonb ? 'unchangedSince')
        ORDER BY r.stream, r.sequence LIMIT ${PAGE}`,
      [after.stream, after.sequence],
    );
    for (const row of rows) {
      // the replay reads the stream, sequence, kind and content only
      yield {
        record: {
          stream: row.stream,
          sequence: row.sequence,
          kind: row.kind,
          content: row.content,
          recordedAt: "",
          prevHash: "",
          hash: "",
        },
        previousObservedAt: row.previous,
      };
    }
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!;
  }
}

/**
 * For every observation stream, the last observation before each point: one pass over every
 * observation's time in SQL (each record counted into the interval between points it falls in,
 * and the latest of each interval kept), so no record's facts leave the database for this.
 */
async function observationsBeforePoints(
  db: Queryable,
  points: AccessPointInfo[],
): Promise<Map<string, (ObservationRef | null)[]>> {
  const rows = await db.query<{
    stream: string;
    bucket: number;
    sequence: number;
    observedAt: string;
    source: string;
  }>(
    `SELECT g.stream, g.bucket, g.sequence, r.content::jsonb->>'observedAt' AS "observedAt",
            (r.content::jsonb->'source')::text AS source
       FROM (SELECT stream, width_bucket((content::jsonb->>'observedAt')::timestamptz, $1::timestamptz[]) AS bucket,
                    max(sequence) AS sequence
               FROM records WHERE stream >= 'observation:' AND stream < 'observation;' AND kind = $2
              GROUP BY 1, 2) AS g
       JOIN records r ON r.stream = g.stream AND r.sequence = g.sequence`,
    [`{${points.map((p) => p.at).join(",")}}`, OBSERVATION],
  );
  const byStream = new Map<string, (ObservationRef | null)[]>();
  for (const row of rows) {
    let buckets = byStream.get(row.stream);
    if (!buckets) {
      buckets = points.map(() => null).concat([null]);
      byStream.set(row.stream, buckets);
    }
    buckets[Number(row.bucket)] = {
      sequence: Number(row.sequence),
      observedAt: row.observedAt,
      source: JSON.parse(row.source) as ObservationSource,
    };
  }
  // bucket b holds the observations between point b-1 and point b: before point i are buckets 0..i
  for (const [stream, buckets] of byStream) {
    const before: (ObservationRef | null)[] = [];
    let last: ObservationRef | null = null;
    for (let index = 0; index < points.length; index += 1) {
      last = buckets[index] ?? last;
      before.push(last);
    }
    byStream.set(stream, before);
  }
  return byStream;
}

/**
 * The observation streams one after another (an organization's before its repositories), each with
 * its changed records: a stream's records are read to its end before the next stream begins.
 */
async function* observationStreams(
  db: Queryable,
): AsyncGenerator<{ stream: string; records: AsyncIterable<ChangedRecord> }> {
  const source = changedObservationRecords(db)[Symbol.asyncIterator]();
  let next = await source.next();
  while (!next.done) {
    const stream = next.value.record.stream;
    let first: ChangedRecord | null = next.value;
    const records = async function* (): AsyncGenerator<ChangedRecord> {
      if (first) {
        const record = first;
        first = null;
        yield record;
      }
      for (;;) {
        next = await source.next();
        if (next.done || next.value.record.stream !== stream) return;
        yield next.value;
      }
    };
    yield { stream, records: records() };
    // whatever the consumer left unread of this stream is skipped
    if (first) next = await source.next();
    while (!next.done && next.value.record.stream === stream) next = await source.next();
  }
}

interface ReplayedStream {
  host: string;
  subject: string;
  kind: "repository" | "organization";
  changes: TimelineChange[];
  windows: WeakeningWindow[];
  /** The last observation before each access point (null: none), and the facts it showed. */
  atPoints: ({ observation: ObservationRef; facts: ObservedFacts | null } | null)[];
  /** For each record that changed something: the production branches then, and when the observation before it was made. */
  changed: Map<number, { productionBranches: string[]; previousObservedAt: string | null }>;
  /** The stream could not be replayed to its end. */
  problem: string | null;
}

/**
 * One replay of a stream's changed records: the weakening windows (src/ledger/weakening.ts reads the
 * replay as it goes), the changes observed in the period, and the facts at each point (those of the
 * last change at or before the point's observation).
 */
async function replayStream(
  stream: string,
  records: AsyncIterable<ChangedRecord>,
  before: (ObservationRef | null)[],
  period: { since: Date; until: Date },
): Promise<ReplayedStream> {
  const name = stream.slice("observation:".length);
  const slash = name.indexOf("/");
  const facts: (ObservedFacts | null)[] = before.map(() => null);
  const out: ReplayedStream = {
    host: name.slice(0, slash),
    subject: name.slice(slash + 1),
    kind: name.slice(slash + 1).includes("/") ? "repository" : "organization",
    changes: [],
    windows: [],
    atPoints: [],
    changed: new Map(),
    problem: null,
  };
  const since = period.since.getTime();
  const until = period.until.getTime();
  const previousAt = new Map<number, string | null>();
  let previous: ReplayedObservation | null = null;
  const note = (observed: ReplayedObservation) => {
    const at = Date.parse(observed.observedAt);
    out.kind = observed.facts.kind;
    before.forEach((target, index) => {
      if (target && observed.sequence <= target.sequence) facts[index] = observed.facts;
    });
    if (observed.changedAt === observed.sequence) {
      out.changed.set(observed.sequence, {
        productionBranches: observed.facts.kind === "repository" ? observed.facts.productionBranches : [],
        previousObservedAt: previousAt.get(observed.sequence) ?? null,
      });
      if (at >= since && at < until) out.changes.push(changeOf(stream, previous, observed));
    }
    previous = observed;
  };
  const chained = (async function* () {
    for await (const { record, previousObservedAt } of records) {
      previousAt.set(record.sequence, previousObservedAt);
      yield record;
    }
  })();
  const source = replayObservations(chained)[Symbol.asyncIterator]();
  async function* passing(): AsyncGenerator<ReplayedObservation> {
    for (;;) {
      const next = await source.next();
      if (next.done) return;
      note(next.value);
      yield next.value;
    }
  }
  try {
    out.windows = await weakeningWindows(stream, passing());
    // whatever the classifier left unread is still replayed for the changes and the points
    for (let next = await source.next(); !next.done; next = await source.next()) note(next.value);
    out.atPoints = before.map((observation, index) =>
      observation ? { observation, facts: facts[index] ?? null } : null,
    );
  } catch (error) {
    out.problem = `${stream}: its observations could not be replayed (${(error as Error).message}); its facts and changes are not in this export`;
    out.changes = [];
    out.windows = [];
    out.atPoints = before.map(() => null);
  }
  return out;
}

function sourceOf(source: ObservationSource): TimelineSource {
  return {
    trigger: source.trigger,
    event: source.event ?? null,
    deliveryId: source.deliveryId ?? null,
    actor: source.actor ?? null,
  };
}

function changeOf(
  stream: string,
  previous: ReplayedObservation | null,
  observed: ReplayedObservation,
): TimelineChange {
  const base = {
    stream,
    sequence: observed.sequence,
    observedAt: observed.observedAt,
    source: sourceOf(observed.source),
  };
  if (!previous || previous.facts.kind !== observed.facts.kind) return { ...base, first: true, changes: [] };
  const before = previous.facts as unknown as Json;
  return {
    ...base,
    first: false,
    changes: diffFacts(before, observed.facts as unknown as Json).map((change) => ({
      path: change.path,
      ...(valueAt(before, change.path) !== undefined && { before: valueAt(before, change.path) }),
      ...(!("removed" in change) && { after: change.value }),
    })),
  };
}

function valueAt(facts: Json, path: readonly string[]): Json | undefined {
  let node: Json | undefined = facts;
  for (const key of path) {
    if (node === null || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = node[key];
  }
  return node;
}

function overlaps(window: WeakeningWindow, since: Date, until: Date): boolean {
  return (
    Date.parse(window.weakened.observedAt) < until.getTime() &&
    (window.restored === null || Date.parse(window.restored.observedAt) > since.getTime())
  );
}

/** What a subject's access was at one point, from the last observation before it. */
function accessAt(
  stream: string,
  replayed: ReplayedStream,
  index: number,
  point: AccessPointInfo,
): AccessSubjectSnapshot {
  const at = replayed.atPoints[index] ?? null;
  const base = { host: replayed.host, subject: replayed.subject, stream };
  if (!at?.facts) {
    return {
      ...base,
      kind: "not observed",
      observation: null,
      rows: [
        {
          access: "not observed",
          name: "",
          role: "",
          detail: replayed.problem
            ? `the ledger's observations of this subject could not be read: ${replayed.problem}`
            : at
              ? `the observation before ${point.at} (record ${at.observation.sequence}) follows no observation recorded whole: its access then is not known`
              : `the ledger holds no observation of this subject before ${point.at}: its access then is not known`,
        },
      ],
    };
  }
  const { observation, facts } = at;
  const ageMs = Date.parse(point.at) - Date.parse(observation.observedAt);
  return {
    ...base,
    kind: facts.kind,
    observation: {
      sequence: observation.sequence,
      observedAt: observation.observedAt,
      ageMs,
      age: describeAge(ageMs),
      source: sourceOf(observation.source),
    },
    rows: accessRowsOf(facts),
  };
}

type KnownFact<T> = { known: true; value: T } | { known: false; permission: string; reason: string };

/** The rows of a list: one per entry, "none" for an empty one, or why it could not be read. */
function listRows<T>(
  access: string,
  fact: KnownFact<T>,
  entries: (value: T) => AccessRow[],
  nothing: string,
): AccessRow[] {
  if (!fact.known) {
    return [
      {
        access,
        name: "",
        role: "",
        detail: `unreadable when observed: ${fact.reason} (needs ${fact.permission})`,
      },
    ];
  }
  const rows = entries(fact.value);
  return rows.length > 0 ? rows : [{ access, name: "", role: "", detail: nothing }];
}

export function accessRowsOf(facts: ObservedFacts): AccessRow[] {
  if (facts.kind === "organization") {
    return [
      ...listRows(
        "setting",
        facts.twoFactorRequired,
        (required) => [
          {
            access: "setting",
            name: "two-factor requirement",
            role: required ? "required" : "not required",
            detail: "",
          },
        ],
        "",
      ),
      ...listRows(
        "setting",
        facts.basePermission,
        (permission) => [{ access: "setting", name: "base permission", role: permission, detail: "" }],
        "",
      ),
      ...listRows(
        "member",
        facts.members,
        (members) =>
          Object.entries(members)
            .sort(([a], [b]) => compare(a, b))
            .map(([login, member]) => ({
              access: "member",
              name: login,
              role: member.role,
              twoFactor: member.twoFactor,
              detail:
                member.twoFactor === null ? "2FA state not readable (GitHub shows it to owners only)" : "",
            })),
        "none: the organization had no members",
      ),
      ...listRows(
        "outside-collaborator",
        facts.outsideCollaborators,
        (logins) =>
          logins.map((login) => ({ access: "outside-collaborator", name: login, role: "", detail: "" })),
        "none",
      ),
    ];
  }
  return [
    {
      access: "setting",
      name: "visibility",
      role: facts.visibility,
      detail: facts.archived ? "archived" : "",
    },
    ...(facts.collectionError === null
      ? []
      : [{ access: "collection-error", name: "", role: "", detail: facts.collectionError }]),
    ...listRows(
      "collaborator",
      facts.collaborators,
      (collaborators) =>
        Object.entries(collaborators)
          .sort(([a], [b]) => compare(a, b))
          .map(([login, c]) => ({
            access: "collaborator",
            name: login,
            role: c.permission,
            detail: c.outside ? "outside collaborator" : "",
          })),
      "none",
    ),
    ...listRows(
      "team",
      facts.teams,
      (teams) =>
        Object.entries(teams)
          .sort(([a], [b]) => compare(a, b))
          .map(([slug, permission]) => ({ access: "team", name: slug, role: permission, detail: "" })),
      "none",
    ),
    ...listRows(
      "admin",
      facts.admins,
      (admins) => admins.map((login) => ({ access: "admin", name: login, role: "admin", detail: "" })),
      "none",
    ),
    ...listRows(
      "deploy-key",
      facts.deployKeys,
      (keys) =>
        Object.entries(keys)
          .sort(([a], [b]) => compare(a, b))
          .map(([id, key]) => ({
            access: "deploy-key",
            name: key.title,
            role: key.readOnly ? "read" : "write",
            detail: `key ${id}${key.addedBy ? `, added by ${key.addedBy}` : ""}`,
          })),
      "none",
    ),
  ];
}

/** A subject's timeline as kept in the temporary file: its windows by index into the window list. */
interface StoredSubject extends Omit<TimelineSubject, "windows"> {
  windows: number[];
}

interface PendingWindow {
  host: string;
  repository: string | null;
  window: WeakeningWindow;
  branches: string[] | null;
  note: string | null;
  /** Merges into the branches in [from, to): the window clipped to the period. */
  from: number;
  to: number;
  merges: Map<string, TimelineMerge>;
  /** Not restored before the period's end. */
  stillWeakened: boolean;
}

function pendingWindow(
  window: WeakeningWindow,
  replayed: ReplayedStream,
  period: { since: Date; until: Date },
): PendingWindow {
  const changed = replayed.changed.get(window.weakened.sequence);
  const notes: string[] = [];
  let from = Date.parse(window.weakened.observedAt);
  // A weakening found by a daily observation was made at some time after the observation before it:
  // merges from then on are listed, never only those after it happened to be seen.
  const previousAt = changed?.previousObservedAt ?? null;
  if (window.weakened.source.trigger !== "webhook" && previousAt !== null) {
    from = Date.parse(previousAt);
    notes.push(
      `The weakening was found by a daily observation, so it was made after the observation before it (${previousAt}): merges from then on are listed.`,
    );
  }
  const to = window.restored ? Date.parse(window.restored.observedAt) : period.until.getTime();
  if (from < period.since.getTime()) notes.push("Merges before the period are not listed.");
  const stillWeakened = to >= period.until.getTime();
  if (stillWeakened) {
    // the last observation before the end is what shows it: the ledger may have seen nothing since
    const last = replayed.atPoints[replayed.atPoints.length - 1];
    notes.push(
      `Still weakened at the end of the period${last ? ` (the last observation before its end: ${last.observation.observedAt})` : ""}: merges up to its end are listed.`,
    );
  }
  let branches: string[] | null;
  if (replayed.kind === "organization") {
    branches = null;
    notes.push(
      "Organization-wide: the merges of every repository in this window are in the audit runs' populations and the app's judgements.",
    );
  } else {
    const prefix = `${window.subject}:branch:`;
    branches = window.aspect.startsWith(prefix)
      ? [window.aspect.slice(prefix.length)]
      : [...(changed?.productionBranches ?? [])];
    if (!window.aspect.startsWith(prefix))
      notes.push("Repository-wide: merges into every production branch are listed.");
  }
  return {
    host: replayed.host,
    repository: replayed.kind === "repository" ? replayed.subject : null,
    window,
    branches,
    note: notes.length > 0 ? notes.join(" ") : null,
    stillWeakened,
    from: Math.max(from, period.since.getTime()),
    to: Math.min(to, period.until.getTime()),
    merges: new Map(),
  };
}

/** The windows of `repository` on `host` that a merge into `branch` at `at` landed in. */
function windowsOf(windows: PendingWindow[], host: string, repository: string, branch: string, at: number) {
  return windows.filter(
    (w) =>
      w.host === host &&
      w.repository === repository &&
      w.branches?.includes(branch) === true &&
      at >= w.from &&
      at < w.to,
  );
}

function noteMerge(
  window: PendingWindow,
  merge: Omit<TimelineMerge, "verdicts" | "recordedIn">,
  recordedIn: string,
  verdict: MergeVerdict | null,
): void {
  const id = `${merge.repository}#${merge.number}`;
  let found = window.merges.get(id);
  if (!found) {
    found = { ...merge, verdicts: [], recordedIn: [] };
    window.merges.set(id, found);
  }
  if (!found.recordedIn.includes(recordedIn)) found.recordedIn.push(recordedIn);
  if (verdict && !found.verdicts.some((v) => v.by === verdict.by)) found.verdicts.push(verdict);
}

/** A change's verdict from its results: the worst outcome, the counts, and only what did not pass in full. */
function verdictOf(
  by: string,
  judgedAt: string,
  results: { control: string; outcome: Outcome; reason: string }[],
): MergeVerdict {
  const counts: Partial<Record<Outcome, number>> = {};
  for (const result of results) counts[result.outcome] = (counts[result.outcome] ?? 0) + 1;
  return {
    by,
    judgedAt,
    // no results at all is unknown, never "not applicable" (the population says the same)
    outcome: populationVerdict(results).overall,
    counts,
    // only these are kept whole: a year's windows may hold many merges, each with its passing results
    notPassing: results.filter((r) => r.outcome !== "pass" && r.outcome !== "not-applicable"),
  };
}

/** The app's judgements of merges inside the windows: the last judgement made after each merge. */
async function mergesFromJudgements(db: Queryable, windows: PendingWindow[]): Promise<void> {
  const byRepository = new Map<string, PendingWindow[]>();
  for (const window of windows) {
    if (window.repository === null || window.from >= window.to) continue;
    const key = judgementStream(window.host, window.repository);
    byRepository.set(key, [...(byRepository.get(key) ?? []), window]);
  }
  for (const [stream, list] of byRepository) {
    const from = Math.min(...list.map((w) => w.from));
    const to = Math.max(...list.map((w) => w.to));
    // only the fields needed, taken apart in SQL: a repository's year of judgements never reaches memory
    const rows = await db.query<{
      sequence: number;
      number: string;
      branch: string;
      mergedAt: string;
      judgedAt: string;
      results: string;
    }>(
      `SELECT sequence, c->>'number' AS number, c->>'baseBranch' AS branch, c->>'mergedAt' AS "mergedAt",
              c->>'judgedAt' AS "judgedAt",
              (SELECT coalesce(jsonb_agg(jsonb_build_object('control', r->>'control', 'outcome', r->>'outcome',
                                                            'reason', r->>'reason')), '[]'::jsonb)
                 FROM jsonb_array_elements(c->'results') AS r
                WHERE r->'subject'->>'kind' = 'change-request')::text AS results
         FROM (SELECT sequence, content::jsonb AS c FROM records WHERE stream = $1 AND kind = $2) AS judgement
        WHERE c->>'mergedAt' IS NOT NULL
          AND (c->>'mergedAt')::timestamptz >= $3 AND (c->>'mergedAt')::timestamptz < $4
        ORDER BY sequence`,
      [stream, JUDGEMENT, new Date(from), new Date(to)],
    );
    // the last judgement of each merge stands: a merge waiting for its merge commit's checks is judged again
    const last = new Map<string, (typeof rows)[number]>();
    for (const row of rows) {
      if (Date.parse(row.judgedAt) >= Date.parse(row.mergedAt)) last.set(row.number, row);
    }
    const host = list[0]!.host;
    const repository = list[0]!.repository!;
    for (const row of rows) {
      const at = Date.parse(row.mergedAt);
      const judged = last.get(row.number);
      const results = judged
        ? (JSON.parse(judged.results) as { control: string; outcome: Outcome; reason: string }[])
        : [];
      const verdict: MergeVerdict | null = judged
        ? verdictOf(`app judgement (${stream} record ${judged.sequence})`, judged.judgedAt, results)
        : null;
      for (const window of windowsOf(list, host, repository, row.branch, at)) {
        noteMerge(
          window,
          { host, repository, number: Number(row.number), branch: row.branch, mergedAt: row.mergedAt },
          `app judgements (${stream})`,
          verdict,
        );
      }
    }
  }
}

/** An audit run's verdict of a merge the app never judged, for population.csv. */
interface AuditedVerdict {
  judgedBy: PopulationJudge;
  judgedAt: string;
  /** Its results for that change (control and outcome only); null: they could not be read. */
  results: { control: string; outcome: Outcome }[] | null;
  note: string | null;
}

/**
 * The merges of the period that the app never judged, from coverage's list of the period's merges
 * (coverage reads every audit run's population once; it is not read again here), each with the
 * verdict of the first audit run that holds it, read from that run's results.json (only the
 * results of those merges are parsed): noted in the timeline's windows they landed in, and returned
 * for population.csv. A merge the app judged has the app's verdict already.
 */
async function unjudgedMerges(
  ledger: Ledger,
  db: Queryable,
  windows: PendingWindow[],
  coverage: CoverageReport,
): Promise<{ problems: string[]; verdicts: Map<string, AuditedVerdict> }> {
  const open = windows.filter((w) => w.repository !== null && w.from < w.to);
  const problems: string[] = [];
  const found = new Map<string, AuditedVerdict>();
  /** By audit run label: the merges whose verdict it gives. */
  const wanted = new Map<string, Map<string, { merge: CoverageMerge; windows: PendingWindow[] }>>();
  for (const merge of coverage.merges.late) {
    if (merge.judgedAt !== null) continue;
    const inside = windowsOf(open, merge.host, merge.repository, merge.branch, Date.parse(merge.mergedAt));
    const part = {
      host: merge.host,
      repository: merge.repository,
      number: merge.number,
      branch: merge.branch,
      mergedAt: merge.mergedAt,
    };
    for (const window of inside) for (const label of merge.seenIn) noteMerge(window, part, label, null);
    const audit = merge.seenIn.find((label) => label !== "judgement");
    if (audit === undefined) continue;
    const list = wanted.get(audit) ?? new Map<string, { merge: CoverageMerge; windows: PendingWindow[] }>();
    list.set(`${merge.repository}#${merge.number}`, { merge, windows: inside });
    wanted.set(audit, list);
  }
  if (wanted.size === 0) return { problems, verdicts: found };
  for await (const { record, content } of ledger.auditRunsIn({
    since: new Date(coverage.since),
    until: new Date(coverage.until),
  })) {
    const label = `${record.stream} record ${record.sequence}`;
    const merges = wanted.get(label);
    if (!merges) continue;
    const judgedBy: PopulationJudge = {
      kind: "audit run",
      stream: record.stream,
      sequence: record.sequence,
      recordHash: record.hash,
    };
    const unread = (note: string) => {
      for (const { merge } of merges.values()) {
        found.set(mergeKey(merge.host, merge.repository, merge.number), {
          judgedBy,
          judgedAt: content.evaluatedAt,
          results: null,
          note,
        });
      }
    };
    const results = content.package.files.find((f) => f.name === "results.json");
    if (!results) {
      problems.push(
        `${label}: its package holds no results.json, so the verdicts of merges the app did not judge are not known`,
      );
      unread("the audit run's package holds no results.json: its verdict is not known");
      continue;
    }
    try {
      const verdicts = new Map<string, { control: string; outcome: Outcome; reason: string }[]>();
      // its bytes are checked against the hash the run recorded: a changed file gives no verdict
      const stored = checkedFile(db, results.sha256);
      for await (const text of arrayElements(stored.pieces, "results")) {
        const id = firstString(text, /\n {6}"subject": \{\n {8}"id": ("(?:[^"\\]|\\.)*")/);
        if (id !== null && !merges.has(id)) continue;
        const result = JSON.parse(text) as {
          control: string;
          outcome: Outcome;
          reason: string;
          subject: { kind: string; id: string };
        };
        if (result.subject.kind !== "change-request" || !merges.has(result.subject.id)) continue;
        const list = verdicts.get(result.subject.id) ?? [];
        list.push({ control: result.control, outcome: result.outcome, reason: result.reason });
        verdicts.set(result.subject.id, list);
      }
      await stored.check();
      for (const [id, { merge, windows: inside }] of merges) {
        const list = verdicts.get(id) ?? [];
        const verdict = verdictOf(label, content.evaluatedAt, list);
        for (const window of inside) {
          const noted = window.merges.get(id);
          if (noted && noted.verdicts.length === 0) noted.verdicts.push(verdict);
        }
        found.set(mergeKey(merge.host, merge.repository, merge.number), {
          judgedBy,
          judgedAt: content.evaluatedAt,
          results: list.map((r) => ({ control: r.control, outcome: r.outcome })),
          note: list.length === 0 ? "the audit run's results.json holds no result for this change" : null,
        });
      }
    } catch (error) {
      problems.push(
        `${label}: its results.json could not be read (${(error as Error).message}), so the verdicts of merges the app did not judge are not known`,
      );
      unread(`the audit run's results.json could not be read: ${(error as Error).message}`);
    }
  }
  return { problems, verdicts: found };
}

function mergeKey(host: string, repository: string, number: number): string {
  return `${host}\u0000${repository}#${number}`;
}

/** The app's first verdict of one merge, as population.csv lists it. */
interface AppVerdict {
  host: string;
  repository: string;
  number: number;
  baseBranch: string;
  mergedAt: string;
  judgedAt: string;
  merge: boolean;
  judgedBy: PopulationJudge;
  results: { control: string; outcome: Outcome }[];
}

/**
 * population.csv and population.json: every merge of the period into a production branch, once,
 * repository by repository (in judgement stream order) and by merge time within each. The app's
 * judgements are read a page at a time in stream order, so only one repository's merges are held;
 * the merges it never judged (coverage's list, already in memory, with the audit runs' verdicts)
 * are written in among them. A merge the app judged is listed with the app's verdict only.
 */
async function writePopulation(
  db: Queryable,
  options: PeriodFilesOptions,
  coverage: CoverageReport,
  audited: Map<string, AuditedVerdict>,
): Promise<{ paths: string[]; merges: number; problems: string[] }> {
  const since = options.since.getTime();
  const until = options.until.getTime();
  const csvPath = join(options.outDir, POPULATION_FILES[0]);
  const jsonPath = join(options.outDir, POPULATION_FILES[1]);
  const csv = textFile(csvPath);
  const json = textFile(jsonPath);
  await csv.write(populationCsvHeader());
  await json.write(
    `{\n  "period": ${JSON.stringify({ since: options.since.toISOString(), until: options.until.toISOString() })},\n` +
      `  "controls": ${JSON.stringify(POPULATION_CONTROLS)},\n  "merges": [`,
  );
  let count = 0;
  const write = async (row: PopulationRow) => {
    await csv.write(populationCsvRow(row));
    await json.write(`${count === 0 ? "" : ","}\n    ${populationJsonElement(row)}`);
    count += 1;
  };
  // the merges the app never judged, by the judgement stream their repository's judgements would be in
  const unjudged = new Map<string, CoverageMerge[]>();
  for (const merge of coverage.merges.late) {
    if (merge.judgedAt !== null) continue;
    const stream = judgementStream(merge.host, merge.repository);
    unjudged.set(stream, [...(unjudged.get(stream) ?? []), merge]);
  }
  const unjudgedStreams = [...unjudged.keys()].sort(compare);
  let next = 0;
  const unjudgedRow = (merge: CoverageMerge): PopulationRow => {
    const verdict = audited.get(mergeKey(merge.host, merge.repository, merge.number));
    const judged = verdict ? populationVerdict(verdict.results ?? []) : populationVerdict([]);
    return {
      host: merge.host,
      repository: merge.repository,
      number: merge.number,
      baseBranch: merge.branch,
      mergedAt: merge.mergedAt,
      judgedAt: verdict?.judgedAt ?? null,
      judgedBy: verdict?.judgedBy ?? null,
      delayMinutes: delayMinutes(merge.mergedAt, verdict?.judgedAt ?? null),
      ...judged,
      note: verdict
        ? verdict.note
        : "neither the app nor an audit run judged it after the merge: its verdict is not known",
    };
  };
  const flush = async (stream: string | null, app: Map<number, AppVerdict>) => {
    // repositories the app never judged a merge of come first when their stream sorts first
    while (next < unjudgedStreams.length && (stream === null || unjudgedStreams[next]! < stream)) {
      for (const merge of unjudged.get(unjudgedStreams[next]!)!) await write(unjudgedRow(merge));
      next += 1;
    }
    if (stream === null) return;
    const rows: PopulationRow[] = [...app.values()].map((v) => ({
      host: v.host,
      repository: v.repository,
      number: v.number,
      baseBranch: v.baseBranch,
      mergedAt: v.mergedAt,
      judgedAt: v.judgedAt,
      judgedBy: v.judgedBy,
      delayMinutes: delayMinutes(v.mergedAt, v.judgedAt),
      ...populationVerdict(v.results),
      note: v.merge ? null : "no judgement at merge time: the app's first judgement after the merge",
    }));
    if (unjudgedStreams[next] === stream) {
      // a merge the app judged is listed once, with the app's verdict
      for (const merge of unjudged.get(stream)!) if (!app.has(merge.number)) rows.push(unjudgedRow(merge));
      next += 1;
    }
    rows.sort((a, b) => Date.parse(a.mergedAt) - Date.parse(b.mergedAt) || a.number - b.number);
    for (const row of rows) await write(row);
  };
  let current: string | null = null;
  let app = new Map<number, AppVerdict>();
  let after = { stream: "judgement:", sequence: 0 };
  for (;;) {
    // in the primary key's order (a filter on kind and time made each page scan every judgement's
    // index entry: 28 s for a year of 100,000); a record from before the period is passed over
    // without its content leaving the database
    const rows = await db.query<{ stream: string; sequence: number; hash: string; content: string | null }>(
      `SELECT stream, sequence, hash, CASE WHEN kind = $1 AND recorded_at >= $2 THEN content END AS content
         FROM records
        WHERE stream >= 'judgement:' AND stream < 'judgement;' AND (stream, sequence) > ($3, $4)
        ORDER BY stream, sequence LIMIT ${POPULATION_PAGE}`,
      [JUDGEMENT, new Date(since - 60 * 60 * 1000), after.stream, after.sequence],
    );
    for (const row of rows) {
      if (row.stream !== current) {
        if (current !== null) await flush(current, app);
        current = row.stream;
        app = new Map();
      }
      if (row.content === null) continue;
      const c = JSON.parse(row.content) as JudgementContent;
      if (c.mergedAt === null) continue;
      const merged = Date.parse(c.mergedAt);
      const judged = Date.parse(c.judgedAt);
      // only a judgement made after the merge judged the merge (a check run before it judged a head)
      if (!(merged >= since && merged < until) || !(judged >= merged)) continue;
      const results = (c.results ?? [])
        .filter((r) => r.subject.kind === "change-request")
        .map((r) => ({ control: r.control, outcome: r.outcome }));
      // a merge into a branch that is not a production branch is judged not applicable throughout
      if (!results.some((r) => r.outcome !== "not-applicable")) continue;
      const candidate: AppVerdict = {
        host: c.host,
        repository: c.repository,
        number: c.number,
        baseBranch: c.baseBranch,
        mergedAt: c.mergedAt,
        judgedAt: c.judgedAt,
        merge: c.trigger === "merge",
        judgedBy: { kind: "app judgement", stream: row.stream, sequence: row.sequence, recordHash: row.hash },
        results,
      };
      const before = app.get(c.number);
      // the verdict it was first given: the judgement at merge time, the earliest if it was judged again
      if (
        !before ||
        (candidate.merge && !before.merge) ||
        (candidate.merge === before.merge && judged < Date.parse(before.judgedAt))
      ) {
        app.set(c.number, candidate);
      }
    }
    if (rows.length < POPULATION_PAGE) break;
    after = rows[rows.length - 1]!;
  }
  if (current !== null) await flush(current, app);
  await flush(null, new Map());
  await json.write(`${count === 0 ? "]" : "\n  ]"},\n  "count": ${count}\n}\n`);
  await csv.close();
  await json.close();
  const problems: string[] = [];
  if (count !== coverage.merges.total) {
    problems.push(
      `population.csv lists ${count} merges and coverage counted ${coverage.merges.total}: ` +
        `the app's judgements and the audit runs' populations disagree on which branches are production branches`,
    );
  }
  return { paths: [csvPath, jsonPath], merges: count, problems };
}

const POPULATION_PAGE = 250;

/**
 * A stored file's pieces, hashed as they are read; `check` reads what the reader left (the results
 * array ends before the file does) and fails when the bytes do not hash to what was recorded.
 */
function checkedFile(
  db: Queryable,
  sha256: string,
): { pieces: AsyncIterable<Buffer>; check(): Promise<void> } {
  const source = readStoredFile(db, sha256)[Symbol.asyncIterator]();
  const hash = createHash("sha256");
  const next = async () => {
    const result = await source.next();
    if (!result.done) hash.update(result.value);
    return result;
  };
  return {
    // no return(): a reader that stops early leaves the rest to check()
    pieces: { [Symbol.asyncIterator]: () => ({ next }) },
    async check() {
      while (!(await next()).done);
      const found = hash.digest("hex");
      if (found !== sha256) {
        throw new Error(`it was changed in the file store (its SHA-256 is ${found}, recorded ${sha256})`);
      }
    },
  };
}

function firstString(text: string, pattern: RegExp): string | null {
  const match = pattern.exec(text);
  return match ? (JSON.parse(match[1]!) as string) : null;
}

/**
 * The elements of one top-level array of objects in a stored pretty-printed JSON file (2-space indent,
 * as the package writes snapshot.json and results.json), one at a time as text. The text before the
 * array (a year's snapshot holds every repository first) is searched, not split into lines, and an
 * element ends at the first line that is exactly its closing brace (nested lines are indented
 * deeper, and strings hold no raw newline). Anything else is an error, never a guess.
 */
async function* arrayElements(pieces: AsyncIterable<Buffer>, key: string): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8");
  const opener = `\n  ${JSON.stringify(key)}: [\n`;
  let text = "";
  let inside = false;
  for await (const piece of pieces) {
    text += decoder.write(piece);
    if (!inside) {
      const at = text.indexOf(opener);
      if (at < 0) {
        text = text.slice(Math.max(0, text.length - opener.length));
        continue;
      }
      // keep the newline that begins the first element's line
      text = text.slice(at + opener.length - 1);
      inside = true;
    }
    let position = 0;
    for (;;) {
      if (text.length - position < 7) break;
      if (text.startsWith("\n  ]", position)) return;
      if (!text.startsWith("\n    {", position)) {
        throw new Error(`unexpected text in ${key}: ${text.slice(position, position + 60)}`);
      }
      const end = text.indexOf("\n    }", position + 1);
      if (end < 0 || text.length < end + 7) break;
      yield text.slice(position + 1, end + 6);
      position = end + 6 + (text[end + 6] === "," ? 1 : 0);
    }
    text = text.slice(position);
  }
  if (inside && !text.startsWith("\n  ]")) throw new Error(`the file ends inside ${key}`);
}

function timelineWindow(pending: PendingWindow): TimelineWindow {
  const point = (p: ObservationPoint): TimelinePoint => ({
    stream: pending.window.stream,
    sequence: p.sequence,
    observedAt: p.observedAt,
    source: sourceOf(p.source),
  });
  return {
    aspect: pending.window.aspect,
    kind: pending.window.kind,
    details: pending.window.details,
    weakened: point(pending.window.weakened),
    weakenedBy: changedBy(pending.window.weakened, pending.window),
    restored: pending.window.restored && point(pending.window.restored),
    restoredBy: pending.window.restored && changedBy(pending.window.restored, pending.window),
    stillWeakenedAtEnd: pending.stillWeakened,
    branches: pending.branches,
    note: pending.note,
    merges: [...pending.merges.values()].sort(
      (a, b) => Date.parse(a.mergedAt) - Date.parse(b.mergedAt) || a.number - b.number,
    ),
  };
}

/** configuration-timeline.{md,csv,json}, subject by subject from the temporary file. */
async function writeTimeline(
  outDir: string,
  subjectsFile: string,
  windows: PendingWindow[],
  summary: TimelineSummary,
  unchanged: string[],
): Promise<string[]> {
  const [mdPath, csvPath, jsonPath] = TIMELINE_FILES.map((name) => join(outDir, name)) as [
    string,
    string,
    string,
  ];
  const md = textFile(mdPath);
  const csv = textFile(csvPath);
  const json = textFile(jsonPath);
  await md.write(timelineMarkdownHeader(summary));
  await csv.write(csvRow(TIMELINE_CSV_HEADER));
  await json.write(
    `{\n  "ledger": ${JSON.stringify(summary.ledger)},\n  "period": ${indent(stableJson({ since: summary.since, until: summary.until }).trimEnd(), "  ")},\n  "subjects": [`,
  );
  let count = 0;
  const input = createInterface({
    input: createReadStream(subjectsFile, { encoding: "utf8" }),
    crlfDelay: Infinity,
  });
  for await (const line of input) {
    if (line === "") continue;
    const stored = JSON.parse(line) as StoredSubject;
    const subject: TimelineSubject = {
      ...stored,
      windows: stored.windows.map((i) => timelineWindow(windows[i]!)),
    };
    await md.write(timelineMarkdownSubject(subject));
    for (const row of timelineCsvRows(subject)) await csv.write(row);
    await json.write(
      `${count === 0 ? "" : ","}\n    ${indent(JSON.stringify(sortKeys(subject), null, 2), "    ")}`,
    );
    count += 1;
  }
  if (unchanged.length > 0) await md.write(timelineMarkdownUnchanged(unchanged));
  await json.write(
    `${count === 0 ? "]" : "\n  ]"},\n  "summary": ${indent(stableJson(summary).trimEnd(), "  ")},\n  "unchanged": ${indent(JSON.stringify(unchanged, null, 2), "  ")}\n}\n`,
  );
  await md.close();
  await csv.close();
  await json.close();
  return [mdPath, csvPath, jsonPath];
}

function indent(text: string, by: string): string {
  return text.replace(/\n/g, `\n${by}`);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A text file written piece by piece, waiting for the disk when its buffer is full. */
function textFile(path: string): { write(text: string): Promise<void>; close(): Promise<void> } {
  const stream = createWriteStream(path, { encoding: "utf8" });
  let failed: Error | null = null;
  stream.on("error", (error) => {
    failed = error;
  });
  return {
    async write(text) {
      if (failed) throw failed;
      if (!stream.write(text)) await once(stream, "drain");
    },
    async close() {
      await new Promise<void>((resolve, reject) =>
        stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
      );
      if (failed) throw failed;
    },
  };
}
