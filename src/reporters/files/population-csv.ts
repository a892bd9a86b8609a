/**
 * population.csv: the CC8.1 population an auditor samples from. One row per merged change request
 * the engine judged (a production merge), with the evidence a sample needs: who wrote it, who
 * approved it and when, whether that approval covered the final code, the required checks on the
 * merged head, who merged it, whether protection was bypassed, and each control's outcome.
 */
import type { Result } from "../../controls/types.js";
import type { EvaluationReport } from "../../engine/types.js";
import type { ChangeRequest, Repository, Snapshot } from "../../model/index.js";
import { csvRow } from "../../text/escape.js";
import {
  approvedAfterLastPush,
  bypassText,
  changeRequestControlIds,
  changeRequestResults,
  latestApprovals,
  productionMerges,
  repositoryOf,
  requiredChecksText,
} from "./common.js";

export const POPULATION_HEAD = [
  "repository",
  "number",
  "title",
  "author",
  "approvers",
  "approval_after_last_push",
  "required_checks_on_head",
  "merged_by",
  "merged_at",
  "bypassed_protection",
] as const;

/** A production merge's evidence cells of population.csv (its outcomes by control and link follow). */
export function populationCells(
  changeRequest: ChangeRequest,
  repository: Repository | undefined,
  results: Result[],
): (string | number)[] {
  const approvers = latestApprovals(changeRequest)
    .map((review) => `${review.reviewer} ${review.submittedAt}`)
    .join("; ");
  return [
    changeRequest.repository,
    changeRequest.number,
    changeRequest.title,
    changeRequest.author,
    approvers,
    approvedAfterLastPush(changeRequest) ? "yes" : "no",
    requiredChecksText(changeRequest, repository, results),
    changeRequest.mergedBy ?? "unknown",
    changeRequest.mergedAt ?? "",
    bypassText(changeRequest),
  ];
}

/**
 * The header, then one CSV line per production merge. A generator so the audit can stream a large
 * population to a file without building the whole text.
 */
export function* populationRows(snapshot: Snapshot, report: EvaluationReport): Generator<string> {
  const controlIds = changeRequestControlIds(report);
  yield csvRow([...POPULATION_HEAD, ...controlIds, "link"]);
  for (const { changeRequest, results } of productionMerges(snapshot, changeRequestResults(report))) {
    const outcomes = controlIds.map(
      (id) => results.find((result) => result.control === id)?.outcome ?? "not evaluated",
    );
    yield csvRow([
      ...populationCells(changeRequest, repositoryOf(snapshot, changeRequest.repository), results),
      ...outcomes,
      changeRequest.url,
    ]);
  }
}

export function renderPopulationCsv(snapshot: Snapshot, report: EvaluationReport): string {
  let text = "";
  for (const row of populationRows(snapshot, report)) text += row;
  return text;
}
