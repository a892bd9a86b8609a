/**
 * report.html: one self-contained page an auditor opens offline. No external resource: the style and
 * the small script are inline and allowed by their SHA-256 in a strict Content-Security-Policy, so
 * even if some untrusted text escaped its place it could not run. Text in the HTML goes through
 * htmlText; the results are JSON lines in a data block (scriptJson: no "<" can close it) that the
 * script renders with textContent, one block per subject, a page at a time (report-html-script.ts).
 * Links are kept only when they are http(s) links from the collected facts. On paper the page prints
 * the per-control population statement, the exceptions applied and the deviations, not the passes.
 */
import { createHash } from "node:crypto";
import type { Outcome, Result } from "../../controls/types.js";
import type { EvaluationReport } from "../../engine/types.js";
import type { Snapshot } from "../../model/index.js";
import { htmlText } from "../../text/escape.js";
import { accessReviewEvidenceOf, type AccessReviewEvidence } from "./access-reviews-csv.js";
import { accessReviewsHtmlSection } from "./report-html-access-reviews.js";
import { coverageHtmlSection, type CoverageReport } from "./coverage.js";
import {
  changeRequestId,
  controlRows,
  OUTCOMES,
  organizationName,
  periodText,
  type ControlRow,
} from "./common.js";
import { mergesPerMonth, renderMonthlyChart, type MonthBar } from "./report-html-chart.js";
import { REPORT_SCRIPT, REPORT_STYLE, scriptJson } from "./report-html-script.js";
import { findControl } from "../../controls/index.js";

const OUTCOME_LABEL: Record<Outcome, string> = {
  pass: "pass",
  fail: "fail",
  unknown: "unknown",
  excepted: "excepted",
  "not-applicable": "n/a",
};

/** Passing and not-applicable rows report.html keeps at most: past that, a browser cannot open it. */
export const REPORT_HTML_PASSING_ROW_CAP = 2000;

export interface ReportHtmlOptions {
  /** How many pass and n/a results the table may hold; every other result is always there. */
  passingRowCap?: number;
  /** The ledger's coverage of the period; null or absent: the section says coverage needs the ledger. */
  coverage?: CoverageReport | null;
  /** SHA-256 of the snapshot.json written beside the page, shown in its header. */
  snapshotSha256?: string;
}

export function renderReportHtml(
  snapshot: Snapshot,
  report: EvaluationReport,
  options: ReportHtmlOptions = {},
): string {
  return [...reportHtmlChunks(snapshot, report, options)].join("");
}

/**
 * report.html piece by piece. The results table holds every fail, unknown and excepted result and at
 * most `passingRowCap` pass and n/a ones (spread across controls); the page says how many it left out
 * and that results.csv and population.csv hold them all. Totals and the chart count every result.
 */
export function* reportHtmlChunks(
  snapshot: Snapshot,
  report: EvaluationReport,
  options: ReportHtmlOptions = {},
): Generator<string> {
  const table = tableResults(report.results, options.passingRowCap ?? REPORT_HTML_PASSING_ROW_CAP);
  // titles only for the change requests the table shows, not the whole population
  const shownSubjects = new Set(table.results.map((result) => result.subject.id));
  const titles = new Map<string, string>();
  for (const cr of snapshot.changeRequests) {
    const id = changeRequestId(cr);
    if (shownSubjects.has(id)) titles.set(id, cr.title);
  }
  const page: ReportHtmlPage = {
    organization: organizationName(snapshot),
    report,
    rows: controlRows(report),
    months: mergesPerMonth(snapshot, report),
    shown: table.results.length,
    total: report.results.length,
    passing: table.passing,
    passingShown: table.passingShown,
    unreadable: snapshot.unreadable,
    tool: snapshot.collector.tool,
    coverage: options.coverage ?? null,
    collector: snapshot.collector,
    ...(options.snapshotSha256 ? { snapshotSha256: options.snapshotSha256 } : {}),
    accessReviews: accessReviewEvidenceOf(snapshot, report.results),
  };
  yield reportHtmlHead(page);
  for (let i = 0; i < table.results.length; i += 1) {
    const result = table.results[i]!;
    const title = result.subject.kind === "change-request" ? titles.get(result.subject.id) : undefined;
    yield `${reportHtmlRow(result, title)}${i < table.results.length - 1 ? "\n" : ""}`;
  }
  yield reportHtmlTail(page);
}

