import { describe, expect, it } from "vitest";
import { renderReportHtml } from "../../src/reporters/files/report-html.js";
import { mergesPerMonth } from "../../src/reporters/files/report-html-chart.js";
import { renderResultsJson } from "../../src/reporters/files/results-json.js";
import { renderSummaryMarkdown } from "../../src/reporters/files/summary-md.js";
import { markdownCode } from "../../src/text/escape.js";
import { createHash } from "node:crypto";
import { SCRIPT_TITLE, XSS_TITLE, auditReport, auditSnapshot } from "./files-report-fixture.js";
import { reportHtmlData, reportHtmlDataText, reportHtmlMarkup } from "./report-html-data.js";

const snapshot = auditSnapshot();
const report = auditReport(snapshot);

describe("summary.md", () => {
  const summary = renderSummaryMarkdown(report, snapshot);

  it("names every failing and unknown subject under its control", () => {
    const named = report.results.filter((r) => r.outcome === "fail" || r.outcome === "unknown");
    expect(named.length).toBeGreaterThan(5);
    for (const r of named) expect(summary).toContain(markdownCode(r.subject.id));
    expect(summary).toContain("## Failing: 7");
    expect(summary).toContain("## Unknown (could not be decided): 1");
  });

  it("has the header facts, the control table, exceptions and unreadable facts", () => {
    expect(summary).toContain("- Period: `2026-08-01T00:00:00Z` to `2026-11-01T00:00:00Z`");
    expect(summary).toContain("| `cc8.no-bypass` | CC8\\.1 | No bypass of protection | 3 | 1 | 1 | 0 | 1 |");
    expect(summary).toContain(
      "- `cc8.no-direct-push` direct\\-push `acme/api@eeeeeeeeeeee`: Emergency revert, reviewed after the fact; " +
        "approved by `ciso`, expires `2026-12-31`",
    );
    expect(summary).toContain("- `acme/legacy`: collaborators, needs `administration:read`");
    expect(summary.endsWith(")\n")).toBe(true);
  });

  it("escapes hostile titles carried in reasons", () => {
    expect(summary).not.toContain("<img");
    expect(summary).not.toContain("<script>");
    expect(summary).toContain("&lt;img src=x onerror=alert(1)&gt;".replace(/[()=]/g, (c) => `\\${c}`));
  });
});

describe("results.json", () => {
  it("is pretty, ends with a newline and is byte-stable whatever the key order", () => {
    const text = renderResultsJson(report);
    expect(renderResultsJson(reverseKeys(report))).toBe(text);
    expect(text.endsWith("}\n")).toBe(true);
    expect(text.split("\n")[1]).toBe('  "evaluatedAt": "2026-11-01T00:00:00.000Z",');
    expect(JSON.parse(text)).toEqual(report);
  });
});

describe("report.html", () => {
  const html = renderReportHtml(snapshot, report);

  it("shows a hostile title only escaped", () => {
    expect(html).not.toContain(XSS_TITLE);
    expect(html).not.toContain("<img");
    // data, not markup: "<" is a \u escape in the JSON and the script sets it as text
    expect(reportHtmlDataText(html)).toContain("\\u003cimg src=x onerror=alert(1)\\u003e");
    expect(reportHtmlData(html).map((row) => row.title)).toContain(XSS_TITLE);
  });

  it("cannot be broken out of by a title closing the script tag", () => {
    expect(html).not.toContain(SCRIPT_TITLE);
    // the data block and the page's one script
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html.match(/<script type="application\/json" id="results-data">/g)).toHaveLength(1);
    expect(html.match(/<\/script>/g)).toHaveLength(2);
    expect(reportHtmlData(html).map((row) => row.title)).toContain(SCRIPT_TITLE);
  });

  it("loads nothing: its only http(s) URLs are links to the code host from the facts", () => {
    const rows = reportHtmlData(html);
    const links = rows.flatMap((row) => [row.url, ...row.evidence.map((item) => item[2])]);
    const kept = links.filter((url): url is string => url !== null);
    expect(kept.length).toBeGreaterThan(0);
    expect(new Set(kept.map((url) => new URL(url).host))).toEqual(new Set(["github.com"]));
    // the markup itself links nothing; its one URL is the API base URL, shown as text
    const markup = reportHtmlMarkup(html);
    expect(markup).not.toMatch(/ href=/);
    expect(new Set([...markup.matchAll(/https?:[^\s"'<>&]+/g)].map((m) => m[0]))).toEqual(
      new Set(["https://api.github.com"]),
    );
    // a PR title's URL stays text in the data
    expect(rows.some((row) => row.title?.includes("https://evil.example/x"))).toBe(true);
    expect(html).not.toMatch(/<(link|img|iframe|object|embed)\b/);
    expect(html).not.toMatch(/<[a-z][^>]*\ssrc=/i);
    expect(html).not.toContain("javascript:alert");
  });

  it("allows its inline script and style by hash in a strict Content-Security-Policy", () => {
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? "";
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1] ?? "";
    const style = /<style>([\s\S]*)<\/style>/.exec(html)?.[1] ?? "";
    const hash = (text: string): string => createHash("sha256").update(text).digest("base64");
    expect(csp).toContain("default-src &#39;none&#39;");
    expect(csp).toContain(`script-src &#39;sha256-${hash(script)}&#39;`);
    expect(csp).toContain(`style-src &#39;sha256-${hash(style)}&#39;`);
    expect(csp).not.toContain("unsafe-inline");
  });

  it("has one data row per result and the header facts", () => {
    const rows = reportHtmlData(html);
    expect(rows).toHaveLength(report.results.length);
    expect(rows.some((row) => row.outcome === "excepted" && row.control === "cc8.no-direct-push")).toBe(true);
    expect(html).toContain('<select id="filter-outcome"');
    expect(html).toContain(report.policy.hash);
    expect(html).toContain("<h1>SOC 2 evidence: acme</h1>");
  });
});

describe("the monthly chart", () => {
  it("counts production merges per month over the period, failing ones apart", () => {
    expect(mergesPerMonth(snapshot, report)).toEqual([
      { month: "2026-08", ok: 0, unknown: 0, fail: 0 },
      { month: "2026-09", ok: 0, unknown: 0, fail: 1 },
      { month: "2026-10", ok: 1, unknown: 1, fail: 1 },
    ]);
  });
});

/** The same value with every object's keys in reverse order. */
function reverseKeys<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_key, item: unknown) =>
      item !== null && typeof item === "object" && !Array.isArray(item)
        ? Object.fromEntries(Object.entries(item).reverse())
        : item,
    ),
  ) as T;
}
