/**
 * The app's schedule kept in the ledger (issue 11, item 7): windows contiguous across a restart, a
 * slot missed while the app was down caught up at start-up, a failed audit recorded and retried with
 * bounded backoff, and two schedulers on one database running a slot once. Time is moved, never
 * waited for: the scheduler's clock and timer are the test's.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  createScheduler,
  latestSlot,
  type Installation,
  type SchedulerOptions,
} from "../../src/app/scheduler.js";
import {
  SCHEDULE_CLAIM,
  SCHEDULE_DONE,
  SCHEDULE_FAILURE,
  claimScheduledAudit,
  openLedger,
  readScheduleState,
  recordScheduledDone,
  scheduleStream,
  type Ledger,
  type LedgerOptions,
  type ScheduleFailureContent,
} from "../../src/ledger/index.js";
import { BACKENDS, testBackend } from "../ledger/backends.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const ACME: Installation = { id: 31337, account: "acme" };
const STREAM = scheduleStream("github", "acme");

/** ACME's daily slot on 2026-11-16. */
const SLOT = latestSlot(ACME.id, "daily", new Date("2026-11-17T00:00:00Z"));

interface Call {
  at: string;
  since: string | undefined;
}

/** A clock the test moves and a timer the test fires; resolves `armed` each time a timer is armed. */
function harness(start: Date) {
  let clock = start.getTime();
  const timers: { callback: () => void; delay: number }[] = [];
  let onArm: () => void = () => {};
  return {
    now: () => new Date(clock),
    set: (at: Date) => {
      clock = at.getTime();
    },
    setTimer: (callback: () => void, delay: number) => {
      timers.push({ callback, delay });
      onArm();
      return { cancel: () => {} };
    },
    /** Fires the last armed timer and waits until the tick it starts has armed the next. */
    fire: () =>
      new Promise<void>((resolve) => {
        onArm = resolve;
        timers.at(-1)!.callback();
      }),
    timers,
  };
}

function scheduler(
  ledger: Ledger,
  clock: ReturnType<typeof harness>,
  calls: Call[],
  extra: Partial<SchedulerOptions<Installation>> = {},
) {
  return createScheduler<Installation>({
    listInstallations: () => Promise.resolve([ACME]),
    cadenceOf: () => "daily",
    runAudit: (_installation, _cadence, at, since) => {
      calls.push({ at: at.toISOString(), since: since?.toISOString() });
      return Promise.resolve();
    },
    now: clock.now,
    setTimer: clock.setTimer,
    ledger,
    instance: "test",
    ...extra,
  });
}

async function kinds(ledger: Ledger): Promise<string[]> {
  const found: string[] = [];
  for await (const record of ledger.records(STREAM)) found.push(record.kind);
  return found;
}