/** What report.html says besides its rows of results: an audit streamed to disk builds it from counts. */
export interface ReportHtmlPage {
  organization: string;
  report: Pick<EvaluationReport, "evaluatedAt" | "policy" | "snapshot">;
  rows: ControlRow[];
  months: MonthBar[];
  /** Rows in the results table, results in all, pass and n/a results, and how many of those are shown. */
  shown: number;
  total: number;
  passing: number;
  passingShown: number;
  unreadable: Snapshot["unreadable"];
  tool: string;
  coverage: CoverageReport | null;
  /** Who collected, with what version and permissions; absent: only the report's actor is shown. */
  collector?: Snapshot["collector"];
  /** SHA-256 of the package's snapshot.json, which the header names as what the page judges. */
  snapshotSha256?: string;
  /** The access reviews and their evidence; absent: the section says they were not part of the report. */
  accessReviews?: AccessReviewEvidence;
}

/** report.html up to its first row of results (rows follow, separated by a newline, then the tail). */
export function reportHtmlHead(page: ReportHtmlPage): string {
  const { organization, report, rows, months } = page;
  const csp = [
    "default-src 'none'",
    `style-src '${sha256Source(REPORT_STYLE)}'`,
    `script-src '${sha256Source(REPORT_SCRIPT)}'`,
    "img-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${htmlText(csp)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SOC 2 evidence: ${htmlText(organization)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<header>
<h1>SOC 2 evidence: ${htmlText(organization)}</h1>
<dl>
<dt>Period</dt><dd>${htmlText(periodText(report.snapshot.period))}</dd>
<dt>Code host</dt><dd>${htmlText(report.snapshot.host)} (<code>${htmlText(report.snapshot.baseUrl)}</code>)</dd>
<dt>Collected</dt><dd>${htmlText(report.snapshot.collectedAt)} by ${collectorText(page)}</dd>
<dt>Tool</dt><dd>${htmlText(page.tool)}${page.collector ? ` ${htmlText(page.collector.version)}` : ""}</dd>
<dt>Evaluated</dt><dd>${htmlText(report.evaluatedAt)}</dd>
<dt>Policy</dt><dd><code>${htmlText(report.policy.hash)}</code> from ${htmlText(report.policy.sources.join(" < ") || "no policy files")}</dd>
${snapshotHashText(page.snapshotSha256)}</dl>
</header>
<main>
<section id="summary">
<h2>Controls: population, deviations and exceptions</h2>
<table class="totals">
<thead><tr><th>Control</th><th>Criterion</th><th>Title</th><th>Population and deviations</th>${OUTCOMES.map((o) => `<th class="num">${OUTCOME_LABEL[o]}</th>`).join("")}</tr></thead>
<tbody>
${rows
  .map(
    (row) =>
      `<tr><td><code>${htmlText(row.id)}</code></td><td>${htmlText(row.criterion)}</td><td>${htmlText(row.title)}</td><td>${htmlText(populationStatement(row))}</td>` +
      OUTCOMES.map((o) => {
        const n = row.totals[o];
        return `<td class="num ${o}-count${n === 0 ? " zero" : ""}">${n}</td>`;
      }).join("") +
      "</tr>",
  )
  .join("\n")}
</tbody>
</table>
<p>The population of a control is every subject it judged (n/a ones are not in it); a deviation is a failed result, and its rate is deviations over the population. Unknown results could not be decided from the facts that were readable; excepted ones failed under an exception the policy grants, listed below.</p>
</section>
<section>
<h2>Merged production changes per month</h2>
${renderMonthlyChart(months)}
</section>
<script type="application/json" id="results-data">
`;
}

/** report.html after its last row of results. */
export function reportHtmlTail(page: ReportHtmlPage): string {
  return `
</script>
<section id="exceptions">
<h2>Exceptions applied</h2>
<p id="exceptions-none" hidden>No exception of the policy was applied to any result.</p>
<table id="exceptions-table"><thead><tr><th>Reason</th><th>Approved by</th><th>Expires</th><th>Policy</th><th>Controls</th><th class="num">Results excepted</th></tr></thead><tbody id="exceptions-body"></tbody></table>
</section>
<section class="print-only" id="print-deviations">
<h2>Fail, unknown and excepted results</h2>
<p id="print-note"></p>
<table><thead><tr><th>Outcome</th><th>Control</th><th>Subject</th><th>Reason</th></tr></thead><tbody id="print-body"></tbody></table>
</section>
<section id="results">
<h2>Results by subject</h2>
${omittedNote(page)}<noscript><p>The list of results needs this page's own script; results.csv and results.json in this evidence package hold every result.</p></noscript>
<div class="filters">
<input id="filter-text" type="search" placeholder="Filter by subject, reason, evidence…" aria-label="Filter results">
<select id="filter-outcome" aria-label="Outcome"><option value="">All outcomes</option>${OUTCOMES.map((o) => `<option value="${o}">${OUTCOME_LABEL[o]}</option>`).join("")}</select>
<select id="filter-control" aria-label="Control"><option value="">All controls</option>${page.rows.map((row) => `<option value="${htmlText(row.id)}">${htmlText(row.id)}</option>`).join("")}</select>
<select id="sort" aria-label="Sort by"><option value="outcome">Sort by outcome</option><option value="repository">Sort by repository</option><option value="time">Sort by time (newest)</option><option value="control">Sort by control</option></select>
<span id="filter-count">${page.shown} results</span>
<span id="pager"><button type="button" id="page-prev">Previous</button> <span id="page-info"></span> <button type="button" id="page-next">Next</button></span>
</div>
<div id="subjects"></div>
</section>
${accessReviewsHtmlSection(page.accessReviews)}
${unreadableSection(page.unreadable)}
${coverageHtmlSection(page.coverage)}
</main>
<footer>Generated by ${htmlText(page.tool)}${page.collector ? ` ${htmlText(page.collector.version)}` : ""} from the snapshot in this evidence package. Open offline; this page loads nothing from the network.</footer>
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}

/**
 * "360 changes, 25 deviations (6.9%)", and the unknown and excepted ones when there are any: the
 * statement of a control's population an auditor samples from.
 */
export function populationStatement(row: Pick<ControlRow, "id" | "totals">): string {
  const { pass, fail, unknown, excepted } = row.totals;
  const population = pass + fail + unknown + excepted;
  const noun = POPULATION_NOUN[findControl(row.id)?.appliesTo ?? "unknown"] ?? ["subject", "subjects"];
  const parts = [
    `${population} ${population === 1 ? noun[0] : noun[1]}`,
    `${fail} ${fail === 1 ? "deviation" : "deviations"}${population > 0 ? ` (${((fail / population) * 100).toFixed(1)}%)` : ""}`,
  ];
  if (unknown > 0) parts.push(`${unknown} unknown`);
  if (excepted > 0) parts.push(`${excepted} excepted`);
  return parts.join(", ");
}

const POPULATION_NOUN: Record<string, [string, string]> = {
  "change-request": ["change", "changes"],
  "direct-push": ["direct push", "direct pushes"],
  repository: ["repository", "repositories"],
  organization: ["subject", "subjects"],
};

/**
 * Who collected. "unknown" is what the GitHub provider records when the credentials do not say who
 * they belong to (an installation token it could not read, or GET /user refused): say so, with the
 * permissions the host reported, rather than a bare "unknown".
 */
function collectorText(page: ReportHtmlPage): string {
  const actor = page.collector?.actor ?? page.report.snapshot.actor;
  const permissions = Object.entries(page.collector?.permissions ?? {})
    .map(([name, level]) => `${name}: ${level}`)
    .join(", ");
  const who =
    actor === "unknown"
      ? `unknown <span class="note">(the code host did not say who the credentials belong to: neither an app installation token nor GET /user answered)</span>`
      : `<code>${htmlText(actor)}</code>`;
  return `${who}${permissions ? ` <span class="note">with ${htmlText(permissions)}</span>` : ""}`;
}

function snapshotHashText(sha256: string | undefined): string {
  if (!sha256) return "";
  return `<dt>Snapshot</dt><dd><code>${htmlText(sha256)}</code> <span class="note">SHA-256 of snapshot.json, the collected facts this page judges. manifest.json lists every file of the package by its SHA-256, this page's own included (a page cannot hold its own hash).</span></dd>\n`;
}

interface TableResults {
  /** In report order. */
  results: Result[];
  /** How many pass and n/a results there are, and how many of them the table keeps. */
  passing: number;
  passingShown: number;
}

/**
 * Every result that is not pass or n/a, and pass/n/a ones up to the cap, shared fairly between the
 * controls (each gets the same quota, or all it has if fewer), first ones in report order.
 */
export function tableResults(results: readonly Result[], cap: number): TableResults {
  const passingByControl = new Map<string, number>();
  for (const result of results) {
    if (isPassing(result))
      passingByControl.set(result.control, (passingByControl.get(result.control) ?? 0) + 1);
  }
  const counts = [...passingByControl.values()];
  const passing = counts.reduce((sum, n) => sum + n, 0);
  const quota = passingQuota(counts, cap);
  const kept = new Map<string, number>();
  const shown: Result[] = [];
  for (const result of results) {
    if (isPassing(result)) {
      const n = kept.get(result.control) ?? 0;
      if (n >= quota) continue;
      kept.set(result.control, n + 1);
    }
    shown.push(result);
  }
  const passingShown = [...kept.values()].reduce((sum, n) => sum + n, 0);
  return { results: shown, passing, passingShown };
}

/** The largest per-control quota of pass and n/a rows whose rows still fit under the cap. */
export function passingQuota(counts: readonly number[], cap: number): number {
  const passing = counts.reduce((sum, n) => sum + n, 0);
  if (passing <= cap) return Infinity;
  let low = 0;
  let high = cap;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (counts.reduce((sum, n) => sum + Math.min(n, mid), 0) <= cap) low = mid;
    else high = mid - 1;
  }
  return low;
}

