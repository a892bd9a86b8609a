/**
 * Judged as of the merge: a merged change is judged against its base branch's rule and the policy
 * in force when it merged, as the ledger observed them, not as they are today. This reads the ledger
 * and fills the snapshot's `asOfMerge` (which observation, how old, or that the ledger holds none that
 * old); the pure evaluation (src/engine) applies it and says so in each result's evidence, so the
 * snapshot written into the evidence package evaluates to the package's results again.
 */
import { CONTROLS } from "../controls/index.js";
import type { AnyControl, Outcome, Result } from "../controls/types.js";
import {
  changeId,
  evaluate,
  evaluateRepository,
  RULE_AS_OF_MERGE,
  withRuleAsOf,
  type EvaluationReport,
  type PolicySet,
} from "../engine/index.js";
import type { AsOfMerge, ChangeRequest, MergeAsOf, Repository, Snapshot } from "../model/index.js";
import type { Policy } from "../policy/types.js";
import { changeSnapshot } from "../pipeline/change-check.js";
import {
  policyFileRefs,
  policyIn,
  recordSnapshotObservationsSafely,
  type RecordedObservation,
  ruleIn,
  ruleTimeline,
  type ObservationLedger,
  type ObservationSource,
  type RuleTimeline,
} from "./observations.js";

export { POLICY_AS_OF_MERGE, RULE_AS_OF_MERGE, ruleEvidence, withRuleAsOf } from "../engine/index.js";

/** Which rule (and policy) each merged change was judged with: the snapshot's asOfMerge entries. */
export type MergeRuleUsed = MergeAsOf;

export interface JudgedAsOfMerge {
  report: EvaluationReport;
  rules: MergeRuleUsed[];
  /** The snapshot evaluated: the one given, its asOfMerge filled from the ledger. */
  snapshot: Snapshot;
}

export interface AsOfMergeOptions {
  /**
   * Look up the policy in force at each merge too (default). The app's judgement of a merge made
   * minutes ago does not: the policy it has just read is nearer the merge than any observation.
   */
  policy?: boolean;
}

/**
 * The rule (and policy) in force at each merged change of the snapshot, from the ledger: the nearest
 * observation at or before the merge. An observation made by this audit (observed at the snapshot's
 * collection, after every merge of its period) is never before one of its merges.
 */
