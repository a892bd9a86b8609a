/**
 * `soc2-bot export`: the auditor's package for a period, built from the ledger without asking the
 * code host anything: runs.csv and runs.json indexing every recorded audit run of the period (its
 * stream, sequence, record hash and every file of its package with its SHA-256 and size), the
 * period's population, configuration timeline, access snapshots at the points the policy names and
 * coverage (src/ledger/period.ts), the period's access reviews with their revocations' verifications
 * (src/ledger/access-reviews.ts), and export-manifest.json naming every run and every file written
 * with its SHA-256. With `packages`, each run's evidence package is also written byte for byte as
 * it was recorded (a year of daily runs of a large organization is gigabytes of repeated whole-
 * organization snapshots, so it is asked for, not the default). A ledger whose chains are broken is
 * refused unless forced; a forced export says in its manifest where the chains break.
 */
import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { csvRow } from "../text/escape.js";
import { stableJson } from "../reporters/files/index.js";
import { sha256File } from "../reporters/files/manifest.js";
import { TOOL_VERSION } from "../version.js";
import type { ChainBreak } from "./chain.js";
import { readStoredFile } from "./files.js";
import type { Ledger } from "./ledger.js";
import { writePeriodFiles, type PeriodFilesSummary } from "./period.js";
import type { AccessSnapshotPoints } from "../policy/types.js";
import { DEFAULT_JUDGED_WITHIN_MINUTES } from "./coverage.js";
import { writeAccessReviewFiles, type AccessReviewExportSummary } from "./access-reviews.js";

export const EXPORT_MANIFEST = "export-manifest.json";

export class LedgerBrokenError extends Error {
  constructor(readonly breaks: ChainBreak[]) {
    super(`the ledger's chains are broken:\n${breaks.map(describeBreak).join("\n")}`);
    this.name = "LedgerBrokenError";
  }
}

export function describeBreak(entry: ChainBreak): string {
  return (
    `  ${entry.stream}, record ${entry.sequence}: ${entry.problem}\n` +
    `    expected: ${entry.expected}\n` +
    `    found:    ${entry.found}`
  );
}

export interface ExportOptions {
  since: Date;
  until: Date;
  outDir: string;
  /** Export even from broken chains (the manifest lists the breaks). */
  force?: boolean;
  now?: () => Date;
  /** The policy's ledger.access_snapshots (default: each quarter's end). */
  accessSnapshots?: AccessSnapshotPoints;
  /** The policy's ledger.judged_within_minutes, for coverage (default 15). */
  judgedWithinMinutes?: number;
  /** Also write every run's package byte for byte, each in its own folder (default: runs.csv lists them). */
  packages?: boolean;
}

/** A file of the period itself (timeline, access snapshot, coverage), at the export's top level. */
export interface ExportedFile {
  name: string;
  path: string;
  sha256: string;
  bytes: number;
}

export interface ExportedRun {
  stream: string;
  sequence: number;
  recordHash: string;
  organization: string;
  host: string;
  period: { since: string; until: string } | null;
  trigger: string;
  evaluatedAt: string;
  /** Where its package was written (null: not written, the export was made without packages). */
  directory: string | null;
  /** Every file of its package: as written (path) or as recorded in the ledger (path null). */
  files: { name: string; path: string | null; sha256: string; bytes: number }[];
}

export interface ExportSummary {
  outDir: string;
  runs: ExportedRun[];
  breaks: ChainBreak[];
  /** Files whose bytes came out of the ledger other than recorded (only with force). */
  mismatches: string[];
  bytes: number;
  /** The period's own files, with the access points and the timeline's counts. */
  files: ExportedFile[];
  period: Omit<PeriodFilesSummary, "files">;
  /** access-reviews.csv and .json: the reviews the ledger saw in the period. */
  accessReviews: Omit<AccessReviewExportSummary, "files">;
}