export function isPassing(result: Pick<Result, "outcome">): boolean {
  return result.outcome === "pass" || result.outcome === "not-applicable";
}

function omittedNote(page: Pick<ReportHtmlPage, "shown" | "total" | "passing" | "passingShown">): string {
  const left = page.passing - page.passingShown;
  if (left === 0) return "";
  return (
    `<p class="omitted" id="omitted-note"><strong>This table shows ${page.shown} of ${page.total} results.</strong> ` +
    `Every fail, unknown and excepted result is here; ${left} of the ${page.passing} pass and n/a results ` +
    `are left out (${page.passingShown} are shown, spread across the controls) so that the page still opens in a browser. ` +
    `results.csv and population.csv in this evidence package hold the complete population; the totals and the chart above count every result.</p>\n`
  );
}

/**
 * One result as a line of the page's JSON data (the script groups them by subject); `title` is the
 * change request's, for a change-request result. Links are kept only when they are http(s).
 */
export function reportHtmlRow(result: Result, title: string | undefined): string {
  const url = (value: string | undefined): string | null =>
    value && /^https?:\/\//i.test(value) ? value : null;
  const exception = result.exception
    ? [
        result.exception.reason,
        result.exception.approvedBy,
        result.exception.expires,
        result.exception.source,
      ]
    : null;
  return scriptJson([
    result.outcome,
    result.control,
    result.subject.kind,
    result.subject.id,
    url(result.subject.url),
    title ?? null,
    result.reason,
    exception,
    result.evidence.map((item) => [item.label, item.value, url(item.url), item.at ?? null]),
    result.subject.repository ?? null,
    result.outcome === "fail" || result.outcome === "unknown" ? (result.remediation ?? null) : null,
  ]);
}

function unreadableSection(unreadable: Snapshot["unreadable"]): string {
  const items = unreadable.map(
    (fact) =>
      `<tr><td><code>${htmlText(fact.subject)}</code></td><td>${htmlText(fact.what)}</td><td><code>${htmlText(fact.permission)}</code></td><td>${htmlText(fact.reason)}</td></tr>`,
  );
  const body = items.length
    ? `<table><thead><tr><th>Subject</th><th>Fact</th><th>Missing permission</th><th>Host answer</th></tr></thead><tbody>${items.join("")}</tbody></table>`
    : "<p>None: every fact the controls need was readable.</p>";
  return `<section>\n<h2>Facts that could not be read</h2>\n${body}\n</section>`;
}

function sha256Source(text: string): string {
  return `sha256-${createHash("sha256").update(text, "utf8").digest("base64")}`;
}
