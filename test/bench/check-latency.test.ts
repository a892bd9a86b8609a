/**
 * The change-check latency measurement: events arrive on a schedule and are timed from their
 * arrival, so a check due while the tool's event loop is blocked counts the block; each event's time
 * is split into the tool's blocked loop, our client's queues, the simulator's busy loop, the host and
 * the check's own work; the simulator says in Server-Timing where its own time went.
 */
import { afterEach, describe, expect, it } from "vitest";
import { overlapMs, startLoopMonitor, wallNow } from "../../bench/loop-monitor.js";
import {
  breakdownEvent,
  changeCheckClient,
  measureChangeChecks,
  summarizeBreakdown,
  withOpenPullRequests,
  type EventTrace,
} from "../../bench/pr-check.js";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../src/sim/github/server.js";
import { createWorld } from "../../src/sim/github/world.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";

const started: SimulatedGitHub[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

async function serveOpenPullRequests(options: { serverTiming?: boolean; latencyMs?: number } = {}) {
  const sample = generateSampleOrganization({ repositories: 2, pullRequestsPerRepository: 10 });
  const { snapshot, open } = withOpenPullRequests(sample.snapshot, sample);
  const sim = await startSimulatedGitHub({ world: createWorld(snapshot), ...options });
  started.push(sim);
  return { sim, open, organization: sample.snapshot.organization?.login ?? "acme-demo", at: sample.at };
}

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Holding the event loop, as a synchronous evaluation of a whole audit does.
  }
}

describe("overlapMs", () => {
  it("counts each millisecond of the window once, however the intervals overlap", () => {
    const intervals = [
      { start: 0, end: 50 },
      { start: 40, end: 80 },
      { start: 200, end: 300 },
    ];
    expect(overlapMs(intervals, { start: 10, end: 250 })).toEqual(70 + 50);
    expect(overlapMs(intervals, { start: 100, end: 150 })).toEqual(0);
  });
});

describe("startLoopMonitor", () => {
  it("records a blocked event loop as an interval on the wall clock, with the CPU used in it", async () => {
    const monitor = startLoopMonitor();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = wallNow();
    busy(120);
    const after = wallNow();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const summary = monitor.stop();
    const block = summary.blocked.find((b) => b.end - b.start >= 100);
    expect(block).toBeDefined();
    expect(overlapMs(summary.blocked, { start: before, end: after })).toBeGreaterThan(100);
    expect(block?.cpuMs).toBeGreaterThan(0);
    expect(summary.maxMs).toBeGreaterThanOrEqual(100);
  });
});

describe("breakdownEvent", () => {
  const trace: EventTrace = {
    start: 1000,
    end: 1600,
    requests: [
      {
        label: "POST /graphql",
        write: false,
        start: 1100,
        end: 1300,
        fetches: [{ start: 1150, end: 1280, status: 200, server: null }],
      },
      {
        label: "POST /repos/{owner}/{repo}/check-runs",
        write: true,
        start: 1300,
        end: 1580,
        fetches: [{ start: 1500, end: 1560, status: 201, server: null }],
      },
    ],
  };

  it("gives each millisecond to the first of: tool loop, client queue, simulator busy, host, own work", () => {
    const parts = breakdownEvent(
      trace,
      [{ start: 1000, end: 1050, cpuMs: 10 }],
      [{ start: 1200, end: 1250 }],
    );
    expect(parts.totalMs).toEqual(600);
    expect(parts.toolLoopMs).toBeCloseTo(50);
    // 10 ms of CPU in a 50 ms block: the rest of it the process waited for a core.
    expect(parts.toolLoopCpuMs).toBeCloseTo(10);
    // The simulator's block says no CPU time: all of it counts as on a CPU.
    expect(parts.simulatorBusyCpuMs).toBeCloseTo(50);
    // The read waited 50 ms before its exchange, the write 200 ms (the second between writes).
    expect(parts.clientQueueMs).toBeCloseTo(50);
    expect(parts.writeQueueMs).toBeCloseTo(200);
    // After each answer's headers: 20 ms of the read, 20 ms of the write.
    expect(parts.clientAnswerMs).toBeCloseTo(40);
    expect(parts.simulatorBusyMs).toBeCloseTo(50);
    expect(parts.hostMs).toBeCloseTo(80 + 60);
    expect(parts.checkWorkMs).toBeCloseTo(50 + 20);
    const sum =
      parts.toolLoopMs +
      parts.clientQueueMs +
      parts.writeQueueMs +
      parts.clientAnswerMs +
      parts.simulatorBusyMs +
      parts.hostMs +
      parts.checkWorkMs;
    expect(sum).toBeCloseTo(parts.totalMs);
  });

  it("reports the percentiles without the simulator's busy time apart", () => {
    const summary = summarizeBreakdown([trace], [], [{ start: 1150, end: 1280 }]);
    expect(summary.events).toEqual(1);
    expect(summary.p99WithoutSimulatorBusyMs).toBeCloseTo(600 - 130);
    expect(summary.slowest[0]?.simulatorBusyMs).toBeCloseTo(130);
  });
});

