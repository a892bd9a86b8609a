/**
 * The configuration timeline of an exported period, as the auditor reads it: per subject (a
 * repository or an organization), every configuration change the ledger observed in the period with
 * where the observation came from (a webhook, its delivery and who made the change, or a scheduled
 * observation that names nobody), every window in which a control was weakened (when, by whom, when
 * restored or that it still was at the end of the period), and the merges into the affected branch
 * that landed inside each window with their verdicts as judged then. Built from the ledger by
 * src/ledger/period.ts, one subject at a time; rendered here. Logins, branch names and values come
 * from the code host and are untrusted: every cell goes through src/text/escape.ts.
 */
import type { Outcome } from "../../controls/types.js";
import { csvRow, markdownCode, markdownText } from "../../text/escape.js";

/** Where an observation came from, as recorded. */
export interface TimelineSource {
  trigger: string;
  event: string | null;
  deliveryId: string | null;
  /** Who made the change, when a webhook named them; null for scheduled observations. */
  actor: string | null;
}

export interface TimelinePoint {
  stream: string;
  sequence: number;
  observedAt: string;
  source: TimelineSource;
}

/** One changed fact: its path in the observed facts and its value before and after (absent: none). */
export interface TimelineFactChange {
  path: string[];
  before?: unknown;
  after?: unknown;
}

export interface TimelineChange extends TimelinePoint {
  /** The subject's first observation (recorded whole): nothing before it to compare with. */
  first: boolean;
  changes: TimelineFactChange[];
}

export interface MergeVerdict {
  /** "app judgement (judgement:github/acme/api record 7)" or "audit:github/acme record 2". */
  by: string;
  judgedAt: string;
  /** The worst outcome of the change's results. */
  outcome: Outcome;
  /** How many of its results had each outcome. */
  counts: Partial<Record<Outcome, number>>;
  /** The results that did not pass (fail, unknown, excepted), with their reasons; the rest are counted only. */
  notPassing: { control: string; outcome: Outcome; reason: string }[];
}

export interface TimelineMerge {
  host: string;
  repository: string;
  number: number;
  branch: string;
  mergedAt: string;
  /** The verdict it was first given: the app's at merge time, else the first audit run's that held it. */
  verdicts: MergeVerdict[];
  /** Where the merge is recorded: the app's judgements, or for a merge the app never judged, the audit runs that hold it. */
  recordedIn: string[];
}

export interface TimelineWindow {
  aspect: string;
  kind: string;
  details: string[];
  weakened: TimelinePoint;
  /** Who weakened it, when the record says so (a webhook whose event can make that change); null: not known. */
  weakenedBy: string | null;
  /** null: not restored by any observation the ledger holds. */
  restored: TimelinePoint | null;
  restoredBy: string | null;
  /** Not restored before the period's end (restored after it, or not at all). */
  stillWeakenedAtEnd: boolean;
  /** The branches whose merges are listed; null when the window is organization-wide. */
  branches: string[] | null;
  /** Why no merges are listed, or how they were found. */
  note: string | null;
  merges: TimelineMerge[];
}

export interface TimelineSubject {
  host: string;
  subject: string;
  kind: "repository" | "organization";
  stream: string;
  changes: TimelineChange[];
  windows: TimelineWindow[];
}

export interface TimelineSummary {
  since: string;
  until: string;
  ledger: string;
  subjects: number;
  subjectsChanged: number;
  changes: number;
  windows: number;
  stillWeakened: number;
  mergesInWindows: number;
  /** Records that could not be read (their facts are missing from the timeline). */
  problems: string[];
}

/** A Markdown table cell holding a name: code, with "|" escaped (GFM splits on it even in code). */
function cell(text: string): string {
  return markdownCode(text).replace(/\|/g, "\\|");
}

/** A value in a Markdown cell: long values are cut, saying so; the JSON file holds them whole. */
const VALUE_LIMIT = 300;

export function describeValue(value: unknown): string {
  if (value === undefined) return "(none)";
  const text = JSON.stringify(value) ?? "null";
  return text;
}

function valueCell(value: unknown): string {
  const text = describeValue(value);
  if (text.length <= VALUE_LIMIT) return cell(text);
  return `${cell(text.slice(0, VALUE_LIMIT))} … (${text.length} characters in all: see configuration-timeline.json)`;
}

