/**
 * The evidence package of an audit written one repository at a time: each repository's change
 * requests, direct pushes, results and rows go to spool files on disk as soon as it is evaluated,
 * and only counts and the results summary.md names stay in memory. When every repository is in, the
 * files are assembled from the spools, byte for byte what writeEvidencePackage writes for the same
 * snapshot and report, into a temporary folder that replaces the old package whole (atomic.ts).
 *
 * Repositories arrive in any order (they are collected a few at once); each one's parts are kept at
 * a known place in the spools and copied out in the snapshot's order. A repository with thousands
 * of merged changes may come in several parts (its changes a chunk at a time, then the rest with its
 * facts), in order: its parts are copied out one after another, as one part would be. results.json
 * and results.csv are in report order (control, subject, reason): each part's results are sorted,
 * and the sorted runs are merged (a k-way merge reading every run a few KB at a time; runs equal in
 * the three keys keep the order the parts came in, as the engine's stable sort keeps judged order).
 */
import { randomBytes } from "node:crypto";
import { open, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { CONTROLS, findControl } from "../../controls/index.js";
import type { AnyControl, Outcome, Result } from "../../controls/types.js";
import type { EvaluationReport } from "../../engine/types.js";
import type { PolicyFile, Snapshot } from "../../model/index.js";
import { csvRow } from "../../text/escape.js";
import { accessOrganizationRows, accessRepositoryRows, ACCESS_CSV_HEADER } from "./access-csv.js";
import { ACCESS_REVIEWS_CSV, accessReviewEvidenceOf, accessReviewsCsvRows } from "./access-reviews-csv.js";
import { PACKAGE_FILES, replacePackage, temporarySibling } from "./atomic.js";
import {
  CHANGE_REQUEST_CONTROLS,
  changeRequestResults,
  organizationNameOf,
  OUTCOMES,
  productionMerges,
  repositoryOf,
  type ControlRow,
} from "./common.js";
import { renderCoverageMarkdown, type CoverageReport } from "./coverage.js";
import { DIRECT_PUSH_HEADER, directPushKey, directPushResults, directPushRow } from "./direct-pushes-csv.js";
import { buildManifest, sha256File } from "./manifest.js";
import { POPULATION_HEAD, populationCells } from "./population-csv.js";
import { countMerges, monthBars, type MonthBar } from "./report-html-chart.js";
import {
  isPassing,
  passingQuota,
  REPORT_HTML_PASSING_ROW_CAP,
  reportHtmlHead,
  reportHtmlRow,
  reportHtmlTail,
  type ReportHtmlPage,
} from "./report-html.js";
import { RESULTS_CSV_HEADER, resultsCsvRow } from "./results-csv.js";
import { jsonChunks, sortKeys } from "./results-json.js";
import { writeSummary, type NotableOutcome, type SummaryResult } from "./summary-md.js";
import { OSCAL_FILE, OSCAL_SUBJECTS_PER_OBSERVATION, renderOscal } from "./oscal.js";
import { frameworkResult, isSarifResult, renderSarif, type FrameworkResult } from "./sarif.js";

/** One repository's part of the package. */
export interface PackageRepository {
  /** Its place in the snapshot (repositories by name). */
  index: number;
  /**
   * The snapshot as this repository was evaluated: its facts, changes and direct pushes, the
   * organization, and its asOfMerge entries when a ledger judged its merges.
   */
  snapshot: Snapshot;
  /** Its results as reported, in report order. */
  results: readonly Result[];
  /**
   * The results as sorted, when those reported differ (the app holds a fresh merge's verdict): the
   * package keeps the order of these, as a report whose results were replaced one by one does.
   */
  sortedAs?: readonly Result[];
  /**
   * More of this repository follows: this part is a chunk of its merged changes (and their
   * results), its snapshot's repository only what they were judged by. The repository's facts, its
   * access rows and its count come with its last part (partial unset). Until then the parts can be
   * discarded (discardRepository).
   */
  partial?: boolean;
}

export interface PackageFinish {
  /** The snapshot without its per-repository parts (known once every repository was collected). */
  snapshot: Omit<Snapshot, "repositories" | "changeRequests" | "directPushes" | "policyFiles" | "asOfMerge">;
  /** Every policy file of the snapshot, in its order. */
  policyFiles: readonly PolicyFile[];
  /** Whether the merges were judged as of the merge (the snapshot then has asOfMerge). */
  asOfMerge: boolean;
  report: Omit<EvaluationReport, "results" | "totals">;
  /** The organization controls' results, in report order. */
  organizationResults: readonly Result[];
  toolVersion: string;
  coverage?: CoverageReport | null;
}

/** What the package holds, in the figures the ledger records and the CLI prints. */
export interface PackageWritten {
  /** The files written, in writeEvidencePackage's order, manifest last. */
  files: string[];
  totals: Record<string, Record<Outcome, number>>;
  population: { repositories: number; changeRequests: number; directPushes: number };
}

interface Range {
  offset: number;
  length: number;
}

/** What a part adds to the package's counts: held apart until its repository's last part is in. */
interface Tally {
  totals: Record<string, Record<Outcome, number>>;
  passingByControl: Map<string, number>;
  extraChangeRequestControls: Set<string>;
  months: Map<string, MonthBar>;
  changeRequests: number;
  directPushes: number;
}

function emptyTally(): Tally {
  return {
    totals: {},
    passingByControl: new Map(),
    extraChangeRequestControls: new Set(),
    months: new Map(),
    changeRequests: 0,
    directPushes: 0,
  };
}

/** Parts of the snapshot and of the files, each repository's at a known range of its own spool. */
const SPOOLS = [
  "repositories",
  "changeRequests",
  "directPushes",
  "merges",
  "population",
  "directPushRows",
  "access",
  "results",
  // what summary.md lists, by outcome, in report order (written while the results are merged)
  "notable-fail",
  "notable-unknown",
  "notable-excepted",
] as const;
type SpoolName = (typeof SPOOLS)[number];

/** An append-only file: each piece goes at the next offset, written in place (concurrent writes are safe). */
class Spool {
  private size = 0;
  constructor(readonly handle: FileHandle) {}

  async append(text: string): Promise<Range> {
    const range = { offset: this.size, length: Buffer.byteLength(text, "utf8") };
    this.size += range.length;
    if (range.length > 0) await this.handle.write(text, range.offset, "utf8");
    return range;
  }
}

/** Writes to a file in ~64 KiB pieces: one write per CSV row would cost more than the row. */
class Output {
  private pending = "";
  /** One buffer for every copy out of a spool: copies allocate nothing per piece. */
  private buffer: Buffer | undefined;
  private constructor(private readonly handle: FileHandle) {}

  static async create(path: string): Promise<Output> {
    return new Output(await open(path, "w"));
  }

  async write(piece: string): Promise<void> {
    this.pending += piece;
    if (this.pending.length >= 64 * 1024) await this.flush();
  }

  /** Copies a range of a spool, a piece at a time. */
  async copy(spool: Spool, range: Range): Promise<void> {
    await this.flush();
    const buffer = (this.buffer ??= Buffer.alloc(256 * 1024));
    for (let at = 0; at < range.length;) {
      const size = Math.min(buffer.length, range.length - at);
      const { bytesRead } = await spool.handle.read(buffer, 0, size, range.offset + at);
      if (bytesRead === 0) throw new Error("a spool file ended before its range");
      await this.handle.write(buffer, 0, bytesRead);
      at += bytesRead;
    }
  }

  async flush(): Promise<void> {
    if (this.pending === "") return;
    const text = this.pending;
    this.pending = "";
    await this.handle.write(text, null, "utf8");
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle.close();
  }
}

/** One spooled result: its sort keys (control order, subject id, reason), the result, a title. */
type ResultLine = [number, string, string, Result, string | null];

/** How much of a run is read at once, at most: hundreds of runs are read side by side in the merge. */
const READ_PIECE = 16 * 1024;
/**
 * What the runs read side by side may hold in text at once, all together: with 1,000 repositories a
 * piece of 16 KB each would keep 16 MB (more as strings) for the merge alone, growing with the
 * organization; pieces get smaller instead (a line longer than a piece is read in several).
 */
const MERGE_TEXT_BUDGET = 4 * 1024 * 1024;
const MIN_READ_PIECE = 2 * 1024;

/** The piece size for `runs` runs read side by side. */
function readPieceFor(runs: number): number {
  return Math.max(MIN_READ_PIECE, Math.min(READ_PIECE, Math.floor(MERGE_TEXT_BUDGET / Math.max(1, runs))));
}

/**
 * One buffer the readers of a pass read into, one read at a time (each read is decoded before the
 * next starts): a buffer per run would be 16 KB times the repositories.
 */
class ReadBuffer {
  readonly buffer: Buffer;
  constructor(readonly piece: number) {
    this.buffer = Buffer.alloc(piece);
  }
}

/** Reads one sorted run of result lines from the results spool, a few KB at a time. */
class RunReader {
  private position: number;
  private readonly end: number;
  private text = "";
  private readonly decoder = new StringDecoder("utf8");
  head: ResultLine | undefined;

  constructor(
    private readonly spool: Spool,
    range: Range,
    readonly run: number,
    /** Shared by the readers of one pass, which never read at the same time. */
    private readonly read: ReadBuffer = new ReadBuffer(READ_PIECE),
  ) {
    this.position = range.offset;
    this.end = range.offset + range.length;
  }

  /** Moves to the next line; head is undefined at the end of the run. */
  async next(): Promise<void> {
    const line = await this.nextText();
    this.head = line === undefined ? undefined : (JSON.parse(line) as ResultLine);
  }

  /** The next line's text, undefined at the end of the run. */
  async nextText(): Promise<string | undefined> {
    for (;;) {
      const newline = this.text.indexOf("\n");
      if (newline !== -1) {
        const line = this.text.slice(0, newline);
        this.text = this.text.slice(newline + 1);
        return line;
      }
      if (this.position >= this.end) return undefined;
      const size = Math.min(this.read.piece, this.end - this.position);
      const buffer = this.read.buffer;
      const { bytesRead } = await this.spool.handle.read(buffer, 0, size, this.position);
      if (bytesRead === 0) throw new Error("a spool file ended before its range");
      this.position += bytesRead;
      this.text += this.decoder.write(buffer.subarray(0, bytesRead));
    }
  }
}

/** Code-unit order, independent of the machine's locale (as the engine sorts). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareLines(a: RunReader, b: RunReader): number {
  const x = a.head!;
  const y = b.head!;
  return x[0] - y[0] || compareText(x[1], y[1]) || compareText(x[2], y[2]) || a.run - b.run;
}

/** A binary min-heap of the runs' heads. */
class RunHeap {
  private readonly items: RunReader[] = [];

  get size(): number {
    return this.items.length;
  }

  push(reader: RunReader): void {
    const items = this.items;
    items.push(reader);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compareLines(items[i]!, items[parent]!) >= 0) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): RunReader {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < items.length && compareLines(items[left]!, items[least]!) < 0) least = left;
        if (right < items.length && compareLines(items[right]!, items[least]!) < 0) least = right;
        if (least === i) break;
        [items[i], items[least]] = [items[least]!, items[i]!];
        i = least;
      }
    }
    return top;
  }
}

