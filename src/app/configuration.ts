/**
 * What the app runs with, as one log line at start: where it reads GitHub, where webhooks arrive,
 * where the ledger is, which optional parts are on. Never a secret: credentials are reported as
 * set or not, a database URL loses its user and password, and the smee channel (whoever knows it
 * reads the webhooks) is reported as set.
 */
import { gitHubApiUrl } from "../providers/github/api-origin.js";

type Env = Record<string, string | undefined>;

export interface EffectiveConfiguration {
  githubApiUrl: string;
  appId: string | "not set (manifest flow)";
  appKeyFrom: "PRIVATE_KEY" | "PRIVATE_KEY_PATH" | "not set";
  webhookSignature: "WEBHOOK_SECRET" | "Probot's default secret 'development' (WEBHOOK_SECRET not set)";
  webhookPath: string;
  webhookProxy: "smee channel set" | "off";
  host: string;
  port: string;
  ledger: string;
  scheduler: "on" | "off";
  gitlab: string;
  log: { level: string; format: string; sentry: "on" | "off" };
  organization: string | undefined;
}

export function effectiveConfiguration(env: Env): EffectiveConfiguration {
  return {
    githubApiUrl: gitHubApiUrl(env),
    appId: env.APP_ID || "not set (manifest flow)",
    appKeyFrom: env.PRIVATE_KEY ? "PRIVATE_KEY" : env.PRIVATE_KEY_PATH ? "PRIVATE_KEY_PATH" : "not set",
    webhookSignature: env.WEBHOOK_SECRET
      ? "WEBHOOK_SECRET"
      : "Probot's default secret 'development' (WEBHOOK_SECRET not set)",
    webhookPath: env.WEBHOOK_PATH || "/api/github/webhooks",
    webhookProxy: env.WEBHOOK_PROXY_URL ? "smee channel set" : "off",
    host: env.HOST || "localhost",
    port: env.PORT || "3000",
    ledger: env.DATABASE_URL
      ? `PostgreSQL ${databaseLocation(env.DATABASE_URL)} schema ${env.SOC2_LEDGER_SCHEMA || "soc2_ledger"}`
      : `embedded in ${env.SOC2_LEDGER_DIR || ".soc2-bot/ledger"}`,
    scheduler: env.SOC2_SCHEDULER === "off" ? "off" : "on",
    gitlab: env.GITLAB_WEBHOOK_SECRET
      ? `webhooks at /gitlab/webhook, API ${originOf(env.GITLAB_URL) ?? "https://gitlab.com"}`
      : "off",
    log: {
      level: env.LOG_LEVEL || "info",
      format: env.LOG_FORMAT || (env.NODE_ENV === "production" ? "json" : "pretty"),
      sentry: env.SENTRY_DSN ? "on" : "off",
    },
    organization: env.GH_ORG || undefined,
  };
}

/** host:port/database, without the user and password a postgres:// URL carries. */
function databaseLocation(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return "(DATABASE_URL is not a URL)";
  }
}

function originOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return "(GITLAB_URL is not a URL)";
  }
}

/**
 * Probot's manifest flow (the page that creates the app, and the code exchange after it) reads only
 * GHE_HOST and GHE_PROTOCOL. When GITHUB_API_URL names a GitHub Enterprise Server API at its usual
 * path (https://HOST/api/v3) and GHE_HOST is unset, they are derived from it, so the one setting
 * moves the manifest flow too. Returns the variables to set (none when nothing is to be derived).
 */
export function probotEnterpriseHost(env: Env): { GHE_HOST: string; GHE_PROTOCOL: string } | undefined {
  if (env.GHE_HOST?.trim()) return undefined;
  const api = gitHubApiUrl(env);
  const url = new URL(api);
  if (url.host === "api.github.com" || url.pathname.replace(/\/+$/, "") !== "/api/v3") return undefined;
  return { GHE_HOST: url.host, GHE_PROTOCOL: url.protocol.replace(/:$/, "") };
}
