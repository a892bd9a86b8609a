/**
 * Escaping of untrusted text (PR titles, branch names, logins, commit messages) for each place it
 * goes. Every reporter uses these; none escapes by hand.
 *
 * Two things hold in every output, whatever its format:
 * - Unicode bidirectional controls are shown, never obeyed: a right-to-left override in a branch
 *   name or title can make text read differently from what it is ("Trojan Source", CVE-2021-42574),
 *   which in evidence is exactly what must not happen. Each becomes a visible ‹U+202E›.
 * - In Markdown sent to GitHub or GitLab, nothing links to or notifies another issue, pull request
 *   or person: GitHub autolinks `#12`, `GH-12`, `owner/repo#12` and issue URLs (and adds a
 *   "mentioned this" event to the referenced issue), GitLab `#12` and `!12`; a backslash before the
 *   `#` does not stop GitHub's autolinker, so a zero-width space goes between the sign and the number.
 */
import { clipCharacters, type ClipMarker } from "./limits.js";

const ZERO_WIDTH_SPACE = "\u200B";

/** Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) and marks (LRM, RLM, ALM). */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/g;

/** Bidirectional controls made visible as their code point, e.g. ‹U+202E›: shown, never obeyed. */
export function visibleBidi(text: string): string {
  return text.replace(
    BIDI_CONTROLS,
    (ch) => `‹U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}›`,
  );
}

/**
 * Issue and pull-request references that GitHub or GitLab would link (and record on the referenced
 * issue) kept as text: `#12`, `owner/repo#12`, `GH-12`, GitLab's merge requests `!12` and epics
 * `&12` (GitLab finds references in the rendered text, where "&amp;" is "&" again). URLs lose their
 * autolink where markdownText breaks "://" and "www.".
 */
function inertReferences(text: string): string {
  return text
    .replace(/([#!&])(?=\d)/g, `$1${ZERO_WIDTH_SPACE}`)
    .replace(/\b(GH-)(?=\d)/gi, `$1${ZERO_WIDTH_SPACE}`);
}

/**
 * Markdown for GitHub/GitLab issues, check runs and summaries: no @-mention pings, no #-references
 * or cross-repo links, no markup, no HTML. The text reads the same to a person.
 */
export function markdownText(text: string): string {
  return (
    inertReferences(visibleBidi(text))
      // one line: a title cannot open a heading, a list or a table row on a new line
      .replace(/[\r\n\t\u2028\u2029]+/g, " ")
      // HTML cannot open a tag; markdown metacharacters become literal
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/[\\`*_{}[\]()#+\-.!|~=]/g, (ch) => `\\${ch}`)
      // @mentions and team mentions: a zero-width space after @ stops the ping
      .replace(/@/g, `@${ZERO_WIDTH_SPACE}`)
      // bare URLs and autolinks (GitHub autolinks "www." and scheme://)
      .replace(/:\/\//g, `:${ZERO_WIDTH_SPACE}//`)
      .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}${ZERO_WIDTH_SPACE}.`)
  );
}

/**
 * Inline code in Markdown (SHAs, branch names): backticks inside cannot close the span. GitHub and
 * GitLab neither link references nor notify mentions inside code, so only the bidi controls change.
 */
export function markdownCode(text: string): string {
  const clean = visibleBidi(text)
    .replace(/[\r\n\u2028\u2029]+/g, " ")
    .replace(/`/g, "ˋ");
  return `\`${clean}\``;
}

/** A login shown in Markdown without notifying the person. */
export function markdownUser(login: string): string {
  return markdownCode(login.replace(/^@/, ""));
}

/** HTML text and attribute values. */
export function htmlText(text: string): string {
  return visibleBidi(text).replace(/[&<>"'`]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * Plain text for places GitHub and GitLab show without Markdown but still link and notify from
 * (issue titles) and that mail and chat integrations may render as HTML: one line, no control
 * characters, bidi controls shown, no "@name" that notifies, no reference that links, no tag, no
 * URL. Escaped first and clipped after, within `maxCharacters` (code points, as the hosts count):
 * the characters the escaping adds count against the host's limit.
 */
export function titleText(text: string, maxCharacters: number, marker: ClipMarker = "…"): string {
  const escaped = inertReferences(visibleBidi(text))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/@/g, `@${ZERO_WIDTH_SPACE}`)
    .replace(/</g, "‹")
    .replace(/>/g, "›")
    .replace(/:\/\//g, `:${ZERO_WIDTH_SPACE}//`)
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}${ZERO_WIDTH_SPACE}.`)
    .replace(/\]\(/g, `]${ZERO_WIDTH_SPACE}(`);
  return clipCharacters(escaped, maxCharacters, marker);
}

/**
 * JSON text (results.json, population.json): the data is kept exactly, and bidi controls are
 * written as \u escapes, visible in the file and the same string once parsed.
 */
export function jsonText(json: string): string {
  return json.replace(BIDI_CONTROLS, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * One CSV cell (RFC 4180). Cells that a spreadsheet would run as a formula (starting with =, +, -, @,
 * tab or CR, also after leading spaces) are prefixed with a single quote, as OWASP recommends.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  let text = typeof value === "string" ? visibleBidi(value) : String(value);
  if (typeof value === "string" && /^[\s]*[=+\-@\t\r]/.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text) || text !== text.trim()) text = `"${text.replace(/"/g, '""')}"`;
  return text;
}

export function csvRow(values: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return values.map(csvCell).join(",") + "\r\n";
}
