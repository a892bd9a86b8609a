import { createHash } from "node:crypto";
import { hostname } from "node:os";
import {
  claimScheduledAudit,
  readScheduleState,
  recordScheduledDone,
  recordScheduledFailure,
  scheduleStream,
  type Ledger,
  type ScheduleClaimContent,
  type ScheduleState,
} from "../ledger/index.js";
import type { AuditSchedule } from "../policy/types.js";
import type { JobQueue } from "./jobs.js";
import { redactText } from "./redact.js";

/**
 * Scheduled organization audits, one installation at a time. Each installation owns a fixed slot in
 * its cadence period (a hash of its id), so a thousand installations do not all spend their API
 * quota in the same hour, and a restart does not move anyone's slot.
 *
 * With a ledger (as the app runs) the schedule is durable: each installation's claims, successes and
 * failures are records of its stream "schedule:github/<account>". An audit's window starts where the
 * last successful one ended (the first reaches back one cadence period), so windows are contiguous
 * across restarts; a slot that passed while the app was down runs at the first tick, which comes at
 * start-up; a failure is recorded with its (redacted) error and tried again with exponential backoff,
 * a bounded number of times; and a slot is claimed under the stream's row lock, so several instances
 * on one PostgreSQL run it once. Without a ledger (tests of the slots) it keeps only its last tick.
 *
 * With a job queue on PostgreSQL (as `npm start` runs with DATABASE_URL) a claimed slot becomes a
 * job: the tick that claimed it only sends it, and any instance's worker runs the audit and records
 * its success or failure in the stream as above. At most one audit job per installation waits or
 * runs (its key is the stream). A job whose instance died is tried again by a survivor within
 * seconds (see jobs.ts), with the same claim (window and attempt); a job that could not record its
 * outcome is tried again by the queue, and one whose tries are spent lands in the dead letter
 * (`scheduled-audit-dead`). An audit that fails is not retried by the queue: its failure is recorded
 * with its retry time, and the tick at that time claims the window again (the schedule's backoff).
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

export const SCHEDULED_AUDIT_QUEUE = "scheduled-audit";

/**
 * How long an audit job may run before the queue takes it as lost and runs it again: the claim's
 * lease (6 hours), the schedule's own word for "abandoned". An audit takes minutes (the 1,000
 * repository organization in bench/results.md takes about 10), and one may wait out GitHub's hourly
 * rate-limit reset once or twice; an audit still running at 6 hours is stuck. A dead instance's audit
 * does not wait for this: the heartbeats find it within seconds.
 */
export const AUDIT_JOB_EXPIRY_SECONDS = 6 * 60 * 60;

/** A claimed slot as a job: everything a worker of any instance needs to run and record it. */
interface ScheduledAuditJob<T extends Installation> {
  installation: T;
  cadence: Cadence;
  /** The tick's time: the audit's window ends here. */
  at: string;
  stream: string;
  claim: ScheduleClaimContent;
}

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
  /**
   * Audits one installation for the window that ends at `at`; `since` is where the window starts
   * (given by the durable scheduler: the previous audit's end), else one cadence period before `at`.
   */
  runAudit(installation: T, cadence: Cadence, at: Date, since?: Date): Promise<void>;
  /** Work of every tick before its audits (the push record's reconciliation); should not reject. */
  beforeTick?: () => Promise<void>;
  now?: () => Date;
  /** One-shot timer (setTimeout by default); the next tick is armed when a tick has finished. */
  setTimer?: (callback: () => void, delayMs: number) => Timer;
  /** Time between ticks; an hour by default. */
  intervalMs?: number;
  log?: SchedulerLog;
  /** Where the schedule's state is kept (durable mode); without it only the last tick is. */
  ledger?: Ledger;
  /** The host named in the schedule streams ("github"). */
  host?: "github" | "gitlab";
  retry?: Partial<RetryPolicy>;
  /** How long a claim holds before another instance takes it as abandoned (6 hours by default). */
  leaseMs?: number;
  /** Names this process in its claims (host name and process id by default). */
  instance?: string;
  /**
   * With the ledger: claimed audits are sent here as jobs (SCHEDULED_AUDIT_QUEUE) that any instance
   * with a scheduler runs. Only a PostgreSQL queue is used; in process the tick runs them itself.
   */
  queue?: JobQueue;
}

