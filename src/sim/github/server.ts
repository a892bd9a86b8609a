/**
 * The simulated GitHub: REST and GraphQL over a World on 127.0.0.1, with GitHub's pagination,
 * conditional requests, primary and secondary rate limits, and seeded faults, so the provider and
 * the benchmarks meet the behaviour they will meet in production without leaving the machine.
 */
import { createHash, createHmac, randomUUID } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { RouteError, type Route, type RouteAnswer } from "./rest-common.js";
import { ROUTES } from "./rest-routes.js";
import { Kind, parse, type DocumentNode } from "graphql";
import { queryCost, runGraphQL } from "./graphql.js";
import {
  RateLimiter,
  resolveRateLimits,
  tokenOf,
  type RateLimitOptions,
  type Resource,
} from "./rate-limits.js";
import type { World } from "./world.js";

export interface SimulatedGitHubOptions {
  world: World;
  latencyMs?: number;
  faults?: {
    /** Share of requests answered by one of FAULTS instead (nothing applied). */
    rate?: number;
    secondaryRateLimitEvery?: number;
    timeoutMs?: number;
    /** "Write applied, answer lost": see LostAnswerFaults. */
    lostAnswers?: LostAnswerFaults;
  };
  /**
   * GitHub's documented rate limits per token (src/sim/github/rate-limits.ts), on by default: 5,000 REST
   * requests and 5,000 GraphQL points per hour, 2,000 GraphQL secondary points per minute, 100
   * concurrent requests; `enterpriseCloud` for an Enterprise Cloud installation's budget. `false`:
   * none (tests that exercise something else say so explicitly).
   */
  rateLimits?: RateLimitOptions | false;
  /** Requests (REST) and points (GraphQL) per hour, overriding rateLimits' hourly budgets. */
  primaryLimit?: number;
  /**
   * Milliseconds since the epoch (default Date.now): the rate-limit windows reset on it, so a test
   * can run an hour in an instant by advancing it.
   */
  clock?: () => number;
  seed?: number;
  /**
   * Serve as GitHub Enterprise Server of this version: every answer carries
   * X-GitHub-Enterprise-Version, and the endpoints GHES lacks answer 404.
   */
  enterpriseVersion?: string;
  /**
   * Says in a Server-Timing header of every answer where the simulator's own time went: `recv` from
   * the request's arrival to its body read, `late` how much later than the configured latency the
   * answer was resumed (this process's event loop busy with other requests), `exec` the time spent
   * executing it. The benchmark subtracts what a host answering in parallel would not have made it wait.
   */
  serverTiming?: boolean;
}

/**
 * A write GitHub applies and whose answer then never reaches the client: the route runs (the issue,
 * comment or check run exists), then the connection is reset or a proxy in front answers 502. The
 * client cannot tell it from a write that was not applied, so it must look before writing again.
 */
export interface LostAnswerFaults {
  /**
   * Share (0..1) of matching writes whose answer is lost: exactly that share, spread evenly (one write
   * in five at 0.2, the first at a seeded offset), so a run of a few dozen writes loses what it says.
   */
  rate: number;
  /** The route keys it applies to ("POST /repos/{owner}/{repo}/check-runs"); default: every non-GET route. */
  routes?: readonly string[];
  /** How the answer is lost (default both, chosen at random): a 502, or the connection reset. */
  kinds?: readonly LostAnswerKind[];
  /** Told of each lost answer, after the write was applied (a harness counting what was written). */
  onLost?: (lost: LostAnswer) => void;
}

export type LostAnswerKind = "502" | "reset";

export interface LostAnswer {
  kind: LostAnswerKind;
  /** The route key, "METHOD /path/{template}". */
  route: string;
  params: Record<string, string>;
  /** The request's parsed JSON body and the status and body GitHub would have answered. */
  request: Record<string, unknown>;
  status: number;
  answer: unknown;
}

/** Routes api.github.com has and GitHub Enterprise Server does not (its OpenAPI description). */
const NOT_ON_ENTERPRISE_SERVER: ReadonlySet<string> = new Set(["GET /orgs/{org}/invitations"]);

