import type { IncomingMessage, ServerResponse } from "node:http";
import { ProviderError } from "../errors.js";
import {
  ledgerDeliveryClaims,
  memoryDeliveryClaims,
  organizationFacts,
  recordJudgementSafely,
  recordObservation,
  type Ledger,
} from "../ledger/index.js";
import { runChangeCheck } from "../pipeline/change-check.js";
import { GITLAB_REVIEW_STATUS_NAME, GITLAB_STATUS_NAME } from "../providers/gitlab/index.js";
import type { CodeHost } from "../providers/types.js";
import { CHECK_NAME } from "../reporters/check.js";
import { syncFindings } from "../reporters/findings/lifecycle.js";
import { alertOnWeakening } from "../pipeline/alerts.js";
import { createCoalescer } from "./coalesce.js";
import { ACCESS_REVIEW_BRANCH_PREFIX } from "../access-review/index.js";
import { inFindingsRepository } from "./access-review-check.js";
import { gitLabAccessReview } from "./gitlab-access-review.js";
import { gitLabHandledOnce } from "./gitlab-deliveries.js";
import {
  createGitLabWebhookHandler,
  type GitLabMemberEvent,
  type GitLabMergeRequestEvent,
  type GitLabPipelineEvent,
  type GitLabWebhookLogger,
} from "./gitlab-webhook.js";
import type { JobQueue } from "./jobs.js";
import { organizationPolicy } from "./observe.js";
import { redactText, redactValue } from "./redact.js";

export interface GitLabEndpointOptions {
  /** The hook's secret token (GITLAB_WEBHOOK_SECRET), compared with X-Gitlab-Token. */
  secret: string;
  /** The GitLab host, or a factory called once per event (fresh caches for every event). */
  host: CodeHost | (() => CodeHost);
  /** The clock; tests pass a fixed one. */
  now?: () => Date;
  log: GitLabWebhookLogger;
  /**
   * Where every judgement is recorded (stream "judgement:gitlab/<project>"), as for GitHub. When it
   * cannot be reached the commit status is still posted and the failure is logged.
   */
  ledger?: Ledger;
  /**
   * The job queue the work goes through (createJobQueue: pg-boss with DATABASE_URL, so any instance
   * takes it, with retries and dead letters): a merge request's check is a job keyed by the merge
   * request, at most one running and one waiting per key, so a burst for one merge request
   * coalesces into one more evaluation of its newest state. Default: the work runs in this process.
   */
  queue?: JobQueue;
}

/** A merge request's check (or, merged, its judgement) as a job: what a worker of any instance needs. */
interface GitLabChangeJob {
  project: string;
  iid: number;
  headSha: string | null;
  merged: boolean;
}

export const GITLAB_CHANGE_QUEUE = "gitlab-change";
/** A pipeline that names no merge request: its merge requests are looked up by a job (tried again if that fails). */
export const GITLAB_PIPELINE_QUEUE = "gitlab-pipeline";
/** A group's member event: the group is read again, one job per group at a time. */
export const GITLAB_MEMBER_QUEUE = "gitlab-member";

/**
 * Merge request actions that can change the answer. "approval"/"unapproval" are what older GitLab
 * versions send for approvals; "close" changes nothing we judge.
 */
const CHECKED_ACTIONS: ReadonlySet<string> = new Set([
  "open",
  "reopen",
  "update",
  "approved",
  "unapproved",
  "approval",
  "unapproval",
]);

/**
 * Only a finished pipeline changes what "required checks" says; running and pending ones would only
 * spend API quota. GitLab's pipeline statuses: https://docs.gitlab.com/ee/api/pipelines.html
 */
const FINISHED_PIPELINE: ReadonlySet<string> = new Set([
  "success",
  "failed",
  "canceled",
  "skipped",
  "manual",
]);

/**
 * The GitLab side of the app: mount the returned handler on a path of the app's server (e.g.
 * /gitlab/webhook). Each merge request event that can change the answer re-evaluates the MR and
 * updates its commit status and note; a finished pipeline re-evaluates the MRs whose head it ran
 * on; a merge is judged at once and a failing one becomes a finding issue in the group's findings
 * project. Runs for one MR are serialised; errors are logged (redacted) and never escape.
 */