export async function mergesAsOf(
  ledger: Pick<ObservationLedger, "records">,
  snapshot: Snapshot,
  options: AsOfMergeOptions = {},
  /** Timelines already read (a repository judged a chunk of changes at a time reads its own once). */
  timelines: Map<string, RuleTimeline> = new Map(),
): Promise<AsOfMerge> {
  const host = snapshot.collector.host;
  const repositories = new Set(snapshot.repositories.map((r) => r.fullName));
  const entries: MergeAsOf[] = [];
  const policyTexts: Record<string, string> = {};
  for (const changeRequest of snapshot.changeRequests) {
    if (changeRequest.mergedAt === null || !repositories.has(changeRequest.repository)) continue;
    // each repository's stream is replayed once, however many of its changes merged in the period
    let timeline = timelines.get(changeRequest.repository);
    if (!timeline) {
      timeline = await ruleTimeline(ledger, host, changeRequest.repository);
      timelines.set(changeRequest.repository, timeline);
    }
    const mergedAt = new Date(changeRequest.mergedAt);
    const found = ruleIn(timeline, changeRequest.baseBranch, mergedAt);
    const entry: MergeAsOf = {
      change: changeId(changeRequest),
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
    if (options.policy !== false) {
      const policy = policyIn(timeline, mergedAt);
      entry.policy = policy && {
        stream: policy.stream,
        sequence: policy.sequence,
        observedAt: policy.observedAt,
        ageMs: policy.ageMs,
        files: policyFileRefs(changeRequest.repository, policy.files, policyTexts),
      };
    }
    entries.push(entry);
  }
  return { merges: entries, policyTexts };
}

/**
 * Reads the rules (and policies) as of each merge from the ledger into the snapshot, then evaluates
 * it: pure from there on, and reproducible from the returned snapshot.
 */
export async function evaluateAsOfMerge(
  ledger: Pick<ObservationLedger, "records">,
  snapshot: Snapshot,
  policies: PolicySet | Policy,
  at: Date,
  controls: readonly AnyControl[] = CONTROLS,
  options: AsOfMergeOptions = {},
): Promise<JudgedAsOfMerge> {
  const asOfMerge = await mergesAsOf(ledger, snapshot, options);
  const judged: Snapshot = { ...snapshot, asOfMerge };
  return { report: evaluate(judged, policies, at, controls), rules: asOfMerge.merges, snapshot: judged };
}

export interface TimelineLog {
  error(object: object, message: string): void;
}

/**
 * evaluateAsOfMerge when a ledger is at hand. Without one, the plain evaluation (today's rules).
 * A ledger that cannot be read must not stop the audit: today's rules are used, the failure is
 * logged, and each merged change's evidence says so (from the snapshot, so that too reproduces).
 */
export async function evaluateAsOfMergeSafely(
  ledger: (Pick<ObservationLedger, "records"> & { location?: string }) | undefined,
  log: TimelineLog,
  snapshot: Snapshot,
  policies: PolicySet | Policy,
  at: Date,
  options: AsOfMergeOptions = {},
): Promise<JudgedAsOfMerge> {
  if (!ledger) return { report: evaluate(snapshot, policies, at), rules: [], snapshot };
  try {
    return await evaluateAsOfMerge(ledger, snapshot, policies, at, CONTROLS, options);
  } catch (error) {
    return todaysRules(ledger, log, snapshot, policies, at, error, options);
  }
}

/**
 * The audit's judgement with a ledger, for the app's schedule, `soc2-bot audit` and the demo alike:
 * merges judged as of the merge, then the snapshot's configuration recorded as today's observation.
 * In that order: the observation made now must never be read as one from before a merge.
 */
export async function judgeAndObserve(
  ledger: (ObservationLedger & { location?: string }) | undefined,
  log: TimelineLog,
  snapshot: Snapshot,
  policies: PolicySet | Policy,
  at: Date,
  source: ObservationSource,
): Promise<JudgedAsOfMerge & { observed: RecordedObservation[] }> {
  const judged = await evaluateAsOfMergeSafely(ledger, log, snapshot, policies, at);
  const observed = await recordSnapshotObservationsSafely(ledger, log, snapshot, source);
  return { ...judged, observed };
}

/**
 * What evaluateRepositoryAsOfMerge keeps between the chunks of one repository's changes: the
 * repository's rule timeline, read from the ledger once, or why it could not be (every chunk's
 * merges then say so, as the whole repository's would).
 */
export interface RepositoryAsOfMemo {
  timelines: Map<string, RuleTimeline>;
  failure?: string;
}

export function repositoryAsOfMemo(): RepositoryAsOfMemo {
  return { timelines: new Map() };
}

/**
 * evaluateAsOfMergeSafely for one repository of an audit streamed a repository at a time: `snapshot`
 * holds that repository's facts, changes and direct pushes (and the organization and policy files).
 * Only the repository-level controls are evaluated (evaluateOrganization does the organization's
 * once); the results are those evaluateAsOfMergeSafely gives that repository in the whole snapshot,
 * and the returned snapshot carries its asOfMerge entries. A ledger that cannot be read for this
 * repository makes its merges say so, as todaysRules does for a whole snapshot.
 *
 * A repository with thousands of changes may be judged a chunk of them at a time (`snapshot` holding
 * the repository's facts and a chunk of its changes; `controls` those of changes), with one `memo`
 * for all its chunks: each merge is judged alone, so the chunks' results are the whole's.
 */
export async function evaluateRepositoryAsOfMerge(
  ledger: (Pick<ObservationLedger, "records"> & { location?: string }) | undefined,
  log: TimelineLog,
  snapshot: Snapshot,
  policies: PolicySet | Policy,
  at: Date,
  controls: readonly AnyControl[] = CONTROLS,
  memo: RepositoryAsOfMemo = repositoryAsOfMemo(),
): Promise<{ results: Result[]; snapshot: Snapshot }> {
  if (!ledger) return { results: evaluateRepository(snapshot, policies, at, controls), snapshot };
  let asOfMerge: AsOfMerge;
  if (memo.failure !== undefined) {
    asOfMerge = { merges: unjudgedMerges(snapshot, memo.failure, {}), policyTexts: {} };
  } else {
    try {
      asOfMerge = await mergesAsOf(ledger, snapshot, {}, memo.timelines);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log.error(
        { ledger: ledger.location, err: reason },
        "branch rules as of the merge not read from the ledger",
      );
      memo.failure = reason;
      asOfMerge = { merges: unjudgedMerges(snapshot, reason, {}), policyTexts: {} };
    }
  }
  const judged: Snapshot = { ...snapshot, asOfMerge };
  return { results: evaluateRepository(judged, policies, at, controls), snapshot: judged };
}

/** Each merged change of the snapshot, with no rule from the ledger because it could not be read. */
function unjudgedMerges(snapshot: Snapshot, reason: string, options: AsOfMergeOptions): MergeAsOf[] {
  return snapshot.changeRequests.flatMap((c) =>
    c.mergedAt === null
      ? []
      : [
          {
            change: changeId(c),
            repository: c.repository,
            branch: c.baseBranch,
            mergedAt: c.mergedAt,
            observation: null,
            ...(options.policy === false ? {} : { policy: null }),
            ledgerError: reason,
          },
        ],
  );
}

function todaysRules(
  ledger: { location?: string },
  log: TimelineLog,
  snapshot: Snapshot,
  policies: PolicySet | Policy,
  at: Date,
  error: unknown,
  options: AsOfMergeOptions,
): JudgedAsOfMerge {
  const reason = error instanceof Error ? error.message : String(error);
  log.error(
    { ledger: ledger.location, err: reason },
    "branch rules as of the merge not read from the ledger",
  );
  const rules = unjudgedMerges(snapshot, reason, options);
  const judged: Snapshot = { ...snapshot, asOfMerge: { merges: rules, policyTexts: {} } };
  return { report: evaluate(judged, policies, at), rules, snapshot: judged };
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
  // The policy is the one just read (outcome.policy): nearer the merge than any observation of it.
  const judged = await evaluateAsOfMergeSafely(ledger, log, snapshot, policy, at, { policy: false });
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
