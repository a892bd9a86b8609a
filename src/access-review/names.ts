/**
 * Names the access review uses on the host: branch, file and title. The branch name carries the cycle
 * and the owner, so listing the branches under the prefix finds every review ever opened.
 */
export const ACCESS_REVIEW_BRANCH_PREFIX = "soc2-bot/access-review/";

/** The owner of grants no configured owner claims (and of organization-wide grants). */
export const ORGANIZATION_ADMINS = "organization-admins";

export const ACCESS_REVIEW_LABEL = "soc2-access-review";

export function reviewBranch(cycle: string, owner: string): string {
  return `${ACCESS_REVIEW_BRANCH_PREFIX}${cycle}/${owner}`;
}

export function reviewPath(folder: string, cycle: string, owner: string): string {
  return `${folder.replace(/\/+$/, "")}/${cycle}/${owner}.yml`;
}

export function reviewTitle(cycle: string, owner: string, organization: string): string {
  return `Access review ${cycle}: ${owner} (${organization})`;
}

/** Cycle and owner from a branch name under the prefix; null for any other branch. */
export function parseReviewBranch(branch: string): { cycle: string; owner: string } | null {
  if (!branch.startsWith(ACCESS_REVIEW_BRANCH_PREFIX)) return null;
  const rest = branch.slice(ACCESS_REVIEW_BRANCH_PREFIX.length);
  const slash = rest.indexOf("/");
  if (slash <= 0 || slash === rest.length - 1) return null;
  const owner = rest.slice(slash + 1);
  if (owner.includes("/")) return null;
  return { cycle: rest.slice(0, slash), owner };
}

/** The key id of a deploy key grant's account, "<repo>#<key id> <title>"; null when it names none. */
export function deployKeyId(account: string): string | null {
  return /#([^\s#]+)(?:\s|$)/.exec(account)?.[1] ?? null;
}

/** How the host itself names the review's pull request: GitHub `owner/repo#7`, GitLab `group/project!7`. */
export function reviewReference(
  record: { repository: string; number: number },
  host: "github" | "gitlab",
): string {
  return `${record.repository}${host === "gitlab" ? "!" : "#"}${record.number}`;
}
