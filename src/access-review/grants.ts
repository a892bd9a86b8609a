import type { Organization, Repository, Snapshot } from "../model/index.js";
import { eachActivity, isTruncated } from "../controls/cc6-inactive-access.js";
import type { PeopleDirectory } from "../controls/types.js";
import { globMatch } from "../policy/branches.js";
import { ORGANIZATION_ADMINS } from "./names.js";
import type { AccessReviewParams } from "./params.js";
import type { GrantKind, ReviewGrant, TwoFactor } from "./review-file.js";

export const UNKNOWN_PERSON = "unknown person";

/** The grants one owner reviews, and what could not be read of them (a review must not look complete when it is not). */
export interface OwnerGrants {
  owner: string;
  grants: ReviewGrant[];
  /** Each "what: permission (reason)"; non-empty means the list may miss grants. */
  gaps: string[];
}

/**
 * The owner a repository's grants go to: the first owner with a pattern matching its name or full
 * name (the patterns of audit.include), else the organization's admins.
 */
export function ownerOf(repository: string, owners: AccessReviewParams["owners"]): string {
  const name = repository.slice(repository.indexOf("/") + 1);
  for (const { owner, repositories } of owners) {
    if (repositories.some((pattern) => globMatch(pattern, name) || globMatch(pattern, repository)))
      return owner;
  }
  return ORGANIZATION_ADMINS;
}

export function grantId(kind: GrantKind, account: string, role: string): string {
  return `${kind}:${account}:${role}`;
}

/**
 * Every grant of the snapshot, per owner (organization-admins first, then the configured owners in
 * policy order, each only when it has grants or gaps): organization membership and ownership, each
 * repository's collaborators, teams and deploy keys. One grant per (kind, account, role) and owner,
 * listing its repositories, so a reviewer decides once for "alice writes to api and web".
 */
export function reviewGrants(
  snapshot: Snapshot,
  params: Pick<AccessReviewParams, "owners">,
  people: PeopleDirectory,
): OwnerGrants[] {
  const byOwner = new Map<string, { grants: Map<string, ReviewGrant>; gaps: string[] }>();
  const ownerEntry = (owner: string) => {
    let entry = byOwner.get(owner);
    if (!entry) {
      entry = { grants: new Map(), gaps: [] };
      byOwner.set(owner, entry);
    }
    return entry;
  };
  const organization = snapshot.organization;
  const activity = lastActivity(snapshot, people);
  const add = (owner: string, grant: Omit<ReviewGrant, "id" | "repositories">, repository: string | null) => {
    const id = grantId(grant.kind, grant.account, grant.role);
    const entry = ownerEntry(owner);
    const known = entry.grants.get(id);
    if (known) {
      if (repository !== null && !known.repositories.includes(repository))
        known.repositories.push(repository);
      return;
    }
    entry.grants.set(id, { id, ...grant, repositories: repository === null ? [] : [repository] });
  };
  const admins = ownerEntry(ORGANIZATION_ADMINS);
  if (!organization) {
    admins.gaps.push("the organization: it was not collected");
  } else {
    if (organization.members.known) {
      for (const member of organization.members.value) {
        add(
          ORGANIZATION_ADMINS,
          {
            kind: member.role === "owner" ? "owner" : "member",
            account: member.login,
            person: personOf(member.login, people),
            role: member.role === "owner" ? "owner" : memberRole(organization),
            twoFactor: twoFactorOf(organization, member.login, true),
            lastActivity: activity(member.login),
            since: "unknown",
          },
          null,
        );
      }
    } else admins.gaps.push(gap("the organization's members", organization.members));
    if (!organization.outsideCollaborators.known) {
      admins.gaps.push(gap("the organization's outside collaborators", organization.outsideCollaborators));
    }
  }
  if (snapshot.repositories.length === 0) {
    admins.gaps.push("the repositories: none was collected (their collaborators, teams and deploy keys)");
  }
  const repositories = [...snapshot.repositories].sort((a, b) => compare(a.fullName, b.fullName));
  for (const repository of repositories) {
    const owner = ownerOf(repository.fullName, params.owners);
    repositoryGrants(
      repository,
      organization,
      people,
      activity,
      (grant) => add(owner, grant, repository.fullName),
      ownerEntry(owner).gaps,
    );
  }
  // An outside collaborator the organization lists but no collected repository names: their access is
  // somewhere the audit did not look, so the organization's admins review them.
  if (organization?.outsideCollaborators.known) {
    const seen = new Set(
      [...byOwner.values()].flatMap((entry) =>
        [...entry.grants.values()]
          .filter((grant) => grant.kind === "outside-collaborator")
          .map((grant) => grant.account.toLowerCase()),
      ),
    );
    for (const login of organization.outsideCollaborators.value) {
      if (seen.has(login.toLowerCase())) continue;
      add(
        ORGANIZATION_ADMINS,
        {
          kind: "outside-collaborator",
          account: login,
          person: personOf(login, people),
          role: "unknown",
          twoFactor: twoFactorOf(organization, login, false),
          lastActivity: activity(login),
          since: "unknown",
        },
        null,
      );
    }
  }
  const order = [ORGANIZATION_ADMINS, ...params.owners.map(({ owner }) => owner)];
  return [...new Set(order)]
    .map((owner) => ({ owner, entry: byOwner.get(owner) }))
    .filter(({ entry }) => entry !== undefined && (entry.grants.size > 0 || entry.gaps.length > 0))
    .map(({ owner, entry }) => ({
      owner,
      grants: [...entry!.grants.values()]
        .map((grant) => ({ ...grant, repositories: [...grant.repositories].sort(compare) }))
        .sort((a, b) => compare(a.id, b.id)),
      gaps: entry!.gaps,
    }));
}

