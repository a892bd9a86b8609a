/**
 * The change-management check on a change request: what it concludes and what it says. A failure
 * says what to do; "unknown" is never shown as a pass (it fails and names what cannot be read),
 * except while required checks are still running, which is only a wait (neutral).
 */
import type { Outcome, Result } from "../controls/types.js";
import type { PolicyError } from "../errors.js";
import type { ChangeRequest } from "../model/index.js";
import type { CheckConclusion, CheckReport } from "../providers/types.js";
import { markdownCode, markdownText, markdownUser } from "../text/escape.js";
import { codeCell, codeText, formatTime, linkText, shortSha, userCell } from "./findings/format.js";
import { clipBytes, clipCharacters, GITHUB_LIMITS, utf8Length } from "../text/limits.js";

export const CHECK_NAME = "SOC 2 change management";
/**
 * GitHub rejects a check run summary over 65,535 bytes of UTF-8 (its reference says "characters",
 * its 422 says "bytesize"): the summary is budgeted in bytes, so a report in any script fits.
 */
export const SUMMARY_LIMIT = GITHUB_LIMITS.checkRunSummaryBytes;
/** Room kept for the truncation note, which is always written when lines are left out. */
const SUMMARY_RESERVE = 1_000;

/** Untrusted text shortened before escaping, never between the halves of a character. */
function clip(text: string, max: number): string {
  return clipCharacters(text, max, "…");
}

export interface ChangeCheckInput {
  changeRequest: ChangeRequest;
  results: Result[];
  /** Policy files read from the base branch, lowest layer first. */
  policySources: string[];
  /** The base branch's policy could not be used: the check fails with its problems. */
  policyError?: PolicyError;
}

type Status = Outcome | "waiting";

const STATUS_LABEL: Record<Status, string> = {
  pass: "✅ pass",
  fail: "❌ fail",
  waiting: "⏳ waiting",
  unknown: "❔ unknown",
  "not-applicable": "➖ not applicable",
  excepted: "🛡 excepted",
};

/** Short names for the title, which has room for one line. */
const SHORT_NAMES: Record<string, string> = {
  "cc8.independent-approval": "approval",
  "cc8.approval-covers-final-code": "approval of final code",
  "cc8.required-checks": "required checks",
  "cc8.no-bypass": "no bypass",
};

export function buildChangeCheck(input: ChangeCheckInput): CheckReport {
  if (input.policyError) return policyErrorCheck(input, input.policyError);
  const { results } = input;
  const statuses = results.map(statusOf);
  const count = (status: Status): number => statuses.filter((s) => s === status).length;
  const names = (status: Status): string =>
    results
      .filter((_, i) => statuses[i] === status)
      .map((r) => shortName(r.control))
      .join(", ");

  let conclusion: CheckConclusion;
  if (count("fail") > 0) conclusion = "failure";
  else if (count("waiting") > 0) conclusion = "neutral";
  else if (count("unknown") > 0) conclusion = "failure";
  else if (results.length === 0) conclusion = "neutral";
  else conclusion = "success";

  const applicable = results.length - count("not-applicable");
  let title: string;
  if (results.length === 0) {
    title = "No change-management control was evaluated";
  } else if (applicable === 0) {
    title = `No control applies to this change request (${results.length} not applicable)`;
  } else {
    const passing = count("pass") + count("excepted");
    const parts = [`${passing} of ${applicable} controls pass`];
    if (count("excepted") > 0) parts[0] += ` (${count("excepted")} by exception)`;
    if (count("fail") > 0)
      parts.push(`${count("fail")} ${count("fail") === 1 ? "fails" : "fail"}: ${names("fail")}`);
    if (count("unknown") > 0) parts.push(`${count("unknown")} cannot be read: ${names("unknown")}`);
    if (count("waiting") > 0) parts.push(`waiting for: ${names("waiting")}`);
    title = parts.join("; ");
  }

  const essential = [
    ...header(input, conclusion),
    ...controlTable(results, statuses),
    ...howToPass(results, statuses),
  ];
  const summary = assemble(essential, evidence(input), footer(input));
  return { name: CHECK_NAME, conclusion, title: checkTitle(title), summary };
}

