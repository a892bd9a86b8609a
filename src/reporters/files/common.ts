/**
 * Helpers the evidence files share: which results belong to which change request, what an approval
 * covered, which required checks ran. Pure; every file renders these facts the same way so the CSV,
 * the summary and the HTML report never disagree.
 */
import { findControl } from "../../controls/index.js";
import type { Result, Outcome } from "../../controls/types.js";
import type { EvaluationReport } from "../../engine/types.js";
import type { ChangeRequest, Repository, Review, Snapshot } from "../../model/index.js";

/** The CC8 controls that judge one change request, in report order: one population column each. */
export const CHANGE_REQUEST_CONTROLS = [
  "cc8.independent-approval",
  "cc8.approval-covers-final-code",
  "cc8.required-checks",
  "cc8.no-bypass",
] as const;

export const OUTCOMES: readonly Outcome[] = ["pass", "fail", "unknown", "excepted", "not-applicable"];

export function evidenceText(result: Pick<Result, "evidence">): string {
  return result.evidence.map((item) => `${item.label}: ${item.value}`).join("; ");
}

export function changeRequestId(changeRequest: Pick<ChangeRequest, "repository" | "number">): string {
  return `${changeRequest.repository}#${changeRequest.number}`;
}

/** Change-request results by subject id: a change request that has some was judged as a production merge. */
export function changeRequestResults(report: EvaluationReport): Map<string, Result[]> {
  const bySubject = new Map<string, Result[]>();
  for (const result of report.results) {
    if (result.subject.kind !== "change-request") continue;
    const list = bySubject.get(result.subject.id);
    if (list) list.push(result);
    else bySubject.set(result.subject.id, [result]);
  }
  return bySubject;
}

/** Population columns: the known CC8 controls, then any other control that judged change requests. */
export function changeRequestControlIds(report: EvaluationReport): string[] {
  const ids: string[] = [...CHANGE_REQUEST_CONTROLS];
  for (const result of report.results) {
    if (result.subject.kind === "change-request" && !ids.includes(result.control)) ids.push(result.control);
  }
  return ids;
}

/**
 * Merged change requests the engine judged (production merges), in snapshot order. A change request
 * whose every result is not-applicable went to a branch that is not production (the controls say so).
 */
export function* productionMerges(
  snapshot: Snapshot,
  bySubject: Map<string, Result[]>,
): Generator<{ changeRequest: ChangeRequest; results: Result[] }> {
  for (const changeRequest of snapshot.changeRequests) {
    if (changeRequest.state !== "merged") continue;
    const results = bySubject.get(changeRequestId(changeRequest));
    if (results?.some((result) => result.outcome !== "not-applicable")) yield { changeRequest, results };
  }
}

/** The latest approving review of each reviewer, oldest first. */
export function latestApprovals(changeRequest: ChangeRequest): Review[] {
  const latest = new Map<string, Review>();
  for (const review of changeRequest.reviews) {
    if (review.state !== "approved") continue;
    const seen = latest.get(review.reviewer);
    if (!seen || Date.parse(review.submittedAt) >= Date.parse(seen.submittedAt)) {
      latest.set(review.reviewer, review);
    }
  }
  return [...latest.values()].sort((a, b) => Date.parse(a.submittedAt) - Date.parse(b.submittedAt));
}

/** When the head last changed: the last recorded push, else the last commit (hosts without push events). */
export function lastPushAt(changeRequest: ChangeRequest): number | null {
  const times = changeRequest.pushes.map((push) => Date.parse(push.at));
  if (times.length === 0)
    times.push(...changeRequest.commits.map((commit) => Date.parse(commit.committedAt)));
  return times.length === 0 ? null : Math.max(...times);
}

/**
 * Whether an approval by someone other than the author covered the final code: it names the merged
 * head, or (hosts that do not record the commit) it came at or after the last push. The author's own
 * approval never counts, as an auditor would not accept it.
 */