/** Exponential backoff of a failed scheduled audit: baseMs, 2 baseMs, 4 baseMs… capped at maxMs. */
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  /** Tries of one window, the first included; then the next slot tries again. */
  attempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 15 * 60 * 1000, maxMs: 6 * HOUR, attempts: 6 };

/** When the `attempt`-th failed try of a window is tried again; null once the tries are spent. */
export function retryAt(failedAt: Date, attempt: number, retry: RetryPolicy = DEFAULT_RETRY): Date | null {
  if (attempt >= retry.attempts) return null;
  const delay = Math.min(retry.baseMs * 2 ** (attempt - 1), retry.maxMs);
  return new Date(failedAt.getTime() + delay);
}

/** The latest occurrence `k * period + slot` at or before `at`. */
export function latestSlot(installationId: number, cadence: Cadence, at: Date): Date {
  const period = CADENCE_PERIOD_MS[cadence];
  const slot = slotFor(installationId, cadence);
  return new Date(Math.floor((at.getTime() - slot) / period) * period + slot);
}

export interface TickSummary {
  window: { after: string; until: string };
  due: number[];
  audited: number[];
  failed: number[];
  /** Due but claimed by another instance (durable mode). */
  claimedElsewhere?: number[];
  /** Claimed and sent as a job (durable mode with a queue): audited by whichever instance takes it. */
  queued?: number[];
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

  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const leaseMs = options.leaseMs ?? 6 * HOUR;
  const instance = options.instance ?? `${hostname()}:${process.pid}`;
  const hostName = options.host ?? "github";
  // Claimed audits become jobs only on a shared (PostgreSQL) queue; in process the tick runs them.
  const queue = options.ledger && options.queue?.kind === "postgres" ? options.queue : undefined;
  if (queue && options.ledger) {
    const ledger = options.ledger;
    queue.define<ScheduledAuditJob<T>>(SCHEDULED_AUDIT_QUEUE, {
      // One audit of an installation waits or runs at a time, across instances.
      keyOf: (job) => job.stream,
      expireInSeconds: AUDIT_JOB_EXPIRY_SECONDS,
      handler: async (job) => {
        const audited = await runClaimed(
          ledger,
          job.installation,
          job.cadence,
          new Date(job.at),
          job.stream,
          job.claim,
          true,
        );
        // The failure's retry may come before this instance's next tick (an hour away): the timer
        // wakes for it, as it does when the tick ran the audit itself.
        if (!audited && nextRetry && timer !== null && !running) {
          timer.cancel();
          arm(Math.max(0, Math.min(interval, nextRetry.getTime() - now().getTime())));
        }
      },
    });
  }
  /** The earliest retry recorded by the last tick: the timer wakes for it when it comes before the interval. */
  let nextRetry: Date | null = null;

  /**
   * The claim to record when the installation's audit is due under `cadence`, from its state in the
   * ledger; null when it is not due (or runs on another instance).
   */
  function decide(
    state: ScheduleState,
    installation: T,
    cadence: Cadence,
    after: Date,
    until: Date,
  ): ScheduleClaimContent | null {
    const at = until.getTime();
    const latest = latestSlot(installation.id, cadence, until).getTime();
    let since: number;
    let attempt = 1;
    const claim = state.openClaim;
    const failure = state.lastFailure;
    if (claim && Date.parse(claim.leaseUntil) > at) {
      return null;
    } else if (claim) {
      // Its instance stopped mid-audit (the lease ran out): the same window again, as one more try.
      since = Date.parse(claim.window.since);
      attempt = claim.attempt + 1;
      if (attempt > retry.attempts) {
        if (latest <= Date.parse(claim.claimedAt)) return null;
        attempt = 1;
      }
    } else if (failure) {
      since = Date.parse(failure.window.since);
      if (failure.retryAt !== null) {
        if (Date.parse(failure.retryAt) > at) return null;
        attempt = failure.attempt + 1;
      } else if (latest <= Date.parse(failure.failedAt)) {
        // The tries of that window are spent: the next slot tries again, from the same start.
        return null;
      }
    } else if (state.lastDone) {
      // Any slot after the last audit's end, including one that passed while the app was down.
      if (latest <= Date.parse(state.lastDone.window.until)) return null;
      since = Date.parse(state.lastDone.window.until);
    } else {
      // Never audited: the first audit at its first slot, reaching back one cadence period.
      if (!slotPassed(installation.id, cadence, after, until)) return null;
      since = at - CADENCE_PERIOD_MS[cadence];
    }
    return {
      installation: installation.id,
      account: installation.account,
      cadence,
      window: { since: new Date(since).toISOString(), until: until.toISOString() },
      attempt,
      claimedAt: until.toISOString(),
      leaseUntil: new Date(at + leaseMs).toISOString(),
      instance,
    };
  }