export interface SimulatedGitHubStats {
  requests: number;
  byRoute: Record<string, number>;
  graphqlPoints: number;
  notModified: number;
  /** Faults injected by kind ("500", "timeout", "answer-lost-502", "answer-lost-reset", ...). */
  faults: Record<string, number>;
  /** Answers refused by a rate limit, by kind: "primary", "secondary-points", "concurrency". */
  rateLimited: Record<string, number>;
  /** Seconds those answers told the client to wait (retry-after, or until x-ratelimit-reset). */
  rateLimitWaitSeconds: number;
  /** Charged REST requests and GraphQL points per token. */
  charged: Record<string, { core: number; graphql: number }>;
}

export interface SimulatedGitHub {
  url: string;
  graphqlUrl: string;
  stats: SimulatedGitHubStats;
  close(): Promise<void>;
  deliverWebhook(
    appUrl: string,
    event: string,
    payload: unknown,
    secret: string,
  ): Promise<{ status: number; body: string }>;
}

const DOCS = "https://docs.github.com/rest";
const SECONDARY_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.";
const FAULTS = ["500", "502", "truncated-body", "timeout"] as const;

/** Where one request's time went inside the simulator (performance.now() milliseconds). */
interface RequestTiming {
  arrived: number;
  bodyRead: number;
  late: number;
  execStart?: number;
}

