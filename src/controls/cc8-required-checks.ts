import { z } from "zod";
import type { ChangeRequest, Check } from "../model/index.js";
import { changeRequestNotApplicable, shortSha, time } from "./approvals.js";
import { changeRequestSubject, unknownBecause } from "./subjects.js";
import { defineControl, type Evaluation, type Evidence } from "./types.js";

const params = z
  .object({
    /** Checks the policy requires on top of those the branch rule requires. */
    checks: z.array(z.string().min(1)).default([]),
    require_at_least_one: z.boolean().default(true),
  })
  .strict();

interface CheckVerdict {
  name: string;
  /** The GitHub App the branch rule pins the check to; undefined when any source may report it. */
  pinnedApp: number | undefined;
  /** The run that decides on the final head, and on the merge commit; undefined when none ran there. */
  head: Check | undefined;
  merge: Check | undefined;
  /** A run of that name on another commit, to say "ran only on an earlier commit". */
  elsewhere: Check | undefined;
  /** What the other sources of that name reported on the merged code (all are required). */
  others: Check[];
  /** Results of that name on the merged code from a source the rule does not accept. */
  rejected: Check[];
  /** How the check stands: passed, still running, or not passed (with why). */
  status: "success" | "waiting" | "failed";
  /** Why it did not pass or is waiting, e.g. "ci/test failure on the final head". */
  problem: string;
}

export const requiredChecks = defineControl({
  id: "cc8.required-checks",
  criterion: "CC8.1",
  title: "Required checks passed on the merged code",
  appliesTo: "change-request",
  params,
  passes:
    "Every required check (the branch rule's required status checks and the policy's checks) succeeded on the merged commit or the final head.",
  fails:
    "No check is required, or a required check failed, was skipped, cancelled or neutral, or never ran on the merged code.",
  remediation:
    "Make the test workflow a required status check of the production branch (or list it under checks in the policy), and fix or re-run failed checks before merging.",
  evidence:
    "The branch rule's required checks and the apps they are pinned to, the policy's checks, and every check run (with its app) and commit status (with who posted it) on the final head and the merge commit.",
  unknownWhen:
    "The branch rules cannot be read and the policy names no check, the host returned only part of the checks, or a check of an open change is still running.",
  evaluate(facts, context) {
    const notApplicable = changeRequestNotApplicable(facts, context);
    if (notApplicable) return [notApplicable];
    const { changeRequest, repository } = facts;
    const subject = changeRequestSubject(changeRequest);
    const policyChecks = context.params.checks;

    let ruleChecks: string[] = [];
    let pins: Record<string, number> = {};
    const evidence: Evidence[] = [];
    if (repository === undefined) {
      if (policyChecks.length === 0) {
        return [
          {
            subject,
            outcome: "unknown",
            reason: `The repository ${changeRequest.repository} was not collected, so its required checks are unknown; list them under checks in the policy or collect the repository.`,
            evidence: [],
          },
        ];
      }
      evidence.push({ label: "branch rule", value: "repository not collected; policy checks only" });
    } else if (!repository.branchRules.known) {
      if (policyChecks.length === 0) {
        return [
          unknownBecause(subject, `the branch rules of ${repository.fullName}`, repository.branchRules),
        ];
      }
      evidence.push({
        label: "branch rule",
        value: `unreadable (${repository.branchRules.permission}); policy checks only`,
      });
    } else {
      const rule = repository.branchRules.value.find((entry) => entry.branch === changeRequest.baseBranch);
      ruleChecks = rule?.requiredStatusChecks ?? [];
      pins = rule?.requiredCheckApps ?? {};
      evidence.push({
        label: "branch rule",
        value: rule
          ? `${changeRequest.baseBranch} requires [${ruleChecks.join(", ")}] (${rule.sources.join(", ") || "no source"})`
          : `${changeRequest.baseBranch} has no rule`,
      });
      for (const [name, app] of Object.entries(pins)) {
        evidence.push({
          label: "pinned check",
          value: `${name} must be reported by the GitHub App with id ${app}`,
        });
      }
    }
    if (policyChecks.length > 0) evidence.push({ label: "policy requires", value: policyChecks.join(", ") });
    if (changeRequest.mergedByQueue) {
      evidence.push({
        label: "merge queue",
        value: `merged by the merge queue: its commit ${changeRequest.mergeCommitSha ?? "(not recorded)"} is the merge commit judged`,
      });
    }

    const required = [...new Set([...ruleChecks, ...policyChecks])];
    if (required.length === 0) {
      if (!context.params.require_at_least_one) {
        return [
          {
            subject,
            outcome: "not-applicable",
            reason: "No check is required and the policy does not ask for one (require_at_least_one: false).",
            evidence,
          },
        ];
      }
      return [
        {
          subject,
          outcome: "fail",
          reason: "No required checks: the change is not shown to be tested.",
          evidence,
        },
      ];
    }

    const verdicts = required.map((name) => verdictOf(name, changeRequest, pins[name]));
    evidence.push(...verdicts.flatMap((verdict) => checkEvidence(verdict, changeRequest)));
    return [judge(verdicts, changeRequest, subject, evidence)];
  },
});

