/**
 * The text of a finding issue. Deterministic for a result and an evaluation time; the only parts
 * that change with the time alone are marked volatile so the lifecycle can tell a real change
 * (new evidence, new reason) from a re-run and not notify anyone for nothing.
 */
import { findControl } from "../../controls/index.js";
import type { Evidence, Result } from "../../controls/types.js";
import { markdownText } from "../../text/escape.js";
import { characterLength, clipCharacters, GITHUB_LIMITS } from "../../text/limits.js";
import {
  changeGroupId,
  changeGroupScope,
  changesMarker,
  fingerprint,
  marker,
  scopeMarker,
  scopeMarkerOf,
  type ChangeGroupState,
} from "./fingerprint.js";
import { clip, codeCell, formatTime, linkText, plainText, safeUrl } from "./format.js";

export const DEFAULT_FINDING_LABEL = "soc2";
/** An exception snippet suggests this many days: long enough to fix, short enough to revisit. */
export const EXCEPTION_DAYS = 90;
/** What a tracker accepts, in characters (code points); GitHub's (the strictest) when not said. */
export interface FindingLimits {
  titleCharacters: number;
  bodyCharacters: number;
}

export const DEFAULT_FINDING_LIMITS: FindingLimits = {
  titleCharacters: GITHUB_LIMITS.issueTitleCharacters,
  bodyCharacters: GITHUB_LIMITS.issueBodyCharacters,
};

/** Room kept free of evidence rows in a body: the head, the fix and the markers are budgeted apart. */
const BODY_MARGIN = 5_000;

export interface FindingContext {
  /** The evaluation time (an input, never the clock). */
  evaluatedAt: Date;
  /** The label every finding issue carries; default "soc2". */
  label?: string;
  /** Web URL of the code host, e.g. "https://github.com": links subjects without a URL of their own. */
  hostUrl?: string;
  /** The tracker's limits; default GitHub's. */
  limits?: FindingLimits;
}

export interface RenderedFinding {
  title: string;
  body: string;
  labels: string[];
}

export function renderFindingIssue(result: Result, context: FindingContext): RenderedFinding {
  const label = context.label ?? DEFAULT_FINDING_LABEL;
  return {
    title: findingTitle(result, (context.limits ?? DEFAULT_FINDING_LIMITS).titleCharacters),
    body: findingBody(result, context),
    labels: [label, result.criterion, result.control],
  };
}

/** e.g. "[soc2] cc8.independent-approval: acme/api#12 — Merged without an independent approval" */
export function findingTitle(
  result: Result,
  maxCharacters: number = DEFAULT_FINDING_LIMITS.titleCharacters,
): string {
  const reason = result.reason.trim().replace(/\.$/, "");
  return plainText(`[soc2] ${result.control}: ${result.subject.id} — ${reason}`, maxCharacters);
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
  const limit = (context.limits ?? DEFAULT_FINDING_LIMITS).bodyCharacters;
  const fixed = [...head, ...fix, ...tail].join("\n").length;
  const evidence = evidenceSection(result.evidence, limit - BODY_MARGIN - fixed);
  return fitBody([...head, ...evidence, ...fix].join("\n"), tail.join("\n"), limit);
}

/**
 * The body within the tracker's limit, whatever went into it: the content is clipped (visibly), the
 * markers after it never, so the finding is still found again by its fingerprint.
 */