/** An element of a pretty-printed JSON array at `depth` (2 spaces a level), as JSON.stringify nests it. */
function arrayElement(value: unknown, depth: number): string {
  const pad = " ".repeat(2 * (depth + 1));
  return `${pad}${(JSON.stringify(value, null, 2) ?? "null").replace(/\n/g, `\n${pad}`)}`;
}

export interface PackageStreamOptions {
  controls?: readonly AnyControl[];
  /** How many pass and n/a results report.html's table may hold (REPORT_HTML_PASSING_ROW_CAP). */
  passingRowCap?: number;
  /**
   * Keep the results a findings sync needs (finish returns them): every fail, unknown and excepted
   * result whole, and pass and n/a ones without their evidence (they close findings by subject).
   */
  findings?: boolean;
}

/**
 * An evidence package being written. open() it, addRepository() each repository (any order, a few
 * at once), then finish(); abort() removes what was written when the audit fails.
 */
export class EvidencePackageStream {
  private readonly spools = new Map<SpoolName, Spool>();
  /** Per spool, each repository's parts' ranges, in the order the parts came. */
  private readonly ranges = new Map<SpoolName, (Range[] | undefined)[]>();
  /** What the parts of repositories not complete yet (partial ones) add, kept apart. */
  private readonly pending = new Map<number, Tally>();
  private readonly controls: readonly AnyControl[];
  private readonly controlIndex: Map<string, number>;
  private readonly totals: Record<string, Record<Outcome, number>> = {};
  /** The criterion and title of each control's results (from the first one seen). */
  private readonly identity = new Map<string, { criterion: string; title: string }>();
  private readonly passingByControl = new Map<string, number>();
  /** Controls besides the four known ones that judged change requests: population columns. */
  private readonly extraChangeRequestControls = new Set<string>();
  private readonly months = new Map<string, MonthBar>();
  private readonly seen = new Set<string>();
  private readonly names: string[] = [];
  private readonly policyTextKeys: (string[] | undefined)[] = [];
  private readonly policyTexts = new Map<string, string>();
  private readonly population = { repositories: 0, changeRequests: 0, directPushes: 0 };
  /** Where each notable spool ends (they are written once, from offset 0). */
  private readonly notableEnd: Record<NotableOutcome, number> = { fail: 0, unknown: 0, excepted: 0 };

