import { describe, expect, it } from "vitest";
import { populationStatement, renderReportHtml } from "../../src/reporters/files/report-html.js";
import { scriptJson } from "../../src/reporters/files/report-html-script.js";
import { auditReport, auditSnapshot } from "./files-report-fixture.js";
import { reportHtmlData, reportHtmlDataText } from "./report-html-data.js";

const totals = (pass: number, fail: number, unknown = 0, excepted = 0, na = 0) => ({
  pass,
  fail,
  unknown,
  excepted,
  "not-applicable": na,
});

describe("report.html per-control statement", () => {
  it("states the population, deviations and their rate as an auditor samples them", () => {
    expect(populationStatement({ id: "cc8.independent-approval", totals: totals(335, 25) })).toBe(
      "360 changes, 25 deviations (6.9%)",
    );
    // n/a is outside the population; unknown and excepted are in it and named
    expect(populationStatement({ id: "cc8.required-checks", totals: totals(291, 39, 30, 0, 12) })).toBe(
      "360 changes, 39 deviations (10.8%), 30 unknown",
    );
    expect(populationStatement({ id: "cc8.no-direct-push", totals: totals(0, 2, 0, 1) })).toBe(
      "3 direct pushes, 2 deviations (66.7%), 1 excepted",
    );
    expect(populationStatement({ id: "cc8.branch-protection", totals: totals(1, 0) })).toBe(
      "1 repository, 0 deviations (0.0%)",
    );
    expect(populationStatement({ id: "cc6.org-2fa-required", totals: totals(0, 0, 0, 0, 1) })).toBe(
      "0 subjects, 0 deviations",
    );
  });
});

describe("report.html header", () => {
  it("names the tool's version, who collected with what permissions, and the snapshot's hash", () => {
    const snapshot = auditSnapshot();
    const sha = "ab".repeat(32);
    const html = renderReportHtml(snapshot, auditReport(), { snapshotSha256: sha });
    const header = html.slice(html.indexOf("<header>"), html.indexOf("</header>"));
    expect(header).toContain(
      `<dt>Tool</dt><dd>${snapshot.collector.tool} ${snapshot.collector.version}</dd>`,
    );
    expect(header).toContain(`<code>${sha}</code>`);
    expect(header).toContain("SHA-256 of snapshot.json");
    expect(header).toContain("manifest.json lists every file");
    expect(header).toContain(`by <code>${snapshot.collector.actor}</code>`);
  });

  it("says why the collector is unknown instead of a bare 'unknown'", () => {
    const snapshot = auditSnapshot();
    const unknown = { ...snapshot, collector: { ...snapshot.collector, actor: "unknown", permissions: {} } };
    const report = auditReport();
    const html = renderReportHtml(unknown, { ...report, snapshot: { ...report.snapshot, actor: "unknown" } });
    expect(html).toContain(
      'by unknown <span class="note">(the code host did not say who the credentials belong to',
    );
    // no snapshot hash given: no hash row claimed
    expect(html).not.toContain("<dt>Snapshot</dt>");
  });
});

describe("report.html data block", () => {
  it("keeps every string exactly while no '<', '>', '&' or line separator appears raw", () => {
    const text = "</script><!-- & \u2028 \u2029 end";
    const json = scriptJson([text]);
    expect(json).not.toMatch(/[<>&\u2028\u2029]/);
    expect(JSON.parse(json)).toEqual([text]);
  });

  it("shows bidirectional controls as text, as htmlText does", () => {
    expect(JSON.parse(scriptJson(["main\u202Eevil"]))).toEqual(["main‹U+202E›evil"]);
  });

  it("holds one line per result with its evidence, and no link that is not http(s)", () => {
    const report = auditReport();
    const html = renderReportHtml(auditSnapshot(), report);
    const rows = reportHtmlData(html);
    expect(rows.map((row) => [row.control, row.id, row.outcome])).toEqual(
      report.results.map((r) => [r.control, r.subject.id, r.outcome]),
    );
    expect(rows.map((row) => row.evidence.length)).toEqual(report.results.map((r) => r.evidence.length));
    const urls = rows.flatMap((row) => [row.url, ...row.evidence.map((item) => item[2])]);
    expect(urls.every((url) => url === null || /^https?:\/\//.test(url))).toBe(true);
    expect(reportHtmlDataText(html)).not.toContain("javascript:");
  });
});
