import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  evaluate,
  evaluateOrganization,
  evaluateRepository,
  reportHeader,
} from "../../src/engine/evaluate.js";
import type { Snapshot } from "../../src/model/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import * as manifest from "../../src/reporters/files/manifest.js";
import { OSCAL_FILE, OSCAL_SUBJECTS_PER_OBSERVATION } from "../../src/reporters/files/oscal.js";
import {
  EvidencePackageStream,
  PACKAGE_FILES,
  writeEvidencePackage,
} from "../../src/reporters/files/index.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";
import { reviewedSnapshot } from "./access-review-fixture.js";

const dirs: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "soc2-package-stream-"));
  dirs.push(dir);
  return dir;
}

/** One repository's facts, as an audit streamed a repository at a time evaluates and writes them. */
function repositoryView(snapshot: Snapshot, fullName: string): Snapshot {
  return {
    ...snapshot,
    repositories: snapshot.repositories.filter((r) => r.fullName === fullName),
    changeRequests: snapshot.changeRequests.filter((c) => c.repository === fullName),
    directPushes: snapshot.directPushes.filter((p) => p.repository === fullName),
    policyFiles: snapshot.policyFiles.filter((f) => f.repository === null || f.repository === fullName),
    ...(snapshot.asOfMerge
      ? {
          asOfMerge: {
            merges: snapshot.asOfMerge.merges.filter((m) => m.repository === fullName),
            policyTexts: snapshot.asOfMerge.policyTexts,
          },
        }
      : {}),
  };
}

/** Streams the snapshot's repositories in the given order, a few at once, as the audit does. */
async function streamPackage(
  outDir: string,
  snapshot: Snapshot,
  at: Date,
  order: number[],
  options: { passingRowCap?: number } = {},
) {
  const policies = policySetFor(snapshot);
  const stream = await EvidencePackageStream.open(outDir, { ...options, findings: true });
  await Promise.all(
    [0, 1, 2].map(async (worker) => {
      for (let i = worker; i < order.length; i += 3) {
        const index = order[i]!;
        const view = repositoryView(snapshot, snapshot.repositories[index]!.fullName);
        await stream.addRepository({
          index,
          snapshot: view,
          results: evaluateRepository(view, policies, at),
        });
      }
    }),
  );
  const { repositories, changeRequests, directPushes, policyFiles, asOfMerge, ...header } = snapshot;
  void repositories;
  void changeRequests;
  void directPushes;
  return stream.finish({
    snapshot: header,
    policyFiles,
    asOfMerge: asOfMerge !== undefined,
    report: reportHeader(snapshot, policies, at),
    organizationResults: evaluateOrganization(snapshot, policies, at),
    toolVersion: "test",
  });
}

async function filesOf(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) files.set(name, await readFile(join(dir, name), "utf8"));
  return files;
}

/** Backwards, so every repository arrives out of the snapshot's order. */
function reversed(n: number): number[] {
  return Array.from({ length: n }, (_, i) => n - 1 - i);
}

