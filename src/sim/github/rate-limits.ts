/**
 * GitHub's documented rate limits, per token, as the simulated GitHub enforces them:
 * - primary: REST requests and GraphQL points per hour, each in its own window that starts with
 *   the first charged request and resets an hour later (x-ratelimit-* headers on every answer);
 * - secondary: GraphQL "secondary points" per minute (1 per query, 5 per mutation: a separate
 *   count from the primary point cost) and concurrent requests (REST and GraphQL together).
 * Sources: docs.github.com "Rate limits for the REST API" and "Rate limits and query limits for the
 * GraphQL API" (primary limits; "About secondary rate limits"; "Exceeding the rate limit").
 * Not simulated: the REST 900 points per minute per endpoint, the CPU-time and content-creation
 * secondary limits, and the per-repository/per-user scaling of non-Enterprise installations (which
 * only raises the budget, so 5,000 is the floor every installation gets).
 */

export interface RateLimitOptions {
  /** REST requests per hour per token (GitHub App installation: 5,000). */
  restPerHour?: number;
  /** GraphQL points per hour per token (GitHub App installation: 5,000). */
  graphqlPointsPerHour?: number;
  /** GraphQL secondary points per minute (1 per query, 5 per mutation): 2,000. */
  graphqlSecondaryPointsPerMinute?: number;
  /** Requests in flight at once per token, REST and GraphQL together: 100. */
  concurrentRequests?: number;
  /**
   * A GitHub App installation on a GitHub Enterprise Cloud organization: 15,000 REST requests and
   * 10,000 GraphQL points per hour (unless given explicitly above).
   */
  enterpriseCloud?: boolean;
}

export interface RateLimits {
  restPerHour: number;
  graphqlPointsPerHour: number;
  graphqlSecondaryPointsPerMinute: number;
  concurrentRequests: number;
}

/** A GitHub App installation (not on Enterprise Cloud), and a personal access token. */
export const GITHUB_RATE_LIMITS: RateLimits = {
  restPerHour: 5000,
  graphqlPointsPerHour: 5000,
  graphqlSecondaryPointsPerMinute: 2000,
  concurrentRequests: 100,
};

/** "If the installation is on a GitHub Enterprise Cloud organization": REST 15,000, GraphQL 10,000. */
export const ENTERPRISE_CLOUD_RATE_LIMITS: RateLimits = {
  ...GITHUB_RATE_LIMITS,
  restPerHour: 15_000,
  graphqlPointsPerHour: 10_000,
};

/** No limit at all (tests that exercise something else). */
export const NO_RATE_LIMITS: RateLimits = {
  restPerHour: Number.MAX_SAFE_INTEGER,
  graphqlPointsPerHour: Number.MAX_SAFE_INTEGER,
  graphqlSecondaryPointsPerMinute: Number.MAX_SAFE_INTEGER,
  concurrentRequests: Number.MAX_SAFE_INTEGER,
};

export function resolveRateLimits(options: RateLimitOptions | false | undefined): RateLimits {
  if (options === false) return NO_RATE_LIMITS;
  const base = options?.enterpriseCloud ? ENTERPRISE_CLOUD_RATE_LIMITS : GITHUB_RATE_LIMITS;
  return {
    restPerHour: options?.restPerHour ?? base.restPerHour,
    graphqlPointsPerHour: options?.graphqlPointsPerHour ?? base.graphqlPointsPerHour,
    graphqlSecondaryPointsPerMinute:
      options?.graphqlSecondaryPointsPerMinute ?? base.graphqlSecondaryPointsPerMinute,
    concurrentRequests: options?.concurrentRequests ?? base.concurrentRequests,
  };
}

export type Resource = "core" | "graphql";

interface Window {
  /** Milliseconds since the epoch at which the window resets. */
  resetAt: number;
  used: number;
}

