import { createHash } from "node:crypto";
import type { AuditSchedule } from "../policy/types.js";

/**
 * Scheduled organization audits, one installation at a time. Each installation owns a fixed slot in
 * its cadence period (a hash of its id), so a thousand installations do not all spend their API
 * quota in the same hour, and a restart does not move anyone's slot. The scheduler keeps no state
 * but the time of its last tick: run it on one instance only (slots that pass while it is down are
 * caught up by the next period's audit, whose window covers them).
 */

export type Cadence = Exclude<AuditSchedule, "off">;

export interface Installation {
  id: number;
  /** The organization's login. */
  account: string;
}

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;

/** Length of each cadence's period; "monthly" is 30 days so slots stay evenly spaced. */
export const CADENCE_PERIOD_MS: Record<Cadence, number> = {
  daily: DAY,
  weekly: 7 * DAY,
  monthly: 30 * DAY,
};

const CADENCES: readonly Cadence[] = ["daily", "weekly", "monthly"];

/**
 * The installation's offset into each period of `cadence`, in milliseconds in [0, period): it is
 * audited at every `k * period + slot` since the Unix epoch. Deterministic, and uniform over the
 * period because it comes from a cryptographic hash of the id.
 */
export function slotFor(installationId: number, cadence: Cadence): number {
  const digest = createHash("sha256").update(`soc2-bot:installation:${installationId}`).digest();
  // 48 bits are plenty for a period of 30 days in milliseconds (about 2^31.3).
  const fraction = digest.readUIntBE(0, 6) / 2 ** 48;
  return Math.floor(fraction * CADENCE_PERIOD_MS[cadence]);
}

/** Whether a slot occurrence `k * period + slot` lies in (after, until]. */
export function slotPassed(installationId: number, cadence: Cadence, after: Date, until: Date): boolean {
  const period = CADENCE_PERIOD_MS[cadence];
  const slot = slotFor(installationId, cadence);
  // The first occurrence strictly after `after`.
  const k = Math.floor((after.getTime() - slot) / period) + 1;
  return k * period + slot <= until.getTime();
}

/** The installations whose slot for their cadence passed in (lastTick, now]; "off" is never due. */
export function dueInstallations<T extends Installation>(
  installations: readonly T[],
  lastTick: Date,
  now: Date,
  cadenceOf: (installation: T) => AuditSchedule,
): T[] {
  return installations.filter((installation) => {
    const cadence = cadenceOf(installation);
    return cadence !== "off" && slotPassed(installation.id, cadence, lastTick, now);
  });
}

export interface SchedulerLog {
  info(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface Timer {
  cancel(): void;
}

export interface SchedulerOptions<T extends Installation> {
  listInstallations(): Promise<T[]>;
  /** The organization policy's audit.schedule (may read it from the code host). */
  cadenceOf(installation: T): Promise<AuditSchedule> | AuditSchedule;
  /** Audits one installation for the window that ends at `at`. */
  runAudit(installation: T, cadence: Cadence, at: Date): Promise<void>;
  now?: () => Date;
  /** One-shot timer (setTimeout by default); the next tick is armed when a tick has finished. */
  setTimer?: (callback: () => void, delayMs: number) => Timer;
  /** Time between ticks; an hour by default. */
  intervalMs?: number;
  log?: SchedulerLog;
}

export interface TickSummary {
  window: { after: string; until: string };
  due: number[];
  audited: number[];
  failed: number[];
}

export interface Scheduler {
  /** Arms the timer; the first window starts now. */
  start(): void;
  stop(): void;
  /** Audits every installation due since the last tick, one at a time. Never rejects. */
  tick(): Promise<TickSummary>;
}

const SILENT: SchedulerLog = { info: () => {}, error: () => {} };

export function createScheduler<T extends Installation>(options: SchedulerOptions<T>): Scheduler {
  const now = options.now ?? (() => new Date());
  const setTimer = options.setTimer ?? defaultTimer;
  const interval = options.intervalMs ?? HOUR;
  const log = options.log ?? SILENT;
  let lastTick = now();
  let timer: Timer | null = null;
  let running = false;

  async function tick(): Promise<TickSummary> {
    const after = lastTick;
    const until = now();
    const summary: TickSummary = {
      window: { after: after.toISOString(), until: until.toISOString() },
      due: [],
      audited: [],
      failed: [],
    };
    let installations: T[];
    try {
      installations = await options.listInstallations();
    } catch (error) {
      // The window is kept, so the next tick looks at these slots again.
      log.error({ err: error }, "scheduled audits: could not list installations");
      return summary;
    }
    lastTick = until;

    // Only an installation whose slot passed under some cadence needs its policy read.
    const candidates = installations.filter((i) => CADENCES.some((c) => slotPassed(i.id, c, after, until)));
    const cadences = new Map<number, AuditSchedule>();
    for (const installation of candidates) {
      try {
        cadences.set(installation.id, await options.cadenceOf(installation));
      } catch (error) {
        summary.failed.push(installation.id);
        log.error(
          { installation: installation.id, account: installation.account, err: error },
          "scheduled audit: could not read the audit schedule",
        );
      }
    }
    const due = dueInstallations(
      candidates.filter((i) => cadences.has(i.id)),
      after,
      until,
      (i) => cadences.get(i.id) ?? "off",
    );
    summary.due = due.map((i) => i.id);

    for (const installation of due) {
      const cadence = cadences.get(installation.id);
      if (cadence === undefined || cadence === "off") continue;
      try {
        await options.runAudit(installation, cadence, until);
        summary.audited.push(installation.id);
        log.info(
          { installation: installation.id, account: installation.account, cadence },
          "scheduled audit done",
        );
      } catch (error) {
        // One organization's failure must not cost the others their audit.
        summary.failed.push(installation.id);
        log.error(
          { installation: installation.id, account: installation.account, cadence, err: error },
          "scheduled audit failed",
        );
      }
    }
    return summary;
  }

  function arm(): void {
    timer = setTimer(() => {
      if (running) return;
      running = true;
      void tick().finally(() => {
        running = false;
        if (timer !== null) arm();
      });
    }, interval);
  }

  return {
    start() {
      if (timer !== null) return;
      lastTick = now();
      arm();
    },
    stop() {
      timer?.cancel();
      timer = null;
    },
    tick,
  };
}

function defaultTimer(callback: () => void, delayMs: number): Timer {
  const handle = setTimeout(callback, delayMs);
  // A pending audit tick must not keep the process alive on shutdown.
  handle.unref();
  return { cancel: () => clearTimeout(handle) };
}
