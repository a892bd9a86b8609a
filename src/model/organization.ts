import { z } from "zod";
import { knownSchema } from "./known.js";

export const OrgRole = z.enum(["owner", "member"]);
export type OrgRole = z.infer<typeof OrgRole>;

/** Repository permission levels, lowest to highest. GitLab access levels map onto these. */
export const Permission = z.enum(["none", "read", "triage", "write", "maintain", "admin"]);
export type Permission = z.infer<typeof Permission>;

export const PERMISSION_RANK: Record<Permission, number> = {
  none: 0,
  read: 1,
  triage: 2,
  write: 3,
  maintain: 4,
  admin: 5,
};

export function atLeast(permission: Permission, floor: Permission): boolean {
  return PERMISSION_RANK[permission] >= PERMISSION_RANK[floor];
}

export const Member = z.object({
  login: z.string(),
  role: OrgRole,
});
export type Member = z.infer<typeof Member>;

export const Invitation = z.object({
  /** Login when the invitee has an account, otherwise null (invited by e-mail). */
  login: z.string().nullable(),
  /** Only kept when the host shows it; reporters never print it in full. */
  email: z.string().nullable(),
  role: z.string(),
  invitedAt: z.iso.datetime({ offset: true }),
  inviter: z.string().nullable(),
});
export type Invitation = z.infer<typeof Invitation>;

export const Organization = z.object({
  /** GitHub organization login or GitLab group full path. */
  login: z.string(),
  url: z.string(),
  /** Whether the organization requires two-factor authentication of every member. */
  twoFactorRequired: knownSchema(z.boolean()),
  /** The permission every member has on every repository (GitHub "base permission"). */
  basePermission: knownSchema(Permission),
  members: knownSchema(z.array(Member)),
  /** Logins of members without two-factor authentication (GitHub: owners only can read it). */
  membersWithoutTwoFactor: knownSchema(z.array(z.string())),
  invitations: knownSchema(z.array(Invitation)),
  /** Logins of people with access to some repository who are not members of the organization. */
  outsideCollaborators: knownSchema(z.array(z.string())),
});
export type Organization = z.infer<typeof Organization>;
