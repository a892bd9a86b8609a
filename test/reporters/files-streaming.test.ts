import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Outcome } from "../../src/controls/types.js";
import { evaluate } from "../../src/engine/evaluate.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import {
  jsonChunks,
  renderReportHtml,
  renderResultsCsv,
  renderResultsJson,
  resultsCsvRows,
  resultsJsonChunks,
  sha256File,
  snapshotJsonChunks,
  tableResults,
  writeChunks,
  writeEvidencePackage,
} from "../../src/reporters/files/index.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";
import { makeSnapshot } from "../fixtures/build.js";
import { XSS_TITLE, auditReport, auditSnapshot } from "./files-report-fixture.js";
import { reportHtmlData } from "./report-html-data.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "soc2-stream-"));
  dirs.push(dir);
  return dir;
}

/** A real evaluation of the seeded sample: hundreds of results of every outcome. */
function sampleAudit(repositories: number, pullRequestsPerRepository: number) {
  const { snapshot, at } = generateSampleOrganization({ repositories, pullRequestsPerRepository });
  return { snapshot, report: evaluate(snapshot, policySetFor(snapshot), at) };
}

const join_ = (chunks: Iterable<string>): string => [...chunks].join("");

describe("streamed JSON", () => {
  it("results.json streamed is byte for byte the rendered one", () => {
    const report = auditReport();
    expect(join_(resultsJsonChunks(report))).toBe(renderResultsJson(report));
    const sample = sampleAudit(3, 15);
    expect(join_(resultsJsonChunks(sample.report))).toBe(renderResultsJson(sample.report));
  });

  it("results.json with no results is still the rendered text", () => {
    const report = { ...auditReport(), results: [], totals: {} };
    expect(join_(resultsJsonChunks(report))).toBe(renderResultsJson(report));
  });

  it("snapshot.json streamed is JSON.stringify's text and parses to an equal snapshot", () => {
    for (const snapshot of [auditSnapshot(), sampleAudit(2, 10).snapshot, makeSnapshot()]) {
      const text = join_(snapshotJsonChunks(snapshot));
      expect(text).toBe(`${JSON.stringify(snapshot, null, 2)}\n`);
      expect(JSON.parse(text)).toEqual(snapshot);
    }
  });

  it("writes one array element per piece and leaves out undefined members as JSON.stringify does", () => {
    const value = { b: [{ y: 1, x: "a\nb" }, { z: [1, 2] }], a: undefined, c: "</script>" };
    const chunks = [...jsonChunks(value, { sorted: true, streamed: ["b"] })];
    expect(chunks.filter((chunk) => chunk.includes('"x"') || chunk.includes('"z"'))).toHaveLength(2);
    expect(chunks.join("")).toBe(
      `${JSON.stringify({ b: [{ x: "a\nb", y: 1 }, { z: [1, 2] }], c: "</script>" }, null, 2)}\n`,
    );
    expect(jsonChunks({}, { sorted: false, streamed: [] }).next().value).toBe("{}\n");
  });
});

describe("results.csv rows", () => {
  it("the rows joined are the rendered CSV, one row per result after the header", () => {
    const { report } = sampleAudit(2, 10);
    const rows = [...resultsCsvRows(report)];
    expect(rows).toHaveLength(report.results.length + 1);
    expect(rows.join("")).toBe(renderResultsCsv(report));
  });
});

describe("writeEvidencePackage on a real evaluation", () => {
  it("streams files equal to the renderers' text", async () => {
    const { snapshot, report } = sampleAudit(4, 25);
    const out = join(await tempDir(), "evidence");
    await writeEvidencePackage(out, snapshot, report, { toolVersion: "test" });
    expect(await readFile(join(out, "results.json"), "utf8")).toBe(renderResultsJson(report));
    expect(await readFile(join(out, "results.csv"), "utf8")).toBe(renderResultsCsv(report));
    expect(await readFile(join(out, "snapshot.json"), "utf8")).toBe(`${JSON.stringify(snapshot, null, 2)}\n`);
    // the page's header names the snapshot.json beside it by its SHA-256
    const snapshotSha256 = (await sha256File(join(out, "snapshot.json"))).sha256;
    expect(await readFile(join(out, "report.html"), "utf8")).toBe(
      renderReportHtml(snapshot, report, { snapshotSha256 }),
    );
  });

  it("writeChunks keeps many small pieces in order across its batches", async () => {
    const path = join(await tempDir(), "rows.csv");
    const rows = Array.from({ length: 20_000 }, (_, i) => `row ${i},é\r\n`);
    await writeChunks(path, rows);
    expect(await readFile(path, "utf8")).toBe(rows.join(""));
  });
});

