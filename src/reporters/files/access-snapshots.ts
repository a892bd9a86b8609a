/**
 * Access at a point of the period (a quarter's end, the period's end), as the ledger observed it:
 * per organization its members with role and 2FA and its outside collaborators, per repository its
 * collaborators with permission, teams, admins and deploy keys, each subject saying which
 * observation the rows come from and how old it was at the point. A subject the ledger had not
 * observed by then is listed as not observed, and a list the collector could not read as unreadable
 * with the permission: never an empty list that reads as "nobody". Built by src/ledger/period.ts, one
 * subject at a time; logins and titles are untrusted, so every CSV cell goes through src/text/escape.ts.
 */
import { csvRow } from "../../text/escape.js";
import type { TimelineSource } from "./timeline.js";
import { describeSource } from "./timeline.js";

export interface AccessPointInfo {
  /** "2026-03-31": the rows are as observed by the end of that day (UTC). */
  label: string;
  /** The point itself: observations made before it count. */
  at: string;
  /** Why this point: "quarter end", "month end", "named in the policy", "end of the period". */
  reasons: string[];
}

export interface AccessRow {
  /** member, outside-collaborator, collaborator, team, admin, deploy-key, setting; or the whole list's state. */
  access: string;
  name: string;
  /** Organization role, repository permission, or a setting's value. */
  role: string;
  /** true/false when the host said; null when it did not. Only for members. */
  twoFactor?: boolean | null;
  detail: string;
}

export interface AccessSubjectSnapshot {
  host: string;
  subject: string;
  kind: "repository" | "organization" | "not observed";
  stream: string;
  /** The observation the rows come from; null: not observed before the point. */
  observation: {
    sequence: number;
    observedAt: string;
    ageMs: number;
    age: string;
    source: TimelineSource;
  } | null;
  rows: AccessRow[];
}

export const ACCESS_SNAPSHOT_CSV_HEADER = [
  "point",
  "host",
  "subject",
  "subject_kind",
  "access",
  "name",
  "role_or_permission",
  "two_factor",
  "detail",
  "observed_at",
  "age_at_point",
  "observation",
] as const;

/** The rows of one subject at one point. */
export function* accessSnapshotCsvRows(
  point: AccessPointInfo,
  snapshot: AccessSubjectSnapshot,
): Generator<string> {
  const observation = snapshot.observation;
  const from = observation
    ? [
        observation.observedAt,
        observation.age,
        `${snapshot.stream} record ${observation.sequence}: ${describeSource(observation.source)}`,
      ]
    : ["", "", snapshot.stream];
  for (const row of snapshot.rows) {
    yield csvRow([
      point.label,
      snapshot.host,
      snapshot.subject,
      snapshot.kind,
      row.access,
      row.name,
      row.role,
      row.twoFactor === undefined ? "" : row.twoFactor === null ? "unknown" : row.twoFactor ? "yes" : "no",
      row.detail,
      ...from,
    ]);
  }
}

/** The row of a ledger that holds no observation at all: the file never reads as "nobody had access". */
export function noObservationsCsvRow(point: AccessPointInfo): string {
  return csvRow([
    point.label,
    "",
    "",
    "not observed",
    "not observed",
    "",
    "",
    "",
    "the ledger holds no configuration observation: access at this point is not known",
    "",
    "",
    "",
  ]);
}
