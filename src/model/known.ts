import { z } from "zod";

/**
 * A fact the collector may not have been allowed to read. "unknown" is honest: it names the
 * permission (GitHub) or scope/role (GitLab) that was missing, so a control can say "unknown,
 * because the token cannot read X" instead of guessing.
 */
export const Unreadable = z.object({
  known: z.literal(false),
  /** The permission, scope or role that would make this readable, e.g. "administration:read". */
  permission: z.string(),
  /** What the code host answered, e.g. "403 Resource not accessible by integration". */
  reason: z.string(),
});
export type Unreadable = z.infer<typeof Unreadable>;

export function knownSchema<T extends z.ZodType>(value: T) {
  return z.discriminatedUnion("known", [z.object({ known: z.literal(true), value }), Unreadable]);
}

export type Known<T> = { known: true; value: T } | Unreadable;

export function known<T>(value: T): Known<T> {
  return { known: true, value };
}

export function unreadable(permission: string, reason: string): Unreadable {
  return { known: false, permission, reason };
}
