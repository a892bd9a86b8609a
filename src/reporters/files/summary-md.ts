/**
 * summary.md: the page an auditor reads first. Every failing and unknown subject is named, with its
 * reason; excepted ones show the exception that covers them; what could not be read is listed.
 */
import type { Result } from "../../controls/types.js";
import type { EvaluationReport } from "../../engine/types.js";
import type { Snapshot } from "../../model/index.js";
import { markdownCode, markdownText, markdownUser } from "../escape.js";
import { controlRows, organizationName, periodText, type ControlRow } from "./common.js";

export function renderSummaryMarkdown(report: EvaluationReport, snapshot: Snapshot): string {
  return renderSummary({
    report,
    rows: controlRows(report),
    organization: organizationName(snapshot),
    notable: report.results.filter(
      (result) => result.outcome !== "pass" && result.outcome !== "not-applicable",
    ),
    unreadable: snapshot.unreadable,
  });
}

/** A result as summary.md names it (fail, unknown and excepted ones are listed). */
export type SummaryResult = Pick<Result, "control" | "subject" | "outcome" | "reason" | "exception">;

/** What summary.md says: an audit streamed to disk keeps only these, not every result. */
export interface SummaryInput {
  report: Pick<EvaluationReport, "evaluatedAt" | "policy" | "snapshot">;
  rows: ControlRow[];
  organization: string;
  /** The fail, unknown and excepted results in report order (others are left out). */
  notable: readonly SummaryResult[];
  unreadable: Snapshot["unreadable"];
}

export function renderSummary(input: SummaryInput): string {
  const { report, rows } = input;
  const lines: string[] = [];
  lines.push(`# SOC 2 evidence summary: ${markdownText(input.organization)}`, "");
  const period = report.snapshot.period;
  lines.push(
    `- Period: ${period ? `${markdownCode(period.since)} to ${markdownCode(period.until)}` : markdownText(periodText(period))}`,
  );
  lines.push(`- Code host: ${markdownText(report.snapshot.host)} (${markdownCode(report.snapshot.baseUrl)})`);
  lines.push(
    `- Collected at ${markdownCode(report.snapshot.collectedAt)} by ${markdownUser(report.snapshot.actor)}`,
  );
  lines.push(`- Evaluated at ${markdownCode(report.evaluatedAt)}`);
  lines.push(`- Policy: ${markdownCode(report.policy.hash)} from ${sourcesText(report.policy.sources)}`, "");

  lines.push("## Controls", "");
  lines.push("| control | criterion | title | pass | fail | unknown | excepted | n/a |");
  lines.push("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |");
  for (const row of rows) {
    const t = row.totals;
    lines.push(
      `| ${markdownCode(row.id)} | ${markdownText(row.criterion)} | ${markdownText(row.title)} | ` +
        `${t.pass} | ${t.fail} | ${t.unknown} | ${t.excepted} | ${t["not-applicable"]} |`,
    );
  }
  lines.push("");

  section(lines, "Failing", input.notable, "fail", rows);
  section(lines, "Unknown (could not be decided)", input.notable, "unknown", rows);

  const excepted = input.notable.filter((result) => result.outcome === "excepted");
  lines.push("## Excepted (accepted risk)", "");
  if (excepted.length === 0) lines.push("None.", "");
  else {
    for (const result of excepted) {
      const exception = result.exception;
      const covered = exception
        ? `${markdownText(exception.reason)}; approved by ${markdownUser(exception.approvedBy)}, ` +
          `expires ${markdownCode(exception.expires)} (${markdownCode(exception.source)})`
        : "no exception recorded";
      lines.push(`- ${markdownCode(result.control)} ${subjectText(result)}: ${covered}`);
    }
    lines.push("");
  }

  lines.push("## Facts that could not be read", "");
  if (input.unreadable.length === 0) lines.push("None: every fact the controls need was readable.");
  for (const fact of input.unreadable) {
    lines.push(
      `- ${markdownCode(fact.subject)}: ${markdownText(fact.what)}, needs ${markdownCode(fact.permission)} ` +
        `(${markdownText(fact.reason)})`,
    );
  }
  lines.push("");
  return lines.join("\n");
}

function section(
  lines: string[],
  heading: string,
  results: readonly SummaryResult[],
  outcome: "fail" | "unknown",
  rows: { id: string; title: string }[],
): void {
  const matching = results.filter((result) => result.outcome === outcome);
  lines.push(`## ${heading}: ${matching.length}`, "");
  if (matching.length === 0) {
    lines.push("None.", "");
    return;
  }
  for (const row of rows) {
    const forControl = matching.filter((result) => result.control === row.id);
    if (forControl.length === 0) continue;
    lines.push(`### ${markdownCode(row.id)} ${markdownText(row.title)}`, "");
    for (const result of forControl) lines.push(`- ${subjectText(result)}: ${markdownText(result.reason)}`);
    lines.push("");
  }
}

function subjectText(result: SummaryResult): string {
  return `${markdownText(result.subject.kind)} ${markdownCode(result.subject.id)}`;
}

function sourcesText(sources: string[]): string {
  return sources.length === 0 ? "no policy files" : sources.map(markdownCode).join(" < ");
}
