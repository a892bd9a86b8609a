import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONTROLS } from "../../src/controls/index.js";
import { evaluate } from "../../src/engine/evaluate.js";
import { loadPolicy } from "../../src/policy/index.js";
import { writeEvidencePackage } from "../../src/reporters/files/index.js";
import { renderPopulationCsv } from "../../src/reporters/files/population-csv.js";
import { renderResultsJson } from "../../src/reporters/files/results-json.js";
import { renderSummaryMarkdown } from "../../src/reporters/files/summary-md.js";
import { markdownCode } from "../../src/text/escape.js";
import { AT } from "../fixtures/build.js";
import { auditReport, auditSnapshot, csvRecords } from "./files-report-fixture.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "soc2-evidence-"));
  dirs.push(dir);
  return dir;
}

describe("writeEvidencePackage", () => {
  it("writes every file and a manifest whose hashes match what is on disk", async () => {
    const snapshot = auditSnapshot();
    const report = auditReport(snapshot);
    const out = join(await tempDir(), "evidence");
    const paths = await writeEvidencePackage(out, snapshot, report, { toolVersion: "1.2.3" });

    const names = paths.map((path) => basename(path));
    expect(names).toEqual([
      "population.csv",
      "direct-pushes.csv",
      "access.csv",
      "access-reviews.csv",
      "results.json",
      "results.csv",
      "snapshot.json",
      "summary.md",
      "coverage.md",
      "report.html",
      "results.sarif",
      "assessment-results.oscal.json",
      "manifest.json",
    ]);
    expect((await readdir(out)).sort()).toEqual([...names].sort());

    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as {
      toolVersion: string;
      policy: { hash: string };
      files: { name: string; sha256: string; bytes: number }[];
    };
    expect(manifest.toolVersion).toBe("1.2.3");
    expect(manifest.policy.hash).toBe(report.policy.hash);
    const recomputed = await Promise.all(
      names
        .filter((name) => name !== "manifest.json")
        .sort()
        .map(async (name) => {
          const bytes = await readFile(join(out, name));
          return { name, sha256: createHash("sha256").update(bytes).digest("hex"), bytes: bytes.length };
        }),
    );
    expect(manifest.files).toEqual(recomputed);

    // the streamed population is the same text as the rendered one
    expect(await readFile(join(out, "population.csv"), "utf8")).toBe(renderPopulationCsv(snapshot, report));
    expect(await readFile(join(out, "results.json"), "utf8")).toBe(renderResultsJson(report));
    expect(JSON.parse(await readFile(join(out, "snapshot.json"), "utf8"))).toEqual(snapshot);
  });
});

describe("with the engine's report", () => {
  it("renders the population and summary from a real evaluation", () => {
    const snapshot = auditSnapshot();
    const report = evaluate(snapshot, loadPolicy([], CONTROLS), AT);
    const population = csvRecords(renderPopulationCsv(snapshot, report));
    // #16 is open and #17 went to a feature branch: neither is a production merge
    expect(population.map((row) => row.number)).toEqual(["12", "13", "14", "15"]);
    expect(population.find((row) => row.number === "12")).toMatchObject({
      "cc8.independent-approval": "pass",
      "cc8.approval-covers-final-code": "pass",
      "cc8.no-bypass": "pass",
    });
    expect(population.find((row) => row.number === "14")?.["cc8.no-bypass"]).toBe("fail");

    const summary = renderSummaryMarkdown(report, snapshot);
    const failing = report.results.filter((result) => result.outcome === "fail");
    expect(failing.length).toBeGreaterThan(0);
    for (const result of failing) expect(summary).toContain(markdownCode(result.subject.id));
    expect(renderResultsJson(evaluate(snapshot, loadPolicy([], CONTROLS), AT))).toBe(
      renderResultsJson(report),
    );
  });
});
