import { CONTROLS } from "../controls/index.js";
import { accountsOnly } from "../controls/people.js";
import type {
  AnyControl,
  AppliesTo,
  ControlContext,
  Evaluation,
  Outcome,
  Result,
  SubjectFacts,
} from "../controls/types.js";
import type { Repository, Snapshot } from "../model/index.js";
import { findException, isProductionBranch } from "../policy/index.js";
import type { Policy } from "../policy/types.js";
import type { EvaluationReport } from "./types.js";

/** The policy in force for the organization and, where a repository has its own layer, for it. */
export interface PolicySet {
  organization: Policy;
  forRepository(fullName: string): Policy;
}

const OUTCOMES: readonly Outcome[] = ["pass", "fail", "unknown", "excepted", "not-applicable"];

export function singlePolicy(policy: Policy): PolicySet {
  return { organization: policy, forRepository: () => policy };
}

/**
 * Pure and deterministic: the same snapshot, policies and time give the same report, byte for byte
 * once serialized. No I/O, no clock.
 */
export function evaluate(
  snapshot: Snapshot,
  policies: PolicySet | Policy,
  at: Date,
  controls: readonly AnyControl[] = CONTROLS,
): EvaluationReport {
  const set = "forRepository" in policies ? policies : singlePolicy(policies);
  const repositories = new Map(snapshot.repositories.map((r) => [r.fullName, r]));
  const results: Result[] = [];

  const productionCheck =
    (policy: (repository: string) => Policy) =>
    (repository: Repository | undefined, name: string, branch: string): boolean =>
      // Without the repository's facts we do not know its default branch: judge the change as if it
      // went to production rather than wave it through as not applicable.
      repository === undefined ? true : isProductionBranch(policy(name), repository.defaultBranch, branch);
  const isProduction = productionCheck((name) => set.forRepository(name));

  for (const control of controls) {
    const run = (policy: Policy, subject: SubjectFacts[AppliesTo]): void => {
      const setting = policy.controls[control.id];
      if (setting && !setting.enabled) return;
      const params: unknown = setting ? setting.params : control.params.parse({});
      // Until the policy's people map is wired in, every account is its own person.
      const context: ControlContext<unknown> = {
        params,
        people: accountsOnly,
        at,
        snapshot,
        isProductionBranch: isProduction,
      };
      for (const evaluation of control.evaluate(subject, context)) {
        results.push(toResult(control, evaluation, policy, at));
      }
    };

    switch (control.appliesTo) {
      case "organization":
        if (snapshot.organization) run(set.organization, snapshot.organization);
        break;
      case "repository":
        for (const repository of snapshot.repositories)
          run(set.forRepository(repository.fullName), repository);
        break;
      case "change-request":
        for (const changeRequest of snapshot.changeRequests) {
          run(set.forRepository(changeRequest.repository), {
            changeRequest,
            repository: repositories.get(changeRequest.repository),
          });
        }
        break;
      case "direct-push":
        for (const push of snapshot.directPushes) run(set.forRepository(push.repository), push);
        break;
    }
  }

  const order = new Map(controls.map((c, i) => [c.id, i]));
  results.sort(
    (a, b) =>
      (order.get(a.control) ?? 0) - (order.get(b.control) ?? 0) ||
      compareText(a.subject.id, b.subject.id) ||
      compareText(a.reason, b.reason),
  );

  return {
    evaluatedAt: at.toISOString(),
    policy: { sources: set.organization.sources, hash: set.organization.hash },
    snapshot: {
      host: snapshot.collector.host,
      baseUrl: snapshot.collector.baseUrl,
      collectedAt: snapshot.collectedAt,
      actor: snapshot.collector.actor,
      period: snapshot.period,
    },
    results,
    totals: totalsOf(results, controls),
  };
}

function toResult(control: AnyControl, evaluation: Evaluation, policy: Policy, at: Date): Result {
  const base: Result = {
    control: control.id,
    criterion: control.criterion,
    title: control.title,
    subject: evaluation.subject,
    outcome: evaluation.outcome,
    reason: evaluation.reason,
    evidence: evaluation.evidence,
  };
  if (evaluation.outcome === "fail") {
    const exception = findException(policy, { control: control.id, subject: evaluation.subject }, at);
    if (exception) {
      return {
        ...base,
        outcome: "excepted",
        exception: {
          reason: exception.reason,
          approvedBy: exception.approvedBy,
          expires: exception.expires,
          source: exception.source,
        },
      };
    }
  }
  if (evaluation.outcome === "fail" || evaluation.outcome === "unknown") {
    return { ...base, remediation: control.remediation };
  }
  return base;
}

function totalsOf(results: readonly Result[], controls: readonly AnyControl[]): EvaluationReport["totals"] {
  const totals: EvaluationReport["totals"] = {};
  for (const control of controls) {
    totals[control.id] = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  }
  for (const result of results) {
    const row = totals[result.control];
    if (row) row[result.outcome] += 1;
  }
  return totals;
}

/** Code-unit order, independent of the machine's locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