/** mulberry32: a tiny seeded PRNG, so a fault schedule can be replayed exactly. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function compile(route: Route): { route: Route; pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = route.path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    names.push(name);
    return name === "path" ? "(.+)" : "([^/]+)";
  });
  return { route, pattern: new RegExp(`^${source}$`), names };
}

export function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== "127.0.0.1" && host !== "localhost" && host !== "[::1]")
    throw new Error(`the simulated GitHub only talks to loopback, not ${host}`);
}

export async function startSimulatedGitHub(options: SimulatedGitHubOptions): Promise<SimulatedGitHub> {
  const { world } = options;
  const random = seededRandom(options.seed ?? 1);
  // Its own schedule: turning lost answers on leaves the other faults' schedule as it was.
  const lostRandom = seededRandom((options.seed ?? 1) ^ 0x5eed);
  let lostCredit = lostRandom();
  const lost = options.faults?.lostAnswers;
  const lostRoutes = lost?.routes ? new Set(lost.routes) : null;
  const clock = options.clock ?? Date.now;
  const resolved = resolveRateLimits(options.rateLimits);
  const limiter = new RateLimiter(
    options.primaryLimit === undefined
      ? resolved
      : { ...resolved, restPerHour: options.primaryLimit, graphqlPointsPerHour: options.primaryLimit },
    clock,
  );
  const stats: SimulatedGitHubStats = {
    requests: 0,
    byRoute: {},
    graphqlPoints: 0,
    notModified: 0,
    faults: {},
    rateLimited: {},
    rateLimitWaitSeconds: 0,
    charged: {},
  };
  const routes = ROUTES.map(compile);
  let base = "";
  const charge = (token: string, resource: Resource, cost: number) => {
    limiter.charge(token, resource, cost);
    const entry = (stats.charged[token || "(none)"] ??= { core: 0, graphql: 0 });
    entry[resource] += cost;
  };
  const limited = (kind: string, waitSeconds: number) => {
    stats.rateLimited[kind] = (stats.rateLimited[kind] ?? 0) + 1;
    stats.rateLimitWaitSeconds += waitSeconds;
  };

  const timings = new WeakMap<ServerResponse, RequestTiming>();
  const timingHeader = (res: ServerResponse): Record<string, string> => {
    const timing = timings.get(res);
    if (!timing) return {};
    const now = performance.now();
    const exec = timing.execStart === undefined ? 0 : now - timing.execStart;
    return {
      "server-timing": `recv;dur=${(timing.bodyRead - timing.arrived).toFixed(1)}, late;dur=${timing.late.toFixed(1)}, exec;dur=${exec.toFixed(1)}`,
    };
  };
  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string>) => {
    const text = body === undefined ? "" : JSON.stringify(body);
    res.writeHead(status, {
      ...timingHeader(res),
      "content-type": "application/json; charset=utf-8",
      "x-github-request-id": randomUUID(),
      ...(options.enterpriseVersion ? { "x-github-enterprise-version": options.enterpriseVersion } : {}),
      ...headers,
    });
    res.end(text);
  };
  const error = (
    res: ServerResponse,
    status: number,
    message: string,
    headers: Record<string, string>,
    documentationUrl = DOCS,
  ) => send(res, status, { message, documentation_url: documentationUrl, status: String(status) }, headers);

  async function handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    stats.requests += 1;
    const token = tokenOf(req.headers.authorization);
    const url = new URL(req.url ?? "/", base);
    const method = req.method ?? "GET";
    const isGraphql = url.pathname === "/graphql";
    const resource: Resource = isGraphql ? "graphql" : "core";
    const rateHeaders = (r: Resource) => limiter.headers(token, r);
    // Counted from arrival to the answer, latency included: what GitHub sees in flight.
    if (!limiter.enter(token)) {
      limited("concurrency", 60);
      return error(
        res,
        403,
        SECONDARY_MESSAGE,
        { ...rateHeaders(resource), "retry-after": "60" },
        `${DOCS}/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
      );
    }
    res.on("close", () => limiter.leave(token));
    if (options.latencyMs) {
      const asleep = performance.now();
      await new Promise((r) => setTimeout(r, options.latencyMs));
      const timing = timings.get(res);
      if (timing) {
        timing.late = Math.max(0, performance.now() - asleep - options.latencyMs);
        timing.execStart = performance.now();
      }
    } else {
      const timing = timings.get(res);
      if (timing) timing.execStart = performance.now();
    }
    const every = options.faults?.secondaryRateLimitEvery;
    if (every && stats.requests % every === 0) {
      stats.faults["secondary-rate-limit"] = (stats.faults["secondary-rate-limit"] ?? 0) + 1;
      return error(
        res,
        403,
        SECONDARY_MESSAGE,
        { ...rateHeaders(resource), "retry-after": "1" },
        `${DOCS}/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
      );
    }
    if (options.faults?.rate && options.faults.rate > 0 && random() < options.faults.rate) {
      const fault = FAULTS[Math.floor(random() * FAULTS.length)] ?? "500";
      stats.faults[fault] = (stats.faults[fault] ?? 0) + 1;
      if (fault === "500" || fault === "502")
        return error(
          res,
          Number(fault),
          fault === "500" ? "Server Error" : "Bad Gateway",
          rateHeaders(resource),
        );
      if (fault === "truncated-body") {
        res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": "4096" });
        res.write('{"truncated":');
        res.destroy();
        return;
      }
      // A timeout: hold the request until the client gives up (or the server closes).
      setTimeout(() => res.destroy(), options.faults.timeoutMs ?? 10_000).unref();
      return;
    }
    const exhausted = () => {
      const reset = limiter.primary(token, resource).reset;
      limited("primary", Math.max(0, reset - Math.floor(clock() / 1000)));
    };
    if (!isGraphql && !limiter.fits(token, "core", 1) && url.pathname !== "/rate_limit") {
      exhausted();
      return error(
        res,
        403,
        `API rate limit exceeded for installation. If you reach out to GitHub Support for help, please include the request ID.`,
        rateHeaders(resource),
        `${DOCS}/using-the-rest-api/rate-limits-for-the-rest-api#about-the-primary-rate-limit`,
      );
    }
    if (isGraphql && method === "POST") {
      stats.byRoute["POST /graphql"] = (stats.byRoute["POST /graphql"] ?? 0) + 1;
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(body || "{}") as Record<string, unknown>;
      } catch {
        return error(res, 400, "Problems parsing JSON", rateHeaders(resource));
      }
      const planned = plannedGraphQL(parsed);
      // GraphQL's primary limit answers 200 with a RATE_LIMITED error and x-ratelimit-remaining 0
      // ("Exceeding the rate limit", GraphQL API docs); a query costing more than what remains is
      // refused whole.
      if (!limiter.fits(token, "graphql", planned.cost)) {
        exhausted();
        return send(
          res,
          200,
          {
            errors: [
              {
                type: "RATE_LIMITED",
                code: "graphql_rate_limit",
                message: "API rate limit already exceeded for installation.",
              },
            ],
          },
          { ...rateHeaders(resource), "x-ratelimit-remaining": "0" },
        );
      }
      const minute = limiter.secondaryPoints(token, planned.mutation ? 5 : 1);
      if (!minute.ok) {
        limited("secondary-points", minute.retryAfter);
        return error(
          res,
          403,
          SECONDARY_MESSAGE,
          { ...rateHeaders(resource), "retry-after": String(minute.retryAfter) },
          `${DOCS}/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits`,
        );
      }
      const before = limiter.primary(token, "graphql");
      const answer = runGraphQL(world, parsed, (cost) => ({
        cost,
        limit: before.limit,
        remaining: Math.max(0, before.remaining - cost),
        used: before.used + cost,
        resetAt: new Date(before.reset * 1000).toISOString(),
        nodeCount: 0,
      }));
      charge(token, "graphql", answer.cost);
      stats.graphqlPoints += answer.cost;
      return send(res, 200, answer.body, rateHeaders(resource));
    }
    const match = routes
      .filter((r) => r.route.method === method)
      .map((r) => ({ r, m: r.pattern.exec(url.pathname) }))
      .find((x) => x.m !== null);
    if (!match || !match.m) return error(res, 404, "Not Found", rateHeaders(resource));
    const key = `${method} ${match.r.route.path}`;
    stats.byRoute[key] = (stats.byRoute[key] ?? 0) + 1;
    if (options.enterpriseVersion && NOT_ON_ENTERPRISE_SERVER.has(key))
      return error(res, 404, "Not Found", rateHeaders(resource));
    const params = Object.fromEntries(
      match.r.names.map((name, i) => [name, decodeURIComponent(match.m?.[i + 1] ?? "")]),
    );
    let answer: RouteAnswer;
    let parsedBody: Record<string, unknown> = {};
    try {
      parsedBody = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      answer = match.r.route.handle({
        world,
        api: base,
        params,
        query: url.searchParams,
        body: parsedBody,
        rateLimit: () => limiter.body(token),
        token,
      });
    } catch (caught) {
      charge(token, "core", 1);
      if (caught instanceof RouteError)
        return error(res, caught.status, caught.message, rateHeaders(resource), caught.documentationUrl);
      if (caught instanceof SyntaxError)
        return error(res, 400, "Problems parsing JSON", rateHeaders(resource));
      throw caught;
    }
    const headers: Record<string, string> = {};
    let payload: unknown;
    if ("items" in answer) {
      const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get("per_page") ?? 30) || 30));
      const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
      const last = Math.max(1, Math.ceil(answer.items.length / perPage));
      const rendered = answer.items.slice((page - 1) * perPage, page * perPage).map(answer.render);
      payload = answer.envelope
        ? answer.envelope(rendered)
        : answer.wrap
          ? { total_count: answer.items.length, [answer.wrap]: rendered }
          : rendered;
      const link = linkHeader(url, page, last);
      if (link) headers.link = link;
    } else {
      payload = answer.body;
      if (answer.headers) Object.assign(headers, answer.headers);
    }
    if (method === "GET" && answer.status === 200) {
      const etag = `W/"${createHash("sha256").update(JSON.stringify(payload)).digest("hex")}"`;
      headers.etag = etag;
      if (req.headers["if-none-match"] === etag) {
        // GitHub does not count a 304 against the primary rate limit.
        stats.notModified += 1;
        res.writeHead(304, { etag, ...rateHeaders(resource), ...timingHeader(res) });
        res.end();
        return;
      }
    }
    // GET /rate_limit "does not count against your primary rate limit".
    if (key !== "GET /rate_limit") charge(token, "core", 1);
    if (
      lost &&
      method !== "GET" &&
      answer.status < 300 &&
      (lostRoutes ? lostRoutes.has(key) : true) &&
      (lostCredit += lost.rate) >= 1
    ) {
      // Applied above; only the answer is lost.
      lostCredit -= 1;
      const kinds = lost.kinds && lost.kinds.length > 0 ? lost.kinds : (["502", "reset"] as const);
      const kind = kinds[Math.floor(lostRandom() * kinds.length)] ?? "502";
      stats.faults[`answer-lost-${kind}`] = (stats.faults[`answer-lost-${kind}`] ?? 0) + 1;
      lost.onLost?.({
        kind,
        route: key,
        params,
        request: parsedBody,
        status: answer.status,
        answer: payload,
      });
      if (kind === "reset") {
        res.destroy();
        return;
      }
      return error(res, 502, "Bad Gateway", rateHeaders(resource));
    }
    send(res, answer.status, payload, { ...headers, ...rateHeaders(resource) });
  }

  const server = createServer((req, res) => {
    const arrived = performance.now();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (options.serverTiming) timings.set(res, { arrived, bodyRead: performance.now(), late: 0 });
      handle(req, res, Buffer.concat(chunks).toString("utf8")).catch((caught: unknown) => {
        if (!res.headersSent) error(res, 500, `simulated GitHub failed: ${String(caught)}`, {});
      });
    });
  });
  // Idle connections are kept a minute, as a real host keeps them, not Node's 5 seconds: a client
  // whose event loop was busy for seconds (PGlite starting) would otherwise reuse a socket the
  // server had just closed, and a test would fail on a reset no real host causes.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: base,
    graphqlUrl: `${base}/graphql`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    deliverWebhook: (appUrl, event, payload, secret) => deliverWebhook(appUrl, event, payload, secret),
  };
}

/**
 * What a GraphQL request will cost before it runs: its primary point cost (GitHub's formula) and
 * whether it is a mutation (5 secondary points instead of 1). Unparseable: 0, runGraphQL answers it.
 */