  /** Whether the state may make the installation due under some cadence (only then is its policy read). */
  function mayBeDue(state: ScheduleState, installation: T, after: Date, until: Date): boolean {
    const at = until.getTime();
    if (state.openClaim) return Date.parse(state.openClaim.leaseUntil) <= at;
    const failure = state.lastFailure;
    if (failure?.retryAt) return Date.parse(failure.retryAt) <= at;
    const reference = failure?.failedAt ?? state.lastDone?.window.until;
    if (reference === undefined) return CADENCES.some((c) => slotPassed(installation.id, c, after, until));
    return CADENCES.some((c) => latestSlot(installation.id, c, until).getTime() > Date.parse(reference));
  }

  /** The installations, or null when they cannot be listed: the window is kept, so the next tick looks at these slots again. */
  async function installationsOrNone(): Promise<T[] | null> {
    try {
      return await options.listInstallations();
    } catch (error) {
      log.error({ err: error }, "scheduled audits: could not list installations");
      return null;
    }
  }

  async function durableTick(ledger: Ledger): Promise<TickSummary> {
    const after = lastTick;
    const until = now();
    const summary: TickSummary = {
      window: { after: after.toISOString(), until: until.toISOString() },
      due: [],
      audited: [],
      failed: [],
      claimedElsewhere: [],
      ...(queue ? { queued: [] } : {}),
    };
    const installations = await installationsOrNone();
    if (installations === null) return summary;
    lastTick = until;
    nextRetry = null;
    for (const installation of installations) {
      const stream = scheduleStream(hostName, installation.account);
      const about = { installation: installation.id, account: installation.account, stream };
      let state: ScheduleState;
      try {
        state = await readScheduleState(ledger, stream);
      } catch (error) {
        // Nothing is lost: the ledger still says where the last audit ended, so the next tick that can
        // read it runs the audit over the whole window since (and looks at this tick's slots again).
        lastTick = after;
        log.error(
          { ...about, ledger: ledger.location, err: errorText(error) },
          "scheduled audits: ledger unreadable",
        );
        return summary;
      }
      if (!mayBeDue(state, installation, after, until)) continue;
      let cadence: AuditSchedule;
      try {
        cadence = await options.cadenceOf(installation);
      } catch (error) {
        summary.failed.push(installation.id);
        log.error({ ...about, err: error }, "scheduled audit: could not read the audit schedule");
        continue;
      }
      if (cadence === "off" || !decide(state, installation, cadence, after, until)) continue;
      summary.due.push(installation.id);
      let claimed: ScheduleClaimContent | null;
      try {
        claimed =
          (
            await claimScheduledAudit(ledger, stream, until, (locked) =>
              decide(locked, installation, cadence, after, until),
            )
          )?.claim ?? null;
      } catch (error) {
        summary.failed.push(installation.id);
        log.error(
          { ...about, ledger: ledger.location, err: errorText(error) },
          "scheduled audit not claimed: the ledger cannot be written (its window waits for the ledger)",
        );
        continue;
      }
      if (!claimed) {
        summary.claimedElsewhere?.push(installation.id);
        continue;
      }
      if (queue) {
        try {
          await queue.send<ScheduledAuditJob<T>>(SCHEDULED_AUDIT_QUEUE, {
            installation,
            cadence,
            at: until.toISOString(),
            stream,
            claim: claimed,
          });
          summary.queued?.push(installation.id);
          log.info(
            { ...about, cadence, window: claimed.window, attempt: claimed.attempt },
            "scheduled audit queued",
          );
          continue;
        } catch (error) {
          // The queue's store is down: the claim is this instance's, so it runs the audit itself.
          log.error({ ...about, err: errorText(error) }, "scheduled audit not queued: run here");
        }
      }
      const audited = await runClaimed(ledger, installation, cadence, until, stream, claimed);
      (audited ? summary.audited : summary.failed).push(installation.id);
    }
    return summary;
  }

