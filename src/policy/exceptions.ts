import type { Subject } from "../controls/types.js";
import type { ExceptionSubject, Policy, PolicyException } from "./types.js";

/**
 * The exception that covers a result, if any: same control, every key of its subject matching the
 * result's subject, and not expired. `expires` is the last day it applies, in UTC: an exception
 * expiring 2026-12-31 applies until 2026-12-31T23:59:59.999Z and never after.
 */
export function findException(
  policy: Policy,
  result: { control: string; subject: Subject },
  at: Date,
): PolicyException | undefined {
  const today = at.toISOString().slice(0, 10);
  return policy.exceptions.find(
    (exception) =>
      exception.control === result.control &&
      // Dates are YYYY-MM-DD, so comparing the text compares the days.
      exception.expires >= today &&
      subjectMatches(exception.subject, result.subject),
  );
}

function subjectMatches(covered: ExceptionSubject, subject: Subject): boolean {
  const keys = Object.values(covered).filter((value) => value !== undefined);
  // A subject naming nothing would cover everything: never, even if one slipped past parsing.
  if (keys.length === 0) return false;
  if (covered.repository !== undefined && covered.repository !== subject.repository) return false;
  if (covered.changeRequest !== undefined && covered.changeRequest !== subject.number) return false;
  if (covered.user !== undefined && covered.user !== subject.user) return false;
  if (covered.commit !== undefined) {
    const prefix = covered.commit.toLowerCase();
    // A short prefix could name many commits: seven characters is the least git itself shows.
    if (prefix.length < 7 || !subject.commit?.toLowerCase().startsWith(prefix)) return false;
  }
  return true;
}
