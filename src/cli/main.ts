#!/usr/bin/env node
import { readFile } from "node:fs/promises";
import { CommanderError } from "commander";
import { CONTROLS } from "../controls/index.js";
import { evaluate, type EvaluationReport } from "../engine/index.js";
import {
  PolicyError,
  ProviderError,
  SnapshotError,
  UnreachableError,
  unreachableErrorIn,
  unreachableReason,
  UsageError,
} from "../errors.js";
import type { Snapshot } from "../model/index.js";
import { ExportTargetError, LedgerBrokenError, LedgerUnavailableError } from "../ledger/index.js";
import { loadDefaultPolicyLayer, parsePolicyLayer, resolvePolicy } from "../policy/index.js";
import { policySetFor } from "../pipeline/policies.js";
import { renderResultsCsv } from "../reporters/files/results-csv.js";
import { renderResultsJson } from "../reporters/files/results-json.js";
import { renderSummaryMarkdown } from "../reporters/files/summary-md.js";
import { writeEvidencePackage } from "../reporters/files/index.js";
import {
  buildProgram,
  EXIT,
  exitCodeOfCommander,
  type EvaluateOptions,
  type Handlers,
  type PolicyCheckOptions,
} from "./program.js";
import { readSnapshotFile } from "./snapshot-file.js";
import { countOutcomes, renderTerminalReport, renderTotalsTable, totalsLine } from "./table.js";
import { TOOL_VERSION } from "../version.js";
import { loadEnvFile } from "../env-file.js";

export { EXIT } from "./program.js";

export interface Io {
  stdout(text: string): void;
  stderr(text: string): void;
  /** stdout is a terminal: evaluate prints a table there instead of Markdown. */
  terminal?: boolean;
}

const processIo: Io = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  terminal: process.stdout.isTTY === true,
};

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  if (io === processIo) endQuietlyOnClosedStdout();
  let code: number = EXIT.usage;
  const program = buildProgram(io, handlers(io), (exit) => {
    code = exit;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return exitCodeOfCommander(error);
    return reportError(error, io);
  }
}

let stdoutWatched = false;

/**
 * A reader that stops early (`evaluate ... | head`) closes the pipe: what is left has nobody to
 * read it, so the command ends quietly (with the exit code it has so far) instead of dying on an
 * unhandled EPIPE. Here, not at the entry point, so every way of starting the CLI (bin, tsx) has it.
 */
function endQuietlyOnClosedStdout(): void {
  if (stdoutWatched) return;
  stdoutWatched = true;
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(typeof process.exitCode === "number" ? process.exitCode : EXIT.ok);
  });
}

/** Each command's work, loaded when it runs (the demo and the audit pull in much more than evaluate). */
function handlers(io: Io): Handlers {
  return {
    evaluate: (options) => evaluateCommand(options, io),
    policyCheck: (files, options) => policyCheckCommand(files, options, io),
    audit: async (options) => (await import("./audit.js")).auditCommand(options, io),
    demo: async (options) => (await import("./demo.js")).demoCommand(options, io),
    doctor: async (options) => (await import("./doctor.js")).doctorCommand(options, io),
    ledgerVerify: async (options) => (await import("./ledger.js")).ledgerCommand(options, io),
    export: async (options) => (await import("./ledger.js")).exportCommand(options, io),
    coverage: async (options) => (await import("./coverage.js")).coverageCommand(options, io),
  };
}

export function reportError(error: unknown, io: Io): number {
  // First: a host that went away mid-run reaches here wrapped in whatever was being read or written.
  const gone = unreachableErrorIn(error);
  if (gone !== undefined) {
    io.stderr(`soc2-bot: ${gone.message}\n`);
    return EXIT.unreachable;
  }
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
    const unreachable = unreachableReason(error);
    if (unreachable !== undefined) {
      // Not a permission: no answer came. Say so, and where it was asked, so the URL can be checked.
      const host = error.details.host;
      io.stderr(`soc2-bot: ${new UnreachableError(host, hostUrl(host), unreachable).message}\n`);
      return EXIT.unreachable;
    }
    const permission = error.details.permission ? ` (missing permission: ${error.details.permission})` : "";
    io.stderr(`soc2-bot: ${error.details.host}: ${error.message}${permission}\n`);
    return EXIT.unreachable;
  }
  if (isFileSystemError(error)) {
    // A path the file system refused (no such folder, no permission, read-only, full): the person
    // picks another; the system's message names the operation and the path, on one line.
    io.stderr(`soc2-bot: ${error.message.split("\n")[0] ?? ""}\n`);
    return EXIT.usage;
  }
  throw error;
}

async function evaluateCommand(values: EvaluateOptions, io: Io): Promise<number> {
  if (!values.snapshot) throw new UsageError("evaluate needs --snapshot FILE");
  const format = values.format;
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
  // A terminal gets a table; a pipe or a file the Markdown summary, unless --format says which.
  const shown = format ?? (io.terminal ? "table" : "md");
  io.stdout(
    shown === "json"
      ? renderResultsJson(report)
      : shown === "csv"
        ? renderResultsCsv(report)
        : shown === "table"
          ? renderTerminalReport(report)
          : renderSummaryMarkdown(report, snapshot),
  );
  return exitCodeFor(report);
}

async function policyCheckCommand(files: string[], stack: PolicyCheckOptions, io: Io): Promise<number> {
  if (files.length === 0 && stack.org === undefined && stack.repo === undefined)
    throw new UsageError("policy check needs FILE... or --org FILE / --repo FILE (add --help for usage)");
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
  if (stack.org !== undefined || stack.repo !== undefined) failed = !(await checkStack(stack, io)) || failed;
  return failed ? EXIT.usage : EXIT.ok;
}

/**
 * The layers as the app stacks them for a pull request: the shipped default, the organization's,
 * the repository's, each parsed as its layer (a repository's may not declare people) and resolved
 * together, so a repository that weakens or excuses itself from a locked control is reported with
 * both positions.
 */
async function checkStack(stack: PolicyCheckOptions, io: Io): Promise<boolean> {
  const named = [
    ...(stack.org === undefined ? [] : [{ file: stack.org, layer: "organization" as const }]),
    ...(stack.repo === undefined ? [] : [{ file: stack.repo, layer: "repository" as const }]),
  ];
  const layers = [loadDefaultPolicyLayer(CONTROLS)];
  const problems: Array<PolicyError["problems"][number]> = [];
  for (const { file, layer } of named) {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      io.stderr(`${file}: cannot read: ${(error as Error).message}\n`);
      return false;
    }
    try {
      layers.push(parsePolicyLayer(text, file, CONTROLS, { layer }));
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      problems.push(...error.problems);
    }
  }
  const described = layers.map((layer) => layer.file).join(" < ");
  try {
    if (problems.length > 0) throw new PolicyError(problems);
    resolvePolicy(layers, CONTROLS);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    io.stderr(`${error.message}\n${described}: the stack cannot be used\n`);
    return false;
  }
  io.stdout(`${described}: ok\n`);
  return true;
}

/** Where the CLI asks the host, as configured, to show with a connection that failed. */
function hostUrl(host: "github" | "gitlab"): string {
  return host === "github"
    ? (process.env.GITHUB_API_URL ?? "https://api.github.com")
    : (process.env.GITLAB_URL ?? "https://gitlab.com");
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
  io.stdout(`${totalsLine(counts)}\n`);
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
