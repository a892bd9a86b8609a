/**
 * report.html's access reviews (CC6.2, CC6.3): one block per review with its pull request, who
 * signed it off and when, whether on time, how many grants were kept and revoked, and what the audit
 * found of each revocation. Static HTML (no script needed, so it prints as it shows); every text from
 * the host or the review file goes through htmlText, and a link is kept only when it is http(s).
 */
import { htmlText } from "../../text/escape.js";
import { onTimeText, type AccessReviewEvidence, type ReviewEvidence } from "./access-reviews-csv.js";

/** The section, or one saying why there is nothing to show. */
export function accessReviewsHtmlSection(evidence: AccessReviewEvidence | undefined): string {
  const heading = `<section id="access-reviews">\n<h2>Access reviews</h2>\n`;
  if (!evidence) {
    return `${heading}<p>Access reviews were not part of this report.</p>\n</section>`;
  }
  if (!evidence.collected) {
    return `${heading}<p>Access reviews were not collected: ${htmlText(evidence.why)}. access-reviews.csv says the same.</p>\n</section>`;
  }
  if (evidence.reviews.length === 0) {
    return `${heading}<p>No access review was found in the findings repository.</p>\n</section>`;
  }
  return `${heading}<p>Each review is a pull request in the findings repository; its merge, approved by someone who did not write the decisions, is the sign-off. access-reviews.csv lists every decision.</p>\n${evidence.reviews.map(reviewBlock).join("\n")}\n</section>`;
}

function reviewBlock(review: ReviewEvidence): string {
  const { record, signOff } = review;
  const kept = review.grants.filter((grant) => grant.decision.decision === "keep").length;
  const revoked = review.grants.filter((grant) => grant.decision.decision === "revoke");
  const link = /^https?:\/\//i.test(record.url)
    ? `<a href="${htmlText(record.url)}">${htmlText(`${record.repository}#${record.number}`)}</a>`
    : htmlText(`${record.repository}#${record.number}`);
  const reviewers = signOff.reviewers.length
    ? signOff.reviewers.map((login) => `<code>${htmlText(login)}</code>`).join(", ")
    : "none independent";
  // GitLab does not say which commit an approval was given on: accepted, and said
  const uncommitted = signOff.uncommittedApprovals.length
    ? ` <span class="note">(the host does not say which commit ${signOff.uncommittedApprovals.map((login) => htmlText(login)).join(", ")} approved: taken as the merged head)</span>`
    : "";
  const problems = signOff.problems.map(
    (p) => `<li><code>${htmlText(`${p.file}:${p.line}:${p.column}`)}</code> ${htmlText(p.message)}</li>`,
  );
  const decisions =
    review.noDecisions !== null
      ? `<p class="review-problem">No decisions: ${htmlText(review.noDecisions)}</p>`
      : `<p>${review.grants.length} grants: <strong>${kept} kept</strong>, <strong>${revoked.length} revoked</strong>.</p>`;
  const revocations = revoked.length
    ? `<table class="revocations"><thead><tr><th>Grant</th><th>Account</th><th>Person</th><th>Reason</th><th>Verify after</th><th>Verification</th><th>Verified at</th></tr></thead><tbody>${revoked
        .map(
          (grant) =>
            `<tr class="verification-${grant.outcome ?? "none"}"><td><code>${htmlText(grant.decision.id)}</code></td><td>${htmlText(grant.decision.account)}</td><td>${htmlText(grant.decision.person)}</td><td>${htmlText(grant.decision.reason)}</td><td>${htmlText(grant.verifyAfter ?? "")}</td><td>${htmlText(grant.verification)}</td><td>${htmlText(grant.verifiedAt ?? "")}</td></tr>`,
        )
        .join("")}</tbody></table>`
    : "";
  return `<article class="access-review">
<h3>${htmlText(`Access review ${record.cycle}: ${record.owner}`)}</h3>
<dl>
<dt>Pull request</dt><dd>${link} <span class="note">(${htmlText(record.state)}, opened by ${htmlText(record.openedBy)} on ${htmlText(record.openedAt)})</span></dd>
<dt>Reviewers</dt><dd>${reviewers}${uncommitted}</dd>
<dt>Decided at</dt><dd>${htmlText(signOff.decidedAt ?? "not decided")}</dd>
<dt>Due at</dt><dd>${htmlText(signOff.dueAt)}</dd>
<dt>On time</dt><dd>${htmlText(onTimeText(signOff, record))}</dd>
<dt>Sign-off</dt><dd>${htmlText(signOff.why)}</dd>
</dl>
${problems.length ? `<ul class="review-problems">${problems.join("")}</ul>\n` : ""}${decisions}
${revocations}
</article>`;
}
