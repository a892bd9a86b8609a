/**
 * Judged as of the merge: a merged change is judged against its base branch's rule as the ledger
 * observed it when the change merged, not as the branch is protected today. Evaluation stays pure:
 * this substitutes the repository facts handed to it, one change at a time, and says in each
 * result's evidence which observation it used (its time and age), or that the ledger holds none that
 * old and today's rule was used.
 */
import { CONTROLS } from "../controls/index.js";
import type { AnyControl, Evidence, Outcome, Result } from "../controls/types.js";
import { evaluate, type EvaluationReport, type PolicySet } from "../engine/index.js";
import type { ChangeRequest, Repository, Snapshot } from "../model/index.js";
import type { Policy } from "../policy/types.js";
import { changeSnapshot } from "../pipeline/change-check.js";
import {
  describeAge,
  ruleIn,
  ruleTimeline,
  type ObservationLedger,
  type RuleAsOf,
  type RuleTimeline,
} from "./observations.js";

export const RULE_AS_OF_MERGE = "branch rule as of the merge";

/** Which rule each merged change was judged with. */
export interface MergeRuleUsed {
  change: string;
  repository: string;
  branch: string;
  mergedAt: string;
  /** null: the ledger held no observation that old, and today's rule was used. */
  observation: Pick<RuleAsOf, "stream" | "sequence" | "observedAt" | "ageMs" | "rule"> | null;
}

export interface JudgedAsOfMerge {
  report: EvaluationReport;
  rules: MergeRuleUsed[];
}

/** The repository's facts with `branch`'s rule replaced by the one observed (or unreadable then). */
export function withRuleAsOf(repository: Repository, branch: string, observed: RuleAsOf["rule"]): Repository {
  if (!observed.known) return { ...repository, branchRules: observed };
  const today = repository.branchRules.known ? repository.branchRules.value : [];
  const others = today.filter((rule) => rule.branch !== branch);
  return {
    ...repository,
    productionBranches: repository.productionBranches.includes(branch)
      ? repository.productionBranches
      : [...repository.productionBranches, branch],
    branchRules: { known: true, value: [...others, observed.value] },
  };
}

export function ruleEvidence(used: MergeRuleUsed): Evidence {
  if (!used.observation) {
    return {
      label: RULE_AS_OF_MERGE,
      value: `the ledger holds no observation of ${used.branch} before ${used.mergedAt}; today's rule used`,
    };
  }
  const { observation } = used;
  return {
    label: RULE_AS_OF_MERGE,
    value:
      `observed ${observation.observedAt} (${describeAge(observation.ageMs)} before the merge), ` +
      `${observation.stream} record ${observation.sequence}` +
      (observation.rule.known ? "" : `: unreadable then (${observation.rule.permission})`),
    at: observation.observedAt,
  };
}

/**
 * Evaluates the snapshot, then judges each merged change again with its base branch's rule as of
 * its merge, from the ledger's observations. Results of everything else are the plain evaluation's.
 */
export async function evaluateAsOfMerge(
  ledger: Pick<ObservationLedger, "records">,
  snapshot: Snapshot,
  policies: PolicySet | Policy,
  at: Date,
  controls: readonly AnyControl[] = CONTROLS,
): Promise<JudgedAsOfMerge> {
  const plain = evaluate(snapshot, policies, at, controls);
  const host = snapshot.collector.host;
  const repositories = new Map(snapshot.repositories.map((r) => [r.fullName, r]));
  const rules: MergeRuleUsed[] = [];
  const replaced = new Map<string, Result[]>();
  const timelines = new Map<string, RuleTimeline>();
  for (const changeRequest of snapshot.changeRequests) {
    if (changeRequest.mergedAt === null) continue;
    const repository = repositories.get(changeRequest.repository);
    if (!repository) continue;
    const id = changeId(changeRequest);
    // each repository's stream is replayed once, however many of its changes merged in the period
    let timeline = timelines.get(changeRequest.repository);
    if (!timeline) {
      timeline = await ruleTimeline(ledger, host, changeRequest.repository);
      timelines.set(changeRequest.repository, timeline);
    }
    const found = ruleIn(timeline, changeRequest.baseBranch, new Date(changeRequest.mergedAt));
    const used: MergeRuleUsed = {
      change: id,
      repository: changeRequest.repository,
      branch: changeRequest.baseBranch,
      mergedAt: changeRequest.mergedAt,
      observation: found && {
        stream: found.stream,
        sequence: found.sequence,
        observedAt: found.observedAt,
        ageMs: found.ageMs,
        rule: found.rule,
      },
    };
    rules.push(used);
    const evidence = ruleEvidence(used);
    let results: Result[];
    if (!found) {
      results = plain.results.filter((r) => r.subject.kind === "change-request" && r.subject.id === id);
    } else {
      const one: Snapshot = {
        ...snapshot,
        repositories: [withRuleAsOf(repository, changeRequest.baseBranch, found.rule)],
        changeRequests: [changeRequest],
        directPushes: [],
      };
      results = evaluate(one, policies, at, controls).results.filter(
        (r) => r.subject.kind === "change-request" && r.subject.id === id,
      );
    }
    replaced.set(
      id,
      results.map((r) => ({ ...r, evidence: [...r.evidence, evidence] })),
    );
  }
  const kept = plain.results.filter(
    (r) => !(r.subject.kind === "change-request" && replaced.has(r.subject.id)),
  );
  const order = new Map(controls.map((c, i) => [c.id, i]));
  const results = [...kept, ...[...replaced.values()].flat()].sort(
    (a, b) =>
      (order.get(a.control) ?? 0) - (order.get(b.control) ?? 0) ||
      compareText(a.subject.id, b.subject.id) ||
      compareText(a.reason, b.reason),
  );
  const totals: EvaluationReport["totals"] = {};
  for (const control of controls) {
    totals[control.id] = { pass: 0, fail: 0, unknown: 0, excepted: 0, "not-applicable": 0 } satisfies Record<
      Outcome,
      number
    >;
  }
  for (const result of results) {
    const row = totals[result.control];
    if (row) row[result.outcome] += 1;
  }
  return { report: { ...plain, results, totals }, rules };
}

