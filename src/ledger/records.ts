/**
 * What the ledger records today, as the content of chained records: audit runs (with their
 * evidence package's files) and the app's judgements of changes. Nothing secret goes in: these are
 * built from the snapshot, the report and the judged results, which carry no token or key.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Outcome, Result } from "../controls/types.js";
import type { EvaluationReport } from "../engine/types.js";
import type { Snapshot } from "../model/index.js";
import { MANIFEST_FILE, writeEvidencePackage, type CoverageReport } from "../reporters/files/index.js";
import { TOOL_VERSION } from "../version.js";
import { collectedSummary, type CollectedSummary } from "./collected.js";

export const AUDIT_RUN = "audit-run";
export const JUDGEMENT = "judgement";

export type AuditTrigger = "cli" | "demo" | "schedule";

export interface PackageFile {
  name: string;
  sha256: string;
  bytes: number;
}

export interface AuditRunContent {
  trigger: AuditTrigger;
  host: "github" | "gitlab";
  baseUrl: string;
  organization: string;
  period: { since: string; until: string } | null;
  collectedAt: string;
  evaluatedAt: string;
  /** Who the collector acted as (a login or "app"), never its credential. */
  actor: string;
  policy: { sources: string[]; hash: string };
  toolVersion: string;
  totals: Record<Outcome, number> & { results: number };
  totalsByControl: Record<string, Record<Outcome, number>>;
  population: { repositories: number; changeRequests: number; directPushes: number };
  /** Every file of the evidence package, manifest.json included, as stored in the ledger's file store. */
  package: { files: PackageFile[] };
  /**
   * What the run collected, as coverage reads it (derived from the package's snapshot.json when
   * recorded, so coverage need not read the snapshot back). Absent from records written before it.
   */
  collected?: CollectedSummary;
}

export type JudgementTrigger = "pull-request-check" | "merge";

export interface JudgementContent {
  trigger: JudgementTrigger;
  host: "github" | "gitlab";
  repository: string;
  number: number;
  /** "acme/api#12" */
  change: string;
  state: string;
  baseBranch: string;
  headSha: string;
  mergeCommitSha: string | null;
  mergedAt: string | null;
  judgedAt: string;
  policy: { sources: string[]; hash: string } | null;
  toolVersion: string;
  /** The check run's conclusion, for a pull request check. */
  conclusion: string | null;
  /** A merge whose required checks still run on its merge commit (judged again later). */
  waiting: { mergeCommitSha: string; checks: { name: string; state: string }[]; until: string } | null;
  results: Result[];
}

export function auditStream(host: string, organization: string): string {
  return `audit:${host}/${organization}`;
}

export function judgementStream(host: string, repository: string): string {
  return `judgement:${host}/${repository}`;
}

/** An audit run to record: its snapshot and report, or the package it has already written. */
export type AuditRunInput = SnapshotAuditRunInput | WrittenAuditRunInput;

/**
 * An audit written to disk a repository at a time (src/pipeline/audit-run.ts): the record's files
 * are read from the package it wrote, and its figures are those counted while writing, so the
 * snapshot and results are never held to record it.
 */
export interface WrittenAuditRunInput {
  trigger: AuditTrigger;
  organization: string;
  packageDir: string;
  written: AuditRunFigures;
}

/** What an audit run's record says besides its files, counted while its package was written. */
export interface AuditRunFigures {
  host: "github" | "gitlab";
  baseUrl: string;
  period: { since: string; until: string } | null;
  collectedAt: string;
  evaluatedAt: string;
  actor: string;
  policy: { sources: string[]; hash: string };
  totalsByControl: Record<string, Record<Outcome, number>>;
  population: { repositories: number; changeRequests: number; directPushes: number };
  collected: CollectedSummary;
}

export interface SnapshotAuditRunInput {
  trigger: AuditTrigger;
  organization: string;
  snapshot: Snapshot;
  report: EvaluationReport;
  /** The package already written for this run; without it one is written to a temporary folder. */
  packageDir?: string;
  /**
   * The coverage section of the package written here (not with packageDir). Absent: recordAuditRun
   * builds it from this ledger (with judgedWithinMinutes, default 15), so the package never says it
   * had no ledger.
   */
  coverage?: CoverageReport | null;
  judgedWithinMinutes?: number;
  /**
   * The results as reported when they differ from the report's (the scheduled audit holds a fresh
   * merge's required checks as the app does): the package and totals are of these.
   */
  results?: Result[];
}

