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
  /** The run that decides, or undefined when none ran on the merged code. */
  check: Check | undefined;
  /** A run of that name on another commit, to say "ran only on an earlier commit". */
  elsewhere: Check | undefined;
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
  evaluate(facts, context) {
    const notApplicable = changeRequestNotApplicable(facts, context);
    if (notApplicable) return [notApplicable];
    const { changeRequest, repository } = facts;
    const subject = changeRequestSubject(changeRequest);
    const policyChecks = context.params.checks;

    let ruleChecks: string[] = [];
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
      evidence.push({
        label: "branch rule",
        value: rule
          ? `${changeRequest.baseBranch} requires [${ruleChecks.join(", ")}] (${rule.sources.join(", ") || "no source"})`
          : `${changeRequest.baseBranch} has no rule`,
      });
    }
    if (policyChecks.length > 0) evidence.push({ label: "policy requires", value: policyChecks.join(", ") });

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

    const verdicts = required.map((name) => verdictOf(name, changeRequest));
    evidence.push(...verdicts.map((verdict) => checkEvidence(verdict)));
    return [judge(verdicts, changeRequest, subject, evidence)];
  },
});

function judge(
  verdicts: CheckVerdict[],
  changeRequest: ChangeRequest,
  subject: Evaluation["subject"],
  evidence: Evidence[],
): Evaluation {
  const open = changeRequest.state === "open";
  const waiting = verdicts.filter(
    (verdict) => open && (verdict.check === undefined || verdict.check.conclusion === "pending"),
  );
  const failed = verdicts.filter(
    (verdict) => !waiting.includes(verdict) && verdict.check?.conclusion !== "success",
  );
  if (failed.length > 0) {
    return {
      subject,
      outcome: "fail",
      reason: `Required checks did not succeed: ${failed.map(describeFailure).join("; ")}.`,
      evidence,
    };
  }
  if (waiting.length > 0) {
    return {
      subject,
      outcome: "unknown",
      reason: `Waiting for ${waiting.map((verdict) => verdict.name).join(", ")}.`,
      evidence,
    };
  }
  const names = verdicts.map((verdict) => verdict.name).join(", ");
  return {
    subject,
    outcome: "pass",
    reason: `Required checks succeeded on the ${open ? "final head" : "merged code"}: ${names}.`,
    evidence,
  };
}

/**
 * The run that decides a required check: one on the merge commit (what actually landed) if any,
 * otherwise one on the final head. Of several runs (re-runs), the latest decides; one still running
 * counts as the latest.
 */
function verdictOf(name: string, changeRequest: ChangeRequest): CheckVerdict {
  const runs = changeRequest.checks.filter((check) => check.name === name);
  const onMerge = runs.filter(
    (check) =>
      check.on === "merge" &&
      changeRequest.mergeCommitSha !== null &&
      check.sha === changeRequest.mergeCommitSha,
  );
  const onHead = runs.filter((check) => check.on === "head" && check.sha === changeRequest.headSha);
  const check = latest(onMerge.length > 0 ? onMerge : onHead);
  return { name, check, elsewhere: check ? undefined : latest(runs) };
}

function latest(runs: Check[]): Check | undefined {
  const rank = (check: Check) => (check.completedAt === null ? Infinity : time(check.completedAt));
  return [...runs].sort((a, b) => rank(a) - rank(b)).at(-1);
}

function describeFailure(verdict: CheckVerdict): string {
  if (verdict.check) return `${verdict.name} ${verdict.check.conclusion}`;
  if (verdict.elsewhere)
    return `${verdict.name} ran only on ${shortSha(verdict.elsewhere.sha)}, not the merged code`;
  return `${verdict.name} missing`;
}

function checkEvidence(verdict: CheckVerdict): Evidence {
  const run = verdict.check ?? verdict.elsewhere;
  if (!run) return { label: "required check", value: `${verdict.name}: no run on the merged code` };
  const where = verdict.check
    ? `${run.on === "merge" ? "merge commit" : "head"} ${run.sha}`
    : `other commit ${run.sha}`;
  return {
    label: "required check",
    value: `${verdict.name}: ${run.conclusion} on ${where} (${run.kind})`,
    ...(run.url ? { url: run.url } : {}),
    ...(run.completedAt ? { at: run.completedAt } : {}),
  };
}
