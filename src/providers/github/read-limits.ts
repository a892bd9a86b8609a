/**
 * GitHub's documented limits, applied per client instead of octokit's one-second write spacing for
 * everything.
 *
 * @octokit/plugin-throttling sends every GraphQL request, reads included, through its "write"
 * limiter (one at a time, 1 s apart), and its limiters are module-level Bottleneck groups keyed by
 * the client's `throttle.id` (Probot uses the installation id): every client of one installation in
 * the process shares them, so a pull request check waits behind an audit's reads. GitHub's advice
 * of a second between requests is for content-creating requests; its limits for reads are:
 *  - the primary budget: x-ratelimit-limit per hour (5,000 requests for REST and 5,000 points for
 *    GraphQL with a token or installation; more for GitHub Enterprise Cloud apps), reported with
 *    x-ratelimit-remaining / x-ratelimit-used / x-ratelimit-reset per x-ratelimit-resource;
 *  - secondary points per minute to one endpoint: 2,000 for GraphQL, 900 for a REST endpoint (a
 *    query 1 point, a mutation or a REST write 5, a REST read 1);
 *  - at most 100 concurrent requests;
 *  - secondary rate limit answers (403/429) name their wait: retry-after, or x-ratelimit-reset.
 *
 * Each client built here gets its own limiter state: its own throttling groups (so no client waits
 * behind another's requests), GraphQL queries and REST reads skip the write spacing, writes (REST
 * POST/PATCH/PUT/DELETE and GraphQL mutations) keep GitHub's second between them, reads are paced by
 * the points GitHub reports they spent, and an exhausted primary budget is waited out (an audit) or
 * fails at once naming the reset (a pull request check).
 */
import Bottleneck from "bottleneck";
import { ProbotOctokit } from "probot";
import { withJsonAnswers } from "./json-answers.js";

/** What the limits did, for the benchmark's figures. */
export interface RateLimitStats {
  /** Times a request waited for a primary rate-limit reset (before sending, or retried after one). */
  primaryResetWaits: number;
  /** Seconds spent waiting for primary resets. */
  primaryResetWaitSeconds: number;
  /** Requests held back so the points of the last minute stay under GitHub's per-minute budget. */
  pacedRequests: number;
  /** Seconds requests were held back for the per-minute budget. */
  pacedSeconds: number;
  /** Seconds writes waited for the spacing GitHub asks between content-creating requests. */
  writeSpacingSeconds: number;
  /** Secondary rate limit answers retried after the wait they named. */
  secondaryRetries: number;
}

export interface RateLimitOptions {
  /**
   * When the primary budget is used up: "wait" for the reset and resume (an audit), or "fail" at
   * once with an error naming the reset (a pull request check, which must not hold a webhook an hour).
   */
  onPrimaryExhausted?: "wait" | "fail";
  /**
   * Longest wait for a primary reset (in "wait" mode) or a secondary rate limit's retry-after, in
   * seconds. Default: an hour (GitHub's window) when waiting, a minute when failing fast.
   */
  maxWaitSeconds?: number;
  /** Requests in flight at once (default 10; GitHub allows at most 100). */
  maxConcurrentRequests?: number;
  /** GraphQL points per minute (GitHub: 2,000). */
  graphqlPointsPerMinute?: number;
  /** REST points per minute to one endpoint (GitHub: 900; a read 1 point, a write 5). */
  restPointsPerMinute?: number;
  /** Spacing between content-creating requests, in ms (GitHub: at least one second; default 1,050). */
  writeSpacingMs?: number;
  /** The per-minute window, in ms (GitHub's minute; tests shorten it). */
  windowMs?: number;
  /** Secondary rate limit answers retried per request. */
  secondaryRetries?: number;
  /** Where the counts go (createGitHubClient passes its ClientStats). */
  stats?: RateLimitStats;
}

