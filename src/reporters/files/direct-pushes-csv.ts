/**
 * direct-pushes.csv: every commit that reached a production branch without a merged change request,
 * with the outcome of cc8.no-direct-push for it (an excepted emergency fix shows as "excepted").
 */
import type { Result } from "../../controls/types.js";
import type { EvaluationReport } from "../../engine/types.js";
import type { Snapshot } from "../../model/index.js";
import { csvRow } from "../../text/escape.js";

export function* directPushRows(snapshot: Snapshot, report: EvaluationReport): Generator<string> {
  const byCommit = new Map<string, Result>();
  for (const result of report.results) {
    if (result.control !== "cc8.no-direct-push" || result.subject.kind !== "direct-push") continue;
    byCommit.set(`${result.subject.repository ?? ""}@${result.subject.commit ?? ""}`, result);
  }
  yield csvRow([
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
  ]);
  for (const push of snapshot.directPushes) {
    const result = byCommit.get(`${push.repository}@${push.sha}`);
    yield csvRow([
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
}

export function renderDirectPushesCsv(snapshot: Snapshot, report: EvaluationReport): string {
  return [...directPushRows(snapshot, report)].join("");
}
