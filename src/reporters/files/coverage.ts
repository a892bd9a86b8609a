/**
 * Coverage, as the auditor reads it: for each repository, production branch and day of the period,
 * whether soc2-bot observed the controls (an audit or a judgement covered it) and, for every gap, its
 * cause as far as the ledger's records show it; and every merge of the period with whether the app
 * judged it within the policy's minutes. Built from the ledger by src/ledger/coverage.ts; rendered
 * here as Markdown, CSV and an HTML section. Names come from the code host and are untrusted: every
 * cell goes through src/text/escape.ts.
 */
import { csvRow, htmlText, markdownCode, markdownText } from "../../text/escape.js";
import { jsonChunks } from "./results-json.js";

/** Consecutive days of one branch with the same state and cause. Days are UTC dates, `to` inclusive. */
export interface CoverageSegment {
  from: string;
  to: string;
  days: number;
  observed: boolean;
  /** Why the days are a gap (null when observed). */
  cause: string | null;
  /** What observed them: audit records ("audit:github/acme record 3") and judgement counts. */
  by: string[];
}

export interface CoverageBranch {
  host: string;
  repository: string;
  branch: string;
  observedDays: number;
  gapDays: number;
  segments: CoverageSegment[];
}

export interface CoverageMerge {
  host: string;
  repository: string;
  branch: string;
  number: number;
  mergedAt: string;
  /** The app's first judgement of the merge, at or after mergedAt; null when it never judged it. */
  judgedAt: string | null;
  minutes: number | null;
  inTime: boolean;
  /** Where the merge is recorded: an audit's population, a judgement, or both. */
  seenIn: string[];
}

export interface CoverageReport {
  since: string;
  until: string;
  ledger: string;
  judgedWithinMinutes: number;
  days: number;
  branches: CoverageBranch[];
  merges: { total: number; inTime: number; late: CoverageMerge[] };
  /** Records that could not be read for coverage (their days count as gaps). */
  problems: string[];
}

export const COVERAGE_NEEDS_LEDGER =
  "Coverage needs the ledger: this audit was run without one, so nothing shows which days of the " +
  "period the controls were observed. Run the audit with a ledger (the default; not --skip-ledger) " +
  "and `soc2-bot coverage --since DATE --until DATE`.";

export function coverageComplete(report: CoverageReport): boolean {
  return (
    report.branches.length > 0 &&
    report.branches.every((branch) => branch.gapDays === 0) &&
    report.merges.late.length === 0 &&
    report.problems.length === 0
  );
}

/** A name in a Markdown table cell: code, and a "|" that would end the cell escaped (GFM splits on it even in code). */
function cell(text: string): string {
  return markdownCode(text).replace(/\|/g, "\\|");
}

function gaps(report: CoverageReport): { branch: CoverageBranch; segment: CoverageSegment }[] {
  return report.branches.flatMap((branch) =>
    branch.segments.filter((segment) => !segment.observed).map((segment) => ({ branch, segment })),
  );
}

function span(segment: CoverageSegment): string {
  return segment.from === segment.to ? segment.from : `${segment.from} to ${segment.to}`;
}

function lateText(merge: CoverageMerge): string {
  return merge.judgedAt === null
    ? "never judged by the app"
    : `judged ${merge.minutes} minutes after merging`;
}

/** coverage.md; null: the audit had no ledger, and the file says so. */
export function renderCoverageMarkdown(report: CoverageReport | null): string {
  if (!report) return `# Coverage\n\n${COVERAGE_NEEDS_LEDGER}\n`;
  const lines = [
    "# Coverage",
    "",
    `Period: ${report.since} to ${report.until} (${report.days} days, UTC). Ledger: ${markdownText(report.ledger)}.`,
    "",
    coverageComplete(report)
      ? "**Fully covered**: every production branch observed every day, every merge judged in time."
      : "**Not fully covered**: the gaps and late merges are listed below.",
    "",
    "## Production branches",
    "",
  ];
  if (report.branches.length === 0) {
    lines.push("The ledger holds no audit or judgement of any production branch in the period.", "");
  } else {
    lines.push("| Repository | Branch | Days observed | Days not observed |", "| --- | --- | ---: | ---: |");
    for (const branch of report.branches) {
      lines.push(
        `| ${cell(`${branch.host}:${branch.repository}`)} | ${cell(branch.branch)} | ${branch.observedDays} | ${branch.gapDays} |`,
      );
    }
    lines.push("");
  }
  const missing = gaps(report);
  lines.push("## Gaps", "");
  if (missing.length === 0) lines.push("None.", "");
  else {
    lines.push("| Repository | Branch | Days | Cause |", "| --- | --- | --- | --- |");
    for (const { branch, segment } of missing) {
      lines.push(
        `| ${cell(`${branch.host}:${branch.repository}`)} | ${cell(branch.branch)} | ${span(segment)} (${segment.days}) | ${markdownText(segment.cause ?? "")} |`,
      );
    }
    lines.push("");
  }
  lines.push(
    `## Merges judged within ${report.judgedWithinMinutes} minutes`,
    "",
    `${report.merges.inTime} of ${report.merges.total} merges of the period were judged by the app within ${report.judgedWithinMinutes} minutes of merging.`,
    "",
  );
  if (report.merges.late.length > 0) {
    lines.push("| Change | Branch | Merged | Judged | Recorded in |", "| --- | --- | --- | --- | --- |");
    for (const merge of report.merges.late) {
      lines.push(
        `| ${cell(`${merge.host}:${merge.repository}#${merge.number}`)} | ${cell(merge.branch)} | ${merge.mergedAt} | ${markdownText(lateText(merge))} | ${markdownText(merge.seenIn.join("; "))} |`,
      );
    }
    lines.push("");
  }
  if (report.problems.length > 0) {
    lines.push("## Records that could not be read", "");
    for (const problem of report.problems) lines.push(`- ${markdownText(problem)}`);
    lines.push("");
  }
  return lines.join("\n");
}