/** The report with the results as reported, its totals counted again from them. */
export function reportAsReported(input: Pick<SnapshotAuditRunInput, "report" | "results">): EvaluationReport {
  if (!input.results) return input.report;
  const totals: Record<string, Record<Outcome, number>> = {};
  const zero = (): Record<Outcome, number> => ({
    pass: 0,
    fail: 0,
    unknown: 0,
    excepted: 0,
    "not-applicable": 0,
  });
  for (const control of Object.keys(input.report.totals)) totals[control] = zero();
  for (const result of input.results) (totals[result.control] ??= zero())[result.outcome] += 1;
  return { ...input.report, results: input.results, totals };
}

/** The package's files in the order recorded: the manifest's list, then the manifest itself. */
export async function packageFilesOf(
  dir: string,
): Promise<{ name: string; path: string; sha256?: string }[]> {
  const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), "utf8")) as {
    files: { name: string; sha256: string }[];
  };
  return [
    ...manifest.files.map((file) => ({ name: file.name, path: join(dir, file.name), sha256: file.sha256 })),
    { name: MANIFEST_FILE, path: join(dir, MANIFEST_FILE) },
  ];
}

/** Runs `work` with the run's package folder: the given one, or a fresh one removed afterwards. */
export async function withPackage<T>(input: AuditRunInput, work: (dir: string) => Promise<T>): Promise<T> {
  if ("written" in input) return work(input.packageDir);
  if (input.packageDir !== undefined) return work(input.packageDir);
  const dir = await mkdtemp(join(tmpdir(), "soc2-ledger-package-"));
  try {
    await writeEvidencePackage(dir, input.snapshot, reportAsReported(input), {
      toolVersion: TOOL_VERSION,
      coverage: input.coverage ?? null,
    });
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function auditRunContent(input: AuditRunInput, files: PackageFile[]): AuditRunContent {
  if ("written" in input) return writtenRunContent(input, files);
  const { snapshot } = input;
  const report = reportAsReported(input);
  const totals = {
    results: report.results.length,
    pass: 0,
    fail: 0,
    unknown: 0,
    excepted: 0,
    "not-applicable": 0,
  };
  for (const result of report.results) totals[result.outcome] += 1;
  return {
    trigger: input.trigger,
    host: snapshot.collector.host,
    baseUrl: snapshot.collector.baseUrl,
    organization: input.organization,
    period: snapshot.period,
    collectedAt: snapshot.collectedAt,
    evaluatedAt: report.evaluatedAt,
    actor: snapshot.collector.actor,
    policy: { sources: report.policy.sources, hash: report.policy.hash },
    toolVersion: TOOL_VERSION,
    totals,
    totalsByControl: report.totals,
    population: {
      repositories: snapshot.repositories.length,
      changeRequests: snapshot.changeRequests.length,
      directPushes: snapshot.directPushes.length,
    },
    package: { files },
    collected: collectedSummary(snapshot),
  };
}

function writtenRunContent(input: WrittenAuditRunInput, files: PackageFile[]): AuditRunContent {
  const { written } = input;
  const totals = { results: 0, pass: 0, fail: 0, unknown: 0, excepted: 0, "not-applicable": 0 };
  for (const row of Object.values(written.totalsByControl)) {
    for (const outcome of ["pass", "fail", "unknown", "excepted", "not-applicable"] as const) {
      totals[outcome] += row[outcome];
      totals.results += row[outcome];
    }
  }
  return {
    trigger: input.trigger,
    host: written.host,
    baseUrl: written.baseUrl,
    organization: input.organization,
    period: written.period,
    collectedAt: written.collectedAt,
    evaluatedAt: written.evaluatedAt,
    actor: written.actor,
    policy: { sources: written.policy.sources, hash: written.policy.hash },
    toolVersion: TOOL_VERSION,
    totals,
    totalsByControl: written.totalsByControl,
    population: written.population,
    package: { files },
    collected: written.collected,
  };
}
