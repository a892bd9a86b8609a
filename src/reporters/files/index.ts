/**
 * The evidence package an audit hands to the auditor: the population, direct pushes and access
 * listing as CSV, the results as JSON and CSV, the snapshot the results were computed from, a
 * summary, an offline HTML report, and a manifest with every file's SHA-256.
 */
import { createWriteStream } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { EvaluationReport } from "../../engine/types.js";
import type { Snapshot } from "../../model/index.js";
import { accessRows } from "./access-csv.js";
import { accessReviewEvidenceOf, accessReviewsCsvRows } from "./access-reviews-csv.js";
import { PACKAGE_FILES, replacePackage, temporarySibling } from "./atomic.js";
import { renderCoverageMarkdown, type CoverageReport } from "./coverage.js";
import { directPushRows } from "./direct-pushes-csv.js";
import { buildManifest, sha256File } from "./manifest.js";
import { populationRows } from "./population-csv.js";
import { reportHtmlChunks } from "./report-html.js";
import { resultsCsvRows } from "./results-csv.js";
import { jsonChunks, resultsJsonChunks } from "./results-json.js";
import { renderSummaryMarkdown } from "./summary-md.js";
import { renderOscal, OSCAL_FILE } from "./oscal.js";
import { frameworkResult, renderSarif } from "./sarif.js";
import { controlRows, organizationName } from "./common.js";

export { renderAccessCsv, accessRows, accessRepositoryRows, accessOrganizationRows } from "./access-csv.js";
export { PACKAGE_FILES, replacePackage, temporarySibling } from "./atomic.js";
export {
  ACCESS_REVIEWS_CSV,
  ACCESS_REVIEWS_CSV_HEADER,
  accessReviewEvidence,
  accessReviewEvidenceOf,
  accessReviewSettings,
  accessReviewsCsvRows,
  type AccessReviewEvidence,
  type AccessReviewSettings,
  type ReviewEvidence,
  type ReviewGrantEvidence,
} from "./access-reviews-csv.js";
export { accessReviewsHtmlSection } from "./report-html-access-reviews.js";
export {
  EvidencePackageStream,
  type PackageFinish,
  type PackageRepository,
  type PackageStreamOptions,
  type PackageWritten,
} from "./package-stream.js";
export {
  renderCoverageMarkdown,
  renderCoverageCsv,
  coverageCsvRows,
  coverageHtmlSection,
  coverageComplete,
  COVERAGE_NEEDS_LEDGER,
  type CoverageReport,
  type CoverageBranch,
  type CoverageMerge,
  type CoverageSegment,
} from "./coverage.js";
export { renderDirectPushesCsv, directPushRows } from "./direct-pushes-csv.js";
export { buildManifest, sha256File, type ManifestFile, type ManifestInput } from "./manifest.js";
export { renderPopulationCsv, populationRows } from "./population-csv.js";
export {
  renderReportHtml,
  reportHtmlChunks,
  tableResults,
  REPORT_HTML_PASSING_ROW_CAP,
  type ReportHtmlOptions,
} from "./report-html.js";
export { renderResultsCsv, resultsCsvRows } from "./results-csv.js";
export { renderResultsJson, resultsJsonChunks, jsonChunks, stableJson } from "./results-json.js";
export { renderSummaryMarkdown } from "./summary-md.js";
export {
  renderSarif,
  isSarifResult,
  frameworkResult,
  SARIF_FILE,
  SARIF_RESULTS_PER_RUN,
  type FrameworkResult,
  type SarifInput,
} from "./sarif.js";
export { renderOscal, uuidV5, OSCAL_FILE, OSCAL_VERSION, type OscalInput } from "./oscal.js";

export const MANIFEST_FILE = "manifest.json";

/**
 * Writes the package into outDir (created if missing) and returns the paths written, manifest last.
 * The package is written beside outDir and replaces the old one whole (atomic.ts): a crash while
 * writing leaves the old package, never a manifest beside files it does not describe.
 */
