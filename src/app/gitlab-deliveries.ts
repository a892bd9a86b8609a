/**
 * GitLab's side of "a delivery is handled once": a webhook's X-Gitlab-Event-UUID is claimed before
 * the endpoint handles it, and a redelivery or replay of it (GitLab's "Resend request", a retry after
 * a timeout, another instance behind the load balancer) is answered 200 and causes nothing. Only a
 * request with the right X-Gitlab-Token claims anything: nobody without the secret can mark a
 * delivery as handled. The claim is finished when the handler has run (it logs its own failures).
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { DELIVERY_LEASE_MS, type DeliveryClaims } from "../ledger/index.js";

export type WebhookHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function gitLabHandledOnce(
  handler: WebhookHandler,
  secret: string,
  claims: DeliveryClaims,
  log: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void },
): WebhookHandler {
  const expected = digest(secret);
  return async (req, res) => {
    const delivery = req.headers["x-gitlab-event-uuid"];
    const token = req.headers["x-gitlab-token"];
    const authentic = typeof token === "string" && timingSafeEqual(digest(token), expected);
    if (req.method !== "POST" || typeof delivery !== "string" || !delivery || !authentic) {
      return handler(req, res);
    }
    const claimed = await claims.claim("gitlab", delivery).catch((error: unknown) => {
      // The store is down: handling a delivery twice is better than losing it.
      log.warn({ delivery, err: String(error) }, "delivery not deduplicated: its claim could not be stored");
      return true;
    });
    if (!claimed) {
      req.resume();
      log.info({ delivery, event: req.headers["x-gitlab-event"] }, "duplicate delivery ignored");
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ message: "duplicate delivery" }));
      return;
    }
    // Renewed while the handler works, so only a dead instance's claim runs out.
    const renewal = setInterval(() => {
      claims.renew("gitlab", delivery).catch(() => {});
    }, DELIVERY_LEASE_MS / 3);
    renewal.unref();
    try {
      await handler(req, res);
    } catch (error) {
      await claims.release("gitlab", delivery).catch(() => {});
      throw error;
    } finally {
      clearInterval(renewal);
    }
    await claims
      .finish("gitlab", delivery)
      .catch((error: unknown) => log.warn({ delivery, err: String(error) }, "delivery claim not settled"));
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