export function createGitLabEndpoint(
  options: GitLabEndpointOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const now = options.now ?? (() => new Date());
  const { host: given } = options;
  const hostOf = typeof given === "function" ? given : () => given;
  const coalesce = createCoalescer();
  const { log } = options;

  /** Serialised per MR; never rejects. */
  function judge(
    host: CodeHost,
    target: { project: string; iid: number; headSha: string | null },
    merged: boolean,
  ): Promise<void> {
    return coalesce(`${target.project}!${target.iid}`, async () => {
      try {
        if (merged) await judgeMerge(host, target);
        else await check(host, target);
      } catch (error) {
        await reportFailure(host, target, error, !merged);
      }
    }).catch((error: unknown) => {
      // Only reached if reporting the failure itself failed.
      log.error({ err: redactValue(error), project: target.project, iid: target.iid }, "GitLab event failed");
    });
  }

  async function check(host: CodeHost, target: { project: string; iid: number }): Promise<void> {
    const outcome = await runChangeCheck(
      host,
      { repository: target.project, number: target.iid },
      { organization: topGroupOf(target.project), now: now() },
    );
    log.info(
      { project: target.project, iid: target.iid, conclusion: outcome.check.conclusion },
      "change check published",
    );
    await recordJudgementSafely(options.ledger, log, {
      trigger: "pull-request-check",
      host: "gitlab",
      outcome,
      judgedAt: now(),
    });
  }

  async function judgeMerge(host: CodeHost, target: { project: string; iid: number }): Promise<void> {
    const group = topGroupOf(target.project);
    const evaluatedAt = now();
    // As for GitHub's closed pull request: the status on a merged head helps nobody, the finding does.
    const outcome = await runChangeCheck(
      host,
      { repository: target.project, number: target.iid },
      { organization: group, now: evaluatedAt, publish: false },
    );
    if (!outcome.policy) {
      log.warn(
        { project: target.project, iid: target.iid },
        "merged change not judged: the policy is broken",
      );
      return;
    }
    const findings = `${group}/${outcome.policy.findings.repository}`;
    const summary = await syncFindings(host.issues(findings), outcome.results, {
      label: outcome.policy.findings.labels[0] ?? "soc2",
      evaluatedAt,
      scope: "change-request",
      lockKey: `gitlab:${findings}`,
      groupChangeRequests: outcome.policy.findings.groupChangeRequests,
    });
    await recordJudgementSafely(options.ledger, log, {
      trigger: "merge",
      host: "gitlab",
      outcome,
      judgedAt: evaluatedAt,
    });
    log.info({ project: target.project, iid: target.iid, findings, ...summary }, "merged change judged");
  }

  /**
   * A change that could not be collected is not a pass: its status says so and fails, naming the
   * missing permission when GitLab told us (only for open MRs with a known head).
   */
  async function reportFailure(
    host: CodeHost,
    target: { project: string; iid: number; headSha: string | null },
    error: unknown,
    publish: boolean,
  ): Promise<void> {
    const message = redactText(error instanceof Error ? error.message : String(error));
    log.error({ project: target.project, iid: target.iid, err: message }, "GitLab change check failed");
    if (!publish || !target.headSha) return;
    const permission =
      error instanceof ProviderError && error.details.permission ? error.details.permission : null;
    await host.publishChangeCheck(
      { repository: target.project, number: target.iid, headSha: target.headSha },
      {
        name: CHECK_NAME,
        conclusion: "failure",
        title: "Unknown: the change could not be evaluated",
        summary:
          `soc2-bot could not read the facts this check needs, so it cannot say the change meets the policy.\n\n` +
          `Error: ${message.replace(/[<>`@[\]]/g, " ")}\n` +
          (permission ? `\nGive the token the **${permission}** and re-run the check.\n` : ""),
      },
    );
  }

  const { queue } = options;
  queue?.define<GitLabChangeJob>(GITLAB_CHANGE_QUEUE, {
    // A merge has a key of its own: coalesced into a waiting check of the same merge request it
    // would never be judged.
    keyOf: (job) => `gitlab:${job.project}!${job.iid}${job.merged ? ":merge" : ""}`,
    handler: (job) =>
      judge(hostOf(), { project: job.project, iid: job.iid, headSha: job.headSha }, job.merged),
  });
  queue?.define<GitLabPipelineEvent>(GITLAB_PIPELINE_QUEUE, {
    handler: (event) => changesOfPipeline(event, true),
  });
  queue?.define<GitLabMemberEvent>(GITLAB_MEMBER_QUEUE, {
    // Each run reads the whole group again: a burst of member events needs one more read, not one each.
    keyOf: (event) => `gitlab-group:${event.groupId}`,
    handler: (event) => observeMembers(event),
  });

  /**
   * Queues `data` (the webhook is answered once it is stored); when the queue's store is down the
   * work runs here rather than being lost.
   */
  async function enqueue<T extends object>(
    name: string,
    data: T,
    inline: () => Promise<void>,
  ): Promise<void> {
    if (!queue) return inline();
    try {
      await queue.send(name, data);
    } catch (error) {
      log.warn({ queue: name, err: redactText(String(error)) }, "GitLab event not queued: handled here");
      await inline();
    }
  }

  function change(target: { project: string; iid: number; headSha: string | null }, merged: boolean) {
    return enqueue<GitLabChangeJob>(GITLAB_CHANGE_QUEUE, { ...target, merged }, () =>
      judge(hostOf(), target, merged),
    );
  }

  async function onMergeRequest(event: GitLabMergeRequestEvent): Promise<void> {
    const target = { project: event.project, iid: event.iid, headSha: event.headSha };
    // An access review's merge request in the findings project gets the review status instead.
    if (await gitLabAccessReview(hostOf(), event, topGroupOf(event.project), log)) return;
    if (event.action === "merge" || (event.action === null && event.state === "merged")) {
      return change(target, true);
    }
    // Older GitLab versions send no action: judge any event of an open MR.
    const wanted = event.action === null ? event.state === "opened" : CHECKED_ACTIONS.has(event.action);
    if (!wanted || event.state !== "opened") return;
    return change(target, false);
  }

  async function onPipeline(event: GitLabPipelineEvent): Promise<void> {
    if (!FINISHED_PIPELINE.has(event.status)) return;
    // Our own commit status makes GitLab run an "external" pipeline holding only that status; its
    // events must not trigger another check of the same change (that would loop).
    const onlyOurStatus =
      event.jobNames.length > 0 &&
      event.jobNames.every((name) => name === GITLAB_STATUS_NAME || name === GITLAB_REVIEW_STATUS_NAME);
    if (event.source === "external" && onlyOurStatus) return;
    // An access review's status comes from its file, not from CI: a pipeline on a review branch of
    // the findings project starts no change check (a review-named branch elsewhere still does).
    const branch = event.mergeRequestSourceBranch ?? event.ref;
    if (
      branch.startsWith(ACCESS_REVIEW_BRANCH_PREFIX) &&
      (await inFindingsRepository(hostOf(), topGroupOf(event.project), event.project).catch(() => false))
    ) {
      return;
    }
    // A merge request pipeline names its merge request. A merged-results pipeline runs on GitLab's
    // internal merge commit, which is no MR's head: looking MRs up by its sha would find none, and
    // its sha is no commit to put the MR's status on (the check publishes on the MR's own head).
    if (event.mergeRequestIid !== null) {
      // Only an open merge request has a status to update; a merge is judged by its merge event.
      if (event.mergeRequestState !== null && event.mergeRequestState !== "opened") return;
      return change({ project: event.project, iid: event.mergeRequestIid, headSha: null }, false);
    }
    return enqueue(GITLAB_PIPELINE_QUEUE, event, () => changesOfPipeline(event, false));
  }

  /** The merge requests whose head a pipeline ran on, each checked; `retried`: a failed lookup throws (the job is tried again). */
  async function changesOfPipeline(event: GitLabPipelineEvent, retried: boolean): Promise<void> {
    let iids: number[];
    try {
      iids = await hostOf().changeRequestsForCommit(event.project, event.sha);
    } catch (error) {
      log.error(
        { project: event.project, sha: event.sha, err: redactText(String(error)) },
        "could not find the merge requests of a pipeline",
      );
      if (retried) throw error;
      return;
    }
    await Promise.all(iids.map((iid) => change({ project: event.project, iid, headSha: event.sha }, false)));
  }

  /**
   * A group member added, removed or given another role: the top-level group's members are read
   * again and recorded as an observation in the ledger, as GitHub's member events are. GitLab sends
   * these only to group webhooks, names the group by id and its own path (a subgroup's path is not
   * its full path), and never says who made the change. GitLab has no webhook for protected
   * branches or a project's visibility: those are observed by each audit.
   */
  async function onMember(event: GitLabMemberEvent): Promise<void> {
    if (!options.ledger) return;
    return enqueue(GITLAB_MEMBER_QUEUE, event, () => observeMembers(event));
  }

  async function observeMembers(event: GitLabMemberEvent): Promise<void> {
    const { ledger } = options;
    if (!ledger) return;
    const context = { event: `member.${event.eventName}`, groupId: event.groupId, ledger: ledger.location };
    const host = hostOf();
    let observed: { top: string; recorded: Awaited<ReturnType<typeof recordObservation>> };
    try {
      let organization = await host.collectOrganization(String(event.groupId));
      // findings, policy and audits belong to the top-level group, as topGroupOf says for projects
      const top = topGroupOf(organization.login);
      if (top !== organization.login) organization = await host.collectOrganization(top);
      const recorded = await recordObservation(ledger, {
        host: "gitlab",
        facts: organizationFacts(organization),
        observedAt: now(),
        source: { trigger: "webhook", event: context.event, actor: null },
      });
      observed = { top, recorded };
      log.info({ ...context, group: top }, "configuration observed");
    } catch (error) {
      log.error({ ...context, err: redactText(String(error)) }, "configuration change not observed");
      return;
    }
    try {
      // an owner added: a finding at once, as on GitHub (who added them, GitLab does not say)
      const { top, recorded } = observed;
      const alerts = await alertOnWeakening({
        ledger,
        host,
        organization: top,
        subject: top,
        recorded,
        organizationPolicy: () => organizationPolicy(host, top),
        now: now(),
      });
      if (alerts.findings) {
        log.info(
          {
            ...context,
            weakened: alerts.opened.map((w) => w.aspect),
            restored: alerts.restored.map((w) => w.aspect),
          },
          "weakening findings synced",
        );
      }
    } catch (error) {
      log.error({ ...context, err: redactText(String(error)) }, "weakening findings not synced");
    }
  }

  return gitLabHandledOnce(
    createGitLabWebhookHandler({ secret: options.secret, onMergeRequest, onPipeline, onMember, log }),
    options.secret,
    options.ledger ? ledgerDeliveryClaims(options.ledger) : memoryDeliveryClaims(),
    log,
  );
}

/** The top-level group holds the policy project and the findings project, as in `audit`. */
function topGroupOf(project: string): string {
  return project.split("/")[0] ?? project;
}