export async function writeEvidencePackage(
  outDir: string,
  snapshot: Snapshot,
  report: EvaluationReport,
  options: {
    toolVersion: string;
    /** The ledger's coverage of the period; absent: the audit had no ledger, and coverage.md says so. */
    coverage?: CoverageReport | null;
  },
): Promise<string[]> {
  const coverage = options.coverage ?? null;
  const dir = await temporarySibling(outDir, "writing");
  try {
    await writePackageFiles(dir, snapshot, report, options.toolVersion, coverage);
    await replacePackage(dir, outDir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return PACKAGE_FILES.map((name) => join(outDir, name));
}

async function writePackageFiles(
  outDir: string,
  snapshot: Snapshot,
  report: EvaluationReport,
  toolVersion: string,
  coverage: CoverageReport | null,
): Promise<void> {
  const written: string[] = [];
  // report.html's header names the snapshot.json written before it by its hash
  let snapshotSha256: string | undefined;
  // every file is written as a stream of pieces: none is ever held whole in memory (at 100,000 change
  // requests results.json alone is ~360 MB), and the write waits for the disk when its buffer is full
  const files: [string, () => Iterable<string>][] = [
    ["population.csv", () => populationRows(snapshot, report)],
    ["direct-pushes.csv", () => directPushRows(snapshot, report)],
    ["access.csv", () => accessRows(snapshot)],
    ["access-reviews.csv", () => accessReviewsCsvRows(accessReviewEvidenceOf(snapshot, report.results))],
    ["results.json", () => resultsJsonChunks(report)],
    ["results.csv", () => resultsCsvRows(report)],
    ["snapshot.json", () => snapshotJsonChunks(snapshot)],
    ["summary.md", () => [renderSummaryMarkdown(report, snapshot)]],
    ["coverage.md", () => [renderCoverageMarkdown(coverage)]],
    ["report.html", () => reportHtmlChunks(snapshot, report, { coverage, snapshotSha256 })],
    ["results.sarif", () => [renderSarif(frameworkInput(report, toolVersion))]],
  ];
  for (const [name, chunks] of files) {
    const path = join(outDir, name);
    if (name === "report.html") snapshotSha256 = (await sha256File(join(outDir, "snapshot.json"))).sha256;
    await writeChunks(path, chunks());
    written.push(path);
  }
  const hashed = await Promise.all(written.map((path) => sha256File(path)));
  // the OSCAL document names every other file by its hash, so it is written once they are
  const oscalPath = join(outDir, OSCAL_FILE);
  await writeFile(
    oscalPath,
    renderOscal({
      ...frameworkInput(report, toolVersion),
      organization: organizationName(snapshot),
      files: hashed.map(({ name, sha256, bytes }) => ({ name, sha256, bytes })),
    }),
    "utf8",
  );
  hashed.push(await sha256File(oscalPath));
  const manifestPath = join(outDir, MANIFEST_FILE);
  await writeFile(
    manifestPath,
    buildManifest({
      files: hashed,
      toolVersion,
      policy: report.policy,
      period: report.snapshot.period,
      collectedAt: report.snapshot.collectedAt,
      host: report.snapshot.host,
      baseUrl: report.snapshot.baseUrl,
    }),
    "utf8",
  );
}

/** What results.sarif and the OSCAL document are made of: the controls' counts and what did not pass. */
function frameworkInput(report: EvaluationReport, toolVersion: string) {
  return {
    report,
    rows: controlRows(report),
    results: report.results
      .filter((result) => result.outcome === "fail" || result.outcome === "unknown")
      .map(frameworkResult),
    toolVersion,
  };
}

/**
 * snapshot.json piece by piece, one change request, repository and direct push at a time: the same
 * bytes as JSON.stringify(snapshot, null, 2) plus a newline, so it parses back to an equal Snapshot.
 */
export function snapshotJsonChunks(snapshot: Snapshot): Generator<string> {
  return jsonChunks(snapshot, {
    sorted: false,
    streamed: ["changeRequests", "repositories", "directPushes"],
  });
}

/** Pieces are gathered into ~64 KiB writes: one stream write per CSV row would cost more than the row. */
const WRITE_BATCH = 64 * 1024;

/** Streams pieces of text to a file; pipeline waits for the disk when the buffer is full. */
export async function writeChunks(path: string, chunks: Iterable<string>): Promise<void> {
  await pipeline(Readable.from(batched(chunks)), createWriteStream(path, { encoding: "utf8" }));
}

function* batched(chunks: Iterable<string>): Generator<string> {
  let batch = "";
  for (const chunk of chunks) {
    batch += chunk;
    if (batch.length >= WRITE_BATCH) {
      yield batch;
      batch = "";
    }
  }
  if (batch !== "") yield batch;
}
