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
import { runGraphQL } from "./graphql.js";
import type { World } from "./world.js";

export interface SimulatedGitHubOptions {
  world: World;
  latencyMs?: number;
  faults?: { rate: number; secondaryRateLimitEvery?: number; timeoutMs?: number };
  /** Requests (REST) and points (GraphQL) per hour; GitHub's installation default is 5,000. */
  primaryLimit?: number;
  seed?: number;
  /**
   * Serve as GitHub Enterprise Server of this version: every answer carries
   * X-GitHub-Enterprise-Version, and the endpoints GHES lacks answer 404.
   */
  enterpriseVersion?: string;
}

/** Routes api.github.com has and GitHub Enterprise Server does not (its OpenAPI description). */
const NOT_ON_ENTERPRISE_SERVER: ReadonlySet<string> = new Set(["GET /orgs/{org}/invitations"]);

export interface SimulatedGitHubStats {
  requests: number;
  byRoute: Record<string, number>;
  graphqlPoints: number;
  notModified: number;
  faults: Record<string, number>;
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
  const limit = options.primaryLimit ?? 5000;
  const resetAt = Math.floor(Date.now() / 1000) + 3600;
  const used = { core: 0, graphql: 0 };
  const stats: SimulatedGitHubStats = {
    requests: 0,
    byRoute: {},
    graphqlPoints: 0,
    notModified: 0,
    faults: {},
  };
  const routes = ROUTES.map(compile);
  let base = "";

  const rateHeaders = (resource: "core" | "graphql") => ({
    "x-ratelimit-limit": String(limit),
    "x-ratelimit-remaining": String(Math.max(0, limit - used[resource])),
    "x-ratelimit-reset": String(resetAt),
    "x-ratelimit-used": String(used[resource]),
    "x-ratelimit-resource": resource,
  });
  const rateLimitBody = () => {
    const entry = (r: "core" | "graphql") => ({
      limit,
      used: used[r],
      remaining: Math.max(0, limit - used[r]),
      reset: resetAt,
    });
    const search = { limit: 30, used: 0, remaining: 30, reset: resetAt };
    return { resources: { core: entry("core"), graphql: entry("graphql"), search }, rate: entry("core") };
  };

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string>) => {
    const text = body === undefined ? "" : JSON.stringify(body);
    res.writeHead(status, {
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
    if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs));
    const url = new URL(req.url ?? "/", base);
    const method = req.method ?? "GET";
    const isGraphql = url.pathname === "/graphql";
    const resource = isGraphql ? "graphql" : "core";
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
    if (options.faults && options.faults.rate > 0 && random() < options.faults.rate) {
      const fault = FAULTS[Math.floor(random() * FAULTS.length)] ?? "500";
      stats.faults[fault] = (stats.faults[fault] ?? 0) + 1;
      if (fault === "500" || fault === "502")
        return error(res, Number(fault), fault === "500" ? "Server Error" : "Bad Gateway", {});
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
    if (used[resource] >= limit) {
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
      const answer = runGraphQL(world, parsed, (cost) => ({
        cost,
        limit,
        remaining: Math.max(0, limit - used.graphql - cost),
        used: used.graphql + cost,
        resetAt: new Date(resetAt * 1000).toISOString(),
        nodeCount: 0,
      }));
      used.graphql += answer.cost;
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
    try {
      const parsedBody = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      answer = match.r.route.handle({
        world,
        api: base,
        params,
        query: url.searchParams,
        body: parsedBody,
        rateLimit: rateLimitBody,
      });
    } catch (caught) {
      used.core += 1;
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
    }
    if (method === "GET" && answer.status === 200) {
      const etag = `W/"${createHash("sha256").update(JSON.stringify(payload)).digest("hex")}"`;
      headers.etag = etag;
      if (req.headers["if-none-match"] === etag) {
        // GitHub does not count a 304 against the primary rate limit.
        stats.notModified += 1;
        res.writeHead(304, { etag, ...rateHeaders(resource) });
        res.end();
        return;
      }
    }
    used.core += 1;
    send(res, answer.status, payload, { ...headers, ...rateHeaders(resource) });
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
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
