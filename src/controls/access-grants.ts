import { atLeast, type Organization, type Permission, type Snapshot } from "../model/index.js";
import type { Evaluation, Evidence, Subject } from "./types.js";
import { memberSubject } from "./subjects.js";

/**
 * Who can change code: every account with write access or more, from what the snapshot holds
 * (organization owners, the base permission, each repository's collaborators). Shared by the access
 * controls that judge accounts rather than settings (inactive access, leavers).
 */
export interface WriteGrant {
  login: string;
  /** A member of the organization (else an outside collaborator). */
  member: boolean;
  /** The highest permission held anywhere. */
  permission: Permission;
  /** How the access is held, for evidence: "organization owner", "base permission write", "acme/api: admin". */
  via: string[];
}

export interface WriteGrants {
  grants: WriteGrant[];
  /**
   * What could not be read, so the list may miss accounts (each "what: permission (reason)"): the
   * controls say so in an unknown result rather than present a partial list as complete.
   */
  gaps: string[];
}

export function writeGrants(organization: Organization, snapshot: Snapshot): WriteGrants {
  const byLogin = new Map<string, WriteGrant>();
  const gaps: string[] = [];
  // An evaluation given the organization alone (no repository facts) cannot see collaborators or
  // activity: saying "no access, no activity" then would be a guess.
  if (snapshot.repositories.length === 0) {
    gaps.push(
      "the repositories: none was given to this evaluation (their collaborators, deploy keys and changes)",
    );
  }
  const grant = (login: string, member: boolean, permission: Permission, via: string): void => {
    const key = login.toLowerCase();
    const known = byLogin.get(key);
    if (!known) {
      byLogin.set(key, { login, member, permission, via: [via] });
      return;
    }
    known.member ||= member;
    if (atLeast(permission, known.permission)) known.permission = permission;
    known.via.push(via);
  };

  const base = organization.basePermission;
  if (!organization.members.known) {
    // Without the members, owners and members from outsiders cannot be told apart: no account is judged.
    gaps.push(
      `the organization's members: ${organization.members.permission} (${organization.members.reason})`,
    );
    return { grants: [], gaps };
  } else {
    for (const member of organization.members.value) {
      if (member.role === "owner") grant(member.login, true, "admin", "organization owner");
      else if (base.known && atLeast(base.value, "write")) {
        grant(member.login, true, base.value, `base permission ${base.value}`);
      }
    }
    if (!base.known) gaps.push(`the organization's base permission: ${base.permission} (${base.reason})`);
  }
  const members = new Set(
    organization.members.known ? organization.members.value.map((member) => member.login.toLowerCase()) : [],
  );

  // by name: an audit collects repositories in whatever order they finish, and evidence must not vary
  const repositories = [...snapshot.repositories].sort((a, b) =>
    a.fullName < b.fullName ? -1 : a.fullName > b.fullName ? 1 : 0,
  );
  for (const repository of repositories) {
    if (!repository.collaborators.known) {
      const { permission, reason } = repository.collaborators;
      gaps.push(`the collaborators of ${repository.fullName}: ${permission} (${reason})`);
      continue;
    }
    for (const collaborator of repository.collaborators.value) {
      if (!atLeast(collaborator.permission, "write")) continue;
      const member = !collaborator.outside || members.has(collaborator.login.toLowerCase());
      grant(
        collaborator.login,
        member,
        collaborator.permission,
        `${repository.fullName}: ${collaborator.permission}`,
      );
    }
  }
  return { grants: [...byLogin.values()], gaps };
}

/** A member is named as a member of the organization; an outside collaborator by the organization too. */
export function grantSubject(organization: string, grant: WriteGrant): Subject {
  if (grant.member) return memberSubject(organization, grant.login);
  return { kind: "collaborator", id: `${organization}:@${grant.login}`, user: grant.login };
}

export function grantEvidence(grant: WriteGrant): Evidence[] {
  return [
    { label: grant.member ? "member" : "outside collaborator", value: grant.login },
    { label: "highest permission", value: grant.permission },
    { label: "access", value: grant.via.join("; ") },
  ];
}

/** The organization's one result when no account has write access: no account to judge, none failing. */
export function noWriteAccess(subject: Subject): Evaluation {
  return { subject, outcome: "pass", reason: "No account has write access.", evidence: [] };
}
