/**
 * A finding is found again by its fingerprint: the same control failing for the same subject is the
 * same finding, run after run, process after process. The app keeps no state, so the fingerprint
 * lives in the issue body as a hidden HTML comment.
 */
import { createHash } from "node:crypto";
import type { Result } from "../../controls/types.js";

const MARKER = /<!-- soc2-bot:finding:([0-9a-f]{16}) -->/;
const SCOPE = /<!-- soc2-bot:scope:control=([^ ]*) scope=([^ ]*) -->/;

/** Short, stable hash of control id and subject id (16 hex characters of SHA-256). */
export function fingerprint(result: Pick<Result, "control" | "subject">): string {
  // The separator cannot occur in either id, so ("a", "b\nc") and ("a\nb", "c") never collide.
  return createHash("sha256").update(`${result.control}\n${result.subject.id}`).digest("hex").slice(0, 16);
}

export function marker(fp: string): string {
  return `<!-- soc2-bot:finding:${fp} -->`;
}

/** The fingerprint hidden in an issue body, or undefined for an issue soc2-bot did not write. */
export function readMarker(body: string | null | undefined): string | undefined {
  return body ? MARKER.exec(body)?.[1] : undefined;
}

/**
 * Where a result belongs: its repository, or the organization (group) for organization-level
 * subjects. An audit closes a vanished finding only when it evaluated the same control there.
 */
export function scopeOf(result: Pick<Result, "subject">): string {
  const { subject } = result;
  // A merged change or a direct push is a past event: it never "vanishes" from a later audit, it is
  // only outside that audit's period. Its scope is itself, so only its own result can close it.
  if (subject.kind === "change-request" || subject.kind === "direct-push") return `event:${subject.id}`;
  if (subject.repository) return `repository:${subject.repository}`;
  return `organization:${subject.id.split(":")[0] ?? subject.id}`;
}

/** The control and scope of a finding, hidden beside the fingerprint (which cannot be reversed). */
export function scopeMarker(result: Pick<Result, "control" | "subject">): string {
  return scopeMarkerOf(result.control, scopeOf(result));
}

export function scopeMarkerOf(control: string, scope: string): string {
  return `<!-- soc2-bot:scope:control=${encodePart(control)} scope=${encodePart(scope)} -->`;
}

export function readScopeMarker(
  body: string | null | undefined,
): { control: string; scope: string } | undefined {
  const match = body ? SCOPE.exec(body) : null;
  if (!match) return undefined;
  try {
    return { control: decodeURIComponent(match[1] ?? ""), scope: decodeURIComponent(match[2] ?? "") };
  } catch {
    return undefined;
  }
}

/** Percent-encoding, plus "-" so a name like "a--b" cannot end the HTML comment early. */
function encodePart(text: string): string {
  return encodeURIComponent(text).replace(/-/g, "%2D");
}

// ---- findings that group change requests: one per control and repository ----

/**
 * The subject id of the finding that groups a control's failing change requests in a repository.
 * "#changes" cannot end a real subject id (a change request's ends in its number).
 */
export function changeGroupId(repository: string): string {
  return `${repository}#changes`;
}

/** Where a grouped finding belongs: never a scope an audit evaluates, so only its own results close it. */
export function changeGroupScope(repository: string): string {
  return `changes:${repository}`;
}

/**
 * The repository and number of a change request from the scope of its own finding
 * (`event:acme/api#12`), or undefined for any other scope (a direct push is `event:acme/api@sha`).
 */
export function changeOfScope(scope: string): { repository: string; number: number } | undefined {
  const match = /^event:(.+)[#!](\d+)$/.exec(scope);
  return match ? { repository: match[1]!, number: Number(match[2]) } : undefined;
}

const CHANGES = /<!-- soc2-bot:changes:url=([^ ]*) failing=([0-9a-z.]*) dropped=(\d+) -->/;

/**
 * The state of a grouped finding, hidden in its body (the app keeps none): the numbers of the
 * failing changes it lists, as base-36 gaps between sorted numbers (a few characters each, so ten
 * thousand fit), the web address of one change with "{n}" for its number (to link the ones no later
 * result names), and how many older ones the body had no room left to track.
 */
export interface ChangeGroupState {
  urlTemplate: string;
  failing: number[];
  dropped: number;
}

export function changesMarker(state: ChangeGroupState): string {
  const sorted = [...new Set(state.failing)].sort((a, b) => a - b);
  let previous = 0;
  const gaps = sorted.map((number) => {
    const gap = (number - previous).toString(36);
    previous = number;
    return gap;
  });
  return `<!-- soc2-bot:changes:url=${encodePart(state.urlTemplate)} failing=${gaps.join(".")} dropped=${state.dropped} -->`;
}

export function readChangesMarker(body: string | null | undefined): ChangeGroupState | undefined {
  const match = body ? CHANGES.exec(body) : null;
  if (!match) return undefined;
  let urlTemplate: string;
  try {
    urlTemplate = decodeURIComponent(match[1] ?? "");
  } catch {
    urlTemplate = "";
  }
  let previous = 0;
  const failing: number[] = [];
  for (const gap of (match[2] ?? "").split(".").filter(Boolean)) {
    const value = parseInt(gap, 36);
    if (!Number.isFinite(value) || value <= 0) return undefined;
    previous += value;
    failing.push(previous);
  }
  return { urlTemplate, failing, dropped: Number(match[3]) };
}
