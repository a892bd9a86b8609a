/**
 * The evidence package an audit hands to the auditor: the population, direct pushes and access
 * listing as CSV, the results as JSON and CSV, the snapshot the results were computed from, a
 * summary, an offline HTML report, and a manifest with every file's SHA-256.
 */
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { EvaluationReport } from "../../engine/types.js";
import type { Snapshot } from "../../model/index.js";
import { accessRows } from "./access-csv.js";
import { directPushRows } from "./direct-pushes-csv.js";
import { buildManifest, sha256File } from "./manifest.js";
import { populationRows } from "./population-csv.js";
import { renderReportHtml } from "./report-html.js";
import { renderResultsCsv } from "./results-csv.js";
import { renderResultsJson } from "./results-json.js";
import { renderSummaryMarkdown } from "./summary-md.js";

export { renderAccessCsv, accessRows } from "./access-csv.js";
export { renderDirectPushesCsv, directPushRows } from "./direct-pushes-csv.js";
export { buildManifest, sha256File, type ManifestFile, type ManifestInput } from "./manifest.js";
export { renderPopulationCsv, populationRows } from "./population-csv.js";
export { renderReportHtml } from "./report-html.js";
export { renderResultsCsv } from "./results-csv.js";
export { renderResultsJson, stableJson } from "./results-json.js";
export { renderSummaryMarkdown } from "./summary-md.js";

export const MANIFEST_FILE = "manifest.json";

/** Writes the package into outDir (created if missing) and returns the paths written, manifest last. */
export async function writeEvidencePackage(
  outDir: string,
  snapshot: Snapshot,
  report: EvaluationReport,
  options: { toolVersion: string },
): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const written: string[] = [];
  const streamed: [string, Iterable<string>][] = [
    ["population.csv", populationRows(snapshot, report)],
    ["direct-pushes.csv", directPushRows(snapshot, report)],
    ["access.csv", accessRows(snapshot)],
  ];
  for (const [name, rows] of streamed) {
    const path = join(outDir, name);
    await writeRows(path, rows);
    written.push(path);
  }
  const rendered: [string, () => string][] = [
    ["results.json", () => renderResultsJson(report)],
    ["results.csv", () => renderResultsCsv(report)],
    ["snapshot.json", () => `${JSON.stringify(snapshot, null, 2)}\n`],
    ["summary.md", () => renderSummaryMarkdown(report, snapshot)],
    ["report.html", () => renderReportHtml(snapshot, report)],
  ];
  for (const [name, render] of rendered) {
    const path = join(outDir, name);
    await writeFile(path, render(), "utf8");
    written.push(path);
  }
  const files = await Promise.all(written.map((path) => sha256File(path)));
  const manifestPath = join(outDir, MANIFEST_FILE);
  await writeFile(
    manifestPath,
    buildManifest({
      files,
      toolVersion: options.toolVersion,
      policy: report.policy,
      period: report.snapshot.period,
      collectedAt: report.snapshot.collectedAt,
      host: report.snapshot.host,
      baseUrl: report.snapshot.baseUrl,
    }),
    "utf8",
  );
  return [...written, manifestPath];
}

/** Streams rows to a file; pipeline waits for the disk when the buffer is full, so memory stays flat. */
async function writeRows(path: string, rows: Iterable<string>): Promise<void> {
  await pipeline(Readable.from(rows), createWriteStream(path, { encoding: "utf8" }));
}