/** A fact's path as a person reads it: the Known wrapper's "value" left out ("branchRules › main › requiredApprovals"). */
export function describePath(path: readonly string[]): string {
  const shown = path.filter((part, index) => !(part === "value" && index === 1));
  return shown.length === 0 ? "(the whole subject)" : shown.join(" › ");
}

/**
 * Where an observation came from. A webhook's sender is who sent the event, not necessarily who made
 * every change the observation found (the facts are read again whole): a weakening names who made it
 * only when the event could have (see changedBy in src/ledger/weakening.ts).
 */
export function describeSource(source: TimelineSource): string {
  if (source.trigger === "webhook") {
    return (
      `webhook ${source.event ?? "(event not recorded)"}` +
      (source.deliveryId ? `, delivery ${source.deliveryId}` : "") +
      `, sent by ${source.actor ?? "(nobody named)"}`
    );
  }
  const what =
    source.trigger === "schedule"
      ? "daily observation (scheduled audit)"
      : `daily observation (${source.trigger} audit)`;
  return `${what}, names nobody`;
}

function whoText(by: string | null): string {
  return by === null ? "who is not known from the ledger (the host's audit log names who)" : `by ${by}`;
}

/** When, by whom, and the observation that shows it, in Markdown: the time as written, the rest escaped. */
function pointMarkdown(point: TimelinePoint, by: string | null): string {
  return `${point.observedAt}, ${markdownText(whoText(by))}; observed by ${markdownText(describeSource(point.source))} (${cell(`${point.stream} record ${point.sequence}`)})`;
}

function verdictText(merge: TimelineMerge): string {
  if (merge.verdicts.length === 0) return "no verdict recorded";
  return merge.verdicts
    .map((verdict) => {
      const notPassing = verdict.notPassing;
      return (
        `${verdict.outcome} by ${verdict.by}, ${verdict.judgedAt}` +
        (notPassing.length > 0 ? ` (${notPassing.map((r) => `${r.control}: ${r.outcome}`).join(", ")})` : "")
      );
    })
    .join("; ");
}

export function timelineMarkdownHeader(summary: TimelineSummary): string {
  const lines = [
    "# Configuration timeline",
    "",
    `Period: ${summary.since} to ${summary.until} (UTC). Ledger: ${markdownText(summary.ledger)}.`,
    "",
    "What the ledger observed of each repository's and organization's configuration during the period: every change with where the observation came from " +
      "(a webhook names its delivery and who made the change; a daily observation names nobody), every window in which a control was weakened, " +
      "and the merges into the affected branch that landed inside each window with their verdicts as judged then.",
    "",
    `- Subjects observed: ${summary.subjects} (${summary.subjectsChanged} with a change in the period, ${summary.changes} changes in all)`,
    `- Weakening windows overlapping the period: ${summary.windows} (${summary.stillWeakened} still weakened at the end of the period)`,
    `- Merges that landed inside a weakening window: ${summary.mergesInWindows}`,
    "",
  ];
  if (summary.problems.length > 0) {
    lines.push("## Records that could not be read", "");
    for (const problem of summary.problems) lines.push(`- ${markdownText(problem)}`);
    lines.push("");
  }
  if (summary.subjects === 0) {
    lines.push(
      "The ledger holds no configuration observation: nothing shows how anything was configured.",
      "",
    );
  }
  return `${lines.join("\n")}\n`;
}

