import type { Result } from "../controls/types.js";
import { evaluate, type PolicySet } from "../engine/index.js";
import { PolicyError } from "../errors.js";
import {
  SNAPSHOT_SCHEMA_VERSION,
  type ChangeRequest,
  type Check,
  type PolicyFile,
  type Repository,
  type Snapshot,
} from "../model/index.js";
import type { Policy } from "../policy/types.js";
import type { CodeHost, CheckReport } from "../providers/types.js";
import { buildChangeCheck } from "../reporters/check.js";
import { TOOL_VERSION } from "../version.js";
import { policyOfOffThread } from "./policies.js";

/** The facts of one change, as the app collected them for a check or a merge judgement. */
export function changeSnapshot(
  host: { host: Snapshot["collector"]["host"]; baseUrl: string },
  at: Date,
  repository: Repository,
  changeRequest: ChangeRequest,
  policyFiles: Snapshot["policyFiles"] = [],
): Snapshot {
  return {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    collector: {
      tool: "soc2-bot",
      version: TOOL_VERSION,
      host: host.host,
      baseUrl: host.baseUrl,
      actor: "app",
      permissions: {},
    },
    collectedAt: at.toISOString(),
    period: null,
    unreadable: [],
    organization: null,
    repositories: [repository],
    changeRequests: [changeRequest],
    directPushes: [],
    policyFiles,
  };
}

export interface ChangeCheckTarget {
  repository: string;
  number: number;
}

export interface ChangeCheckOutcome {
  check: CheckReport;
  changeRequest: ChangeRequest;
  /** The repository facts the change was judged with (the base branch's rules). */
  repository: Repository;
  results: Result[];
  policy: Policy | null;
}

/**
 * collect -> evaluate -> report for one change request. The policy comes from the base branch of
 * the change (and the organization's policy repository), never from its head: a change cannot switch
 * off the controls that judge it. A broken policy gives a failing check naming file, line and column.
 */
export async function runChangeCheck(
  host: CodeHost,
  target: ChangeCheckTarget,
  options: { organization: string; now: Date; publish?: boolean },
): Promise<ChangeCheckOutcome> {
  const { changeRequest, repository } = await host.collectChangeContext(target.repository, target.number);
  const policyFiles = await readPolicyFiles(
    host,
    options.organization,
    target.repository,
    changeRequest.baseBranch,
  );

  let policy: Policy | null = null;
  let results: Result[] = [];
  let policyError: PolicyError | undefined;
  try {
    policy = await policyOfOffThread(policyFiles);

    const snapshot = changeSnapshot(host, options.now, repository, changeRequest, policyFiles);
    results = evaluate(snapshot, policy, options.now).results.filter(
      (r) => r.subject.kind === "change-request",
    );
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    policyError = error;
  }

  const check = buildChangeCheck({
    changeRequest,
    results,
    policySources: policy?.sources ?? policyFiles.map((f) => f.path),
    ...(policyError ? { policyError } : {}),
  });
  if (options.publish !== false) {
    await host.publishChangeCheck(
      { repository: target.repository, number: target.number, headSha: changeRequest.headSha },
      check,
    );
  }
  return { check, changeRequest, repository, results, policy };
}

async function readPolicyFiles(
  host: CodeHost,
  organization: string,
  repository: string,
  baseBranch: string,
): Promise<PolicyFile[]> {
  const { file } = host.policyLocation;
  const organizationRepository = host.policyLocation.organizationRepository(organization);
  const [organizationText, repositoryText] = await Promise.all([
    repository === organizationRepository
      ? Promise.resolve(null)
      : host.readFile(organizationRepository, file),
    host.readFile(repository, file, baseBranch),
  ]);
  const files: PolicyFile[] = [];
  if (organizationText !== null) {
    files.push({
      layer: "organization",
      repository: null,
      path: `${organizationRepository}:${file}`,
      content: organizationText,
    });
  }
  if (repositoryText !== null) {
    files.push({
      layer: "repository",
      repository,
      path: `${repository}:${file}@${baseBranch}`,
      content: repositoryText,
    });
  }
  return files;
}

