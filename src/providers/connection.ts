/**
 * Connections to a code host that fail, as opposed to answers that say no. An answer, any answer
 * (a 502 from a proxy, a secondary rate limit), means the host is there: the clients' retry policies
 * handle those. A connection refused, a name that does not resolve, a network that cannot be routed,
 * a connection cut again and again, or no answer at all, means it is not: an audit that waited
 * through octokit's retries (1 + 4 + 9 s, per request, ten requests at a time) took minutes to say
 * so. Here such a failure gets a short budget (CONNECTION_ATTEMPTS tries, CONNECTION_BACKOFF_MS
 * apart: a blip of a second survives), then fails as an UnreachableError the CLI reports with exit 3.
 */
import { UnreachableError } from "../errors.js";

export const CONNECTION_ATTEMPTS = 2;
export const CONNECTION_BACKOFF_MS = 750;

/** Failures of the connection before the request left: safe to send again whatever it does. */
const NOT_SENT = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "UND_ERR_CONNECT_TIMEOUT",
  "ETIMEDOUT",
]);

/**
 * Failures after it may have left: sent again only when it reads; a write could have been applied,
 * and is left to its caller.
 */
const CUT = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

/**
 * Failures that trying again does not cure: the host's certificate, or no answer within the
 * client's deadline (a minute without a word is no blip). They fail at the first try.
 */
const FINAL = new Set([
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "UND_ERR_HEADERS_TIMEOUT",
]);

export interface ConnectionFailure {
  /** "not-sent": may be sent again; "cut": again only if it reads; "final": not again. */
  kind: "not-sent" | "cut" | "final";
  /** The system's code and message, e.g. "ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:4000". */
  reason: string;
}

/**
 * What a rejected fetch says about the connection: undefined when it is not a connection failure
 * (a bug, a body that could not be read, or the caller's own abort, which is the caller's to handle).
 */
export function connectionFailure(error: unknown): ConnectionFailure | undefined {
  const seen = new Set<unknown>();
  for (let current: unknown = error; current instanceof Error && !seen.has(current);) {
    seen.add(current);
    const code = "code" in current ? String(current.code) : "";
    const reason = `${code}: ${current.message}`;
    if (NOT_SENT.has(code)) return { kind: "not-sent", reason };
    if (CUT.has(code)) return { kind: "cut", reason };
    if (FINAL.has(code)) return { kind: "final", reason };
    // Happy eyeballs tries each address: the first one's code is the connection's.
    const first: unknown = current instanceof AggregateError ? current.errors[0] : undefined;
    current = current.cause ?? first;
  }
  return undefined;
}

export interface GuardedFetchOptions {
  host: "github" | "gitlab";
  /** The API root the client talks to, named in the error. */
  apiUrl: string;
  /** Longest wait for one answer, in milliseconds. */
  timeoutMs: number;
  /** Whether the request only reads (GET, HEAD, a GraphQL query): then a cut connection is retried. */
  reads: (method: string, body: unknown) => boolean;
  attempts?: number;
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * `base` with a deadline on every answer and the connection budget above. The error thrown when the
 * budget is spent is an UnreachableError naming the host and the system's reason.
 */
export function guardedFetch(base: typeof fetch, options: GuardedFetchOptions): typeof fetch {
  const attempts = Math.max(1, options.attempts ?? CONNECTION_ATTEMPTS);
  const backoffMs = options.backoffMs ?? CONNECTION_BACKOFF_MS;
  const sleep = options.sleep ?? realSleep;
  return async (input, init) => {
    for (let attempt = 1; ; attempt++) {
      const deadline = AbortSignal.timeout(options.timeoutMs);
      const signal = init?.signal ? AbortSignal.any([init.signal, deadline]) : deadline;
      try {
        return await base(input, { ...init, signal });
      } catch (error) {
        if (init?.signal?.aborted) throw error;
        const failure: ConnectionFailure | undefined = deadline.aborted
          ? { kind: "final", reason: `no answer within ${options.timeoutMs / 1000} s` }
          : connectionFailure(error);
        if (failure === undefined) throw error;
        const reads = options.reads(init?.method ?? "GET", init?.body);
        // A write whose connection was cut may have been applied: its caller looks before writing
        // again (the findings lifecycle does), so it gets the failure as it was, not "unreachable".
        if (failure.kind === "cut" && !reads) throw error;
        if (failure.kind === "final" || attempt >= attempts)
          throw new UnreachableError(options.host, options.apiUrl, failure.reason, { cause: error });
        await sleep(backoffMs * attempt);
      }
    }
  };
}
