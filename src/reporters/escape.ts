/**
 * Escaping of untrusted text (PR titles, branch names, logins, commit messages) for each place it
 * goes. Every reporter uses these; none escapes by hand.
 */

const ZERO_WIDTH_SPACE = "\u200B";

/**
 * Markdown for GitHub/GitLab issues, check runs and summaries: no @-mention pings, no #-references
 * or cross-repo links, no markup, no HTML. The text reads the same to a person.
 */
export function markdownText(text: string): string {
  return (
    text
      // one line: a title cannot open a heading, a list or a table row on a new line
      .replace(/[\r\n\t]+/g, " ")
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

/** Inline code in Markdown (SHAs, branch names): backticks inside cannot close the span. */
export function markdownCode(text: string): string {
  const clean = text.replace(/[\r\n]+/g, " ").replace(/`/g, "ˋ");
  return `\`${clean}\``;
}

/** A login shown in Markdown without notifying the person. */
export function markdownUser(login: string): string {
  return markdownCode(login.replace(/^@/, ""));
}

/** HTML text and attribute values. */
export function htmlText(text: string): string {
  return text.replace(/[&<>"'`]/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * One CSV cell (RFC 4180). Cells that a spreadsheet would run as a formula (starting with =, +, -, @,
 * tab or CR, also after leading spaces) are prefixed with a single quote, as OWASP recommends.
 */
export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && /^[\s]*[=+\-@\t\r]/.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text) || text !== text.trim()) text = `"${text.replace(/"/g, '""')}"`;
  return text;
}

export function csvRow(values: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return values.map(csvCell).join(",") + "\r\n";
}
