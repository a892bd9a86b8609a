/**
 * The text of a finding issue. Deterministic for a result and an evaluation time; the only parts
 * that change with the time alone are marked volatile so the lifecycle can tell a real change
 * (new evidence, new reason) from a re-run and not notify anyone for nothing.
 */
import { findControl } from "../../controls/index.js";
import type { Evidence, Result } from "../../controls/types.js";
import { markdownText } from "../escape.js";
import { fingerprint, marker, scopeMarker } from "./fingerprint.js";
import { clip, codeCell, formatTime, linkText, plainText } from "./format.js";

export const DEFAULT_FINDING_LABEL = "soc2";
/** An exception snippet suggests this many days: long enough to fix, short enough to revisit. */
export const EXCEPTION_DAYS = 90;
/** GitHub refuses issue bodies over 65536 characters; GitLab's limit is higher. */
const BODY_BUDGET = 60_000;
const TITLE_MAX = 256;

export interface FindingContext {
  /** The evaluation time (an input, never the clock). */
  evaluatedAt: Date;
  /** The label every finding issue carries; default "soc2". */
  label?: string;
  /** Web URL of the code host, e.g. "https://github.com": links subjects without a URL of their own. */
  hostUrl?: string;
}

export interface RenderedFinding {
  title: string;
  body: string;
  labels: string[];
}

export function renderFindingIssue(result: Result, context: FindingContext): RenderedFinding {
  const label = context.label ?? DEFAULT_FINDING_LABEL;
  return {
    title: findingTitle(result),
    body: findingBody(result, context),
    labels: [label, result.criterion, result.control],
  };
}

/** e.g. "[soc2] cc8.independent-approval: acme/api#12 — Merged without an independent approval" */
export function findingTitle(result: Result): string {
  const reason = result.reason.trim().replace(/\.$/, "");
  return plainText(`[soc2] ${result.control}: ${result.subject.id} — ${reason}`, TITLE_MAX);
}

/**
 * The body without the parts that only depend on when it was rendered (the "last evaluated" line
 * and the suggested expiry date): two bodies that compare equal here say the same thing.
 */
export function comparableBody(body: string): string {
  return body
    .replace(/^<sub>Last evaluated .*<\/sub>$/gm, "")
    .replace(/^(\s+expires: )\d{4}-\d{2}-\d{2}(.*)$/gm, "$1$2")
    .trim();
}

function findingBody(result: Result, context: FindingContext): string {
  const { subject } = result;
  const subjectUrl =
    subject.url ??
    (context.hostUrl && subject.repository ? `${context.hostUrl}/${subject.repository}` : undefined);
  const head = [
    `## ${markdownText(result.title)}: ${linkText(subject.id, subjectUrl)}`,
    "",
    "| | |",
    "| --- | --- |",
    `| Criterion | ${markdownText(result.criterion)} |`,
    `| Control | ${markdownText(result.title)} (${codeCell(result.control)}) |`,
    `| Subject | ${linkText(subject.id, subjectUrl)} (${markdownText(subject.kind)}) |`,
    `| Result | ${outcomeLabel(result)} |`,
    `| Reason | ${markdownText(clip(result.reason, 1000))} |`,
    "",
  ];
  const fix = [
    "### How to fix",
    "",
    markdownText(
      clip(result.remediation ?? "Change the setting or process this control checks, then re-run.", 2000),
    ),
    "",
    // Only a control of the policy can be excepted: a snippet naming any other (a weakening alert)
    // would make the policy fail to load when pasted.
    ...(findControl(result.control)
      ? [
          "### Or accept the risk",
          "",
          "If the organization accepts this risk, add a time-bound exception to the policy on the default branch " +
            "(it is reviewed like any other change, which is the audit trail):",
          "",
          "```yaml",
          ...exceptionSnippet(result, context.evaluatedAt),
          "```",
          "",
        ]
      : []),
  ];
  const tail = [
    marker(fingerprint(result)),
    scopeMarker(result),
    `<sub>Last evaluated ${formatTime(context.evaluatedAt)} by soc2-bot.</sub>`,
  ];
  const fixed = [...head, ...fix, ...tail].join("\n").length;
  const evidence = evidenceSection(result.evidence, BODY_BUDGET - fixed);
  return [...head, ...evidence, ...fix, ...tail].join("\n");
}

function outcomeLabel(result: Result): string {
  switch (result.outcome) {
    case "fail":
      return "❌ fails";
    case "pass":
      return "✅ passes";
    case "unknown":
      return "❔ cannot be read";
    case "excepted":
      return "🛡 excepted";
    case "not-applicable":
      return "➖ not applicable";
  }
}

function evidenceSection(evidence: Evidence[], budget: number): string[] {
  if (evidence.length === 0) return ["### Evidence", "", "_The control recorded no evidence._", ""];
  const lines = ["### Evidence", "", "| Evidence | Value | When |", "| --- | --- | --- |"];
  let used = lines.join("\n").length + 200;
  let shown = 0;
  for (const item of evidence) {
    const row = `| ${markdownText(clip(item.label, 100))} | ${linkText(clip(item.value, 300), item.url)} | ${
      item.at ? formatTime(item.at) : ""
    } |`;
    if (used + row.length + 1 > budget) break;
    lines.push(row);
    used += row.length + 1;
    shown += 1;
  }
  if (shown < evidence.length) {
    lines.push(
      "",
      `_Evidence truncated: ${evidence.length - shown} more items not shown; the audit export has them all._`,
    );
  }
  lines.push("");
  return lines;
}

/** YAML the policy owner can paste under `exceptions:`; every value quoted, nothing can break out. */
function exceptionSnippet(result: Result, evaluatedAt: Date): string[] {
  const { subject } = result;
  const keys: string[] = [];
  if (subject.repository) keys.push(`      repository: ${yamlString(subject.repository)}`);
  if (subject.number !== undefined) keys.push(`      change_request: ${subject.number}`);
  if (subject.user) keys.push(`      user: ${yamlString(subject.user)}`);
  if (subject.commit) keys.push(`      commit: ${yamlString(subject.commit)}`);
  return [
    "exceptions:",
    `  - control: ${yamlString(result.control)}`,
    ...(keys.length > 0 ? ["    subject:", ...keys] : ["    subject: {}"]),
    `    reason: "<why this risk is accepted>"`,
    `    approved_by: "<who accepts it>"`,
    `    expires: ${addDays(evaluatedAt, EXCEPTION_DAYS)}`,
  ];
}

/**
 * A YAML double-quoted scalar (JSON strings are valid YAML). "@", "<", ">" and "`" are written as
 * \u escapes: the value reads the same once parsed, and cannot ping, open a tag or end the fence.
 */
function yamlString(text: string): string {
  return JSON.stringify(text).replace(
    /[@<>`]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

function addDays(date: Date, days: number): string {
  return new Date(date.getTime() + days * 86_400_000).toISOString().slice(0, 10);
}