/**
 * coverage.csv: one row per segment of days (from/to: first and last day), then one per merge not
 * judged in time (from: merged at; to: judged at, empty when never).
 */
export function* coverageCsvRows(report: CoverageReport): Generator<string> {
  yield csvRow([
    "kind",
    "host",
    "repository",
    "branch",
    "from",
    "to",
    "days",
    "state",
    "cause_or_detail",
    "evidence",
  ]);
  for (const branch of report.branches) {
    for (const segment of branch.segments) {
      yield csvRow([
        "days",
        branch.host,
        branch.repository,
        branch.branch,
        segment.from,
        segment.to,
        segment.days,
        segment.observed ? "observed" : "gap",
        segment.cause ?? "",
        segment.by.join("; "),
      ]);
    }
  }
  for (const merge of report.merges.late) {
    yield csvRow([
      "late-merge",
      merge.host,
      merge.repository,
      merge.branch,
      merge.mergedAt,
      merge.judgedAt ?? "",
      "",
      "not judged in time",
      `#${merge.number}: ${lateText(merge)}`,
      merge.seenIn.join("; "),
    ]);
  }
  for (const problem of report.problems)
    yield csvRow(["unreadable-record", "", "", "", "", "", "", "", problem, ""]);
}

/**
 * coverage.json a piece at a time, each branch on its own: the bytes of stableJson(report), without
 * holding a year's text (tens of MB: every branch names each audit that observed it) at once.
 */
export function coverageJsonChunks(report: CoverageReport): Generator<string> {
  return jsonChunks(report, { sorted: true, streamed: ["branches"] });
}

export function renderCoverageCsv(report: CoverageReport): string {
  return [...coverageCsvRows(report)].join("");
}

/** The HTML section of report.html: untrusted names escaped, no script, nothing the CSP must allow. */
export function coverageHtmlSection(report: CoverageReport | null): string {
  if (!report)
    return `<section id="coverage">\n<h2>Coverage</h2>\n<p>${htmlText(COVERAGE_NEEDS_LEDGER)}</p>\n</section>`;
  const missing = gaps(report);
  const summary = coverageComplete(report)
    ? "Fully covered: every production branch observed every day, every merge judged in time."
    : `${missing.length} gaps in ${report.branches.filter((b) => b.gapDays > 0).length} of ${report.branches.length} production branches; ` +
      `${report.merges.late.length} of ${report.merges.total} merges not judged within ${report.judgedWithinMinutes} minutes.`;
  const gapRows = missing.map(
    ({ branch, segment }) =>
      `<tr><td><code>${htmlText(`${branch.host}:${branch.repository}`)}</code></td><td><code>${htmlText(branch.branch)}</code></td>` +
      `<td>${htmlText(span(segment))}</td><td class="num">${segment.days}</td><td>${htmlText(segment.cause ?? "")}</td></tr>`,
  );
  const lateRows = report.merges.late.map(
    (merge) =>
      `<tr><td><code>${htmlText(`${merge.host}:${merge.repository}#${merge.number}`)}</code></td><td><code>${htmlText(merge.branch)}</code></td>` +
      `<td>${htmlText(merge.mergedAt)}</td><td>${htmlText(lateText(merge))}</td></tr>`,
  );
  return [
    `<section id="coverage">`,
    `<h2>Coverage</h2>`,
    `<p>${htmlText(`${report.since} to ${report.until} (${report.days} days, UTC), from ${report.ledger}. ${summary}`)}</p>`,
    gapRows.length
      ? `<table><thead><tr><th>Repository</th><th>Branch</th><th>Days</th><th class="num">Count</th><th>Cause</th></tr></thead><tbody>${gapRows.join("")}</tbody></table>`
      : "<p>No gaps.</p>",
    lateRows.length
      ? `<table><thead><tr><th>Change</th><th>Branch</th><th>Merged</th><th>Judged</th></tr></thead><tbody>${lateRows.join("")}</tbody></table>`
      : "",
    ...report.problems.map((problem) => `<p class="omitted">${htmlText(problem)}</p>`),
    `</section>`,
  ].join("\n");
}
