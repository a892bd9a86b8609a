import { z } from "zod";
import type { Member, Organization } from "../model/index.js";
import { memberSubject, organizationSubject, unknownBecause } from "./subjects.js";
import { defineControl, type Evaluation } from "./types.js";

export const memberTwoFactor = defineControl({
  id: "cc6.member-2fa",
  criterion: "CC6.1",
  title: "Every member has two-factor authentication enabled",
  appliesTo: "organization",
  params: z.object({}).strict(),
  passes: "The member has two-factor authentication enabled.",
  fails: "The member can sign in without a second factor.",
  remediation:
    "Ask the member to enable two-factor authentication, or remove them from the organization until they do.",
  evidence:
    "The organization's members and the members without two-factor authentication (the 2fa_disabled filter, owners only).",
  unknownWhen:
    "The token cannot list the members without two-factor authentication (it needs an owner), or the member list is unreadable.",
  evaluate(organization) {
    const orgSubject = organizationSubject(organization.login, organization.url);
    // The list is what counts, not the requirement: during the grace period after the requirement is
    // turned on, GitHub still lists members who have not enabled it yet.
    const without = organization.membersWithoutTwoFactor;
    if (!without.known) {
      return [unknownBecause(orgSubject, "which members lack two-factor authentication", without)];
    }
    const lacking = new Set(without.value.map((login) => login.toLowerCase()));
    const members = organization.members;
    if (!members.known) {
      return [
        ...without.value.map((login) => lacksTwoFactor(organization, login, undefined)),
        // Only the listed logins are decided; the rest of the organization is not.
        unknownBecause(orgSubject, "the full member list", members),
      ];
    }
    if (members.value.length === 0 && without.value.length === 0) {
      // An organization always has an owner: an empty list means we were not shown it, not that all is well.
      return [
        {
          subject: orgSubject,
          outcome: "unknown",
          reason: "No member is visible: the token may not be allowed to list the organization's members.",
          evidence: [],
        },
      ];
    }
    const results = members.value.map((member) =>
      lacking.has(member.login.toLowerCase())
        ? lacksTwoFactor(organization, member.login, member)
        : {
            subject: memberSubject(organization.login, member.login),
            outcome: "pass" as const,
            reason: `@${member.login} has two-factor authentication enabled.`,
            evidence: memberEvidence(member.login, member, "enabled"),
          },
    );
    // A login reported without 2FA but missing from the member list still fails: never drop a failure.
    const listed = new Set(members.value.map((member) => member.login.toLowerCase()));
    const unlisted = without.value.filter((login) => !listed.has(login.toLowerCase()));
    return [...results, ...unlisted.map((login) => lacksTwoFactor(organization, login, undefined))];
  },
});

function lacksTwoFactor(organization: Organization, login: string, member: Member | undefined): Evaluation {
  return {
    subject: memberSubject(organization.login, login),
    outcome: "fail",
    reason: `@${login} does not have two-factor authentication enabled.`,
    evidence: memberEvidence(login, member, "disabled"),
  };
}

function memberEvidence(login: string, member: Member | undefined, twoFactor: string) {
  return [
    { label: "member", value: login },
    ...(member ? [{ label: "role", value: member.role }] : []),
    { label: "two-factor authentication", value: twoFactor },
  ];
}
