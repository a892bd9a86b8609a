import { resolve } from "node:path";
import { CONTROLS } from "../controls/index.js";
import { UsageError } from "../errors.js";
import {
  describeBreak,
  exportPeriod,
  ledgerOptionsFromEnvironment,
  openLedger,
  type Ledger,
} from "../ledger/index.js";
import { loadPolicy } from "../policy/index.js";
import { collectGarbageEarly } from "./heap.js";
import { EXIT, parseDate, readPolicyFiles, type Io } from "./main.js";
import type { ExportOptions, VerifyOptions } from "./program.js";

/** The ledger a command reads: --ledger DIR (embedded), else DATABASE_URL, else SOC2_LEDGER_DIR or .soc2-bot/ledger. */
export function ledgerFor(dir: string | undefined, create = true): Ledger {
  const options = ledgerOptionsFromEnvironment(process.env, dir === undefined ? {} : { dir: resolve(dir) });
  return openLedger({ ...options, create });
}

/** soc2-bot ledger verify [--ledger DIR]: every chain checked, and where one breaks. */
export async function ledgerCommand(values: VerifyOptions, io: Io): Promise<number> {
  // Reading only: a mistyped folder or schema is said to hold no ledger, never answered with a new empty one.
  const ledger = ledgerFor(values.ledger, false);
  try {
    const report = await ledger.verify({ files: !values.skipFiles });
    io.stdout(`ledger: ${report.location}\n`);
    for (const stream of report.streams) {
      io.stdout(
        stream.break
          ? `BROKEN ${stream.stream}: ${count(stream.records, "record")} intact before record ${stream.break.sequence}\n`
          : `ok     ${stream.stream}: ${count(stream.records, "record")}, head ${stream.head.sequence} ${stream.head.hash}\n`,
      );
    }
    if (report.breaks.length > 0) {
      io.stderr(`\nthe ledger's chains are broken:\n${report.breaks.map(describeBreak).join("\n")}\n`);
      return EXIT.findings;
    }
    io.stdout(
      `\nchains intact: ${count(report.streams.length, "stream")}, ${count(report.records, "record")}` +
        (values.skipFiles ? "" : `, ${report.filesChecked} package files checked`) +
        `\n`,
    );
    return EXIT.ok;
  } finally {
    await ledger.close();
  }
}

/**
 * soc2-bot export --since DATE --until DATE [--out DIR] [--packages] [--force] [--ledger DIR] [--policy FILE]...:
 * the period's population (every merge into a production branch, once, with the verdict it was first
 * given), an index of the audit runs recorded for the period (runs.csv: every file of each package
 * with its SHA-256), the configuration timeline, access snapshots (at the policy's
 * ledger.access_snapshots) and coverage (ledger.judged_within_minutes); with --packages, each run's
 * evidence package rebuilt from the ledger byte for byte.
 */
export async function exportCommand(values: ExportOptions, io: Io): Promise<number> {
  const since = parseDate(values.since, "--since");
  const until = parseDate(values.until, "--until");
  if (!since || !until) throw new UsageError("export needs --since DATE and --until DATE (the audit period)");
  // the access points and coverage's minutes come from the policy: the shipped default, then any --policy files
  const policy = loadPolicy(await readPolicyFiles(values.policy ?? []), CONTROLS);
  if (since >= until) throw new UsageError("--since must be before --until");
  const outDir = resolve(
    values.out ?? `out/export-${since.toISOString().slice(0, 10)}_${until.toISOString().slice(0, 10)}`,
  );
  // Reading only: a mistyped folder or schema is said to hold no ledger, never answered with a new empty one.
  const ledger = ledgerFor(values.ledger, false);
  collectGarbageEarly();
  try {
    const started = Date.now();
    const summary = await exportPeriod(ledger, {
      since,
      until,
      outDir,
      force: values.force,
      packages: values.packages,
      ...(policy.ledger && {
        accessSnapshots: policy.ledger.accessSnapshots,
        judgedWithinMinutes: policy.ledger.judgedWithinMinutes,
      }),
    });
    if (summary.breaks.length > 0) {
      io.stderr(
        `exported with --force from broken chains (listed in export-manifest.json):\n${summary.breaks.map(describeBreak).join("\n")}\n`,
      );
    }
    for (const mismatch of summary.mismatches) io.stderr(`changed in the ledger: ${mismatch}\n`);
    io.stdout(`ledger: ${ledger.location}\n`);
    for (const run of summary.runs) {
      io.stdout(
        `${run.stream} record ${run.sequence} (${run.period?.since ?? "?"} to ${run.period?.until ?? "?"}): ` +
          (run.directory === null
            ? `${run.files.length} files listed in runs.csv (--packages writes them)\n`
            : `${run.files.length} files in ${run.directory}\n`),
      );
    }
    const { timeline, points, pointsOutside } = summary.period;
    io.stdout(
      `configuration timeline: ${count(timeline.subjects, "subject")} observed, ${count(timeline.changes, "change")}, ` +
        `${count(timeline.windows, "weakening window")} (${timeline.stillWeakened} still weakened at the end), ` +
        `${count(timeline.mergesInWindows, "merge")} inside them: configuration-timeline.md\n` +
        `access snapshots: ${points.map((p) => `${p.label} (${p.reasons.join(", ")})`).join("; ")}\n` +
        `coverage: coverage.md\n` +
        `population: ${count(summary.period.population.merges, "merge")} into production branches: population.csv\n`,
    );
    for (const problem of summary.period.population.problems) io.stderr(`population: ${problem}\n`);
    for (const day of pointsOutside)
      io.stderr(`access snapshot ${day} (named in the policy) is outside the period\n`);
    for (const problem of timeline.problems) io.stderr(`not in the timeline: ${problem}\n`);
    if (summary.runs.length === 0) {
      io.stderr(
        `no audit run in the ledger covers ${since.toISOString()} to ${until.toISOString()}: ` +
          `the export holds no audit run's results (population, timeline, access and coverage written to ${outDir})\n`,
      );
      return EXIT.findings;
    }
    io.stdout(
      `exported ${count(summary.runs.length, "audit run")} and ${count(summary.files.length, "period file")} (${(summary.bytes / 1e6).toFixed(1)} MB) in ` +
        `${((Date.now() - started) / 1000).toFixed(1)} s: ${outDir}\nmanifest: ${resolve(outDir, "export-manifest.json")}\n`,
    );
    // evidence that could not be read into the timeline is a finding, as a broken chain is
    return summary.breaks.length > 0 ||
      summary.mismatches.length > 0 ||
      timeline.problems.length > 0 ||
      summary.period.population.problems.length > 0
      ? EXIT.findings
      : EXIT.ok;
  } finally {
    await ledger.close();
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
