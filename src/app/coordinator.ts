/**
 * What the app's instances agree on so that any number of them can serve one organization's webhooks:
 * work on one change request, or on one findings tracker, runs in one instance at a time.
 *
 * With PostgreSQL (DATABASE_URL) the lock is a PostgreSQL session advisory lock on a hash of the key,
 * held on a connection of the coordinator's own pool (not the ledger's: work under a lock writes to
 * the ledger, and must never wait for a connection its own lock holds). An instance that dies holding
 * one (SIGKILL) loses its connection and, with it, the lock. Inside one process the same key is first
 * serialised in memory, so a process waits on the server with at most one connection per key. With
 * the embedded ledger (one process) the in-memory lock is the whole story.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import type { Pool, PoolClient } from "pg";

export interface Coordinator {
  /** Runs `work` while holding `key`'s lock across every instance; the lock is released however it ends. */
  withLock<T>(key: string, work: () => Promise<T>): Promise<T>;
  /** Which kind of lock, for logs: "in-process" or "postgres". */
  readonly kind: "in-process" | "postgres";
  close(): Promise<void>;
}

export interface CoordinatorOptions {
  /** The ledger's PostgreSQL: locks then hold across every instance on it. */
  databaseUrl?: string;
  /** Connections of the lock pool: as many keys as this can be held at once by this process. */
  connections?: number;
  /** How long a lock is waited for before the work fails (a holder stuck that long is a fault). */
  waitMs?: number;
}

export function createCoordinator(options: CoordinatorOptions = {}): Coordinator {
  return options.databaseUrl ? postgresCoordinator(options.databaseUrl, options) : inProcessCoordinator();
}

/** Locks of this process only: enough for one process (the embedded ledger serves one). */
export function inProcessCoordinator(): Coordinator {
  const lock = keyedMutex();
  return { kind: "in-process", withLock: lock, close: () => Promise.resolve() };
}

/** A 64-bit advisory lock key for `key`, apart from the ledger's own migration lock (another prefix). */
export function advisoryKey(key: string): string {
  return createHash("sha256").update(`soc2-bot-lock:${key}`).digest().readBigInt64BE(0).toString();
}

export function postgresCoordinator(
  url: string,
  options: Omit<CoordinatorOptions, "databaseUrl"> = {},
): Coordinator {
  const local = keyedMutex();
  const waitMs = options.waitMs ?? 5 * 60_000;
  // The connection of the lock being held in this async context: a lock taken inside another (a
  // change's findings sync takes the tracker's) uses the same session, so nested locks never need a
  // second connection while the pool may be full of first ones.
  const held = new AsyncLocalStorage<PoolClient>();
  let pool: Promise<Pool> | null = null;
  const poolOf = () =>
    (pool ??= import("pg").then(({ default: pg }) => {
      const created = new pg.Pool({
        connectionString: url,
        connectionTimeoutMillis: 10_000,
        idleTimeoutMillis: 30_000,
        max: options.connections ?? 16,
        // A lock not granted in waitMs fails the work (the server ends the wait, not the client).
        options: `-c lock_timeout=${waitMs}`,
      });
      // An idle connection the server drops emits 'error' on the pool; unhandled, it would end the process.
      created.on("error", () => {});
      return created;
    }));

  /** Holds `key` on `client`'s session around `work`; false in `healthy` when the unlock failed. */
  async function onSession<T>(
    client: PoolClient,
    key: string,
    work: () => Promise<T>,
    session: { healthy: boolean },
  ): Promise<T> {
    const id = advisoryKey(key);
    await client.query(`SELECT pg_advisory_lock($1::bigint)`, [id]).catch((error: unknown) => {
      // lock_timeout or a lost connection: either way this session is not reused.
      session.healthy = false;
      throw error;
    });
    try {
      return await held.run(client, work);
    } finally {
      await client.query(`SELECT pg_advisory_unlock($1::bigint)`, [id]).catch(() => {
        session.healthy = false;
      });
    }
  }

  return {
    kind: "postgres",
    withLock: (key, work) =>
      local(key, async () => {
        const outer = held.getStore();
        if (outer) return onSession(outer, key, work, { healthy: true });
        const client = await (await poolOf()).connect();
        const session = { healthy: true };
        // The server ending the session (a restart, an administrator) emits 'error' on the checked-out
        // client; unhandled it would end the process. The lock is gone with it: this session is discarded.
        const onError = () => {
          session.healthy = false;
        };
        client.on("error", onError);
        try {
          return await onSession(client, key, work, session);
        } finally {
          client.off("error", onError);
          // A session that may still hold the lock is closed, never given back to the pool.
          client.release(session.healthy ? undefined : true);
        }
      }),
    async close() {
      const opened = pool;
      pool = null;
      if (opened) await (await opened).end();
    },
  };
}

/** A lock per key in this process: callers of one key run one after another, in arrival order. */
function keyedMutex(): <T>(key: string, work: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const before = tails.get(key) ?? Promise.resolve();
    const result = before.then(work, work);
    const tail = result.catch(() => {});
    tails.set(key, tail);
    void tail.then(() => {
      if (tails.get(key) === tail) tails.delete(key);
    });
    return result;
  };
}