  /**
   * Runs a claimed audit and records its success or failure in the stream; true when it succeeded.
   * Rejects only when the outcome could not be recorded and `rejectUnrecorded` (a job, tried again).
   */
  async function runClaimed(
    ledger: Ledger,
    installation: T,
    cadence: Cadence,
    until: Date,
    stream: string,
    claimed: ScheduleClaimContent,
    rejectUnrecorded = false,
  ): Promise<boolean> {
    const about = { installation: installation.id, account: installation.account, stream };
    const outcome = { ...about, cadence, window: claimed.window, attempt: claimed.attempt };
    const unrecorded = (what: string) => (error: unknown) => {
      log.error({ ...outcome, err: errorText(error) }, what);
      if (rejectUnrecorded) throw error;
    };
    try {
      await options.runAudit(installation, cadence, until, new Date(claimed.window.since));
    } catch (error) {
      const failedAt = now();
      const next = retryAt(failedAt, claimed.attempt, retry);
      if (next && (!nextRetry || next < nextRetry)) nextRetry = next;
      const text = errorText(error);
      log.error({ ...outcome, err: text, retryAt: next?.toISOString() ?? null }, "scheduled audit failed");
      await recordScheduledFailure(ledger, stream, {
        installation: installation.id,
        account: installation.account,
        cadence,
        window: claimed.window,
        attempt: claimed.attempt,
        failedAt: failedAt.toISOString(),
        error: text,
        retryAt: next?.toISOString() ?? null,
      }).catch(unrecorded("scheduled audit's failure not recorded"));
      return false;
    }
    log.info(outcome, "scheduled audit done");
    await recordScheduledDone(ledger, stream, {
      installation: installation.id,
      account: installation.account,
      cadence,
      window: claimed.window,
      attempt: claimed.attempt,
      finishedAt: now().toISOString(),
    })
      // Not recorded (in process): its claim's lease runs out and the window is audited again, twice
      // being better than a gap; a job is tried again at once instead.
      .catch(unrecorded("scheduled audit's success not recorded"));
    return true;
  }

  async function tick(): Promise<TickSummary> {
    await options
      .beforeTick?.()
      .catch((error: unknown) =>
        log.error({ err: error }, "scheduled audits: the work before the tick failed"),
      );
    if (options.ledger) return durableTick(options.ledger);
    const after = lastTick;
    const until = now();
    const summary: TickSummary = {
      window: { after: after.toISOString(), until: until.toISOString() },
      due: [],
      audited: [],
      failed: [],
    };
    const installations = await installationsOrNone();
    if (installations === null) return summary;
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

  function arm(delay = interval): void {
    timer = setTimer(() => {
      if (running) return;
      running = true;
      void tick().finally(() => {
        running = false;
        if (timer === null) return;
        // A retry due before the next tick wakes the scheduler for it.
        const untilRetry = nextRetry ? Math.max(0, nextRetry.getTime() - now().getTime()) : interval;
        arm(Math.min(interval, untilRetry));
      });
    }, delay);
  }

  return {
    start() {
      if (timer !== null) return;
      lastTick = now();
      // Durable: the first tick comes at once, to catch up what the ledger says was missed while down.
      arm(options.ledger ? 0 : interval);
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

function errorText(error: unknown): string {
  return redactText(error instanceof Error ? error.message || error.name : String(error));
}
