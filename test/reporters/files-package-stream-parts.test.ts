/**
 * The evidence package stream taking a repository in parts: its merged changes a chunk at a time
 * (PackageRepository.partial), then the rest with its facts, as the audit streams a repository with
 * thousands of them. The package must be, byte for byte, writeEvidencePackage's of the whole
 * snapshot; parts of a repository discarded (its collection failed after them) leave no trace.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { CONTROLS } from "../../src/controls/index.js";
import {
  evaluate,
  evaluateOrganization,
  evaluateRepository,
  reportHeader,
} from "../../src/engine/evaluate.js";
import type { Snapshot } from "../../src/model/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { EvidencePackageStream, writeEvidencePackage } from "../../src/reporters/files/index.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "soc2-package-parts-"));
  dirs.push(dir);
  return dir;
}

async function filesOf(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const name of (await readdir(dir)).sort()) files.set(name, await readFile(join(dir, name), "utf8"));
  return files;
}

/** The controls judged a chunk at a time: all but the repository's own (judged once, with its last part). */
const CHANGE_CONTROLS = CONTROLS.filter((control) => control.appliesTo !== "repository");

function view(
  snapshot: Snapshot,
  fullName: string,
  part: { changeRequests: Snapshot["changeRequests"]; directPushes: Snapshot["directPushes"] },
): Snapshot {
  return {
    ...snapshot,
    repositories: snapshot.repositories.filter((r) => r.fullName === fullName),
    ...part,
    policyFiles: snapshot.policyFiles.filter((f) => f.repository === null || f.repository === fullName),
  };
}

/**
 * Streams each repository in chunks of `chunk` merged changes (and then the rest, its direct pushes
 * and its facts); before `discarded`, the first repository's chunks are given and discarded.
 */
async function streamInParts(
  outDir: string,
  snapshot: Snapshot,
  at: Date,
  chunk: number,
  discarded: boolean,
) {
  const policies = policySetFor(snapshot);
  const stream = await EvidencePackageStream.open(outDir, { findings: true });
  const addChunks = async (index: number, changes: Snapshot["changeRequests"]) => {
    const fullName = snapshot.repositories[index]!.fullName;
    for (let start = 0; start + chunk <= changes.length; start += chunk) {
      const part = view(snapshot, fullName, {
        changeRequests: changes.slice(start, start + chunk),
        directPushes: [],
      });
      await stream.addRepository({
        index,
        snapshot: part,
        results: evaluateRepository(part, policies, at, CHANGE_CONTROLS),
        partial: true,
      });
    }
  };
  // the repositories a few at once, out of order: each one's parts in order
  const order = snapshot.repositories.map((_, index) => index).reverse();
  await Promise.all(
    [0, 1, 2].map(async (worker) => {
      for (let i = worker; i < order.length; i += 3) {
        const index = order[i]!;
        const fullName = snapshot.repositories[index]!.fullName;
        const changes = snapshot.changeRequests.filter((c) => c.repository === fullName);
        if (discarded && index === 0) {
          // a first collection of it, failed after two chunks
          await addChunks(index, changes.slice(0, 2 * chunk));
          stream.discardRepository(index);
        }
        await addChunks(index, changes);
        const rest = view(snapshot, fullName, {
          changeRequests: changes.slice(changes.length - (changes.length % chunk)),
          directPushes: snapshot.directPushes.filter((p) => p.repository === fullName),
        });
        await stream.addRepository({
          index,
          snapshot: rest,
          results: evaluateRepository(rest, policies, at),
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

describe("evidence package streamed a repository in parts", () => {
  it.each([
    ["in chunks", false],
    ["in chunks, a repository's first chunks discarded", true],
  ])("writes the same bytes as writeEvidencePackage of the whole snapshot (%s)", async (_name, discarded) => {
    const { snapshot, at } = generateSampleOrganization({ repositories: 7, pullRequestsPerRepository: 23 });
    const report = evaluate(snapshot, policySetFor(snapshot), at);
    expect(snapshot.directPushes.length).toBeGreaterThan(0);
    const whole = join(await tempDir(), "whole");
    const streamed = join(await tempDir(), "streamed");
    await writeEvidencePackage(whole, snapshot, report, { toolVersion: "test" });
    // 23 = 3 x 7 + 2: three chunks, then two changes with the repository's facts
    const written = await streamInParts(streamed, snapshot, at, 7, discarded);

    const expected = await filesOf(whole);
    const actual = await filesOf(streamed);
    expect([...actual.keys()]).toEqual([...expected.keys()]);
    for (const [name, text] of expected) expect(actual.get(name), name).toBe(text);
    expect(written.totals).toEqual(report.totals);
    expect(written.population).toEqual({
      repositories: snapshot.repositories.length,
      changeRequests: snapshot.changeRequests.length,
      directPushes: snapshot.directPushes.length,
    });
    expect(written.findings.map((r) => `${r.control} ${r.subject.id} ${r.outcome}`)).toEqual(
      report.results.map((r) => `${r.control} ${r.subject.id} ${r.outcome}`),
    );
  });

  it("refuses to finish while a repository's last part is missing", async () => {
    const { snapshot, at } = generateSampleOrganization({ repositories: 2, pullRequestsPerRepository: 4 });
    const policies = policySetFor(snapshot);
    const outDir = join(await tempDir(), "package");
    const stream = await EvidencePackageStream.open(outDir);
    const fullName = snapshot.repositories[0]!.fullName;
    const part = view(snapshot, fullName, {
      changeRequests: snapshot.changeRequests.filter((c) => c.repository === fullName),
      directPushes: [],
    });
    await stream.addRepository({
      index: 0,
      snapshot: part,
      results: evaluateRepository(part, policies, at, CHANGE_CONTROLS),
      partial: true,
    });
    const { repositories, changeRequests, directPushes, policyFiles, asOfMerge, ...header } = snapshot;
    void [repositories, changeRequests, directPushes, asOfMerge];
    await expect(
      stream.finish({
        snapshot: header,
        policyFiles,
        asOfMerge: false,
        report: reportHeader(snapshot, policies, at),
        organizationResults: [],
        toolVersion: "test",
      }),
    ).rejects.toThrow("a repository's last part was not added");
    await expect(readdir(outDir)).rejects.toThrow();
  });
});
