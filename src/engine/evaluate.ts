import { CONTROLS } from "../controls/index.js";
import type {
  AnyControl,
  AppliesTo,
  ControlContext,
  Evaluation,
  Evidence,
  Outcome,
  PeopleDirectory,
  Result,
  SubjectFacts,
} from "../controls/types.js";
import type { ChangeRequest, DirectPush, Repository, Snapshot } from "../model/index.js";
import { findException, isProductionBranch, peopleDirectory } from "../policy/index.js";
import type { Policy } from "../policy/types.js";
import { changeId, policyAsOf, ruleEvidence, withRuleAsOf } from "./as-of-merge.js";
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
  const set = policySetOf(policies);
  const results = judge(snapshot, set, at, controls, "all").sort(resultOrder(controls));
  return {
    ...reportHeader(snapshot, set, at),
    results,
    totals: totalsOf(results, controls),
  };
}

/**
 * The organization-level controls of a snapshot, once: with evaluateRepository over each of its
 * repositories (a snapshot holding that repository's facts only), the same results as evaluate() of
 * the whole snapshot, so an audit can evaluate one repository at a time and hold only that one.
 * Sorted in report order.
 */
export function evaluateOrganization(
  snapshot: Snapshot,
  policies: PolicySet | Policy,
  at: Date,
  controls: readonly AnyControl[] = CONTROLS,
): Result[] {
  return judge(snapshot, policySetOf(policies), at, controls, "organization").sort(resultOrder(controls));
}

/**
 * The repository, change-request and direct-push controls over every repository, change request and
 * direct push of the snapshot (an audit gives it one repository's facts, the organization's and the
 * policy files), sorted in report order. Organization controls are left to evaluateOrganization.
 */
export function evaluateRepository(
  snapshot: Snapshot,
  policies: PolicySet | Policy,
  at: Date,
  controls: readonly AnyControl[] = CONTROLS,
): Result[] {
  return judge(snapshot, policySetOf(policies), at, controls, "repositories").sort(resultOrder(controls));
}

/** What a report says it was evaluated against: the part of evaluate()'s report that is not results. */
export function reportHeader(
  snapshot: Pick<Snapshot, "collector" | "collectedAt" | "period">,
  policies: PolicySet | Policy,
  at: Date,
): Omit<EvaluationReport, "results" | "totals"> {
  const set = policySetOf(policies);
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
  };
}

/**
 * The report's order of results: the controls' order, then subject id, then reason. Array sort is
 * stable, so results equal in all three keep the order they were judged in (snapshot order).
 */
export function resultOrder(controls: readonly AnyControl[] = CONTROLS): (a: Result, b: Result) => number {
  const order = new Map(controls.map((c, i) => [c.id, i]));
  return (a, b) =>
    (order.get(a.control) ?? 0) - (order.get(b.control) ?? 0) ||
    compareText(a.subject.id, b.subject.id) ||
    compareText(a.reason, b.reason);
}

function policySetOf(policies: PolicySet | Policy): PolicySet {
  return "forRepository" in policies ? policies : singlePolicy(policies);
}

