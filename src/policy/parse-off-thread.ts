/**
 * Policy files are read from a pull request's base branch, which anyone who can push a branch can
 * shape. Parsing is linear, but a 1 MiB file of keys still takes about a second, and on the app's
 * main thread that second is a second no webhook is answered. Files above a small size are parsed in
 * a worker thread instead, within a time budget: a parse over it is stopped and becomes a policy
 * error (the check fails naming the file), never a pass.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { CONTROLS } from "../controls/index.js";
import { PolicyError } from "../errors.js";
import { parsePolicyLayer, type LayerOptions } from "./parse.js";
import type { ParseAnswer, ParseMessage, ParseRequest } from "./parse-worker.js";
import type { PolicyLayer } from "./types.js";

/** Below this many UTF-16 units a parse takes a few milliseconds: a worker would cost more. */
export const OFF_THREAD_MIN_CHARACTERS = 64 * 1024;
/** How long one file's parse may take in its worker. A 1 MiB file of keys takes about 1 s. */
export const PARSE_BUDGET_MS = 5_000;
/** How long a worker may take to load its modules (tsx transpiles them on a cold start). */
const LOAD_BUDGET_MS = 60_000;
/** Parses at once: each worker holds its own heap, and a flood of large policies must not exhaust memory. */
const MAX_WORKERS = 2;
/** A worker's heap: far more than a 1 MiB policy needs, far less than the app may use. */
const WORKER_HEAP_MB = 512;

export interface OffThreadOptions extends LayerOptions {
  /** Overrides PARSE_BUDGET_MS (tests). */
  budgetMs?: number;
  /** Overrides OFF_THREAD_MIN_CHARACTERS (tests). */
  minCharacters?: number;
}

/**
 * parsePolicyLayer(text, file, CONTROLS, options) without holding the event loop: the same layer,
 * or the same PolicyError (same problems, lines and columns). Small files are parsed here at once.
 */
export async function parsePolicyLayerOffThread(
  text: string,
  file: string,
  options: OffThreadOptions = {},
): Promise<PolicyLayer> {
  const { budgetMs = PARSE_BUDGET_MS, minCharacters = OFF_THREAD_MIN_CHARACTERS, ...layerOptions } = options;
  if (text.length < minCharacters) return parsePolicyLayer(text, file, CONTROLS, layerOptions);
  const answer = await queued(() => inWorker({ text, file, options: layerOptions }, budgetMs));
  if ("layer" in answer) return answer.layer;
  if ("problems" in answer) {
    // Building the error's message from thousands of problems is work of its own: after a turn.
    await new Promise((resolve) => setImmediate(resolve));
    throw new PolicyError(answer.problems);
  }
  throw new Error(`reading policy ${file} failed in its worker: ${answer.failed}`);
}

let running = 0;
const waiting: Array<() => void> = [];

async function queued<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_WORKERS) await new Promise<void>((resolve) => waiting.push(resolve));
  running += 1;
  try {
    return await work();
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

/** A refusal at the file's first position: what the check shows instead of a verdict. */
function refusal(file: string, message: string): PolicyError {
  return new PolicyError([{ file, line: 1, column: 1, message }]);
}

function inWorker(request: ParseRequest, budgetMs: number): Promise<ParseAnswer> {
  const worker = startWorker();
  return new Promise<ParseAnswer>((resolve, reject) => {
    let timer = setTimeout(
      () => finish(new Error("the policy parser's worker did not start")),
      LOAD_BUDGET_MS,
    );
    const finish = (outcome: ParseAnswer | Error) => {
      clearTimeout(timer);
      worker.removeAllListeners();
      // Whatever the stopped worker still reports is moot; unheard, an "error" event would throw.
      worker.on("error", () => {});
      // Stopping it is what aborts a parse still running; a finished one exits the same way.
      void worker.terminate();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const problems: PolicyError["problems"][number][] = [];
    worker.on("message", (message: ParseMessage) => {
      if (typeof message === "object" && "problemsPart" in message) {
        for (const problem of message.problemsPart) problems.push(problem);
        return;
      }
      if (message !== "ready") return finish("problems" in message ? { problems } : message);
      clearTimeout(timer);
      // The budget counts the parse only, not the worker's start.
      timer = setTimeout(
        () =>
          finish(
            refusal(
              request.file,
              `the policy was not read: parsing it took longer than ${budgetMs / 1000} s, and a policy that ` +
                `costly is refused (soc2-bot reads policies of up to 1 MiB in about a second); make it smaller`,
            ),
          ),
        budgetMs,
      );
      worker.postMessage(request);
    });
    worker.on("error", (error: Error & { code?: string }) =>
      finish(
        error.code === "ERR_WORKER_OUT_OF_MEMORY"
          ? refusal(
              request.file,
              `the policy was not read: parsing it needed more than ${WORKER_HEAP_MB} MB of memory; make it smaller`,
            )
          : error,
      ),
    );
    worker.on("exit", (code) =>
      finish(new Error(`the policy parser's worker exited (${code}) without an answer`)),
    );
  });
}

/**
 * The worker runs parse-worker.js next to this module. Run from TypeScript sources (tsx, vitest),
 * the worker has no TypeScript loader of its own (Node 20 does not give workers the parent's
 * `--import` hooks), so it registers tsx's before importing parse-worker.ts.
 */
function startWorker(): Worker {
  const options = { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } };
  const source = import.meta.url.endsWith(".ts");
  const entry = new URL(source ? "./parse-worker.ts" : "./parse-worker.js", import.meta.url);
  if (!source) return new Worker(entry, options);
  const loader = tsxApi();
  const bootstrap =
    `import(${JSON.stringify(loader)})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { ...options, eval: true });
}

let tsxApiUrl: string | undefined;

/** tsx's ESM API module, as its package exports it ("tsx/esm/api", import condition). */
function tsxApi(): string {
  if (tsxApiUrl) return tsxApiUrl;
  const manifestPath = createRequire(import.meta.url).resolve("tsx/package.json");
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const path = manifest.exports["./esm/api"]?.import.default;
  if (!path)
    throw new Error("tsx does not export ./esm/api: the policy parser's worker cannot load TypeScript");
  tsxApiUrl = pathToFileURL(join(dirname(manifestPath), path)).href;
  return tsxApiUrl;
}
