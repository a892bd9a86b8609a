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
