/**
 * The job queue webhook work can go through: on PostgreSQL (pg-boss) a failing job is tried again
 * and, its tries spent, lands in the dead-letter queue; jobs of one key coalesce while one runs; in
 * process the same handlers run when sent, with the same retries.
 */
import nock from "nock";
import { afterAll, describe, expect, it, vi } from "vitest";
import { inProcessQueue, pgBossQueue, type JobQueue } from "../../src/app/jobs.js";
import { expectChangeCheck, HEAD, NOW } from "../fixtures/app/change-facts.js";
import { examplePayload, inAcmeApi, loadApp } from "../fixtures/app/github-app.js";
import { testBackend } from "../ledger/backends.js";

const until = async (done: () => boolean | Promise<boolean>, ms = 30_000) => {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

describe("the in-process queue", () => {
  it("runs a job when it is sent, tries a failing one again, and logs a dead one", async () => {
    const log = { warn: vi.fn(), error: vi.fn() };
    const queue = inProcessQueue({ log, retryLimit: 2, retryDelaySeconds: 0.01 });
    let calls = 0;
    queue.define<{ n: number }>("flaky", {
      handler: () => (++calls < 3 ? Promise.reject(new Error(`try ${calls}`)) : Promise.resolve()),
    });
    queue.define<{ n: number }>("broken", { handler: () => Promise.reject(new Error("always")) });
    await queue.send("flaky", { n: 1 });
    expect(calls).toBe(3);
    expect(log.error).not.toHaveBeenCalled();
    await queue.send("broken", { n: 1 });
    expect(log.error).toHaveBeenCalledWith(
      expect.objectContaining({ queue: "broken", attempts: 3 }),
      "job dead: its tries are spent",
    );
  });
});

describe("the PostgreSQL queue (pg-boss)", async () => {
  const backend = testBackend("postgres");
  const { databaseUrl } = await backend.fresh();
  const queues: JobQueue[] = [];
  const log = { warn: vi.fn(), error: vi.fn() };
  const queueIn = (schema: string) => {
    const queue = pgBossQueue(databaseUrl!, { schema, log, retryLimit: 1, retryDelaySeconds: 1 });
    queues.push(queue);
    return queue;
  };
  afterAll(async () => {
    await Promise.all(queues.map((queue) => queue.stop()));
    await backend.stop();
  });

  it("tries a failing job again, and moves one whose tries are spent to the dead-letter queue", async () => {
    const schema = `jobs_${Date.now().toString(36)}a`;
    const queue = queueIn(schema);
    const tries: string[] = [];
    queue.define<{ change: string }>("change-check", {
      handler: (data) => {
        tries.push(data.change);
        return data.change === "#1" && tries.filter((t) => t === "#1").length === 1
          ? Promise.reject(new Error("GitHub answered 502"))
          : data.change === "#2"
            ? Promise.reject(new Error("always fails"))
            : Promise.resolve();
      },
    });
    await queue.start();
    await queue.send("change-check", { change: "#1" });
    await queue.send("change-check", { change: "#2" });
    // A second instance's queue on the same schema sees the dead letter.
    const { default: PgBoss } = await import("pg-boss");
    const reader = new PgBoss({ connectionString: databaseUrl!, schema, supervise: false, schedule: false });
    await reader.start();
    try {
      // Each retry's delay has a random part: #1's second try may come after #2 has gone dead.
      await until(
        async () =>
          (await reader.getQueueSize("change-check-dead")) === 1 &&
          tries.filter((t) => t === "#1").length === 2,
      );
      expect(tries.filter((t) => t === "#1")).toHaveLength(2);
      expect(tries.filter((t) => t === "#2")).toHaveLength(2);
      const [dead] = await reader.fetch<{ change: string }>("change-check-dead");
      expect(dead?.data).toEqual({ change: "#2" });
    } finally {
      await reader.stop({ graceful: false });
    }
  }, 60_000);

  it("answers a pull request event once its change check is queued, and a worker writes the check run", async () => {
    const schema = `jobs_${Date.now().toString(36)}c`;
    const queue = queueIn(schema);
    const app = await loadApp({ now: () => NOW, appId: 1, queue });
    const payload = inAcmeApi(examplePayload("pull_request", "opened"));
    Object.assign(payload, { number: 42 });
    Object.assign(payload.pull_request, { number: 42, state: "open" });
    Object.assign(payload.pull_request.head, { sha: HEAD, ref: "feature/rate-limit" });
    Object.assign(payload.pull_request.base, { ref: "main" });
    expectChangeCheck(app);
    await app.receive("pull_request", payload);
    await until(() => app.requests.some((r) => r.path === "/repos/acme/api/check-runs"));
    expect(app.requests.filter((r) => r.path.startsWith("/repos/acme/api/check-runs"))).toEqual([
      expect.objectContaining({ method: "POST", body: expect.objectContaining({ conclusion: "success" }) }),
    ]);
    expect(nock.pendingMocks()).toEqual([]);
  }, 60_000);

  it("coalesces a burst of jobs for one change while one runs into one more run after it, never overlapping", async () => {
    const schema = `jobs_${Date.now().toString(36)}b`;
    const queue = queueIn(schema);
    let running = 0;
    let overlapped = false;
    const runs: number[] = [];
    let release!: () => void;
    const first = new Promise<void>((resolve) => (release = resolve));
    queue.define<{ change: string; n: number }>("change-check", {
      keyOf: (data) => data.change,
      handler: async (data) => {
        running += 1;
        overlapped ||= running > 1;
        runs.push(data.n);
        if (runs.length === 1) await first;
        running -= 1;
      },
    });
    await queue.start();
    await queue.send("change-check", { change: "acme/api#42", n: 1 });
    await until(() => runs.length === 1);
    for (let n = 2; n <= 6; n++) await queue.send("change-check", { change: "acme/api#42", n });
    release();
    await until(() => runs.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(runs).toHaveLength(2);
    expect(overlapped).toBe(false);
  }, 60_000);

  it("wakes an idle worker when a job is sent (not at its next poll) and logs each job's wait and run", async () => {
    const schema = `jobs_${Date.now().toString(36)}d`;
    const info = vi.fn();
    // Polls a minute apart: a job that runs within seconds was taken on the send's wake-up.
    const queue = pgBossQueue(databaseUrl!, {
      schema,
      log: { ...log, info },
      pollingIntervalSeconds: 60,
      workers: 2,
    });
    queues.push(queue);
    const ran: string[] = [];
    queue.define<{ change: string }>("change-check", {
      keyOf: (data) => data.change,
      handler: (data) => {
        ran.push(data.change);
        return Promise.resolve();
      },
    });
    await queue.start();
    // The workers' first poll (at start) found nothing; they now sleep for the polling interval.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const sent = Date.now();
    await queue.send("change-check", { change: "acme/api#7" });
    await until(() => ran.length === 1, 10_000);
    expect(Date.now() - sent).toBeLessThan(10_000);
    await until(() => info.mock.calls.length === 1, 5_000);
    const [timing, message] = info.mock.calls[0]!;
    expect(message).toBe("job done");
    expect(timing).toEqual(
      expect.objectContaining({
        queue: "change-check",
        key: "acme/api#7",
        retry: 0,
        ranMs: expect.any(Number),
      }),
    );
    expect((timing as { waitedMs: number }).waitedMs).toBeLessThan(10_000);
  }, 60_000);
});
