import { atLeast, Permission, type Repository, type Snapshot } from "../model/index.js";
import type { ReviewGrant } from "./review-file.js";
import { deployKeyId } from "./names.js";

export type Presence =
  | { state: "present"; repositories: string[]; what: string }
  | { state: "absent"; what: string }
  | { state: "unknown"; why: string };

/**
 * Whether a reviewed grant still exists in the snapshot: the account holds the role reviewed (or a
 * higher one) anywhere the review listed it. Lowered below the role counts as gone: the grant
 * reviewed was that role. A list that cannot be read, or a listed repository not collected, is
 * unknown: never "removed" on a guess.
 */
export function grantStillPresent(grant: ReviewGrant, snapshot: Snapshot): Presence {
  switch (grant.kind) {
    case "member":
    case "owner": {
      const organization = snapshot.organization;
      if (!organization) return { state: "unknown", why: "the organization was not collected" };
      if (!organization.members.known) {
        const { permission, reason } = organization.members;
        return { state: "unknown", why: `cannot read the organization's members: ${permission} (${reason})` };
      }
      const member = organization.members.value.find((item) => same(item.login, grant.account));
      if (!member)
        return { state: "absent", what: `@${grant.account} is no longer a member of ${organization.login}` };
      if (grant.kind === "owner" && member.role !== "owner") {
        return {
          state: "absent",
          what: `@${grant.account} is no longer an owner of ${organization.login} (now ${member.role})`,
        };
      }
      return {
        state: "present",
        repositories: [],
        what: `@${grant.account} is still ${member.role === "owner" ? "an owner" : "a member"} of ${organization.login}`,
      };
    }
    case "collaborator":
    case "outside-collaborator":
      return inRepositories(grant, snapshot, "collaborators", (repository) => {
        if (!repository.collaborators.known) return repository.collaborators;
        const held = repository.collaborators.value.find((item) => same(item.login, grant.account));
        return held && covers(held.permission, grant.role)
          ? `@${grant.account} has ${held.permission}`
          : null;
      });
    case "team":
      return inRepositories(grant, snapshot, "teams", (repository) => {
        if (!repository.teams.known) return repository.teams;
        const held = repository.teams.value.find((item) => same(item.slug, grant.account));
        return held && covers(held.permission, grant.role)
          ? `team ${grant.account} has ${held.permission}`
          : null;
      });
    case "deploy-key": {
      const id = deployKeyId(grant.account);
      if (id === null)
        return { state: "unknown", why: `cannot read a deploy key id from "${grant.account}"` };
      return inRepositories(grant, snapshot, "deploy keys", (repository) => {
        if (!repository.deployKeys.known) return repository.deployKeys;
        const key = repository.deployKeys.value.find((item) => item.id === id);
        return key ? `deploy key ${id} (${key.readOnly ? "read" : "write"}) is still there` : null;
      });
    }
  }
}

function inRepositories(
  grant: ReviewGrant,
  snapshot: Snapshot,
  what: string,
  holds: (repository: Repository) => string | null | { permission: string; reason: string },
): Presence {
  if (grant.repositories.length === 0) {
    return {
      state: "unknown",
      why: `the review names no repository of ${grant.account}'s ${what} access to check`,
    };
  }
  const present: string[] = [];
  const found: string[] = [];
  for (const name of grant.repositories) {
    const repository = snapshot.repositories.find((item) => item.fullName === name);
    if (!repository)
      return {
        state: "unknown",
        why: `the access of ${name} was not collected (archived, excluded or deleted)`,
      };
    if (repository.collectionError !== null) {
      return {
        state: "unknown",
        why: `the access of ${name} could not be collected: ${repository.collectionError}`,
      };
    }
    const answer = holds(repository);
    if (answer !== null && typeof answer === "object") {
      return {
        state: "unknown",
        why: `cannot read the ${what} of ${name}: ${answer.permission} (${answer.reason})`,
      };
    }
    if (answer !== null) {
      present.push(name);
      found.push(`${name}: ${answer}`);
    }
  }
  if (present.length > 0) return { state: "present", repositories: present, what: found.join("; ") };
  return { state: "absent", what: `gone from ${grant.repositories.join(", ")}` };
}

/** Holding `permission` still grants the reviewed `role` (equal or higher); a role that is no permission compares exactly. */
function covers(permission: string, role: string): boolean {
  const parsedRole = Permission.safeParse(role);
  const parsedPermission = Permission.safeParse(permission);
  if (parsedRole.success && parsedPermission.success) return atLeast(parsedPermission.data, parsedRole.data);
  return permission === role;
}

function same(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
