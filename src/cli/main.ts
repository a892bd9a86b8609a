#!/usr/bin/env node
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { CONTROLS } from "../controls/index.js";
import { evaluate, type EvaluationReport } from "../engine/index.js";
import { PolicyError, ProviderError, SnapshotError, UsageError } from "../errors.js";
import type { Snapshot } from "../model/index.js";
import { ExportTargetError, LedgerBrokenError, LedgerUnavailableError } from "../ledger/index.js";
import { parsePolicyLayer } from "../policy/index.js";
import { policySetFor } from "../pipeline/policies.js";
import { renderResultsCsv } from "../reporters/files/results-csv.js";
import { renderResultsJson } from "../reporters/files/results-json.js";
import { renderSummaryMarkdown } from "../reporters/files/summary-md.js";
import { writeEvidencePackage } from "../reporters/files/index.js";
import { checkOutputFolder } from "./output-path.js";
import { readSnapshotFile } from "./snapshot-file.js";
import { countOutcomes, renderTotalsTable } from "./table.js";
import { TOOL_VERSION } from "../version.js";
import { loadEnvFile } from "../env-file.js";

/** Exit codes: 0 everything passes, 1 a control fails or cannot be decided, 2 bad input. */
export const EXIT = { ok: 0, findings: 1, usage: 2 } as const;

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
}

const processIo: Io = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

const USAGE = `soc2-bot: SOC 2 change-management and access evidence from GitHub and GitLab

Usage:
  soc2-bot evaluate --snapshot FILE [--policy FILE]... [--at DATE] [--format md|json|csv] [--out DIR]
  soc2-bot policy check FILE...
  soc2-bot audit --org NAME --since DATE --until DATE [--policy FILE]... [--out DIR] [--ledger DIR | --skip-ledger]
  soc2-bot audit --gitlab-group PATH --since DATE --until DATE [--policy FILE]... [--out DIR] [--ledger DIR | --skip-ledger]
  soc2-bot demo [--out DIR] [--gitlab] [--ledger DIR]
  soc2-bot ledger verify [--ledger DIR] [--skip-files]
  soc2-bot export --since DATE --until DATE [--out DIR] [--packages] [--force] [--ledger DIR] [--policy FILE]...
  soc2-bot coverage --since DATE --until DATE [--ledger DIR] [--policy FILE]... [--format md|json|csv] [--out DIR]

The ledger is PostgreSQL when DATABASE_URL is set, otherwise the embedded one in --ledger DIR,
SOC2_LEDGER_DIR or .soc2-bot/ledger.

Exit codes: 0 every control passes, 1 a control fails or is unknown, 2 bad input.
`;

type Command = (args: string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  evaluate: evaluateCommand,
  policy: policyCommand,
  demo: async (args, io) => (await import("./demo.js")).demoCommand(args, io),
  audit: async (args, io) => (await import("./audit.js")).auditCommand(args, io),
  ledger: async (args, io) => (await import("./ledger.js")).ledgerCommand(args, io),
  export: async (args, io) => (await import("./ledger.js")).exportCommand(args, io),
  coverage: async (args, io) => (await import("./coverage.js")).coverageCommand(args, io),
};

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "help" || name === "--help" || name === "-h") {
    io.stdout(USAGE);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`soc2-bot: unknown command "${name}"\n\n${USAGE}`);
    return EXIT.usage;
  }
  try {
    // Every command that writes takes its folder as --out: a path that cannot be written fails here,
    // before any work, in one line (and never reaches a recursive mkdir, which hangs under /proc).
    const out = outOption(rest);
    if (out !== undefined) await checkOutputFolder(out);
    return await command(rest, io);
  } catch (error) {
    return reportError(error, io);
  }
}

/** The value of --out (or --out=...) in a command's arguments, if given. */
function outOption(args: readonly string[]): string | undefined {
  let out: string | undefined;
  args.forEach((arg, index) => {
    if (arg === "--out" && args[index + 1] !== undefined && !args[index + 1]!.startsWith("--"))
      out = args[index + 1];
    else if (arg.startsWith("--out=")) out = arg.slice("--out=".length);
  });
  return out;
}