/** One subject's section of configuration-timeline.md (subjects with neither changes nor windows are left out). */
export function timelineMarkdownSubject(subject: TimelineSubject): string {
  const lines = [`## ${cell(`${subject.host}:${subject.subject}`)} (${subject.kind})`, ""];
  lines.push("### Weakening windows", "");
  if (subject.windows.length === 0) lines.push("None overlapping the period.", "");
  for (const window of subject.windows) {
    lines.push(
      `#### ${markdownText(window.kind)}: ${cell(window.aspect)}`,
      "",
      `- Weakened: ${pointMarkdown(window.weakened, window.weakenedBy)}`,
      `- Restored: ${window.restored ? pointMarkdown(window.restored, window.restoredBy) : "still weakened at the end of the period"}` +
        (window.restored && window.stillWeakenedAtEnd ? ", after the end of the period" : ""),
      ...window.details.map((detail) => `- ${markdownText(detail)}`),
      "",
    );
    if (window.note) lines.push(markdownText(window.note), "");
    if (window.branches !== null) {
      if (window.merges.length === 0) {
        lines.push(
          `No merge into ${window.branches.map(cell).join(", ") || "(no production branch known)"} landed inside this window.`,
          "",
        );
      } else {
        lines.push(
          "| Change | Branch | Merged | Verdict as judged then | Recorded in |",
          "| --- | --- | --- | --- | --- |",
        );
        for (const merge of window.merges) {
          lines.push(
            `| ${cell(`${merge.repository}#${merge.number}`)} | ${cell(merge.branch)} | ${merge.mergedAt} | ${markdownText(verdictText(merge))} | ${markdownText(merge.recordedIn.join("; "))} |`,
          );
        }
        lines.push("");
      }
    }
  }
  lines.push("### Changes observed in the period", "");
  if (subject.changes.length === 0) lines.push("None.", "");
  else {
    lines.push("| Observed | Source | What changed | Before | After |", "| --- | --- | --- | --- | --- |");
    for (const change of subject.changes) {
      const source = `${markdownText(describeSource(change.source))} (record ${change.sequence})`;
      if (change.first) {
        lines.push(`| ${change.observedAt} | ${source} | first observation (recorded whole) | | |`);
        continue;
      }
      for (const fact of change.changes) {
        lines.push(
          `| ${change.observedAt} | ${source} | ${cell(describePath(fact.path))} | ${valueCell(fact.before)} | ${valueCell(fact.after)} |`,
        );
      }
    }
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}

/** The subjects observed with neither a change nor a weakening in the period, named so none is silently absent. */
export function timelineMarkdownUnchanged(names: readonly string[]): string {
  return `## Observed with no change in the period\n\n${names.map((name) => `- ${markdownCode(name)}`).join("\n")}\n`;
}

export const TIMELINE_CSV_HEADER = [
  "row",
  "host",
  "subject",
  "at",
  "until",
  "source",
  "observation",
  "aspect_or_fact",
  "before",
  "after_or_detail",
  "verdict",
] as const;

/** configuration-timeline.csv rows of one subject: its changes, its windows, and each window's merges. */
export function* timelineCsvRows(subject: TimelineSubject): Generator<string> {
  for (const change of subject.changes) {
    const base = [subject.host, subject.subject, change.observedAt, "", describeSource(change.source)];
    const observation = `${change.stream} record ${change.sequence}`;
    if (change.first) {
      yield csvRow(["first-observation", ...base, observation, "", "", "recorded whole", ""]);
      continue;
    }
    for (const fact of change.changes) {
      yield csvRow([
        "change",
        ...base,
        observation,
        describePath(fact.path),
        describeValue(fact.before),
        describeValue(fact.after),
        "",
      ]);
    }
  }
  for (const window of subject.windows) {
    yield csvRow([
      "weakening",
      subject.host,
      subject.subject,
      window.weakened.observedAt,
      window.restored && !window.stillWeakenedAtEnd
        ? window.restored.observedAt
        : "still weakened at the end of the period",
      `${whoText(window.weakenedBy)}; observed by ${describeSource(window.weakened.source)}`,
      `${window.weakened.stream} record ${window.weakened.sequence}`,
      window.aspect,
      window.kind,
      window.details.join("; "),
      "",
    ]);
    if (window.restored) {
      yield csvRow([
        "restored",
        subject.host,
        subject.subject,
        window.restored.observedAt,
        "",
        `${whoText(window.restoredBy)}; observed by ${describeSource(window.restored.source)}`,
        `${window.restored.stream} record ${window.restored.sequence}`,
        window.aspect,
        "",
        "",
        "",
      ]);
    }
    for (const merge of window.merges) {
      yield csvRow([
        "merge-in-window",
        merge.host,
        merge.repository,
        merge.mergedAt,
        "",
        "",
        `#${merge.number}`,
        window.aspect,
        merge.branch,
        merge.recordedIn.join("; "),
        verdictText(merge),
      ]);
    }
  }
}
