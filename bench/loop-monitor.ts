/**
 * Where a process's event loop was blocked, and when: the benchmark lays these intervals over a
 * change check's requests to tell time lost to a busy event loop (the tool's, or the simulated
 * GitHub's) from time spent in the client's limiters or at the host.
 *
 * perf_hooks.monitorEventLoopDelay gives the distribution of delays but not when they happened, so
 * a timer ticking every few milliseconds also records each gap longer than the tick as an interval
 * on the wall clock (epoch milliseconds, comparable across the benchmark's processes).
 */
import { monitorEventLoopDelay, performance } from "node:perf_hooks";

/** A span of wall-clock time, epoch milliseconds. */
export interface Interval {
  start: number;
  end: number;
}

/**
 * A blocked span, with the CPU time the process used during it: about its length when the loop was
 * busy running code, much less when the process was waiting for a core (a machine shared with
 * other work), which the loop's delay alone cannot tell apart.
 */
export interface BlockedInterval extends Interval {
  cpuMs: number;
}

export interface LoopDelaySummary {
  /** Event-loop delay percentiles and maximum over the monitored time, milliseconds. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Time inside the recorded blocked intervals, milliseconds. */
  blockedMs: number;
  /** CPU time the process used inside them (all its threads), milliseconds. */
  blockedCpuMs: number;
  /** Blocked intervals longer than the recording threshold, oldest first. */
  blocked: BlockedInterval[];
}

export interface LoopMonitor {
  /** The summary so far (the monitor keeps running). */
  summary(since?: number): LoopDelaySummary;
  stop(): LoopDelaySummary;
}

/** Epoch milliseconds with performance.now()'s resolution. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

const TICK_MS = 5;
/** A gap this much longer than the tick is recorded as blocked (timers are not exact). */
const THRESHOLD_MS = 10;

export function startLoopMonitor(): LoopMonitor {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const blocked: BlockedInterval[] = [];
  let last = wallNow();
  let lastCpu = process.cpuUsage();
  const timer = setInterval(() => {
    const now = wallNow();
    const cpu = process.cpuUsage();
    const gap = now - last;
    if (gap > TICK_MS + THRESHOLD_MS) {
      const cpuMs = (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000;
      blocked.push({ start: last + TICK_MS, end: now, cpuMs });
    }
    last = now;
    lastCpu = cpu;
  }, TICK_MS);
  timer.unref();
  const summary = (since = 0): LoopDelaySummary => {
    const kept = blocked.filter((interval) => interval.end > since);
    return {
      p50Ms: histogram.percentile(50) / 1e6,
      p99Ms: histogram.percentile(99) / 1e6,
      maxMs: histogram.max / 1e6,
      blockedMs: kept.reduce((sum, interval) => sum + interval.end - interval.start, 0),
      blockedCpuMs: kept.reduce((sum, interval) => sum + interval.cpuMs, 0),
      blocked: kept.map((interval) => ({ ...interval })),
    };
  };
  return {
    summary,
    stop() {
      clearInterval(timer);
      histogram.disable();
      return summary();
    },
  };
}

/** Milliseconds of `window` covered by `intervals` (which may overlap each other: merged first). */
export function overlapMs(intervals: readonly Interval[], window: Interval): number {
  const clipped = intervals
    .map((interval) => ({
      start: Math.max(interval.start, window.start),
      end: Math.min(interval.end, window.end),
    }))
    .filter((interval) => interval.end > interval.start)
    .sort((a, b) => a.start - b.start);
  let total = 0;
  let reach = -Infinity;
  for (const interval of clipped) {
    const start = Math.max(interval.start, reach);
    if (interval.end > start) total += interval.end - start;
    reach = Math.max(reach, interval.end);
  }
  return total;
}