/** The results of the controls in scope, in the order they were judged (not sorted). */
function judge(
  snapshot: Snapshot,
  set: PolicySet,
  at: Date,
  controls: readonly AnyControl[],
  scope: "all" | "organization" | "repositories",
): Result[] {
  const repositories = new Map(snapshot.repositories.map((r) => [r.fullName, r]));
  const results: Result[] = [];

  const productionCheck =
    (policy: (repository: string) => Policy) =>
    (repository: Repository | undefined, name: string, branch: string): boolean =>
      // Without the repository's facts we do not know its default branch: judge the change as if it
      // went to production rather than wave it through as not applicable.
      repository === undefined ? true : isProductionBranch(policy(name), repository.defaultBranch, branch);
  const isProduction = productionCheck((name) => set.forRepository(name));

  // Merged changes judged as of their merge: the rule and policy the snapshot's asOfMerge holds for
  // them (read from the ledger before evaluating), each result saying which.
  const asOf = judgedAsOfMerge(snapshot, repositories, (name) => set.forRepository(name));

  // One directory per policy in force (repositories without their own layer share the organization's),
  // for the host the snapshot was collected from: its logins, and e-mails on either host.
  const directories = new Map<Policy, PeopleDirectory>();
  const peopleOf = (policy: Policy): PeopleDirectory => {
    let directory = directories.get(policy);
    if (!directory) {
      directory = peopleDirectory(policy.people, snapshot.collector.host);
      directories.set(policy, directory);
    }
    return directory;
  };

  for (const control of controls) {
    const inScope = scope === "all" || (control.appliesTo === "organization") === (scope === "organization");
    if (!inScope) continue;
    const run = (
      policy: Policy,
      subject: SubjectFacts[AppliesTo],
      event?: SubjectEvent,
      judged?: JudgedAsOf,
    ): void => {
      const setting = policy.controls[control.id];
      if (setting && !setting.enabled) return;
      const params: unknown = setting ? setting.params : control.params.parse({});
      const context: ControlContext<unknown> = {
        params,
        people: peopleOf(policy),
        at,
        snapshot,
        isProductionBranch: judged?.isProduction ?? isProduction,
      };
      for (const evaluation of control.evaluate(subject, context)) {
        // An exception is judged on the day of the event a result is about (see findException).
        const occurredAt = event && evaluation.subject.kind === event.kind ? event.at : undefined;
        const result = toResult(control, evaluation, policy, at, occurredAt);
        results.push(judged ? { ...result, evidence: [...result.evidence, ...judged.evidence] } : result);
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
          const judged = changeRequest.mergedAt === null ? undefined : asOf.get(changeId(changeRequest));
          run(
            judged?.policy ?? set.forRepository(changeRequest.repository),
            {
              changeRequest,
              repository: judged ? judged.repository : repositories.get(changeRequest.repository),
            },
            eventOf(changeRequest),
            judged,
          );
        }
        break;
      case "direct-push":
        for (const push of snapshot.directPushes)
          run(set.forRepository(push.repository), push, eventOf(push));
        break;
    }
  }
  return results;
}

/** How one merged change is judged as of its merge: with which facts, policy and evidence. */
interface JudgedAsOf {
  repository: Repository | undefined;
  /** undefined: today's policy for the repository. */
  policy: Policy | undefined;
  isProduction: ControlContext<unknown>["isProductionBranch"];
  evidence: Evidence[];
}

function judgedAsOfMerge(
  snapshot: Snapshot,
  repositories: ReadonlyMap<string, Repository>,
  todays: (repository: string) => Policy,
): Map<string, JudgedAsOf> {
  const judged = new Map<string, JudgedAsOf>();
  const resolved = new Map<string, Policy | Error>();
  for (const entry of snapshot.asOfMerge?.merges ?? []) {
    const repository = repositories.get(entry.repository);
    const policy = policyAsOf(entry, snapshot.asOfMerge?.policyTexts ?? {}, resolved);
    const inForce = policy?.policy ?? todays(entry.repository);
    judged.set(entry.change, {
      repository:
        repository && entry.observation
          ? withRuleAsOf(repository, entry.branch, entry.observation.rule)
          : repository,
      policy: policy?.policy ?? undefined,
      // The production branches of the policy in force then decide whether the change was one.
      isProduction: (facts, _name, branch) =>
        facts === undefined ? true : isProductionBranch(inForce, facts.defaultBranch, branch),
      evidence: [ruleEvidence(entry), ...(policy ? [policy.evidence] : [])],
    });
  }
  return judged;
}

/** The event a subject is: a change request's merge, a commit's push. */
export interface SubjectEvent {
  kind: "change-request" | "direct-push";
  at: Date;
}

/**
 * When the event happened, from the host's record: a change request's merge time (an open one is no
 * event yet, and is judged as of evaluation); a direct push's push time, else its commit date (the
 * only time there is when the host did not record the push).
 */
export function eventOf(subject: ChangeRequest | DirectPush): SubjectEvent | undefined {
  if ("number" in subject) {
    return subject.mergedAt === null ? undefined : { kind: "change-request", at: new Date(subject.mergedAt) };
  }
  return { kind: "direct-push", at: new Date(subject.pushedAt ?? subject.at) };
}

function toResult(
  control: AnyControl,
  evaluation: Evaluation,
  policy: Policy,
  at: Date,
  occurredAt: Date | undefined,
): Result {
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
    const exception = findException(
      policy,
      { control: control.id, subject: evaluation.subject },
      at,
      occurredAt,
    );
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

/** Per control, how many results had each outcome (every control of the list, even with none). */
export function totalsOf(
  results: Iterable<Pick<Result, "control" | "outcome">>,
  controls: readonly AnyControl[],
): EvaluationReport["totals"] {
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
