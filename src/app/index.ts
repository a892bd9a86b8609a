import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ApplicationFunction, Context, Probot } from "probot";
import { z } from "zod";
import { CONTROLS } from "../controls/index.js";
import { ProviderError } from "../errors.js";
import {
  changeAsOfMerge,
  ledgerChangeEvaluations,
  ledgerDeliveryClaims,
  memoryChangeEvaluations,
  memoryDeliveryClaims,
  recordJudgementSafely,
  type ChangeEvaluations,
  type DeliveryClaims,
  type Ledger,
} from "../ledger/index.js";
import { runAuditJob } from "../pipeline/audit-run.js";
import { openReviewsAfterAudit } from "../pipeline/access-reviews.js";
import {
  judgeAsOfMerge,
  judgeMergesAsOf,
  MERGE_COMMIT_CHECKS_WAIT_MS,
  runChangeCheck,
  type ChangeCheckOutcome,
  type MergedChangeJudgement,
} from "../pipeline/change-check.js";
import { loadDefaultPolicyLayer, parsePolicyLayer, resolvePolicy } from "../policy/index.js";
import type { AuditSchedule } from "../policy/types.js";
import {
  createConditionalCache,
  createGitHubHost,
  useConditionalRequests,
  type GitHubClient,
  type GitHubHostOptions,
} from "../providers/github/index.js";
import { rateLimiterOf } from "../providers/github/read-limits.js";
import type { CodeHost } from "../providers/types.js";
import { CHECK_NAME } from "../reporters/check.js";
import { syncFindings, type SyncSummary } from "../reporters/findings/lifecycle.js";
import { alertOnObserved, findingsTracker } from "../pipeline/alerts.js";
import { createCoalescer } from "./coalesce.js";
import { pullRequestsOfCommit, pullRequestsOfStatus } from "./commit-pulls.js";
import { inProcessCoordinator, type Coordinator } from "./coordinator.js";
import { handledOnce } from "./deliveries.js";
import type { JobQueue } from "./jobs.js";
import { observeConfigurationChanges } from "./observe.js";
import {
  ACCESS_REVIEW_CHECK_NAME,
  accessReviewBranchOf,
  inFindingsRepository,
  publishAccessReviewCheck,
} from "./access-review-check.js";
import { ACCESS_REVIEW_BRANCH_PREFIX } from "../access-review/index.js";
import { pushRecordOption, recordPushes } from "./pushes.js";
import { reconcileOnSchedule } from "./deliveries-reconcile.js";
import { CheckEvent, parsePayload, PullRequestEvent, StatusEvent } from "./payloads.js";
import { redactText } from "./redact.js";
import { CADENCE_PERIOD_MS, type Cadence, type Installation } from "./scheduler.js";

export interface AppOptions {
  /** The clock; tests pass a fixed one. */
  now?: () => Date;
  /** This app's id (APP_ID): the check run of another app with the same name is left alone. */
  appId?: number;
  /** Builds the code host over the installation's octokit (tests may wrap it). */
  hostFor?: (octokit: GitHubClient, baseUrl: string, log: GitHubLog) => CodeHost;
  /** Extra wiring (scheduler, GitLab endpoint) given the app and Probot's options. */
  extend?: ApplicationFunction;
  /**
   * How long a merge's required-checks verdict waits for the checks on its merge commit
   * (MERGE_COMMIT_CHECKS_WAIT_MS, 6 hours, by default).
   */
  mergeCommitChecksWaitMs?: number;
  /**
   * Runs `work` at `at` and returns how to cancel it: the re-judgement of a held merge at the end of
   * its wait, for when no check event comes. Default: a timer of this process (unref'd).
   */
  later?: (at: Date, work: () => Promise<void>) => () => void;
  /** Where every judgement and scheduled audit is recorded; when it is down the app judges on and logs it. */
  ledger?: Ledger;
  /**
   * The locks shared by the app's instances (createCoordinator: PostgreSQL advisory locks with
   * DATABASE_URL). Default: this process's own, enough for one instance.
   */
  coordinator?: Coordinator;
  /** Where deliveries are claimed once (default: the ledger's, else this process's memory). */
  deliveries?: DeliveryClaims;
  /** Where change evaluations are numbered (default: the ledger's, else this process's memory). */
  evaluations?: ChangeEvaluations;
  /**
   * The job queue webhook work goes through (createJobQueue: pg-boss with DATABASE_URL, so any
   * instance takes it, with retries and dead letters). Default: none, each event evaluated in its
   * own handler.
   */
  queue?: JobQueue;
}

