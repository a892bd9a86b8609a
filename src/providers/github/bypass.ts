/** Whether a merged pull request bypassed its branch rules, derived from the evidence. Pure. */
import { UNNAMED } from "./branch-rules.js";
import {
  known,
  unreadable,
  type BranchRule,
  type ChangeRequest,
  type Check,
  type CheckConclusion,
  type Known,
  type Review,
} from "../../model/index.js";

const SATISFIES_REQUIRED_CHECK: ReadonlySet<CheckConclusion> = new Set(["success", "neutral", "skipped"]);

/** What would show whether a merge met a requirement soc2-bot does not verify from evidence. */
export const RULE_EVALUATION_RECORD =
  "GitHub's record of the merge's rule evaluation (rule suites, administration:read) or the requirement's own evidence";

export type BypassEvidence = Pick<ChangeRequest, "state" | "author" | "headSha" | "reviews" | "checks"> &
  Partial<Pick<ChangeRequest, "mergeCommitSha" | "mergedByQueue" | "truncated" | "pushes" | "mergedBy">>;

type Verdict = { met: true } | { met: false; certain: true } | { met: false; certain: false; why: string };

const MET: Verdict = { met: true };
const UNMET: Verdict = { met: false, certain: true };
const unsure = (why: string): Verdict => ({ met: false, certain: false, why });

/**
 * GitHub does not say on the pull request whether its merge bypassed the rules, so it is derived
 * from the WHOLE effective rule (today's: GitHub keeps no history of rules):
 * - a requirement the evidence shows unmet (a required check not green from the source the rule
 *   names, too few approvals by people who could push) means the merge could only be a bypass;
 * - every requirement shown met means no bypass;
 * - anything else (a requirement soc2-bot does not verify, an approver whose write access the host
 *   did not state, a check whose app is not reported, a connection read only in part) is unknown,
 *   naming what is missing. Unreadable rules give an unreadable answer, never a guess.
 * A change merged by the merge queue is judged by the checks on the queue's merge commit.
 * Hidden ruleset bypass actors do not change the derivation: it judges what the merge met, not who
 * could have skipped it (cc8.branch-protection reports the hidden actors).
 */
export function deriveBypassedProtection(
  change: BypassEvidence,
  rules: Known<BranchRule | null>,
): Known<boolean> {
  if (change.state !== "merged") return known(false);
  if (!rules.known) return rules;
  const rule = rules.value;
  if (rule === null) return known(false);

  const verdicts: Array<[string, Verdict]> = [
    ...rule.requiredStatusChecks.map((name): [string, Verdict] => [
      `required check ${name}`,
      requiredCheck(change, name, rule.requiredCheckApps?.[name]),
    ]),
    ["required approvals", approvals(change, rule)],
    ...(rule.restrictedTo !== undefined
      ? [["push restrictions", restrictions(change, rule.restrictedTo)] as [string, Verdict]]
      : []),
  ];
  if (verdicts.some(([, v]) => !v.met && v.certain)) return known(true);

  const missing = verdicts.flatMap(([what, v]) => (!v.met && !v.certain ? [`${what}: ${v.why}`] : []));
  const other = [...(rule.otherRequirements ?? [])];
  // Code owners' review is never verified here (CODEOWNERS is not read), whoever built the rule.
  if (rule.requireCodeOwnerReview && !other.includes("require_code_owner_review"))
    other.push("require_code_owner_review");
  if (other.length > 0) {
    missing.push(`the rule also requires ${other.join(", ")}, which soc2-bot does not verify from evidence`);
  }
  if (missing.length > 0) return unreadable(RULE_EVALUATION_RECORD, missing.join("; "));
  return known(false);
}

/**
 * A required check on the commit GitHub judged: the head, or the queue's merge commit. Whether the
 * queue merged it comes from the timeline; read only in part, a later queue event may be missing,
 * so the check must be met on both commits (or unmet on both) for a known answer.
 */
