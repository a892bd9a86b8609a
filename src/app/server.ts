/**
 * The entry point `npm start` runs: the GitHub App on Probot's server, the scheduled organization
 * audits, and, when GITLAB_WEBHOOK_SECRET is set, the GitLab webhook endpoint beside it.
 *
 * Environment (Probot's own: APP_ID, PRIVATE_KEY or PRIVATE_KEY_PATH, WEBHOOK_SECRET, PORT, LOG_LEVEL):
 *   GITHUB_API_URL          GitHub Enterprise Server's API, e.g. https://ghe.example.com/api/v3: the app's
 *                           JWT, installation tokens and every read go there (Probot's GHE_HOST is read as
 *                           the same URL; the two naming different hosts stop the app at start)
 *   SOC2_SCHEDULER=off      no scheduled audits on this instance (with PostgreSQL several instances may
 *                           run them: each slot is claimed once in the ledger and run as a job by one
 *                           of the instances whose scheduler is on)
 *   DATABASE_URL            the ledger's PostgreSQL; otherwise the embedded ledger in SOC2_LEDGER_DIR
 *                           (default .soc2-bot/ledger), which serves one process
 *   GITLAB_WEBHOOK_SECRET   mounts POST /gitlab/webhook; then GITLAB_TOKEN is required, GITLAB_URL optional
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { pathToFileURL } from "node:url";
import type { Logger } from "pino";
import { run, type ApplicationFunction, type ApplicationFunctionOptions, type Probot } from "probot";
import { DEFAULT_SCHEMA, ledgerOptionsFromEnvironment, openLedger, type Ledger } from "../ledger/index.js";
import { gitHubApiUrl } from "../providers/github/api-origin.js";
import { GitHubOctokit } from "../providers/github/client.js";
import { createGitLabHost } from "../providers/gitlab/index.js";
import type { CodeHost } from "../providers/types.js";
import { createCoordinator } from "./coordinator.js";
import { createJobQueue, type JobQueue } from "./jobs.js";
import { createGitLabEndpoint } from "./gitlab.js";
import { createApp, createScheduledAudit } from "./index.js";
import { createProbotLogger } from "./logger.js";
import { effectiveConfiguration, probotEnterpriseHost } from "./configuration.js";
import { loadEnvFile } from "../env-file.js";
import { createScheduler } from "./scheduler.js";
import { guardWebhooks } from "./webhook-gate.js";

export const GITLAB_WEBHOOK_PATH = "/gitlab/webhook";

type Env = Record<string, string | undefined>;

/** The app with everything the environment asks for wired in. */
export function createServerApp(env: Env, log: Logger): ApplicationFunction {
  const appId = env.APP_ID && /^\d+$/.test(env.APP_ID) ? Number(env.APP_ID) : undefined;
  // The ledger (DATABASE_URL, else the embedded one in SOC2_LEDGER_DIR or .soc2-bot/ledger) opens on first use.
  const ledgerOptions = ledgerOptionsFromEnvironment(env);
  const ledger = openLedger(ledgerOptions);
  // With PostgreSQL every instance takes a change's (and a findings tracker's) lock there.
  const coordinator = createCoordinator({ databaseUrl: ledgerOptions.databaseUrl });
  const options = { ...(appId === undefined ? {} : { appId }), ledger, coordinator };
  // With PostgreSQL webhook work is queued (pg-boss, in a schema beside the ledger's): any instance takes it.
  const queue = ledgerOptions.databaseUrl
    ? createJobQueue({
        databaseUrl: ledgerOptions.databaseUrl,
        schema: `${ledgerOptions.schema ?? DEFAULT_SCHEMA}_jobs`,
        log: log.child({ name: "jobs" }),
      })
    : undefined;
  return createApp({
    ...(queue ? { queue } : {}),
    ...options,
    extend: (app: Probot, probotOptions: ApplicationFunctionOptions) => {
      // Probot's default secret when WEBHOOK_SECRET is unset, as its own check uses.
      guardWebhooks(app, {
        secret: env.WEBHOOK_SECRET || "development",
        path: env.WEBHOOK_PATH || "/api/github/webhooks",
        log: log.child({ name: "webhooks" }),
      });
      if (env.SOC2_SCHEDULER !== "off") {
        createScheduler({
          ...createScheduledAudit(app, options),
          log: app.log.child({ name: "scheduler" }),
          // The schedule's state lives in the ledger: contiguous windows, missed slots caught up at start.
          ledger,
          // With PostgreSQL a claimed slot is a job: any instance with a scheduler runs the audit.
          ...(queue ? { queue } : {}),
        }).start();
      }
      if (env.GITLAB_WEBHOOK_SECRET) {
        probotOptions.addHandler(
          gitLabEndpoint(env, log.child({ name: "gitlab" }), undefined, ledger, queue),
        );
      }
    },
  });
}