export function reportError(error: unknown, io: Io): number {
  if (error instanceof PolicyError) {
    io.stderr(`soc2-bot: the policy cannot be used:\n${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof LedgerBrokenError) {
    io.stderr(`soc2-bot: ${error.message}\n(export --force exports anyway, listing the breaks)\n`);
    return EXIT.findings;
  }
  if (error instanceof LedgerUnavailableError || error instanceof ExportTargetError) {
    io.stderr(`soc2-bot: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof SnapshotError || error instanceof UsageError) {
    io.stderr(`soc2-bot: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof ProviderError) {
    const permission = error.details.permission ? ` (missing permission: ${error.details.permission})` : "";
    io.stderr(`soc2-bot: ${error.details.host}: ${error.message}${permission}\n`);
    return EXIT.usage;
  }
  if (error instanceof Error && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS")) {
    io.stderr(`soc2-bot: ${error.message}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (isFileSystemError(error)) {
    // A path the file system refused (no such folder, no permission, read-only, full): the person
    // picks another; the system's message names the operation and the path, on one line.
    io.stderr(`soc2-bot: ${error.message.split("\n")[0] ?? ""}\n`);
    return EXIT.usage;
  }
  throw error;
}

async function evaluateCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      snapshot: { type: "string" },
      policy: { type: "string", multiple: true },
      at: { type: "string" },
      format: { type: "string", default: "md" },
      out: { type: "string" },
    },
    strict: true,
  });
  if (!values.snapshot) throw new UsageError("evaluate needs --snapshot FILE");
  const format = values.format ?? "md";
  if (!["md", "json", "csv"].includes(format))
    throw new UsageError(`--format must be md, json or csv, not "${format}"`);
  const snapshot = withPolicyFiles(
    await readSnapshotFile(values.snapshot),
    await readPolicyFiles(values.policy ?? []),
  );
  const at = parseDate(values.at, "--at") ?? defaultEvaluationTime(snapshot);
  const report = evaluate(snapshot, policySetFor(snapshot), at);
  // No result is no evidence: exiting 0 would read as "every control passes".
  if (report.results.length === 0) {
    throw new SnapshotError(
      `${values.snapshot}: no control applies to anything in this snapshot: nothing was evaluated`,
    );
  }

  if (values.out) {
    const files = await writeEvidencePackage(values.out, snapshot, report, { toolVersion: TOOL_VERSION });
    io.stderr(`wrote ${files.length} files to ${values.out}\n`);
  }
  io.stdout(
    format === "json"
      ? renderResultsJson(report)
      : format === "csv"
        ? renderResultsCsv(report)
        : renderSummaryMarkdown(report, snapshot),
  );
  return exitCodeFor(report);
}

async function policyCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...files] = args;
  if (sub !== "check" || files.length === 0) throw new UsageError("usage: soc2-bot policy check FILE...");
  let failed = false;
  for (const file of files) {
    try {
      parsePolicyLayer(await readFile(file, "utf8"), file, CONTROLS);
      io.stdout(`${file}: ok\n`);
    } catch (error) {
      if (!(error instanceof PolicyError)) {
        io.stderr(`${file}: cannot read: ${(error as Error).message}\n`);
      } else {
        io.stderr(`${error.message}\n`);
      }
      failed = true;
    }
  }
  return failed ? EXIT.usage : EXIT.ok;
}

/** An error of a file-system call: Node gives those an errno code, the call and the path. */
function isFileSystemError(error: unknown): error is Error & { code: string; path: string } {
  return (
    error instanceof Error &&
    "code" in error &&
    typeof error.code === "string" &&
    /^E[A-Z]+$/.test(error.code) &&
    "path" in error &&
    typeof error.path === "string"
  );
}

export function exitCodeFor(report: EvaluationReport): number {
  const counts = countOutcomes(report);
  return counts.fail > 0 || counts.unknown > 0 ? EXIT.findings : EXIT.ok;
}

export function printTotals(report: EvaluationReport, io: Io): void {
  const counts = countOutcomes(report);
  io.stdout(`${renderTotalsTable(report)}\n\n`);
  io.stdout(
    `${report.results.length} results: ${counts.pass} pass, ${counts.fail} fail, ${counts.unknown} unknown, ${counts.excepted} excepted\n`,
  );
}

/** --policy files join the snapshot as organization layers, so the saved snapshot re-evaluates alike. */
export function withPolicyFiles(snapshot: Snapshot, files: { file: string; text: string }[]): Snapshot {
  if (files.length === 0) return snapshot;
  return {
    ...snapshot,
    policyFiles: [
      ...snapshot.policyFiles,
      ...files.map((f) => ({
        layer: "organization" as const,
        repository: null,
        path: f.file,
        content: f.text,
      })),
    ],
  };
}

export async function readPolicyFiles(paths: string[]): Promise<{ file: string; text: string }[]> {
  return Promise.all(
    paths.map(async (file) => {
      try {
        return { file, text: await readFile(file, "utf8") };
      } catch (error) {
        throw new UsageError(`cannot read policy ${file}: ${(error as Error).message}`);
      }
    }),
  );
}

/** Without --at, a snapshot is judged at the end of its period (or when it was collected): never the clock. */
export function defaultEvaluationTime(snapshot: Snapshot): Date {
  return new Date(snapshot.period?.until ?? snapshot.collectedAt);
}

export function parseDate(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime()))
    throw new UsageError(`${flag}: "${value}" is not a date (use YYYY-MM-DD)`);
  return date;
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, "/"));
if (invokedDirectly) {
  // Settings kept in .env (as the app's manifest flow writes them) apply; the environment wins.
  loadEnvFile();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(
        `soc2-bot: unexpected error: ${error instanceof Error ? error.stack : String(error)}\n`,
      );
      process.exitCode = 70;
    },
  );
}
