/**
 * Reconciling the push record with GitHub's list of the app's webhook deliveries, as GitHub advises
 * ("Handling failed webhook deliveries"): GitHub does not redeliver a failed delivery by itself, and a
 * push and the force push that undid it, both lost while the app was down, leave a record whose pushes
 * still chain. Each run lists the deliveries (GET /app/hook/deliveries, app JWT, newest first, cursor
 * pages) back to where the last run ended, fetches each push delivery the record lacks (GET
 * /app/hook/deliveries/{delivery_id}: the request's payload) and records it, then writes a checkpoint:
 * every push delivery from T1 to T2 is recorded. The audit trusts the record only over checkpointed
 * spans (src/providers/github/direct-pushes.ts).
 *
 * Fetching and recording, rather than asking GitHub to redeliver (POST …/attempts): a redelivery
 * arrives later, asynchronously, perhaps to an instance that is down again, so the checkpoint could
 * not be written when the run ends; the fetched payload is the same bytes GitHub would send, recorded
 * at once, with the delivery's own time.
 */
import { recordPushEvent } from "./pushes.js";
import type { Ledger } from "../ledger/index.js";
import {
  lastDeliveriesCheckpointEnd,
  recordDeliveriesCheckpoint,
  recordedPushDeliveries,
  type DeliveriesCheckpoint,
} from "../ledger/pushes.js";
import type { GitHubClient } from "../providers/github/index.js";
import { z } from "zod";

/** GitHub.com keeps an app's webhook deliveries for 3 days (GitHub Enterprise Server: 7). */
export const DELIVERY_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;
/** Deliveries this close to the end of the retention may vanish while a run reads them. */
const RETENTION_MARGIN_MS = 60 * 60 * 1000;

const Delivery = z.object({
  id: z.number(),
  guid: z.string(),
  delivered_at: z.string(),
  redelivery: z.boolean(),
  status_code: z.number(),
  event: z.string(),
});
type Delivery = z.infer<typeof Delivery>;
const DeliveryDetail = Delivery.extend({ request: z.object({ payload: z.unknown() }) });

export interface ReconcileLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export interface ReconcileOptions {
  /** Authenticated as the app itself (its JWT), not as an installation. */
  octokit: GitHubClient;
  ledger: Ledger;
  now: () => Date;
  log: ReconcileLog;
  retentionMs?: number;
}

export interface ReconcileSummary {
  checkpoint: DeliveriesCheckpoint;
  /** Pages of the delivery list read and deliveries fetched (the run's requests). */
  pages: number;
  fetched: number;
}

/**
 * One reconciliation. Rejects (and writes no checkpoint) when any listed push delivery cannot be
 * fetched or recorded: the span stays unreconciled and audits read GitHub's activity for it.
 */
