import { pino, type DestinationStream, type Level, type Logger } from "pino";
import { getTransformStream } from "@probot/pino";
import { redactText, redactValue, SECRET_HEADERS } from "./redact.js";

export interface LoggerOptions {
  /** Lowest level written; LOG_LEVEL or "info" by default. */
  level?: Level | "silent";
  /** Where lines go (tests pass a memory stream); stdout by default. */
  destination?: DestinationStream;
  name?: string;
  /**
   * Known secret values (the webhook secrets, tokens, passwords): masked wherever they appear, even
   * in free text where no pattern could recognise them, whatever their length (see knownSecrets).
   */
  secrets?: readonly (string | undefined)[];
}

export const REDACTED = "[REDACTED]";

/**
 * Keys whose value is a credential wherever they appear in a logged object or a child's bindings:
 * bindings (e.g. the request pino-http binds, headers and all) never pass through formatters.log,
 * so every secret header needs its path here.
 */
const SECRET_KEYS = ["token", "privateKey", "secret", ...SECRET_HEADERS];
const REDACT_PATHS = SECRET_KEYS.flatMap((key) => {
  const member = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  const top = member.startsWith("[") ? member : key;
  return [top, `*${member}`, `*.*${member}`, `req.headers${member}`, `request.headers${member}`];
});

/**
 * The app's logger: pino, structured, and unable to write a credential. Three layers, because a
 * secret can arrive in three ways: as a message string (hooks.logMethod scrubs every string
 * argument), inside a logged object (formatters.log masks secret-named keys and scrubs strings at
 * any depth; redact paths cover the bindings of child loggers, e.g. request headers), and in text
 * nobody anticipated (the written line itself is scrubbed once more before it leaves).
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? readLevel(process.env.LOG_LEVEL) ?? "info";
  const known = knownSecrets(options.secrets ?? []);
  return pino(
    {
      name: options.name ?? "soc2-bot",
      level,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      hooks: {
        logMethod(args, method) {
          const [first, ...rest] = args;
          // An Error logged alone gives pino its message as the line's msg: scrub that too.
          if (first instanceof Error && rest.length === 0) {
            method.apply(this, [{ err: first }, redactText(first.message)]);
            return;
          }
          const scrubbed = args.map((arg: unknown) => (typeof arg === "string" ? redactText(arg) : arg));
          method.apply(this, scrubbed as Parameters<typeof method>);
        },
        streamWrite: (line) => singleName(maskKnown(redactText(line), known)),
      },
      serializers: {
        // pino's own error serializer keeps the type and enumerable fields; then the same masking.
        err: (error: unknown) => redactValue(error instanceof Error ? pino.stdSerializers.err(error) : error),
      },
      formatters: {
        log: (object) => scrubObject(object),
      },
    },
    options.destination ?? pino.destination(1),
  );
}

/**
 * Plain data (objects, arrays, strings, errors) is masked here; other instances (an HTTP request or
 * response) are left to their pino serializers, which copy only safe fields.
 */
function scrubObject(object: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    out[key] = isPlainData(value) ? maskEntry(key, value) : value;
  }
  return out;
}

/** The value as redactValue leaves it under its own key: masked whole when the key names a secret. */
function maskEntry(key: string, value: unknown): unknown {
  const masked = redactValue({ [key]: value });
  return isRecord(masked) ? masked[key] : masked;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isPlainData(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return true;
  // Errors go to the err serializer, which keeps their type.
  if (value instanceof Error) return false;
  if (Array.isArray(value)) return true;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Each secret as written raw and as it appears inside a JSON string, however short. A secret of 8
 * characters or more is masked wherever it appears; a shorter one where it stands alone (not inside
 * a longer word): masking "s3cr" inside every "s3cret" would show where the secret is a part.
 */
function knownSecrets(secrets: readonly (string | undefined)[]): RegExp[] {
  const forms = secrets
    .filter((s): s is string => typeof s === "string" && s.length > 0)
    .flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]);
  // Longest first, so a secret containing another is masked whole.
  return [...new Set(forms)]
    .sort((a, b) => b.length - a.length)
    .map((form) => {
      const escaped = form.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      return new RegExp(form.length >= 8 ? escaped : `(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])`, "g");
    });
}

function maskKnown(line: string, secrets: readonly RegExp[]): string {
  return secrets.reduce((out, secret) => out.replace(secret, REDACTED), line);
}

function readLevel(value: string | undefined): Level | "silent" | undefined {
  const levels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
  return levels.find((l) => l === value);
}

/**
 * pino writes a child's `name` binding after the parent's, so `log.child({ name: "webhooks" })`
 * wrote `"name":"soc2-bot",…,"name":"webhooks"`: a line JSON tools read differently (most keep the
 * last, some reject it). The line is parsed back (the last name wins, as pino-pretty shows it) only
 * when it holds the key twice.
 */
function singleName(line: string): string {
  const first = line.indexOf('"name":');
  if (first < 0 || line.indexOf('"name":', first + 7) < 0) return line;
  try {
    return `${JSON.stringify(JSON.parse(line))}\n`;
  } catch {
    return line;
  }
}

/**
 * The app's logger honouring Probot's logging settings, as Probot's own logger would: LOG_FORMAT
 * (`pretty`, or `json`; pretty unless NODE_ENV is production), LOG_LEVEL_IN_STRING and SENTRY_DSN
 * (errors and fatals sent to Sentry) go through Probot's transform (@probot/pino), after the
 * secrets are masked, so nothing unmasked reaches the terminal or Sentry.
 */
export async function createProbotLogger(
  env: Record<string, string | undefined>,
  options: Omit<LoggerOptions, "destination"> & { output?: NodeJS.WritableStream } = {},
): Promise<Logger> {
  const { output, ...rest } = options;
  const logFormat =
    env.LOG_FORMAT === "pretty" || env.LOG_FORMAT === "json"
      ? env.LOG_FORMAT
      : env.NODE_ENV === "production"
        ? "json"
        : "pretty";
  const transform = await getTransformStream({
    logFormat,
    logLevelInString: env.LOG_LEVEL_IN_STRING === "true",
    ...(env.SENTRY_DSN ? { sentryDsn: env.SENTRY_DSN } : {}),
  });
  // SonicBoom is a stream in all but its type, as Probot's own logger pipes it.
  transform.pipe(output ?? (pino.destination(1) as unknown as NodeJS.WritableStream));
  return createLogger({
    ...rest,
    level: rest.level ?? readLevel(env.LOG_LEVEL) ?? "info",
    destination: transform,
  });
}