/** A change check queued as a job: what a worker of any instance needs to run it. */
interface ChangeCheckJob {
  installation: number;
  target: ChangeTarget;
  /** The change's evaluation mark when the delivery arrived (see ChangeEvaluations). */
  mark: number | null;
}

const CHANGE_CHECK_QUEUE = "change-check";

type GitHubLog = NonNullable<GitHubHostOptions["log"]>;

interface ChangeTarget {
  owner: string;
  repository: string;
  number: number;
  /** The head commit when the event names it (a failure check is published there); null otherwise. */
  headSha: string | null;
}

const CHANGE_EVENTS = [
  "pull_request.opened",
  "pull_request.reopened",
  "pull_request.synchronize",
  "pull_request.ready_for_review",
  "pull_request.edited",
  "pull_request_review.submitted",
  "pull_request_review.dismissed",
] as const;

/**
 * The GitHub App: every pull request event that can change the answer re-evaluates the change and
 * updates the one "SOC 2 change management" check run on its head; a merge is judged at once and a
 * failing one becomes a finding issue the same minute.
 *
 * A merge usually lands before CI on its merge commit has finished. Its required-checks verdict is
 * then held ("unknown: waiting for X on the merge commit", which writes no finding) and the merge is
 * judged again when a check suite, check run or status on the merge commit completes, or at the end
 * of a bounded wait (then a check that never completed is a finding). Its other controls do not
 * depend on those checks and are reported at once.
 */
