/**
 * The demo's quarter of access review (issue 15), through the simulated GitHub's HTTP API as people
 * would go through github.com: the bot opens the review pull request in the findings repository, a
 * team lead (own token) marks two grants `revoke` with reasons and commits, a second person (own
 * token) approves the decided file and merges it, and an administrator removes one of the two
 * accesses but not the other. The audit that follows then shows the sign-off (pass), one verified
 * revocation (pass) and one revocation not applied (fail: a finding issue).
 */
import { ACCESS_REVIEW_BRANCH_PREFIX, parseReviewFile, type ReviewDecision } from "../access-review/index.js";
import { CONTROLS } from "../controls/index.js";
import type { EvaluationReport } from "../engine/index.js";
import type { Snapshot } from "../model/index.js";
import { loadDefaultPolicyLayer, parsePolicyLayer, resolvePolicy } from "../policy/index.js";
import { activityDays, collectAccessSnapshot, openReviews } from "../pipeline/access-reviews.js";
import type { CodeHost } from "../providers/types.js";
import type { ExpectedFinding } from "../sample/generate.js";
import {
  commitText,
  merge,
  readText,
  removeCollaborator,
  review,
  revokeInText,
  type SimPerson,
} from "../sim/github/reviewer.js";
import type { World } from "../sim/github/world.js";

/** The quarter the demo reviews: the sample's audit ends on 2026-11-01, within 2026-Q4. */
export const DEMO_CYCLE = "2026-Q4";
const OWNER = "organization-admins";
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The demo policy's access-review settings, layered over the sample's: the organization started
 * reviewing this quarter (first_cycle), revoked access must be gone by the next audit (grace_days
 * 0). The findings repository is left out of the audit: its only change of the period is the
 * review's own pull request, which is a record, not a production change, and holds no grants the
 * review is about.
 */
export function withAccessReviewPolicy(snapshot: Snapshot, findingsRepository: string): Snapshot {
  const addition = `controls:
  cc6.access-review-completed:
    enabled: true
    first_cycle: "${DEMO_CYCLE}"
    due_within_days: 45
  cc6.revocations-applied:
    enabled: true
    grace_days: 0
audit:
  exclude: [${findingsRepository}]
`;
  return {
    ...snapshot,
    policyFiles: snapshot.policyFiles.map((file) =>
      file.layer === "organization" ? { ...file, content: `${file.content}${addition}` } : file,
    ),
  };
}

/** The two grants the scripted lead revokes: the first is removed afterwards, the second is not. */
const REVOKED = [
  {
    id: "outside-collaborator:auditor-lee:read",
    reason: "The external audit engagement ended in October",
  },
  {
    id: "collaborator:zoe:write",
    reason: "Moved to the data team; no longer needs write access to these repositories",
  },
] as const;

/** Who does what, each with their own token (world.tokens). */
const PEOPLE = {
  lead: { login: "grace", token: "demo-token-grace" },
  approver: { login: "alice", token: "demo-token-alice" },
} as const;

export interface AccessReviewStory {
  /** The review pull request. */
  number: number;
  url: string;
  /** The revocation left in place: the audit must find it (a planted violation). */
  planted: ExpectedFinding;
  lines: string[];
}

/**
 * Plays the quarter's review on the simulated GitHub. `at(step)` moves the simulated clock, so what
 * GitHub records (opened, decided, approved, merged, removed) is dated through the last week of
 * October, before the audit's end.
 */
