/** Whether a merged pull request bypassed its branch rules. Pure. */
import {
  known,
  type BranchRule,
  type ChangeRequest,
  type CheckConclusion,
  type Known,
  type Review,
} from "../../model/index.js";

const SATISFIES_REQUIRED_CHECK: ReadonlySet<CheckConclusion> = new Set(["success", "neutral", "skipped"]);

/**
 * GitHub does not say whether a merge bypassed the branch rules, so it is derived: a merge while the
 * required checks were not all green on the head, or with fewer approvals than required, can only
 * have been a bypass. The rules are today's (GitHub keeps no history of them). Unreadable rules
 * give an unreadable answer, never a guess.
 */
export function deriveBypassedProtection(
  change: Pick<ChangeRequest, "state" | "author" | "headSha" | "reviews" | "checks">,
  rules: Known<BranchRule | null>,
): Known<boolean> {
  if (change.state !== "merged") return known(false);
  if (!rules.known) return rules;
  const rule = rules.value;
  if (rule === null) return known(false);
  const unmetChecks = rule.requiredStatusChecks.filter(
    (name) =>
      !change.checks.some(
        (c) =>
          c.on === "head" &&
          c.sha === change.headSha &&
          c.name === name &&
          SATISFIES_REQUIRED_CHECK.has(c.conclusion),
      ),
  );
  const approvals = countApprovals(change, rule.dismissStaleApprovals);
  return known(unmetChecks.length > 0 || approvals < rule.requiredApprovals);
}

/** Distinct reviewers (not the author) whose latest decisive review approves. */
function countApprovals(
  change: Pick<ChangeRequest, "author" | "headSha" | "reviews">,
  headOnly: boolean,
): number {
  const latest = new Map<string, Review>();
  const ordered = [...change.reviews].sort((a, b) => Date.parse(a.submittedAt) - Date.parse(b.submittedAt));
  for (const review of ordered) {
    if (review.reviewer === change.author || review.state === "commented" || review.state === "pending")
      continue;
    latest.set(review.reviewer, review);
  }
  return [...latest.values()].filter(
    (r) => r.state === "approved" && (!headOnly || r.commitSha === change.headSha),
  ).length;
}
