/**
 * Webhook work as jobs any instance can take. With PostgreSQL (DATABASE_URL) the queue is pg-boss in
 * its own schema beside the ledger's: a webhook is answered once its job is stored, any instance's
 * worker takes it, a job that throws is tried again (with backoff) and, its tries spent, moved to a
 * dead-letter queue the operator can read (`<queue>-dead`). Jobs of one key (a change request) are
 * "stately": at most one waiting and one running per key, so a burst for one change collapses into
 * the one running now and one more that reads the newest state after it.
 *
 * An instance that dies (SIGKILL, a lost machine) cannot fail its own running jobs. Each instance
 * heartbeats (a row of its own, every second) and records the jobs it runs; a survivor that sees an
 * instance's heartbeat stale for a few seconds fails that instance's running jobs for it and makes
 * their retry due at once: they are tried again within seconds, not after their expiry (which stays
 * as the backstop, for a job whose start was not recorded or a queue with no survivor).
 *
 * With the embedded ledger (one process) the same handlers run in process: a job runs when it is
 * sent (the webhook waits for it, as before), tried again the same way, and a job whose tries are
 * spent is logged as dead.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import type PgBoss from "pg-boss";
import type { Pool } from "pg";

export interface JobDefinition<T> {
  handler(data: T): Promise<void>;
  /** Jobs with the same key coalesce (at most one waiting and one running). */
  keyOf?(data: T): string;
  /**
   * Seconds a running job of this queue may take before pg-boss takes it as lost (default: the
   * queue's expireInSeconds). A dead instance's jobs are found by the heartbeats much sooner: this
   * is the backstop, and a job running longer than it is tried again while it still runs.
   */
  expireInSeconds?: number;
  /** Tries after the first, for this queue (default: the queue's retryLimit). */
  retryLimit?: number;
}

export interface JobQueue {
  readonly kind: "in-process" | "postgres";
  /** Registers the handler of a queue; call before start. */
  define<T extends object>(name: string, definition: JobDefinition<T>): void;
  /** Creates the queues and starts this instance's workers. */
  start(): Promise<void>;
  /** Queues a job. In process it has run when this resolves; with PostgreSQL it is stored. */
  send<T extends object>(name: string, data: T): Promise<void>;
  stop(): Promise<void>;
}