function judge(
  verdicts: CheckVerdict[],
  changeRequest: ChangeRequest,
  subject: Evaluation["subject"],
  evidence: Evidence[],
): Evaluation {
  const failed = verdicts.filter((verdict) => verdict.status === "failed");
  const waiting = verdicts.filter((verdict) => verdict.status === "waiting");
  if (changeRequest.truncated.includes("checks")) {
    // A later run, or the missing check, may be among the results the host did not return.
    const problems = [...failed, ...waiting].map((verdict) => verdict.problem);
    return {
      subject,
      outcome: "unknown",
      reason:
        `The host returned only part of the checks, so the required checks cannot be confirmed` +
        (problems.length > 0 ? ` (among those returned: ${problems.join("; ")}).` : "."),
      evidence: [
        ...evidence,
        { label: "checks", value: `${changeRequest.checks.length} listed (truncated by the host)` },
      ],
    };
  }
  if (failed.length > 0) {
    return {
      subject,
      outcome: "fail",
      reason: `Required checks did not succeed: ${failed.map((verdict) => verdict.problem).join("; ")}.`,
      evidence,
    };
  }
  if (waiting.length > 0) {
    return {
      subject,
      outcome: "unknown",
      reason: `Waiting for ${waiting.map((verdict) => verdict.problem).join(", ")}.`,
      evidence,
    };
  }
  const names = verdicts.map((verdict) => verdict.name).join(", ");
  return {
    subject,
    outcome: "pass",
    reason: `Required checks succeeded on the ${changeRequest.state === "open" ? "final head" : "merged code"}: ${names}.`,
    evidence,
  };
}

/**
 * How one required check stands. On each commit (the final head, the merge commit) the latest
 * completed run from an accepted source decides (re-runs); on an open change a run still going
 * counts as the latest. A failure on the final head is not cured by a success on the merge commit;
 * a check that ran only on the merge commit (a merge queue's commit) is judged there.
 */
function verdictOf(name: string, changeRequest: ChangeRequest, pinnedApp: number | undefined): CheckVerdict {
  const open = changeRequest.state === "open";
  const runs = changeRequest.checks.filter((check) => check.name === name);
  const onMergedCode = (check: Check) =>
    (check.on === "head" && check.sha === changeRequest.headSha) ||
    (check.on === "merge" &&
      changeRequest.mergeCommitSha !== null &&
      check.sha === changeRequest.mergeCommitSha);
  const accepted = (check: Check) =>
    pinnedApp === undefined || (check.kind === "check-run" && check.appId === pinnedApp);
  const rejected = runs.filter((check) => onMergedCode(check) && !accepted(check));
  const usable = runs.filter((check) => onMergedCode(check) && accepted(check));
  const headResults = decidingPerSource(
    usable.filter((check) => check.on === "head"),
    open,
  );
  const mergeResults = decidingPerSource(
    usable.filter((check) => check.on === "merge"),
    open,
  );
  const head = worst(headResults);
  const merge = worst(mergeResults);
  const others = [...headResults, ...mergeResults].filter((check) => check !== head && check !== merge);
  const elsewhere = head || merge ? undefined : latestCompleted(runs.filter((check) => !onMergedCode(check)));
  const verdict = { name, pinnedApp, head, merge, others, elsewhere, rejected };
  if (head && !pending(head) && head.conclusion !== "success") {
    return { ...verdict, status: "failed", problem: `${name} ${head.conclusion} on the final head` };
  }
  if (merge) {
    if (pending(merge)) return { ...verdict, status: "waiting", problem: `${name} on the merge commit` };
    if (merge.conclusion !== "success") {
      return { ...verdict, status: "failed", problem: `${name} ${merge.conclusion} on the merge commit` };
    }
    return { ...verdict, status: "success", problem: "" };
  }
  if (head) {
    if (pending(head)) {
      return open
        ? { ...verdict, status: "waiting", problem: name }
        : { ...verdict, status: "failed", problem: `${name} ${head.conclusion} on the final head` };
    }
    return { ...verdict, status: "success", problem: "" };
  }
  if (open) return { ...verdict, status: "waiting", problem: name };
  return { ...verdict, status: "failed", problem: missing(verdict) };
}