function fitBody(content: string, tail: string, limit: number): string {
  const room = Math.max(0, limit - characterLength(tail) - 1);
  const clipped = clipCharacters(
    content,
    room,
    (n) =>
      `\n\n_… clipped here: ${n} more characters did not fit the issue tracker's limit; the evidence package has the whole finding._\n`,
  );
  return `${clipped}\n${tail}`;
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
function exceptionSnippet(result: Pick<Result, "control" | "subject">, evaluatedAt: Date): string[] {
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

// ---- one finding per control and repository, listing its failing change requests ----

/** What a grouped finding lists; the lifecycle merges it from this run's results and the issue's state. */
export interface ChangeGroupFinding {
  control: string;
  repository: string;
  /** The failing changes' numbers, and the line (changeLine) of each: one line for every number. */
  failing: readonly number[];
  lines: ReadonlyMap<number, string>;
  /** Older failing changes the issue had no room left to track one by one (still counted). */
  dropped: number;
  /** Web address of a change with "{n}" for its number, to link changes no result of this run names. */
  urlTemplate: string;
  /** Said above the list (e.g. why the issue is kept when grouping is off). */
  note?: string;
  /** What this run's failing results say to do; else the control's own remediation. */
  remediation?: string;
  /**
   * The "How to fix" text of the issue as it stands (already Markdown), used when this run has no
   * failing result to say it: a sync of only passing changes must not swap a result's advice for the
   * control's default, which the next failing change would swap back (an edit, a notification, each time).
   */
  remediationMarkdown?: string;
}

export interface RenderedChangeGroup extends RenderedFinding {
  /** The state hidden in the body (numbers it could not keep are added to `dropped`). */
  state: ChangeGroupState;
  /** Lines shown; the others are counted under the list. */
  shown: number;
}

/** "cc8.independent-approval" in "acme/api": the fingerprint of its grouped finding. */
export function changeGroupFingerprint(control: string, repository: string): string {
  return fingerprint({ control, subject: { kind: "repository", id: changeGroupId(repository) } });
}

/** The web address of change `number` from a template ("{n}" for the number). */
export function changeUrl(template: string, number: number): string | undefined {
  return template.includes("{n}") ? template.replace("{n}", String(number)) : undefined;
}

/** A template from a change's own address, when it ends in its number (GitHub's and GitLab's do). */
export function urlTemplateOf(url: string | null | undefined, number: number): string | undefined {
  if (!url) return undefined;
  const suffix = `/${number}`;
  return url.endsWith(suffix) ? `${url.slice(0, -suffix.length)}/{n}` : undefined;
}

/**
 * One line of a grouped finding: the change (linked) and what fails. The lifecycle reads the number
 * back from an earlier body (after the "#", or GitLab's "!", the label ends in); a change without an
 * address is a code span, where neither GitHub nor GitLab links "#12".
 */
export function changeLine(
  repository: string,
  number: number,
  url: string | null | undefined,
  what: string,
): string {
  const href = safeUrl(url);
  // GitLab names a merge request `!12` (its `#12` is an issue); GitHub a pull request `#12`.
  const sigil = href && /\/-\/merge_requests\/\d+$/.test(href) ? "!" : "#";
  const label = href
    ? `[${markdownText(`${repository}${sigil}${number}`)}](${href})`
    : codeCell(`${repository}#${number}`);
  return `- ${label} — ${markdownText(clip(what, 300))}`;
}

const LINE = /^- (?:\[.*[#!]\u200B?(\d+)\]\(|`[^`]*#\u200B?(\d+)`)/;

/** The lines of an earlier grouped body, by change number: a change no result names keeps its line. */
export function changeLinesOf(body: string | null | undefined): Map<number, string> {
  const lines = new Map<number, string>();
  for (const line of (body ?? "").split("\n")) {
    const match = LINE.exec(line);
    const number = Number(match?.[1] ?? match?.[2]);
    if (match && Number.isSafeInteger(number)) lines.set(number, line);
  }
  return lines;
}

const FIX_SECTION = /\n### How to fix\n\n([\s\S]{1,4000}?)\n\n(?:### |<!-- soc2-bot:)/;

/** The "How to fix" text of an earlier grouped body, as it was rendered (Markdown). */
export function remediationOf(body: string | null | undefined): string | undefined {
  const text = body ? FIX_SECTION.exec(body)?.[1] : undefined;
  return text && text.trim() ? text : undefined;
}

export function renderChangeGroupIssue(
  group: ChangeGroupFinding,
  context: FindingContext,
): RenderedChangeGroup {
  const label = context.label ?? DEFAULT_FINDING_LABEL;
  const limits = context.limits ?? DEFAULT_FINDING_LIMITS;
  const control = findControl(group.control);
  const controlTitle = control?.title ?? group.control;
  const criterion = control?.criterion ?? "";
  // Newest first; the state keeps the newest numbers when it has to give some up.
  const failing = [...new Set(group.failing)].sort((a, b) => b - a);
  const state = fitState({ urlTemplate: group.urlTemplate, failing, dropped: group.dropped }, limits);
  const kept = state.failing;
  const count = kept.length + state.dropped;
  const changes = `${count} merged change request${count === 1 ? "" : "s"}`;
  const title = plainText(
    `[soc2] ${group.control}: ${group.repository} — ${changes} fail${count === 1 ? "s" : ""}`,
    limits.titleCharacters,
  );
  const repositoryUrl = context.hostUrl
    ? `${context.hostUrl}/${group.repository}`
    : group.urlTemplate.replace(/\/(?:-\/)?(?:pull|merge_requests)\/\{n\}$/, "");
  const where = linkText(group.repository, repositoryUrl);
  const head = [
    `## ${markdownText(controlTitle)}: failing change requests in ${where}`,
    "",
    "| | |",
    "| --- | --- |",
    `| Criterion | ${markdownText(criterion)} |`,
    `| Control | ${markdownText(controlTitle)} (${codeCell(group.control)}) |`,
    `| Repository | ${where} |`,
    `| Result | ❌ ${changes} fail${count === 1 ? "s" : ""} |`,
    "",
    ...(group.note ? [group.note, ""] : []),
    `### Failing change requests (${count})`,
    "",
    "Newest first. A change request leaves this list when it passes or a policy exception covers it; " +
      "this issue closes when none is left, and each change's evidence is in the audit's evidence package.",
    "",
  ];
  const newest = kept[0];
  const fix = [
    "### How to fix",
    "",
    group.remediation === undefined && group.remediationMarkdown
      ? group.remediationMarkdown
      : markdownText(
          clip(
            group.remediation ??
              control?.remediation ??
              "Change the process this control checks, then re-run.",
            2000,
          ),
        ),
    "",
    ...(control && newest !== undefined
      ? [
          "### Or accept the risk",
          "",
          "An exception covers one change request (name the repository and its number). If the organization " +
            "accepts this risk for a change, add a time-bound exception to the policy on the default branch " +
            "(it is reviewed like any other change, which is the audit trail), e.g. for the newest:",
          "",
          "```yaml",
          ...exceptionSnippet(
            {
              control: group.control,
              subject: {
                kind: "change-request",
                id: `${group.repository}#${newest}`,
                repository: group.repository,
                number: newest,
              },
            },
            context.evaluatedAt,
          ),
          "```",
          "",
        ]
      : []),
  ];
  const tail = [
    marker(changeGroupFingerprint(group.control, group.repository)),
    scopeMarkerOf(group.control, changeGroupScope(group.repository)),
    changesMarker(state),
    `<sub>Last evaluated ${formatTime(context.evaluatedAt)} by soc2-bot.</sub>`,
  ];
  // Room for the list: what the limit leaves after everything else and the two notes under it.
  const fixedLength = [...head, ...fix, ...tail].join("\n").length + 600;
  let room = limits.bodyCharacters - fixedLength;
  const list: string[] = [];
  for (const number of kept) {
    const line =
      group.lines.get(number) ??
      changeLine(group.repository, number, changeUrl(group.urlTemplate, number), "fails this control");
    if (line.length + 1 > room) break;
    list.push(line);
    room -= line.length + 1;
  }
  const notes: string[] = [];
  if (list.length < kept.length) {
    notes.push(
      "",
      `_… and ${kept.length - list.length} more failing change requests not shown here (the issue tracker's size ` +
        "limit): every change and its evidence is in the evidence package of the audit that found it " +
        "(`population.csv`, `results.csv`)._",
    );
  }
  if (state.dropped > 0) {
    notes.push(
      "",
      `_${state.dropped} older failing change requests are counted but no longer tracked one by one in this issue ` +
        "(its size limit): each is in the evidence package of the audit that found it._",
    );
  }
  const body = fitBody(
    [...head, ...list, ...notes, "", ...fix].join("\n"),
    tail.join("\n"),
    limits.bodyCharacters,
  );
  return {
    title,
    body,
    labels: [label, criterion || group.control, group.control],
    state,
    shown: list.length,
  };
}

/**
 * The state within half the body (ten thousand changes or so fit): beyond, the oldest numbers are
 * given up and counted, so the finding still says how many fail, and the list keeps the newest.
 */
function fitState(state: ChangeGroupState, limits: FindingLimits): ChangeGroupState {
  const budget = Math.floor(limits.bodyCharacters / 2);
  let failing = state.failing;
  let dropped = state.dropped;
  for (;;) {
    const excess = changesMarker({ ...state, failing, dropped: dropped + 1_000_000 }).length - budget;
    if (excess <= 0 || failing.length === 0) break;
    // each number takes at least two characters ("1."): give up about enough at once
    const giveUp = Math.max(1, Math.ceil(excess / 2));
    dropped += Math.min(giveUp, failing.length);
    failing = failing.slice(0, Math.max(0, failing.length - giveUp));
  }
  return { urlTemplate: state.urlTemplate, failing, dropped };
}
