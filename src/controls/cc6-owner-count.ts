import { z } from "zod";
import { organizationSubject, unknownBecause } from "./subjects.js";
import { defineControl } from "./types.js";

export const ownerCount = defineControl({
  id: "cc6.owner-count",
  criterion: "CC6.3",
  title: "Few organization owners",
  appliesTo: "organization",
  params: z
    .object({
      max_owners: z.number().int().min(1).default(3),
    })
    .strict(),
  passes: "The organization has no more owners than the policy allows.",
  fails: "More people than the policy allows can change every setting and repository of the organization.",
  remediation:
    "Change the role of owners who do not need it to member; give them admin on specific repositories instead.",
  evidence: "The organization's members and their roles.",
  unknownWhen: "The member list cannot be read in full.",
  evaluate(organization, { params }) {
    const subject = organizationSubject(organization.login, organization.url);
    const members = organization.members;
    if (!members.known) return [unknownBecause(subject, "the organization's members", members)];
    const owners = members.value.filter((member) => member.role === "owner").map((member) => member.login);
    const evidence = [
      { label: "maximum owners", value: String(params.max_owners) },
      ...owners.map((login) => ({ label: "owner", value: login })),
    ];
    if (owners.length === 0) {
      // Every organization has an owner: none visible means the list is incomplete, not that all is well.
      return [
        {
          subject,
          outcome: "unknown",
          reason: "No owner visible in the member list: the token may not see members' roles.",
          evidence,
        },
      ];
    }
    const named = owners.map((login) => `@${login}`).join(", ");
    return owners.length <= params.max_owners
      ? [
          {
            subject,
            outcome: "pass",
            reason: `${plural(owners.length, "owner")} (${named}), within the maximum of ${params.max_owners}.`,
            evidence,
          },
        ]
      : [
          {
            subject,
            outcome: "fail",
            reason: `${plural(owners.length, "owner")} (${named}), more than the maximum of ${params.max_owners}.`,
            evidence,
          },
        ];
  },
});

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
