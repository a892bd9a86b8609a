/**
 * The few named errors of soc2-bot. They are made at the edge (policy files, code-host answers,
 * snapshots, command-line input) and turned into a check run, a finding or an exit code at the top.
 */

export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** A policy file that cannot be used. Always names where: file, line and column. */
export class PolicyError extends Error {
  override readonly name = "PolicyError";
  constructor(readonly problems: ReadonlyArray<SourcePosition & { message: string }>) {
    super(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join("\n"));
  }
}

/** A code-host answer we cannot use: names the host, the HTTP status and the permission missing. */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    message: string,
    readonly details: { host: "github" | "gitlab"; status?: number; permission?: string; cause?: unknown },
  ) {
    super(message, { cause: details.cause });
  }
}

/** A snapshot file that does not match the schema, with the path of the first offending field. */
export class SnapshotError extends Error {
  override readonly name = "SnapshotError";
}

/** Command-line input a person has to correct (exit code 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Node's and undici's codes for a connection that could not be made or was cut. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_SOCKET",
  "UND_ERR_HEADERS_TIMEOUT",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
]);

/**
 * Why the code host could not be reached, when `error` (or an error it wraps) is a connection that
 * failed rather than an answer: octokit turns those into a status 500 with no response, which must
 * not read as a missing permission. undefined when the host did answer.
 */
export function unreachableReason(error: unknown): string | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  let noResponse = false;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    const code = "code" in current ? String(current.code) : "";
    if (CONNECTION_CODES.has(code)) return `${code}: ${current.message}`;
    if (current.name === "AbortError" || current.name === "TimeoutError")
      return `no answer: ${current.message}`;
    if (
      current.name === "HttpError" &&
      "status" in current &&
      current.status === 500 &&
      !("response" in current && current.response)
    )
      noResponse = true;
    const next: unknown =
      current instanceof ProviderError && current.details.cause !== undefined
        ? current.details.cause
        : current.cause;
    if (next === undefined && noResponse) return current.message;
    current = next;
  }
  return undefined;
}

/**
 * A code host that gave no answer at all (exit code 3): a wrong URL, a network, a firewall, or a
 * host that went away in the middle of a run (src/providers/connection.ts).
 */
export class UnreachableError extends Error {
  override readonly name = "UnreachableError";
  constructor(
    readonly host: "github" | "gitlab",
    readonly url: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`code host unreachable: ${hostOf(url)}: ${reason}`, options);
  }
}

/** The host (and port) of a URL, as the system's messages name it; the text itself if not a URL. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * The UnreachableError behind `error`, however deep: providers wrap what their client threw in a
 * ProviderError saying what was being read, and octokit wraps it again.
 */
export function unreachableErrorIn(error: unknown): UnreachableError | undefined {
  const seen = new Set<unknown>();
  for (let current: unknown = error; current instanceof Error && !seen.has(current);) {
    if (current instanceof UnreachableError) return current;
    seen.add(current);
    current =
      current instanceof ProviderError && current.details.cause !== undefined
        ? current.details.cause
        : current.cause;
  }
  return undefined;
}
