import type { ApplicationFunction, Context, Probot } from "probot";
import { z } from "zod";
import { CONTROLS } from "../controls/index.js";
import { evaluate } from "../engine/index.js";
import { ProviderError } from "../errors.js";
import { collectAudit } from "../pipeline/audit.js";
import { runChangeCheck } from "../pipeline/change-check.js";
import { policySetFor } from "../pipeline/policies.js";
import { loadDefaultPolicyLayer, parsePolicyLayer, resolvePolicy } from "../policy/index.js";
import type { AuditSchedule } from "../policy/types.js";
import {
  createConditionalCache,
  createGitHubHost,
  useConditionalRequests,
  type GitHubClient,
  type GitHubHostOptions,
} from "../providers/github/index.js";
import type { CodeHost } from "../providers/types.js";
import { CHECK_NAME } from "../reporters/check.js";
import { syncFindings, type SyncSummary } from "../reporters/findings/lifecycle.js";
import { createCoalescer } from "./coalesce.js";
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
}

type GitHubLog = NonNullable<GitHubHostOptions["log"]>;

interface ChangeTarget {
  owner: string;
  repository: string;
  number: number;
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
 * updates the one "SOC 2 change management" check run on its head; a merge is evaluated at once and
 * a failing one becomes a finding issue the same minute.
 */
export function createApp(options: AppOptions = {}): ApplicationFunction {
  const now = options.now ?? (() => new Date());
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
  // Rules and policy files rarely change: asked again with If-None-Match, GitHub answers 304 without
  // charging the rate limit. Scoped per installation so no answer crosses installations.
  const conditionalCache = createConditionalCache();

  return async (app: Probot, probotOptions) => {
    const hostOf = (context: Context) => {
      const octokit = context.octokit as unknown as GitHubClient;
      const installation = (context.payload as { installation?: { id?: number } }).installation?.id;
      if (installation !== undefined) {
        useConditionalRequests(octokit, conditionalCache, `installation:${installation}`);
      }
      return hostFor(octokit, process.env.GITHUB_API_URL ?? "https://api.github.com", context.log);
    };

    const check = (context: Context, target: ChangeTarget) =>
      coalesce(`${target.owner}/${target.repository}#${target.number}`, async () => {
        const host = hostOf(context);
        const fullName = `${target.owner}/${target.repository}`;
        try {
          const outcome = await runChangeCheck(
            host,
            { repository: fullName, number: target.number },
            {
              organization: target.owner,
              now: now(),
            },
          );
          context.log.info(
            { repository: fullName, number: target.number, conclusion: outcome.check.conclusion },
            "change check published",
          );
        } catch (error) {
          await reportCollectionFailure(context, host, fullName, target, error);
        }
      });

    app.on([...CHANGE_EVENTS], async (context) => {
      const payload = parsePayload(PullRequestEvent, context.payload, context.log, context.name);
      if (!payload) return;
      // An edit matters only when it moves the change to another base branch (another policy, other rules).
      if (payload.action === "edited" && !payload.changes?.base) return;
      if (payload.pull_request.state !== "open") return;
      await check(context, {
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
      if (options.appId !== undefined && payload.check_suite?.app?.id === options.appId) return;
      const pulls = payload.check_run?.pull_requests ?? payload.check_suite?.pull_requests ?? [];
      await Promise.all(
        pulls.map((pull) =>
          check(context, {
            owner: payload.repository.owner.login,
            repository: payload.repository.name,
            number: pull.number,
            headSha: pull.head.sha,
          }),
        ),
      );
    });

    app.on("status", async (context) => {
      const payload = parsePayload(StatusEvent, context.payload, context.log, context.name);
      if (!payload) return;
      if (payload.context === CHECK_NAME) return;
      const host = hostOf(context);
      const fullName = `${payload.repository.owner.login}/${payload.repository.name}`;
      const numbers = await host.changeRequestsForCommit(fullName, payload.sha);
      await Promise.all(
        numbers.map((number) =>
          check(context, {
            owner: payload.repository.owner.login,
            repository: payload.repository.name,
            number,
            headSha: payload.sha,
          }),
        ),
      );
    });

    app.on("pull_request.closed", async (context) => {
      const payload = parsePayload(PullRequestEvent, context.payload, context.log, context.name);
      if (!payload) return;
      if (!payload.pull_request.merged) return;
      const owner = payload.repository.owner.login;
      const fullName = `${owner}/${payload.repository.name}`;
      // Judge the merge now: an admin bypass is found the same minute, not at the next audit.
      const summary = await judgeMergedChange(
        hostOf(context),
        { repository: fullName, number: payload.pull_request.number },
        { organization: owner, now: now() },
      );
      if (!summary) {
        context.log.warn({ repository: fullName }, "merged change not judged: the policy is broken");
        return;
      }
      context.log.info(
        { repository: fullName, number: payload.pull_request.number, ...summary },
        "merged change judged",
      );
    });

    await options.extend?.(app, probotOptions);
  };
}

/**
 * A merged change judged at once, its failures opened as finding issues (and its passes closing
 * earlier ones) in the policy's findings repository. Null when the base branch's policy is broken:
 * nothing is concluded from a policy nobody can read.
 */
export async function judgeMergedChange(
  host: CodeHost,
  target: { repository: string; number: number },
  options: { organization: string; now: Date },
): Promise<SyncSummary | null> {
  const outcome = await runChangeCheck(host, target, { ...options, publish: false });
  if (!outcome.policy) return null;
  const findingsRepository = `${options.organization}/${outcome.policy.findings.repository}`;
  return syncFindings(host.issues(findingsRepository), outcome.results, {
    label: outcome.policy.findings.labels[0] ?? "soc2",
    evaluatedAt: options.now,
    scope: "change-request",
    // Each event builds its own tracker: the key serialises merges landing at the same moment.
    lockKey: `${host.host}:${findingsRepository}`,
  });
}

/**
 * When the facts cannot be collected, the check says so and fails: unknown is not a pass. The
 * message names the permission when the host told us which one was missing.
 */
async function reportCollectionFailure(
  context: Context,
  host: CodeHost,
  fullName: string,
  target: ChangeTarget,
  error: unknown,
): Promise<void> {
  const message = redactText(error instanceof Error ? error.message : String(error));
  context.log.error({ repository: fullName, number: target.number, err: message }, "change check failed");
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
      context.log.error({ err: redactText(String(publishError)) }, "could not publish the failure check"),
    );
}

export interface ScheduledAudit {
  /** The app's organization installations (user accounts have no organization to audit). */
  listInstallations(): Promise<Installation[]>;
  /** audit.schedule of the organization's policy; the default (weekly) when it has none. */
  cadenceOf(installation: Installation): Promise<AuditSchedule>;
  /** collect -> evaluate -> findings for the window [at - cadence, at]. */
  runAudit(installation: Installation, cadence: Cadence, at: Date): Promise<void>;
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
  const baseUrl = process.env.GITHUB_API_URL ?? "https://api.github.com";
  const log = app.log.child({ name: "scheduled-audit" });
  const hostOf = async (installation: Installation): Promise<CodeHost> => {
    const octokit = (await app.auth(installation.id)) as unknown as GitHubClient;
    return options.hostFor
      ? options.hostFor(octokit, baseUrl, log)
      : createGitHubHost({
          octokit,
          baseUrl,
          log,
          ...(options.appId === undefined ? {} : { appId: options.appId }),
        });
  };

  return {
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

    async runAudit(installation, cadence, at) {
      const host = await hostOf(installation);
      const organization = installation.account;
      const snapshot = await collectAudit({
        host,
        organization,
        since: new Date(at.getTime() - CADENCE_PERIOD_MS[cadence]),
        until: at,
        now,
      });
      const policies = policySetFor(snapshot);
      const report = evaluate(snapshot, policies, at);
      const { findings } = policies.organization;
      const findingsRepository = `${organization}/${findings.repository}`;
      const summary = await syncFindings(host.issues(findingsRepository), report.results, {
        label: findings.labels[0] ?? "soc2",
        evaluatedAt: at,
        scope: "audit",
        lockKey: `github:${findingsRepository}`,
      });
      log.info(
        {
          installation: installation.id,
          organization,
          repositories: snapshot.repositories.length,
          changeRequests: snapshot.changeRequests.length,
          created: summary.created.length,
          closed: summary.closed.length,
        },
        "scheduled audit synced its findings",
      );
    },
  };
}

export default createApp();