interface TokenState {
  primary: Record<Resource, Window | undefined>;
  minute: Window | undefined;
  inFlight: number;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

export interface PrimaryStatus {
  limit: number;
  used: number;
  remaining: number;
  /** UTC epoch seconds, as x-ratelimit-reset. */
  reset: number;
}

/** Per-token budgets on a clock that moves (Date.now, or a clock a test advances). */
export class RateLimiter {
  private readonly tokens = new Map<string, TokenState>();

  constructor(
    readonly limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  private state(token: string): TokenState {
    let state = this.tokens.get(token);
    if (!state) {
      state = { primary: { core: undefined, graphql: undefined }, minute: undefined, inFlight: 0 };
      this.tokens.set(token, state);
    }
    return state;
  }

  /** The current window of a resource: a new one when none was opened or the last has reset. */
  private window(token: string, resource: Resource): Window {
    const state = this.state(token);
    const current = state.primary[resource];
    const now = this.now();
    if (current && now < current.resetAt) return current;
    const fresh = { resetAt: now + HOUR_MS, used: 0 };
    state.primary[resource] = fresh;
    return fresh;
  }

  limitOf(resource: Resource): number {
    return resource === "core" ? this.limits.restPerHour : this.limits.graphqlPointsPerHour;
  }

  primary(token: string, resource: Resource): PrimaryStatus {
    const window = this.window(token, resource);
    const limit = this.limitOf(resource);
    return {
      limit,
      used: window.used,
      remaining: Math.max(0, limit - window.used),
      reset: Math.ceil(window.resetAt / 1000),
    };
  }

  /** Whether `cost` more fits in the hour (a GraphQL query costing more than what remains is refused). */
  fits(token: string, resource: Resource, cost: number): boolean {
    return this.window(token, resource).used + cost <= this.limitOf(resource);
  }

  charge(token: string, resource: Resource, cost: number): void {
    this.window(token, resource).used += cost;
  }

  headers(token: string, resource: Resource): Record<string, string> {
    const status = this.primary(token, resource);
    return {
      "x-ratelimit-limit": String(status.limit),
      "x-ratelimit-remaining": String(status.remaining),
      "x-ratelimit-reset": String(status.reset),
      "x-ratelimit-used": String(status.used),
      "x-ratelimit-resource": resource,
    };
  }

  /**
   * Charges a GraphQL request's secondary points to the minute; when the minute's 2,000 would be
   * exceeded, answers the seconds until the minute ends (the request is refused and not charged).
   */
  secondaryPoints(token: string, points: number): { ok: true } | { ok: false; retryAfter: number } {
    const state = this.state(token);
    const now = this.now();
    if (!state.minute || now >= state.minute.resetAt) state.minute = { resetAt: now + MINUTE_MS, used: 0 };
    if (state.minute.used + points > this.limits.graphqlSecondaryPointsPerMinute)
      return { ok: false, retryAfter: Math.max(1, Math.ceil((state.minute.resetAt - now) / 1000)) };
    state.minute.used += points;
    return { ok: true };
  }

  /** A request starts; false when it would be one more than the concurrent requests allowed. */
  enter(token: string): boolean {
    const state = this.state(token);
    if (state.inFlight >= this.limits.concurrentRequests) return false;
    state.inFlight += 1;
    return true;
  }

  leave(token: string): void {
    const state = this.state(token);
    state.inFlight = Math.max(0, state.inFlight - 1);
  }

  /** GET /rate_limit's body for a token. */
  body(token: string): unknown {
    const entry = (resource: Resource) => this.primary(token, resource);
    const search = { limit: 30, used: 0, remaining: 30, reset: Math.ceil((this.now() + MINUTE_MS) / 1000) };
    return { resources: { core: entry("core"), graphql: entry("graphql"), search }, rate: entry("core") };
  }
}

/** The token a request is charged to: its Authorization header's credential ("" without one). */
export function tokenOf(authorization: string | undefined): string {
  if (!authorization) return "";
  return authorization.replace(/^(token|bearer|basic)\s+/i, "");
}