export function createApp(options: AppOptions = {}): ApplicationFunction {
  const now = options.now ?? (() => new Date());
  const waitMs = options.mergeCommitChecksWaitMs ?? MERGE_COMMIT_CHECKS_WAIT_MS;
  const later =
    options.later ??
    ((at: Date, work: () => Promise<void>) => {
      const timer = setTimeout(() => void work(), Math.max(0, at.getTime() - now().getTime()));
      // A pending re-judgement must not keep the process alive; after a restart the scheduled
      // audit judges the merge instead.
      timer.unref();
      return () => clearTimeout(timer);
    });
  const hostFor =
    options.hostFor ??
    ((octokit, baseUrl, log) =>
      createGitHubHost({
        octokit,
        baseUrl,
        log,
        ...(options.appId === undefined ? {} : { appId: options.appId }),
      }));
  const coalesce = createCoalescer();
  const coordinator = options.coordinator ?? inProcessCoordinator();
  const claims =
    options.deliveries ?? (options.ledger ? ledgerDeliveryClaims(options.ledger) : memoryDeliveryClaims());
  const evaluations =
    options.evaluations ??
    (options.ledger ? ledgerChangeEvaluations(options.ledger, now) : memoryChangeEvaluations());
  // Rules and policy files rarely change: asked again with If-None-Match, GitHub answers 304 without
  // charging the rate limit. Scoped per installation so no answer crosses installations.
  const conditionalCache = createConditionalCache();
  // Held merges, by change: the re-judgement at the end of their wait, and how to cancel it.
  const heldMerges = new Map<string, () => void>();

  return async (probot: Probot, probotOptions) => {
    // Every handler registered through `app` (these, the configuration observer's, the extensions')
    // skips a delivery already handled, here or by another instance.
    const app = handledOnce(probot, claims);
    const hostOver = (octokit: GitHubClient, installation: number | undefined, log: GitHubLog) => {
      if (installation !== undefined) {
        useConditionalRequests(octokit, conditionalCache, `installation:${installation}`);
      }
      return hostFor(octokit, process.env.GITHUB_API_URL ?? "https://api.github.com", log);
    };
    const installationOf = (context: Context) =>
      (context.payload as { installation?: { id?: number } }).installation?.id;
    const hostOf = (context: Context) =>
      hostOver(context.octokit as unknown as GitHubClient, installationOf(context), context.log);

    /**
     * Evaluates one change request as it is now: an open one gets its check run, a merged one is
     * judged into findings. Runs for one change never overlap, in this process (coalesced) nor
     * across instances (the coordinator's lock): they would race into duplicates or stale verdicts.
     * `arrived` is the change's evaluation mark when the triggering delivery came (see
     * ChangeEvaluations): an evaluation that started after it and published already showed its state.
     */
    const evaluateChange = (
      host: () => Promise<CodeHost>,
      log: Context["log"],
      installation: number | undefined,
      target: ChangeTarget,
      arrived?: Promise<number | null>,
    ) => {
      const key = changeKey(target);
      return coalesce(key, () =>
        coordinator.withLock(key, () => evaluateLocked(key, host, log, installation, target, arrived)),
      );
    };

    const evaluateLocked = async (
      key: string,
      host: () => Promise<CodeHost>,
      log: Context["log"],
      installation: number | undefined,
      target: ChangeTarget,
      arrived: Promise<number | null> | undefined,
    ) => {
      const fullName = `${target.owner}/${target.repository}`;
      const mark = arrived === undefined ? null : await arrived;
      if (mark !== null && (await evaluationsSafely(log, () => evaluations.coveredSince(key, mark), false))) {
        log.info(
          { repository: fullName, number: target.number },
          "change already evaluated since this event",
        );
        return;
      }
      const number = await evaluationsSafely(log, () => evaluations.begin(key), null);
      // Written only while no evaluation that started later (it read newer facts) has been.
      const newest = async () =>
        number === null || (await evaluationsSafely(log, () => evaluations.mayPublish(key, number), true));
      const published = async () => {
        if (number !== null)
          await evaluationsSafely(log, () => evaluations.published(key, number), undefined);
      };
      const codeHost = await host();
      let outcome: ChangeCheckOutcome;
      try {
        outcome = await runChangeCheck(
          codeHost,
          { repository: fullName, number: target.number },
          { organization: target.owner, now: now(), publish: false },
        );
        if (outcome.changeRequest.state !== "merged") {
          if (!(await newest())) {
            log.info(
              { repository: fullName, number: target.number, conclusion: outcome.check.conclusion },
              "change check not published: a later evaluation's verdict is already on the change",
            );
            return;
          }
          await codeHost.publishChangeCheck(
            { repository: fullName, number: target.number, headSha: outcome.changeRequest.headSha },
            outcome.check,
          );
          await published();
          log.info(
            { repository: fullName, number: target.number, conclusion: outcome.check.conclusion },
            "change check published",
          );
          await recordJudgementSafely(options.ledger, log, {
            trigger: "pull-request-check",
            host: codeHost.host,
            outcome,
            judgedAt: now(),
          });
          return;
        }
      } catch (error) {
        if (await newest()) await reportCollectionFailure(log, codeHost, fullName, target, error);
        return;
      }
      // A merge is judged, not checked: the check run on its head helps nobody, the finding does.
      const at = now();
      // Judged by its base branch's rule as the ledger observed it when the change merged.
      outcome = await changeAsOfMerge(options.ledger, log, codeHost, outcome, at);
      const verdict = await syncMergedChange(codeHost, outcome, {
        organization: target.owner,
        now: at,
        waitMs,
        lock: findingsLock(coordinator),
      });
      if (!verdict) {
        log.warn({ repository: fullName }, "merged change not judged: the policy is broken");
        return;
      }
      await published();
      const { findings, waiting } = verdict;
      await recordJudgementSafely(options.ledger, log, {
        trigger: "merge",
        host: codeHost.host,
        outcome,
        results: verdict.results,
        waiting,
        judgedAt: at,
      });
      log.info(
        {
          repository: fullName,
          number: target.number,
          ...findings,
          ...(waiting
            ? { waitingFor: waiting.checks.map((c) => c.name), until: waiting.until.toISOString() }
            : {}),
        },
        waiting
          ? "merged change judged; its required checks wait for the merge commit"
          : "merged change judged",
      );
      if (!waiting) {
        heldMerges.get(key)?.();
        heldMerges.delete(key);
      } else if (!heldMerges.has(key) && installation !== undefined) {
        // A second past the end of the wait, so the re-judgement finds the wait over.
        const cancel = later(new Date(waiting.until.getTime() + 1_000), async () => {
          heldMerges.delete(key);
          const fresh = async () =>
            hostOver((await app.auth(installation)) as unknown as GitHubClient, installation, app.log);
          await evaluateChange(fresh, app.log, installation, target).catch((error: unknown) =>
            app.log.error(
              { repository: fullName, number: target.number, err: redactText(String(error)) },
              "held merge could not be judged at the end of its wait",
            ),
          );
        });
        heldMerges.set(key, cancel);
      }
    };

    const evaluateInline = (context: Context, target: ChangeTarget, mark: Promise<number | null>) =>
      evaluateChange(
        () => Promise.resolve(hostOf(context)),
        context.log,
        installationOf(context),
        target,
        mark,
      );

    const { queue } = options;
    queue?.define<ChangeCheckJob>(CHANGE_CHECK_QUEUE, {
      // One waiting job per change: a burst collapses into it, and it reads the newest state.
      keyOf: (job) => changeKey(job.target),
      handler: (job) => {
        const fresh = async () =>
          hostOver((await app.auth(job.installation)) as unknown as GitHubClient, job.installation, app.log);
        return evaluateChange(fresh, app.log, job.installation, job.target, Promise.resolve(job.mark));
      },
    });
    if (queue) {
      void queue
        .start()
        .catch((error: unknown) =>
          app.log.error(
            { err: redactText(String(error)) },
            "job queue not started: events are evaluated in their handlers",
          ),
        );
    }

    const evaluate = async (context: Context, target: ChangeTarget) => {
      const mark = evaluationsSafely(context.log, () => evaluations.mark(changeKey(target)), null);
      const installation = installationOf(context);
      if (!queue || installation === undefined) return evaluateInline(context, target, mark);
      try {
        await queue.send<ChangeCheckJob>(CHANGE_CHECK_QUEUE, { installation, target, mark: await mark });
      } catch (error) {
        // The queue's store is down: the event is evaluated here rather than lost.
        context.log.warn(
          { err: redactText(String(error)) },
          "change check not queued: evaluated in its handler",
        );
        await evaluateInline(context, target, mark);
      }
    };

    app.on([...CHANGE_EVENTS], async (context) => {
      const payload = parsePayload(PullRequestEvent, context.payload, context.log, context.name);
      if (!payload) return;
      // An edit matters only when it moves the change to another base branch (another policy, other rules).
      if (payload.action === "edited" && !payload.changes?.base) return;
      if (payload.pull_request.state !== "open") return;
      // An access review's pull request in the findings repository gets the review check instead.
      const reviewBranch = accessReviewBranchOf(context.payload);
      const fullName = `${payload.repository.owner.login}/${payload.repository.name}`;
      if (
        reviewBranch !== null &&
        (await inFindingsRepository(hostOf(context), payload.repository.owner.login, fullName))
      ) {
        if (["opened", "synchronize", "reopened"].includes(payload.action))
          await publishAccessReviewCheck(hostOf(context), {
            repository: fullName,
            number: payload.pull_request.number,
            headSha: payload.pull_request.head.sha,
            branch: reviewBranch,
          });
        return;
      }
      await evaluate(context, {
        owner: payload.repository.owner.login,
        repository: payload.repository.name,
        number: payload.pull_request.number,
        headSha: payload.pull_request.head.sha,
      });
    });

    app.on(["check_suite.completed", "check_run.completed"], async (context) => {
      const payload = parsePayload(CheckEvent, context.payload, context.log, context.name);
      if (!payload) return;
      // Our own check run (or the suite holding it) completing must not trigger another evaluation
      // of itself: that would loop, each update completing the suite again.
      if (payload.check_run?.name === CHECK_NAME) return;
      if (payload.check_run?.name === ACCESS_REVIEW_CHECK_NAME) return;
      if (options.appId !== undefined && payload.check_suite?.app?.id === options.appId) return;
      const owner = payload.repository.owner.login;
      const repository = payload.repository.name;
      // CI on an access review's branch in the findings repository: the review's check is about its
      // file, and the change-management check does not apply.
      const checkedBranch = payload.check_run?.check_suite.head_branch ?? payload.check_suite?.head_branch;
      if (
        checkedBranch?.startsWith(ACCESS_REVIEW_BRANCH_PREFIX) &&
        (await inFindingsRepository(hostOf(context), owner, `${owner}/${repository}`))
      )
        return;
      const listed = payload.check_run?.pull_requests ?? payload.check_suite?.pull_requests ?? [];
      let targets: ChangeTarget[] = listed.map((pull) => ({
        owner,
        repository,
        number: pull.number,
        headSha: pull.head.sha,
      }));
      const sha = payload.check_run?.head_sha ?? payload.check_suite?.head_sha;
      if (targets.length === 0 && sha !== undefined) {
        // GitHub lists no pull request for a fork's head (head_branch is null then) nor for a merge
        // commit on the base branch: both are found from the commit.
        const headBranch = payload.check_run
          ? payload.check_run.check_suite.head_branch
          : (payload.check_suite?.head_branch ?? null);
        const found = await pullRequestsOfCommit(context.octokit as unknown as GitHubClient, {
          owner,
          repository,
          sha,
          maybeForkHead: headBranch === null,
        });
        targets = found.map((pull) => ({ owner, repository, number: pull.number, headSha: pull.headSha }));
      }
      await Promise.all(targets.map((target) => evaluate(context, target)));
    });

    app.on("status", async (context) => {
      const payload = parsePayload(StatusEvent, context.payload, context.log, context.name);
      if (!payload) return;
      if (payload.context === CHECK_NAME) return;
      const owner = payload.repository.owner.login;
      const repository = payload.repository.name;
      const found = await pullRequestsOfStatus(context.octokit as unknown as GitHubClient, {
        owner,
        repository,
        sha: payload.sha,
        onBranches: payload.branches.length > 0,
      });
      await Promise.all(
        found.map((pull) =>
          evaluate(context, { owner, repository, number: pull.number, headSha: pull.headSha }),
        ),
      );
    });

    app.on("pull_request.closed", async (context) => {
      const payload = parsePayload(PullRequestEvent, context.payload, context.log, context.name);
      if (!payload) return;
      if (!payload.pull_request.merged) return;
      // Judge the merge now: an admin bypass is found the same minute, not at the next audit. No
      // head: a merged change whose facts cannot be read gets no failure check run.
      await evaluate(context, {
        owner: payload.repository.owner.login,
        repository: payload.repository.name,
        number: payload.pull_request.number,
        headSha: null,
      });
    });

    observeConfigurationChanges(app, { ledger: options.ledger, now, hostOf });
    recordPushes(app, { ledger: options.ledger, now });

    await options.extend?.(app, probotOptions);
  };
}

