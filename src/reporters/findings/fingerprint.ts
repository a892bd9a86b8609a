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
  return `<!-- soc2-bot:scope:control=${encodePart(result.control)} scope=${encodePart(scopeOf(result))} -->`;
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