describe("report.html results table cap", () => {
  const { snapshot, report } = sampleAudit(6, 40);
  const count = (html: string, outcome: Outcome): number =>
    reportHtmlData(html).filter((row) => row.outcome === outcome).length;
  const total = (outcome: Outcome): number => report.results.filter((r) => r.outcome === outcome).length;

  it("keeps every fail, unknown and excepted result and caps pass and n/a rows", () => {
    const passing = total("pass") + total("not-applicable");
    expect(passing).toBeGreaterThan(200);
    expect(total("fail")).toBeGreaterThan(10);
    const html = renderReportHtml(snapshot, report, { passingRowCap: 60 });
    expect(count(html, "fail")).toBe(total("fail"));
    expect(count(html, "unknown")).toBe(total("unknown"));
    expect(count(html, "excepted")).toBe(total("excepted"));
    expect(count(html, "pass") + count(html, "not-applicable")).toBeLessThanOrEqual(60);
    expect(count(html, "pass") + count(html, "not-applicable")).toBeGreaterThan(50);
    const ids = new Set(reportHtmlData(html).map((row) => row.id));
    for (const result of report.results.filter((r) => r.outcome === "fail")) {
      expect(ids.has(result.subject.id)).toBe(true);
    }
  });

  it("says plainly how many rows were left out and where the complete population is", () => {
    const html = renderReportHtml(snapshot, report, { passingRowCap: 60 });
    const table = tableResults(report.results, 60);
    const passing = total("pass") + total("not-applicable");
    expect(html).toContain(
      `<strong>This table shows ${table.results.length} of ${report.results.length} results.</strong>`,
    );
    expect(html).toContain(
      `${passing - table.passingShown} of the ${passing} pass and n/a results are left out`,
    );
    expect(html).toContain(
      "results.csv and population.csv in this evidence package hold the complete population",
    );
    expect(html).toContain(`<span id="filter-count">${table.results.length} results</span>`);
  });

  it("keeps the totals and the monthly chart complete", () => {
    const capped = renderReportHtml(snapshot, report, { passingRowCap: 10 });
    const full = renderReportHtml(snapshot, report, { passingRowCap: Infinity });
    const section = (html: string, from: string, to: string): string =>
      html.slice(html.indexOf(from), html.indexOf(to, html.indexOf(from)));
    expect(section(capped, '<table class="totals">', "</table>")).toBe(
      section(full, '<table class="totals">', "</table>"),
    );
    expect(section(capped, "<svg", "</svg>")).toBe(section(full, "<svg", "</svg>"));
    expect(full).not.toContain('id="omitted-note"');
    expect(count(full, "pass")).toBe(total("pass"));
  });

  it("shares the cap fairly between controls", () => {
    const table = tableResults(report.results, 60);
    const perControl = new Map<string, number>();
    for (const r of table.results) {
      if (r.outcome === "pass" || r.outcome === "not-applicable") {
        perControl.set(r.control, (perControl.get(r.control) ?? 0) + 1);
      }
    }
    const withPassing = new Set(
      report.results
        .filter((r) => r.outcome === "pass" || r.outcome === "not-applicable")
        .map((r) => r.control),
    );
    // a control with many passing results does not crowd out the others
    expect([...perControl.keys()].sort()).toEqual([...withPassing].sort());
    expect(table.passingShown).toBe([...perControl.values()].reduce((a, b) => a + b, 0));
  });

  it("below the cap shows every result and no note; hostile titles stay escaped", () => {
    const small = auditReport();
    const html = renderReportHtml(auditSnapshot(), small);
    expect(reportHtmlData(html)).toHaveLength(small.results.length);
    expect(html).not.toContain('id="omitted-note"');
    expect(html).not.toContain(XSS_TITLE);
    expect(reportHtmlData(html).map((row) => row.title)).toContain(XSS_TITLE);
  });
});
