import { ACCESS_REVIEW_BRANCH_PREFIX } from "../access-review/index.js";
import type { AccessReviewRecord, Known, Snapshot } from "../model/index.js";
import { unreadable } from "../model/index.js";
import type { Policy } from "../policy/types.js";
import type { CodeHost } from "../providers/types.js";

/** The controls that judge the access reviews: the audit reads them only when one is on. */
export const ACCESS_REVIEW_CONTROLS = ["cc6.access-review-completed", "cc6.revocations-applied"] as const;

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
