/**
 * The hosts' content limits, in the hosts' own units, and clipping that fits text into them without
 * splitting a character. A host refuses (422/400) the whole write when one field is over its limit,
 * so every text we build for a host is clipped here, visibly, never silently.
 *
 * Units: GitHub and GitLab count a field's "characters" as Unicode code points (Ruby's
 * String#length on UTF-8), not UTF-16 code units as JavaScript's `length` does; GitHub's check-run
 * output is limited in UTF-8 bytes although its REST reference says "characters" (the 422 says
 * "summary exceeds a maximum bytesize of 65535"; github/docs#35252).
 */

/**
 * GitHub (github.com and GHES).
 * - Issue title: 256 characters (422 `title is too long (maximum is 256 characters)`).
 * - Issue body and issue/pull-request comment body: 65,536 characters (422 `body is too long
 *   (maximum is 65536 characters)`).
 * - Check run output summary and text: 65,535 bytes of UTF-8 (the REST schema's maxLength is 65535,
 *   and the server measures the bytesize). The output title has no documented limit: we hold it to
 *   the same byte budget so a hostile pull-request title can never make the check unpublishable.
 */
export const GITHUB_LIMITS = {
  issueTitleCharacters: 256,
  issueBodyCharacters: 65_536,
  commentBodyCharacters: 65_536,
  checkRunTitleBytes: 65_535,
  checkRunSummaryBytes: 65_535,
  checkRunTextBytes: 65_535,
} as const;

/**
 * GitLab (gitlab.com and self-managed), from its issuable models and API docs:
 * - Issue (issuable) title: 255 characters (400 `{"message":{"title":["is too long (maximum is 255
 *   characters)"]}}`).
 * - Issue description: 1 megabyte, validated as 1,048,576 characters (development docs
 *   "Issuable-like Rails models": description 1 megabyte; gitlab-org/gitlab!18617 updated the API
 *   docs from 1,000,000 characters to 1,048,576; Rails' length validation counts characters).
 * - Note (comment) body: 1,000,000 characters (the note model validates its length against
 *   Gitlab::Database::MAX_TEXT_SIZE_LIMIT; gitlab-org/gitlab#426314, 2025, still names "the
 *   1,000,000 character note limit").
 */
export const GITLAB_LIMITS = {
  issueTitleCharacters: 255,
  issueDescriptionCharacters: 1_048_576,
  noteBodyCharacters: 1_000_000,
} as const;

/** What replaces the clipped end: given the number of characters (code points) left out. */
export type ClipMarker = string | ((clippedCharacters: number) => string);

/** The default marker: a person reading the title or body sees that, and how much, was cut. */
export function clippedMarker(clippedCharacters: number): string {
  return ` … (clipped: ${clippedCharacters} more characters)`;
}

/** Code points, the unit GitHub and GitLab count "characters" in. */
export function characterLength(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // a high surrogate followed by a low one is one code point; a lone surrogate counts as one
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    count++;
  }
  return count;
}

/** UTF-8 bytes, the unit GitHub limits check-run output in (a lone surrogate is sent as U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/** Text clipped to at most `max` characters (code points), the marker included. */
export function clipCharacters(text: string, max: number, marker: ClipMarker = clippedMarker): string {
  return clip(text, max, characterLength, marker);
}

/** Text clipped to at most `maxUtf8Bytes` bytes of UTF-8, the marker included. */
export function clipBytes(text: string, maxUtf8Bytes: number, marker: ClipMarker = clippedMarker): string {
  return clip(text, maxUtf8Bytes, utf8Length, marker);
}

/**
 * A grapheme cluster longer than this (a run of hundreds of combining marks, "zalgo") is cut between
 * its code points rather than dropped whole: keeping grapheme clusters intact is for readability,
 * and an abusive one must not swallow the budget.
 */
const LONGEST_KEPT_GRAPHEME = 32;

const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

function clip(text: string, max: number, measure: (text: string) => number, marker: ClipMarker): string {
  const limit = Math.max(0, Math.floor(max));
  const total = measure(text);
  if (total <= limit) return text;
  const totalCharacters = characterLength(text);
  const markerFor = (clipped: number): string => (typeof marker === "string" ? marker : marker(clipped));
  // the marker for "everything clipped" is the longest one (its count has the most digits), so a
  // prefix that fits beside it fits beside the real, smaller count too
  const widest = markerFor(totalCharacters);
  const room = limit - measure(widest);
  if (room < 0) return prefixWithin(widest, limit, measure);
  const kept = prefixWithin(text, room, measure);
  const clipped = kept + markerFor(totalCharacters - characterLength(kept));
  // a caller's marker whose length does not grow with the count could still overshoot: never send that
  return measure(clipped) <= limit ? clipped : prefixWithin(clipped, limit, measure);
}

/** The longest prefix of `text` within `budget` (in `measure`'s unit), ending on a grapheme boundary when it can. */
function prefixWithin(text: string, budget: number, measure: (text: string) => number): string {
  let used = 0;
  let end = 0;
  for (const { segment } of graphemes.segment(text)) {
    const size = measure(segment);
    if (used + size > budget) {
      if (characterLength(segment) > LONGEST_KEPT_GRAPHEME) {
        end += codePointPrefix(segment, budget - used, measure).length;
      }
      break;
    }
    used += size;
    end += segment.length;
  }
  return text.slice(0, end);
}

/** The longest prefix of one (oversized) grapheme cluster within `budget`, cut between code points. */
function codePointPrefix(segment: string, budget: number, measure: (text: string) => number): string {
  let used = 0;
  let end = 0;
  for (const codePoint of segment) {
    const size = measure(codePoint);
    if (used + size > budget) break;
    used += size;
    end += codePoint.length;
  }
  return segment.slice(0, end);
}
