import { z } from "zod";
import type { Invitation, Organization } from "../model/index.js";
import { invitationSubject, organizationSubject, unknownBecause } from "./subjects.js";
import { defineControl, type Evaluation } from "./types.js";

const DAY_MS = 24 * 60 * 60 * 1000;

export const staleInvitations = defineControl({
  id: "cc6.stale-invitations",
  criterion: "CC6.2",
  title: "No stale pending invitations",
  appliesTo: "organization",
  params: z
    .object({
      max_days: z.number().int().min(0).default(30),
    })
    .strict(),
  passes: "Each pending invitation is younger than the policy's maximum age.",
  fails: "An invitation has stayed pending for longer than the policy allows: access nobody is following up.",
  remediation: "Cancel the invitation, or send a new one if the person still needs access.",
  evidence: "The organization's pending invitations, when and by whom they were sent.",
  unknownWhen: "The token cannot read the pending invitations.",
  evaluate(organization, { params, at }) {
    const orgSubject = organizationSubject(organization.login, organization.url);
    const invitations = organization.invitations;
    if (!invitations.known) {
      return [unknownBecause(orgSubject, "the organization's pending invitations", invitations)];
    }
    if (invitations.value.length === 0) {
      return [{ subject: orgSubject, outcome: "pass", reason: "No pending invitations.", evidence: [] }];
    }
    return invitations.value.map((invitation) => judge(organization, invitation, params.max_days, at));
  },
});

function judge(organization: Organization, invitation: Invitation, maxDays: number, at: Date): Evaluation {
  const subject = invitationSubject(organization.login, invitation);
  const ageMs = at.getTime() - Date.parse(invitation.invitedAt);
  const days = Math.max(0, Math.floor(ageMs / DAY_MS));
  const by = invitation.inviter ? `by @${invitation.inviter}` : "by an unknown inviter";
  const ago = `${days} day${days === 1 ? "" : "s"} ago`;
  const evidence = [
    // The subject helper masks e-mail addresses; the evidence reuses its name, never the raw address.
    { label: "invitee", value: inviteeName(organization.login, subject.id) },
    { label: "role", value: invitation.role },
    { label: "invited", value: invitation.invitedAt, at: invitation.invitedAt },
    { label: "invited by", value: invitation.inviter ?? "unknown" },
    { label: "maximum days", value: String(maxDays) },
  ];
  // Pending longer than max_days: exactly max_days old is still within the limit.
  return ageMs > maxDays * DAY_MS
    ? {
        subject,
        outcome: "fail",
        reason: `Invited ${ago} ${by}, pending longer than the ${maxDays} days allowed: cancel or resend it.`,
        evidence,
      }
    : {
        subject,
        outcome: "pass",
        reason: `Invited ${ago} ${by}, within the ${maxDays} days allowed.`,
        evidence,
      };
}

function inviteeName(organization: string, subjectId: string): string {
  return subjectId.slice(`${organization}:invite:`.length);
}