function requiredCheck(change: BypassEvidence, name: string, app: number | undefined): Verdict {
  if (!(change.truncated ?? []).includes("pushes")) return requiredCheckOn(change, name, app);
  const [head, merge] = [false, true].map((mergedByQueue) =>
    requiredCheckOn({ ...change, mergedByQueue }, name, app),
  ) as [Verdict, Verdict];
  if (head.met && merge.met) return MET;
  if (!head.met && head.certain && !merge.met && merge.certain) return UNMET;
  return unsure(
    "whether the merge queue merged it (and so which commit GitHub judged) is not known: the timeline was read only in part",
  );
}

function requiredCheckOn(change: BypassEvidence, name: string, app: number | undefined): Verdict {
  const queued = change.mergedByQueue === true;
  const sha = queued ? change.mergeCommitSha : change.headSha;
  if (!sha) return unsure("merged by the merge queue, but its merge commit is not known");
  const on: Check["on"] = queued ? "merge" : "head";
  const named = change.checks.filter((c) => c.name === name && c.on === on && c.sha === sha);
  const truncated = (change.truncated ?? []).includes("checks");
  const fromSource =
    app === undefined ? named : named.filter((c) => c.kind === "check-run" && c.appId === app);
  // Every source reporting the name is required (a check run and a status of one name both are): the
  // latest result of each must satisfy it, a re-run replacing only its own source's earlier result.
  const bySource = new Map<string, Check[]>();
  for (const c of fromSource) bySource.set(sourceKey(c), [...(bySource.get(sourceKey(c)) ?? []), c]);
  // Two runs of one source completed at the same moment, one satisfying and one not: which GitHub
  // took as the latest is not known, so neither "met" nor "bypassed" can be said.
  for (const runs of bySource.values()) {
    const tied = lastCompleted(runs);
    if (
      tied.some((c) => SATISFIES_REQUIRED_CHECK.has(c.conclusion)) &&
      tied.some((c) => !SATISFIES_REQUIRED_CHECK.has(c.conclusion))
    )
      return unsure(
        `two results of ${name} from one source completed at the same time, one satisfying it and one not; which GitHub took as the latest is not known`,
      );
  }
  const latest = [...bySource.values()].map(latestCompleted);
  if (latest.length > 0 && latest.every((c) => c !== undefined && SATISFIES_REQUIRED_CHECK.has(c.conclusion)))
    // A later failed run, or another source's, may be among the results not read.
    return truncated
      ? unsure("the host returned the checks only in part, so a later result may have failed")
      : MET;
  // A source still running beside green ones: it may have started after the merge (a re-run).
  if (
    latest.some((c) => c !== undefined) &&
    latest.every((c) => c === undefined || SATISFIES_REQUIRED_CHECK.has(c.conclusion))
  )
    return unsure(
      "a source reporting it has not completed a run, so whether GitHub required it at the merge is not known",
    );
  if (app !== undefined && named.some((c) => c.kind === "check-run" && (c.appId ?? null) === null))
    return unsure(`it must come from app ${app}, and the host did not say which app reported a run`);
  if (truncated) return unsure("the host returned the checks only in part");
  // A commit status or another app's run of the same name does not satisfy a check pinned to an app.
  return UNMET;
}

/** A check run's app, or the commit statuses of the name. */
function sourceKey(check: Check): string {
  return check.kind === "check-run" ? `app:${check.appId ?? check.appSlug ?? "not named"}` : check.kind;
}

/**
 * Classic protection's restrictions: only the people, teams and apps listed may push, and so merge.
 * A merge by anyone else was an administrator overriding the rule. Team membership is not read, so a
 * merger not listed by name while teams are listed is unknown.
 */
function restrictions(change: BypassEvidence, allowed: readonly string[]): Verdict {
  if (change.mergedByQueue === true)
    return unsure("merged by the merge queue, whose push to the branch these restrictions govern too");
  const merger = change.mergedBy ?? null;
  if (merger === null) return unsure("the host did not say who merged");
  const name = merger.toLowerCase();
  const listed = allowed.some((entry) => {
    const lower = entry.toLowerCase();
    return lower === name || lower === `app:${name}` || `${lower}[bot]` === `app:${name}`;
  });
  if (listed) return MET;
  const teams = allowed.filter((entry) => entry.startsWith("team:"));
  if (teams.length > 0)
    return unsure(`${merger} is not listed by name, and membership of ${teams.join(", ")} is not read`);
  if (allowed.includes(UNNAMED))
    return unsure(`${merger} is not listed, and GitHub did not name everyone listed`);
  return UNMET;
}

