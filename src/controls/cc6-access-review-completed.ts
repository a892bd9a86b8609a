import {
  accessReviewParams,
  cycleBefore,
  cycleOf,
  dueAt,
  parseCycle,
  reviewGrants,
  reviewReference,
  signOffOf,
  type Cycle,
  type SignOff,
} from "../access-review/index.js";
import type { AccessReviewRecord } from "../model/index.js";
import { accessReviewsOrUnknown, accessReviewSubject, organizationSubject } from "./subjects.js";
import { defineControl, type Evaluation, type Evidence } from "./types.js";

export const accessReviewCompleted = defineControl({
  id: "cc6.access-review-completed",
  criterion: "CC6.2",
  title: "Access is reviewed each cycle, signed off on time",
  appliesTo: "organization",
  params: accessReviewParams,
  passes:
    "Each owner's access review of each cycle (soc2-bot access-review open) was merged with an approval of the merged file by someone who neither opened it nor wrote on it, within the policy's days of the cycle's start.",
  fails:
    "A cycle's review is missing, unmerged past its due date, merged late, merged without an independent approval of the merged file, or its file is invalid.",
  remediation:
    "Run `soc2-bot access-review open` (the app does after a scheduled audit), decide every grant, and merge the review with an approval from someone who did not write the decisions, by the due date.",
  evidence:
    "The review pull requests (merge requests) in the findings repository: their approvals (login, commit, time), committers, merge, and the review file at the merged head.",
  unknownWhen:
    "The access reviews were not collected (an older snapshot, or a host that does not hold them) or the findings repository's pull requests cannot be read.",
  evaluate(organization, { params, at, snapshot, people }) {
    const orgSubject = organizationSubject(organization.login, organization.url);
    const reviews = accessReviewsOrUnknown(snapshot, orgSubject);
    if ("unknown" in reviews) return [reviews.unknown];
    const first = params.first_cycle ? parseCycle(params.first_cycle) : null;
    const cycles = cyclesToJudge(params.every, at, snapshot.period?.since ?? null, first, reviews.records);
    // Owners with grants today, and any owner a review was opened for.
    const owners = reviewGrants(snapshot, params, people).map(({ owner }) => owner);
    const results: Evaluation[] = [];
    for (const record of reviews.records) {
      const cycle = parseCycle(record.cycle);
      if (!cycle) {
        results.push({
          subject: accessReviewSubject(record.cycle, record.owner, record),
          outcome: "not-applicable",
          reason: `${record.branch} names no review cycle ("${record.cycle}"): not a review soc2-bot opened, not judged.`,
          evidence: [{ label: "pull request", value: record.url, url: record.url }],
        });
      } else if (first && cycleBefore(cycle, first)) {
        results.push({
          subject: accessReviewSubject(record.cycle, record.owner, record),
          outcome: "not-applicable",
          reason: `The review of ${record.cycle} is before first_cycle ${params.first_cycle}: not judged.`,
          evidence: [{ label: "review", value: record.url, url: record.url }],
        });
      }
    }
    for (const { cycle, inPeriod } of cycles) {
      const due = dueAt(cycle, params.due_within_days);
      const records = reviews.records.filter((record) => record.cycle === cycle.id);
      // Today's owners are expected in the cycles of the audit period; an older cycle is judged by
      // the reviews it has (an owner that did not exist then owed none).
      const cycleOwners = [
        ...new Set([...(inPeriod ? owners : []), ...records.map((record) => record.owner)]),
      ];
      for (const owner of cycleOwners) {
        const mine = records.filter((record) => record.owner === owner);
        results.push(
          judge(organization.login, cycle, owner, mine, due, at, params, people, snapshot.collector.host),
        );
      }
    }
    if (results.length === 0) {
      results.push({
        subject: orgSubject,
        outcome: "not-applicable",
        reason: "No review cycle falls in what this evaluation judges.",
        evidence: [],
      });
    }
    return results;
  },
});

/**
 * The cycles to judge: from the one the audit period starts in (or the current one), never before
 * first_cycle, to the current one (inPeriod); and every later-reviewed cycle a review was opened for
 * at or after first_cycle.
 */
