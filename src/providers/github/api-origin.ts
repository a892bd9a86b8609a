/**
 * Where the GitHub API is, and the rule that a token goes nowhere else. Every client (the app's, its
 * installations', the command line's) sends requests only to the origin of its configured base URL:
 * a `Link` header naming another host (octokit's paginate follows them as given), or any absolute URL
 * elsewhere, is refused before the request is made, so the token is never sent there. The GitLab
 * client does the same (src/providers/gitlab/client.ts).
 */
import { ProviderError, UsageError } from "../../errors.js";

export const DEFAULT_API_URL = "https://api.github.com";

type Env = Record<string, string | undefined>;

/**
 * The one GitHub Enterprise setting for the app and the command line alike: GITHUB_API_URL (e.g.
 * "https://ghe.example.com/api/v3"). Probot's own GHE_HOST (with GHE_PROTOCOL) is read too, as
 * the same URL Probot would build from it; when both are set they must name the same API, since
 * the app would otherwise authenticate against one host and read from another.
 */
export function gitHubApiUrl(env: Env): string {
  const configured = env.GITHUB_API_URL?.trim() || undefined;
  const probot = env.GHE_HOST?.trim()
    ? `${env.GHE_PROTOCOL?.trim() || "https"}://${env.GHE_HOST.trim()}/api/v3`
    : undefined;
  if (configured !== undefined) checkUrl(configured, "GITHUB_API_URL");
  if (probot !== undefined) checkUrl(probot, "GHE_HOST");
  if (configured !== undefined && probot !== undefined && trimSlash(configured) !== trimSlash(probot)) {
    throw new UsageError(
      `GITHUB_API_URL (${configured}) and GHE_HOST (${probot}) name different GitHub APIs: ` +
        "set GITHUB_API_URL alone",
    );
  }
  return trimSlash(configured ?? probot ?? DEFAULT_API_URL);
}

function checkUrl(value: string, name: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${name} is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UsageError(`${name} must be an http(s) URL, not ${JSON.stringify(value)}`);
  }
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

interface HookedOctokit {
  hook: {
    wrap: (
      name: "request",
      hook: (request: (o: unknown) => Promise<unknown>, options: Record<string, unknown>) => Promise<unknown>,
    ) => void;
  };
}

/**
 * Octokit plugin: every request must go to the origin of the client's `baseUrl`. Registered after
 * the authentication hook, so it runs before it: a refused request never gets a token.
 */
export function apiOriginOnly(octokit: HookedOctokit, options: { baseUrl?: string }): Record<string, never> {
  const expected = new URL(options.baseUrl ?? DEFAULT_API_URL).origin;
  octokit.hook.wrap("request", async (request, requestOptions) => {
    const origin = originOf(requestOptions, options.baseUrl ?? DEFAULT_API_URL);
    if (origin !== expected) {
      throw new ProviderError(
        `Refused to send a GitHub request to ${origin ?? "an unreadable URL"}: only ${expected} (the configured ` +
          "GitHub API) receives this app's credentials; a Link header or URL in an answer named another host",
        { host: "github" },
      );
    }
    return request(requestOptions);
  });
  return {};
}

function originOf(requestOptions: Record<string, unknown>, fallbackBase: string): string | undefined {
  const url = typeof requestOptions.url === "string" ? requestOptions.url : "";
  const base = typeof requestOptions.baseUrl === "string" ? requestOptions.baseUrl : fallbackBase;
  try {
    // A relative route is resolved against the base URL as octokit does; an absolute one (a Link
    // header's next page) keeps its own host.
    return /^[a-z][a-z0-9+.-]*:|^\/\//i.test(url) ? new URL(url, base).origin : new URL(base).origin;
  } catch {
    return undefined;
  }
}
