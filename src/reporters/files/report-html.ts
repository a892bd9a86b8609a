/**
 * report.html: one self-contained page an auditor opens offline. No external resource: the style and
 * the small filter script are inline and allowed by their SHA-256 in a strict Content-Security-Policy,
 * so even if some untrusted text escaped its cell it could not run. All data goes through htmlText,
 * and links are kept only when they are http(s) links from the collected facts.
 */
import { createHash } from "node:crypto";
import type { Outcome, Result } from "../../controls/types.js";
import type { EvaluationReport } from "../../engine/types.js";
import type { Snapshot } from "../../model/index.js";
import { htmlText } from "../escape.js";
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

const STYLE = `
:root { --fail: #c62828; --unknown: #ef8f00; --pass: #2e7d32; --excepted: #6a4fb3; --na: #78909c; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2327; background: #f6f7f9; }
header { background: #1d2b3a; color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 8px; font-size: 22px; }
header dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
header dt { color: #a9bacb; }
header dd { margin: 0; overflow-wrap: anywhere; }
main { padding: 8px 32px 32px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 16px 20px; margin-top: 20px; }
h2 { font-size: 17px; margin: 0 0 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e8ebee; vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: #b0b7bf; }
td.fail-count:not(.zero) { color: var(--fail); font-weight: 600; }
td.unknown-count:not(.zero) { color: var(--unknown); font-weight: 600; }
#results td { overflow-wrap: anywhere; }
#results td:nth-child(4) { min-width: 220px; }
#results td:nth-child(5) { min-width: 320px; }
td.control code { white-space: nowrap; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); }
.badge.unknown { background: var(--unknown); } .badge.excepted { background: var(--excepted); }
.badge.not-applicable { background: var(--na); }
.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 12px; }
.filters input { flex: 1 1 260px; padding: 6px 8px; border: 1px solid #c3c9d0; border-radius: 4px; }
.filters select { padding: 6px; border: 1px solid #c3c9d0; border-radius: 4px; }
#filter-count { color: #5b6670; }
p.omitted { background: #fff8e1; border: 1px solid #f0d58c; border-radius: 4px; padding: 8px 12px; }
.subject-title { display: block; color: #4a545e; }
ul.evidence { margin: 0; padding-left: 16px; font-size: 12px; color: #39424b; }
.exception { font-size: 12px; color: var(--excepted); }
svg text { font: 11px system-ui, sans-serif; fill: #39424b; }
svg .bar-ok { fill: var(--pass); } svg .bar-fail { fill: var(--fail); } svg .bar-unknown { fill: var(--unknown); }
svg .axis { stroke: #9aa4ae; stroke-width: 1; } svg .grid { stroke: #e8ebee; stroke-width: 1; }
footer { color: #5b6670; font-size: 12px; padding: 0 32px 24px; }
`;

const SCRIPT = `(function () {
  var text = document.getElementById("filter-text");
  var outcome = document.getElementById("filter-outcome");
  var control = document.getElementById("filter-control");
  var count = document.getElementById("filter-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#results tbody tr"));
  var texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
  function apply() {
    var needle = text.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row, i) {
      var ok = (!outcome.value || row.getAttribute("data-outcome") === outcome.value) &&
        (!control.value || row.getAttribute("data-control") === control.value) &&
        (!needle || texts[i].indexOf(needle) !== -1);
      row.hidden = !ok;
      if (ok) shown += 1;
    });
    count.textContent = shown + " of " + rows.length + " results";
  }
  text.addEventListener("input", apply);
  outcome.addEventListener("change", apply);
  control.addEventListener("change", apply);
  apply();
})();`;

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
}