export const GITHUB_MAX_CONCURRENT_REQUESTS = 100;
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 10;
export const GRAPHQL_POINTS_PER_MINUTE = 2000;
export const REST_POINTS_PER_MINUTE = 900;
/** GitHub's second between content-creating requests, and a margin for the jitter on the way there. */
export const WRITE_SPACING_MS = 1050;
const MUTATION_POINTS = 5;
const REST_WRITE_POINTS = 5;
const MINUTE_MS = 60_000;

/** A primary budget used up, when this client does not (or cannot) wait for its reset. */
export class RateLimitExhaustedError extends Error {
  override readonly name = "RateLimitExhaustedError";
  /** The HTTP status when GitHub answered the exhaustion; undefined when the request was not sent. */
  readonly status: number | undefined;
  /** GitHub's answer's headers (rate-limit headers only), for describeFailure and providerError. */
  readonly response: { headers: Record<string, string> } | undefined;
  constructor(
    message: string,
    readonly resource: string,
    readonly resetAt: Date,
    answered?: { status: number; headers: Record<string, string>; cause: unknown },
  ) {
    super(message, answered ? { cause: answered.cause } : undefined);
    this.status = answered?.status;
    this.response = answered ? { headers: answered.headers } : undefined;
  }
}

/** The primary budget of one resource as GitHub last reported it. */
interface Budget {
  limit: number;
  /** Epoch seconds. */
  reset: number;
  /** Highest x-ratelimit-used seen in this window (answers may arrive out of order). */
  used: number;
  remaining: number;
}

interface Logger {
  warn(message: string): void;
}

interface Classified {
  resource: string;
  graphql: boolean;
  write: boolean;
  /** Method and path, without the query string (where a token could hide). */
  label: string;
}

/** The type of a GraphQL document's operation: a mutation anywhere in it makes it a write. */
export function graphqlOperationType(document: string): "query" | "mutation" | "subscription" {
  // Comments and strings may hold any word; only top-level definitions say what the document does.
  const text = document
    .replace(/"""[\s\S]*?"""/g, '""')
    .replace(/"(?:\\.|[^"\\])*"/g, '""')
    .replace(/#[^\n\r]*/g, "");
  let depth = 0;
  let found: "query" | "mutation" | "subscription" = "query";
  const tokens = text.match(/[{}()]|[_A-Za-z][_0-9A-Za-z]*/g) ?? [];
  let parens = 0;
  for (const token of tokens) {
    if (token === "(") parens += 1;
    else if (token === ")") parens -= 1;
    else if (token === "{") depth += 1;
    else if (token === "}") depth -= 1;
    else if (depth === 0 && parens === 0 && (token === "mutation" || token === "subscription")) {
      if (token === "mutation") return "mutation";
      found = token;
    }
  }
  return found;
}

function classify(options: Record<string, unknown>): Classified {
  const method = String(options.method ?? "GET").toUpperCase();
  const url = String(options.url ?? "/");
  // GitHub Enterprise Server serves the REST API under /api/v3 (absolute URLs: pagination, the fetch).
  const pathname = new URL(url, "http://github.test").pathname.replace(/^\/api\/v3(?=\/)/, "");
  const label = `${method} ${url.split("?")[0] ?? url}`;
  if (pathname.endsWith("/graphql")) {
    const data = options.data as { query?: unknown } | undefined;
    const document = typeof options.query === "string" ? options.query : data?.query;
    // An unreadable document is treated as a write: spacing it is safe, skipping it might not be.
    const write = typeof document !== "string" || graphqlOperationType(document) !== "query";
    return { resource: "graphql", graphql: true, write, label };
  }
  const write = method !== "GET" && method !== "HEAD" && !isAuthRequest(method, pathname);
  const resource = pathname.startsWith("/search/code")
    ? "code_search"
    : pathname.startsWith("/search/")
      ? "search"
      : "core";
  return { resource, graphql: false, write, label };
}

