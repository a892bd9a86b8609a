/**
 * The inline style and script of report.html. The results are not HTML: they are one compact JSON
 * array a line in a `<script type="application/json">` block (data, never run), which the script
 * groups into one block per subject (a change with every control's result and evidence), sorts,
 * filters and renders a page at a time with createElement and textContent only. 100,000 changes
 * then cost a JSON.parse instead of millions of DOM nodes, and no string from the data is ever
 * parsed as HTML. The script is allowed by its SHA-256 in the page's Content-Security-Policy.
 */
import { visibleBidi } from "../../text/escape.js";

/** Rows the print list of deviations holds at most; the page says how many more results.csv has. */
export const REPORT_HTML_PRINT_CAP = 400;

/** Subjects (changes, repositories, members) shown a page at a time on screen. */
export const REPORT_HTML_PAGE_SIZE = 50;

export const REPORT_STYLE = `
:root { --fail: #c62828; --unknown: #ef8f00; --pass: #2e7d32; --excepted: #6a4fb3; --na: #78909c; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2327; background: #f6f7f9; }
header { background: #1d2b3a; color: #fff; padding: 20px 32px; }
header h1 { margin: 0 0 8px; font-size: 22px; }
header dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
header dt { color: #a9bacb; }
header dd { margin: 0; overflow-wrap: anywhere; }
header .note { color: #c9d5e0; font-size: 12px; }
main { padding: 8px 32px 32px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 16px 20px; margin-top: 20px; }
h2 { font-size: 17px; margin: 0 0 12px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e8ebee; vertical-align: top; }
th { background: #f1f3f5; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: #b0b7bf; }
td.fail-count:not(.zero) { color: var(--fail); font-weight: 600; }
td.unknown-count:not(.zero) { color: var(--unknown); font-weight: 600; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; white-space: nowrap; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); }
.badge.unknown { background: var(--unknown); } .badge.excepted { background: var(--excepted); }
.badge.not-applicable { background: var(--na); }
.filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; padding: 8px 0; margin-bottom: 8px; position: sticky; top: 0; background: #fff; z-index: 1; border-bottom: 1px solid #e8ebee; }
.filters input { flex: 1 1 240px; padding: 6px 8px; border: 1px solid #c3c9d0; border-radius: 4px; }
.filters select, .filters button { padding: 6px; border: 1px solid #c3c9d0; border-radius: 4px; background: #fff; }
#filter-count, #page-info { color: #5b6670; }
p.omitted { background: #fff8e1; border: 1px solid #f0d58c; border-radius: 4px; padding: 8px 12px; }
article.subject { border: 1px solid #dde1e6; border-left: 4px solid var(--na); border-radius: 4px; margin: 10px 0; padding: 8px 12px; }
article.subject.fail { border-left-color: var(--fail); } article.subject.unknown { border-left-color: var(--unknown); }
article.subject.excepted { border-left-color: var(--excepted); } article.subject.pass { border-left-color: var(--pass); }
article.subject h3 { font-size: 14px; margin: 0 0 6px; font-weight: 600; overflow-wrap: anywhere; }
article.subject h3 .kind, article.subject h3 .when { color: #5b6670; font-weight: 400; }
article.subject .title { display: block; font-weight: 400; color: #39424b; }
article.subject td { overflow-wrap: anywhere; font-size: 13px; }
article.subject table { table-layout: fixed; }
article.subject td:first-child { width: 90px; } article.subject td:nth-child(2) { width: 210px; } article.subject td:nth-child(4) { width: 32%; }
ul.evidence { margin: 4px 0 0; padding-left: 16px; font-size: 12px; color: #39424b; }
.exception { font-size: 12px; color: var(--excepted); }
.remediation { font-size: 12px; color: #5b6670; }
svg text { font: 11px system-ui, sans-serif; fill: #39424b; }
svg .bar-ok { fill: var(--pass); } svg .bar-fail { fill: var(--fail); } svg .bar-unknown { fill: var(--unknown); }
svg .axis { stroke: #9aa4ae; stroke-width: 1; } svg .grid { stroke: #e8ebee; stroke-width: 1; }
article.access-review { border: 1px solid #dde1e6; border-radius: 4px; margin: 10px 0; padding: 8px 12px; }
article.access-review h3 { font-size: 14px; margin: 0 0 6px; overflow-wrap: anywhere; }
article.access-review dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0 0 6px; }
article.access-review dt { color: #5b6670; } article.access-review dd { margin: 0; overflow-wrap: anywhere; }
article.access-review .note { color: #5b6670; font-size: 12px; }
table.revocations td { overflow-wrap: anywhere; font-size: 13px; }
tr.verification-fail td:nth-child(6), tr.verification-unknown td:nth-child(6), .review-problem, ul.review-problems { color: var(--fail); }
tr.verification-pass td:nth-child(6) { color: var(--pass); font-weight: 600; }
footer { color: #5b6670; font-size: 12px; padding: 0 32px 24px; }
.print-only { display: none; }
@media print {
  @page { margin: 14mm 12mm; }
  body { background: #fff; font-size: 10pt; }
  header { background: none; color: #000; padding: 0 0 8px; border-bottom: 2px solid #000; }
  header dt { color: #444; } header .note { color: #444; }
  main { padding: 0; } footer { padding: 8px 0 0; }
  section { border: none; border-radius: 0; padding: 0; margin-top: 14px; }
  th { position: static; }
  th, td { padding: 1px 4px; font-size: 8pt; line-height: 1.25; }
  #print-deviations td:nth-child(3) { width: 24%; } #print-deviations .title { display: none; }
  #print-deviations td:nth-child(2) { width: 17%; } #print-deviations td:first-child { width: 8%; }
  p { font-size: 9pt; }
  .badge { color: #000; background: none !important; border: 1px solid #000; padding: 0 4px; }
  .screen-only, .filters, #pager, #subjects { display: none !important; }
  .print-only { display: block; }
  tr { break-inside: avoid; }
  h2 { break-after: avoid; }
  article.access-review { border: none; border-top: 1px solid #000; border-radius: 0; padding: 4px 0 0; break-inside: avoid; }
  article.access-review h3 { font-size: 10pt; break-after: avoid; }
  article.access-review dd, article.access-review dt { font-size: 9pt; }
  tr.verification-fail td:nth-child(6), tr.verification-unknown td:nth-child(6), tr.verification-pass td:nth-child(6) { color: #000; font-weight: 600; }
}
`;

