/**
 * Webhook deliveries handled once across every instance on one ledger: a delivery (GitHub's
 * X-GitHub-Delivery, GitLab's X-Gitlab-Event-UUID) is claimed before it is handled, and a redelivery or
 * replay of it finds the claim and is left alone. Claims are kept for two days (GitHub lets a delivery
 * of the last three days be redelivered by hand; the issue asks at least one).
 *
 * A claim is a lease, not a promise: the instance handling a delivery renews it while it works, and
 * an instance that dies mid-work (SIGKILL) leaves a claim nobody renews, so once its lease is over a
 * redelivery is handled again rather than lost. A handler that fails releases its claim for the same
 * reason.
 *
 * Without a ledger (tests, one-off runs) the same rules hold in this process's memory.
 */
import type { Ledger } from "./ledger.js";

export interface DeliveryClaims {
  /** True when this caller should handle the delivery; false when it was handled or is being handled. */
  claim(host: string, id: string): Promise<boolean>;
  /** Still working on it: the lease runs for another lease period from now. */
  renew(host: string, id: string): Promise<void>;
  /** The delivery was handled: redeliveries of it are duplicates for the next two days. */
  finish(host: string, id: string): Promise<void>;
  /** Its handling failed: a redelivery is handled again. */
  release(host: string, id: string): Promise<void>;
}

export interface DeliveryClaimOptions {
  /**
   * How long a claim holds without being renewed or finished (its instance stopped mid-work): a
   * redelivery waits this long at most. Default 15 seconds; the handler renews it every third of it.
   */
  leaseMs?: number;
  /** How long a delivery is remembered. Default two days. */
  keepMs?: number;
  now?: () => Date;
}

export const DELIVERY_LEASE_MS = 15_000;
export const DELIVERY_KEEP_MS = 2 * 24 * 3_600_000;
/** Old claims are deleted at most this often by one process. */
const PRUNE_EVERY_MS = 3_600_000;

/** Claims in the ledger's `deliveries` table (migration 2), shared by every instance on the ledger. */
export function ledgerDeliveryClaims(ledger: Ledger, options: DeliveryClaimOptions = {}): DeliveryClaims {
  const leaseMs = options.leaseMs ?? DELIVERY_LEASE_MS;
  const keepMs = options.keepMs ?? DELIVERY_KEEP_MS;
  const now = options.now ?? (() => new Date());
  let prunedAt = 0;
  return {
    async claim(host, id) {
      const db = await ledger.database();
      const at = now();
      if (at.getTime() - prunedAt >= PRUNE_EVERY_MS) {
        prunedAt = at.getTime();
        await db.query(`DELETE FROM deliveries WHERE received_at < $1`, [new Date(at.getTime() - keepMs)]);
      }
      // One statement, so two instances receiving the same delivery at once cannot both win: the
      // insert takes a new delivery, the update takes over an abandoned claim, else nothing returns.
      const rows = await db.query<{ delivery_id: string }>(
        `INSERT INTO deliveries (host, delivery_id, state, received_at, lease_until)
         VALUES ($1, $2, 'claimed', $3, $4)
         ON CONFLICT (host, delivery_id) DO UPDATE
           SET state = 'claimed', received_at = EXCLUDED.received_at, lease_until = EXCLUDED.lease_until
           WHERE deliveries.state = 'claimed' AND deliveries.lease_until < EXCLUDED.received_at
         RETURNING delivery_id`,
        [host, id, at, new Date(at.getTime() + leaseMs)],
      );
      return rows.length === 1;
    },
    async renew(host, id) {
      const db = await ledger.database();
      await db.query(
        `UPDATE deliveries SET lease_until = $3 WHERE host = $1 AND delivery_id = $2 AND state = 'claimed'`,
        [host, id, new Date(now().getTime() + leaseMs)],
      );
    },
    async finish(host, id) {
      const db = await ledger.database();
      await db.query(`UPDATE deliveries SET state = 'done' WHERE host = $1 AND delivery_id = $2`, [host, id]);
    },
    async release(host, id) {
      const db = await ledger.database();
      await db.query(`DELETE FROM deliveries WHERE host = $1 AND delivery_id = $2 AND state = 'claimed'`, [
        host,
        id,
      ]);
    },
  };
}

