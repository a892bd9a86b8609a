/**
 * summary.md: the page an auditor reads first. Every failing and unknown subject is named, with its
 * reason; excepted ones show the exception that covers them; what could not be read is listed.
 */
import type { Result } from "../../controls/types.js";
import type { EvaluationReport } from "../../engine/types.js";
import type { Snapshot } from "../../model/index.js";
import { markdownCode, markdownText, markdownUser } from "../../text/escape.js";
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
  const lines = headLines(input);
  for (const outcome of ["fail", "unknown"] as const) {
    const matching = input.notable.filter((result) => result.outcome === outcome);
    lines.push(...sectionHead(outcome, matching.length));
    if (matching.length === 0) continue;
    for (const row of input.rows) {
      const forControl = matching.filter((result) => result.control === row.id);
      if (forControl.length === 0) continue;
      lines.push(...controlHead(row));
      for (const result of forControl) lines.push(resultLine(result));
      lines.push("");
    }
  }
  const excepted = input.notable.filter((result) => result.outcome === "excepted");
  lines.push(...exceptedHead(excepted.length));
  if (excepted.length > 0) {
    for (const result of excepted) lines.push(exceptedLine(result));
    lines.push("");
  }
  lines.push(...unreadableLines(input.unreadable));
  return lines.join("\n");
}

/** The outcomes summary.md lists, subject by subject. */
export type NotableOutcome = "fail" | "unknown" | "excepted";

/**
 * What a summary streamed from disk says: the listed results are not in memory but read back, those
 * of one outcome at a time in report order, as often as needed (once per control listed).
 */
export interface StreamedSummaryInput extends Omit<SummaryInput, "notable"> {
  /** How many results of each outcome are listed, by control. */
  counts: Record<NotableOutcome, ReadonlyMap<string, number>>;
  notable: (outcome: NotableOutcome) => AsyncIterable<SummaryResult>;
}

/**
 * summary.md written a line at a time, byte for byte what renderSummary gives for the same results:
 * an audit of 100,000 changes lists tens of thousands of failures, and none is held in memory.
 */
export async function writeSummary(
  input: StreamedSummaryInput,
  write: (text: string) => Promise<void>,
): Promise<void> {
  // renderSummary joins its lines with "\n" and its last line is empty: every other line ends in one
  const put = async (lines: string[]): Promise<void> => {
    if (lines.length > 0) await write(`${lines.join("\n")}\n`);
  };
  const total = (outcome: NotableOutcome): number =>
    [...input.counts[outcome].values()].reduce((sum, n) => sum + n, 0);
  await put(headLines(input));
  for (const outcome of ["fail", "unknown"] as const) {
    const count = total(outcome);
    await put(sectionHead(outcome, count));
    if (count === 0) continue;
    for (const row of input.rows) {
      if ((input.counts[outcome].get(row.id) ?? 0) === 0) continue;
      await put(controlHead(row));
      for await (const result of input.notable(outcome)) {
        if (result.control === row.id) await write(`${resultLine(result)}\n`);
      }
      await put([""]);
    }
  }
  const excepted = total("excepted");
  await put(exceptedHead(excepted));
  if (excepted > 0) {
    for await (const result of input.notable("excepted")) await write(`${exceptedLine(result)}\n`);
    await put([""]);
  }
  const tail = unreadableLines(input.unreadable);
  await put(tail.slice(0, -1));
}

function headLines(input: Omit<SummaryInput, "notable">): string[] {
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
  return lines;
}

function sectionHead(outcome: "fail" | "unknown", count: number): string[] {
  const heading = outcome === "fail" ? "Failing" : "Unknown (could not be decided)";
  return count === 0 ? [`## ${heading}: 0`, "", "None.", ""] : [`## ${heading}: ${count}`, ""];
}

function controlHead(row: { id: string; title: string }): string[] {
  return [`### ${markdownCode(row.id)} ${markdownText(row.title)}`, ""];
}

function resultLine(result: SummaryResult): string {
  return `- ${subjectText(result)}: ${markdownText(result.reason)}`;
}

function exceptedHead(count: number): string[] {
  return count === 0 ? ["## Excepted (accepted risk)", "", "None.", ""] : ["## Excepted (accepted risk)", ""];
}

function exceptedLine(result: SummaryResult): string {
  const exception = result.exception;
  const covered = exception
    ? `${markdownText(exception.reason)}; approved by ${markdownUser(exception.approvedBy)}, ` +
      `expires ${markdownCode(exception.expires)} (${markdownCode(exception.source)})`
    : "no exception recorded";
  return `- ${markdownCode(result.control)} ${subjectText(result)}: ${covered}`;
}

function unreadableLines(unreadable: Snapshot["unreadable"]): string[] {
  const lines = ["## Facts that could not be read", ""];
  if (unreadable.length === 0) lines.push("None: every fact the controls need was readable.");
  for (const fact of unreadable) {
    lines.push(
      `- ${markdownCode(fact.subject)}: ${markdownText(fact.what)}, needs ${markdownCode(fact.permission)} ` +
        `(${markdownText(fact.reason)})`,
    );
  }
  lines.push("");
  return lines;
}

function subjectText(result: SummaryResult): string {
  return `${markdownText(result.subject.kind)} ${markdownCode(result.subject.id)}`;
}

function sourcesText(sources: string[]): string {
  return sources.length === 0 ? "no policy files" : sources.map(markdownCode).join(" < ");
}
