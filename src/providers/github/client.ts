import { createHash } from "node:crypto";
import { ProbotOctokit } from "probot";
import { useConditionalRequests, type ConditionalCache } from "./conditional.js";

/** Requests sent through one client, for the benchmark's quota figures. */
export interface ClientStats {
  /** HTTP requests actually sent, retries included (each one costs quota). */
  requests: number;
  /** Sum of GraphQL `rateLimit.cost` the answers reported. */
  graphqlPoints?: number;
  /** Conditional requests answered 304 Not Modified (free of rate-limit charge on GitHub). */
  notModified?: number;
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
  /** Throttling and retries (on by default; tests turn it off). */
  throttle?: boolean;
  /** Longest wait for a primary rate-limit reset before giving up, in seconds. */
  maxRateLimitWaitSeconds?: number;
  /** When given, REST GETs become conditional requests answered from this cache on 304. */
  conditionalCache?: ConditionalCache;
  /** Longest wait for one answer, in milliseconds (default 60 s); then the request fails and is retried. */
  requestTimeoutMs?: number;
}

export const DEFAULT_BASE_URL = "https://api.github.com";
const SECONDARY_RETRIES = 3;

interface RetryOptions {
  method?: string;
  url?: string;
}
interface Logger {
  warn(message: string): void;
}

export function createGitHubClient(options: GitHubClientOptions = {}): GitHubClient & { stats: ClientStats } {
  const stats: ClientStats = { requests: 0, graphqlPoints: 0, notModified: 0 };
  const maxWait = options.maxRateLimitWaitSeconds ?? 60;
  const throttle = options.throttle ?? true;
  const auth = options.token
    ? { token: options.token }
    : options.appId !== undefined && options.privateKey
      ? { appId: options.appId, privateKey: options.privateKey, installationId: options.installationId }
      : undefined;
  // Counting at fetch level sees every HTTP request, including the ones retries and throttling resend.
  // A 304 Not Modified is not charged to the rate limit by GitHub, so it is counted apart. Every
  // request has a deadline: a connection GitHub leaves hanging fails (and is retried) instead of
  // holding an audit worker for the runtime's five-minute default.
  const timeoutMs = options.requestTimeoutMs ?? 60_000;
  const countingFetch: typeof fetch = async (input, init) => {
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
    const response = await fetch(input, { ...init, signal });
    if (response.status === 304) stats.notModified = (stats.notModified ?? 0) + 1;
    else stats.requests += 1;
    return response;
  };

  const octokit = new ProbotOctokit({
    auth,
    baseUrl: options.baseUrl ?? DEFAULT_BASE_URL,
    request: { fetch: countingFetch },
    retry: { enabled: throttle },
    throttle: {
      enabled: throttle,
      onSecondaryRateLimit: (
        retryAfter: number,
        request: RetryOptions,
        client: { log: Logger },
        retryCount: number,
      ) => {
        client.log.warn(
          `GitHub secondary rate limit on ${request.method} ${request.url}: retry in ${retryAfter}s`,
        );
        return retryCount < SECONDARY_RETRIES;
      },
      onRateLimit: (
        retryAfter: number,
        request: RetryOptions,
        client: { log: Logger },
        retryCount: number,
      ) => {
        // Waiting a long time holds a worker; failing lets the audit report the quota problem instead.
        const wait = retryAfter <= maxWait && retryCount < 1;
        client.log.warn(
          `GitHub rate limit exhausted on ${request.method} ${request.url}: ${wait ? `waiting ${retryAfter}s` : "giving up"}`,
        );
        return wait;
      },
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
 * GraphQL endpoint for a REST base URL, as octokit computes it: GHES "https://ghe/api/v3" answers
 * GraphQL at "https://ghe/api/graphql"; api.github.com at "https://api.github.com/graphql".
 */
export function graphqlUrl(baseUrl: string): string {
  return baseUrl.replace(/\/api\/v3\/?$/, "/api").replace(/\/$/, "") + "/graphql";
}