// ---- a merge that landed before its checks on the merge commit finished ----

/** The control whose verdict waits for the merge commit's checks. */
const REQUIRED_CHECKS = "cc8.required-checks";

/**
 * How long a merged change's required checks may stay unfinished on its merge commit before the
 * hold ends: 6 hours, GitHub Actions' documented default job timeout (`timeout-minutes`: 360), after
 * which GitHub itself cancels a job that is still running.
 */
export const MERGE_COMMIT_CHECKS_WAIT_MS = 6 * 60 * 60 * 1000;

export interface AwaitedCheck {
  name: string;
  /** "pending": its latest run on the merge commit has not completed; "not reported": no result yet. */
  state: "pending" | "not reported";
}

/** A merged change whose required-checks verdict is held until its merge commit's checks complete. */
export interface MergeCommitWait {
  mergeCommitSha: string;
  checks: AwaitedCheck[];
  /** The end of the bounded wait (merge time + wait): the change is judged again then at the latest. */
  until: Date;
}

export interface MergedChangeJudgement {
  results: Result[];
  /** Set while the required checks on the merge commit are still running: judge again later. */
  waiting: MergeCommitWait | null;
}

/**
 * A merged change's results as of now, with its required-checks verdict held while a required check
 * is still running on the merge commit (or has reported nothing yet, there or on the final head): CI
 * on the merge commit starts when the merge lands, so judging at that moment would make a finding of
 * every merge. Held means "unknown: waiting", which the findings lifecycle neither opens nor closes.
 * The other controls do not depend on those checks and are reported as they are (an admin bypass is
 * still a finding the minute it happens).
 *
 * The hold is bounded: from `mergedAt + waitMs` on, the control's own verdict stands, and when it is
 * a failure its reason says the checks never completed on the merge commit.
 */
export function judgeAsOfMerge(
  outcome: Pick<ChangeCheckOutcome, "changeRequest" | "repository" | "results" | "policy">,
  now: Date,
  waitMs: number = MERGE_COMMIT_CHECKS_WAIT_MS,
): MergedChangeJudgement {
  const { changeRequest } = outcome;
  const { mergeCommitSha, mergedAt } = changeRequest;
  if (changeRequest.state !== "merged" || mergeCommitSha === null || mergedAt === null) {
    return { results: outcome.results, waiting: null };
  }
  const awaited = outcome.policy
    ? awaitedOnMergeCommit(changeRequest, outcome.repository, outcome.policy)
    : [];
  if (awaited.length === 0) return { results: outcome.results, waiting: null };

  const until = new Date(Date.parse(mergedAt) + waitMs);
  const expired = now.getTime() >= until.getTime();
  const names = awaited.map(describeAwaited).join(", ");
  const short = mergeCommitSha.slice(0, 7);
  let waiting: MergeCommitWait | null = null;
  const results = outcome.results.map((result): Result => {
    // Held: a decided verdict, or the control's own "waiting". Any other unknown (unreadable rules,
    // checks the host returned only in part), not-applicable and excepted stand as they are.
    const controlWaits = result.outcome === "unknown" && result.reason.startsWith("Waiting for");
    if (
      result.control !== REQUIRED_CHECKS ||
      !(result.outcome === "pass" || result.outcome === "fail" || controlWaits)
    ) {
      return result;
    }
    const evidence = [
      ...result.evidence,
      {
        label: "merged before its checks completed",
        value: `${names} on merge commit ${mergeCommitSha}`,
        at: mergedAt,
      },
    ];
    if (!expired) {
      waiting = { mergeCommitSha, checks: awaited, until };
      return {
        ...result,
        outcome: "unknown",
        reason:
          `Waiting for ${names} on the merge commit ${short}: the change merged before its checks there ` +
          `completed; it is judged again when they complete, at the latest ${until.toISOString()}.`,
        evidence,
      };
    }
    if (result.outcome === "pass") return { ...result, evidence };
    const never =
      `Required checks never completed on the merge commit ${short} within ${formatWait(waitMs)} of ` +
      `the merge: ${names}.`;
    return {
      ...result,
      outcome: "fail",
      reason: result.outcome === "fail" ? `${never} ${result.reason}` : never,
      evidence:
        result.outcome === "fail" ? evidence : [...evidence, { label: "control said", value: result.reason }],
    };
  });
  return { results, waiting };
}

