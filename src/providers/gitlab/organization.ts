import { known, Organization, type Invitation, type Known, type Permission } from "../../model/index.js";
import { encodePath } from "./client.js";
import { isForbidden, type GitLabContext } from "./context.js";
import { isoTime, roleName, ROLE } from "./map.js";
import { GroupWire, InvitationWire, MemberWire } from "./schema.js";

/**
 * A GitLab group as an organization:
 * - twoFactorRequired: require_two_factor_authentication (shown to members who may see settings);
 * - members: /groups/:id/members/all, so owners inherited from a parent group count as owners;
 * - membersWithoutTwoFactor: GitLab shows two_factor_enabled on members to instance administrators
 *   only; when the field is absent the list is unknown, naming that role;
 * - basePermission: GitLab has no base permission: every member has an explicit role. What a
 *   signed-in person who is not a member gets on the group's projects follows the group's
 *   visibility: private → "none", internal or public → "read" (they can read and clone);
 * - outsideCollaborators: direct members of some project of the group who are not group members.
 */
export async function collectOrganization(context: GitLabContext, groupPath: string): Promise<Organization> {
  const { client, unreadable } = context;
  const id = encodePath(groupPath);
  const group = await client.get(`/groups/${id}`, GroupWire);

  const twoFactorRequired: Known<boolean> =
    group.require_two_factor_authentication === undefined
      ? unreadable.add(groupPath, "two-factor requirement", ROLE.owner, "not shown in the group's answer")
      : { known: true, value: group.require_two_factor_authentication };

  const basePermission: Known<Permission> = group.visibility
    ? { known: true, value: group.visibility === "private" ? "none" : "read" }
    : unreadable.add(groupPath, "group visibility", ROLE.reporter, "not shown in the group's answer");

  const memberList = await unreadable.read(groupPath, "group members", ROLE.reporter, () =>
    context.groupMembers(groupPath),
  );
  const active = memberList.known ? memberList.value.filter((member) => member.state !== "blocked") : [];
  const members = memberList.known
    ? {
        known: true as const,
        value: active.map((member) => ({
          login: member.username,
          role: member.access_level >= 50 ? ("owner" as const) : ("member" as const),
        })),
      }
    : memberList;

  let membersWithoutTwoFactor: Known<string[]>;
  if (!memberList.known) membersWithoutTwoFactor = memberList;
  else if (active.some((member) => member.two_factor_enabled === undefined)) {
    membersWithoutTwoFactor = unreadable.add(
      groupPath,
      "members' two-factor status",
      ROLE.admin,
      "two_factor_enabled is only shown to instance administrators",
    );
  } else {
    membersWithoutTwoFactor = {
      known: true,
      value: active.filter((member) => member.two_factor_enabled === false).map((member) => member.username),
    };
  }

  const invitationList = await unreadable.read(groupPath, "pending invitations", ROLE.maintainer, () =>
    collect(client.pages(`/groups/${id}/invitations`, InvitationWire)),
  );
  let invitations: Known<Invitation[]> = invitationList.known ? known([]) : invitationList;
  if (invitationList.known) {
    const dated = invitationList.value.map((invitation) => ({
      invitation,
      invitedAt: invitation.created_at ?? invitation.invited_at,
    }));
    // Without a date an invitation's age (the control's whole point) cannot be judged.
    invitations = dated.some((entry) => !entry.invitedAt)
      ? unreadable.add(
          groupPath,
          "pending invitations",
          ROLE.maintainer,
          "GitLab answered an invitation without created_at or invited_at",
        )
      : known(
          dated.map(({ invitation, invitedAt }) => ({
            // GitLab invitations are by e-mail; user_name is a display name, not a login.
            login: null,
            email: invitation.invite_email ?? null,
            role: roleName(invitation.access_level),
            invitedAt: isoTime(invitedAt ?? ""),
            inviter: invitation.created_by_name ?? null,
          })),
        );
  }

  const outsideCollaborators = memberList.known
    ? await outsidersOf(context, groupPath, new Set(memberList.value.map((member) => member.username)))
    : memberList;

  return Organization.parse({
    login: group.full_path,
    url: group.web_url,
    twoFactorRequired,
    basePermission,
    members,
    membersWithoutTwoFactor,
    invitations,
    outsideCollaborators,
  } satisfies Organization);
}

async function outsidersOf(
  context: GitLabContext,
  groupPath: string,
  insiders: ReadonlySet<string>,
): Promise<Known<string[]>> {
  const outsiders = new Set<string>();
  try {
    for await (const project of context.groupProjects(groupPath)) {
      // Direct members only: inherited members come from the group (or a subgroup of it).
      const direct = context.client.pages(`/projects/${encodePath(project)}/members`, MemberWire);
      for await (const member of direct) {
        if (!insiders.has(member.username) && member.state !== "blocked") outsiders.add(member.username);
      }
    }
  } catch (error) {
    if (!isForbidden(error)) throw error;
    return context.unreadable.add(groupPath, "project members", ROLE.reporter, String(error));
  }
  return { known: true, value: [...outsiders].sort() };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