/** Token exchanges are not content creation (octokit's throttling plugin exempts them too). */
function isAuthRequest(method: string, pathname: string): boolean {
  return (
    (method === "POST" && /^\/app\/installations\/[^/]+\/access_tokens$/.test(pathname)) ||
    (method === "POST" && /^\/applications\/[^/]+\/token$/.test(pathname)) ||
    (method === "PATCH" && /^\/applications\/[^/]+\/token\/scoped$/.test(pathname)) ||
    pathname === "/login/oauth/access_token"
  );
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Points spent in a sliding window (GitHub's minute). */
class PointsWindow {
  private readonly entries: Array<{ at: number; points: number }> = [];
  private total = 0;
  constructor(
    readonly limit: number,
    private readonly windowMs: number,
  ) {}

  add(at: number, points: number): void {
    if (points <= 0) return;
    this.entries.push({ at, points });
    this.total += points;
  }

  spent(now: number): number {
    while (this.entries.length > 0 && (this.entries[0]?.at ?? now) <= now - this.windowMs) {
      this.total -= this.entries.shift()?.points ?? 0;
    }
    return this.total;
  }

  /** How long until `points` more fit beside `pending` in the window (0: now). */
  waitFor(points: number, pending: number, now: number): number {
    const spent = this.spent(now);
    // A request bigger than the whole budget goes alone, once nothing else counts in the window.
    if (spent === 0 && pending === 0) return 0;
    let over = spent + pending + points - this.limit;
    if (over <= 0) return 0;
    for (const entry of this.entries) {
      over -= entry.points;
      if (over <= 0) return entry.at + this.windowMs - now;
    }
    // More than the window holds is in flight: wait for those answers (the caller retries).
    return this.windowMs;
  }
}

function numberHeader(headers: Headers, name: string): number | undefined {
  const value = headers.get(name);
  if (value === null || value.trim() === "") return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** Every request of one client goes through one of these: its budgets, its windows, its counts. */
export class RateLimiter {
  readonly stats: RateLimitStats;
  mode: "wait" | "fail";
  maxWaitSeconds: number;
  readonly maxConcurrent: number;
  readonly secondaryRetries: number;
  private readonly budgets = new Map<string, Budget>();
  private readonly graphqlWindow: PointsWindow;
  /** REST's per-minute points count per endpoint ("to a single endpoint per minute"). */
  private readonly restWindows = new Map<string, PointsWindow>();
  private readonly restPointsPerMinute: number;
  private readonly inflight = new Map<string, number>();
  private inflightGraphqlPoints = 0;
  /** Points a GraphQL query has been spending, on average (what an unanswered one is expected to cost). */
  private graphqlCostEstimate = 1;
  private lastGraphqlAnswer: { used: number; reset: number; at: number } | undefined;
  private readonly windowMs: number;
  private readonly writes: Bottleneck;
  private listeners: Array<() => void> = [];

  constructor(options: RateLimitOptions = {}) {
    this.mode = options.onPrimaryExhausted ?? "wait";
    this.maxWaitSeconds = options.maxWaitSeconds ?? (this.mode === "wait" ? 3600 : 60);
    this.maxConcurrent = Math.max(
      1,
      Math.min(
        options.maxConcurrentRequests ?? DEFAULT_MAX_CONCURRENT_REQUESTS,
        GITHUB_MAX_CONCURRENT_REQUESTS,
      ),
    );
    this.secondaryRetries = options.secondaryRetries ?? 3;
    const windowMs = options.windowMs ?? MINUTE_MS;
    this.windowMs = windowMs;
    this.graphqlWindow = new PointsWindow(
      options.graphqlPointsPerMinute ?? GRAPHQL_POINTS_PER_MINUTE,
      windowMs,
    );
    this.restPointsPerMinute = options.restPointsPerMinute ?? REST_POINTS_PER_MINUTE;
    // Starts spaced, no slot held: a write waits for its turn to leave, not for the one before to end.
    this.writes = new Bottleneck({
      maxConcurrent: null,
      minTime: options.writeSpacingMs ?? WRITE_SPACING_MS,
    });
    this.stats = options.stats ?? emptyRateLimitStats();
  }

  /**
   * Changes what an exhausted budget does, e.g. for the app's scheduled audit, which gets its
   * client from Probot like the pull request checks do but may wait for a reset.
   */
  configure(options: Pick<RateLimitOptions, "onPrimaryExhausted" | "maxWaitSeconds">): void {
    if (options.onPrimaryExhausted) this.mode = options.onPrimaryExhausted;
    this.maxWaitSeconds = options.maxWaitSeconds ?? (this.mode === "wait" ? 3600 : 60);
  }

  /** The last primary budget GitHub reported for a resource ("core", "graphql", "search"...). */
  budget(resource: string): Readonly<Budget> | undefined {
    return this.budgets.get(resource);
  }

  /**
   * Reads the rate-limit headers of every answer (retries included): the budget of its resource.
   */
  observe(url: string, method: string, response: Response): void {
    if (response.status === 304) return;
    const headers = response.headers;
    const pathname = new URL(url, "http://github.test").pathname;
    const resource =
      headers.get("x-ratelimit-resource") ?? classify({ method, url: pathname, query: "" }).resource;
    const limit = numberHeader(headers, "x-ratelimit-limit");
    const reset = numberHeader(headers, "x-ratelimit-reset");
    const remaining = numberHeader(headers, "x-ratelimit-remaining");
    const used = numberHeader(headers, "x-ratelimit-used");
    if (limit !== undefined && reset !== undefined && remaining !== undefined) {
      const previous = this.budgets.get(resource);
      const sameWindow = previous !== undefined && previous.reset === reset;
      const usedNow = used ?? limit - remaining;
      this.budgets.set(resource, {
        limit,
        reset,
        // Answers may arrive out of order: the most used and the least remaining are the latest.
        used: sameWindow ? Math.max(previous.used, usedNow) : usedNow,
        remaining: sameWindow ? Math.min(previous.remaining, remaining) : remaining,
      });
    }
  }

  /**
   * Counts an answered GraphQL request against the per-minute budget, by the points it spent: its
   * `rateLimit { cost }` when the query asked for it (every query of this provider does), otherwise
   * the rise of x-ratelimit-used since this client's previous answer, when that was within the
   * window (else the rise includes what others spent long ago, and 1 point is counted). A mutation
   * counts at least GitHub's 5 secondary points, a query at least 1.
   */
  charge(request: Classified, response: unknown): void {
    if (!request.graphql) return;
    const answer = response as { headers?: Record<string, unknown>; data?: unknown } | undefined;
    const reported = (answer?.data as { data?: { rateLimit?: { cost?: unknown } } } | undefined)?.data
      ?.rateLimit?.cost;
    const now = Date.now();
    const used = Number(answer?.headers?.["x-ratelimit-used"]);
    const reset = Number(answer?.headers?.["x-ratelimit-reset"]);
    let spent: number | undefined = typeof reported === "number" && reported >= 0 ? reported : undefined;
    if (Number.isFinite(used) && Number.isFinite(reset)) {
      const last = this.lastGraphqlAnswer;
      if (
        spent === undefined &&
        last &&
        last.reset === reset &&
        now - last.at < this.windowMs &&
        used >= last.used
      ) {
        spent = used - last.used;
      }
      if (!last || last.reset !== reset || used >= last.used)
        this.lastGraphqlAnswer = { used, reset, at: now };
    }
    if (spent !== undefined && spent > 0) {
      this.graphqlCostEstimate = this.graphqlCostEstimate * 0.8 + spent * 0.2;
    }
    this.graphqlWindow.add(now, Math.max(spent ?? 1, request.write ? MUTATION_POINTS : 1));
  }

  /**
   * Spaces content-creating requests as they leave (retries included), a second apart; reads pass.
   * Done at the fetch, not in a hook, so the spacing is what GitHub sees.
   */
  async beforeSend(url: string, method: string, body: unknown): Promise<void> {
    const pathname = new URL(url, "http://github.test").pathname;
    const write = pathname.endsWith("/graphql")
      ? !(typeof body === "string" && isQueryBody(body))
      : classify({ method, url: pathname }).write;
    if (!write) return;
    const queued = Date.now();
    await this.writes.schedule(() => Promise.resolve());
    const waited = Date.now() - queued;
    this.stats.writeSpacingSeconds += waited / 1000;
  }

  /** Holds a request until GitHub's limits let it go; returns what to call when it is answered. */
  async admit(request: Classified): Promise<() => void> {
    const cost = request.graphql ? Math.max(1, Math.round(this.graphqlCostEstimate)) : 1;
    const minutePoints = request.graphql
      ? Math.max(cost, request.write ? MUTATION_POINTS : 1)
      : request.write
        ? REST_WRITE_POINTS
        : 1;
    const window = request.graphql
      ? this.graphqlWindow
      : request.resource === "core"
        ? this.restWindow(request.label)
        : null;
    let pacedSince: number | undefined;
    for (;;) {
      const now = Date.now();
      const budget = this.budgets.get(request.resource);
      const inflight = this.inflight.get(request.resource) ?? 0;
      if (budget && now < budget.reset * 1000 && budget.remaining - inflight < cost) {
        if (budget.remaining >= cost && inflight > 0) {
          // What is in flight may leave enough: its answers will say.
          await this.changed(budget.reset * 1000 + 1000 - now);
          continue;
        }
        await this.awaitReset(request, budget);
        continue;
      }
      // A GraphQL query's points are known from its answer (counted in flight until then); a REST
      // request's are known before it leaves and count at once.
      const pending = request.graphql ? this.inflightGraphqlPoints : 0;
      const wait = window ? window.waitFor(minutePoints, pending, now) : 0;
      if (wait > 0) {
        pacedSince ??= now;
        await this.changed(wait);
        continue;
      }
      break;
    }
    if (pacedSince !== undefined) {
      this.stats.pacedRequests += 1;
      this.stats.pacedSeconds += (Date.now() - pacedSince) / 1000;
    }
    this.inflight.set(request.resource, (this.inflight.get(request.resource) ?? 0) + cost);
    if (request.graphql) this.inflightGraphqlPoints += minutePoints;
    else window?.add(Date.now(), minutePoints);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inflight.set(request.resource, (this.inflight.get(request.resource) ?? cost) - cost);
      if (request.graphql) this.inflightGraphqlPoints -= minutePoints;
      this.notify();
    };
  }

  private restWindow(endpoint: string): PointsWindow {
    let window = this.restWindows.get(endpoint);
    if (!window) {
      window = new PointsWindow(this.restPointsPerMinute, this.windowMs);
      this.restWindows.set(endpoint, window);
    }
    return window;
  }

  /** The throttling plugin's onRateLimit: GitHub answered a request with the budget used up. */
  shouldRetryAfterReset(
    retryAfterSeconds: number,
    request: { method?: string; url?: string },
    log: Logger,
  ): boolean {
    const label = `${request.method ?? "?"} ${(request.url ?? "?").split("?")[0]}`;
    if (this.mode === "fail" || retryAfterSeconds > this.maxWaitSeconds) {
      log.warn(`GitHub rate limit exhausted on ${label}: not waiting ${retryAfterSeconds}s for the reset`);
      return false;
    }
    log.warn(`GitHub rate limit exhausted on ${label}: waiting ${retryAfterSeconds}s for the reset`);
    this.stats.primaryResetWaits += 1;
    this.stats.primaryResetWaitSeconds += retryAfterSeconds;
    return true;
  }

  /** The throttling plugin's onSecondaryRateLimit: retried after the wait GitHub named, a few times. */
  shouldRetrySecondary(
    retryAfterSeconds: number,
    request: { method?: string; url?: string },
    retryCount: number,
    log: Logger,
  ): boolean {
    const label = `${request.method ?? "?"} ${(request.url ?? "?").split("?")[0]}`;
    const retry = retryCount < this.secondaryRetries && retryAfterSeconds <= this.maxWaitSeconds;
    log.warn(
      `GitHub secondary rate limit on ${label}: ${retry ? `retry in ${retryAfterSeconds}s` : "giving up"}`,
    );
    if (retry) this.stats.secondaryRetries += 1;
    return retry;
  }

  /** A request that failed because the budget is used up becomes an error naming the reset. */
  explain(error: unknown, request: Classified): unknown {
    if (error instanceof RateLimitExhaustedError || typeof error !== "object" || error === null) return error;
    const e = error as { status?: unknown; response?: { headers?: Record<string, unknown>; data?: unknown } };
    const headers = e.response?.headers ?? {};
    const rateLimited =
      ((e.status === 403 || e.status === 429) && headers["x-ratelimit-remaining"] === "0") ||
      isRateLimitedGraphql(e.response?.data);
    if (!rateLimited) return error;
    const reset = Number(headers["x-ratelimit-reset"]);
    const resetAt = new Date(Number.isFinite(reset) && reset > 0 ? reset * 1000 : Date.now());
    const resource =
      typeof headers["x-ratelimit-resource"] === "string"
        ? headers["x-ratelimit-resource"]
        : request.resource;
    const kept: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith("x-ratelimit-") || name === "retry-after") kept[name] = String(value);
    }
    kept["x-ratelimit-remaining"] = "0";
    return new RateLimitExhaustedError(
      `GitHub's ${resource} rate limit is used up until ${resetAt.toISOString()}: ${request.label} failed ` +
        (this.mode === "fail"
          ? "(this client does not wait for the reset)"
          : `(still used up after waiting, or the reset is further away than this client's longest wait, ${this.maxWaitSeconds}s)`),
      resource,
      resetAt,
      { status: typeof e.status === "number" ? e.status : 403, headers: kept, cause: error },
    );
  }

  private async awaitReset(request: Classified, budget: Budget): Promise<void> {
    const resetAt = new Date(budget.reset * 1000);
    // GitHub asks to retry after the reset time, not at it.
    const waitMs = budget.reset * 1000 + 1000 - Date.now();
    if (this.mode === "fail" || waitMs > this.maxWaitSeconds * 1000) {
      throw new RateLimitExhaustedError(
        `GitHub's ${request.resource} rate limit (${budget.limit} per hour) is used up until ` +
          `${resetAt.toISOString()}: ${request.label} was not sent ` +
          (this.mode === "fail"
            ? "(this client does not wait for the reset)"
            : `(the reset is ${Math.ceil(waitMs / 1000)}s away, longer than this client's longest wait, ${this.maxWaitSeconds}s)`),
        request.resource,
        resetAt,
      );
    }
    this.stats.primaryResetWaits += 1;
    this.stats.primaryResetWaitSeconds += waitMs / 1000;
    await sleep(waitMs);
    // The window has turned: what the next answer reports replaces the old budget.
    const current = this.budgets.get(request.resource);
    if (current && current.reset === budget.reset) this.budgets.delete(request.resource);
  }

  /** Resolves when an in-flight request is answered, or after `ms`. */
  private changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(1, ms));
      const listener = () => done();
      this.listeners.push(listener);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private notify(): void {
    const listeners = this.listeners;
    this.listeners = [];
    for (const listener of listeners) listener();
  }
}

