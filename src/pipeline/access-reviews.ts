import {
  ACCESS_REVIEW_BRANCH_PREFIX,
  ACCESS_REVIEW_CONTROLS,
  accessReviewSettings,
  cycleBefore,
  cycleOf,
  openDueReviews,
  parseCycle,
  type OpenReviewsOutcome,
} from "../access-review/index.js";
import type { AccessReviewRecord, Known, Snapshot } from "../model/index.js";
import { unreadable } from "../model/index.js";
import { peopleDirectory } from "../policy/people.js";
import type { Policy } from "../policy/types.js";
import type { CodeHost } from "../providers/types.js";
import { accessFacts } from "./access-facts.js";
import { collectAuditStream, type AuditOptions } from "./audit.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The findings repository the reviews are opened in, as the finding issues name it. */
export function findingsRepository(organization: string, policy: Pick<Policy, "findings">): string {
  return `${organization}/${policy.findings.repository}`;
}

/**
 * Every access review in the organization's findings repository (any state), for the snapshot's
 * accessReviews. A host that holds none, or a list the host would not give, is unreadable (the
 * controls answer unknown, saying why), never an empty list that would read as "no review".
 */
export async function collectAccessReviews(
  host: CodeHost,
  organization: string,
  policy: Pick<Policy, "findings">,
): Promise<Known<AccessReviewRecord[]>> {
  const repository = findingsRepository(organization, policy);
  if (!host.accessReviews) return unreadable("access reviews", "this host does not hold access reviews");
  try {
    return await host.accessReviews(repository).listReviews(ACCESS_REVIEW_BRANCH_PREFIX);
  } catch (error) {
    return unreadable(
      `read access to the pull requests of ${repository}`,
      error instanceof Error ? error.message : String(error),
    );
  }
}

/**
 * The snapshot's accessReviews when the policy judges them (either access-review control on); absent
 * otherwise, so an audit that does not judge them asks the host nothing more.
 */
export async function accessReviewsPart(
  host: CodeHost,
  organization: string,
  policy: Pick<Policy, "findings" | "controls">,
): Promise<Pick<Snapshot, "accessReviews">> {
  const wanted = ACCESS_REVIEW_CONTROLS.some((id) => policy.controls[id]?.enabled === true);
  if (!wanted) return {};
  return { accessReviews: await collectAccessReviews(host, organization, policy) };
}

/**
 * The access a review lists: the organization, every audited repository's collaborators, teams and
 * deploy keys, and each account's latest activity in the period (kept a repository at a time, as
 * the audit's organization controls keep it, so memory follows the accounts, not the changes).
 */
export async function collectAccessSnapshot(options: AuditOptions): Promise<Snapshot> {
  const access = accessFacts();
  const header = await collectAuditStream(options, {
    repository(collected) {
      access.add(collected.repository, collected.changeRequests, collected.directPushes);
    },
  });
  return { ...header.snapshot, ...access.snapshotPart(), policyFiles: header.policyFiles };
}

/** How far back the review's "last activity" looks: cc6.inactive-access's days (90 by default). */
export function activityDays(policy: Pick<Policy, "controls">): number {
  const days = policy.controls["cc6.inactive-access"]?.params["days"];
  return typeof days === "number" && days > 0 ? days : 90;
}

/**
 * Opens the reviews of the cycle `at` falls in, from a snapshot of the access: one per owner with
 * grants, each once (see openDueReviews).
 */
export async function openReviews(input: {
  host: CodeHost;
  organization: string;
  policy: Policy;
  snapshot: Snapshot;
  at: Date;
  dryRun?: boolean;
}): Promise<OpenReviewsOutcome> {
  const settings = accessReviewSettings(input.policy);
  const reviewHost = input.host.accessReviews?.(findingsRepository(input.organization, input.policy)) ?? null;
  return openDueReviews({
    snapshot: input.snapshot,
    organization: input.organization,
    params: settings.review,
    graceDays: settings.revocation.grace_days,
    people: peopleDirectory(input.policy.people, input.host.host),
    host: reviewHost,
    at: input.at,
    ...(input.dryRun !== undefined && { dryRun: input.dryRun }),
  });
}

/**
 * After a scheduled audit: opens the current cycle's reviews when the policy judges them and none
 * of the cycle was opened yet (an owner added mid-cycle is opened with `soc2-bot access-review
 * open`). Null when there is nothing to do; the access is collected only when a review is opened.
 */
export async function openReviewsAfterAudit(input: {
  host: CodeHost;
  organization: string;
  policy: Policy;
  at: Date;
  now?: () => Date;
}): Promise<OpenReviewsOutcome | null> {
  const settings = accessReviewSettings(input.policy);
  if (!settings.enabled) return null;
  const reviewHost = input.host.accessReviews?.(findingsRepository(input.organization, input.policy));
  if (!reviewHost) return null;
  const cycle = cycleOf(settings.review.every, input.at);
  const first = settings.review.first_cycle ? parseCycle(settings.review.first_cycle) : null;
  if (first && cycleBefore(cycle, first)) return null;
  const listed = await reviewHost.listReviews(ACCESS_REVIEW_BRANCH_PREFIX);
  if (listed.known && listed.value.some((record) => record.cycle === cycle.id)) return null;
  const snapshot = await collectAccessSnapshot({
    host: input.host,
    organization: input.organization,
    since: new Date(input.at.getTime() - activityDays(input.policy) * DAY_MS),
    until: input.at,
    ...(input.now && { now: input.now }),
  });
  return openReviews({ ...input, snapshot });
}