type FindingsLock = <T>(key: string, work: () => Promise<T>) => Promise<T>;

/** A findings tracker's lock on the coordinator (this process's own without one). */
function findingsLock(coordinator: Coordinator | undefined): FindingsLock {
  const locks = coordinator ?? inProcessCoordinator();
  return (key, work) => locks.withLock(`findings:${key}`, work);
}

/** The lock and evaluation key of a change request: host, repository and number. */
function changeKey(target: { owner: string; repository: string; number: number }): string {
  return `github:${target.owner}/${target.repository}#${target.number}`;
}

/**
 * The evaluation numbers are a guard beside the lock: when their store is down the change is still
 * evaluated and published (as without them), never left without a check.
 */
async function evaluationsSafely<T>(log: Context["log"], work: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    log.warn({ err: redactText(String(error)) }, "change evaluation order not kept: its store failed");
    return fallback;
  }
}

export interface MergedChangeVerdict extends MergedChangeJudgement {
  findings: SyncSummary;
}

/**
 * A merged change judged at once, its failures opened as finding issues (and its passes closing
 * earlier ones) in the policy's findings repository; its required-checks verdict is held while
 * those checks are still running on the merge commit (see judgeAsOfMerge). Null when the base
 * branch's policy is broken: nothing is concluded from a policy nobody can read.
 */