  private constructor(
    readonly outDir: string,
    private readonly written: string,
    private readonly spoolDir: string,
    private readonly options: PackageStreamOptions,
  ) {
    this.controls = options.controls ?? CONTROLS;
    this.controlIndex = new Map(this.controls.map((control, i) => [control.id, i]));
    for (const control of this.controls) {
      this.totals[control.id] = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
    }
    for (const name of SPOOLS) this.ranges.set(name, []);
  }

  static async open(outDir: string, options: PackageStreamOptions = {}): Promise<EvidencePackageStream> {
    const written = await temporarySibling(outDir, "writing");
    const spoolDir = await temporarySibling(outDir, "spool");
    const stream = new EvidencePackageStream(outDir, written, spoolDir, options);
    try {
      for (const name of SPOOLS) {
        stream.spools.set(
          name,
          new Spool(await open(join(spoolDir, `${name}-${randomBytes(2).toString("hex")}`), "w+")),
        );
      }
    } catch (error) {
      await stream.abort();
      throw error;
    }
    return stream;
  }

  /**
   * Spools one repository's part (the whole repository, or a chunk of it: PackageRepository.partial);
   * returns when it is on disk (nothing of it is kept but counts). A repository's parts come one
   * after another, in order.
   */
  async addRepository(part: PackageRepository): Promise<void> {
    const { snapshot, index } = part;
    const last = part.partial !== true;
    const results = part.results;
    const sortedAs = part.sortedAs ?? results;
    if (sortedAs.length !== results.length) throw new Error("sortedAs must hold one result per result");
    const tally = this.pending.get(index) ?? emptyTally();
    this.pending.delete(index);
    tally.changeRequests += snapshot.changeRequests.length;
    tally.directPushes += snapshot.directPushes.length;
    this.count(results, tally);

    const bySubject = changeRequestResults({ results } as EvaluationReport);
    const merges = [...productionMerges(snapshot, bySubject)];
    countMerges(tally.months, merges);

    const titles = new Map<string, string>();
    for (const cr of snapshot.changeRequests) titles.set(`${cr.repository}#${cr.number}`, cr.title);
    let resultLines = "";
    for (let i = 0; i < results.length; i += 1) {
      const result = results[i]!;
      const key = sortedAs[i]!;
      const title = result.subject.kind === "change-request" ? (titles.get(result.subject.id) ?? null) : null;
      const line: ResultLine = [
        this.controlIndex.get(key.control) ?? 0,
        key.subject.id,
        key.reason,
        result,
        title,
      ];
      resultLines += `${JSON.stringify(line)}\n`;
    }

    const merged = snapshot.asOfMerge;
    if (merged) {
      const keys = Object.keys(merged.policyTexts);
      this.policyTextKeys[index] = [...(this.policyTextKeys[index] ?? []), ...keys];
      for (const key of keys)
        if (!this.policyTexts.has(key)) this.policyTexts.set(key, merged.policyTexts[key]!);
    }

    const pieces: [SpoolName, string][] = [
      ["repositories", last ? snapshot.repositories.map((r) => arrayElement(r, 1)).join(",\n") : ""],
      ["changeRequests", snapshot.changeRequests.map((c) => arrayElement(c, 1)).join(",\n")],
      ["directPushes", snapshot.directPushes.map((p) => arrayElement(p, 1)).join(",\n")],
      ["merges", (merged?.merges ?? []).map((m) => arrayElement(m, 2)).join(",\n")],
      [
        "population",
        merges
          .map(({ changeRequest, results: crResults }) => populationLine(changeRequest, snapshot, crResults))
          .join(""),
      ],
      ["directPushRows", directPushLines(snapshot, results)],
      [
        "access",
        last
          ? snapshot.repositories
              .map((r) => [...accessRepositoryRows(r, snapshot.organization, this.seen)].join(""))
              .join("")
          : "",
      ],
      ["results", resultLines],
    ];
    await Promise.all(
      pieces.map(async ([name, text]) => {
        const range = await this.spools.get(name)!.append(text);
        if (range.length === 0) return;
        const all = this.ranges.get(name)!;
        (all[index] ??= []).push(range);
      }),
    );
    if (!last) {
      this.pending.set(index, tally);
      return;
    }
    for (const repository of snapshot.repositories) this.names[index] = repository.fullName;
    this.population.repositories += snapshot.repositories.length;
    this.apply(tally);
  }

