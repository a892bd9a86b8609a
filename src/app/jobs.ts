/**
 * Webhook work as jobs any instance can take. With PostgreSQL (DATABASE_URL) the queue is pg-boss in
 * its own schema beside the ledger's: a webhook is answered once its job is stored, any instance's
 * worker takes it, a job that throws is tried again (with backoff) and, its tries spent, moved to a
 * dead-letter queue the operator can read (`<queue>-dead`). Jobs of one key (a change request) are
 * "stately": at most one waiting and one running per key, so a burst for one change collapses into
 * the one running now and one more that reads the newest state after it.
 *
 * With the embedded ledger (one process) the same handlers run in process: a job runs when it is
 * sent (the webhook waits for it, as before), tried again the same way, and a job whose tries are
 * spent is logged as dead.
 */
import type PgBoss from "pg-boss";

export interface JobDefinition<T> {
  handler(data: T): Promise<void>;
  /** Jobs with the same key coalesce (at most one waiting and one running). */
  keyOf?(data: T): string;
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
   * Seconds a running job may take before it is taken as lost (its instance died) and tried again
   * (default 30: a change check takes seconds, each instance runs a few at once so its writes, a
   * second apart, wait seconds at most; a retry of a slow one is harmless under the change's lock).
   */
  expireInSeconds?: number;
  /** Jobs this instance runs at once (default 8). */
  workers?: number;
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
  const definitions = new Map<string, JobDefinition<object>>();
  // Each queue's workers on this instance, and whether each is running a job now.
  const workersOf = new Map<string, { id: string | null; busy: boolean }[]>();
  let boss: Promise<PgBoss> | null = null;
  let ready: Promise<void> | null = null;
  const bossOf = () =>
    (boss ??= import("pg-boss")
      .then(async ({ default: Boss }) => {
        const created = new Boss({
          connectionString: url,
          schema: options.schema ?? DEFAULT_JOBS_SCHEMA,
          max: 4,
          // No pg-boss cron on these instances: scheduled audits are claimed in the ledger.
          schedule: false,
          // Expired jobs (a killed instance's) are found by this maintenance, run by one instance at
          // a time: every 5 s, so such a job is tried again seconds after its expiry, not minutes.
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
    (ready ??= createQueues().catch((error: unknown) => {
      ready = null;
      throw error;
    }));
  return {
    kind: "postgres",
    define(name, definition) {
      definitions.set(name, definition as JobDefinition<object>);
    },
    start,
    async send(name, data) {
      const definition = definitions.get(name);
      if (!definition) throw new Error(`no job queue "${name}" is defined`);
      await start();
      const started = await bossOf();
      const key = definition.keyOf?.(data);
      const id = await started.send(name, data, key === undefined ? {} : { singletonKey: key });
      // null with a key: a job of this key is already waiting, and will read the newest state when it runs.
      if (id === null && key === undefined) throw new Error(`the job queue "${name}" refused the job`);
      // An idle worker here takes it now rather than at its next poll (up to pollingIntervalSeconds
      // later): pg-boss's notifyWorker ends that worker's wait. Other instances still find it by polling.
      if (id !== null) {
        const idle = workersOf.get(name)?.find((worker) => !worker.busy && worker.id !== null);
        if (idle) started.notifyWorker(idle.id!);
      }
    },
    async stop() {
      const started = boss;
      boss = null;
      ready = null;
      if (started) await (await started).stop({ graceful: true, wait: true, timeout: 10_000 });
    },
  };

  async function createQueues(): Promise<void> {
    const started = await bossOf();
    for (const [name, definition] of definitions) {
      const dead = `${name}-dead`;
      if (!(await started.getQueue(dead))) await started.createQueue(dead, { name: dead });
      if (!(await started.getQueue(name))) {
        await started.createQueue(name, {
          name,
          policy: definition.keyOf ? "stately" : "standard",
          retryLimit: options.retryLimit ?? 3,
          retryDelay: options.retryDelaySeconds ?? 5,
          retryBackoff: true,
          expireInSeconds: options.expireInSeconds ?? 30,
          deadLetter: dead,
        });
      }
      // Each worker runs one job at a time: several, so one slow change does not hold the others.
      const workers: { id: string | null; busy: boolean }[] = [];
      workersOf.set(name, workers);
      for (let i = 0; i < (options.workers ?? 8); i++) {
        const worker = { id: null as string | null, busy: false };
        workers.push(worker);
        worker.id = await started.work<object>(
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
    try {
      await definition.handler(job.data);
      options.log.info?.(timing(), "job done");
    } catch (error) {
      options.log.warn({ ...timing(), err: String(error) }, "job failed; it is tried again");
      throw error;
    }
  }
}