export async function judgeMergedChange(
  host: CodeHost,
  target: { repository: string; number: number },
  options: { organization: string; now: Date; waitMs?: number; lock?: FindingsLock },
): Promise<MergedChangeVerdict | null> {
  const outcome = await runChangeCheck(host, target, {
    organization: options.organization,
    now: options.now,
    publish: false,
  });
  return syncMergedChange(host, outcome, options);
}

async function syncMergedChange(
  host: CodeHost,
  outcome: ChangeCheckOutcome,
  options: { organization: string; now: Date; waitMs?: number; lock?: FindingsLock },
): Promise<MergedChangeVerdict | null> {
  if (!outcome.policy) return null;
  const judgement = judgeAsOfMerge(outcome, options.now, options.waitMs);
  const target = findingsTracker(host, options.organization, outcome.policy);
  const findings = await syncFindings(target.tracker, judgement.results, {
    label: target.label,
    evaluatedAt: options.now,
    scope: "change-request",
    // Each event builds its own tracker: the key serialises merges landing at the same moment.
    lockKey: target.lockKey,
    groupChangeRequests: target.groupChangeRequests,
    ...(options.lock ? { lock: options.lock } : {}),
  });
  return { ...judgement, findings };
}

/**
 * When the facts cannot be collected, the check says so and fails: unknown is not a pass. The
 * message names the permission when the host told us which one was missing.
 */