function changeId(changeRequest: ChangeRequest): string {
  return `${changeRequest.repository}#${changeRequest.number}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface TimelineLog {
  error(object: object, message: string): void;
}

/**
 * evaluateAsOfMerge when a ledger is at hand. Without one, the plain evaluation (today's rules).
 * A ledger that cannot be read must not stop the audit: today's rules are used, the failure is
 * logged, and each merged change's evidence says so.
 */
export async function evaluateAsOfMergeSafely(
  ledger: (Pick<ObservationLedger, "records"> & { location?: string }) | undefined,
  log: TimelineLog,
  snapshot: Snapshot,
  policies: PolicySet | Policy,
  at: Date,
): Promise<EvaluationReport> {
  if (!ledger) return evaluate(snapshot, policies, at);
  try {
    return (await evaluateAsOfMerge(ledger, snapshot, policies, at)).report;
  } catch (error) {
    return todaysRules(ledger, log, snapshot, policies, at, error);
  }
}

function todaysRules(
  ledger: { location?: string },
  log: TimelineLog,
  snapshot: Snapshot,
  policies: PolicySet | Policy,
  at: Date,
  error: unknown,
): EvaluationReport {
  const reason = error instanceof Error ? error.message : String(error);
  log.error(
    { ledger: ledger.location, err: reason },
    "branch rules as of the merge not read from the ledger",
  );
  const report = evaluate(snapshot, policies, at);
  const merged = new Set(snapshot.changeRequests.filter((c) => c.mergedAt !== null).map((c) => changeId(c)));
  return {
    ...report,
    results: report.results.map((r) =>
      r.subject.kind === "change-request" && merged.has(r.subject.id)
        ? {
            ...r,
            evidence: [
              ...r.evidence,
              {
                label: RULE_AS_OF_MERGE,
                value: `the ledger could not be read (${reason}); today's rule used`,
              },
            ],
          }
        : r,
    ),
  };
}

/**
 * The app's judgement of one merged change, with its base branch's rule as of the merge: the
 * results and the repository facts (the merge-commit wait reads the required checks from them) are
 * those of the rule in force then.
 */
export async function changeAsOfMerge<
  O extends {
    changeRequest: ChangeRequest;
    repository: Repository;
    results: Result[];
    policy: Policy | null;
  },
>(
  ledger: (Pick<ObservationLedger, "records"> & { location?: string }) | undefined,
  log: TimelineLog,
  host: { host: "github" | "gitlab"; baseUrl: string },
  outcome: O,
  at: Date,
): Promise<O> {
  const { changeRequest, repository, policy } = outcome;
  if (!ledger || !policy || changeRequest.mergedAt === null) return outcome;
  const snapshot = changeSnapshot(host, at, repository, changeRequest);
  let judged: JudgedAsOfMerge;
  try {
    judged = await evaluateAsOfMerge(ledger, snapshot, policy, at);
  } catch (error) {
    judged = { report: todaysRules(ledger, log, snapshot, policy, at, error), rules: [] };
  }
  const used = judged.rules[0];
  const report = judged.report;
  const asOf = report.results.filter((r) => r.subject.kind === "change-request");
  return {
    ...outcome,
    repository: used?.observation
      ? withRuleAsOf(repository, changeRequest.baseBranch, used.observation.rule)
      : repository,
    results: stricterOf(asOf, outcome.results),
  };
}

/** Worst first: a verdict later in this list never replaces one earlier. */
const SEVERITY: readonly Outcome[] = ["fail", "unknown", "excepted", "pass", "not-applicable"];

/**
 * The app judges a merge minutes after it happened, with the rule it has just read. The last
 * observation before the merge may be older than a change the ledger missed (a webhook lost while
 * the app was down), so neither rule is known to be the one in force at the merge: for each result,
 * the stricter of the two verdicts stands, never a pass one of them would not give.
 */
export function stricterOf(asOf: readonly Result[], today: readonly Result[]): Result[] {
  const todayByKey = new Map(today.map((r) => [`${r.control}\u0000${r.subject.id}`, r]));
  return asOf.map((result) => {
    const current = todayByKey.get(`${result.control}\u0000${result.subject.id}`);
    if (!current || SEVERITY.indexOf(current.outcome) >= SEVERITY.indexOf(result.outcome)) return result;
    return {
      ...current,
      evidence: [
        ...current.evidence,
        {
          label: RULE_AS_OF_MERGE,
          value: `the rule read when the merge was judged is stricter than the last observation before the merge (which gave ${result.outcome}): the stricter verdict stands`,
        },
      ],
    };
  });
}