describe.each(BACKENDS)("the durable schedule on %s", (name) => {
  const backend = testBackend(name);
  afterAll(() => backend.stop());

  /** A ledger opened as a process would open it, at the test's clock. */
  function open(options: LedgerOptions, clock: ReturnType<typeof harness>): Ledger {
    return openLedger({ ...options, now: clock.now });
  }

  it("keeps consecutive windows contiguous across a restart: the new process starts where the last audit ended", async () => {
    const options = await backend.fresh();
    const clock = harness(new Date(SLOT.getTime() - 30 * MINUTE));
    const calls: Call[] = [];
    const first = open(options, clock);
    const before = scheduler(first, clock, calls);
    clock.set(new Date(SLOT.getTime() + 30 * MINUTE));
    const summary = await before.tick();
    expect(summary.audited).toEqual([ACME.id]);
    // Never audited before: the first window reaches back one cadence period.
    const firstUntil = new Date(SLOT.getTime() + 30 * MINUTE);
    expect(calls).toEqual([
      { at: firstUntil.toISOString(), since: new Date(firstUntil.getTime() - DAY).toISOString() },
    ]);
    before.stop();
    await first.close();

    // A new process, reading the ledger: hourly ticks through the next day's slot.
    const second = open(options, clock);
    clock.set(new Date(SLOT.getTime() + 2 * HOUR));
    const after = scheduler(second, clock, calls);
    after.start();
    await clock.fire(); // the start-up tick: nothing missed
    for (let t = SLOT.getTime() + 3 * HOUR; t <= SLOT.getTime() + DAY + HOUR; t += HOUR) {
      clock.set(new Date(t));
      await clock.fire();
    }
    after.stop();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.since).toBe(calls[0]!.at);
    expect(Date.parse(calls[1]!.at)).toBeGreaterThanOrEqual(SLOT.getTime() + DAY);
    expect(Date.parse(calls[1]!.at)).toBeLessThanOrEqual(SLOT.getTime() + DAY + HOUR);
    expect(await kinds(second)).toEqual([SCHEDULE_CLAIM, SCHEDULE_DONE, SCHEDULE_CLAIM, SCHEDULE_DONE]);
    expect((await second.verify()).breaks).toEqual([]);
    await second.close();
  });

  it("runs a slot missed while the app was down at start-up, over the whole time since the last audit", async () => {
    const options = await backend.fresh();
    const clock = harness(new Date(SLOT.getTime() - 30 * MINUTE));
    const calls: Call[] = [];
    const first = open(options, clock);
    const before = scheduler(first, clock, calls);
    clock.set(new Date(SLOT.getTime() + 30 * MINUTE));
    await before.tick();
    await first.close();
    expect(calls).toHaveLength(1);

    // Down for three days: three slots passed with nobody to run them.
    const restart = new Date(SLOT.getTime() + 3 * DAY + 2 * HOUR);
    clock.set(restart);
    const second = open(options, clock);
    const again = scheduler(second, clock, calls);
    again.start();
    expect(clock.timers.at(-1)!.delay).toBe(0);
    await clock.fire();
    expect(calls[1]).toEqual({ at: restart.toISOString(), since: calls[0]!.at });
    // Caught up once: the next hour's tick has nothing to do.
    clock.set(new Date(restart.getTime() + HOUR));
    await clock.fire();
    again.stop();
    expect(calls).toHaveLength(2);
    await second.close();
  });

  it("records a failure with its error (no token) and retries with growing, bounded backoff", async () => {
    const options = await backend.fresh();
    const clock = harness(new Date(SLOT.getTime() - MINUTE));
    const ledger = open(options, clock);
    const calls: Call[] = [];
    let failures = 0;
    const errors: object[] = [];
    const runner = scheduler(ledger, clock, calls, {
      retry: { baseMs: 10 * MINUTE, maxMs: HOUR, attempts: 3 },
      log: { info: () => {}, error: (object) => errors.push(object) },
      runAudit: (_installation, _cadence, at, since) => {
        calls.push({ at: at.toISOString(), since: since?.toISOString() });
        failures += 1;
        return Promise.reject(
          new Error(
            "GitHub answered 502 for GET /orgs/acme (token ghs_16C7e42F292c6912E7710c838347Ae178B4a)",
          ),
        );
      },
    });
    // Every ten minutes for two hours.
    for (let t = SLOT.getTime() + MINUTE; t <= SLOT.getTime() + 2 * HOUR; t += 10 * MINUTE) {
      clock.set(new Date(t));
      await runner.tick();
    }
    // Tried at the slot, 10 minutes after, then 20 minutes after that; then the tries are spent.
    const tried = calls.map((c) => Math.round((Date.parse(c.at) - SLOT.getTime()) / MINUTE));
    expect(tried).toEqual([1, 11, 31]);
    expect(new Set(calls.map((c) => c.since))).toEqual(new Set([calls[0]!.since]));
    expect(failures).toBe(3);

    const recorded: ScheduleFailureContent[] = [];
    for await (const record of ledger.records(STREAM)) {
      if (record.kind === SCHEDULE_FAILURE)
        recorded.push(JSON.parse(record.content) as ScheduleFailureContent);
      expect(record.content).not.toContain("ghs_16C7e42F");
    }
    expect(recorded.map((f) => [f.attempt, f.retryAt])).toEqual([
      [1, new Date(SLOT.getTime() + 11 * MINUTE).toISOString()],
      [2, new Date(SLOT.getTime() + 31 * MINUTE).toISOString()],
      [3, null],
    ]);
    expect(recorded[0]!.error).toBe("GitHub answered 502 for GET /orgs/acme (token [REDACTED])");
    expect(errors).toHaveLength(3);
    expect(JSON.stringify(errors)).not.toContain("ghs_16C7e42F");

    // The next slot tries again, from the same start: no gap in the windows.
    clock.set(new Date(SLOT.getTime() + DAY + MINUTE));
    await runner.tick();
    expect(calls).toHaveLength(4);
    expect(calls[3]!.since).toBe(calls[0]!.since);
    const state = await readScheduleState(ledger, STREAM);
    expect(state.lastDone).toBeNull();
    expect(state.lastFailure?.attempt).toBe(1);
    await ledger.close();
  });

  it("a retry due before the next hourly tick wakes the scheduler for it", async () => {
    const options = await backend.fresh();
    const clock = harness(new Date(SLOT.getTime() - 30 * MINUTE));
    const ledger = open(options, clock);
    const calls: Call[] = [];
    let fail = true;
    const runner = scheduler(ledger, clock, calls, {
      runAudit: (_installation, _cadence, at, since) => {
        calls.push({ at: at.toISOString(), since: since?.toISOString() });
        if (fail) return Promise.reject(new Error("GitHub answered 503"));
        return Promise.resolve();
      },
    });
    runner.start();
    await clock.fire(); // start-up: nothing yet
    clock.set(new Date(SLOT.getTime() + 30 * MINUTE));
    await clock.fire(); // fails; the default backoff is 15 minutes
    expect(clock.timers.at(-1)!.delay).toBe(15 * MINUTE);
    fail = false;
    clock.set(new Date(SLOT.getTime() + 45 * MINUTE));
    await clock.fire();
    runner.stop();
    expect(calls.map((c) => c.at)).toEqual([
      new Date(SLOT.getTime() + 30 * MINUTE).toISOString(),
      new Date(SLOT.getTime() + 45 * MINUTE).toISOString(),
    ]);
    expect(clock.timers.at(-1)!.delay).toBe(HOUR);
    const state = await readScheduleState(ledger, STREAM);
    expect(state.lastDone?.attempt).toBe(2);
    expect(state.lastDone?.window.since).toBe(calls[0]!.since);
    await ledger.close();
  });

  it("two schedulers on one database run a slot once", async () => {
    const options = await backend.fresh();
    const clock = harness(new Date(SLOT.getTime() - 30 * MINUTE));
    // Two processes on PostgreSQL; on PGlite one process serves everything, so both share its ledger.
    const one = open(options, clock);
    const two = name === "postgres" ? open(options, clock) : one;
    const calls: Call[] = [];
    const slow = (label: string) => async (_i: Installation, _c: string, at: Date, since?: Date) => {
      calls.push({ at: `${label}:${at.toISOString()}`, since: since?.toISOString() });
      await new Promise((resolve) => setTimeout(resolve, 50));
    };
    const a = scheduler(one, clock, calls, { runAudit: slow("a"), instance: "a" });
    const b = scheduler(two, clock, calls, { runAudit: slow("b"), instance: "b" });
    clock.set(new Date(SLOT.getTime() + 30 * MINUTE));
    const [first, second] = await Promise.all([a.tick(), b.tick()]);
    expect(calls).toHaveLength(1);
    expect([...first.audited, ...second.audited]).toEqual([ACME.id]);
    // The other saw the claim: at once (read after it) or under the stream's lock (claimed elsewhere).
    expect([
      ...first.audited,
      ...second.audited,
      ...(first.claimedElsewhere ?? []),
      ...(second.claimedElsewhere ?? []),
    ]).toContain(ACME.id);
    // And the next hour, with the audit done, neither runs it again.
    clock.set(new Date(SLOT.getTime() + 90 * MINUTE));
    await Promise.all([a.tick(), b.tick()]);
    expect(calls).toHaveLength(1);
    expect(await kinds(one)).toEqual([SCHEDULE_CLAIM, SCHEDULE_DONE]);
    await one.close();
    if (two !== one) await two.close();
  });

  it("of many claims made at once by two connections, exactly one is recorded", async () => {
    const options = await backend.fresh();
    const clock = harness(new Date(SLOT.getTime() + MINUTE));
    const one = open(options, clock);
    const two = name === "postgres" ? open(options, clock) : one;
    await Promise.all([one.open(), two.open()]);
    // A stream that exists already (a new one is serialised by the insert of its head row alone).
    const window = { since: new Date(SLOT.getTime() - DAY).toISOString(), until: SLOT.toISOString() };
    await recordScheduledDone(one, STREAM, {
      installation: ACME.id,
      account: ACME.account,
      cadence: "daily",
      window,
      attempt: 1,
      finishedAt: SLOT.toISOString(),
    });
    const claim = (ledger: Ledger, instance: string) =>
      claimScheduledAudit(ledger, STREAM, clock.now(), (state) =>
        state.openClaim
          ? null
          : {
              installation: ACME.id,
              account: ACME.account,
              cadence: "daily",
              window: { since: SLOT.toISOString(), until: clock.now().toISOString() },
              attempt: 1,
              claimedAt: clock.now().toISOString(),
              leaseUntil: new Date(clock.now().getTime() + HOUR).toISOString(),
              instance,
            },
      );
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => claim(i % 2 === 0 ? one : two, `instance-${i}`)),
    );
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    expect(await kinds(one)).toEqual([SCHEDULE_DONE, SCHEDULE_CLAIM]);
    expect((await one.verify()).breaks).toEqual([]);
    await one.close();
    if (two !== one) await two.close();
  });

  it("a tick that cannot read the ledger audits nothing and leaves its slots to the next tick", async () => {
    const options = await backend.fresh();
    const clock = harness(new Date(SLOT.getTime() - 30 * MINUTE));
    const ledger = open(options, clock);
    let down = true;
    const flaky: Ledger = {
      ...ledger,
      records: (stream) => {
        if (down) throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
        return ledger.records(stream);
      },
    };
    const calls: Call[] = [];
    const errors: object[] = [];
    const runner = scheduler(flaky, clock, calls, {
      log: { info: () => {}, error: (object) => errors.push(object) },
    });
    clock.set(new Date(SLOT.getTime() + 30 * MINUTE));
    expect((await runner.tick()).audited).toEqual([]);
    expect(errors).toEqual([
      expect.objectContaining({ stream: STREAM, err: "connect ECONNREFUSED 127.0.0.1:5432" }),
    ]);
    down = false;
    clock.set(new Date(SLOT.getTime() + 90 * MINUTE));
    expect((await runner.tick()).audited).toEqual([ACME.id]);
    expect(calls).toEqual([
      {
        at: new Date(SLOT.getTime() + 90 * MINUTE).toISOString(),
        since: new Date(SLOT.getTime() + 90 * MINUTE - DAY).toISOString(),
      },
    ]);
    await ledger.close();
  });

  it("a claim whose process stopped mid-audit is taken again once its lease runs out", async () => {
    const options = await backend.fresh();
    const clock = harness(new Date(SLOT.getTime() - MINUTE));
    const ledger = open(options, clock);
    const calls: Call[] = [];
    let finish: () => void = () => {};
    const stuck = scheduler(ledger, clock, calls, {
      leaseMs: 2 * HOUR,
      // Never finishes: the process "stops" with its claim open.
      runAudit: (_i, _c, at, since) => {
        calls.push({ at: at.toISOString(), since: since?.toISOString() });
        return new Promise<void>((resolve) => (finish = resolve));
      },
    });
    clock.set(new Date(SLOT.getTime() + MINUTE));
    void stuck.tick();
    await expect.poll(() => calls.length).toBe(1);
    const other = scheduler(ledger, clock, calls, { leaseMs: 2 * HOUR });
    clock.set(new Date(SLOT.getTime() + HOUR));
    expect((await other.tick()).audited).toEqual([]);
    clock.set(new Date(SLOT.getTime() + 2 * HOUR + MINUTE));
    expect((await other.tick()).audited).toEqual([ACME.id]);
    expect(calls[1]!.since).toBe(calls[0]!.since);
    finish();
    await ledger.close();
  });
});
