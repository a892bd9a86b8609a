import { eachActivity, isTruncated } from "../controls/cc6-inactive-access.js";
import type { ChangeRequest, DirectPush, Repository, Snapshot } from "../model/index.js";

/**
 * What the organization's access controls (cc6.inactive-access, cc6.leavers) need of the
 * repositories, kept while an audit goes one repository at a time: each repository's facts (its
 * collaborators and deploy keys; small), and, of the changes and direct pushes, only the records
 * holding some account's latest activity, plus the truncated changes (so the control knows activity
 * may be missing). The access controls read only each person's latest activity, so they give the
 * same results on this part as on the whole snapshot, and memory stays in proportion to the
 * accounts, not the changes.
 */
export interface AccessFacts {
  add(
    repository: Repository,
    changeRequests: readonly ChangeRequest[],
    directPushes: readonly DirectPush[],
  ): void;
  /** The part of a snapshot to evaluate the organization's controls with. */
  snapshotPart(): Pick<Snapshot, "repositories" | "changeRequests" | "directPushes">;
}

export function accessFacts(): AccessFacts {
  const repositories: Repository[] = [];
  const latest = new Map<string, { at: number; what: string; source: ChangeRequest | DirectPush }>();
  const truncated = new Set<ChangeRequest>();
  return {
    add(repository, changeRequests, directPushes) {
      repositories.push(repository);
      for (const change of changeRequests) if (isTruncated(change)) truncated.add(change);
      eachActivity(
        { changeRequests: [...changeRequests], directPushes: [...directPushes] },
        (login, at, what, source) => {
          const key = login.toLowerCase();
          const described = `@${login} ${what}`;
          const known = latest.get(key);
          // the control's own choice among records of the same time (first in text order)
          if (!known || at > known.at || (at === known.at && described < known.what)) {
            latest.set(key, { at, what: described, source });
          }
        },
      );
    },
    snapshotPart() {
      const kept = new Set<ChangeRequest | DirectPush>(truncated);
      for (const { source } of latest.values()) kept.add(source);
      const records = [...kept];
      return {
        repositories: [...repositories],
        changeRequests: records.filter((record): record is ChangeRequest => "number" in record),
        directPushes: records.filter((record): record is DirectPush => !("number" in record)),
      };
    },
  };
}
