import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { CONTROLS } from "../controls/index.js";
import { UsageError } from "../errors.js";
import { coverageFromLedger } from "../ledger/index.js";
import { loadPolicy } from "../policy/index.js";
import { coverageComplete, coverageCsvRows, renderCoverageMarkdown } from "../reporters/files/index.js";
import { coverageJsonChunks } from "../reporters/files/coverage.js";
import { collectGarbageEarly } from "./heap.js";
import { ledgerFor } from "./ledger.js";
import { EXIT, parseDate, readPolicyFiles, type Io } from "./main.js";
import type { CoverageOptions } from "./program.js";

/**
 * soc2-bot coverage --since DATE --until DATE [--ledger DIR] [--policy FILE]... [--format md|json|csv]
 * [--out DIR]: which days of the period the ledger shows each production branch observed, every gap
 * with its cause, and every merge not judged within the policy's minutes. From the ledger's records
 * only. Exit 0 fully covered, 1 with gaps or late merges, 2 on bad input.
 */
export async function coverageCommand(values: CoverageOptions, io: Io): Promise<number> {
  const since = parseDate(values.since, "--since");
  const until = parseDate(values.until, "--until");
  if (!since || !until)
    throw new UsageError("coverage needs --since DATE and --until DATE (the audit period)");
  if (since >= until) throw new UsageError("--since must be before --until");
  const format = values.format;
  // the minutes come from the policy: the shipped default, then any --policy files (organization layers)
  const policy = loadPolicy(await readPolicyFiles(values.policy ?? []), CONTROLS);
  const judgedWithinMinutes = policy.ledger?.judgedWithinMinutes ?? 15;
  // Reading only: a mistyped folder or schema is said to hold no ledger, never answered with a new empty one.
  const ledger = ledgerFor(values.ledger, false);
  collectGarbageEarly();
  try {
    const started = Date.now();
    const report = await coverageFromLedger(ledger, { since, until, judgedWithinMinutes });
    // a year's JSON and CSV are tens of MB of text: written a piece at a time, never joined
    const pieces = (): Iterable<string> =>
      format === "json"
        ? coverageJsonChunks(report)
        : format === "csv"
          ? coverageCsvRows(report)
          : [renderCoverageMarkdown(report)];
    if (values.out) {
      const outDir = resolve(values.out);
      await mkdir(outDir, { recursive: true });
      const md = join(outDir, "coverage.md");
      await writeFile(md, renderCoverageMarkdown(report), "utf8");
      await writePieces(join(outDir, "coverage.csv"), coverageCsvRows(report));
      await writePieces(join(outDir, "coverage.json"), coverageJsonChunks(report));
      io.stderr(`wrote coverage.md, coverage.csv and coverage.json to ${outDir}\n`);
    }
    for (const piece of pieces()) {
      io.stdout(piece);
      await stdoutDrained();
    }
    const gaps = report.branches.reduce((sum, branch) => sum + branch.gapDays, 0);
    io.stderr(
      `coverage from ${ledger.location}: ${report.branches.length} production branches, ${gaps} branch-days not observed, ` +
        `${report.merges.late.length} of ${report.merges.total} merges not judged within ${judgedWithinMinutes} minutes ` +
        `(${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
    );
    return coverageComplete(report) ? EXIT.ok : EXIT.findings;
  } finally {
    await ledger.close();
  }
}

async function writePieces(path: string, pieces: Iterable<string>): Promise<void> {
  const out = createWriteStream(path, { encoding: "utf8" });
  const failed = once(out, "error").then(([error]) => Promise.reject(error as Error));
  failed.catch(() => {});
  for (const piece of pieces) {
    if (!out.write(piece)) await Promise.race([once(out, "drain"), failed]);
  }
  out.end();
  await Promise.race([once(out, "finish"), failed]);
}

/**
 * A pipe read more slowly than the report is written (a parent process, a pager) takes 64 KB; the
 * rest would queue in memory (tens of MB for a year's JSON): the next piece waits until it is
 * drained, or the reader is gone.
 */
async function stdoutDrained(): Promise<void> {
  const out = process.stdout;
  if (!out.writableNeedDrain) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      out.off("drain", done).off("close", done).off("error", done);
      resolve();
    };
    out.on("drain", done).on("close", done).on("error", done);
  });
}