  /**
   * Forgets the parts of a repository given so far (partial ones: its collection failed after them);
   * the repository comes again, whole, e.g. with its collection error and no changes.
   */
  discardRepository(index: number): void {
    if (!this.pending.delete(index)) return;
    for (const all of this.ranges.values()) all[index] = undefined;
    this.policyTextKeys[index] = undefined;
  }

  private apply(tally: Tally): void {
    this.population.changeRequests += tally.changeRequests;
    this.population.directPushes += tally.directPushes;
    for (const [control, row] of Object.entries(tally.totals)) {
      const total = this.totals[control]!;
      for (const outcome of OUTCOMES) total[outcome] += row[outcome];
    }
    for (const [control, n] of tally.passingByControl)
      this.passingByControl.set(control, (this.passingByControl.get(control) ?? 0) + n);
    for (const control of tally.extraChangeRequestControls) this.extraChangeRequestControls.add(control);
    for (const [month, bar] of tally.months) {
      const known = this.months.get(month);
      if (known) {
        known.ok += bar.ok;
        known.unknown += bar.unknown;
        known.fail += bar.fail;
      } else this.months.set(month, bar);
    }
  }

  private count(results: readonly Result[], tally: Tally): void {
    for (const result of results) {
      // as totalsOf: counted for the controls of the list
      if (this.totals[result.control]) {
        const row = (tally.totals[result.control] ??= Object.fromEntries(
          OUTCOMES.map((o) => [o, 0]),
        ) as Record<Outcome, number>);
        row[result.outcome] += 1;
      }
      if (!this.identity.has(result.control)) {
        this.identity.set(result.control, { criterion: result.criterion, title: result.title });
      }
      if (isPassing(result)) {
        tally.passingByControl.set(result.control, (tally.passingByControl.get(result.control) ?? 0) + 1);
      }
      if (
        result.subject.kind === "change-request" &&
        !(CHANGE_REQUEST_CONTROLS as readonly string[]).includes(result.control)
      ) {
        tally.extraChangeRequestControls.add(result.control);
      }
    }
  }

