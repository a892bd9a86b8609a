/**
 * A code host that cannot be reached is found in seconds, before anything is collected: the
 * clients retry failed connections (right for a blip in an hour-long audit), which made an
 * unreachable host take minutes and read like a missing permission.
 */
import { UnreachableError } from "../errors.js";
import { gitHubApiUrl } from "../providers/github/api-origin.js";

/** How long the host has to answer one request, any answer. */
export const REACHABLE_TIMEOUT_MS = 10_000;

/** The API root the CLI talks to, from the same settings as the providers. */
export function apiUrlOf(kind: "github" | "gitlab", env: NodeJS.ProcessEnv = process.env): string {
  return kind === "github"
    ? gitHubApiUrl(env)
    : `${(env.GITLAB_URL ?? "https://gitlab.com").replace(/\/+$/, "")}/api/v4`;
}

/**
 * Resolves when the host answers anything at all (even 401 or 404: it is there); throws an
 * UnreachableError naming the URL and the system's reason when no answer comes in time.
 */
export async function checkReachable(
  kind: "github" | "gitlab",
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = REACHABLE_TIMEOUT_MS,
): Promise<void> {
  const url = apiUrlOf(kind, env);
  try {
    // No token is sent: this asks only whether something answers at that address.
    const response = await fetch(url, {
      method: "GET",
      signal: AbortSignal.timeout(timeoutMs),
      redirect: "manual",
    });
    await response.body?.cancel();
  } catch (error) {
    throw new UnreachableError(kind, url, reasonOf(error, timeoutMs));
  }
}

function reasonOf(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError"))
    return `no answer within ${timeoutMs / 1000} s`;
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error)
    return "code" in cause ? `${String(cause.code)}: ${cause.message}` : cause.message;
  return error instanceof Error ? error.message : String(error);
}