/**
 * One line within GitHub's byte budget. The title is built from control names and counts, but a
 * policy can name many controls: it is clipped rather than refused.
 */
function checkTitle(title: string): string {
  return clipBytes(title, GITHUB_LIMITS.checkRunTitleBytes);
}

function statusOf(result: Result): Status {
  if (result.outcome === "unknown" && result.reason.startsWith("Waiting for")) return "waiting";
  return result.outcome;
}

function shortName(control: string): string {
  return SHORT_NAMES[control] ?? control.replace(/^cc\d+\./, "").replace(/-/g, " ");
}

function header(input: ChangeCheckInput, conclusion: CheckConclusion): string[] {
  const cr = input.changeRequest;
  const verdict: Record<CheckConclusion, string> = {
    success: "This change request meets the SOC 2 change-management controls (CC8.1).",
    failure: "This change request does not meet the SOC 2 change-management controls (CC8.1) yet.",
    neutral: "The SOC 2 change-management controls (CC8.1) cannot be decided yet.",
  };
  return [
    `## ${linkText(`${cr.repository}#${cr.number}`, cr.url)}: ${markdownText(clip(cr.title, 300))}`,
    "",
    verdict[conclusion],
    "",
  ];
}

function controlTable(results: Result[], statuses: Status[]): string[] {
  if (results.length === 0) {
    return ["_The policy enables no change-management control for this repository._", ""];
  }
  const rows = results.map((result, i) => {
    const status = statuses[i] ?? result.outcome;
    let reason = markdownText(clip(result.reason, 600));
    if (result.exception) {
      const e = result.exception;
      reason +=
        ` Exception: ${markdownText(clip(e.reason, 300))} (approved by ${userCell(e.approvedBy)},` +
        ` expires ${markdownText(e.expires)}, ${codeCell(e.source)})`;
    }
    return `| ${markdownText(result.title)} (${codeCell(result.control)}) | ${STATUS_LABEL[status]} | ${reason} |`;
  });
  return ["| Control | Result | Reason |", "| --- | --- | --- |", ...rows, ""];
}

function howToPass(results: Result[], statuses: Status[]): string[] {
  const todo = results.flatMap((result, i) => {
    const status = statuses[i];
    if (status === "waiting")
      return [`- ${markdownText(result.title)}: wait for the checks to finish; this check updates itself.`];
    if (status !== "fail" && status !== "unknown") return [];
    const remediation =
      result.remediation ?? (status === "unknown" ? "Grant the missing permission, then re-run." : "");
    return [`- **${markdownText(result.title)}**: ${markdownText(clip(remediation || result.reason, 1000))}`];
  });
  return todo.length > 0 ? ["### How to pass", "", ...todo, ""] : [];
}