  /**
   * The repositories added so far, read back from the spool one at a time in the snapshot's order
   * (the audit records them as observed once the collection time is known).
   */
  async *repositories(): AsyncGenerator<{ index: number; repository: Snapshot["repositories"][number] }> {
    const spool = this.spools.get("repositories")!;
    const ranges = this.ranges.get("repositories")!;
    for (let index = 0; index < ranges.length; index += 1) {
      // a repository's facts are one part (its last)
      const range = ranges[index]?.[0];
      if (!range || range.length === 0) continue;
      const buffer = Buffer.alloc(range.length);
      const { bytesRead } = await spool.handle.read(buffer, 0, range.length, range.offset);
      if (bytesRead !== range.length) throw new Error("a spool file ended before its range");
      const repository = JSON.parse(buffer.toString("utf8")) as Snapshot["repositories"][number];
      yield { index, repository };
    }
  }

  /** Assembles the package from the spools, replaces the old one, and removes the spools. */
  async finish(input: PackageFinish): Promise<PackageWritten & { findings: Result[] }> {
    try {
      if (this.pending.size > 0) throw new Error("a repository's last part was not added");
      const organizationResults = input.organizationResults;
      const tally = emptyTally();
      this.count(organizationResults, tally);
      this.apply(tally);
      const organizationRun = await this.spools
        .get("results")!
        .append(
          organizationResults
            .map(
              (result) =>
                `${JSON.stringify([this.controlIndex.get(result.control) ?? 0, result.subject.id, result.reason, result, null])}\n`,
            )
            .join(""),
        );
      const path = (name: (typeof PACKAGE_FILES)[number]): string => join(this.written, name);
      await this.writePopulation(path("population.csv"));
      await this.writeRows(path("direct-pushes.csv"), "directPushRows", csvRow(DIRECT_PUSH_HEADER));
      await this.writeAccess(path("access.csv"), input.snapshot.organization);
      const reviews = accessReviewEvidenceOf(
        { ...input.snapshot, policyFiles: input.policyFiles },
        organizationResults,
      );
      await writeText(path(ACCESS_REVIEWS_CSV), [...accessReviewsCsvRows(reviews)].join(""));
      const rows = this.controlRows();
      const organization = organizationNameOf(
        input.snapshot.organization,
        this.names.filter((n) => n !== undefined),
      );
      // snapshot.json first: report.html's header names it by its hash
      await this.writeSnapshot(path("snapshot.json"), input);
      const snapshotSha256 = (await sha256File(path("snapshot.json"))).sha256;
      const merged = await this.writeResults(
        { json: path("results.json"), csv: path("results.csv"), html: path("report.html") },
        organizationRun,
        input,
        rows,
        organization,
        snapshotSha256,
      );
      const summary = await Output.create(path("summary.md"));
      await writeSummary(
        {
          report: input.report,
          rows,
          organization,
          counts: merged.notable,
          notable: (outcome) => this.notable(outcome),
          unreadable: input.snapshot.unreadable,
        },
        (text) => summary.write(text),
      );
      await summary.close();
      await writeText(path("coverage.md"), renderCoverageMarkdown(input.coverage ?? null));
      const framework = {
        report: input.report,
        rows,
        results: merged.framework,
        toolVersion: input.toolVersion,
      };
      await writeText(path("results.sarif"), renderSarif(framework));
      const names = PACKAGE_FILES.filter((name) => name !== "manifest.json" && name !== OSCAL_FILE);
      const hashed = await Promise.all(names.map((name) => sha256File(path(name))));
      // the OSCAL document names every other file by its hash, so it is written once they are
      await writeText(
        path(OSCAL_FILE),
        renderOscal({
          ...framework,
          leftOut: merged.leftOut,
          organization,
          files: hashed.map(({ name, sha256, bytes }) => ({ name, sha256, bytes })),
        }),
      );
      hashed.push(await sha256File(path(OSCAL_FILE)));
      await writeText(
        join(this.written, "manifest.json"),
        buildManifest({
          files: hashed,
          toolVersion: input.toolVersion,
          policy: input.report.policy,
          period: input.report.snapshot.period,
          collectedAt: input.report.snapshot.collectedAt,
          host: input.report.snapshot.host,
          baseUrl: input.report.snapshot.baseUrl,
        }),
      );
      await this.closeSpools();
      await replacePackage(this.written, this.outDir);
      return {
        files: PACKAGE_FILES.map((name) => join(this.outDir, name)),
        totals: this.totals,
        population: { ...this.population },
        findings: merged.findings,
      };
    } finally {
      await this.abort();
    }
  }