describe("evidence package streamed a repository at a time", () => {
  it("writes the access reviews (access-reviews.csv, report.html's section) as writeEvidencePackage does", async () => {
    const snapshot = reviewedSnapshot();
    const at = new Date(snapshot.collectedAt);
    const report = evaluate(snapshot, policySetFor(snapshot), at);
    const whole = join(await tempDir(), "whole");
    const streamed = join(await tempDir(), "streamed");
    await writeEvidencePackage(whole, snapshot, report, { toolVersion: "test" });
    await streamPackage(streamed, snapshot, at, [0]);
    const expected = await filesOf(whole);
    const actual = await filesOf(streamed);
    for (const [name, text] of expected) expect(actual.get(name), name).toBe(text);
    expect(actual.get("access-reviews.csv")).toMatch(
      /collaborator:mallory:write,.*,removed,2026-11-01T00:00:00Z\r\n/,
    );
    expect(actual.get("report.html")).toContain('<article class="access-review">');
  });

  it("writes the same bytes as writeEvidencePackage of the whole snapshot, in any arrival order", async () => {
    const { snapshot, at } = generateSampleOrganization({ repositories: 14, pullRequestsPerRepository: 12 });
    const report = evaluate(snapshot, policySetFor(snapshot), at);
    // the sample has every outcome, direct pushes and repository layers: the comparison covers them
    expect(report.results.some((r) => r.outcome === "fail")).toBe(true);
    expect(report.results.some((r) => r.outcome === "excepted")).toBe(true);
    expect(snapshot.directPushes.length).toBeGreaterThan(0);
    const whole = join(await tempDir(), "whole");
    const streamed = join(await tempDir(), "streamed");
    await writeEvidencePackage(whole, snapshot, report, { toolVersion: "test" });
    const written = await streamPackage(streamed, snapshot, at, reversed(snapshot.repositories.length));

    const expected = await filesOf(whole);
    const actual = await filesOf(streamed);
    expect([...actual.keys()]).toEqual([...expected.keys()]);
    for (const [name, text] of expected) expect(actual.get(name), name).toBe(text);
    expect(written.files.map((file) => file.slice(streamed.length + 1))).toEqual([...PACKAGE_FILES]);
    expect(written.totals).toEqual(report.totals);
    // a findings sync gets every result, in report order (passing ones without their evidence)
    expect(written.findings.map((r) => `${r.control} ${r.subject.id} ${r.outcome}`)).toEqual(
      report.results.map((r) => `${r.control} ${r.subject.id} ${r.outcome}`),
    );
  });

  it("keeps report.html's passing-row cap and the judged-as-of-merge entries identical", async () => {
    const { snapshot, at } = generateSampleOrganization({ repositories: 6, pullRequestsPerRepository: 20 });
    // merges judged as of the merge: the snapshot carries asOfMerge, written into snapshot.json
    const judged: Snapshot = {
      ...snapshot,
      asOfMerge: {
        merges: snapshot.changeRequests
          .filter((c) => c.mergedAt !== null)
          .map((c) => ({
            change: `${c.repository}#${c.number}`,
            repository: c.repository,
            branch: c.baseBranch,
            mergedAt: c.mergedAt!,
            observation: null,
            policy: null,
          })),
        policyTexts: {},
      },
    };
    const report = evaluate(judged, policySetFor(judged), at);
    const whole = join(await tempDir(), "whole");
    const streamed = join(await tempDir(), "streamed");
    const { renderReportHtml } = await import("../../src/reporters/files/report-html.js");
    await writeEvidencePackage(whole, judged, report, { toolVersion: "test" });
    await streamPackage(streamed, judged, at, [3, 0, 5, 1, 4, 2]);
    const expected = await filesOf(whole);
    const actual = await filesOf(streamed);
    for (const [name, text] of expected) expect(actual.get(name), name).toBe(text);
    expect(expected.get("snapshot.json")).toContain('"asOfMerge"');

    // with a small cap the table leaves passing rows out, spread across controls, as the whole render does
    const capped = join(await tempDir(), "capped");
    await streamPackage(capped, judged, at, [5, 4, 3, 2, 1, 0], { passingRowCap: 25 });
    const html = await readFile(join(capped, "report.html"), "utf8");
    // the page may name the package's snapshot.json by its hash, as the package writers do
    const named: Record<string, unknown> = {
      snapshotSha256: (await manifest.sha256File(join(capped, "snapshot.json"))).sha256,
    };
    expect(html).toBe(renderReportHtml(judged, report, { passingRowCap: 25, ...named }));
    expect(html).toContain('id="omitted-note"');
  });

  it("lists past the OSCAL document's named subjects from spools, as writeEvidencePackage does", async () => {
    // enough merges that one control fails more often than an OSCAL observation names subjects: the
    // streamed writer keeps only the named ones and counts the rest, and reads summary.md's back
    const { snapshot, at } = generateSampleOrganization({ repositories: 50, pullRequestsPerRepository: 220 });
    const report = evaluate(snapshot, policySetFor(snapshot), at);
    const failing = new Map<string, number>();
    for (const result of report.results) {
      if (result.outcome === "fail" || result.outcome === "unknown")
        failing.set(result.control, (failing.get(result.control) ?? 0) + 1);
    }
    expect(Math.max(...failing.values())).toBeGreaterThan(OSCAL_SUBJECTS_PER_OBSERVATION);
    const whole = join(await tempDir(), "whole");
    const streamed = join(await tempDir(), "streamed");
    await writeEvidencePackage(whole, snapshot, report, { toolVersion: "test" });
    await streamPackage(streamed, snapshot, at, reversed(snapshot.repositories.length));
    for (const name of ["summary.md", "results.sarif", OSCAL_FILE, "manifest.json"]) {
      const expected = await readFile(join(whole, name), "utf8");
      expect(await readFile(join(streamed, name), "utf8"), name).toBe(expected);
    }
    const oscal = await readFile(join(streamed, OSCAL_FILE), "utf8");
    expect(oscal).toMatch(/and \d+ more \(results\.json lists every result\)/);
  }, 180_000);

  it("writes an empty organization's package like writeEvidencePackage does", async () => {
    const { snapshot, at } = generateSampleOrganization({ repositories: 2, pullRequestsPerRepository: 1 });
    const empty: Snapshot = { ...snapshot, repositories: [], changeRequests: [], directPushes: [] };
    const report = evaluate(empty, policySetFor(empty), at);
    const whole = join(await tempDir(), "whole");
    const streamed = join(await tempDir(), "streamed");
    await writeEvidencePackage(whole, empty, report, { toolVersion: "test" });
    await streamPackage(streamed, empty, at, []);
    expect(await filesOf(streamed)).toEqual(await filesOf(whole));
  });
});