const pending = (check: Check) => check.conclusion === "pending" || check.completedAt === null;

/**
 * Where a result comes from: a check run's app, or the commit statuses of that context. GitHub
 * requires every source that reports a required name (a check run and a commit status of one name
 * are both required), so a later result from another source never replaces a failure; only a re-run
 * by the same source does.
 */
function sourceKey(check: Check): string {
  if (check.kind === "check-run") return `app:${check.appId ?? check.appSlug ?? "not named"}`;
  return check.kind;
}

/** The deciding result of each source on one commit. */
function decidingPerSource(runs: Check[], open: boolean): Check[] {
  const bySource = new Map<string, Check[]>();
  for (const run of runs) bySource.set(sourceKey(run), [...(bySource.get(sourceKey(run)) ?? []), run]);
  return [...bySource.values()].flatMap((group) => deciding(group, open) ?? []);
}

/** Of the sources' deciding results, the one that stands for all: a failure, else one still running. */
function worst(results: Check[]): Check | undefined {
  return (
    results.find((check) => !pending(check) && check.conclusion !== "success") ??
    results.find(pending) ??
    results[0]
  );
}

/** The run that decides on one commit. Of runs completed at the same time, a failure wins. */
function deciding(runs: Check[], open: boolean): Check | undefined {
  if (open) {
    const running = runs.find((check) => check.completedAt === null || check.conclusion === "pending");
    if (running) return running;
  }
  return latestCompleted(runs) ?? runs[0];
}

function latestCompleted(runs: Check[]): Check | undefined {
  const completed = runs.filter((check) => check.completedAt !== null && check.conclusion !== "pending");
  if (completed.length === 0) return undefined;
  const last = Math.max(...completed.map((check) => time(check.completedAt as string)));
  const atLast = completed.filter((check) => time(check.completedAt as string) === last);
  return atLast.find((check) => check.conclusion !== "success") ?? atLast[0];
}

function missing(verdict: Omit<CheckVerdict, "status" | "problem">): string {
  const { name, rejected, elsewhere, pinnedApp } = verdict;
  if (rejected.length > 0) {
    const sources = [...new Set(rejected.map(sourceOf))].join(", ");
    return `${name} was reported only by ${sources}, not by the GitHub App the rule pins it to (id ${pinnedApp})`;
  }
  if (elsewhere) return `${name} ran only on ${shortSha(elsewhere.sha)}, not the merged code`;
  return `${name} missing`;
}

/** Who reported a result: the app of a check run, the account that posted a commit status. */
function sourceOf(check: Check): string {
  if (check.kind === "check-run") {
    if (check.appSlug !== null)
      return `app ${check.appSlug}${check.appId !== null ? ` (id ${check.appId})` : ""}`;
    return check.appId !== null ? `app id ${check.appId}` : "an app the host did not name";
  }
  if (check.kind === "status")
    return `a commit status posted by ${check.reportedBy ?? "an account the host did not name"}`;
  return `the pipeline run by ${check.reportedBy ?? "an account the host did not name"}`;
}

function checkEvidence(verdict: CheckVerdict, changeRequest: ChangeRequest): Evidence[] {
  const line = (run: Check, where: string, note = ""): Evidence => ({
    label: "required check",
    value: `${verdict.name}: ${run.conclusion} on ${where} ${run.sha} (${run.kind}, reported by ${sourceOf(run)})${note}`,
    ...(run.url ? { url: run.url } : {}),
    ...(run.completedAt ? { at: run.completedAt } : {}),
  });
  const lines: Evidence[] = [];
  if (verdict.head) lines.push(line(verdict.head, "head"));
  if (verdict.merge) lines.push(line(verdict.merge, "merge commit"));
  for (const run of verdict.others) lines.push(line(run, run.on === "merge" ? "merge commit" : "head"));
  for (const run of verdict.rejected) {
    lines.push({
      ...line(
        run,
        run.on === "merge" ? "merge commit" : "head",
        `; not counted: the rule pins ${verdict.name} to app id ${verdict.pinnedApp}`,
      ),
      label: "check not accepted",
    });
  }
  if (!verdict.head && !verdict.merge) {
    if (verdict.elsewhere) lines.push(line(verdict.elsewhere, "other commit"));
    else if (verdict.rejected.length === 0)
      lines.push({
        label: "required check",
        value: `${verdict.name}: no run on the ${changeRequest.state === "open" ? "final head" : "merged code"}`,
      });
  }
  return lines;
}
