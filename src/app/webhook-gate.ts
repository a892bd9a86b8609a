/**
 * What stands between the open internet and Probot's webhook middleware. Probot reads a delivery's
 * whole body into memory, with no limit, before checking its signature, and a body whose signature
 * does not match is attached to the error it logs (three times over). Here every POST to the webhook
 * path is read up to the size GitHub caps its payloads at, refused past it (413) without reading on,
 * checked against X-Hub-Signature-256 (401, logging only the delivery id and event name), and
 * required to be a JSON object (400: a signed `null` used to reach the handlers and answer 500).
 * Only then does Probot's own middleware see it, given the body already read.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Probot } from "probot";

/**
 * GitHub: "Payloads are capped at 25 MB. If an event generates a larger payload, GitHub will not
 * deliver a payload for that webhook event." Read as MiB, so nothing GitHub sends is refused. GitLab
 * does not send a hook whose JSON exceeds 25 MB either (gitlab-org/gitlab!38687).
 */
export const MAX_WEBHOOK_BODY_BYTES = 25 * 1024 * 1024;

/**
 * Bytes of bodies not yet verified that all deliveries together may hold: four of the largest. A
 * flood of oversized unsigned bodies then costs this much memory, not one cap per connection; a
 * delivery arriving while it is used up is answered 503 (GitHub shows it failed, it can be
 * redelivered, and the scheduled audit reads everything again).
 */
export const MAX_PENDING_WEBHOOK_BYTES = 4 * MAX_WEBHOOK_BODY_BYTES;

export interface WebhookGateLogger {
  warn(object: object, message?: string): void;
}

export interface WebhookGateOptions {
  /** The webhook secret Probot checks deliveries with (WEBHOOK_SECRET; Probot's default otherwise). */
  secret: string;
  /** Probot's webhook path (WEBHOOK_PATH, default /api/github/webhooks). */
  path: string;
  log: WebhookGateLogger;
  maxBodyBytes?: number;
  maxPendingBytes?: number;
}

type ProbotMiddleware = Awaited<ReturnType<Probot["getNodeMiddleware"]>>;
type Middleware = (req: IncomingMessage, res: ServerResponse, next?: () => void) => Promise<unknown>;

/**
 * Puts the gate in front of the middleware Probot's server mounts: Probot's Server asks the app's
 * Probot for it (getNodeMiddleware) when it starts, after the app function has run.
 */
export function guardWebhooks(app: Probot, options: WebhookGateOptions): void {
  const probotMiddleware = app.getNodeMiddleware.bind(app);
  app.getNodeMiddleware = async (middlewareOptions) => {
    const middleware = await probotMiddleware(middlewareOptions);
    const gate = gateWebhooks((req, res, next) => middleware(req, res, next), {
      ...options,
      path: middlewareOptions?.path ?? options.path,
    });
    return (req: IncomingMessage, res?: ServerResponse, next?: Parameters<ProbotMiddleware>[2]) =>
      res ? gate(req, res, next as (() => void) | undefined) : middleware(req, res, next);
  };
}

/** The gate around a webhook middleware; requests to other paths pass straight through. */
export function gateWebhooks(middleware: Middleware, options: WebhookGateOptions): Middleware {
  const limit = options.maxBodyBytes ?? MAX_WEBHOOK_BODY_BYTES;
  const budget = { left: options.maxPendingBytes ?? MAX_PENDING_WEBHOOK_BYTES };
  const path = trimSlashes(options.path);
  return async (req, res, next) => {
    if (!isDelivery(req, path)) return middleware(req, res, next);
    const delivery = {
      id: header(req, "x-github-delivery"),
      event: header(req, "x-github-event"),
    };
    const declared = Number(header(req, "content-length"));
    if (Number.isFinite(declared) && declared > limit) return refuseTooLarge(req, res, limit);

    const body = await readBody(req, limit, budget);
    if (body === "too large") return refuseTooLarge(req, res, limit);
    if (body === "busy") {
      options.log.warn(delivery, "GitHub webhook refused: too many unverified bytes in flight");
      res.setHeader("retry-after", "60");
      return refuseAndClose(req, res, 503, "too many deliveries being received at once");
    }
    if (body === "failed") return true;

    if (!signatureMatches(options.secret, body, header(req, "x-hub-signature-256") ?? "")) {
      options.log.warn({ ...delivery, bytes: body.length }, "GitHub webhook with a wrong signature refused");
      return answer(res, 401, "signature does not match the payload and the webhook secret");
    }
    let text: string;
    try {
      // Probot checks the signature again over the decoded text: bytes that are not UTF-8 would fail
      // there, and Probot would log them.
      text = new TextDecoder("utf-8", { fatal: true }).decode(body);
    } catch {
      return answer(res, 400, "the payload is not UTF-8 text");
    }
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch {
      return answer(res, 400, "the payload is not JSON");
    }
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      options.log.warn(delivery, "GitHub webhook whose payload is not a JSON object refused");
      return answer(res, 400, "a webhook payload is a JSON object");
    }
    // Probot's middleware takes a body already read as text (request.body) instead of the stream.
    (req as IncomingMessage & { body?: string }).body = text;
    return middleware(req, res, next);
  };
}

/**
 * A POST to the webhook path that Probot would read: without JSON or the three headers, Probot's
 * middleware answers (415 or 400) before reading the body, so it is left to do so.
 */
function isDelivery(req: IncomingMessage, path: string): boolean {
  if (req.method !== "POST") return false;
  let pathname: string;
  try {
    pathname = new URL(req.url ?? "/", "http://localhost").pathname;
  } catch {
    return false;
  }
  if (trimSlashes(pathname) !== path) return false;
  const type = header(req, "content-type") ?? "";
  return (
    /^\s*application\/json\s*(?:;|$)/.test(type) &&
    ["x-github-event", "x-hub-signature-256", "x-github-delivery"].every(
      (name) => header(req, name) !== undefined,
    )
  );
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function trimSlashes(path: string): string {
  return path.replace(/\/+$/, "") || "/";
}

/** The body, read while it fits under its own limit and the budget all deliveries share. */
async function readBody(
  req: IncomingMessage,
  limit: number,
  budget: { left: number },
): Promise<Buffer | "too large" | "busy" | "failed"> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
      size += buffer.length;
      if (size > limit) return "too large";
      if (buffer.length > budget.left) return "busy";
      budget.left -= buffer.length;
      chunks.push(buffer);
    }
  } catch {
    // The sender went away mid-body: nothing to answer.
    return "failed";
  } finally {
    // Verified or refused, the bytes are no longer pending once this delivery is read.
    budget.left += chunks.reduce((total, chunk) => total + chunk.length, 0);
  }
  return Buffer.concat(chunks);
}

function signatureMatches(secret: string, body: Buffer, signature: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac("sha256", secret).update(body).digest("hex")}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** 413, and the connection closed: the rest of the body is never read. */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse, limit: number): boolean {
  return refuseAndClose(req, res, 413, `a webhook payload may be at most ${limit} bytes`);
}

function refuseAndClose(req: IncomingMessage, res: ServerResponse, status: number, error: string): boolean {
  res.setHeader("connection", "close");
  res.on("finish", () => req.destroy());
  return answer(res, status, error);
}

function answer(res: ServerResponse, status: number, error: string): boolean {
  const body = JSON.stringify({ error });
  res
    .writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
    .end(body);
  return true;
}