describe("evidence package replaced whole", () => {
  it("leaves the old package intact when writing the new one fails midway", async () => {
    const { snapshot, at } = generateSampleOrganization({ repositories: 3, pullRequestsPerRepository: 4 });
    const report = evaluate(snapshot, policySetFor(snapshot), at);
    const parent = await tempDir();
    const outDir = join(parent, "package");
    await writeEvidencePackage(outDir, snapshot, report, { toolVersion: "old" });
    const before = await filesOf(outDir);

    // the fifth file's hash fails: the new package is half written when the writer gives up
    let hashed = 0;
    const real = manifest.sha256File;
    vi.spyOn(manifest, "sha256File").mockImplementation(async (path) => {
      hashed += 1;
      if (hashed === 5) throw new Error("disk gone");
      return real(path);
    });
    const later = { ...report, evaluatedAt: "2031-01-01T00:00:00.000Z" };
    await expect(writeEvidencePackage(outDir, snapshot, later, { toolVersion: "new" })).rejects.toThrow(
      "disk gone",
    );
    hashed = 0;
    await expect(streamPackage(outDir, snapshot, at, [2, 1, 0])).rejects.toThrow("disk gone");
    expect(await filesOf(outDir)).toEqual(before);
    // nothing half-written is left beside it
    expect(await readdir(parent)).toEqual(["package"]);
  });

  it("replaces a package whole, and keeps what else the folder holds (the demo's ledger)", async () => {
    const { snapshot, at } = generateSampleOrganization({ repositories: 3, pullRequestsPerRepository: 4 });
    const report = evaluate(snapshot, policySetFor(snapshot), at);
    const parent = await tempDir();
    const outDir = join(parent, "package");
    await writeEvidencePackage(outDir, snapshot, report, { toolVersion: "old" });
    await writeEvidencePackage(outDir, snapshot, report, { toolVersion: "new" });
    expect(JSON.parse(await readFile(join(outDir, "manifest.json"), "utf8")).toolVersion).toBe("new");
    expect(await readdir(parent)).toEqual(["package"]);

    await mkdir(join(outDir, "ledger"));
    await writeFile(join(outDir, "ledger", "kept"), "ledger data");
    await streamPackage(outDir, snapshot, at, [0, 1, 2]);
    expect(await readFile(join(outDir, "ledger", "kept"), "utf8")).toBe("ledger data");
    expect(JSON.parse(await readFile(join(outDir, "manifest.json"), "utf8")).toolVersion).toBe("test");
    expect((await readdir(outDir)).sort()).toEqual([...PACKAGE_FILES, "ledger"].sort());
    expect(await readdir(parent)).toEqual(["package"]);
  });
});
