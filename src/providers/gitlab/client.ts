import { z } from "zod";
import { ProviderError } from "../../errors.js";
import { guardedFetch, type GuardedFetchOptions } from "../connection.js";

/**
 * The one place that talks HTTP to GitLab: global fetch (undici), token header, zod validation of
 * every answer we rely on, pagination (Link or x-next-page), rate limits (RateLimit-* and 429
 * Retry-After) and a request counter. Everything else in this folder calls `get`, `pages`, `send`.
 */

export interface GitLabLogger {
  debug?(obj: object, msg?: string): void;
  warn?(obj: object, msg?: string): void;
}

export interface GitLabClientOptions {
  /** Instance URL, e.g. https://gitlab.com (the API lives under /api/v4). */
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
  log?: GitLabLogger;
  /** How long one rate-limit wait may last at most (ms); longer waits fail instead. */
  maxWaitMs?: number;
  /** Injected in tests so retries do not sleep for real. */
  sleep?: (ms: number) => Promise<void>;
  /** Longest wait for one answer, in milliseconds (default 60 s); then the host counts as unreachable. */
  requestTimeoutMs?: number;
  /**
   * Tries and backoff for a connection that fails (default 2 tries, 750 ms apart: connection.ts);
   * answers, 429s included, keep their own policy.
   */
  connectionRetry?: Pick<GuardedFetchOptions, "attempts" | "backoffMs">;
}

export type Query = Record<string, string | number | boolean | undefined>;

/** A GitLab answer that was not 2xx: keeps the status so collectors can turn 403 into "unknown". */
export class GitLabHttpError extends ProviderError {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`GitLab ${method} ${path} answered ${status}: ${summarize(body)}`, { host: "gitlab", status });
  }
}

export interface GitLabClient {
  readonly apiUrl: string;
  readonly stats: { requests: number };
  get<S extends z.ZodType>(path: string, schema: S, query?: Query): Promise<z.infer<S>>;
  /** GET returning raw text, or null on 404 (file contents). */
  getText(path: string, query?: Query): Promise<string | null>;
  /** Every item of a paginated list, page by page. */
  pages<S extends z.ZodType>(path: string, item: S, query?: Query): AsyncGenerator<z.infer<S>>;
  send<S extends z.ZodType>(
    method: "POST" | "PUT",
    path: string,
    schema: S,
    body: object,
  ): Promise<z.infer<S>>;
  /** DELETE answering 204 (or 202) with no body; any other answer is a GitLabHttpError. */
  delete(path: string): Promise<void>;
}

const MAX_RETRIES = 3;
const PER_PAGE = 100;
/** A bound on pages so a misbehaving server cannot keep us looping. */
const MAX_PAGES = 1000;

