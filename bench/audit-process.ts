/**
 * The audited tool in a process of its own: `soc2-bot audit` as production runs it (runAudit:
 * collect, evaluate, write the evidence package) with the production client, createGitHubClient
 * with its defaults (retries and throttling on), against the simulated GitHub in another process.
 * Its peak RSS is this process's alone: the OS's maximum resident set (process.resourceUsage) and
 * process.memoryUsage().rss sampled every 100 ms, whichever is higher.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { runAudit } from "../src/cli/audit.js";
import { openLedger, pushRecordOf, type LedgerOptions } from "../src/ledger/index.js";
import { createGitHubClient, createGitHubHost } from "../src/providers/github/index.js";
import type { ExpectedFinding } from "../src/sample/generate.js";
import { compareWithExpected, type ExpectedComparison } from "../src/sim/harness.js";
import { serveWorker } from "./worker.js";

export interface AuditProcessConfig {
  url: string;
  token: string;
  organization: string;
  since: string;
  until: string;
  at: string;
  expected: ExpectedFinding[];
  concurrency: number;
  /** File the finding issues too, as `soc2-bot audit` does without --skip-findings. */
  findings: boolean;
  /**
   * A ledger holding the app's push record (bench/push-record-fill.ts): the GitHub host answers
   * direct pushes from it where it is complete, as the app's scheduled audit does. Opened inside the
   * measurement (PGlite's WASM heap counts in the peak RSS). The audit is not recorded in it.
   */
  pushRecord?: LedgerOptions;
}

export interface AuditProcessFigures {
  wallMs: number;
  peakRssBytes: number;
  /** Requests the client sent (retries included), 304s apart, GraphQL points the answers reported. */
  clientRequests: number;
  clientNotModified: number;
  /** What the rate limits made the client do (waits for resets, pacing, write spacing, retries). */
  clientRateLimits: Record<string, number> | null;
  exitCode: number | null;
  /** The audit's error, when it failed (e.g. a rate limit it would not wait for). */
  error: string | null;
  results: number;
  comparison: ExpectedComparison;
  /**
   * SHA-256 of results.json's "results" array: equal results give equal bytes (the rest of the file
   * names the run, e.g. the simulated GitHub's port).
   */
  resultsHash: string;
  evidenceBytes: number;
}

serveWorker<AuditProcessConfig, AuditProcessFigures>({
  async start(config) {
    const outDir = await mkdtemp(join(tmpdir(), "soc2-bench-audit-"));
    try {
      return await audit(config, outDir);
    } finally {
      if (process.env.SOC2_BENCH_KEEP_AUDIT) process.stderr.write(`audit package kept: ${outDir}\n`);
      else await rm(outDir, { recursive: true, force: true });
    }
  },
});

async function audit(config: AuditProcessConfig, outDir: string): Promise<AuditProcessFigures> {
  // As src/providers/index.ts builds it for a token: production defaults, nothing turned off.
  const octokit = createGitHubClient({ token: config.token, baseUrl: config.url });
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 100);
  const ledger = config.pushRecord ? openLedger(config.pushRecord) : null;
  await ledger?.open();
  const host = createGitHubHost({
    octokit,
    baseUrl: config.url,
    ...(ledger ? { pushRecord: pushRecordOf(ledger) } : {}),
  });
  const quiet = { stdout: () => {}, stderr: () => {} };
  const started = performance.now();
  let exitCode: number | null = null;
  let error: string | null = null;
  try {
    exitCode = await runAudit(
      {
        host,
        organization: config.organization,
        since: new Date(config.since),
        until: new Date(config.until),
        policyFiles: [],
        outDir,
        findings: config.findings,
        concurrency: config.concurrency,
        now: () => new Date(config.at),
      },
      quiet,
    );
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  }
  const wallMs = performance.now() - started;
  await ledger?.close();
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  // Read back after the measurement: what the package says, streamed, never held whole.
  const read = error === null ? await readResults(join(outDir, "results.json")) : null;
  return {
    wallMs,
    peakRssBytes: peak,
    clientRequests: octokit.stats.requests,
    clientNotModified: octokit.stats.notModified ?? 0,
    clientRateLimits: octokit.stats.rateLimits ? { ...octokit.stats.rateLimits } : null,
    exitCode,
    error,
    results: read?.results.length ?? 0,
    comparison: compareWithExpected({ results: read?.results ?? [] } as never, config.expected),
    resultsHash: read?.hash ?? "",
    evidenceBytes: read?.bytes ?? 0,
  };
}

interface ResultLine {
  control: string;
  outcome: string;
  subject: { id: string };
}

/**
 * The control, outcome and subject id of every result in results.json, read line by line: the file
 * is stable JSON (2-space indent, sorted keys), so a result is an object at 4 spaces in the
 * top-level "results" array, with "control" and "outcome" at 6 and its subject's "id" at 8.
 */
async function readResults(path: string): Promise<{ results: ResultLine[]; hash: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  const stream = createReadStream(path);
  stream.on("data", (chunk) => {
    bytes += chunk.length;
  });
  const results: ResultLine[] = [];
  let inResults = false;
  let done = false;
  let inSubject = false;
  let current: Partial<ResultLine> & { subject?: { id: string } } = {};
  const value = (line: string) =>
    JSON.parse(line.slice(line.indexOf(":") + 1).replace(/,\s*$/, "")) as string;
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    if (!inResults) {
      if (!done && line === '  "results": [') inResults = true;
      continue;
    }
    hash.update(`${line}\n`);
    if (line === "  ]" || line === "  ],") {
      inResults = false;
      done = true;
      continue;
    }
    if (line === "    {") current = {};
    else if (line === "    }" || line === "    },") {
      if (current.control && current.outcome && current.subject)
        results.push({ control: current.control, outcome: current.outcome, subject: current.subject });
    } else if (line.startsWith('      "control": ')) current.control = value(line);
    else if (line.startsWith('      "outcome": ')) current.outcome = value(line);
    else if (line === '      "subject": {') inSubject = true;
    else if (inSubject && line.startsWith('        "id": ')) current.subject = { id: value(line) };
    else if (line.startsWith("      }")) inSubject = false;
  }
  await new Promise<void>((resolve) => (stream.closed ? resolve() : stream.once("close", () => resolve())));
  return { results, hash: hash.digest("hex"), bytes };
}