export function approvedAfterLastPush(changeRequest: ChangeRequest): boolean {
  const last = lastPushAt(changeRequest);
  return latestApprovals(changeRequest).some((review) => {
    if (review.reviewer === changeRequest.author) return false;
    if (review.commitSha !== null) return review.commitSha === changeRequest.headSha;
    return last !== null && Date.parse(review.submittedAt) >= last;
  });
}

export function repositoryOf(snapshot: Snapshot, fullName: string): Repository | undefined {
  return snapshot.repositories.find((repository) => repository.fullName === fullName);
}

/**
 * "name: conclusion" for each check required on the base branch, as it ran on the merged head. Falls
 * back to the cc8.required-checks evidence, then to every check on the head, when the rules are not
 * readable; says so rather than leaving the cell empty.
 */
export function requiredChecksText(
  changeRequest: ChangeRequest,
  repository: Repository | undefined,
  results: Result[],
): string {
  const onHead = changeRequest.checks.filter((check) => check.sha === changeRequest.headSha);
  const rules = repository?.branchRules;
  if (rules?.known) {
    const rule = rules.value.find((candidate) => candidate.branch === changeRequest.baseBranch);
    if (rule) {
      if (rule.requiredStatusChecks.length === 0) return "none required";
      return rule.requiredStatusChecks
        .map((name) => {
          const check = onHead.find((candidate) => candidate.name === name);
          return `${name}: ${check ? check.conclusion : "missing"}`;
        })
        .join("; ");
    }
  }
  const evaluated = results.find((result) => result.control === "cc8.required-checks");
  if (evaluated && evaluated.evidence.length > 0) return evidenceText(evaluated);
  const prefix =
    rules && !rules.known ? `required checks unknown (needs ${rules.permission}); ran: ` : "ran: ";
  return prefix + (onHead.map((check) => `${check.name}: ${check.conclusion}`).join("; ") || "none");
}

export function bypassText(changeRequest: ChangeRequest): "yes" | "no" | "unknown" {
  const bypass = changeRequest.bypassedProtection;
  if (!bypass.known) return "unknown";
  return bypass.value ? "yes" : "no";
}

/** The organization (or group) the evidence is about: from the facts, else the repositories' owner. */
export function organizationName(snapshot: Snapshot): string {
  return organizationNameOf(
    snapshot.organization,
    snapshot.repositories.map((repository) => repository.fullName),
  );
}

/** organizationName from the organization's facts and the repositories' names. */
export function organizationNameOf(
  organization: Snapshot["organization"],
  repositories: readonly string[],
): string {
  if (organization) return organization.login;
  const owners = new Set(repositories.map((fullName) => fullName.split("/")[0] ?? ""));
  return [...owners].filter((owner) => owner !== "").join(", ") || "(no organization)";
}

export function periodText(period: { since: string; until: string } | null): string {
  return period ? `${period.since} to ${period.until}` : "single change (no period)";
}

/** A control's line in the summary and the report: its identity and how many results had each outcome. */
export interface ControlRow {
  id: string;
  criterion: string;
  title: string;
  totals: Record<Outcome, number>;
}

/** Controls in report order (first appearance in totals, then in results) with their identity. */
export function controlRows(report: EvaluationReport): ControlRow[] {
  const ids: string[] = Object.keys(report.totals);
  for (const result of report.results) if (!ids.includes(result.control)) ids.push(result.control);
  return ids.map((id) => {
    const sample = report.results.find((result) => result.control === id);
    const totals = { pass: 0, fail: 0, unknown: 0, excepted: 0, "not-applicable": 0 };
    const given = report.totals[id];
    if (given) for (const outcome of OUTCOMES) totals[outcome] = given[outcome] ?? 0;
    else for (const result of report.results) if (result.control === id) totals[result.outcome] += 1;
    // a control with no result (disabled, or nothing to judge) still gets its name from the registry
    const known = sample ?? findControl(id);
    return { id, criterion: known?.criterion ?? "", title: known?.title ?? id, totals };
  });
}