export function createGitLabClient(options: GitLabClientOptions): GitLabClient {
  const origin = new URL(options.baseUrl).origin;
  const apiUrl = `${options.baseUrl.replace(/\/+$/, "")}/api/v4`;
  const maxWaitMs = options.maxWaitMs ?? 60_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  // Every answer has a deadline, and a connection that fails gets a few seconds before the run ends
  // saying the host is unreachable (connection.ts), instead of a bare "fetch failed".
  const base = options.fetch ?? globalThis.fetch;
  const doFetch = guardedFetch((input, init) => base(input, init), {
    host: "gitlab",
    apiUrl,
    timeoutMs: options.requestTimeoutMs ?? 60_000,
    reads: (method) => method === "GET" || method === "HEAD",
    sleep,
    ...options.connectionRetry,
  });
  const stats = { requests: 0 };

  async function request(method: string, url: URL, body?: object): Promise<Response> {
    // The token is only ever sent to the configured instance, whatever a Link header says.
    if (url.origin !== origin)
      throw new ProviderError(`Refusing to follow ${url.origin}`, { host: "gitlab" });
    for (let attempt = 0; ; attempt++) {
      stats.requests++;
      const response = await doFetch(url, {
        method,
        headers: {
          "PRIVATE-TOKEN": options.token,
          accept: "application/json",
          ...(body ? { "content-type": "application/json" } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      if (response.status === 429 && attempt < MAX_RETRIES) {
        const wait = retryAfterMs(response.headers, Date.now());
        if (wait > maxWaitMs) return response;
        options.log?.warn?.({ path: url.pathname, wait }, "GitLab rate limit hit, retrying");
        await response.body?.cancel();
        await sleep(wait);
        continue;
      }
      await waitForQuota(response.headers, url.pathname);
      return response;
    }
  }

  /** Slow down before the quota runs out rather than collect 429s. */
  async function waitForQuota(headers: Headers, path: string): Promise<void> {
    const remaining = headers.get("ratelimit-remaining");
    const reset = Number(headers.get("ratelimit-reset"));
    if (remaining !== "0" || !Number.isFinite(reset) || reset <= 0) return;
    const wait = Math.min(Math.max(reset * 1000 - Date.now(), 0), maxWaitMs);
    options.log?.warn?.({ path, wait }, "GitLab rate limit exhausted, waiting for reset");
    if (wait > 0) await sleep(wait);
  }

  function urlOf(path: string, query: Query = {}): URL {
    const url = new URL(apiUrl + path);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url;
  }

  async function parsed<S extends z.ZodType>(
    method: string,
    path: string,
    response: Response,
    schema: S,
  ): Promise<z.infer<S>> {
    const text = await response.text();
    if (!response.ok) throw new GitLabHttpError(method, path, response.status, text);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new ProviderError(`GitLab ${method} ${path} answered non-JSON`, { host: "gitlab", cause });
    }
    const result = schema.safeParse(json);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new ProviderError(
        `GitLab ${method} ${path} answered an unexpected shape at ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
        { host: "gitlab", status: response.status, cause: result.error },
      );
    }
    return result.data;
  }

  return {
    apiUrl,
    stats,
    async get(path, schema, query) {
      return parsed("GET", path, await request("GET", urlOf(path, query)), schema);
    },
    async getText(path, query) {
      const response = await request("GET", urlOf(path, query));
      const text = await response.text();
      if (response.status === 404) return null;
      if (!response.ok) throw new GitLabHttpError("GET", path, response.status, text);
      return text;
    },
    async *pages(path, item, query) {
      let url: URL | null = urlOf(path, { per_page: PER_PAGE, ...query });
      for (let page = 0; url; page++) {
        // Never a silent cut: a list we cannot read to its end is an error the collector reports.
        if (page === MAX_PAGES) {
          throw new ProviderError(
            `GitLab GET ${path} has more than ${MAX_PAGES} pages: the list was not read to its end`,
            { host: "gitlab" },
          );
        }
        const response = await request("GET", url);
        const items = await parsed("GET", path, response, z.array(item));
        for (const value of items) yield value;
        url = nextPage(response.headers, url);
      }
    },
    async send(method, path, schema, body) {
      return parsed(method, path, await request(method, urlOf(path), body), schema);
    },
    async delete(path) {
      const response = await request("DELETE", urlOf(path));
      const text = await response.text();
      if (!response.ok) throw new GitLabHttpError("DELETE", path, response.status, text);
    },
  };
}

/** Keyset pagination answers with a Link header; offset pagination with Link and x-next-page. */
export function nextPage(headers: Headers, current: URL): URL | null {
  const link = headers.get("link");
  if (link) {
    for (const part of link.split(",")) {
      const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
      if (match?.[1]) return new URL(match[1]);
    }
  }
  const next = headers.get("x-next-page");
  if (next && /^\d+$/.test(next)) {
    const url = new URL(current);
    url.searchParams.set("page", next);
    return url;
  }
  return null;
}

/** Retry-After is seconds or an HTTP date; without one, wait a second. */
export function retryAfterMs(headers: Headers, now: number): number {
  const value = headers.get("retry-after");
  if (!value) return 1000;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? 1000 : Math.max(date - now, 0);
}

/** Project and group ids in paths are URL-encoded full paths ("acme/api" -> "acme%2Fapi"). */
export function encodePath(path: string): string {
  return encodeURIComponent(path);
}

function summarize(body: string): string {
  try {
    const json: unknown = JSON.parse(body);
    if (json && typeof json === "object") {
      const record = json as Record<string, unknown>;
      const message = record.message ?? record.error;
      if (message !== undefined) return typeof message === "string" ? message : JSON.stringify(message);
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.slice(0, 200);
}
