import type { Subject } from "../controls/types.js";
import type { ExceptionSubject, Policy, PolicyException } from "./types.js";

/**
 * The exception that covers a result, if any: same control, every key of its subject matching the
 * result's subject, and in force when it counts. `expires` is the last day it applies, in UTC: an
 * exception expiring 2026-12-31 applies until 2026-12-31T23:59:59.999Z and never after.
 *
 * When it counts: for an event (a merge, a direct push) the day the event happened, given as
 * `occurredAt`, so a merge made while its exception was in force stays excepted when the audit runs
 * after the exception expired. For standing facts (access, settings) the evaluation time `at`: an
 * expired exception stops excusing them.
 */
export function findException(
  policy: Policy,
  result: { control: string; subject: Subject },
  at: Date,
  occurredAt?: Date,
): PolicyException | undefined {
  const day = (occurredAt ?? at).toISOString().slice(0, 10);
  return policy.exceptions.find(
    (exception) =>
      exception.control === result.control &&
      // Dates are YYYY-MM-DD, so comparing the text compares the days.
      exception.expires >= day &&
      subjectMatches(exception.subject, result.subject),
  );
}

function subjectMatches(covered: ExceptionSubject, subject: Subject): boolean {
  const keys = Object.values(covered).filter((value) => value !== undefined);
  // A subject naming nothing would cover everything: never, even if one slipped past parsing.
  if (keys.length === 0) return false;
  // A change request number or a commit names something only within a repository (parsing requires
  // it): without one, never match rather than excuse #11 of every repository.
  if (
    (covered.changeRequest !== undefined || covered.commit !== undefined) &&
    covered.repository === undefined
  )
    return false;
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