export async function reconcilePushDeliveries(options: ReconcileOptions): Promise<ReconcileSummary> {
  const { octokit, ledger, log } = options;
  const to = options.now();
  const retention = options.retentionMs ?? DELIVERY_RETENTION_MS;
  const floor = to.getTime() - retention + RETENTION_MARGIN_MS;
  const last = (await lastDeliveriesCheckpointEnd(ledger, "github"))?.getTime() ?? Number.NEGATIVE_INFINITY;
  // Where GitHub no longer lists deliveries, nothing can be checked: the checkpoint starts there and
  // the hole before it stays a hole.
  const retentionBound = !(last >= floor);
  const from = new Date(retentionBound ? floor : last);

  // Every attempt of each push delivery (a redelivery keeps its guid), newest first.
  const attempts = new Map<string, Delivery[]>();
  let pages = 0;
  let cursor: string | undefined;
  for (;;) {
    const answer = await octokit.request("GET /app/hook/deliveries", {
      per_page: 100,
      ...(cursor ? { cursor } : {}),
    });
    pages += 1;
    const deliveries = z.array(Delivery).parse(answer.data);
    for (const delivery of deliveries) {
      if (delivery.event !== "push") continue;
      const list = attempts.get(delivery.guid);
      if (list) list.push(delivery);
      else attempts.set(delivery.guid, [delivery]);
    }
    const oldest = deliveries.at(-1);
    cursor = nextCursor(String(answer.headers.link ?? ""));
    if (!cursor || !oldest || Date.parse(oldest.delivered_at) < from.getTime()) break;
  }

  // A delivery's first attempt is when GitHub sent it: the push time the live handler would have used.
  const firstAttempts = [...attempts.values()].flatMap((list) => {
    const first = list.reduce((a, b) => (Date.parse(b.delivered_at) < Date.parse(a.delivered_at) ? b : a));
    const at = Date.parse(first.delivered_at);
    return at >= from.getTime() && at <= to.getTime() ? [first] : [];
  });
  // Recorded in the order they happened, as the live deliveries would have been.
  firstAttempts.sort((a, b) => Date.parse(a.delivered_at) - Date.parse(b.delivered_at));
  // Recorded pushes are looked up a day further back: a redelivery the app received keeps its first time.
  const known = await recordedPushDeliveries(
    ledger,
    "github",
    new Date(from.getTime() - 24 * 60 * 60 * 1000),
  );
  let fetched = 0;
  let recorded = 0;
  for (const delivery of firstAttempts) {
    if (known.has(delivery.guid)) continue;
    const detail = await octokit.request("GET /app/hook/deliveries/{delivery_id}", {
      delivery_id: delivery.id,
    });
    fetched += 1;
    const { request } = DeliveryDetail.parse(detail.data);
    const entry = await recordPushEvent(
      ledger,
      request.payload,
      { id: delivery.guid, receivedAt: new Date(delivery.delivered_at) },
      log,
    );
    // A tag's push is no branch's: nothing to record, and nothing missing.
    if (entry) recorded += 1;
    else if (!isTagPush(request.payload))
      throw new Error(`push delivery ${delivery.guid} has a payload the push record cannot read`);
  }
  const checkpoint: DeliveriesCheckpoint = {
    host: "github",
    from: from.toISOString(),
    to: to.toISOString(),
    pushDeliveries: firstAttempts.length,
    recorded,
    retentionBound,
  };
  await recordDeliveriesCheckpoint(ledger, checkpoint);
  log.info({ ...checkpoint, pages, fetched }, "push deliveries reconciled with GitHub's list of them");
  return { checkpoint, pages, fetched };
}

function nextCursor(link: string): string | undefined {
  const next = /<([^>]+)>;\s*rel="next"/.exec(link)?.[1];
  return next ? (new URL(next).searchParams.get("cursor") ?? undefined) : undefined;
}

function isTagPush(payload: unknown): boolean {
  const ref = (payload as { ref?: unknown } | null)?.ref;
  return typeof ref === "string" && !ref.startsWith("refs/heads/");
}

/**
 * The app's reconciliation as the scheduler runs it (every tick, and right before each scheduled
 * audit, so the audit's period is covered to its end): under the coordinator's lock, so two
 * instances do not fetch the same deliveries twice. Never rejects: a failed run leaves its span
 * unreconciled (audits read GitHub's activity there) and the next run starts from the last checkpoint.
 */
export function reconcileOnSchedule(options: {
  appOctokit: () => Promise<GitHubClient>;
  ledger: Ledger;
  now: () => Date;
  log: ReconcileLog;
  withLock?: <T>(key: string, work: () => Promise<T>) => Promise<T>;
}): () => Promise<void> {
  const withLock = options.withLock ?? (<T>(_key: string, work: () => Promise<T>) => work());
  return async () => {
    try {
      await withLock("deliveries:github", async () =>
        reconcilePushDeliveries({
          octokit: await options.appOctokit(),
          ledger: options.ledger,
          now: options.now,
          log: options.log,
        }),
      );
    } catch (error) {
      options.log.warn(
        { error: error instanceof Error ? error.message : String(error) },
        "push deliveries not reconciled: audits read GitHub's activity where the record is not checkpointed",
      );
    }
  };
}