/** A GraphQL request body whose document is a query (an unreadable one is not). */
function isQueryBody(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { query?: unknown };
    return typeof parsed.query === "string" && graphqlOperationType(parsed.query) === "query";
  } catch {
    return false;
  }
}

function isRateLimitedGraphql(data: unknown): boolean {
  const errors = (data as { errors?: unknown } | undefined)?.errors;
  return (
    Array.isArray(errors) && errors.some((e) => (e as { type?: unknown } | null)?.type === "RATE_LIMITED")
  );
}

export function emptyRateLimitStats(): RateLimitStats {
  return {
    primaryResetWaits: 0,
    primaryResetWaitSeconds: 0,
    pacedRequests: 0,
    pacedSeconds: 0,
    writeSpacingSeconds: 0,
    secondaryRetries: 0,
  };
}

const LIMITER = Symbol("soc2-bot rate limiter");
const BASE_FETCH = Symbol("soc2-bot base fetch");
type ObservingFetch = typeof fetch & { [BASE_FETCH]?: typeof fetch };

interface LimitedOctokitOptions {
  [LIMITER]?: RateLimiter;
  rateLimits?: RateLimitOptions;
  request?: { fetch?: ObservingFetch } & Record<string, unknown>;
  throttle?: Record<string, unknown>;
}

