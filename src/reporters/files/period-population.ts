/**
 * population.csv and population.json at the root of `soc2-bot export`: the period's population an
 * auditor samples from. Every change merged into a production branch in the period, once, with the
 * verdict it was first given: the app's judgement at merge time, or, for a merge the app never
 * judged, the audit run that covered it. Written a row at a time (src/ledger/period.ts streams them).
 */
import { CONTROLS } from "../../controls/index.js";
import type { Outcome } from "../../controls/types.js";
import { csvRow } from "../../text/escape.js";

/** The controls judged per change request (CC8), one column each, in report order. */
export const POPULATION_CONTROLS: readonly string[] = CONTROLS.filter(
  (control) => control.appliesTo === "change-request",
).map((control) => control.id);

/** A control the verdict holds no result for (disabled by the policy, or the results were not found). */
export const NOT_EVALUATED = "not evaluated";

export interface PopulationJudge {
  kind: "app judgement" | "audit run";
  stream: string;
  sequence: number;
  recordHash: string;
}

export interface PopulationRow {
  host: string;
  repository: string;
  number: number;
  baseBranch: string;
  mergedAt: string;
  /** null: nothing in the ledger judged it (the overall outcome is then unknown). */
  judgedAt: string | null;
  judgedBy: PopulationJudge | null;
  delayMinutes: number | null;
  outcomes: Record<string, Outcome | typeof NOT_EVALUATED>;
  overall: Outcome;
  /** Why the verdict is not the whole story (no judge, results not found). */
  note: string | null;
}

/** Worst first. */
const SEVERITY: readonly Outcome[] = ["fail", "unknown", "excepted", "pass", "not-applicable"];

/**
 * A change's outcomes per control from its results (the worst, when a control gave more than one)
 * and the overall outcome. No result at all is unknown, never a pass.
 */
export function populationVerdict(results: readonly { control: string; outcome: Outcome }[]): {
  outcomes: PopulationRow["outcomes"];
  overall: Outcome;
} {
  const outcomes: PopulationRow["outcomes"] = {};
  for (const id of POPULATION_CONTROLS) outcomes[id] = NOT_EVALUATED;
  let worst = results.length === 0 ? SEVERITY.indexOf("unknown") : SEVERITY.length - 1;
  for (const result of results) {
    const rank = Math.max(0, SEVERITY.indexOf(result.outcome));
    worst = Math.min(worst, rank);
    const before = outcomes[result.control];
    if (before === undefined || before === NOT_EVALUATED || rank < SEVERITY.indexOf(before)) {
      outcomes[result.control] = result.outcome;
    }
  }
  return { outcomes, overall: SEVERITY[worst]! };
}

/** Minutes from the merge to its verdict, to a tenth. */
export function delayMinutes(mergedAt: string, judgedAt: string | null): number | null {
  if (judgedAt === null) return null;
  return Math.round(((Date.parse(judgedAt) - Date.parse(mergedAt)) / 60_000) * 10) / 10;
}

export function populationCsvHeader(): string {
  return csvRow([
    "host",
    "repository",
    "number",
    "base_branch",
    "merged_at",
    "judged_at",
    "judged_by",
    "judged_by_record_hash",
    "delay_minutes",
    ...POPULATION_CONTROLS,
    "overall",
    "note",
  ]);
}

export function populationCsvRow(row: PopulationRow): string {
  return csvRow([
    row.host,
    row.repository,
    row.number,
    row.baseBranch,
    row.mergedAt,
    row.judgedAt ?? "",
    row.judgedBy ? `${row.judgedBy.kind} ${row.judgedBy.stream}#${row.judgedBy.sequence}` : "not judged",
    row.judgedBy?.recordHash ?? "",
    row.delayMinutes ?? "",
    ...POPULATION_CONTROLS.map((id) => row.outcomes[id] ?? NOT_EVALUATED),
    row.overall,
    row.note ?? "",
  ]);
}

/** One row as an element of population.json's "merges" (JSON.stringify escapes the untrusted text). */
export function populationJsonElement(row: PopulationRow): string {
  return JSON.stringify({
    host: row.host,
    repository: row.repository,
    number: row.number,
    baseBranch: row.baseBranch,
    mergedAt: row.mergedAt,
    judgedAt: row.judgedAt,
    judgedBy: row.judgedBy,
    delayMinutes: row.delayMinutes,
    outcomes: row.outcomes,
    overall: row.overall,
    note: row.note,
  });
}