/** The same claims in this process's memory (one process, no ledger). */
export function memoryDeliveryClaims(options: DeliveryClaimOptions = {}): DeliveryClaims {
  const leaseMs = options.leaseMs ?? DELIVERY_LEASE_MS;
  const keepMs = options.keepMs ?? DELIVERY_KEEP_MS;
  const now = options.now ?? (() => new Date());
  // In insertion order, which is receipt order: pruning stops at the first one still kept.
  const claims = new Map<string, { done: boolean; receivedAt: number; leaseUntil: number }>();
  const keyOf = (host: string, id: string) => `${host}\n${id}`;
  return {
    claim(host, id) {
      const at = now().getTime();
      for (const [key, claim] of claims) {
        if (claim.receivedAt >= at - keepMs) break;
        claims.delete(key);
      }
      const key = keyOf(host, id);
      const existing = claims.get(key);
      if (existing && (existing.done || existing.leaseUntil >= at)) return Promise.resolve(false);
      claims.delete(key);
      claims.set(key, { done: false, receivedAt: at, leaseUntil: at + leaseMs });
      return Promise.resolve(true);
    },
    renew(host, id) {
      const claim = claims.get(keyOf(host, id));
      if (claim && !claim.done) claim.leaseUntil = now().getTime() + leaseMs;
      return Promise.resolve();
    },
    finish(host, id) {
      const claim = claims.get(keyOf(host, id));
      if (claim) claim.done = true;
      return Promise.resolve();
    },
    release(host, id) {
      const key = keyOf(host, id);
      if (claims.get(key)?.done === false) claims.delete(key);
      return Promise.resolve();
    },
  };
}

/**
 * Evaluations of one change request, numbered in the order they start (under the change's lock), so
 * that instances agree on which verdict is the newest. A delivery notes the last number on arrival
 * (`mark`): an evaluation numbered after it started reading after the delivery came, so once such an
 * evaluation has published, the delivery's state is already shown and it need not be evaluated again
 * (a burst spread over instances coalesces). And a verdict is written only while no evaluation that
 * started later has published (`mayPublish`): a slower instance never overwrites a newer verdict.
 */
export interface ChangeEvaluations {
  /** The number of the last evaluation started for the change; 0 before the first. */
  mark(change: string): Promise<number>;
  /** Starts an evaluation: its number, greater than every earlier one's. */
  begin(change: string): Promise<number>;
  /** Whether an evaluation numbered after `mark` has published its verdict. */
  coveredSince(change: string, mark: number): Promise<boolean>;
  /** Whether evaluation `number`'s verdict may be written: no later-started one has been. */
  mayPublish(change: string, number: number): Promise<boolean>;
  /** Evaluation `number`'s verdict was written. */
  published(change: string, number: number): Promise<void>;
}

/** Evaluation numbers in the ledger's `change_evaluations` table (migration 2), shared by every instance. */
export function ledgerChangeEvaluations(
  ledger: Ledger,
  now: () => Date = () => new Date(),
): ChangeEvaluations {
  const row = async (change: string) => {
    const db = await ledger.database();
    const [found] = await db.query<{ started: number; published: number }>(
      `SELECT started, published FROM change_evaluations WHERE change = $1`,
      [change],
    );
    return found ?? { started: 0, published: 0 };
  };
  return {
    mark: async (change) => (await row(change)).started,
    async begin(change) {
      const db = await ledger.database();
      const [started] = await db.query<{ started: number }>(
        `INSERT INTO change_evaluations (change, started, updated_at) VALUES ($1, 1, $2)
         ON CONFLICT (change) DO UPDATE
           SET started = change_evaluations.started + 1, updated_at = EXCLUDED.updated_at
         RETURNING started`,
        [change, now()],
      );
      return started!.started;
    },
    coveredSince: async (change, mark) => (await row(change)).published > mark,
    mayPublish: async (change, number) => (await row(change)).published < number,
    async published(change, number) {
      const db = await ledger.database();
      await db.query(
        `UPDATE change_evaluations SET published = GREATEST(published, $2), updated_at = $3 WHERE change = $1`,
        [change, number, now()],
      );
    },
  };
}

/** The same numbers in this process's memory (one process, no ledger). */
export function memoryChangeEvaluations(): ChangeEvaluations {
  const changes = new Map<string, { started: number; published: number }>();
  const row = (change: string) => {
    let found = changes.get(change);
    if (!found) changes.set(change, (found = { started: 0, published: 0 }));
    return found;
  };
  return {
    mark: (change) => Promise.resolve(changes.get(change)?.started ?? 0),
    begin: (change) => Promise.resolve((row(change).started += 1)),
    coveredSince: (change, mark) => Promise.resolve((changes.get(change)?.published ?? 0) > mark),
    mayPublish: (change, number) => Promise.resolve((changes.get(change)?.published ?? 0) < number),
    published(change, number) {
      const found = row(change);
      found.published = Math.max(found.published, number);
      return Promise.resolve();
    },
  };
}
