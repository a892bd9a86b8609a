import { createHash } from "node:crypto";
import type {
  AccessReviewRecord,
  ChangeRequest,
  DirectPush,
  Repository,
  Snapshot,
  Unreadable,
} from "../model/index.js";
import type { Evaluation, Subject } from "./types.js";

/**
 * Subject ids are stable across runs: they feed finding fingerprints and exception matching.
 * Every control builds its subjects here, so the same thing always has the same id.
 */

export function organizationSubject(login: string, url?: string): Subject {
  return { kind: "organization", id: login, ...(url ? { url } : {}) };
}

export function memberSubject(organization: string, login: string): Subject {
  return { kind: "member", id: `${organization}:@${login}`, user: login };
}

/** Invitations by e-mail are named by a masked address: the id must not leak who was invited. */
export function invitationSubject(
  organization: string,
  invitee: { login: string | null; email: string | null },
): Subject {
  const who = invitee.login ? `@${invitee.login}` : `email:${maskEmail(invitee.email ?? "unknown")}`;
  return {
    kind: "invitation",
    id: `${organization}:invite:${who}`,
    ...(invitee.login ? { user: invitee.login } : {}),
  };
}

export function repositorySubject(
  repository: Pick<Repository, "fullName" | "url">,
  branch?: string,
): Subject {
  return {
    kind: "repository",
    id: branch ? `${repository.fullName}:${branch}` : repository.fullName,
    repository: repository.fullName,
    url: repository.url,
  };
}

export function collaboratorSubject(repository: string, login: string): Subject {
  return { kind: "collaborator", id: `${repository}:@${login}`, repository, user: login };
}

export function deployKeySubject(repository: string, keyId: string): Subject {
  return { kind: "deploy-key", id: `${repository}:key:${keyId}`, repository };
}

export function changeRequestSubject(changeRequest: ChangeRequest): Subject {
  return {
    kind: "change-request",
    id: `${changeRequest.repository}#${changeRequest.number}`,
    repository: changeRequest.repository,
    number: changeRequest.number,
    user: changeRequest.author,
    url: changeRequest.url,
  };
}

export function directPushSubject(push: DirectPush): Subject {
  return {
    kind: "direct-push",
    id: `${push.repository}@${push.sha.slice(0, 12)}`,
    repository: push.repository,
    commit: push.sha,
    ...((push.pushedBy ?? push.authorLogin) ? { user: (push.pushedBy ?? push.authorLogin) as string } : {}),
    url: push.url,
  };
}

/** One cycle's access review of one owner; the pull request (merge request) when one was opened. */
export function accessReviewSubject(
  cycle: string,
  owner: string,
  review?: { number: number; url: string },
): Subject {
  return {
    kind: "access-review",
    id: `access-review:${cycle}:${owner}`,
    ...(review && { number: review.number, url: review.url }),
  };
}

/** A grant a signed-off review revoked; `user` is the account when it is a login. */
export function revocationSubject(
  cycle: string,
  owner: string,
  grant: { id: string; account: string; kind: string },
  review: { number: number; url: string },
): Subject {
  const login = grant.kind !== "team" && grant.kind !== "deploy-key";
  return {
    kind: "revocation",
    id: `revocation:${cycle}:${owner}:${grant.id}`,
    number: review.number,
    url: review.url,
    ...(login && { user: grant.account }),
  };
}

/** The one way to say "we could not read it": unknown, naming the missing permission. */
export function unknownBecause(subject: Subject, what: string, fact: Unreadable): Evaluation {
  return {
    subject,
    outcome: "unknown",
    reason: `Cannot read ${what}: the token lacks ${fact.permission} (${fact.reason}).`,
    evidence: [{ label: "missing permission", value: fact.permission }],
  };
}

/**
 * The access reviews a snapshot holds, or the unknown result of a control judging them: not
 * collected (an older snapshot, a host without them) or unreadable (naming the permission).
 */
export function accessReviewsOrUnknown(
  snapshot: Pick<Snapshot, "accessReviews">,
  subject: Subject,
): { records: AccessReviewRecord[] } | { unknown: Evaluation } {
  const reviews = snapshot.accessReviews;
  if (reviews === undefined) {
    return {
      unknown: {
        subject,
        outcome: "unknown",
        reason:
          "The access reviews were not collected: this snapshot has none (collected before access reviews, or by a host that does not hold them). An audit with read access to the findings repository's pull requests collects them.",
        evidence: [],
      },
    };
  }
  if (!reviews.known) {
    return { unknown: unknownBecause(subject, "the access reviews in the findings repository", reviews) };
  }
  return { records: reviews.value };
}

/** A repository that could not be collected at all: every control on it is unknown. */
export function repositoryNotCollected(repository: Repository): Evaluation | undefined {
  if (repository.collectionError === null) return undefined;
  return {
    subject: repositorySubject(repository),
    outcome: "unknown",
    reason: `The repository could not be collected: ${repository.collectionError}`,
    evidence: [],
  };
}

/** Masked for people ("a***@example.com"), with a short hash so two addresses never share an id. */
function maskEmail(email: string): string {
  const [local = "", domain = ""] = email.split("@");
  const digest = createHash("sha256").update(email.toLowerCase()).digest("hex").slice(0, 8);
  return `${local.slice(0, 1)}***@${domain}~${digest}`;
}
