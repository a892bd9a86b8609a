import { describe, expect, it } from "vitest";
import {
  CADENCE_PERIOD_MS,
  createScheduler,
  dueInstallations,
  slotFor,
  type Cadence,
  type Installation,
} from "../../src/app/scheduler.js";
import type { AuditSchedule } from "../../src/policy/types.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

function installations(count: number, from = 1): Installation[] {
  return Array.from({ length: count }, (_, i) => ({ id: from + i, account: `org-${from + i}` }));
}

/** The start of the period of `cadence` that contains `at`, as the scheduler counts periods. */
function periodStart(at: Date, cadence: Cadence): number {
  const period = CADENCE_PERIOD_MS[cadence];
  return Math.floor(at.getTime() / period) * period;
}

describe("slotFor", () => {
  it("spreads 1,000 installations over a week: no hour holds more than three times the mean", () => {
    const hours = new Array<number>(7 * 24).fill(0);
    for (const { id } of installations(1000)) {
      const slot = slotFor(id, "weekly");
      hours[Math.floor(slot / HOUR)]! += 1;
    }
    const mean = 1000 / hours.length;
    expect(Math.max(...hours)).toBeLessThanOrEqual(3 * mean);
    // Spread, not piled up: nearly every hour of the week has someone.
    expect(hours.filter((n) => n === 0).length).toBeLessThan(5);
  });

  it("keeps each cadence's slot inside its period and gives the same slot every time", () => {
    for (const { id } of installations(200, 90_000)) {
      for (const cadence of ["daily", "weekly", "monthly"] as const) {
        const slot = slotFor(id, cadence);
        expect(slot).toBeGreaterThanOrEqual(0);
        expect(slot).toBeLessThan(CADENCE_PERIOD_MS[cadence]);
        expect(slotFor(id, cadence)).toBe(slot);
      }
    }
    expect(CADENCE_PERIOD_MS).toEqual({ daily: DAY, weekly: 7 * DAY, monthly: 30 * DAY });
  });
});

