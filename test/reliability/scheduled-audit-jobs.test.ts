/**
 * Scheduled audits as jobs on PostgreSQL: two instances' schedulers tick at the same moment on one
 * ledger and one job queue; the slot is claimed once, sent as one job, and the audit runs once, on
 * whichever instance's worker takes it, its success recorded in the installation's schedule stream.
 * A failing audit is recorded with its retry time, not retried by the queue (the schedule's backoff
 * decides when it runs again, and the instance that ran it wakes for it).
 */
import { afterAll, describe, expect, it } from "vitest";
import { pgBossQueue, type JobQueue } from "../../src/app/jobs.js";
import { createScheduler, latestSlot, type Installation } from "../../src/app/scheduler.js";
import {
  SCHEDULE_CLAIM,
  SCHEDULE_DONE,
  SCHEDULE_FAILURE,
  openLedger,
  scheduleStream,
  type Ledger,
} from "../../src/ledger/index.js";
import { testBackend } from "../ledger/backends.js";

const ACME: Installation = { id: 31337, account: "acme" };
const STREAM = scheduleStream("github", "acme");
/** ACME's daily slot on 2026-11-16. */
const SLOT = latestSlot(ACME.id, "daily", new Date("2026-11-17T00:00:00Z"));

interface Run {
  instance: string;
  since: string | undefined;
  at: string;
}

describe("scheduled audits as jobs on two instances", () => {
  const backend = testBackend("postgres");
  const queues: JobQueue[] = [];
  const ledgers: Ledger[] = [];
  afterAll(async () => {
    await Promise.all(queues.map((queue) => queue.stop()));
    await Promise.all(ledgers.map((ledger) => ledger.close()));
    await backend.stop();
  });

  async function kinds(ledger: Ledger): Promise<string[]> {
    const found: string[] = [];
    for await (const record of ledger.records(STREAM)) found.push(record.kind);
    return found;
  }

  async function until(done: () => Promise<boolean>, ms = 30_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error("timed out");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Two instances, each with its own ledger connection, job queue and scheduler, as `npm start` runs them. */
  async function instances(
    audit: (instance: string) => Promise<void>,
    runs: Run[],
    armed: { instance: string; delay: number }[] = [],
  ) {
    const options = await backend.fresh();
    const schema = `jobs_${Date.now().toString(36)}s`;
    let clock = SLOT.getTime() - 60_000;
    const now = () => new Date(clock);
    const schedulers = [];
    for (const instance of ["a", "b"]) {
      const ledger = openLedger({ ...options, now });
      ledgers.push(ledger);
      const queue = pgBossQueue(options.databaseUrl!, {
        schema,
        log: { warn: () => {}, error: () => {} },
        instance,
      });
      queues.push(queue);
      schedulers.push(
        createScheduler<Installation>({
          listInstallations: () => Promise.resolve([ACME]),
          cadenceOf: () => "daily",
          runAudit: async (_installation, _cadence, at, since) => {
            runs.push({ instance, at: at.toISOString(), since: since?.toISOString() });
            await audit(instance);
          },
          now,
          // The test's timer: its delays are recorded, it never fires (the test ticks).
          setTimer: (_callback, delay) => {
            armed.push({ instance, delay });
            return { cancel: () => {} };
          },
          ledger,
          queue,
          instance,
        }),
      );
      await queue.start();
    }
    for (const scheduler of schedulers) scheduler.start();
    clock = SLOT.getTime() + 60_000;
    return { schedulers, ledger: ledgers.at(-1)! };
  }

  it("claims a slot once, sends it as one job and runs the audit once, recording its success", async () => {
    const runs: Run[] = [];
    const { schedulers, ledger } = await instances(() => Promise.resolve(), runs);
    const summaries = await Promise.all(schedulers.map((scheduler) => scheduler.tick()));
    // One tick claimed and queued the slot; the other found it claimed, or (when the job had already
    // run and recorded its success by then) found nothing due.
    expect(summaries.flatMap((summary) => summary.queued ?? [])).toEqual([ACME.id]);
    expect(summaries.flatMap((summary) => summary.claimedElsewhere ?? []).length).toBeLessThanOrEqual(1);
    expect(summaries.flatMap((summary) => summary.audited)).toEqual([]);

    await until(async () => (await kinds(ledger)).includes(SCHEDULE_DONE));
    // A moment more: no second run comes from another worker or a retry.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(runs).toEqual([
      {
        instance: expect.stringMatching(/^[ab]$/),
        at: new Date(SLOT.getTime() + 60_000).toISOString(),
        // The first audit reaches back one cadence period.
        since: new Date(SLOT.getTime() + 60_000 - 24 * 60 * 60_000).toISOString(),
      },
    ]);
    expect(await kinds(ledger)).toEqual([SCHEDULE_CLAIM, SCHEDULE_DONE]);
  }, 60_000);

  it("records a failing audit with its retry time and does not run it again from the queue", async () => {
    const runs: Run[] = [];
    const armed: { instance: string; delay: number }[] = [];
    const { schedulers, ledger } = await instances(
      () => Promise.reject(new Error("GitHub answered 502")),
      runs,
      armed,
    );
    await Promise.all(schedulers.map((scheduler) => scheduler.tick()));
    await until(async () => (await kinds(ledger)).includes(SCHEDULE_FAILURE));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(runs).toHaveLength(1);
    expect(await kinds(ledger)).toEqual([SCHEDULE_CLAIM, SCHEDULE_FAILURE]);
    let failure: { error?: string; retryAt?: string | null } = {};
    for await (const record of ledger.records(STREAM)) {
      if (record.kind === SCHEDULE_FAILURE) failure = JSON.parse(record.content) as typeof failure;
    }
    expect(failure.error).toContain("GitHub answered 502");
    // The schedule's backoff: the first retry 15 minutes after the failure.
    expect(failure.retryAt).toBe(new Date(SLOT.getTime() + 60_000 + 15 * 60_000).toISOString());
    // The instance that ran it wakes for that retry rather than at its next tick, an hour away.
    expect(armed).toContainEqual({ instance: runs[0]!.instance, delay: 15 * 60_000 });
  }, 60_000);
});
