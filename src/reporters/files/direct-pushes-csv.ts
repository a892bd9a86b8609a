/**
 * direct-pushes.csv: every commit that reached a production branch without a merged change request,
 * with the outcome of cc8.no-direct-push for it (an excepted emergency fix shows as "excepted").
 */
import type { Result } from "../../controls/types.js";
import type { EvaluationReport } from "../../engine/types.js";
import type { DirectPush, Snapshot } from "../../model/index.js";
import { csvRow } from "../../text/escape.js";

export const DIRECT_PUSH_HEADER = [
  "repository",
  "branch",
  "sha",
  "pushed_by",
  "author",
  "committer",
  "at",
  "message",
  "outcome",
  "exception",
  "link",
] as const;

/** cc8.no-direct-push's results by "repository@commit", the key directPushKey gives a push. */
export function directPushResults(results: readonly Result[]): Map<string, Result> {
  const byCommit = new Map<string, Result>();
  for (const result of results) {
    if (result.control !== "cc8.no-direct-push" || result.subject.kind !== "direct-push") continue;
    byCommit.set(`${result.subject.repository ?? ""}@${result.subject.commit ?? ""}`, result);
  }
  return byCommit;
}

export function directPushKey(push: DirectPush): string {
  return `${push.repository}@${push.sha}`;
}

/** One push's line of direct-pushes.csv, with the outcome of cc8.no-direct-push for it. */
export function directPushRow(push: DirectPush, result: Result | undefined): string {
  return csvRow([
    push.repository,
    push.branch,
    push.sha,
    push.pushedBy ?? "unknown",
    push.authorLogin ?? "unknown",
    push.committerLogin ?? "unknown",
    push.at,
    push.message,
    result?.outcome ?? "not evaluated",
    result?.exception
      ? `${result.exception.reason} (approved by ${result.exception.approvedBy}, expires ${result.exception.expires})`
      : "",
    push.url,
  ]);
}

export function* directPushRows(snapshot: Snapshot, report: EvaluationReport): Generator<string> {
  const byCommit = directPushResults(report.results);
  yield csvRow(DIRECT_PUSH_HEADER);
  for (const push of snapshot.directPushes) yield directPushRow(push, byCommit.get(directPushKey(push)));
}

export function renderDirectPushesCsv(snapshot: Snapshot, report: EvaluationReport): string {
  return [...directPushRows(snapshot, report)].join("");
}
