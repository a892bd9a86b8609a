/**
 * A job whose instance dies (SIGKILL: no graceful stop, no failure recorded) is tried again by a
 * surviving instance within seconds, from the dead instance's stale heartbeat, not after the job's
 * expiry (a minute here).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterAll, describe, expect, it, vi } from "vitest";
import { pgBossQueue, type JobQueue } from "../../src/app/jobs.js";
import { testBackend } from "../ledger/backends.js";

describe("a job queue instance killed mid-job", () => {
  const backend = testBackend("postgres");
  const queues: JobQueue[] = [];
  afterAll(async () => {
    await Promise.all(queues.map((queue) => queue.stop()));
    await backend.stop();
  });

  it("has its running job tried again by another instance within seconds of the kill", async () => {
    const { databaseUrl } = await backend.fresh();
    const schema = `jobs_${Date.now().toString(36)}k`;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "test/reliability/fixtures/job-holder.ts", databaseUrl!, schema],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let output = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => (output += chunk));
    const deadline = Date.now() + 60_000;
    while (!output.includes("started acme/api#1")) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`the holder never took its job: ${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const warn = vi.fn();
    const survivor = pgBossQueue(databaseUrl!, {
      schema,
      log: { warn, error: vi.fn() },
      expireInSeconds: 60,
      instance: "survivor",
    });
    queues.push(survivor);
    const ran: { key: string; at: number }[] = [];
    survivor.define<{ key: string }>("hold", {
      keyOf: (job) => job.key,
      handler: (job) => {
        ran.push({ key: job.key, at: Date.now() });
        return Promise.resolve();
      },
    });
    await survivor.start();
    // While the holder lives, its job is its own: nobody else runs it.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(ran).toEqual([]);

    child.kill("SIGKILL");
    await once(child, "exit");
    const killedAt = Date.now();
    while (ran.length === 0 && Date.now() - killedAt < 30_000) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(ran.map((run) => run.key)).toEqual(["acme/api#1"]);
    console.log(`[dead-instance] tried again ${ran[0]!.at - killedAt} ms after the kill`);
    // Four missed beats of a second, the next beat, the worker's wake-up: well under the expiry.
    expect(ran[0]!.at - killedAt).toBeLessThan(8_000);
    expect(warn).toHaveBeenCalledWith(
      expect.objectContaining({ queue: "hold", instances: ["doomed"] }),
      "a dead instance's running jobs tried again",
    );
    // Run once: no second run comes from the expiry either.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(ran).toHaveLength(1);
  }, 120_000);
});