/**
 * judgeAsOfMerge over an audit's results, so an audit run minutes after a merge says what the app
 * says: each merged change's required-checks verdict waits for its merge commit's checks within the
 * bounded wait, and after it a check that never completed is a failure saying so.
 */
export function judgeMergesAsOf(
  snapshot: Pick<Snapshot, "changeRequests" | "repositories">,
  policies: PolicySet,
  results: Result[],
  at: Date,
  waitMs: number = MERGE_COMMIT_CHECKS_WAIT_MS,
): Result[] {
  const changes = new Map(snapshot.changeRequests.map((cr) => [`${cr.repository}#${cr.number}`, cr]));
  const repositories = new Map(snapshot.repositories.map((repository) => [repository.fullName, repository]));
  return results.map((result) => {
    if (result.control !== REQUIRED_CHECKS || result.subject.kind !== "change-request") return result;
    const changeRequest = changes.get(result.subject.id);
    const repository = changeRequest && repositories.get(changeRequest.repository);
    if (!changeRequest || !repository) return result;
    const policy = policies.forRepository(changeRequest.repository);
    const judged = judgeAsOfMerge({ changeRequest, repository, policy, results: [result] }, at, waitMs);
    return judged.results[0] ?? result;
  });
}

/**
 * The required checks (the base branch rule's and the policy's, as cc8.required-checks reads them)
 * that have no completed result for what was merged yet: the latest run on the merge commit is still
 * running, or nothing reported the check on the merge commit or the final head.
 */
export function awaitedOnMergeCommit(
  changeRequest: ChangeRequest,
  repository: Repository,
  policy: Policy,
): AwaitedCheck[] {
  const setting = policy.controls[REQUIRED_CHECKS];
  if (!setting?.enabled || changeRequest.mergeCommitSha === null) return [];
  const policyChecks = Array.isArray(setting.params.checks)
    ? setting.params.checks.filter((name): name is string => typeof name === "string")
    : [];
  const rule = repository.branchRules.known
    ? repository.branchRules.value.find((entry) => entry.branch === changeRequest.baseBranch)
    : undefined;
  const required = [...new Set([...(rule?.requiredStatusChecks ?? []), ...policyChecks])];
  const pins = rule?.requiredCheckApps ?? {};
  return required.flatMap((name): AwaitedCheck[] => {
    // A check the rule pins to an app is awaited from that app only: another source never decides it.
    const pinned = pins[name];
    const runs = changeRequest.checks.filter(
      (check) =>
        check.name === name &&
        (pinned === undefined || (check.kind === "check-run" && check.appId === pinned)),
    );
    const onMerge = runs.filter((check) => check.sha === changeRequest.mergeCommitSha);
    if (onMerge.length > 0)
      return latestRun(onMerge).conclusion === "pending" ? [{ name, state: "pending" }] : [];
    const completedOnHead = runs.some(
      (check) => check.sha === changeRequest.headSha && check.conclusion !== "pending",
    );
    return completedOnHead ? [] : [{ name, state: "not reported" }];
  });
}

/** Of several runs (re-runs), the latest; one still running counts as the latest. */
function latestRun(runs: Check[]): Check {
  const rank = (check: Check) => (check.completedAt === null ? Infinity : Date.parse(check.completedAt));
  return runs.reduce((latest, run) => (rank(run) >= rank(latest) ? run : latest));
}

function describeAwaited(check: AwaitedCheck): string {
  return check.state === "pending" ? check.name : `${check.name} (not reported yet)`;
}

function formatWait(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes % 60 === 0) return `${minutes / 60} ${minutes === 60 ? "hour" : "hours"}`;
  return `${minutes} minutes`;
}
