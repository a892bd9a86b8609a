/**
 * The benchmark's child processes: the simulated GitHub and the audited tool each run in their own
 * process, so the tool's memory is its own (process.memoryUsage() and the OS's peak RSS of that
 * process alone) and the simulator's CPU work does not share the tool's event loop. A child is
 * started with a config, answers "ready" with what it knows, then answers requests by id over IPC.
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * How `soc2-bot` runs in production: the environment and node flags on bin/soc2-bot.js's shebang
 * (`#!/usr/bin/env -S NAME=value node --flag`), read from it so the benchmark measures the tool as
 * shipped and cannot drift from it.
 */
export function productionNodeSettings(): { env: Record<string, string>; execArgv: string[] } {
  const shebang =
    readFileSync(new URL("../bin/soc2-bot.js", import.meta.url), "utf8").split("\n", 1)[0] ?? "";
  const words = shebang
    .replace(/^#!\S*env\s+(-S\s+)?/, "")
    .split(/\s+/)
    .filter(Boolean);
  const node = words.indexOf("node");
  if (!shebang.startsWith("#!") || node < 0)
    throw new Error(`bin/soc2-bot.js: unexpected shebang ${shebang}`);
  const env = Object.fromEntries(
    words.slice(0, node).map((word) => {
      const [name = "", ...value] = word.split("=");
      return [name, value.join("=")];
    }),
  );
  return { env, execArgv: words.slice(node + 1) };
}

interface Envelope {
  id: number;
  ok: boolean;
  value?: unknown;
  error?: string;
}

export interface Worker<Ready> {
  ready: Ready;
  pid: number;
  request<T>(message: unknown): Promise<T>;
  /** Asks the child to finish, and waits for it to exit. */
  close(): Promise<void>;
}

/** Forks `entry` (a .ts file run through tsx) and waits for its "ready" answer. */
export function forkWorker<Ready>(
  entry: URL,
  config: unknown,
  options: { maxOldSpaceMb?: number; production?: boolean } = {},
): Promise<Worker<Ready>> {
  const production = options.production ? productionNodeSettings() : { env: {}, execArgv: [] };
  const child: ChildProcess = fork(fileURLToPath(entry), [], {
    env: { ...process.env, ...production.env },
    execArgv: [
      ...production.execArgv,
      "--import",
      "tsx",
      ...(options.maxOldSpaceMb ? [`--max-old-space-size=${options.maxOldSpaceMb}`] : []),
      // profiling one worker (e.g. SOC2_BENCH_EXEC_ARGV_AUDIT_PROCESS="--heap-prof"): node's own flags
      ...(process.env[`SOC2_BENCH_EXEC_ARGV_${workerName(entry)}`]?.split(/\s+/).filter(Boolean) ?? []),
    ],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.on("exit", (code, signal) => {
    exited = true;
    for (const { reject } of pending.values())
      reject(new Error(`benchmark worker ${entry.pathname} exited (${code ?? signal}) before answering`));
    pending.clear();
  });
  child.on("message", (message: Envelope) => {
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if (message.ok) waiting.resolve(message.value);
    else waiting.reject(new Error(message.error ?? "benchmark worker failed"));
  });
  const request = <T>(message: unknown): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(new Error(`benchmark worker ${entry.pathname} has exited`));
      const id = nextId++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ id, message });
    });
  return request<Ready>({ type: "start", config }).then(
    (ready) => ({
      ready,
      pid: child.pid ?? 0,
      request,
      close: async () => {
        if (!exited) {
          await request({ type: "close" }).catch(() => undefined);
          child.disconnect();
        }
        await exit;
      },
    }),
    async (error: unknown) => {
      if (!exited) child.kill();
      await exit;
      throw error;
    },
  );
}

/**
 * The child's side: `start` gets the config once, `handle` every later request; "close" runs
 * `close` and lets the process end.
 */
export function serveWorker<Config, Ready>(handlers: {
  start(config: Config): Promise<Ready>;
  handle?(message: { type: string } & Record<string, unknown>): Promise<unknown>;
  close?(): Promise<void>;
}): void {
  const send = process.send?.bind(process);
  if (!send) throw new Error("a benchmark worker runs as a forked child process (IPC)");
  process.on("message", (raw: { id: number; message: { type: string } & Record<string, unknown> }) => {
    const { id, message } = raw;
    const run = async (): Promise<unknown> => {
      if (message.type === "start") return handlers.start(message.config as Config);
      if (message.type === "close") {
        await handlers.close?.();
        return null;
      }
      if (!handlers.handle) throw new Error(`unknown request ${message.type}`);
      return handlers.handle(message);
    };
    run().then(
      (value) => send({ id, ok: true, value } satisfies Envelope),
      (error: unknown) =>
        send({
          id,
          ok: false,
          error: error instanceof Error ? (error.stack ?? error.message) : String(error),
        }),
    );
  });
}

/** bench/audit-process.ts -> AUDIT_PROCESS: the name its profiling variable carries. */
function workerName(entry: URL): string {
  const file = fileURLToPath(entry)
    .replace(/^.*[\\/]/, "")
    .replace(/\.ts$/, "");
  return file.replace(/[^A-Za-z0-9]+/g, "_").toUpperCase();
}