/**
 * The options of one client: a fresh RateLimiter, the throttling plugin's groups for this client
 * alone (no spacing in its write group: writes are spaced by the limiter, which knows a mutation
 * from a query), its rate-limit handlers, and a fetch that reads every answer's rate-limit headers.
 */
function withRateLimits(options: LimitedOctokitOptions): LimitedOctokitOptions {
  // Probot builds an installation's client from the options of the app's client: observe with the
  // original fetch, not through the app's limiter. Answers are parsed with JSON.parse (json-answers.ts).
  const given = options.request?.fetch;
  const request = withJsonAnswers(
    options.request,
    given?.[BASE_FETCH] ?? given ?? ((input, init) => fetch(input, init)),
  );
  if (options.throttle?.enabled === false) return { ...options, request, [LIMITER]: undefined };
  const limiter = new RateLimiter(options.rateLimits);
  const base = request.fetch;
  const observing: ObservingFetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    await limiter.beforeSend(url, init?.method ?? "GET", init?.body);
    const response = await base(input, init);
    limiter.observe(url, init?.method ?? "GET", response);
    return response;
  };
  observing[BASE_FETCH] = base;
  return {
    ...options,
    [LIMITER]: limiter,
    request: { ...request, fetch: observing },
    throttle: {
      ...options.throttle,
      global: new Bottleneck.Group({ maxConcurrent: limiter.maxConcurrent }),
      auth: new Bottleneck.Group({ maxConcurrent: 1 }),
      write: new Bottleneck.Group({ maxConcurrent: null }),
      // GitHub's search and notification-triggering limits, as the plugin spaces them, per client.
      search: new Bottleneck.Group({ maxConcurrent: 1, minTime: 2000 }),
      notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: 3000 }),
      onRateLimit: (
        retryAfter: number,
        request: { method?: string; url?: string },
        octokit: { log: Logger },
        retryCount: number,
      ) => retryCount < 2 && limiter.shouldRetryAfterReset(retryAfter, request, octokit.log),
      onSecondaryRateLimit: (
        retryAfter: number,
        request: { method?: string; url?: string },
        octokit: { log: Logger },
        retryCount: number,
      ) => limiter.shouldRetrySecondary(retryAfter, request, retryCount, octokit.log),
    },
  };
}