export interface JobLog {
  /** Each job's timing (queued, started, finished), when given: where a burst's time goes. */
  info?(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface JobQueueOptions {
  databaseUrl?: string;
  /** pg-boss's schema (default soc2_jobs). */
  schema?: string;
  /** Tries after the first (default 3). */
  retryLimit?: number;
  /** Seconds before the first retry, doubled for each next one (default 5). */
  retryDelaySeconds?: number;
  /** How often an idle worker asks for a job, seconds (pg-boss's minimum is 0.5). */
  pollingIntervalSeconds?: number;
  /**
   * Seconds a running job may take before it is taken as lost and tried again (default 30: a change
   * check takes seconds, each instance runs a few at once so its writes, a second apart, wait seconds
   * at most; a retry of a slow one is harmless under the change's lock). The backstop: a dead
   * instance's recorded jobs are tried again from its stale heartbeat, within seconds.
   */
  expireInSeconds?: number;
  /** Jobs this instance runs at once (default 8). */
  workers?: number;
  /** This instance's name in the heartbeats (default: host name, process id and a random suffix). */
  instance?: string;
  /** How often this instance heartbeats and looks for dead ones, seconds (default 1). */
  heartbeatSeconds?: number;
  /**
   * An instance whose heartbeat is older than this is dead and its running jobs are tried again
   * (default 4: four missed beats; a live instance whose event loop stalls that long only has a
   * job run twice, which the change's lock and the evaluation numbers make harmless).
   */
  deadAfterSeconds?: number;
  log: JobLog;
}

export const DEFAULT_JOBS_SCHEMA = "soc2_jobs";

export function createJobQueue(options: JobQueueOptions): JobQueue {
  return options.databaseUrl ? pgBossQueue(options.databaseUrl, options) : inProcessQueue(options);
}

export function inProcessQueue(options: Omit<JobQueueOptions, "databaseUrl" | "schema">): JobQueue {
  const definitions = new Map<string, JobDefinition<object>>();
  const retryLimit = options.retryLimit ?? 3;
  const delayMs = (options.retryDelaySeconds ?? 5) * 1000;
  return {
    kind: "in-process",
    define(name, definition) {
      definitions.set(name, definition as JobDefinition<object>);
    },
    start: () => Promise.resolve(),
    async send(name, data) {
      const definition = definitions.get(name);
      if (!definition) throw new Error(`no job queue "${name}" is defined`);
      for (let attempt = 0; ; attempt++) {
        try {
          await definition.handler(data);
          return;
        } catch (error) {
          if (attempt >= retryLimit) {
            options.log.error(
              { queue: name, attempts: attempt + 1, err: String(error) },
              "job dead: its tries are spent",
            );
            return;
          }
          options.log.warn(
            { queue: name, attempt: attempt + 1, err: String(error) },
            "job failed; tried again",
          );
          await new Promise((resolve) => setTimeout(resolve, delayMs * 2 ** attempt));
        }
      }
    },
    stop: () => Promise.resolve(),
  };
}

export function pgBossQueue(url: string, options: Omit<JobQueueOptions, "databaseUrl">): JobQueue {
  const schema = options.schema ?? DEFAULT_JOBS_SCHEMA;
  const definitions = new Map<string, JobDefinition<object>>();
  // Each queue's workers on this instance, and whether each is running a job now.
  const workersOf = new Map<string, { id: string | null; busy: boolean }[]>();
  // Each queue's creation (and its workers' start), once per queue: a queue defined after start is
  // created then.
  const created = new Map<string, Promise<void>>();
  let creations: Promise<void> = Promise.resolve();
  const instance = options.instance ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const heartbeatMs = (options.heartbeatSeconds ?? 1) * 1000;
  const deadAfterSeconds = options.deadAfterSeconds ?? 4;
  let boss: Promise<PgBoss> | null = null;
  let ready: Promise<void> | null = null;
  let started = false;
  let heartbeat: NodeJS.Timeout | null = null;
  let beating: Promise<void> | null = null;
  // The heartbeats' own connections: a beat never waits behind pg-boss's busy pool.
  let pool: Promise<Pool> | null = null;
  const poolOf = () =>
    (pool ??= import("pg").then(({ default: pg }) => {
      const opened = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 10_000 });
      // An idle connection the server drops emits 'error' on the pool; unhandled, it would end the process.
      opened.on("error", () => {});
      return opened;
    }));
  const sql = async (text: string, values: unknown[] = []) => (await poolOf()).query(text, values);
  const bossOf = () =>
    (boss ??= import("pg-boss")
      .then(async ({ default: Boss }) => {
        const created = new Boss({
          connectionString: url,
          schema,
          max: 4,
          // No pg-boss cron on these instances: scheduled audits are claimed in the ledger.
          schedule: false,
          // Expired jobs (a killed instance's whose start was not recorded) are found by this
          // maintenance, run by one instance at a time: every 5 s, seconds after their expiry.
          maintenanceIntervalSeconds: 5,
        });
        // pg-boss reports a lost connection or a failed maintenance here; unhandled it would end the process.
        created.on("error", (error: unknown) => options.log.error({ err: String(error) }, "job queue error"));
        await created.start();
        return created;
      })
      .catch((error: unknown) => {
        // Not kept: the next send or start tries again (the database may be back by then).
        boss = null;
        throw error;
      }));
  // pg-boss drops a job sent to a queue not created yet (it inserts nothing and answers null): sends
  // wait for the queues.
  const start = (): Promise<void> =>
    (ready ??= startAll().catch((error: unknown) => {
      ready = null;
      throw error;
    }));
  const queueReady = (name: string): Promise<void> => {
    let creating = created.get(name);
    if (!creating) {
      // One creation at a time: pg-boss's createQueue of several queues at once deadlocks on its
      // partitions.
      creating = creations
        .then(() => createQueue(name))
        .catch((error: unknown) => {
          created.delete(name);
          throw error;
        });
      creations = creating.catch(() => {});
      created.set(name, creating);
    }
    return creating;
  };
  return {
    kind: "postgres",
    define(name, definition) {
      definitions.set(name, definition as JobDefinition<object>);
      // Defined after start (an endpoint wired later): its queue and workers start now.
      if (started) {
        queueReady(name).catch((error: unknown) =>
          options.log.error({ queue: name, err: String(error) }, "job queue not created"),
        );
      }
    },
    start,
    async send(name, data) {
      const definition = definitions.get(name);
      if (!definition) throw new Error(`no job queue "${name}" is defined`);
      await start();
      await queueReady(name);
      const boss = await bossOf();
      const key = definition.keyOf?.(data);
      const id = await boss.send(name, data, key === undefined ? {} : { singletonKey: key });
      // null with a key: a job of this key is already waiting, and will read the newest state when it runs.
      if (id === null && key === undefined) throw new Error(`the job queue "${name}" refused the job`);
      // An idle worker here takes it now rather than at its next poll (up to pollingIntervalSeconds
      // later): pg-boss's notifyWorker ends that worker's wait. Other instances still find it by polling.
      if (id !== null) wakeWorker(boss, name);
    },
    async stop() {
      const stopping = boss;
      boss = null;
      ready = null;
      started = false;
      created.clear();
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = null;
      await beating;
      if (stopping) await (await stopping).stop({ graceful: true, wait: true, timeout: 10_000 });
      const opened = pool;
      pool = null;
      if (opened) {
        const connections = await opened;
        // Stopped gracefully: its jobs are finished, nobody needs to look for them.
        await connections
          .query(`DELETE FROM ${schema}.soc2_instance WHERE instance = $1`, [instance])
          .catch(() => {});
        await connections.end();
      }
    },
  };