/**
 * POST /gitlab/webhook, mounted beside Probot's routes: createGitLabEndpoint (src/app/gitlab.ts)
 * checks the token and runs the same pipeline on GitLab; other paths fall through to Probot.
 */
export function gitLabEndpoint(
  env: Env,
  log: Logger,
  hostFor: () => CodeHost = () => defaultGitLabHost(env, log),
  ledger?: Ledger,
  queue?: JobQueue,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const handler = createGitLabEndpoint({
    secret: env.GITLAB_WEBHOOK_SECRET ?? "",
    host: hostFor,
    log,
    ...(ledger ? { ledger } : {}),
    // With PostgreSQL a merge request's work is a job any instance takes, as GitHub's change checks are.
    ...(queue ? { queue } : {}),
  });
  return async (req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    if (path !== GITLAB_WEBHOOK_PATH) return false;
    await handler(req, res);
    return true;
  };
}

function defaultGitLabHost(env: Env, log: Logger): CodeHost {
  if (!env.GITLAB_TOKEN) {
    throw new Error(
      "GITLAB_WEBHOOK_SECRET is set but GITLAB_TOKEN is not: the GitLab checks cannot be published",
    );
  }
  return createGitLabHost({
    token: env.GITLAB_TOKEN,
    ...(env.GITLAB_URL ? { baseUrl: env.GITLAB_URL } : {}),
    log: {
      debug: (object: object, message?: string) => log.debug(object, message),
      warn: (object: object, message?: string) => log.warn(object, message),
    },
  });
}

/**
 * The client class Probot builds the app's and every installation's client from: per-client read
 * limits (a pull request check fails at once on an exhausted budget instead of holding its webhook
 * for the hour; the scheduled audit switches its own client to waiting), requests only to the API's
 * origin, and that API wherever Probot would have put it: Probot reads only GHE_HOST, so with
 * GITHUB_API_URL alone it would send the app's JWT to api.github.com.
 */
export function appOctokit(baseUrl: string): typeof GitHubOctokit {
  return GitHubOctokit.defaults((options: { rateLimits?: object } & Record<string, unknown>) => ({
    ...options,
    baseUrl,
    rateLimits: { onPrimaryExhausted: "fail", ...options.rateLimits },
  }));
}

function databasePassword(url: string | undefined): string | undefined {
  try {
    return url ? decodeURIComponent(new URL(url).password) || undefined : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  // .env (the manifest flow writes APP_ID, PRIVATE_KEY, WEBHOOK_SECRET there) is read before any
  // setting is, so its secrets are masked in the log too; the environment wins over the file.
  loadEnvFile();
  const env = process.env;
  // Known secrets are masked in every line even where no pattern would recognise them; Probot's
  // LOG_FORMAT, LOG_LEVEL_IN_STRING and SENTRY_DSN apply after the masking.
  const log = await createProbotLogger(env, {
    secrets: [
      env.WEBHOOK_SECRET,
      env.GITLAB_WEBHOOK_SECRET,
      env.GITLAB_TOKEN,
      env.GITHUB_TOKEN,
      env.PRIVATE_KEY,
      env.SENTRY_DSN,
      databasePassword(env.DATABASE_URL),
    ],
  });
  let baseUrl: string;
  try {
    baseUrl = gitHubApiUrl(env);
  } catch (error) {
    log.fatal(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
    return;
  }
  // The app's hosts read GITHUB_API_URL for their web and GraphQL addresses: the same one URL.
  env.GITHUB_API_URL = baseUrl;
  // Probot's manifest flow reads only GHE_HOST: derived from GITHUB_API_URL when unset.
  Object.assign(env, probotEnterpriseHost(env));
  if (env.GITLAB_WEBHOOK_SECRET && !env.GITLAB_TOKEN) {
    log.fatal("GITLAB_WEBHOOK_SECRET is set but GITLAB_TOKEN is not: set both, or neither");
    process.exitCode = 1;
    return;
  }
  log.info({ configuration: effectiveConfiguration(env) }, "soc2-bot starting");
  // Each installation client gets its own read limits (a pull request check never queues behind a
  // scheduled audit's reads).
  // Probot's run() copies .env over process.env, the file winning: its own settings (APP_ID, the key,
  // PORT…) are read from this copy instead, where the environment wins as everywhere else, and
  // process.env is put back once the server has started.
  const settings = { ...env };
  await run(createServerApp(env, log), { log, Octokit: appOctokit(baseUrl), env: settings });
  Object.assign(process.env, settings);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