/** The Octokit plugin half: admits every request through the client's limiter (outermost hook). */
function rateLimits(
  octokit: {
    hook: {
      wrap: (
        name: "request",
        hook: (
          request: (o: unknown) => Promise<unknown>,
          options: Record<string, unknown>,
        ) => Promise<unknown>,
      ) => void;
    };
  },
  options: LimitedOctokitOptions,
): { rateLimiter?: RateLimiter } {
  const limiter = options[LIMITER];
  if (!limiter) return {};
  octokit.hook.wrap("request", async (request, requestOptions) => {
    const classified = classify(requestOptions);
    const release = await limiter.admit(classified);
    try {
      const response = await request(requestOptions);
      limiter.charge(classified, response);
      return response;
    } catch (error) {
      throw limiter.explain(error, classified);
    } finally {
      release();
    }
  });
  return { rateLimiter: limiter };
}

/**
 * ProbotOctokit with GitHub's documented limits per client (see the top of this file). Pass it to
 * Probot (`run(app, { Octokit: RateLimitedOctokit })`) so each installation client Probot makes has
 * its own limits; `rateLimits` options choose what an exhausted budget does (default: wait).
 */
export const RateLimitedOctokit = ProbotOctokit.plugin(rateLimits as never).defaults(
  (options: LimitedOctokitOptions) => withRateLimits(options),
);

/** The limiter of a client built by RateLimitedOctokit or createGitHubClient, if it has one. */
export function rateLimiterOf(octokit: unknown): RateLimiter | undefined {
  const limiter = (octokit as { rateLimiter?: unknown } | null)?.rateLimiter;
  return limiter instanceof RateLimiter ? limiter : undefined;
}
