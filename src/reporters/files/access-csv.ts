/**
 * access.csv: every person, team and key with access, for the CC6.2/CC6.3 access listing. One row
 * per (person, repository); organization members with no repository row; one row per deploy key.
 * A list the token could not read gives a row that says so, naming the permission: an access listing
 * that silently leaves people out would be a false assurance.
 */
import type { Organization, Repository, Snapshot, Unreadable } from "../../model/index.js";
import { csvRow } from "../../text/escape.js";

export const ACCESS_CSV_HEADER = [
  "kind",
  "name",
  "org_role",
  "repository",
  "permission",
  "two_factor",
  "outside_collaborator",
  "note",
] as const;

type Cell = string | null;

export function* accessRows(snapshot: Snapshot): Generator<string> {
  const organization = snapshot.organization;
  const seen = new Set<string>();
  yield csvRow(ACCESS_CSV_HEADER);
  for (const repository of snapshot.repositories) yield* accessRepositoryRows(repository, organization, seen);
  yield* accessOrganizationRows(organization, seen);
}

/**
 * One repository's rows of access.csv: its collaborators (added to `seen`), teams and deploy keys.
 * An audit written a repository at a time writes these as each repository is collected.
 */
export function* accessRepositoryRows(
  repository: Repository,
  organization: Organization | null,
  seen: Set<string>,
): Generator<string> {
  const repo = repository.fullName;
  if (repository.collaborators.known) {
    for (const collaborator of repository.collaborators.value) {
      seen.add(collaborator.login);
      const role = orgRole(organization, collaborator.login, collaborator.outside);
      yield row("person", collaborator.login, role, repo, collaborator.permission, {
        twoFactor: twoFactor(organization, collaborator.login, role),
        outside: role === "outside" ? "yes" : role === "unknown" ? "unknown" : "no",
        note: twoFactorNote(organization),
      });
    }
  } else yield unknownRow("person", repo, "repository collaborators", repository.collaborators);
  if (repository.teams.known) {
    for (const team of repository.teams.value) {
      yield row("team", team.slug, "", repo, team.permission, { note: "members inherit this permission" });
    }
  } else yield unknownRow("team", repo, "repository teams", repository.teams);
  if (repository.deployKeys.known) {
    for (const key of repository.deployKeys.value) {
      const added = [
        key.addedBy ? `added by ${key.addedBy}` : "",
        key.createdAt ? `at ${key.createdAt}` : "",
      ];
      yield row("deploy-key", key.title, "", repo, key.readOnly ? "read" : "write", {
        note: added.filter((part) => part !== "").join(" "),
      });
    }
  } else yield unknownRow("deploy-key", repo, "deploy keys", repository.deployKeys);
}

/** The last rows of access.csv: members and outside collaborators no repository row named (`seen`). */
export function* accessOrganizationRows(
  organization: Organization | null,
  seen: Set<string>,
): Generator<string> {
  if (!organization) return;

  const base = organization.basePermission.known ? organization.basePermission.value : "unknown";
  if (organization.members.known) {
    for (const member of organization.members.value) {
      if (seen.has(member.login)) continue;
      seen.add(member.login);
      yield row("person", member.login, member.role, "", base, {
        twoFactor: twoFactor(organization, member.login, member.role),
        outside: "no",
        note: [
          "no repository collaborator entry; base permission on every repository",
          twoFactorNote(organization),
        ]
          .filter((part) => part !== "")
          .join("; "),
      });
    }
  } else yield unknownRow("person", "", "organization members", organization.members);

  if (organization.outsideCollaborators.known) {
    for (const login of organization.outsideCollaborators.value) {
      if (seen.has(login)) continue;
      yield row("person", login, "outside", "", "unknown", {
        twoFactor: twoFactor(organization, login, "outside"),
        outside: "yes",
        note: "outside collaborator on repositories that were not collected",
      });
    }
  } else yield unknownRow("person", "", "outside collaborators", organization.outsideCollaborators);
}

export function renderAccessCsv(snapshot: Snapshot): string {
  return [...accessRows(snapshot)].join("");
}

function row(
  kind: string,
  name: string,
  role: string,
  repository: string,
  permission: string,
  extra: { twoFactor?: Cell; outside?: Cell; note?: Cell },
): string {
  return csvRow([
    kind,
    name,
    role,
    repository,
    permission,
    extra.twoFactor ?? "",
    extra.outside ?? "",
    extra.note ?? "",
  ]);
}

function unknownRow(kind: string, repository: string, what: string, fact: Unreadable): string {
  return row(kind, "unknown", "unknown", repository, "unknown", {
    twoFactor: "unknown",
    outside: "unknown",
    note: `${what} could not be read: needs ${fact.permission} (${fact.reason})`,
  });
}

function orgRole(organization: Organization | null, login: string, outside: boolean): string {
  if (outside) return "outside";
  if (organization?.outsideCollaborators.known && organization.outsideCollaborators.value.includes(login)) {
    return "outside";
  }
  if (!organization?.members.known) return "unknown";
  return organization.members.value.find((member) => member.login === login)?.role ?? "unknown";
}

/**
 * "enabled" only for a known member missing from a readable list of members without 2FA: the list
 * covers members, so an outside collaborator's 2FA stays unknown unless the list names them.
 */
function twoFactor(organization: Organization | null, login: string, role: string): string {
  const without = organization?.membersWithoutTwoFactor;
  if (!without?.known) return "unknown";
  if (without.value.includes(login)) return "disabled";
  return role === "owner" || role === "member" ? "enabled" : "unknown";
}

function twoFactorNote(organization: Organization | null): string {
  const without = organization?.membersWithoutTwoFactor;
  if (!without || without.known) return "";
  return `2FA status could not be read: needs ${without.permission}`;
}