describe("dueInstallations", () => {
  const tick = new Date("2026-11-16T10:00:00Z");

  it("names an installation exactly once across consecutive hourly ticks, in the tick after its slot", () => {
    const all = installations(300);
    const weekly = (): AuditSchedule => "weekly";
    const start = periodStart(tick, "weekly");
    const seen = new Map<number, number>();
    // Every hourly window of one whole week, boundaries shared: (t, t+1h].
    for (let t = start; t < start + 7 * DAY; t += HOUR) {
      for (const { id } of dueInstallations(all, new Date(t), new Date(t + HOUR), weekly)) {
        seen.set(id, (seen.get(id) ?? 0) + 1);
        const slot = start + slotFor(id, "weekly");
        expect(slot).toBeGreaterThan(t);
        expect(slot).toBeLessThanOrEqual(t + HOUR);
      }
    }
    expect(seen.size).toBe(all.length);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it("counts a slot exactly at the tick as due in that tick, not in the next", () => {
    const [installation] = installations(1, 4242);
    const slot = new Date(periodStart(tick, "daily") + slotFor(4242, "daily"));
    const daily = (): AuditSchedule => "daily";
    expect(dueInstallations([installation!], new Date(slot.getTime() - HOUR), slot, daily)).toEqual([
      installation,
    ]);
    expect(dueInstallations([installation!], slot, new Date(slot.getTime() + HOUR), daily)).toEqual([]);
  });

  it("follows each organization's cadence, and never audits one whose schedule is off", () => {
    const all = installations(2000);
    const cadenceOf = (i: Installation): AuditSchedule =>
      (["daily", "weekly", "monthly", "off"] as const)[i.id % 4]!;
    // One whole day in hourly ticks: every daily installation, a seventh of the weekly ones…
    const due = new Set<number>();
    const start = periodStart(tick, "daily");
    for (let t = start; t < start + DAY; t += HOUR) {
      for (const { id } of dueInstallations(all, new Date(t), new Date(t + HOUR), cadenceOf)) due.add(id);
    }
    const byCadence = (c: AuditSchedule) => all.filter((i) => cadenceOf(i) === c && due.has(i.id)).length;
    expect(byCadence("daily")).toBe(500);
    expect(byCadence("weekly")).toBeGreaterThan(500 / 7 / 2);
    expect(byCadence("weekly")).toBeLessThan((500 / 7) * 2);
    expect(byCadence("monthly")).toBeLessThan((500 / 30) * 3);
    expect(byCadence("off")).toBe(0);
  });
});

describe("createScheduler", () => {
  /** A clock the test moves, and a timer the test fires. */
  function harness(start: Date) {
    let clock = start.getTime();
    const timers: { callback: () => void; delay: number; cancelled: boolean }[] = [];
    return {
      now: () => new Date(clock),
      advance: (ms: number) => {
        clock += ms;
      },
      setTimer: (callback: () => void, delay: number) => {
        const timer = { callback, delay, cancelled: false };
        timers.push(timer);
        return { cancel: () => void (timer.cancelled = true) };
      },
      timers,
    };
  }

  function dailySlotInWindow(ids: number[], after: Date, until: Date): number[] {
    return ids.filter((id) => {
      const at = periodStart(until, "daily") + slotFor(id, "daily");
      return at > after.getTime() && at <= until.getTime();
    });
  }

  it("audits every due installation one at a time, and a failing one stops none of the others", async () => {
    const start = new Date(periodStart(new Date("2026-11-16T00:00:00Z"), "daily") + 6 * HOUR);
    const clock = harness(start);
    const all = installations(400);
    const expected = dailySlotInWindow(
      all.map((i) => i.id),
      start,
      new Date(start.getTime() + HOUR),
    );
    expect(expected.length).toBeGreaterThan(3);
    const failing = expected[1]!;
    const errors: object[] = [];
    const order: string[] = [];
    let running = 0;
    const scheduler = createScheduler({
      listInstallations: () => Promise.resolve(all),
      cadenceOf: () => "daily",
      runAudit: async (installation, cadence, at) => {
        running += 1;
        expect(running).toBe(1);
        order.push(`${installation.id}:${cadence}:${at.toISOString()}`);
        await new Promise((resolve) => setImmediate(resolve));
        running -= 1;
        if (installation.id === failing) throw new Error("GitHub could not read organization org: 502");
      },
      now: clock.now,
      setTimer: clock.setTimer,
      log: { info: () => {}, error: (object) => errors.push(object) },
    });

    scheduler.start();
    expect(clock.timers.map((t) => t.delay)).toEqual([HOUR]);
    clock.advance(HOUR);
    const summary = await scheduler.tick();

    const until = new Date(start.getTime() + HOUR).toISOString();
    expect(summary).toEqual({
      window: { after: start.toISOString(), until },
      due: expected,
      audited: expected.filter((id) => id !== failing),
      failed: [failing],
    });
    expect(order).toEqual(expected.map((id) => `${id}:daily:${until}`));
    expect(errors).toEqual([
      expect.objectContaining({ installation: failing, account: `org-${failing}`, cadence: "daily" }),
    ]);
  });

  it("ticks again when the timer fires, over the next window only, until stopped", async () => {
    const start = new Date("2026-11-16T00:00:00Z");
    const clock = harness(start);
    const audited: number[][] = [];
    // The scheduler arms its next timer once a tick has finished: that is when the test goes on.
    let armed: () => void = () => {};
    const scheduler = createScheduler({
      listInstallations: () => Promise.resolve(installations(400)),
      cadenceOf: () => "daily",
      runAudit: (installation) => {
        audited.at(-1)!.push(installation.id);
        return Promise.resolve();
      },
      now: clock.now,
      setTimer: (callback, delay) => {
        armed();
        return clock.setTimer(callback, delay);
      },
    });
    scheduler.start();
    for (let hour = 1; hour <= 3; hour += 1) {
      clock.advance(HOUR);
      audited.push([]);
      await new Promise<void>((resolve) => {
        armed = resolve;
        clock.timers.at(-1)!.callback();
      });
    }
    const ids = installations(400).map((i) => i.id);
    const window = (hour: number) =>
      dailySlotInWindow(
        ids,
        new Date(start.getTime() + hour * HOUR),
        new Date(start.getTime() + (hour + 1) * HOUR),
      );
    expect(audited).toEqual([window(0), window(1), window(2)]);
    expect(audited.flat().length).toBeGreaterThan(20);
    expect(clock.timers.map((t) => t.delay)).toEqual([HOUR, HOUR, HOUR, HOUR]);
    scheduler.stop();
    expect(clock.timers.at(-1)!.cancelled).toBe(true);
  });

  it("reads the schedule only of installations whose slot passed, and logs one it cannot read", async () => {
    const start = new Date("2026-11-16T00:00:00Z");
    const clock = harness(start);
    const asked: number[] = [];
    const errors: object[] = [];
    const all = installations(1000);
    const scheduler = createScheduler({
      listInstallations: () => Promise.resolve(all),
      cadenceOf: (installation) => {
        asked.push(installation.id);
        if (asked.length === 1) return Promise.reject(new Error("policy unreadable"));
        return "off";
      },
      runAudit: () => Promise.reject(new Error("never: every schedule is off")),
      now: clock.now,
      setTimer: clock.setTimer,
      log: { info: () => {}, error: (object) => errors.push(object) },
    });
    clock.advance(HOUR);
    const summary = await scheduler.tick();
    // About 1/24 + 1/168 + 1/720 of them: a policy read per installation per hour would cost 1,000.
    expect(asked.length).toBeGreaterThan(10);
    expect(asked.length).toBeLessThan(100);
    expect(summary.due).toEqual([]);
    expect(summary.failed).toEqual([asked[0]]);
    expect(errors).toEqual([expect.objectContaining({ installation: asked[0] })]);
  });
});
