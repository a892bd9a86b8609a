/**
 * A webhook delivery is handled once, however often it arrives: GitHub redelivers on request (and
 * some proxies replay), and with several instances a redelivery may reach another one. Every handler
 * the app registers is wrapped: the delivery (X-GitHub-Delivery, Probot's `context.id`) is claimed
 * once for all handlers of one dispatch, a duplicate runs none of them, and the claim is finished
 * when they have all ended (released when one failed, so a redelivery is handled again).
 */
import type { Context, Probot } from "probot";
import { DELIVERY_LEASE_MS, type DeliveryClaims } from "../ledger/index.js";
import { redactText } from "./redact.js";

type Handler = (context: Context) => Promise<void> | void;

interface Dispatch {
  claimed: Promise<boolean>;
  pending: number;
  failed: boolean;
  renewal?: ReturnType<typeof setInterval>;
}

/** `app` with `on` registering handlers that skip a delivery already handled (see the file's comment). */
export function handledOnce(
  app: Probot,
  claims: DeliveryClaims,
  host = "github",
  renewEveryMs = DELIVERY_LEASE_MS / 3,
): Probot {
  // One entry per dispatch: Probot gives every handler of one delivery the same payload object.
  const dispatches = new WeakMap<object, Dispatch>();
  const claim = (context: Context): Promise<boolean> =>
    claims.claim(host, context.id).catch((error: unknown) => {
      // The store is down: handling a delivery twice is better than losing it.
      context.log.warn(
        { delivery: context.id, err: redactText(String(error)) },
        "delivery not deduplicated: its claim could not be stored",
      );
      return true;
    });
  const wrap =
    (handler: Handler): Handler =>
    async (context) => {
      const payload = context.payload as object;
      let dispatch = dispatches.get(payload);
      if (!dispatch) {
        const created: Dispatch = { claimed: claim(context), pending: 0, failed: false };
        dispatch = created;
        dispatches.set(payload, created);
        // The lease is renewed while the handlers work, so only a dead instance's claim runs out.
        void created.claimed.then((claimed) => {
          if (!claimed || created.pending === 0) return;
          created.renewal = setInterval(() => {
            claims.renew(host, context.id).catch(() => {});
          }, renewEveryMs);
          created.renewal.unref();
        });
      }
      dispatch.pending += 1;
      if (!(await dispatch.claimed)) {
        dispatch.pending -= 1;
        context.log.info({ delivery: context.id, event: context.name }, "duplicate delivery ignored");
        return;
      }
      try {
        await handler(context);
      } catch (error) {
        dispatch.failed = true;
        throw error;
      } finally {
        dispatch.pending -= 1;
        if (dispatch.pending === 0) {
          clearInterval(dispatch.renewal);
          const settle = dispatch.failed ? claims.release(host, context.id) : claims.finish(host, context.id);
          await settle.catch((error: unknown) =>
            context.log.warn(
              { delivery: context.id, err: redactText(String(error)) },
              "delivery claim not settled",
            ),
          );
        }
      }
    };
  return new Proxy(app, {
    get(target, property) {
      if (property === "on") {
        return (events: Parameters<Probot["on"]>[0], handler: Handler) =>
          target.on(events, wrap(handler) as Parameters<Probot["on"]>[1]);
      }
      // Probot keeps its state in private fields: its getters and methods must see the real object.
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