  /** Removes the spools and the package being written (the old package stays as it was). */
  async abort(): Promise<void> {
    await this.closeSpools();
    await rm(this.spoolDir, { recursive: true, force: true });
    await rm(this.written, { recursive: true, force: true });
  }

  private async closeSpools(): Promise<void> {
    const spools = [...this.spools.values()];
    this.spools.clear();
    await Promise.all(spools.map((spool) => spool.handle.close().catch(() => undefined)));
  }

  /** Each repository's ranges of a spool (its parts in order), in the snapshot's order. */
  private rangesOf(name: SpoolName): Range[] {
    const ranges: Range[] = [];
    const all = this.ranges.get(name)!;
    for (let i = 0; i < all.length; i += 1) {
      for (const range of all[i] ?? []) if (range.length > 0) ranges.push(range);
    }
    return ranges;
  }

  private async writeRows(file: string, spool: SpoolName, header: string): Promise<void> {
    const out = await Output.create(file);
    await out.write(header);
    for (const range of this.rangesOf(spool)) await out.copy(this.spools.get(spool)!, range);
    await out.close();
  }

  private async writeAccess(file: string, organization: Snapshot["organization"]): Promise<void> {
    const out = await Output.create(file);
    await out.write(csvRow(ACCESS_CSV_HEADER));
    for (const range of this.rangesOf("access")) await out.copy(this.spools.get("access")!, range);
    for (const row of accessOrganizationRows(organization, this.seen)) await out.write(row);
    await out.close();
  }

  /** population.csv: its columns (other controls that judged change requests) are known only now. */
  private async writePopulation(file: string): Promise<void> {
    const controlIds: string[] = [...CHANGE_REQUEST_CONTROLS];
    for (const control of this.controls) {
      if (this.extraChangeRequestControls.has(control.id)) controlIds.push(control.id);
    }
    for (const id of this.extraChangeRequestControls) if (!controlIds.includes(id)) controlIds.push(id);
    const out = await Output.create(file);
    await out.write(csvRow([...POPULATION_HEAD, ...controlIds, "link"]));
    const spool = this.spools.get("population")!;
    for (const range of this.rangesOf("population")) {
      const reader = new RunReader(spool, range, 0);
      for (;;) {
        const line = await reader.nextText();
        if (line === undefined) break;
        const [cells, outcomes, link] = JSON.parse(line) as [
          (string | number)[],
          Record<string, string>,
          string,
        ];
        await out.write(csvRow([...cells, ...controlIds.map((id) => outcomes[id] ?? "not evaluated"), link]));
      }
    }
    await out.close();
  }

  /** Controls in report order with their totals (as controlRows of the whole report). */
  private controlRows(): ControlRow[] {
    return Object.keys(this.totals).map((id) => {
      const known = this.identity.get(id) ?? findControl(id);
      const totals = { pass: 0, fail: 0, unknown: 0, excepted: 0, "not-applicable": 0 };
      const given = this.totals[id]!;
      for (const outcome of OUTCOMES) totals[outcome] = given[outcome] ?? 0;
      return { id, criterion: known?.criterion ?? "", title: known?.title ?? id, totals };
    });
  }

