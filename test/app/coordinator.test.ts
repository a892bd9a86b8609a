/**
 * The coordinator's locks: work on one key runs in one instance at a time (two coordinators on one
 * PostgreSQL are two instances), other keys do not wait, a lock taken inside another needs no second
 * connection, and a lock is released however its work ends, including its instance's connection dying.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import {
  advisoryKey,
  createCoordinator,
  inProcessCoordinator,
  type Coordinator,
} from "../../src/app/coordinator.js";
import { testBackend } from "../ledger/backends.js";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const tick = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs two pieces of work on `key` from `a` and `b`, the first held open until released; their order of entry and exit. */
async function contend(a: Coordinator, b: Coordinator, keyA: string, keyB: string) {
  const order: string[] = [];
  const hold = deferred();
  const entered = deferred();
  const first = a.withLock(keyA, async () => {
    order.push("a in");
    entered.resolve();
    await hold.promise;
    order.push("a out");
  });
  await entered.promise;
  const second = b.withLock(keyB, async () => {
    order.push("b in");
    await Promise.resolve();
    order.push("b out");
  });
  await tick(300);
  hold.resolve();
  await Promise.all([first, second]);
  return order;
}

describe("the in-process coordinator", () => {
  it("runs work on one key one at a time, and other keys beside it", async () => {
    const locks = inProcessCoordinator();
    expect(await contend(locks, locks, "github:acme/api#1", "github:acme/api#1")).toEqual([
      "a in",
      "a out",
      "b in",
      "b out",
    ]);
    expect(await contend(locks, locks, "github:acme/api#1", "github:acme/api#2")).toEqual([
      "a in",
      "b in",
      "b out",
      "a out",
    ]);
  });

  it("releases the lock when the work fails, and reports the failure", async () => {
    const locks = inProcessCoordinator();
    await expect(locks.withLock("k", () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await locks.withLock("k", () => Promise.resolve("after"))).toBe("after");
  });
});

describe("the PostgreSQL coordinator (two instances on one server)", async () => {
  const backend = testBackend("postgres");
  const { databaseUrl } = await backend.fresh();
  const opened: Coordinator[] = [];
  const instance = (connections?: number) => {
    const coordinator = createCoordinator({
      databaseUrl,
      ...(connections === undefined ? {} : { connections }),
    });
    opened.push(coordinator);
    return coordinator;
  };
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()));
    await backend.stop();
  });

  it("makes the second instance wait for the first on one change, and not on another", async () => {
    const [a, b] = [instance(), instance()];
    expect(a.kind).toBe("postgres");
    expect(await contend(a, b, "github:acme/api#42", "github:acme/api#42")).toEqual([
      "a in",
      "a out",
      "b in",
      "b out",
    ]);
    expect(await contend(a, b, "github:acme/api#42", "github:acme/api#43")).toEqual([
      "a in",
      "b in",
      "b out",
      "a out",
    ]);
  });

  it("takes a lock inside another on the same connection (a pool of one never deadlocks)", async () => {
    const a = instance(1);
    const result = await a.withLock("github:acme/api#7", () =>
      a.withLock("findings:acme/compliance\nsoc2", () => Promise.resolve("synced")),
    );
    expect(result).toBe("synced");
    // Both are free again: another instance takes them at once.
    const b = instance();
    expect(await b.withLock("findings:acme/compliance\nsoc2", () => Promise.resolve("again"))).toBe("again");
  });

  it("releases the lock when the work fails", async () => {
    const [a, b] = [instance(), instance()];
    await expect(a.withLock("github:acme/api#9", () => Promise.reject(new Error("boom")))).rejects.toThrow(
      "boom",
    );
    expect(await b.withLock("github:acme/api#9", () => Promise.resolve("taken"))).toBe("taken");
  });

  it("frees the lock of an instance whose connection dies mid-work (as on SIGKILL)", async () => {
    const [a, b] = [instance(), instance()];
    const key = "github:acme/api#11";
    const entered = deferred();
    const working = deferred();
    const held = a.withLock(key, async () => {
      entered.resolve();
      await working.promise;
    });
    await entered.promise;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    try {
      // The holder's session, found by the advisory lock it holds, is ended as a killed process's would be.
      const [holder] = (
        await admin.query<{ pid: number }>(
          `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
             AND ((classid::bigint << 32) | objid::bigint) = $1::bigint`,
          [advisoryKey(key)],
        )
      ).rows;
      expect(holder).toBeDefined();
      await admin.query(`SELECT pg_terminate_backend($1)`, [holder!.pid]);
    } finally {
      await admin.end();
    }
    expect(await b.withLock(key, () => Promise.resolve("taken over"))).toBe("taken over");
    // The first instance's work ends; its dead session is discarded, not given back to its pool.
    working.resolve();
    await held;
    expect(await a.withLock(key, () => Promise.resolve("a again"))).toBe("a again");
  });
});