export async function playAccessReview(input: {
  host: CodeHost;
  world: World;
  api: string;
  organization: string;
  findingsRepository: string;
  /** The served snapshot (its organization policy and time). */
  served: Snapshot;
}): Promise<AccessReviewStory> {
  const { world, organization } = input;
  const findings = `${organization}/${input.findingsRepository}`;
  const reviews = input.host.accessReviews?.(findings);
  if (!reviews) throw new Error("the GitHub host holds no access reviews");
  const layer = input.served.policyFiles.find((f) => f.layer === "organization");
  const policy = resolvePolicy(
    [
      loadDefaultPolicyLayer(CONTROLS),
      ...(layer ? [parsePolicyLayer(layer.content, layer.path, CONTROLS)] : []),
    ],
    CONTROLS,
  );
  const clock = (at: string) => {
    world.now = () => at;
  };
  world.tokens ??= new Map();
  for (const person of Object.values(PEOPLE)) world.tokens.set(person.token, person.login);
  const as = (person: { token: string }): SimPerson => ({ api: input.api, token: person.token });
  const lines: string[] = [];

  // 1. The bot opens the quarter's review as `soc2-bot access-review open` does: the access read
  // through the provider (the audited repositories, the last activity of the 90 days before).
  const openedAt = new Date("2026-10-27T09:00:00Z");
  clock(openedAt.toISOString());
  const snapshot = await collectAccessSnapshot({
    host: input.host,
    organization,
    since: new Date(openedAt.getTime() - activityDays(policy) * DAY_MS),
    until: openedAt,
    now: () => openedAt,
  });
  const opened = await openReviews({ host: input.host, organization, policy, snapshot, at: openedAt });
  const ours = opened.reviews.find((r) => r.owner === OWNER);
  if (!ours?.number || !ours.url || ours.status !== "opened")
    throw new Error(
      `the review of ${OWNER} was not opened: ${ours?.status ?? "no grants"} ${ours?.why ?? ""}`,
    );
  lines.push(
    `access review ${DEMO_CYCLE}: opened ${findings}#${ours.number} for ${OWNER} (${ours.grants} grants in ${ours.path})`,
  );

  // 2. The lead decides: two grants revoked, with reasons, committed to the review branch.
  clock("2026-10-28T14:00:00Z");
  const branch = `${ACCESS_REVIEW_BRANCH_PREFIX}${DEMO_CYCLE}/${OWNER}`;
  const lead = as(PEOPLE.lead);
  let text = await readText(lead, findings, ours.path, branch);
  for (const { id, reason } of REVOKED) text = revokeInText(text, id, reason);
  await commitText(lead, findings, branch, ours.path, text, "Access review: revoke two grants");
  lines.push(`  @${PEOPLE.lead.login} marked ${REVOKED.map((r) => r.id).join(" and ")} revoke, with reasons`);

  // 3. Someone who did not write the decisions approves the decided file and merges: the sign-off.
  const approver = as(PEOPLE.approver);
  clock("2026-10-29T10:00:00Z");
  await review(approver, findings, ours.number, "APPROVE", "Checked every grant with the team leads.");
  clock("2026-10-29T10:05:00Z");
  await merge(approver, findings, ours.number);
  lines.push(`  @${PEOPLE.approver.login} approved the decided file and merged it on 2026-10-29`);

  // 4. An administrator removes the first revoked access, on every repository it named; not the second.
  clock("2026-10-30T09:00:00Z");
  const decisions = parseReviewFile(ours.path, text).review?.decisions ?? [];
  const removed = decisionOf(decisions, REVOKED[0].id);
  const kept = decisionOf(decisions, REVOKED[1].id);
  for (const repository of removed.repositories)
    await removeCollaborator(approver, repository, removed.account);
  lines.push(
    `  @${PEOPLE.approver.login} removed ${removed.account} from ${removed.repositories.join(", ")}; ${kept.account}'s access was not removed`,
  );
  clock(input.served.collectedAt);
  return {
    number: ours.number,
    url: ours.url,
    planted: {
      control: "cc6.revocations-applied",
      subject: `revocation:${DEMO_CYCLE}:${OWNER}:${kept.id}`,
      outcome: "fail",
    },
    lines,
  };
}

/** The access-review controls' results of the audit, one line each: what the demo set out to show. */
export function accessReviewOutcomes(report: Pick<EvaluationReport, "results">): string {
  const shown = report.results.filter(
    (r) => r.control === "cc6.access-review-completed" || r.control === "cc6.revocations-applied",
  );
  if (shown.length === 0)
    return "\naccess review: no result (the audit did not evaluate the access-review controls)\n";
  return `\naccess review results:\n${shown
    .map((r) => `  ${r.outcome.padEnd(7)} ${r.control} ${r.subject.id}\n          ${r.reason}`)
    .join("\n")}\n`;
}

function decisionOf(decisions: readonly ReviewDecision[], id: string): ReviewDecision {
  const decision = decisions.find((d) => d.id === id);
  if (!decision) throw new Error(`the review lists no grant ${id}`);
  return decision;
}
