/**
 * The GitLab demo's quarter of access review (issue 15), through the simulated GitLab's REST API as
 * people would go through gitlab.com: the bot opens the review merge request in the findings
 * project, a team lead (own token) marks two grants `revoke` with reasons and commits, a second
 * person (own token) approves and merges it, and a group owner removes one of the two accesses but
 * not the other. The audit that follows shows the sign-off (pass), one verified revocation (pass)
 * and one revocation not applied (fail: a finding issue).
 */
import { parseReviewFile, type ReviewDecision } from "../access-review/index.js";
import { CONTROLS } from "../controls/index.js";
import { loadDefaultPolicyLayer, parsePolicyLayer, resolvePolicy } from "../policy/index.js";
import { activityDays, collectAccessSnapshot, openReviews } from "../pipeline/access-reviews.js";
import type { CodeHost } from "../providers/types.js";
import type { ExpectedFinding } from "../sample/generate.js";
import { revokeInText } from "../sim/github/reviewer.js";
import type { GitLabWorld } from "../sim/gitlab/world.js";

/** The quarter the demo reviews: the sample's audit ends on 2026-11-01, within 2026-Q4. */
export const GITLAB_DEMO_CYCLE = "2026-Q4";
const OWNER = "organization-admins";
const DAY_MS = 24 * 60 * 60 * 1000;

/** Who does what, each with their own token (the simulated GitLab's `users`). */
export const GITLAB_DEMO_PEOPLE = {
  lead: { login: "grace", token: "glpat-demo-grace" },
  approver: { login: "alice", token: "glpat-demo-alice" },
} as const;

/**
 * The demo group policy's access-review settings, appended to the sample's: the group started
 * reviewing this quarter (first_cycle), revoked access must be gone by the next audit (grace_days 0).
 */
export const GITLAB_DEMO_REVIEW_POLICY = `controls:
  cc6.access-review-completed:
    enabled: true
    first_cycle: "${GITLAB_DEMO_CYCLE}"
    due_within_days: 45
  cc6.revocations-applied:
    enabled: true
    grace_days: 0
`;

export interface GitLabAccessReviewStory {
  number: number;
  url: string;
  /** The revocation left in place: the audit must find it (a planted violation). */
  planted: ExpectedFinding;
  lines: string[];
}

/**
 * Plays the quarter's review on the simulated GitLab. `clock(at)` moves the simulated clock, so
 * what GitLab records (opened, decided, approved, merged) is dated in the last week of October,
 * before the audit's end; the removal is an API call GitLab dates itself (it records no time).
 */
