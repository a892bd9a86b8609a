/**
 * Secrets never reach a log line: GitHub and GitLab tokens, JWTs, private keys and webhook secrets
 * are masked wherever they appear in a message or a logged value.
 */
const SECRET_PATTERNS: readonly RegExp[] = [
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g,
  /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g,
  /\bglpat-[A-Za-z0-9_-]{16,}\b/g,
  /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b/g,
  /\b(?:token|bearer)\s+[A-Za-z0-9._-]{16,}/gi,
];

/**
 * HTTP headers that carry a credential, in the lower case Node gives them: GitHub's and GitLab's
 * webhook signature and token, API credentials (GitLab accepts PRIVATE-TOKEN and JOB-TOKEN), cookies.
 */
export const SECRET_HEADERS = [
  "authorization",
  "proxy-authorization",
  "x-hub-signature",
  "x-hub-signature-256",
  "x-gitlab-token",
  "private-token",
  "job-token",
  "cookie",
  "set-cookie",
] as const;

const SECRET_KEYS = new RegExp(
  `^(${SECRET_HEADERS.join("|")}|token|private_?key|privateKey|secret|webhook_?secret|password|client_?secret)$`,
  "i",
);

export function redactText(text: string): string {
  return SECRET_PATTERNS.reduce((out, pattern) => out.replace(pattern, "[REDACTED]"), text);
}

/** A deep copy with secret-named keys masked and secret-looking strings scrubbed. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return redactText(value);
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) {
    return {
      type: value.name,
      message: redactText(value.message),
      stack: value.stack ? redactText(value.stack) : undefined,
    };
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [
      key,
      SECRET_KEYS.test(key) ? "[REDACTED]" : redactValue(item, depth + 1),
    ]),
  );
}
