import { z } from "zod";
import { organizationSubject, unknownBecause } from "./subjects.js";
import { defineControl } from "./types.js";

export const orgTwoFactorRequired = defineControl({
  id: "cc6.org-2fa-required",
  criterion: "CC6.1",
  title: "The organization requires two-factor authentication",
  appliesTo: "organization",
  params: z.object({}).strict(),
  passes: "The organization requires two-factor authentication of every member.",
  fails: "Members can sign in with a password alone.",
  remediation:
    'Turn on "Require two-factor authentication" in the organization\'s authentication security settings.',
  evidence: "The organization's two-factor requirement setting.",
  unknownWhen: "The token cannot read the organization's two-factor requirement.",
  evaluate(organization) {
    const subject = organizationSubject(organization.login, organization.url);
    const required = organization.twoFactorRequired;
    if (!required.known) {
      return [unknownBecause(subject, "the organization's two-factor requirement", required)];
    }
    const evidence = [{ label: "two-factor required", value: String(required.value) }];
    return required.value
      ? [
          {
            subject,
            outcome: "pass",
            reason: "The organization requires two-factor authentication of every member.",
            evidence,
          },
        ]
      : [
          {
            subject,
            outcome: "fail",
            reason: "The organization does not require two-factor authentication: turn the requirement on.",
            evidence,
          },
        ];
  },
});