export async function exportPeriod(ledger: Ledger, options: ExportOptions): Promise<ExportSummary> {
  const verification = await ledger.verify({ files: false });
  if (verification.breaks.length > 0 && !options.force) throw new LedgerBrokenError(verification.breaks);
  const runs = ledger.auditRunsIn({ since: options.since, until: options.until });
  if (await hasEntries(options.outDir)) {
    throw new ExportTargetError(`${options.outDir} is not empty: export into a new or empty folder`);
  }
  await mkdir(options.outDir, { recursive: true });
  const db = await ledger.database();
  const exported: ExportedRun[] = [];
  const mismatches: string[] = [];
  let total = 0;
  for await (const { record, content } of runs) {
    const run = {
      stream: record.stream,
      sequence: record.sequence,
      recordHash: record.hash,
      organization: content.organization,
      host: content.host,
      period: content.period,
      trigger: content.trigger,
      evaluatedAt: content.evaluatedAt,
    };
    if (!options.packages) {
      // the recorded hashes are in the chain verified above; `ledger verify` checks the stored bytes
      exported.push({
        ...run,
        directory: null,
        files: content.package.files.map((file) => ({ ...file, path: null })),
      });
      continue;
    }
    const directory = join(
      options.outDir,
      safe(`${content.host}-${content.organization}`),
      safe(`${day(content.period?.since)}_${day(content.period?.until)}_record-${record.sequence}`),
    );
    await mkdir(directory, { recursive: true });
    const files: ExportedRun["files"] = [];
    for (const file of content.package.files) {
      const path = join(directory, file.name);
      const hash = createHash("sha256");
      let bytes = 0;
      const pieces = readStoredFile(db, file.sha256);
      await pipeline(
        Readable.from(
          (async function* () {
            for await (const piece of pieces) {
              hash.update(piece);
              bytes += piece.length;
              yield piece;
            }
          })(),
        ),
        createWriteStream(path),
      );
      const sha256 = hash.digest("hex");
      if (sha256 !== file.sha256 || bytes !== file.bytes) {
        const what = `${record.stream} record ${record.sequence}: ${file.name} came out as ${sha256} (${bytes} bytes), recorded ${file.sha256} (${file.bytes} bytes)`;
        if (!options.force)
          throw new LedgerBrokenError([
            {
              stream: record.stream,
              sequence: record.sequence,
              problem: `the file ${file.name} was changed in the file store`,
              expected: file.sha256,
              found: sha256,
            },
          ]);
        mismatches.push(what);
      }
      total += bytes;
      files.push({ name: file.name, path: relative(options.outDir, path), sha256, bytes });
    }
    exported.push({ ...run, directory: relative(options.outDir, directory), files });
  }
  const index = await writeRunIndex(options.outDir, exported);
  const { files: periodFiles, ...period } = await writePeriodFiles(ledger, {
    since: options.since,
    until: options.until,
    outDir: options.outDir,
    accessSnapshots: options.accessSnapshots ?? "quarter-ends",
    judgedWithinMinutes: options.judgedWithinMinutes ?? DEFAULT_JUDGED_WITHIN_MINUTES,
  });
  const { files: reviewFiles, ...accessReviews } = await writeAccessReviewFiles(db, {
    since: options.since,
    until: options.until,
    outDir: options.outDir,
  });
  const files: ExportedFile[] = [...index, ...periodFiles, ...reviewFiles].map((file) => ({
    name: file.name,
    path: relative(options.outDir, file.path),
    sha256: file.sha256,
    bytes: file.bytes,
  }));
  await writeFile(
    join(options.outDir, EXPORT_MANIFEST),
    stableJson({
      tool: "soc2-bot",
      toolVersion: TOOL_VERSION,
      exportedAt: (options.now ?? (() => new Date()))().toISOString(),
      period: { since: options.since.toISOString(), until: options.until.toISOString() },
      ledger: ledger.location,
      chains: {
        intact: verification.breaks.length === 0,
        streams: verification.streams.length,
        records: verification.records,
        breaks: verification.breaks,
      },
      mismatches,
      hashAlgorithm: "sha256",
      runs: exported,
      files,
      accessSnapshots: { points: period.points, outsideThePeriod: period.pointsOutside },
      timeline: period.timeline,
      population: period.population,
      accessReviews,
    }),
    "utf8",
  );
  return {
    outDir: options.outDir,
    runs: exported,
    breaks: verification.breaks,
    mismatches,
    bytes: total + files.reduce((sum, file) => sum + file.bytes, 0),
    files,
    period,
    accessReviews,
  };
}

export const RUN_INDEX_FILES = ["runs.csv", "runs.json"] as const;

const RUNS_CSV_HEADER = [
  "stream",
  "sequence",
  "record_hash",
  "trigger",
  "host",
  "organization",
  "period_since",
  "period_until",
  "evaluated_at",
  "file",
  "sha256",
  "bytes",
  "exported_path",
];

/**
 * runs.csv (a row per file of each run's package) and runs.json (each run with its files): what
 * each run recorded, with the SHA-256 and size the ledger holds for every file, so a package can
 * be asked for (`--packages`) and checked against this index.
 */
async function writeRunIndex(outDir: string, runs: ExportedRun[]): Promise<ExportedFile[]> {
  const rows = [csvRow(RUNS_CSV_HEADER)];
  for (const run of runs) {
    for (const file of run.files) {
      rows.push(
        csvRow([
          run.stream,
          run.sequence,
          run.recordHash,
          run.trigger,
          run.host,
          run.organization,
          run.period?.since ?? "",
          run.period?.until ?? "",
          run.evaluatedAt,
          file.name,
          file.sha256,
          file.bytes,
          file.path ?? "",
        ]),
      );
    }
  }
  const written: ExportedFile[] = [];
  for (const [name, text] of [
    [RUN_INDEX_FILES[0], rows.join("")],
    [RUN_INDEX_FILES[1], stableJson({ runs })],
  ] as const) {
    const path = join(outDir, name);
    await writeFile(path, text, "utf8");
    const hashed = await sha256File(path);
    written.push({ name, path, sha256: hashed.sha256, bytes: hashed.bytes });
  }
  return written;
}

export class ExportTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ExportTargetError";
  }
}

async function hasEntries(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length > 0;
  } catch {
    return false;
  }
}

function day(iso: string | undefined): string {
  return iso ? iso.slice(0, 10) : "no-period";
}

function safe(name: string): string {
  return name.replace(/[^\w.-]+/g, "_");
}