function plannedGraphQL(request: Record<string, unknown>): { cost: number; mutation: boolean } {
  if (typeof request.query !== "string") return { cost: 0, mutation: false };
  let document: DocumentNode;
  try {
    document = parse(request.query);
  } catch {
    return { cost: 0, mutation: false };
  }
  const name = typeof request.operationName === "string" ? request.operationName : undefined;
  const operation = document.definitions.find(
    (d) => d.kind === Kind.OPERATION_DEFINITION && (!name || d.name?.value === name),
  );
  const variables = (request.variables ?? {}) as Record<string, unknown>;
  return {
    cost: queryCost(document, variables as Parameters<typeof queryCost>[1], name),
    mutation: operation?.kind === Kind.OPERATION_DEFINITION && operation.operation === "mutation",
  };
}

/** rel="prev", "next", "last", "first" in the order GitHub sends them. */
function linkHeader(url: URL, page: number, last: number): string | null {
  const at = (n: number) => {
    const next = new URL(url);
    next.searchParams.set("page", String(n));
    return `<${next.toString()}>`;
  };
  const parts: string[] = [];
  if (page > 1) parts.push(`${at(page - 1)}; rel="prev"`);
  if (page < last) parts.push(`${at(page + 1)}; rel="next"`, `${at(last)}; rel="last"`);
  if (page > 1) parts.push(`${at(1)}; rel="first"`);
  return parts.length > 0 ? parts.join(", ") : null;
}

/** POSTs a webhook the way GitHub does: signed body, event name, delivery id. */
export async function deliverWebhook(
  appUrl: string,
  event: string,
  payload: unknown,
  secret: string,
): Promise<{ status: number; body: string }> {
  assertLoopback(appUrl);
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(appUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "content-length": String(Buffer.byteLength(body)),
        "user-agent": "GitHub-Hookshot/sim",
        "x-github-event": event,
        "x-github-delivery": randomUUID(),
        "x-hub-signature-256": signature,
      },
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}