  function wakeWorker(boss: PgBoss, name: string): void {
    const idle = workersOf.get(name)?.find((worker) => !worker.busy && worker.id !== null);
    if (idle) boss.notifyWorker(idle.id!);
  }

  async function startAll(): Promise<void> {
    await bossOf();
    await createInstanceTables();
    await beat();
    started = true;
    for (const name of definitions.keys()) await queueReady(name);
    heartbeat ??= setInterval(() => {
      // One beat at a time: a slow database must not pile them up.
      if (beating) return;
      beating = beat().finally(() => {
        beating = null;
      });
    }, heartbeatMs);
    // The beats must not keep a process alive that is otherwise done.
    heartbeat.unref();
  }

  /**
   * The heartbeats and the jobs each instance runs, in pg-boss's schema. Created under a transaction
   * lock: instances starting together would otherwise race on the catalog.
   */
  async function createInstanceTables(): Promise<void> {
    const client = await (await poolOf()).connect();
    try {
      await client.query("BEGIN");
      await client.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`${schema}.soc2_instance`]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${schema}.soc2_instance (
           instance text PRIMARY KEY,
           beat_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${schema}.soc2_running (
           job_id uuid NOT NULL,
           queue text NOT NULL,
           instance text NOT NULL,
           retry_count integer NOT NULL,
           PRIMARY KEY (job_id, instance)
         )`,
      );
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  /** This instance's heartbeat, then the dead instances' running jobs tried again. Never rejects. */
  async function beat(): Promise<void> {
    try {
      await sql(
        `INSERT INTO ${schema}.soc2_instance (instance, beat_at) VALUES ($1, now())
         ON CONFLICT (instance) DO UPDATE SET beat_at = now()`,
        [instance],
      );
      await retryDeadInstancesJobs();
    } catch (error) {
      options.log.warn({ instance, err: String(error) }, "job queue heartbeat failed");
    }
  }

  async function retryDeadInstancesJobs(): Promise<void> {
    // Deleting the dead instance's row claims its jobs: of several survivors, one deletes it, and
    // only that one fails them (twice would fail a job already running again elsewhere).
    const { rows } = await sql(
      `WITH dead AS (
         DELETE FROM ${schema}.soc2_instance
         WHERE instance <> $1 AND beat_at < now() - make_interval(secs => $2)
         RETURNING instance
       ), orphaned AS (
         DELETE FROM ${schema}.soc2_running r USING dead WHERE r.instance = dead.instance
         RETURNING r.job_id, r.queue, r.instance, r.retry_count
       )
       SELECT o.job_id::text AS id, o.queue, o.instance FROM orphaned o
       JOIN ${schema}.job j ON j.id = o.job_id AND j.name = o.queue
       WHERE j.state = 'active' AND j.retry_count = o.retry_count`,
      [instance, deadAfterSeconds],
    );
    if (rows.length === 0) return;
    const byQueue = new Map<string, string[]>();
    for (const row of rows as { id: string; queue: string; instance: string }[]) {
      byQueue.set(row.queue, [...(byQueue.get(row.queue) ?? []), row.id]);
    }
    const boss = await bossOf();
    for (const [queue, ids] of byQueue) {
      const dead = [...new Set((rows as { queue: string; instance: string }[]).map((r) => r.instance))];
      // fail() moves each to retry (or, its tries spent, to the dead letter) with the queue's backoff
      // delay; the retry is due at once instead: its instance died, the job did not fail.
      await boss.fail(queue, ids);
      await sql(
        `UPDATE ${schema}.job SET start_after = now()
         WHERE name = $1 AND id = ANY($2::uuid[]) AND state = 'retry'`,
        [queue, ids],
      );
      options.log.warn({ queue, jobs: ids, instances: dead }, "a dead instance's running jobs tried again");
      wakeWorker(boss, queue);
    }
  }

  async function createQueue(name: string): Promise<void> {
    const definition = definitions.get(name);
    if (!definition) throw new Error(`no job queue "${name}" is defined`);
    const boss = await bossOf();
    const dead = `${name}-dead`;
    if (!(await boss.getQueue(dead))) await boss.createQueue(dead, { name: dead });
    if (!(await boss.getQueue(name))) {
      await boss.createQueue(name, {
        name,
        policy: definition.keyOf ? "stately" : "standard",
        retryLimit: definition.retryLimit ?? options.retryLimit ?? 3,
        retryDelay: options.retryDelaySeconds ?? 5,
        retryBackoff: true,
        expireInSeconds: definition.expireInSeconds ?? options.expireInSeconds ?? 30,
        deadLetter: dead,
      });
    }
    // Each worker runs one job at a time: several, so one slow change does not hold the others.
    const workers: { id: string | null; busy: boolean }[] = [];
    workersOf.set(name, workers);
    for (let i = 0; i < (options.workers ?? 8); i++) {
      const worker = { id: null as string | null, busy: false };
      workers.push(worker);
      worker.id = await boss.work<object>(
        name,
        {
          batchSize: 1,
          includeMetadata: true,
          pollingIntervalSeconds: options.pollingIntervalSeconds ?? 0.5,
        },
        async (jobs: PgBoss.JobWithMetadata<object>[]) => {
          worker.busy = true;
          try {
            for (const job of jobs) await runJob(name, definition, job);
          } finally {
            worker.busy = false;
          }
        },
      );
    }
  }

  async function runJob(
    name: string,
    definition: JobDefinition<object>,
    job: PgBoss.JobWithMetadata<object>,
  ): Promise<void> {
    const started = Date.now();
    const timing = () => ({
      queue: name,
      job: job.id,
      ...(job.singletonKey ? { key: job.singletonKey } : {}),
      retry: job.retryCount,
      // Queued to started: the wait for a worker (polling, busy workers, the key's running job).
      waitedMs: started - new Date(job.createdOn).getTime(),
      ranMs: Date.now() - started,
    });
    // Recorded so that, should this instance die, a survivor tries the job again at once. Not
    // recorded (the database hiccupped): its expiry is the backstop.
    const running = await sql(
      `INSERT INTO ${schema}.soc2_running (job_id, queue, instance, retry_count) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING`,
      [job.id, name, instance, job.retryCount],
    ).then(
      () => true,
      (error: unknown) => {
        options.log.warn({ ...timing(), err: String(error) }, "job start not recorded");
        return false;
      },
    );
    try {
      await definition.handler(job.data);
      options.log.info?.(timing(), "job done");
    } catch (error) {
      options.log.warn({ ...timing(), err: String(error) }, "job failed; it is tried again");
      throw error;
    } finally {
      if (running) {
        await sql(`DELETE FROM ${schema}.soc2_running WHERE job_id = $1 AND instance = $2`, [
          job.id,
          instance,
        ]).catch(() => {});
      }
    }
  }
}
