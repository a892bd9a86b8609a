import { grantStillPresent, reviewReference, revocationParams, signOffOf } from "../access-review/index.js";
import { accessReviewsOrUnknown, organizationSubject, revocationSubject } from "./subjects.js";
import { defineControl, type Evaluation } from "./types.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Whether a review is a sign-off does not depend on its due date: any due date will do here. */
const ANY_DUE = { due_within_days: 1 };

export const revocationsApplied = defineControl({
  id: "cc6.revocations-applied",
  criterion: "CC6.3",
  title: "Access revoked in a review is removed",
  appliesTo: "organization",
  params: revocationParams,
  passes:
    "Every grant a signed-off access review marked `revoke` is gone from the host once the grace period after the review's merge has passed.",
  fails: "A grant a signed-off access review revoked is still present after the grace period.",
  remediation:
    "Remove the revoked access (or lower it below the role reviewed); with `apply: true` and the write permission, `soc2-bot access-review apply` removes it.",
  evidence:
    "Each `revoke` decision of the merged, independently approved review files, and the access the audit collected afterwards: organization members, repository collaborators, teams and deploy keys.",
  unknownWhen:
    "The access reviews were not collected or cannot be read, or the access of a repository a revoked grant names cannot be read (or was not collected).",
  evaluate(organization, { params, snapshot, people }) {
    const orgSubject = organizationSubject(organization.login, organization.url);
    const reviews = accessReviewsOrUnknown(snapshot, orgSubject);
    if ("unknown" in reviews) return [reviews.unknown];
    // The access was seen when the snapshot was collected: that is when a removal can have been seen.
    const observedAt = Date.parse(snapshot.collectedAt);
    const results: Evaluation[] = [];
    for (const record of reviews.records) {
      const signOff = signOffOf(record, ANY_DUE, people);
      // A "revoke" in a review nobody independent approved is no decision yet.
      if (!signOff.signedOff || !signOff.review || record.mergedAt === null) continue;
      const verifyAfter = Date.parse(record.mergedAt) + params.grace_days * DAY_MS;
      const verifyText = new Date(verifyAfter).toISOString();
      const review = reviewReference(record, snapshot.collector.host);
      for (const grant of signOff.review.decisions) {
        if (grant.decision !== "revoke") continue;
        const subject = revocationSubject(record.cycle, record.owner, grant, record);
        const evidence = [
          { label: "review", value: `${review} (${record.cycle}, ${record.owner})`, url: record.url },
          { label: "decision", value: `revoke ${grant.id}: ${grant.reason}`, at: record.mergedAt },
          {
            label: "grant",
            value: `${grant.kind} ${grant.account} (${grant.role}) on ${grant.repositories.join(", ") || organization.login}`,
          },
          { label: "verify after", value: verifyText, at: verifyText },
        ];
        if (observedAt < verifyAfter) {
          results.push({
            subject,
            outcome: "not-applicable",
            reason: `${grant.id} was revoked in ${review} on ${record.mergedAt}; it is checked after the ${params.grace_days}-day grace period (${verifyText}).`,
            evidence,
          });
          continue;
        }
        const presence = grantStillPresent(grant, snapshot);
        if (presence.state === "unknown") {
          results.push({
            subject,
            outcome: "unknown",
            reason: `Cannot tell whether ${grant.id}, revoked in ${review}, was removed: ${presence.why}.`,
            evidence,
          });
        } else if (presence.state === "absent") {
          results.push({
            subject,
            outcome: "pass",
            reason: `${grant.id}, revoked in ${review} ("${grant.reason}"), is removed: ${presence.what} (seen ${snapshot.collectedAt}).`,
            evidence: [...evidence, { label: "verified", value: presence.what, at: snapshot.collectedAt }],
          });
        } else {
          results.push({
            subject,
            outcome: "fail",
            reason: `${grant.id} was revoked in ${review} on ${record.mergedAt} ("${grant.reason}") but is still present after the ${params.grace_days}-day grace period: ${presence.what}.`,
            evidence: [
              ...evidence,
              { label: "still present", value: presence.what, at: snapshot.collectedAt },
            ],
          });
        }
      }
    }
    if (results.length === 0) {
      results.push({
        subject: orgSubject,
        outcome: "not-applicable",
        reason: "No signed-off access review revokes a grant.",
        evidence: [],
      });
    }
    return results;
  },
});