function repositoryGrants(
  repository: Repository,
  organization: Organization | null,
  people: PeopleDirectory,
  activity: (login: string) => string,
  add: (grant: Omit<ReviewGrant, "id" | "repositories">) => void,
  gaps: string[],
): void {
  if (repository.collectionError !== null) {
    gaps.push(
      `the access of ${repository.fullName}: it could not be collected (${repository.collectionError})`,
    );
    return;
  }
  if (repository.collaborators.known) {
    for (const collaborator of repository.collaborators.value) {
      const outside =
        collaborator.outside ||
        (organization?.outsideCollaborators.known === true &&
          organization.outsideCollaborators.value.some((login) => sameLogin(login, collaborator.login)));
      add({
        kind: outside ? "outside-collaborator" : "collaborator",
        account: collaborator.login,
        person: personOf(collaborator.login, people),
        role: collaborator.permission,
        twoFactor: twoFactorOf(organization, collaborator.login, !outside),
        lastActivity: activity(collaborator.login),
        since: "unknown",
      });
    }
  } else gaps.push(gap(`the collaborators of ${repository.fullName}`, repository.collaborators));
  if (repository.teams.known) {
    for (const team of repository.teams.value) {
      add({
        kind: "team",
        account: team.slug,
        person: "n/a",
        role: team.permission,
        twoFactor: "n/a",
        lastActivity: "n/a: a team's members act through their own accounts",
        since: "unknown",
      });
    }
  } else gaps.push(gap(`the teams of ${repository.fullName}`, repository.teams));
  if (repository.deployKeys.known) {
    for (const key of repository.deployKeys.value) {
      add({
        kind: "deploy-key",
        account: `${repository.fullName}#${key.id} ${key.title}`,
        person: key.addedBy ? personOf(key.addedBy, people) : "n/a",
        role: key.readOnly ? "read" : "write",
        twoFactor: "n/a",
        lastActivity: "unknown: the host does not record a deploy key's last use",
        since: key.createdAt ?? "unknown",
      });
    }
  } else gaps.push(gap(`the deploy keys of ${repository.fullName}`, repository.deployKeys));
}

/**
 * The latest activity of an account's person in the audit period, from the records
 * cc6.inactive-access judges by (eachActivity): "2026-11-02 merged acme/api#12", "none since
 * 2026-09-01", or "unknown: <why>" when the period read was cut short or there was none.
 */
function lastActivity(snapshot: Snapshot, people: PeopleDirectory): (login: string) => string {
  const latest = new Map<string, { at: number; what: string }>();
  eachActivity(snapshot, (login, at, what) => {
    const key = people.personOf({ login });
    if (key === null) return;
    const known = latest.get(key);
    const described = `@${login} ${what}`;
    if (!known || at > known.at || (at === known.at && described < known.what))
      latest.set(key, { at, what: described });
  });
  const truncated = snapshot.changeRequests.some(isTruncated);
  return (login) => {
    const key = people.personOf({ login });
    const found = key === null ? undefined : latest.get(key);
    if (found) return `${new Date(found.at).toISOString().slice(0, 10)} ${found.what}`;
    if (!snapshot.period) return "unknown: no audit period was read";
    if (truncated) return "unknown: some changes of the audit period were read only in part";
    return `none since ${snapshot.period.since.slice(0, 10)}`;
  };
}

function personOf(login: string, people: PeopleDirectory): string {
  const key = people.personOf({ login });
  return key !== null && key.startsWith("person:") ? people.describe(key) : UNKNOWN_PERSON;
}

function memberRole(organization: Organization): string {
  return organization.basePermission.known ? `member (base ${organization.basePermission.value})` : "member";
}

/** 2FA as the host shows it: only a readable list of members without 2FA says anything, and only about members. */
function twoFactorOf(organization: Organization | null, login: string, member: boolean): TwoFactor {
  const without = organization?.membersWithoutTwoFactor;
  if (!without?.known) return "unknown";
  if (without.value.some((name) => sameLogin(name, login))) return "no";
  return member ? "yes" : "unknown";
}

function gap(what: string, fact: { permission: string; reason: string }): string {
  return `${what}: ${fact.permission} (${fact.reason})`;
}

function sameLogin(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