/** The page's only script: reads the JSON rows, renders the lists; nothing is fetched or evaluated. */
export const REPORT_SCRIPT = `(function () {
  "use strict";
  var SEVERITY = ["fail", "unknown", "excepted", "pass", "not-applicable"];
  var LABEL = { pass: "pass", fail: "fail", unknown: "unknown", excepted: "excepted", "not-applicable": "n/a" };
  var PAGE = ${REPORT_HTML_PAGE_SIZE};
  var PRINT_CAP = ${REPORT_HTML_PRINT_CAP};
  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function linked(url, node) {
    if (!url || !/^https?:\\/\\//i.test(url)) return node;
    var a = el("a");
    a.href = url; a.rel = "noopener noreferrer"; a.target = "_blank";
    a.appendChild(node);
    return a;
  }
  var raw = $("results-data").textContent.trim();
  // one row a line: [outcome, control, kind, id, url, title, reason, exception, evidence, repository, remediation]
  var rows = raw ? JSON.parse("[" + raw.split("\\n").join(",") + "]") : [];
  var controlOrder = {};
  Array.prototype.forEach.call($("filter-control").options, function (o, i) { if (o.value) controlOrder[o.value] = i; });
  var blocks = [];
  var byId = new Map();
  rows.forEach(function (r) {
    var key = r[2] + " " + r[3];
    var b = byId.get(key);
    if (!b) {
      b = { kind: r[2], id: r[3], url: r[4], title: r[5], repo: r[9] || r[3], results: [], worst: 9, first: 999, time: "", text: null, order: blocks.length };
      byId.set(key, b);
      blocks.push(b);
    }
    if (!b.url && r[4]) b.url = r[4];
    if (b.title === null && r[5] !== null) b.title = r[5];
    b.results.push(r);
    var s = SEVERITY.indexOf(r[0]);
    if (s < b.worst) b.worst = s;
    var c = controlOrder[r[1]];
    if (c !== undefined && c < b.first && s < 3) b.first = c;
    r[8].forEach(function (e) { if (e[3] && e[3] > b.time) b.time = e[3]; });
  });
  blocks.forEach(function (b) { if (b.first === 999) b.first = 500 + (controlOrder[b.results[0][1]] || 0); });
  var compare = new Intl.Collator("en", { numeric: true }).compare;
  var sorters = {
    outcome: function (a, b) { return a.worst - b.worst || compare(a.id, b.id); },
    repository: function (a, b) { return compare(a.repo, b.repo) || compare(a.id, b.id); },
    time: function (a, b) { return a.time < b.time ? 1 : a.time > b.time ? -1 : compare(a.id, b.id); },
    control: function (a, b) { return a.first - b.first || a.worst - b.worst || compare(a.id, b.id); }
  };
  function textOf(b) {
    if (b.text === null) {
      var parts = [b.kind, b.id, b.title || ""];
      b.results.forEach(function (r) {
        parts.push(r[1], r[6]);
        if (r[7]) parts.push(r[7][0], r[7][1]);
        r[8].forEach(function (e) { parts.push(e[0], e[1]); });
      });
      b.text = parts.join("\\n").toLowerCase();
    }
    return b.text;
  }
  var text = $("filter-text"), outcome = $("filter-outcome"), control = $("filter-control"), sort = $("sort");
  var count = $("filter-count"), list = $("subjects"), info = $("page-info"), prev = $("page-prev"), next = $("page-next");
  var shown = blocks, page = 0, sortedBy = "", sorted = blocks;
  function matches(b, needle) {
    if (outcome.value || control.value) {
      var hit = b.results.some(function (r) {
        return (!outcome.value || r[0] === outcome.value) && (!control.value || r[1] === control.value);
      });
      if (!hit) return false;
    }
    return !needle || textOf(b).indexOf(needle) !== -1;
  }
  function renderBlock(b) {
    var art = el("article", "subject " + SEVERITY[b.worst]);
    var h = el("h3");
    h.appendChild(el("span", "badge " + SEVERITY[b.worst], LABEL[SEVERITY[b.worst]]));
    h.appendChild(document.createTextNode(" "));
    h.appendChild(el("span", "kind", b.kind + " "));
    h.appendChild(linked(b.url, el("code", null, b.id)));
    if (b.time) h.appendChild(el("span", "when", " · " + b.time));
    if (b.title !== null) h.appendChild(el("span", "title", b.title));
    art.appendChild(h);
    var table = el("table"), body = el("tbody");
    b.results.forEach(function (r) {
      var tr = el("tr");
      tr.setAttribute("data-outcome", r[0]);
      tr.setAttribute("data-control", r[1]);
      var td = el("td"); td.appendChild(el("span", "badge " + r[0], LABEL[r[0]] || r[0])); tr.appendChild(td);
      td = el("td"); td.appendChild(el("code", null, r[1])); tr.appendChild(td);
      td = el("td", null, r[6]);
      if (r[7]) td.appendChild(el("div", "exception", "Excepted: " + r[7][0] + "; approved by " + r[7][1] + ", expires " + r[7][2] + " (" + r[7][3] + ")"));
      if (r[10]) td.appendChild(el("div", "remediation", "To pass: " + r[10]));
      tr.appendChild(td);
      td = el("td");
      if (r[8].length) {
        var ul = el("ul", "evidence");
        r[8].forEach(function (e) {
          var li = el("li", null, e[0] + ": ");
          li.appendChild(linked(e[2], document.createTextNode(e[1])));
          if (e[3]) li.appendChild(document.createTextNode(" (" + e[3] + ")"));
          ul.appendChild(li);
        });
        td.appendChild(ul);
      }
      tr.appendChild(td);
      body.appendChild(tr);
    });
    table.appendChild(body);
    art.appendChild(table);
    return art;
  }
  function renderPage() {
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    if (page >= pages) page = pages - 1;
    var frag = document.createDocumentFragment();
    shown.slice(page * PAGE, page * PAGE + PAGE).forEach(function (b) { frag.appendChild(renderBlock(b)); });
    list.textContent = "";
    list.appendChild(frag);
    info.textContent = "page " + (page + 1) + " of " + pages;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }
  function apply() {
    if (sortedBy !== sort.value) {
      sorted = blocks.slice().sort(sorters[sort.value] || sorters.outcome);
      sortedBy = sort.value;
    }
    var needle = text.value.trim().toLowerCase();
    shown = needle || outcome.value || control.value ? sorted.filter(function (b) { return matches(b, needle); }) : sorted;
    page = 0;
    count.textContent = shown.length + " of " + blocks.length + " subjects (" + rows.length + " results)";
    renderPage();
  }
  function renderExceptions() {
    var seen = new Map();
    rows.forEach(function (r) {
      if (!r[7]) return;
      var key = JSON.stringify(r[7]);
      var e = seen.get(key);
      if (!e) { e = { x: r[7], n: 0, controls: [] }; seen.set(key, e); }
      if (r[0] === "excepted") e.n += 1;
      if (e.controls.indexOf(r[1]) === -1) e.controls.push(r[1]);
    });
    var body = $("exceptions-body");
    if (seen.size === 0) { $("exceptions-none").hidden = false; $("exceptions-table").hidden = true; return; }
    seen.forEach(function (e) {
      var tr = el("tr");
      tr.appendChild(el("td", null, e.x[0]));
      tr.appendChild(el("td", null, e.x[1]));
      tr.appendChild(el("td", null, e.x[2]));
      var td = el("td"); td.appendChild(el("code", null, e.x[3])); tr.appendChild(td);
      tr.appendChild(el("td", null, e.controls.join(", ")));
      tr.appendChild(el("td", "num", e.n));
      body.appendChild(tr);
    });
  }
  function renderPrintList() {
    var deviations = rows.filter(function (r) { return SEVERITY.indexOf(r[0]) < 3; });
    deviations.sort(function (a, b) {
      return (controlOrder[a[1]] || 0) - (controlOrder[b[1]] || 0) || SEVERITY.indexOf(a[0]) - SEVERITY.indexOf(b[0]) || compare(a[3], b[3]);
    });
    var body = $("print-body");
    deviations.slice(0, PRINT_CAP).forEach(function (r) {
      var tr = el("tr");
      var td = el("td"); td.appendChild(el("span", "badge " + r[0], LABEL[r[0]])); tr.appendChild(td);
      td = el("td"); td.appendChild(el("code", null, r[1])); tr.appendChild(td);
      td = el("td"); td.appendChild(el("code", null, r[3]));
      tr.appendChild(td);
      td = el("td", null, r[6]);
      if (r[7]) td.appendChild(el("div", "exception", "Excepted: " + r[7][0] + "; approved by " + r[7][1] + ", expires " + r[7][2]));
      tr.appendChild(td);
      body.appendChild(tr);
    });
    $("print-note").textContent = deviations.length > PRINT_CAP
      ? "This paper copy lists the first " + PRINT_CAP + " of " + deviations.length + " fail, unknown and excepted results; results.csv in this evidence package holds all of them with their evidence."
      : "Every fail, unknown and excepted result (" + deviations.length + ") is listed; passing results are counted in the summary above, and results.csv holds each one with its evidence.";
  }
  text.addEventListener("input", apply);
  outcome.addEventListener("change", apply);
  control.addEventListener("change", apply);
  sort.addEventListener("change", apply);
  prev.addEventListener("click", function () { page -= 1; renderPage(); });
  next.addEventListener("click", function () { page += 1; renderPage(); });
  renderExceptions();
  renderPrintList();
  apply();
  document.documentElement.setAttribute("data-ready", "true");
})();`;

/**
 * A value as JSON that is safe between <script type="application/json"> and </script>: "<", ">" and
 * "&" are \\u escapes (no "</script>" or "<!--" can appear), U+2028/2029 too, and bidi controls are
 * shown as text (‹U+202E›), never obeyed, as htmlText shows them.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === "string" ? visibleBidi(item) : item,
  ).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
