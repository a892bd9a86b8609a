/**
 * Where the audit's memory goes, step by step, without the simulated GitHub or any network: generate
 * the sample at a size, evaluate it, write the evidence package. After each step it forces a garbage
 * collection and prints rss and heapUsed, so the numbers are what the step keeps alive, plus the peak
 * RSS seen while the step ran (sampled every 20 ms, and the process's own high-water mark).
 *
 * With --streamed, the evaluation and the package are done as the audit does them (src/pipeline/
 * audit-run.ts): one repository at a time into EvidencePackageStream, the organization's controls
 * once. The sample itself is still held whole (it is generated in memory), so that step shows what
 * the streamed evaluation and writing add on top of the facts: the real audit's collection lets each
 * repository go once it is written (measure the audit itself with bench/measure.ts, RSS of the tool).
 *
 * Run: node --expose-gc --import tsx bench/memory.ts 1000x100 [--out DIR] [--keep] [--streamed]
 */
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { evaluate, evaluateOrganization, evaluateRepository, reportHeader } from "../src/engine/index.js";
import type { Snapshot } from "../src/model/index.js";
import { policySetFor } from "../src/pipeline/policies.js";
import { EvidencePackageStream, writeEvidencePackage } from "../src/reporters/files/index.js";
import { generateSampleOrganization } from "../src/sample/generate.js";

const MIB = 1024 * 1024;

interface Reading {
  step: string;
  seconds: number;
  rssMiB: number;
  heapUsedMiB: number;
  peakRssMiB: number;
  /** The process's RSS high-water mark so far (getrusage): catches peaks inside synchronous steps. */
  maxRssMiB: number;
}

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc: node --expose-gc --import tsx bench/memory.ts 1000x100");
  gc();
  gc();
}

/** Runs one step while sampling RSS, then collects garbage and reads what the step left alive. */
async function measure<T>(step: string, run: () => T | Promise<T>): Promise<{ value: T; reading: Reading }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const started = performance.now();
  const value = await run();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage.rss());
  collect();
  const usage = process.memoryUsage();
  const reading = {
    step,
    seconds,
    rssMiB: usage.rss / MIB,
    heapUsedMiB: usage.heapUsed / MIB,
    peakRssMiB: peak / MIB,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  return { value, reading };
}

function parseSize(text: string): { repositories: number; pullRequestsPerRepository: number } {
  const match = /^(\d+)x(\d+)$/.exec(text);
  if (!match) throw new Error(`size must be REPOSxPRS, e.g. 1000x100 (got ${JSON.stringify(text)})`);
  return { repositories: Number(match[1]), pullRequestsPerRepository: Number(match[2]) };
}

function row(cells: (string | number)[]): string {
  return `| ${cells.join(" | ")} |`;
}

/** The audit's way: each repository evaluated and spooled, then the package assembled; returns the results count. */
async function streamPackage(outDir: string, snapshot: Snapshot, at: Date): Promise<number> {
  const policies = policySetFor(snapshot);
  const stream = await EvidencePackageStream.open(outDir);
  const byRepository = new Map<
    string,
    { changeRequests: Snapshot["changeRequests"]; directPushes: Snapshot["directPushes"] }
  >();
  for (const repository of snapshot.repositories)
    byRepository.set(repository.fullName, { changeRequests: [], directPushes: [] });
  for (const cr of snapshot.changeRequests) byRepository.get(cr.repository)?.changeRequests.push(cr);
  for (const push of snapshot.directPushes) byRepository.get(push.repository)?.directPushes.push(push);
  for (let index = 0; index < snapshot.repositories.length; index += 1) {
    const repository = snapshot.repositories[index]!;
    const parts = byRepository.get(repository.fullName)!;
    const view: Snapshot = {
      ...snapshot,
      repositories: [repository],
      changeRequests: parts.changeRequests,
      directPushes: parts.directPushes,
      policyFiles: snapshot.policyFiles.filter(
        (f) => f.repository === null || f.repository === repository.fullName,
      ),
    };
    await stream.addRepository({ index, snapshot: view, results: evaluateRepository(view, policies, at) });
  }
  const { repositories, changeRequests, directPushes, policyFiles, asOfMerge, ...header } = snapshot;
  void [repositories, changeRequests, directPushes];
  const written = await stream.finish({
    snapshot: header,
    policyFiles,
    asOfMerge: asOfMerge !== undefined,
    report: reportHeader(snapshot, policies, at),
    organizationResults: evaluateOrganization(snapshot, policies, at),
    toolVersion: "bench",
  });
  return Object.values(written.totals).reduce(
    (sum, row) => sum + row.pass + row.fail + row.unknown + row.excepted + row["not-applicable"],
    0,
  );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: "string" },
      keep: { type: "boolean", default: false },
      streamed: { type: "boolean", default: false },
    },
  });
  const size = parseSize(positionals[0] ?? "100x100");
  const outDir = values.out ?? (await mkdtemp(join(tmpdir(), "soc2-memory-")));
  collect();
  const start = process.memoryUsage();
  const readings: Reading[] = [
    {
      step: "start",
      seconds: 0,
      rssMiB: start.rss / MIB,
      heapUsedMiB: start.heapUsed / MIB,
      peakRssMiB: start.rss / MIB,
      maxRssMiB: process.resourceUsage().maxRSS / 1024,
    },
  ];

  const generated = await measure("generate sample", () => generateSampleOrganization(size));
  readings.push(generated.reading);
  const { snapshot, at } = generated.value;
  let results: number;
  if (values.streamed) {
    const streamed = await measure("evaluate and write, a repository at a time", () =>
      streamPackage(outDir, snapshot, at),
    );
    readings.push(streamed.reading);
    results = streamed.value;
  } else {
    const evaluated = await measure("evaluate", () => evaluate(snapshot, policySetFor(snapshot), at));
    readings.push(evaluated.reading);
    const report = evaluated.value;
    const written = await measure("write evidence package", () =>
      writeEvidencePackage(outDir, snapshot, report, { toolVersion: "bench" }),
    );
    readings.push(written.reading);
    results = report.results.length;
  }

  const files = await Promise.all(
    (await readdir(outDir))
      .sort()
      .map(async (name) => ({ name, bytes: (await stat(join(outDir, name))).size })),
  );
  const merged = snapshot.changeRequests.filter((cr) => cr.state === "merged").length;
  console.log(
    `size ${positionals[0] ?? "100x100"}: ${snapshot.changeRequests.length} change requests (${merged} merged), ${results} results`,
  );
  console.log(`node ${process.version}`);
  console.log("");
  console.log(
    row([
      "step",
      "seconds",
      "rss MiB after (gc)",
      "heapUsed MiB after (gc)",
      "peak rss MiB sampled during",
      "max rss MiB so far",
    ]),
  );
  console.log(row(["---", "---:", "---:", "---:", "---:", "---:"]));
  for (const r of readings) {
    console.log(
      row([
        r.step,
        r.seconds.toFixed(1),
        r.rssMiB.toFixed(0),
        r.heapUsedMiB.toFixed(0),
        r.peakRssMiB.toFixed(0),
        r.maxRssMiB.toFixed(0),
      ]),
    );
  }
  console.log("");
  console.log(row(["file", "MiB"]));
  console.log(row(["---", "---:"]));
  for (const file of files) console.log(row([file.name, (file.bytes / MIB).toFixed(1)]));
  if (!values.keep && values.out === undefined) await rm(outDir, { recursive: true, force: true });
}

await main();