async function reportCollectionFailure(
  log: Context["log"],
  host: CodeHost,
  fullName: string,
  target: ChangeTarget,
  error: unknown,
): Promise<void> {
  const message = redactText(error instanceof Error ? error.message : String(error));
  log.error({ repository: fullName, number: target.number, err: message }, "change check failed");
  if (!target.headSha) return;
  const permission =
    error instanceof ProviderError && error.details.permission ? error.details.permission : null;
  await host
    .publishChangeCheck(
      { repository: fullName, number: target.number, headSha: target.headSha },
      {
        name: CHECK_NAME,
        conclusion: "failure",
        title: "Unknown: the change could not be evaluated",
        summary:
          `soc2-bot could not read the facts this check needs, so it cannot say the change meets the policy.\n\n` +
          `Error: ${message.replace(/[<>`@]/g, " ")}\n` +
          (permission ? `\nGrant the app the **${permission}** permission and re-run the check.\n` : ""),
      },
    )
    .catch((publishError: unknown) =>
      log.error({ err: redactText(String(publishError)) }, "could not publish the failure check"),
    );
}

export interface ScheduledAudit {
  /** The app's organization installations (user accounts have no organization to audit). */
  listInstallations(): Promise<Installation[]>;
  /** audit.schedule of the organization's policy; the default (weekly) when it has none. */
  cadenceOf(installation: Installation): Promise<AuditSchedule>;
  /** collect -> evaluate -> findings for the window [since, at] (since: at - cadence when not given). */
  runAudit(installation: Installation, cadence: Cadence, at: Date, since?: Date): Promise<void>;
  /** Reconciles the push record with GitHub's webhook deliveries (with a ledger): every tick. */
  beforeTick?: () => Promise<void>;
}

const InstallationList = z.array(
  z.object({
    id: z.number(),
    account: z.object({ login: z.string(), type: z.string().optional() }).nullable(),
  }),
);

/**
 * The scheduled organization audit, one installation at a time, for createScheduler. Each run
 * builds its host from that installation's own token, so one organization's audit can never read
 * another's data.
 */
export function createScheduledAudit(app: Probot, options: AppOptions = {}): ScheduledAudit {
  const now = options.now ?? (() => new Date());
  const waitMs = options.mergeCommitChecksWaitMs ?? MERGE_COMMIT_CHECKS_WAIT_MS;
  const baseUrl = process.env.GITHUB_API_URL ?? "https://api.github.com";
  const log = app.log.child({ name: "scheduled-audit" });
  const coordinator = options.coordinator;
  const reconcile =
    options.ledger &&
    reconcileOnSchedule({
      appOctokit: async () => (await app.auth()) as unknown as GitHubClient,
      ledger: options.ledger,
      now,
      log: app.log.child({ name: "deliveries" }),
      ...(coordinator ? { withLock: (key, work) => coordinator.withLock(key, work) } : {}),
    });
  const hostOf = async (installation: Installation): Promise<CodeHost> => {
    const octokit = (await app.auth(installation.id)) as unknown as GitHubClient;
    // An audit may wait for GitHub's hourly reset and resume; the app's clients fail fast by default.
    rateLimiterOf(octokit)?.configure({ onPrimaryExhausted: "wait" });
    return options.hostFor
      ? options.hostFor(octokit, baseUrl, log)
      : createGitHubHost({
          octokit,
          baseUrl,
          log,
          ...pushRecordOption(options.ledger),
          ...(options.appId === undefined ? {} : { appId: options.appId }),
        });
  };

  return {
    ...(reconcile ? { beforeTick: reconcile } : {}),
    async listInstallations() {
      const octokit = await app.auth();
      const answer: unknown = await octokit.paginate("GET /app/installations", { per_page: 100 });
      return InstallationList.parse(answer).flatMap((i) =>
        i.account && i.account.type !== "User" ? [{ id: i.id, account: i.account.login }] : [],
      );
    },

    async cadenceOf(installation) {
      const host = await hostOf(installation);
      const repository = host.policyLocation.organizationRepository(installation.account);
      const file = host.policyLocation.file;
      const text = await host.readFile(repository, file);
      const layers = [loadDefaultPolicyLayer(CONTROLS)];
      if (text !== null) layers.push(parsePolicyLayer(text, `${repository}:${file}`, CONTROLS));
      // A broken policy throws PolicyError: the scheduler logs it and the organization is not audited
      // with a policy it did not write.
      return resolvePolicy(layers, CONTROLS).audit.schedule;
    },

    async runAudit(installation, cadence, at, since) {
      // The push record is trusted only over reconciled spans: this one reaches past the period's end.
      await reconcile?.();
      const host = await hostOf(installation);
      const organization = installation.account;
      // The package is written (a repository at a time) to a folder of its own, recorded in the
      // ledger from there, then removed: the ledger keeps it, compressed.
      const folder = await mkdtemp(join(tmpdir(), "soc2-scheduled-audit-"));
      try {
        const audit = await runAuditJob({
          host,
          organization,
          // Reaching back by the merge-commit wait: a merge still waiting for its checks at the previous
          // audit (its re-judgement at the end of the wait lost to a restart) is judged here, its wait over.
          since: new Date((since?.getTime() ?? at.getTime() - CADENCE_PERIOD_MS[cadence]) - waitMs),
          until: at,
          now,
          outDir: join(folder, "package"),
          // Merges judged by their base branch's rule and the policy as of the merge (read from the
          // ledger into the snapshot recorded), then today's configuration recorded as an observation.
          ...(options.ledger ? { ledger: options.ledger } : {}),
          log,
          source: { trigger: "schedule" },
          // A merge of the last minutes is judged as the app judges it: waiting for its merge commit's checks.
          asReported: (snapshot, policies, results) =>
            judgeMergesAsOf(snapshot, policies, results, at, waitMs),
          findings: true,
        });
        const target = findingsTracker(host, organization, audit.organizationPolicy);
        const summary = await syncFindings(target.tracker, audit.findings, {
          label: target.label,
          evaluatedAt: at,
          scope: "audit",
          lockKey: target.lockKey,
          groupChangeRequests: target.groupChangeRequests,
          // One findings sync of a tracker at a time across instances (a merge's and this audit's).
          lock: findingsLock(options.coordinator),
        });
        // A weakening no webhook announced (GitHub sends none for the 2FA requirement; a delivery may
        // be lost) is alerted on when the audit's observation finds it, as a webhook's would be.
        if (options.ledger) {
          await alertOnObserved({
            ledger: options.ledger,
            host,
            organization,
            observed: audit.observed,
            organizationPolicy: audit.organizationPolicy,
            now: at,
            onError: (subject, error) =>
              log.error(
                { organization, subject, err: redactText(String(error)) },
                "weakening findings not synced",
              ),
          });
        }
        await options.ledger
          ?.recordAuditRun({
            trigger: "schedule",
            organization,
            packageDir: join(folder, "package"),
            written: audit.figures,
          })
          .catch((error: unknown) =>
            log.error(
              {
                installation: installation.id,
                organization,
                ledger: options.ledger?.location,
                err: String(error),
              },
              "scheduled audit not recorded in the ledger",
            ),
          );
        log.info(
          {
            installation: installation.id,
            organization,
            repositories: audit.figures.population.repositories,
            changeRequests: audit.figures.population.changeRequests,
            created: summary.created.length,
            closed: summary.closed.length,
          },
          "scheduled audit synced its findings",
        );
        // The current cycle's access reviews, opened once when the policy judges them (CC6.2).
        await openReviewsAfterAudit({ host, organization, policy: audit.organizationPolicy, at, now })
          .then((opened) => {
            if (opened) {
              const reviews = opened.reviews.map((review) => `${review.owner}: ${review.status}`);
              log.info({ organization, cycle: opened.cycle.id, reviews }, "access reviews opened");
            }
          })
          .catch((error: unknown) =>
            log.error({ organization, err: redactText(String(error)) }, "access reviews not opened"),
          );
      } finally {
        await rm(folder, { recursive: true, force: true });
      }
    },
  };
}

export default createApp();
