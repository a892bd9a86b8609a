import { z } from "zod";
import { grantEvidence, grantSubject, noWriteAccess, writeGrants } from "./access-grants.js";
import { organizationSubject } from "./subjects.js";
import { defineControl, type Evaluation } from "./types.js";

const DAY_MS = 24 * 60 * 60 * 1000;

export const leavers = defineControl({
  id: "cc6.leavers",
  criterion: "CC6.2",
  title: "Leavers hold no write access",
  appliesTo: "organization",
  params: z
    .object({
      /** Days after a person's last day (people.<id>.left_on) their access may still be present. */
      grace_days: z.number().int().min(0).default(1),
    })
    .strict(),
  passes:
    "No account with write or admin access belongs to a person who left (the policy's people, left_on) longer ago than the grace period.",
  fails: "A person who left still holds write or admin access after their last day plus the grace period.",
  remediation:
    "Remove the leaver's accounts from the organization and repositories (or lower them to read), or correct left_on in the policy.",
  evidence:
    "Each account with write or admin access (owners, base permission, collaborators), the person of the policy's people it belongs to, and their left_on.",
  unknownWhen:
    "An account with write access belongs to no person of the policy (an unknown person), or the members, base permission or collaborators cannot be read.",
  evaluate(organization, { params, at, snapshot, people }) {
    const orgSubject = organizationSubject(organization.login, organization.url);
    const { grants, gaps } = writeGrants(organization, snapshot);
    const leftOn = new Map((people.persons ?? []).map((person) => [person.key, person.leftOn]));
    const results: Evaluation[] = [];
    if (gaps.length > 0) {
      results.push({
        subject: orgSubject,
        outcome: "unknown",
        reason: `Cannot list every account with write access, so a leaver's may be missing: cannot read ${gaps.join("; ")}.`,
        evidence: gaps.map((gap) => ({ label: "unreadable", value: gap })),
      });
    }
    if (leftOn.size === 0) {
      // Leavers are known only from the policy's people: without them this control has nothing to
      // judge by, and says so rather than pass.
      return [
        ...results,
        {
          subject: orgSubject,
          outcome: "not-applicable",
          reason:
            `The policy's people names nobody, so leavers are not checked: ${grants.length} account(s) with write ` +
            `access belong to no known person. List people (with left_on for leavers) in the organization's policy.`,
          evidence: grants.map((grant) => ({
            label: "unknown person",
            value: `@${grant.login} (${grant.permission})`,
          })),
        },
      ];
    }
    for (const grant of grants) {
      const subject = grantSubject(organization.login, grant);
      const key = people.personOf({ login: grant.login });
      const evidence = grantEvidence(grant);
      if (key === null || !leftOn.has(key)) {
        results.push({
          subject,
          outcome: "unknown",
          reason:
            `@${grant.login} has ${grant.permission} and belongs to no person of the policy (unknown person): ` +
            `whether they left cannot be told; add them to the policy's people.`,
          evidence: [...evidence, { label: "person", value: "unknown person" }],
        });
        continue;
      }
      const person = people.describe(key);
      const last = leftOn.get(key);
      if (last === undefined) {
        results.push({
          subject,
          outcome: "pass",
          reason: `@${grant.login} belongs to ${person}, who has no leaving date in the policy.`,
          evidence: [...evidence, { label: "person", value: person }],
        });
        continue;
      }
      // left_on is the last day worked (UTC): access may remain until its end plus the grace days.
      const deadline = Date.parse(`${last}T00:00:00Z`) + (1 + params.grace_days) * DAY_MS;
      const leaverEvidence = [
        ...evidence,
        { label: "person", value: person },
        { label: "left on", value: last, at: `${last}T00:00:00.000Z` },
        { label: "access to be removed by", value: new Date(deadline).toISOString() },
      ];
      if (at.getTime() < deadline) {
        results.push({
          subject,
          outcome: "pass",
          reason: `@${grant.login} belongs to ${person}, who left on ${last}: still within the ${params.grace_days}-day grace period.`,
          evidence: leaverEvidence,
        });
        continue;
      }
      results.push({
        subject,
        outcome: "fail",
        reason:
          `${person} left on ${last}, and their account @${grant.login} still has ${grant.permission} ` +
          `(${grant.via.join("; ")}) after the ${params.grace_days}-day grace period.`,
        evidence: leaverEvidence,
      });
    }
    if (results.length === 0) results.push(noWriteAccess(orgSubject));
    return results;
  },
});