describe("the simulated GitHub's Server-Timing", () => {
  it("says how long each answer waited for its latency past due and how long it executed", async () => {
    const { sim } = await serveOpenPullRequests({ serverTiming: true, latencyMs: 20 });
    const response = await fetch(`${sim.url}/orgs/acme-demo`, { headers: { authorization: "token t" } });
    const header = response.headers.get("server-timing") ?? "";
    expect(header).toMatch(/^recv;dur=[0-9.]+, late;dur=[0-9.]+, exec;dur=[0-9.]+$/);
  });

  it("is not sent unless asked for", async () => {
    const { sim } = await serveOpenPullRequests();
    const response = await fetch(`${sim.url}/orgs/acme-demo`, { headers: { authorization: "token t" } });
    expect(response.headers.get("server-timing")).toBeNull();
  });
});

describe("measureChangeChecks", () => {
  it(
    "times an event due while the event loop is blocked from its arrival, and the block is the tool loop's",
    { timeout: 60_000 },
    async () => {
      const { sim, open, organization, at } = await serveOpenPullRequests({ serverTiming: true });
      const client = changeCheckClient(sim.url, "installation");
      // The cold event first: the conditional cache then holds what a warm check reads again.
      await measureChangeChecks(client, sim.url, open, { organization, now: at, events: 0 });
      const monitor = startLoopMonitor();
      // The second event is due 1,100 ms after the first; the loop is held from 900 to 1,400 ms.
      const blocker = setTimeout(() => busy(500), 900);
      const figures = await measureChangeChecks(client, sim.url, open, {
        organization,
        now: at,
        events: 2,
        cold: false,
        intervalMs: 1100,
      });
      clearTimeout(blocker);
      const { blocked } = monitor.stop();
      expect(figures.timesMs).toHaveLength(2);
      const second = [...figures.traces].sort((a, b) => a.start - b.start)[1];
      expect(second).toBeDefined();
      if (!second) return;
      // Due at 1,100 ms, it could not start before the loop was free at about 1,400 ms.
      expect(second.end - second.start).toBeGreaterThanOrEqual(250);
      expect(breakdownEvent(second, blocked, []).toolLoopMs).toBeGreaterThanOrEqual(200);
      // Each event: one GraphQL query and the check run written, the policy files' 304s uncharged.
      expect(figures.warmRequests).toEqual([2, 2]);
      expect(Object.values(figures.conclusions).sort()).toEqual(["failure", "success"]);
      const exchanges = figures.traces.flatMap((t) => t.requests.flatMap((r) => r.fetches));
      expect(exchanges.every((f) => f.server !== null)).toBe(true);
    },
  );
});