/** report.html up to its first row of results (rows follow, separated by a newline, then the tail). */
export function reportHtmlHead(page: ReportHtmlPage): string {
  const { organization, report, rows, months } = page;
  const csp = [
    "default-src 'none'",
    `style-src '${sha256Source(STYLE)}'`,
    `script-src '${sha256Source(SCRIPT)}'`,
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
<style>${STYLE}</style>
</head>
<body>
<header>
<h1>SOC 2 evidence: ${htmlText(organization)}</h1>
<dl>
<dt>Period</dt><dd>${htmlText(periodText(report.snapshot.period))}</dd>
<dt>Code host</dt><dd>${htmlText(report.snapshot.host)} (<code>${htmlText(report.snapshot.baseUrl)}</code>)</dd>
<dt>Collected</dt><dd>${htmlText(report.snapshot.collectedAt)} by ${htmlText(report.snapshot.actor)}</dd>
<dt>Evaluated</dt><dd>${htmlText(report.evaluatedAt)}</dd>
<dt>Policy</dt><dd><code>${htmlText(report.policy.hash)}</code> from ${htmlText(report.policy.sources.join(" < ") || "no policy files")}</dd>
</dl>
</header>
<main>
<section>
<h2>Controls</h2>
<table class="totals">
<thead><tr><th>Control</th><th>Criterion</th><th>Title</th>${OUTCOMES.map((o) => `<th class="num">${OUTCOME_LABEL[o]}</th>`).join("")}</tr></thead>
<tbody>
${rows
  .map(
    (row) =>
      `<tr><td><code>${htmlText(row.id)}</code></td><td>${htmlText(row.criterion)}</td><td>${htmlText(row.title)}</td>` +
      OUTCOMES.map((o) => {
        const n = row.totals[o];
        return `<td class="num ${o}-count${n === 0 ? " zero" : ""}">${n}</td>`;
      }).join("") +
      "</tr>",
  )
  .join("\n")}
</tbody>
</table>
</section>
<section>
<h2>Merged production changes per month</h2>
${renderMonthlyChart(months)}
</section>
<section>
<h2>Results</h2>
${omittedNote(page)}<div class="filters">
<input id="filter-text" type="search" placeholder="Filter by subject, reason, evidence…" aria-label="Filter results">
<select id="filter-outcome" aria-label="Outcome"><option value="">All outcomes</option>${OUTCOMES.map((o) => `<option value="${o}">${OUTCOME_LABEL[o]}</option>`).join("")}</select>
<select id="filter-control" aria-label="Control"><option value="">All controls</option>${rows.map((row) => `<option value="${htmlText(row.id)}">${htmlText(row.id)}</option>`).join("")}</select>
<span id="filter-count">${page.shown} results</span>
</div>
<table id="results">
<thead><tr><th>Outcome</th><th>Control</th><th>Subject</th><th>Reason</th><th>Evidence</th></tr></thead>
<tbody>
`;
}

/** report.html after its last row of results. */
export function reportHtmlTail(page: ReportHtmlPage): string {
  return `
</tbody>
</table>
</section>
${unreadableSection(page.unreadable)}
${coverageHtmlSection(page.coverage)}
</main>
<footer>Generated by ${htmlText(page.tool)} from the snapshot in this evidence package. Open offline; this page loads nothing from the network.</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
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

/** One row of the results table; `title` is the change request's, for a change-request result. */
export function reportHtmlRow(result: Result, title: string | undefined): string {
  const subject =
    `${htmlText(result.subject.kind)} ${link(result.subject.url, `<code>${htmlText(result.subject.id)}</code>`)}` +
    (title !== undefined ? `<span class="subject-title">${htmlText(title)}</span>` : "");
  const exception = result.exception
    ? `<div class="exception">Excepted: ${htmlText(result.exception.reason)}; approved by ${htmlText(result.exception.approvedBy)}, expires ${htmlText(result.exception.expires)} (${htmlText(result.exception.source)})</div>`
    : "";
  const evidence = result.evidence.length
    ? `<ul class="evidence">${result.evidence
        .map(
          (item) =>
            `<li>${htmlText(item.label)}: ${link(item.url, htmlText(item.value))}${item.at ? ` (${htmlText(item.at)})` : ""}</li>`,
        )
        .join("")}</ul>`
    : "";
  return (
    `<tr data-outcome="${htmlText(result.outcome)}" data-control="${htmlText(result.control)}">` +
    `<td><span class="badge ${htmlText(result.outcome)}">${htmlText(OUTCOME_LABEL[result.outcome] ?? result.outcome)}</span></td>` +
    `<td class="control"><code>${htmlText(result.control)}</code><br>${htmlText(result.criterion)}</td>` +
    `<td>${subject}</td><td>${htmlText(result.reason)}${exception}</td><td>${evidence}</td></tr>`
  );
}

/** A link only for http(s) URLs from the facts: a javascript: or data: URL stays plain text. */
function link(url: string | undefined, inner: string): string {
  if (!url || !/^https?:\/\//i.test(url)) return inner;
  return `<a href="${htmlText(url)}" rel="noopener noreferrer" target="_blank">${inner}</a>`;
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
