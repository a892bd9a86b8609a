/**
 * Small formatting helpers shared by the check report and the finding issues. Everything that
 * carries untrusted text goes through src/text/escape.ts; these only add what a table cell, a
 * link or a plain-text title needs on top.
 */
import { markdownCode, markdownText, markdownUser } from "../../text/escape.js";
import { clipCharacters, GITHUB_LIMITS } from "../../text/limits.js";

const ZERO_WIDTH_SPACE = "\u200B";

/** Cuts raw text (before escaping, so an escape sequence is never cut in half). */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * Plain text for places GitHub and GitLab do not render as Markdown (issue and check titles): one
 * line, no control or bidirectional-override characters, and no "@name" that could still notify.
 * At most `max` characters (code points, the hosts' unit) once made inert: the zero-width spaces
 * lengthen the text, so it is clipped after them (a title with 40 "@owner" would otherwise pass 256).
 */
export function plainText(text: string, max: number = GITHUB_LIMITS.issueTitleCharacters): string {
  const oneLine = text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ")
    .replace(/[\u202a-\u202e\u2066-\u2069]/g, "")
    .replace(/\s+/g, " ")
    .trim();
  const inert = oneLine
    .replace(/@/g, `@${ZERO_WIDTH_SPACE}`)
    // mail clients and chat integrations render titles as HTML or link them: keep them inert
    .replace(/</g, "‹")
    .replace(/>/g, "›")
    .replace(/:\/\//g, `:${ZERO_WIDTH_SPACE}//`)
    .replace(/\]\(/g, `]${ZERO_WIDTH_SPACE}(`);
  return clipCharacters(inert, max, "…");
}

/**
 * Inline code for untrusted names (branches, check names): an "@" inside a code span does not ping
 * on GitHub or GitLab, but mail and chat integrations may not know that, so it is broken anyway.
 */
export function codeText(text: string): string {
  return markdownCode(text.replace(/@/g, `@${ZERO_WIDTH_SPACE}`));
}

/** Inline code inside a Markdown table cell: a "|" would otherwise end the cell even inside code. */
export function codeCell(text: string): string {
  return codeText(text).replace(/\|/g, "\\|");
}

/** A login inside a Markdown table cell, without notifying the person. */
export function userCell(login: string): string {
  return markdownUser(login).replace(/\|/g, "\\|");
}

/** Only http(s) links, with the characters that could end a Markdown link destination encoded. */
export function safeUrl(url: string | null | undefined): string | undefined {
  if (!url || !/^https?:\/\//i.test(url)) return undefined;
  try {
    return new URL(url).href.replace(
      /[()'"<>\s|]/g,
      (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  } catch {
    return undefined;
  }
}

/** Escaped text, linked when the URL is a safe http(s) URL. */
export function linkText(text: string, url: string | null | undefined): string {
  const href = safeUrl(url);
  const label = markdownText(text);
  return href ? `[${label}](${href})` : label;
}

/** An ISO time as a person reads it in a report: "2026-10-02 10:00 UTC". */
export function formatTime(iso: string | Date): string {
  const date = typeof iso === "string" ? new Date(iso) : iso;
  if (Number.isNaN(date.getTime())) return markdownText(String(iso));
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export function shortSha(sha: string): string {
  return sha.slice(0, 7);
}