export async function playGitLabAccessReview(input: {
  host: CodeHost;
  api: string;
  world: GitLabWorld;
  group: string;
  findingsProject: string;
  /** The group policy's text (.gitlab/soc2.yml of gitlab-profile). */
  groupPolicy: string;
  clock: (at: Date) => void;
  /** Accounts and projects the review must leave alone: the sample's planted violations are about them. */
  planted: ReadonlySet<string>;
}): Promise<GitLabAccessReviewStory> {
  const { group } = input;
  const findings = `${group}/${input.findingsProject}`;
  const policy = resolvePolicy(
    [loadDefaultPolicyLayer(CONTROLS), parsePolicyLayer(input.groupPolicy, ".gitlab/soc2.yml", CONTROLS)],
    CONTROLS,
  );
  const lines: string[] = [];

  // 1. The bot opens the quarter's review as `soc2-bot access-review open` does.
  const openedAt = new Date("2026-10-27T09:00:00Z");
  input.clock(openedAt);
  const snapshot = await collectAccessSnapshot({
    host: input.host,
    organization: group,
    since: new Date(openedAt.getTime() - activityDays(policy) * DAY_MS),
    until: openedAt,
    now: () => openedAt,
  });
  const opened = await openReviews({ host: input.host, organization: group, policy, snapshot, at: openedAt });
  const ours = opened.reviews.find((r) => r.owner === OWNER);
  if (!ours?.number || !ours.url || ours.status !== "opened") {
    throw new Error(
      `the review of ${OWNER} was not opened: ${ours?.status ?? "no grants"} ${ours?.why ?? ""}`,
    );
  }
  lines.push(
    `access review ${GITLAB_DEMO_CYCLE}: opened ${findings}!${ours.number} for ${OWNER} (${ours.grants} grants in ${ours.path})`,
  );

  // 2. The lead decides: two project memberships revoked, with reasons, committed to the branch.
  const lead = GITLAB_DEMO_PEOPLE.lead;
  const branch = `soc2-bot/access-review/${GITLAB_DEMO_CYCLE}/${OWNER}`;
  const file = `/projects/${encodeURIComponent(findings)}/repository/files/${encodeURIComponent(ours.path)}`;
  input.clock(new Date("2026-10-28T14:00:00Z"));
  const text = await call(input.api, lead.token, "GET", `${file}/raw?ref=${encodeURIComponent(branch)}`);
  const [first, second] = removable(
    parseReviewFile(ours.path, text).review?.decisions ?? [],
    input.world,
    input.planted,
  );
  if (!first || !second) throw new Error("the review lists fewer than two project memberships to revoke");
  const reasons = [
    "The contract ended in October; no longer needs access",
    "Moved to the data team; no longer needs write access to these projects",
  ];
  const decided = revokeInText(revokeInText(text, first.id, reasons[0]!), second.id, reasons[1]!);
  await call(input.api, lead.token, "PUT", file, {
    branch,
    content: decided,
    commit_message: "Access review: revoke two grants",
  });
  lines.push(`  @${lead.login} marked ${first.id} and ${second.id} revoke, with reasons`);

  // 3. Someone who did not write the decisions approves and merges: the sign-off.
  const approver = GITLAB_DEMO_PEOPLE.approver;
  const mr = `/projects/${encodeURIComponent(findings)}/merge_requests/${ours.number}`;
  input.clock(new Date("2026-10-29T10:00:00Z"));
  await call(input.api, approver.token, "POST", `${mr}/approve`, {});
  input.clock(new Date("2026-10-29T10:05:00Z"));
  await call(input.api, approver.token, "PUT", `${mr}/merge`, {});
  lines.push(`  @${approver.login} approved the decided file and merged it on 2026-10-29`);

  // 4. A group owner removes the first revoked membership, on every project it named; not the second.
  input.clock(new Date("2026-10-30T09:00:00Z"));
  const id = input.world.users.get(first.account)?.id;
  for (const repository of first.repositories) {
    await call(
      input.api,
      approver.token,
      "DELETE",
      `/projects/${encodeURIComponent(repository)}/members/${id}`,
    );
  }
  lines.push(
    `  @${approver.login} removed ${first.account} from ${first.repositories.join(", ")}; ${second.account}'s access was not removed`,
  );
  return {
    number: ours.number,
    url: ours.url,
    planted: {
      control: "cc6.revocations-applied",
      subject: `revocation:${GITLAB_DEMO_CYCLE}:${OWNER}:${second.id}`,
      outcome: "fail",
    },
    lines,
  };
}

/**
 * Two grants a project membership carries on every project it names (what removing the project
 * member takes away), of two different accounts.
 */
function removable(
  decisions: readonly ReviewDecision[],
  world: GitLabWorld,
  planted: ReadonlySet<string>,
): ReviewDecision[] {
  const people = new Set<string>(Object.values(GITLAB_DEMO_PEOPLE).map((p) => p.login));
  const direct = (account: string, repository: string) =>
    world.group.projects.find((p) => p.path === repository)?.members.some((m) => m.username === account) ??
    false;
  const picked: ReviewDecision[] = [];
  for (const decision of decisions) {
    if (decision.kind !== "collaborator" && decision.kind !== "outside-collaborator") continue;
    if (decision.repositories.length === 0 || picked.some((p) => p.account === decision.account)) continue;
    // Not the reviewers themselves, and no access a planted violation is about (removing it would hide one).
    if (people.has(decision.account) || planted.has(decision.account)) continue;
    if (decision.repositories.some((repository) => planted.has(repository))) continue;
    if (decision.repositories.every((repository) => direct(decision.account, repository)))
      picked.push(decision);
    if (picked.length === 2) break;
  }
  return picked;
}

/** One call to the simulated GitLab's API with a person's token; text back, an error if refused. */
async function call(
  api: string,
  token: string,
  method: string,
  path: string,
  body?: object,
): Promise<string> {
  const response = await fetch(`${api}/api/v4${path}`, {
    method,
    headers: { "PRIVATE-TOKEN": token, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  if (!response.ok)
    throw new Error(`GitLab ${method} ${path} answered ${response.status}: ${text.slice(0, 200)}`);
  return text;
}
