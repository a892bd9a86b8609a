/**
 * The two backends every ledger test runs on: the embedded PGlite (a fresh folder per ledger) and a
 * real PostgreSQL server (a fresh schema per ledger). The server is DATABASE_URL when set (CI starts
 * one in .ci/run); otherwise these tests start a throwaway cluster with .ci/postgres, as CI does.
 * In CI a missing server fails the tests: they are never skipped.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { LedgerOptions } from "../../src/ledger/index.js";

const run = promisify(execFile);

export interface TestBackend {
  name: "pglite" | "postgres";
  /** Options for a new, empty ledger of this backend. */
  fresh(): Promise<LedgerOptions>;
  /** Called once after the file's tests, their ledgers closed (stops a cluster the tests started, removes the folders). */
  stop(): Promise<void>;
}

export const BACKENDS = ["pglite", "postgres"] as const;

let server: Promise<{ url: string; stop: () => Promise<void> }> | null = null;

async function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) return { url: process.env.DATABASE_URL, stop: async () => {} };
  if (process.env.CI === "true") {
    throw new Error(
      "CI=true but DATABASE_URL is not set: .ci/run must start PostgreSQL for the ledger tests",
    );
  }
  const dir = join(tmpdir(), `soc2-ledger-pg-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    const { stdout } = await run("bash", [".ci/postgres", "start", dir], { timeout: 120_000 });
    return {
      url: stdout.trim(),
      stop: async () => {
        await run("bash", [".ci/postgres", "stop", dir]);
      },
    };
  } catch (error) {
    throw new Error(
      `the PostgreSQL ledger tests need a server: set DATABASE_URL, or install PostgreSQL so .ci/postgres ` +
        `can start one (${(error as Error).message})`,
    );
  }
}

export function testBackend(name: "pglite" | "postgres"): TestBackend {
  if (name === "pglite") {
    // each ledger is a folder of tens of MB: thousands of test runs left behind filled the disk
    const dirs: string[] = [];
    return {
      name,
      async fresh() {
        const dir = await mkdtemp(join(tmpdir(), "soc2-ledger-"));
        dirs.push(dir);
        return { dir };
      },
      async stop() {
        await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
      },
    };
  }
  return {
    name,
    async fresh() {
      server ??= startServer();
      const { url } = await server;
      return { databaseUrl: url, schema: `test_${randomBytes(6).toString("hex")}` };
    },
    async stop() {
      const started = server;
      server = null;
      if (started) await (await started.catch(() => null))?.stop();
    },
  };
}
