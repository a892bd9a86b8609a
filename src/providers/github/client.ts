import { createHash } from "node:crypto";
import type { ProbotOctokit } from "probot";
import { UnreachableError } from "../../errors.js";
import { guardedFetch, type GuardedFetchOptions } from "../connection.js";
import { apiOriginOnly, DEFAULT_API_URL } from "./api-origin.js";
import { useConditionalRequests, type ConditionalCache } from "./conditional.js";
import {
  emptyRateLimitStats,
  graphqlOperationType,
  RateLimitedOctokit,
  type RateLimitOptions,
  type RateLimitStats,
} from "./read-limits.js";

/** Requests sent through one client, for the benchmark's quota figures. */
export interface ClientStats {
  /** HTTP requests actually sent, retries included (each one costs quota). */
  requests: number;
  /** Sum of GraphQL `rateLimit.cost` the answers reported. */
  graphqlPoints?: number;
  /** Conditional requests answered 304 Not Modified (free of rate-limit charge on GitHub). */
  notModified?: number;
  /** What GitHub's rate limits made the client do: waits for resets, pacing, write spacing, retries. */
  rateLimits?: RateLimitStats;
}

/** The octokit Probot hands out (or createGitHubClient builds), optionally counting its requests. */
export type GitHubClient = InstanceType<typeof ProbotOctokit> & { stats?: ClientStats };

export interface GitHubClientOptions {
  token?: string;
  appId?: number | string;
  privateKey?: string;
  installationId?: number;
  /** REST base URL; GITHUB_API_URL for GHES, e.g. "https://ghe.example/api/v3". */
  baseUrl?: string;
  /** Throttling, GitHub's rate limits and retries (on by default; tests turn it off). */
  throttle?: boolean;
  /**
   * When the primary budget is used up: "wait" for the reset and resume (default: an audit), or
   * "fail" at once naming the reset (a pull request check must not hold its webhook for an hour).
   */
  onPrimaryExhausted?: "wait" | "fail";
  /**
   * Longest wait for a primary reset (when waiting) or a secondary limit's retry-after, in seconds:
   * an hour by default when waiting (GitHub's window), a minute when failing fast.
   */
  maxRateLimitWaitSeconds?: number;
  /** Requests in flight at once (default 10; GitHub allows 100), per-minute budgets, write spacing. */
  rateLimits?: Omit<RateLimitOptions, "onPrimaryExhausted" | "maxWaitSeconds" | "stats">;
  /** Where octokit logs (rate-limit waits are warnings); default: octokit's console logger. */
  log?: {
    debug(message: string): void;
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
  };
  /** When given, REST GETs become conditional requests answered from this cache on 304. */
  conditionalCache?: ConditionalCache;
  /** Longest wait for one answer, in milliseconds (default 60 s); then the host counts as unreachable. */
  requestTimeoutMs?: number;
  /**
   * Tries and backoff for a connection that fails (default 2 tries, 750 ms apart: connection.ts);
   * answers, 502s and rate limits included, keep octokit's retry policy.
   */
  connectionRetry?: Pick<GuardedFetchOptions, "attempts" | "backoffMs" | "sleep">;
}

export const DEFAULT_BASE_URL = DEFAULT_API_URL;

/**
 * The client class every GitHub client is made from: GitHub's limits per client (read-limits.ts)
 * and requests only to the configured API's origin (api-origin.ts), whatever an answer links to.
 */
export const GitHubOctokit = RateLimitedOctokit.plugin(apiOriginOnly as never);

export function createGitHubClient(options: GitHubClientOptions = {}): GitHubClient & { stats: ClientStats } {
  const throttle = options.throttle ?? true;
  // Without throttling there are no rate limits to report on.
  const stats: ClientStats = {
    requests: 0,
    graphqlPoints: 0,
    notModified: 0,
    ...(throttle ? { rateLimits: emptyRateLimitStats() } : {}),
  };
  const auth = options.token
    ? { token: options.token }
    : options.appId !== undefined && options.privateKey
      ? { appId: options.appId, privateKey: options.privateKey, installationId: options.installationId }
      : undefined;
  // Counting at fetch level sees every HTTP request, including the ones retries and throttling resend.
  // A 304 Not Modified is not charged to the rate limit by GitHub, so it is counted apart. Every
  // request has a deadline: a connection GitHub leaves hanging fails instead of holding an audit
  // worker for the runtime's five-minute default; a connection that fails gets a few seconds, then
  // the run ends saying the host is unreachable (connection.ts).
  const baseUrl = options.baseUrl ?? DEFAULT_BASE_URL;
  const connected = guardedFetch((input, init) => fetch(input, init), {
    host: "github",
    apiUrl: baseUrl,
    timeoutMs: options.requestTimeoutMs ?? 60_000,
    reads: (method, body) =>
      method === "GET" ||
      method === "HEAD" ||
      (method === "POST" && typeof body === "string" && isGraphqlQuery(body)),
    ...options.connectionRetry,
  });
  const countingFetch: typeof fetch = async (input, init) => {
    const response = await connected(input, init).catch((error: unknown) => {
      throw error instanceof UnreachableError ? unretried(error) : error;
    });
    if (response.status === 304) stats.notModified = (stats.notModified ?? 0) + 1;
    else stats.requests += 1;
    return response;
  };

  // Each client has its own limiter state (read-limits.ts): reads are not spaced a second apart
  // like writes, and one client never waits behind another's requests.
  const octokit: InstanceType<typeof ProbotOctokit> = new GitHubOctokit({
    auth,
    baseUrl,
    request: { fetch: countingFetch },
    retry: { enabled: throttle },
    throttle: { enabled: throttle },
    ...(options.log ? { log: options.log } : {}),
    rateLimits: {
      ...options.rateLimits,
      onPrimaryExhausted: options.onPrimaryExhausted ?? "wait",
      ...(options.maxRateLimitWaitSeconds === undefined
        ? {}
        : { maxWaitSeconds: options.maxRateLimitWaitSeconds }),
      ...(stats.rateLimits ? { stats: stats.rateLimits } : {}),
    },
  });
  const client = Object.assign(octokit, { stats });
  if (options.conditionalCache) {
    const scope = options.installationId
      ? `installation:${options.installationId}`
      : `token:${createHash("sha256")
          .update(options.token ?? "")
          .digest("hex")
          .slice(0, 16)}`;
    useConditionalRequests(client, options.conditionalCache, scope);
  }
  return client;
}

/**
 * @octokit/request passes an error named AbortError through as it is, and octokit's retry plugin
 * retries only the RequestErrors it wraps every other error in (after 1, 4 and 9 s, each request):
 * the connection budget spent in guardedFetch is the whole budget. The error stays an
 * UnreachableError (instanceof), which is what the CLI looks for.
 */
function unretried(error: UnreachableError): UnreachableError {
  Object.defineProperty(error, "name", { value: "AbortError" });
  return error;
}

/** A GraphQL request body that only reads (a query, not a mutation): safe to send again. */
function isGraphqlQuery(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { query?: unknown };
    return typeof parsed.query === "string" && graphqlOperationType(parsed.query) === "query";
  } catch {
    return false;
  }
}

/**
 * GraphQL endpoint for a REST base URL, as octokit computes it: GHES "https://ghe/api/v3" answers
 * GraphQL at "https://ghe/api/graphql"; api.github.com at "https://api.github.com/graphql".
 */
export function graphqlUrl(baseUrl: string): string {
  return baseUrl.replace(/\/api\/v3\/?$/, "/api").replace(/\/$/, "") + "/graphql";
}