/** The completed results at the latest completion time (more than one only on a tie). */
function lastCompleted(checks: Check[]): Check[] {
  const completed = checks.filter((c) => c.conclusion !== "pending" && c.completedAt !== null);
  if (completed.length === 0) return [];
  const last = Math.max(...completed.map((c) => Date.parse(c.completedAt ?? "")));
  return completed.filter((c) => Date.parse(c.completedAt ?? "") === last);
}

/** The latest completed result decides (a rerun replaces the run before it); on a tie, the worst. */
function latestCompleted(checks: Check[]): Check | undefined {
  const tied = lastCompleted(checks);
  return tied.find((c) => !SATISFIES_REQUIRED_CHECK.has(c.conclusion)) ?? tied[0];
}

/**
 * Approvals GitHub would count: each reviewer's latest verdict, by someone other than the author who
 * could push to the repository; on the head when stale approvals are dismissed or the last push must
 * be approved, and not by the last pusher then. GitHub counts an approving app or bot with write
 * access toward the rule, so its approval is no bypass: whether it was an independent approval is
 * cc8.independent-approval's question, not this one.
 */
function approvals(change: BypassEvidence, rule: BranchRule): Verdict {
  if (rule.requiredApprovals === 0) return MET;
  const lastPusher = rule.requireLastPushApproval ? lastPush(change) : undefined;
  const latest = new Map<string, Review>();
  const ordered = [...change.reviews].sort((a, b) => Date.parse(a.submittedAt) - Date.parse(b.submittedAt));
  for (const review of ordered) {
    if (review.reviewer === change.author || review.state === "commented" || review.state === "pending")
      continue;
    latest.set(review.reviewer, review);
  }
  const headOnly = rule.dismissStaleApprovals || rule.requireLastPushApproval;
  let counted = 0;
  const unconfirmed: string[] = [];
  for (const review of latest.values()) {
    if (review.state !== "approved") continue;
    if (headOnly && review.commitSha !== change.headSha) continue;
    if (review.authorCanPush === false) continue;
    if (lastPusher !== undefined && lastPusher !== null && review.reviewer === lastPusher) continue;
    if (review.authorCanPush !== true) unconfirmed.push(`${review.reviewer} (write access not stated)`);
    else if (lastPusher === null) unconfirmed.push(`${review.reviewer} (the last pusher is not recorded)`);
    else counted += 1;
  }
  const required = `${rule.requiredApprovals} required, ${counted} confirmed`;
  const pushesCut = rule.requireLastPushApproval && (change.truncated ?? []).includes("pushes");
  if (counted >= rule.requiredApprovals) {
    // What was not read may undo what was: a later review withdrawing an approval, a later push.
    if ((change.truncated ?? []).includes("reviews"))
      return unsure(
        `${required}; the host returned the reviews only in part, so a later review may withdraw one`,
      );
    if (pushesCut)
      return unsure(
        `${required}; the host returned the pushes only in part, so the last pusher is not known`,
      );
    return MET;
  }
  if (counted + unconfirmed.length >= rule.requiredApprovals)
    return unsure(`${required}; not confirmed: ${unconfirmed.join(", ")}`);
  if ((change.truncated ?? []).includes("reviews"))
    return unsure(`${required}; the host returned the reviews only in part`);
  if (pushesCut) return unsure(`${required}; the host returned the pushes only in part`);
  return UNMET;
}

/** The actor of the latest push (null: not recorded); undefined when there is no push at all. */
function lastPush(change: BypassEvidence): string | null | undefined {
  const pushes = [...(change.pushes ?? [])].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const last = pushes.at(-1);
  return last === undefined ? undefined : last.actor;
}
