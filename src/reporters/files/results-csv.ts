/** results.csv: one row per result, for filtering in a spreadsheet. */
import type { Result } from "../../controls/types.js";
import type { EvaluationReport } from "../../engine/types.js";
import { csvRow } from "../../text/escape.js";
import { evidenceText } from "./common.js";

export const RESULTS_CSV_HEADER = [
  "control",
  "criterion",
  "subject_kind",
  "subject_id",
  "outcome",
  "reason",
  "exception_reason",
  "exception_approved_by",
  "exception_expires",
  "evidence",
  "link",
] as const;

/** The header, then one CSV line per result: a generator so a large audit streams to the file. */
export function* resultsCsvRows(report: EvaluationReport): Generator<string> {
  yield csvRow(RESULTS_CSV_HEADER);
  for (const result of report.results) yield resultsCsvRow(result);
}

/** One result's line of results.csv. */
export function resultsCsvRow(result: Result): string {
  return csvRow([
    result.control,
    result.criterion,
    result.subject.kind,
    result.subject.id,
    result.outcome,
    result.reason,
    result.exception?.reason,
    result.exception?.approvedBy,
    result.exception?.expires,
    evidenceText(result),
    result.subject.url,
  ]);
}

export function renderResultsCsv(report: EvaluationReport): string {
  return [...resultsCsvRows(report)].join("");
}
