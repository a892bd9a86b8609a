import type { GitHubClient } from "./client.js";

/**
 * Conditional requests: a GET answered before is asked again with If-None-Match, and GitHub answers
 * 304 Not Modified without charging the rate limit. Branch rules and policy files rarely change, so
 * a warm PR check spends its quota only on what did change (the pull request, the check run).
 */
export interface ConditionalCache {
  get(key: string): CachedAnswer | undefined;
  set(key: string, answer: CachedAnswer): void;
}

export interface CachedAnswer {
  etag: string;
  response: unknown;
}

/** A bounded least-recently-used cache; one per app process, keys scoped per installation. */
export function createConditionalCache(maxEntries = 2_000): ConditionalCache {
  const entries = new Map<string, CachedAnswer>();
  return {
    get(key) {
      const answer = entries.get(key);
      if (answer) {
        entries.delete(key);
        entries.set(key, answer);
      }
      return answer;
    },
    set(key, answer) {
      entries.delete(key);
      entries.set(key, answer);
      if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
  };
}

const wrapped = new WeakSet<object>();

interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number | undefined>;
  [key: string]: unknown;
}

/**
 * Makes `octokit`'s REST GETs conditional. `scope` keeps one installation's (or token's) answers
 * from ever being served to another.
 */
export function useConditionalRequests(
  octokit: GitHubClient,
  cache: ConditionalCache,
  scope: string,
): GitHubClient {
  // One event may build several hosts over the same octokit: wrap it once, not once per host.
  if (wrapped.has(octokit)) return octokit;
  wrapped.add(octokit);
  octokit.hook.wrap("request", async (request, options: RequestOptions) => {
    if ((options.method ?? "GET").toUpperCase() !== "GET") return request(options as never);
    const { url } = octokit.request.endpoint.parse(options as never);
    const key = `${scope} ${url}`;
    const cached = cache.get(key);
    // Set on the options object itself: the hooks inside this one (auth, retry) read it, not a copy.
    if (cached) options.headers = { ...options.headers, "if-none-match": cached.etag };
    try {
      const response = await request(options as never);
      const etag = (response.headers as Record<string, string | undefined>).etag;
      if (etag) cache.set(key, { etag, response });
      return response;
    } catch (error) {
      if (cached && (error as { status?: number }).status === 304) return cached.response as never;
      throw error;
    }
  });
  return octokit;
}
