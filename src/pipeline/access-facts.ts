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
  /** A repository's facts, changes and pushes; null: more changes of a repository given later. */
  add(
    repository: Repository | null,
    changeRequests: readonly ChangeRequest[],
    directPushes: readonly DirectPush[],
  ): void;
  /**
   * Another's facts joined to these, as if they had been added here in their order (a repository
   * whose changes come in chunks is gathered apart, and joined once its collection did not fail).
   */
  join(other: AccessFacts): void;
  /** What join reads. */
  parts(): AccessParts;
  /** The part of a snapshot to evaluate the organization's controls with. */
  snapshotPart(): Pick<Snapshot, "repositories" | "changeRequests" | "directPushes">;
}

interface Latest {
  at: number;
  what: string;
  source: ChangeRequest | DirectPush;
}

interface AccessParts {
  repositories: readonly Repository[];
  latest: ReadonlyMap<string, Latest>;
  truncated: ReadonlySet<ChangeRequest>;
}

export function accessFacts(): AccessFacts {
  const repositories: Repository[] = [];
  const latest = new Map<string, Latest>();
  const truncated = new Set<ChangeRequest>();
  // the control's own choice among records of the same time (first in text order)
  const keep = (key: string, candidate: Latest): void => {
    const known = latest.get(key);
    if (!known || candidate.at > known.at || (candidate.at === known.at && candidate.what < known.what)) {
      latest.set(key, candidate);
    }
  };
  return {
    join(other) {
      const parts = other.parts();
      repositories.push(...parts.repositories);
      for (const change of parts.truncated) truncated.add(change);
      for (const [key, candidate] of parts.latest) keep(key, candidate);
    },
    parts: () => ({ repositories, latest, truncated }),
    add(repository, changeRequests, directPushes) {
      if (repository) repositories.push(repository);
      for (const change of changeRequests) if (isTruncated(change)) truncated.add(change);
      eachActivity(
        { changeRequests: [...changeRequests], directPushes: [...directPushes] },
        (login, at, what, source) => keep(login.toLowerCase(), { at, what: `@${login} ${what}`, source }),
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