function evidence(input: ChangeCheckInput): string[] {
  const cr = input.changeRequest;
  const lines = [
    "### Evidence",
    "",
    `- Author: ${markdownUser(cr.author)}; ${codeText(cr.headBranch)} into ${codeText(cr.baseBranch)}`,
    `- Head commit: ${markdownCode(shortSha(cr.headSha))}` +
      (cr.mergeCommitSha ? `; merge commit ${markdownCode(shortSha(cr.mergeCommitSha))}` : ""),
    cr.mergedAt
      ? `- Merged ${formatTime(cr.mergedAt)}${cr.mergedBy ? ` by ${markdownUser(cr.mergedBy)}` : ""}`
      : `- State: ${markdownText(cr.state)}${cr.draft ? " (draft)" : ""}`,
    ...(cr.commitsTruncated
      ? ["- The code host returned only part of the commits: evidence is partial."]
      : []),
    "",
    "#### Reviews",
    "",
  ];
  if (cr.reviews.length === 0) lines.push("_No reviews._", "");
  else {
    lines.push("| Reviewer | State | Submitted | Reviewed commit |", "| --- | --- | --- | --- |");
    for (const review of [...cr.reviews].sort((a, b) => a.submittedAt.localeCompare(b.submittedAt))) {
      const who = `${userCell(review.reviewer)}${review.reviewer === cr.author ? " (author)" : ""}`;
      const commit =
        review.commitSha === null
          ? "not recorded"
          : `${codeCell(shortSha(review.commitSha))}${review.commitSha === cr.headSha ? " (final head)" : " (earlier commit)"}`;
      lines.push(
        `| ${who} | ${markdownText(review.state)} | ${formatTime(review.submittedAt)} | ${commit} |`,
      );
    }
    lines.push("");
  }
  lines.push("#### Checks", "");
  if (cr.checks.length === 0) lines.push("_No checks reported._", "");
  else {
    lines.push("| Check | Conclusion | On | Commit | Completed |", "| --- | --- | --- | --- | --- |");
    for (const check of cr.checks) {
      lines.push(
        `| ${linkText(clip(check.name, 200), check.url)} | ${markdownText(check.conclusion)} | ${check.on} | ` +
          `${codeCell(shortSha(check.sha))} | ${check.completedAt ? formatTime(check.completedAt) : "not completed"} |`,
      );
    }
    lines.push("");
  }
  const withEvidence = input.results.filter((r) => r.evidence.length > 0);
  if (withEvidence.length > 0) lines.push("#### What each control relied on", "");
  for (const result of withEvidence) {
    lines.push(`- ${markdownText(result.title)} (${markdownCode(result.control)}):`);
    for (const item of result.evidence) {
      const at = item.at ? ` (${formatTime(item.at)})` : "";
      lines.push(
        `  - ${markdownText(clip(item.label, 100))}: ${linkText(clip(item.value, 300), item.url)}${at}`,
      );
    }
  }
  return lines;
}

function footer(input: ChangeCheckInput): string[] {
  const sources = input.policySources.map((s) => codeText(s)).join(", ") || "_none_";
  return [
    "",
    "---",
    `Policy: ${sources}, read from the base branch ${codeText(input.changeRequest.baseBranch)}: ` +
      "a change request cannot change the policy that judges it.",
  ];
}

/**
 * Whole lines until the limit, counted in UTF-8 bytes as GitHub counts them; whatever does not fit is
 * counted and said, never cut mid-escape. The footer (which policy judged) is always written.
 */
function assemble(essential: string[], evidenceLines: string[], footerLines: string[]): string {
  const footerText = footerLines.join("\n");
  const budget = SUMMARY_LIMIT - SUMMARY_RESERVE - utf8Length(footerText);
  const out: string[] = [];
  let used = 0;
  let dropped = 0;
  for (const line of [...essential, ...evidenceLines]) {
    const size = utf8Length(line) + 1;
    if (dropped > 0 || used + size > budget) {
      dropped += 1;
      continue;
    }
    out.push(line);
    used += size;
  }
  if (dropped > 0) {
    out.push(
      "",
      `_Truncated: ${dropped} more lines did not fit in the check summary (GitHub allows ${SUMMARY_LIMIT} bytes); the audit export has the full evidence._`,
    );
  }
  // The footer's parts are bounded but many policy layers with long paths are not: the whole stays
  // within GitHub's limit whatever the footer holds.
  return clipBytes([...out, ...footerLines].join("\n"), SUMMARY_LIMIT);
}

function policyErrorCheck(input: ChangeCheckInput, error: PolicyError): CheckReport {
  const problems = error.problems.map(
    (p) => `- ${codeText(`${p.file}:${p.line}:${p.column}`)}: ${markdownText(clip(p.message, 500))}`,
  );
  const base = codeText(input.changeRequest.baseBranch);
  const lines = [
    "## The SOC 2 policy cannot be used",
    "",
    `No control was evaluated, so this check fails. This check uses the policy on the base branch ${base}, ` +
      "never the one in this change request: fix the policy there (a fix in this change request applies " +
      "once it is merged).",
    "",
    "### Problems",
    "",
    ...problems,
  ];
  const count = error.problems.length;
  return {
    name: CHECK_NAME,
    conclusion: "failure",
    title: checkTitle(
      `Policy error: ${count} ${count === 1 ? "problem" : "problems"} in the base branch's policy`,
    ),
    summary: assemble(lines, [], footer(input)),
  };
}