function cyclesToJudge(
  every: Parameters<typeof cycleOf>[0],
  at: Date,
  since: string | null,
  first: Cycle | null,
  records: readonly AccessReviewRecord[],
): { cycle: Cycle; inPeriod: boolean }[] {
  const current = cycleOf(every, at);
  const byId = new Map<string, { cycle: Cycle; inPeriod: boolean }>();
  let cycle = since ? cycleOf(every, new Date(since)) : current;
  while (cycle.start.getTime() <= current.start.getTime()) {
    if (!first || !cycleBefore(cycle, first)) byId.set(cycle.id, { cycle, inPeriod: true });
    cycle = cycleOf(every, cycle.end);
  }
  for (const record of records) {
    const opened = parseCycle(record.cycle);
    if (opened && !byId.has(opened.id) && (!first || !cycleBefore(opened, first)))
      byId.set(opened.id, { cycle: opened, inPeriod: false });
  }
  return [...byId.values()].sort(
    (a, b) => a.cycle.start.getTime() - b.cycle.start.getTime() || (a.cycle.id < b.cycle.id ? -1 : 1),
  );
}

function judge(
  organization: string,
  cycle: Cycle,
  owner: string,
  records: readonly AccessReviewRecord[],
  due: Date,
  at: Date,
  params: { due_within_days: number },
  people: Parameters<typeof signOffOf>[2],
  host: "github" | "gitlab",
): Evaluation {
  const dueText = due.toISOString();
  const signOffs = records.map((record) => signOffOf(record, params, people));
  // A review reopened after a closed one: the best of them speaks for the cycle.
  const best =
    signOffs.find((s) => s.signedOff && s.onTime) ??
    signOffs.find((s) => s.signedOff) ??
    signOffs.find((s) => s.record.state === "merged") ??
    signOffs.find((s) => s.record.state === "open") ??
    signOffs[0];
  const subject = accessReviewSubject(cycle.id, owner, best?.record);
  const pastDue = at.getTime() > due.getTime();
  if (!best) {
    return {
      subject,
      outcome: pastDue ? "fail" : "not-applicable",
      reason: pastDue
        ? `No access review of ${cycle.id} was opened for ${owner}; it was due ${dueText}.`
        : `The access review of ${cycle.id} for ${owner} is not opened yet; it is due ${dueText}.`,
      evidence: [{ label: "due", value: dueText, at: dueText }],
    };
  }
  const evidence = signOffEvidence(best, host);
  if (best.record.state !== "merged") {
    const state = best.record.state === "open" ? "is open, not merged" : "was closed without merge";
    return {
      subject,
      outcome: pastDue ? "fail" : "not-applicable",
      reason: pastDue
        ? `The access review of ${cycle.id} for ${owner} ${state}: it was due ${dueText}.`
        : `The access review of ${cycle.id} for ${owner} ${state}; it is due ${dueText}.`,
      evidence,
    };
  }
  // A review file of another organization (a copied branch) says nothing about this one's access.
  if (best.review && best.review.organization !== organization) {
    return {
      subject,
      outcome: "fail",
      reason: `The access review of ${cycle.id} for ${owner} reviews organization "${best.review.organization}", not ${organization}.`,
      evidence,
    };
  }
  if (best.signedOff && best.onTime) {
    return {
      subject,
      outcome: "pass",
      reason: `The access review of ${cycle.id} for ${owner} was ${best.why}.`,
      evidence,
    };
  }
  return {
    subject,
    outcome: "fail",
    reason: `The access review of ${cycle.id} for ${owner} is no sign-off: ${best.why}.`,
    evidence,
  };
}

function signOffEvidence(signOff: SignOff, host: "github" | "gitlab"): Evidence[] {
  const { record } = signOff;
  const evidence: Evidence[] = [
    { label: "review", value: `${reviewReference(record, host)} (${record.state})`, url: record.url },
    { label: "opened by", value: record.openedBy, at: record.openedAt },
    { label: "due", value: signOff.dueAt, ...(signOff.dueAt !== "" && { at: signOff.dueAt }) },
  ];
  if (record.mergedAt) {
    evidence.push({ label: "merged by", value: record.mergedBy ?? "unknown", at: record.mergedAt });
  }
  for (const approval of record.approvals) {
    evidence.push({
      label: "approval",
      value: `${approval.login} on ${approval.commit ?? "no commit given by the host (accepted as the merged head)"}`,
      at: approval.at,
    });
  }
  if (record.committers.length > 0)
    evidence.push({ label: "committers", value: record.committers.join(", ") });
  if (signOff.reviewers.length > 0) {
    evidence.push({ label: "independent reviewers", value: signOff.reviewers.join(", ") });
  }
  if (signOff.review) {
    const revoked = signOff.review.decisions.filter((decision) => decision.decision === "revoke").length;
    evidence.push({
      label: "decisions",
      value: `${signOff.review.decisions.length} grant(s): ${signOff.review.decisions.length - revoked} keep, ${revoked} revoke`,
    });
  }
  for (const problem of signOff.problems) {
    evidence.push({
      label: "problem",
      value: `${problem.file}:${problem.line}:${problem.column} ${problem.message}`,
    });
  }
  return evidence;
}