  /**
   * results.json, results.csv and report.html in one pass over the results in report order; keeps
   * what summary.md lists and, when asked, what a findings sync needs.
   */
  private async writeResults(
    files: { json: string; csv: string; html: string },
    organizationRun: Range,
    input: PackageFinish,
    rows: ControlRow[],
    organization: string,
    snapshotSha256: string,
  ): Promise<{
    notable: Record<NotableOutcome, Map<string, number>>;
    findings: Result[];
    framework: FrameworkResult[];
    leftOut: Map<string, number>;
  }> {
    const spool = this.spools.get("results")!;
    const heap = new RunHeap();
    // runs numbered in the snapshot's order, a repository's parts in the order they came
    const runs: [Range, number][] = [[organizationRun, -1]];
    for (const range of this.rangesOf("results")) runs.push([range, runs.length]);
    // the runs are read one at a time (each awaited in turn), into one buffer
    const read = new ReadBuffer(readPieceFor(runs.length));
    for (const [range, run] of runs) {
      const reader = new RunReader(spool, range, run, read);
      await reader.next();
      if (reader.head) heap.push(reader);
    }

    const total = Object.values(this.totals).reduce(
      (sum, row) => sum + OUTCOMES.reduce((n, outcome) => n + row[outcome], 0),
      0,
    );
    const cap = this.options.passingRowCap ?? REPORT_HTML_PASSING_ROW_CAP;
    const passingCounts = [...this.passingByControl.values()];
    const quota = passingQuota(passingCounts, cap);
    const passing = passingCounts.reduce((sum, n) => sum + n, 0);
    const passingShown = [...this.passingByControl.values()].reduce((sum, n) => sum + Math.min(n, quota), 0);

    const json = await Output.create(files.json);
    const csv = await Output.create(files.csv);
    const html = await Output.create(files.html);
    const [jsonHead, jsonRest] = splitResults(input.report, this.totals);
    await json.write(jsonHead);
    await csv.write(csvRow(RESULTS_CSV_HEADER));
    // one page for the head and the tail: both say how many rows the table holds
    const page = {
      organization,
      report: input.report,
      rows,
      months: monthBars(this.months, input.report.snapshot.period),
      shown: total - passing + passingShown,
      total,
      passing,
      passingShown,
      unreadable: input.snapshot.unreadable,
      tool: input.snapshot.collector.tool,
      collector: input.snapshot.collector,
      snapshotSha256,
      coverage: input.coverage ?? null,
      accessReviews: accessReviewEvidenceOf(
        { ...input.snapshot, policyFiles: input.policyFiles },
        input.organizationResults,
      ),
    } satisfies Partial<ReportHtmlPage> & Record<string, unknown>;
    await html.write(reportHtmlHead(page));

    // summary.md's results go to spools by outcome; only their number per control stays here
    const notable: Record<NotableOutcome, Map<string, number>> = {
      fail: new Map(),
      unknown: new Map(),
      excepted: new Map(),
    };
    const notablePending: Record<NotableOutcome, string> = { fail: "", unknown: "", excepted: "" };
    const flushNotable = async (outcome: NotableOutcome): Promise<void> => {
      const text = notablePending[outcome];
      notablePending[outcome] = "";
      const range = await this.spools.get(`notable-${outcome}`)!.append(text);
      this.notableEnd[outcome] = range.offset + range.length;
    };
    const findings: Result[] = [];
    // results.sarif and the OSCAL document, without evidence: every failed or unknown repository and
    // organization result (SARIF's), and the first ones of each control the OSCAL document names;
    // the other failed and unknown results (change requests: tens of thousands) are only counted
    const framework: FrameworkResult[] = [];
    const frameworkByControl = new Map<string, number>();
    const leftOut = new Map<string, number>();
    const kept = new Map<string, number>();
    let first = true;
    let firstRow = true;
    while (heap.size > 0) {
      const reader = heap.pop();
      const [, , , result, title] = reader.head!;
      await json.write(`${first ? "\n" : ",\n"}${arrayElement(sortKeys(result), 1)}`);
      first = false;
      await csv.write(resultsCsvRow(result));
      let shown = true;
      if (isPassing(result)) {
        const n = kept.get(result.control) ?? 0;
        if (n >= quota) shown = false;
        else kept.set(result.control, n + 1);
      } else {
        if (result.outcome === "fail" || result.outcome === "unknown") {
          const n = frameworkByControl.get(result.control) ?? 0;
          if (isSarifResult(result) || n < OSCAL_SUBJECTS_PER_OBSERVATION) {
            framework.push(frameworkResult(result));
            frameworkByControl.set(result.control, n + 1);
          } else leftOut.set(result.control, (leftOut.get(result.control) ?? 0) + 1);
        }
        const outcome = result.outcome as NotableOutcome;
        const listed: SummaryResult = {
          control: result.control,
          subject: result.subject,
          outcome: result.outcome,
          reason: result.reason,
          ...(result.exception ? { exception: result.exception } : {}),
        };
        notable[outcome].set(result.control, (notable[outcome].get(result.control) ?? 0) + 1);
        notablePending[outcome] += `${JSON.stringify(listed)}\n`;
        if (notablePending[outcome].length >= 64 * 1024) await flushNotable(outcome);
      }
      if (shown) {
        await html.write(`${firstRow ? "" : "\n"}${reportHtmlRow(result, title ?? undefined)}`);
        firstRow = false;
      }
      if (this.options.findings) findings.push(isPassing(result) ? { ...result, evidence: [] } : result);
      await reader.next();
      if (reader.head) heap.push(reader);
    }
    for (const outcome of OUTCOMES_LISTED) await flushNotable(outcome);
    await json.write(first ? `]${jsonRest}` : `\n  ]${jsonRest}`);
    await html.write(reportHtmlTail(page));
    await Promise.all([json.close(), csv.close(), html.close()]);
    return { notable, findings, framework, leftOut };
  }

  /** summary.md's results of one outcome, read back from their spool in report order. */
  private async *notable(outcome: NotableOutcome): AsyncGenerator<SummaryResult> {
    const reader = new RunReader(
      this.spools.get(`notable-${outcome}`)!,
      {
        offset: 0,
        length: this.notableEnd[outcome],
      },
      0,
    );
    for (;;) {
      const line = await reader.nextText();
      if (line === undefined) return;
      yield JSON.parse(line) as SummaryResult;
    }
  }

  /** snapshot.json: the header's JSON with the spooled arrays copied into their places. */
  private async writeSnapshot(file: string, input: PackageFinish): Promise<void> {
    const policyTexts: Record<string, string> = {};
    for (const keys of this.policyTextKeys) {
      for (const key of keys ?? []) if (!(key in policyTexts)) policyTexts[key] = this.policyTexts.get(key)!;
    }
    const { accessReviews, ...header } = input.snapshot;
    const shape: Record<string, unknown> = {
      ...header,
      repositories: [],
      changeRequests: [],
      directPushes: [],
      policyFiles: input.policyFiles,
      ...(input.asOfMerge ? { asOfMerge: { merges: [], policyTexts } } : {}),
      // last, as the Snapshot schema orders them (and writeEvidencePackage writes a parsed snapshot)
      ...(accessReviews !== undefined ? { accessReviews } : {}),
    };
    const text = [...jsonChunks(shape, { sorted: false, streamed: [] })].join("");
    const slots: { marker: string; spool: SpoolName; close: string }[] = [
      { marker: '\n  "repositories": []', spool: "repositories", close: "  ]" },
      { marker: '\n  "changeRequests": []', spool: "changeRequests", close: "  ]" },
      { marker: '\n  "directPushes": []', spool: "directPushes", close: "  ]" },
      ...(input.asOfMerge
        ? [{ marker: '\n    "merges": []', spool: "merges" as const, close: "    ]" }]
        : []),
    ];
    const out = await Output.create(file);
    let at = 0;
    for (const slot of slots) {
      const found = text.indexOf(slot.marker, at);
      if (found === -1) throw new Error(`snapshot.json: ${slot.spool} not found in the header`);
      const end = found + slot.marker.length; // just after "[]"
      const ranges = this.rangesOf(slot.spool);
      await out.write(text.slice(at, end - 2));
      if (ranges.length === 0) {
        await out.write("[]");
      } else {
        await out.write("[\n");
        for (let i = 0; i < ranges.length; i += 1) {
          if (i > 0) await out.write(",\n");
          await out.copy(this.spools.get(slot.spool)!, ranges[i]!);
        }
        await out.write(`\n${slot.close}`);
      }
      at = end;
    }
    await out.write(text.slice(at));
    await out.close();
  }
}

const OUTCOMES_LISTED: readonly NotableOutcome[] = ["fail", "unknown", "excepted"];

/** A production merge's population row, its outcome columns by control (the columns come later). */
function populationLine(
  changeRequest: Snapshot["changeRequests"][number],
  snapshot: Snapshot,
  results: readonly Result[],
): string {
  const outcomes: Record<string, string> = {};
  for (const result of results) if (!(result.control in outcomes)) outcomes[result.control] = result.outcome;
  const repository = repositoryOf(snapshot, changeRequest.repository);
  const cells = populationCells(changeRequest, repository, [...results]);
  return `${JSON.stringify([cells, outcomes, changeRequest.url])}\n`;
}

/** A repository's rows of direct-pushes.csv (directPushRows without its header). */
function directPushLines(snapshot: Snapshot, results: readonly Result[]): string {
  const byCommit = directPushResults(results);
  let text = "";
  for (const push of snapshot.directPushes) text += directPushRow(push, byCommit.get(directPushKey(push)));
  return text;
}

/** results.json around its results: the text up to the array's "[", and after its "]". */
function splitResults(
  report: Omit<EvaluationReport, "results" | "totals">,
  totals: EvaluationReport["totals"],
): [string, string] {
  const text = [...jsonChunks({ ...report, results: [], totals }, { sorted: true, streamed: [] })].join("");
  const marker = '\n  "results": []';
  const found = text.indexOf(marker);
  if (found === -1) throw new Error("results.json: results not found in the header");
  // the head ends with the array's "[", the rest starts after its "]"
  return [text.slice(0, found + marker.length - 1), text.slice(found + marker.length)];
}

async function writeText(file: string, text: string): Promise<void> {
  const out = await Output.create(file);
  await out.write(text);
  await out.close();
}
