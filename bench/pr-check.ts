/**
 * The change check (the pull-request check) against the simulated GitHub: open pull requests made
 * from the sample's merged ones, then runChangeCheck called directly, as the Probot app's handler
 * calls it (a new host per event, one conditional cache for all, the production client with its
 * retries and throttling), timing each event from the call to the check run being written.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { ChangeRequest, Snapshot } from "../src/model/index.js";
import { overlapMs, wallNow, type Interval } from "./loop-monitor.js";
import { runChangeCheck } from "../src/pipeline/change-check.js";
import type { SampleOrganization } from "../src/sample/generate.js";
import {
  createConditionalCache,
  createGitHubClient,
  createGitHubHost,
  type ClientStats,
  type GitHubClient,
} from "../src/providers/github/index.js";

export interface OpenPullRequest {
  repository: string;
  number: number;
}

export interface OpenPullRequests {
  /** Approved by someone else, required check green: the check must succeed. */
  clean: OpenPullRequest;
  /** No approval: the check must fail. */
  violating: OpenPullRequest;
}

/** First free pull request number used for the open copies (the sample numbers from 1). */
const OPEN_NUMBER_BASE = 100_000;

function reopened(change: ChangeRequest, number: number): ChangeRequest {
  return {
    ...change,
    number,
    url: change.url.replace(/\/pull\/\d+$/, `/pull/${number}`),
    headBranch: `${change.headBranch}-open`,
    state: "open",
    mergeCommitSha: null,
    mergedAt: null,
    mergedBy: null,
    checks: change.checks.map((check) => ({ ...check, on: "head" })),
    bypassedProtection: { known: true, value: false },
  };
}

/**
 * Adds one clean and one unapproved open pull request, copied from a clean merged one of a repository
 * whose rules are readable and require approval (the sample's first repository, "api").
 */
export function withOpenPullRequests(
  snapshot: Snapshot,
  sample: SampleOrganization,
): { snapshot: Snapshot; open: OpenPullRequests } {
  const failing = new Set(sample.expected.map((e) => e.subject));
  const repository = sample.snapshot.repositories[0]?.fullName;
  const candidates = snapshot.changeRequests.filter((c) => c.repository === repository);
  const clean = candidates.find((c) => !failing.has(`${c.repository}#${c.number}`));
  if (!clean || !repository) throw new Error(`the sample has no clean pull request in ${repository ?? "?"}`);
  // The same change on its own commit, reviewed with a comment instead of an approval.
  const sha = (value: string) => (value === clean.headSha ? [...value].reverse().join("") : value);
  const unapproved: ChangeRequest = {
    ...clean,
    headBranch: `${clean.headBranch}-unapproved`,
    headSha: sha(clean.headSha),
    commits: clean.commits.map((commit) => ({ ...commit, sha: sha(commit.sha) })),
    pushes: clean.pushes.map((push) => ({ ...push, headSha: sha(push.headSha) })),
    reviews: clean.reviews.map((review) => ({
      ...review,
      state: "commented",
      commitSha: review.commitSha && sha(review.commitSha),
    })),
    checks: clean.checks.map((check) => ({ ...check, sha: sha(check.sha) })),
  };
  const open = {
    clean: { repository, number: OPEN_NUMBER_BASE + 1 },
    violating: { repository, number: OPEN_NUMBER_BASE + 2 },
  };
  return {
    snapshot: {
      ...snapshot,
      changeRequests: [
        ...snapshot.changeRequests,
        reopened(clean, open.clean.number),
        reopened(unapproved, open.violating.number),
      ],
    },
    open,
  };
}

export interface ChangeCheckFigures {
  /** Events measured (the cold one included, when there was one). */
  events: number;
  /** Charged requests of the first event (empty conditional cache); null when the cache was warm. */
  coldRequests: number | null;
  /** Charged requests per later event (each on a new host instance, as the app makes one per event). */
  warmRequests: number[];
  /** 304 answers per later event: GitHub does not charge them against the rate limit. */
  warmNotModified: number[];
  /** Milliseconds from handling the event to the check run written, per warm event. */
  timesMs: number[];
  conclusions: Record<string, string>;
  /** Each warm event's requests and their HTTP exchanges. */
  traces: EventTrace[];
}

/** One HTTP exchange with the host, as it left the client (after every limiter), wall clock. */
export interface FetchTrace extends Interval {
  status: number;
  /** The simulator's Server-Timing: its own time for this request, milliseconds. */
  server: { recv: number; late: number; exec: number } | null;
}

/** One octokit request of an event: from the call to the answer, retries and limiters included. */
export interface RequestTrace extends Interval {
  label: string;
  /** Content-creating (REST POST/PATCH/PUT/DELETE, a GraphQL mutation): spaced a second apart. */
  write: boolean;
  fetches: FetchTrace[];
}

/** One event, from its arrival to its check run written. */
export interface EventTrace extends Interval {
  requests: RequestTrace[];
}

/**
 * The app's client for an installation: createGitHubClient with production defaults (retries and
 * throttling on) and one conditional cache for the process.
 */
export function changeCheckClient(url: string, token: string): GitHubClient & { stats: ClientStats } {
  return createGitHubClient({ token, baseUrl: url, conditionalCache: createConditionalCache() });
}

/**
 * Deliveries alternating between the violating and the clean pull request: a cold one first when
 * `cold`, then up to `events` warm ones, stopping early when `stop()` says so (an audit finished).
 *
 * Events arrive on a fixed schedule, one every `intervalMs`, whatever the ones before are doing, and
 * are handled concurrently, as the app handles webhooks; each event's time runs from its scheduled
 * arrival, so an event due while the process's event loop was blocked counts the block (a webhook
 * arriving then would have waited for it too). With `intervalMs` 0 they run back to back instead,
 * each from its own start: the queue at the installation's write spacing.
 */
export async function measureChangeChecks(
  octokit: GitHubClient & { stats: ClientStats },
  url: string,
  open: OpenPullRequests,
  options: {
    organization: string;
    now: Date;
    events: number;
    cold?: boolean;
    stop?: () => boolean;
    /**
     * Milliseconds from one event's arrival to the next (default 2,000; 0: back to back). Each event
     * writes its check run, and GitHub asks a second between writes, so one installation checks about
     * one pull request a second at most: events arriving that fast queue, and their time is the queue's.
     */
    intervalMs?: number;
  },
): Promise<ChangeCheckFigures> {
  // As the app: one conditional cache for the process, a new host for every event (so nothing is
  // remembered between events but the cached ETags, which GitHub answers with an uncharged 304).
  const intervalMs = options.intervalMs ?? 2000;
  const tracer = traceRequests(octokit);
  const run = async (target: OpenPullRequest, arrival: number) => {
    const trace: EventTrace = { start: arrival, end: 0, requests: [] };
    const outcome = await tracer.run(trace, () =>
      runChangeCheck(createGitHubHost({ octokit, baseUrl: url }), target, {
        organization: options.organization,
        now: options.now,
      }),
    );
    trace.end = wallNow();
    const exchanges = trace.requests.flatMap((request) => request.fetches);
    return {
      trace,
      // Answered exchanges, as the client's ClientStats counts them: a 304 is not charged by GitHub.
      requests: exchanges.filter((f) => f.status !== 0 && f.status !== 304).length,
      notModified: exchanges.filter((f) => f.status === 304).length,
      ms: trace.end - trace.start,
      outcome,
    };
  };
  const conclusions: Record<string, string> = {};
  let coldRequests: number | null = null;
  const warmRequests: number[] = [];
  const warmNotModified: number[] = [];
  const timesMs: number[] = [];
  const traces: EventTrace[] = [];
  try {
    if (options.cold ?? true) {
      const cold = await run(open.clean, wallNow());
      coldRequests = cold.requests;
      conclusions[`${open.clean.repository}#${open.clean.number}`] = cold.outcome.check.conclusion;
    }
    const first = wallNow();
    const inFlight: Array<Promise<void>> = [];
    for (let i = 0; i < options.events; i++) {
      const due = first + i * intervalMs;
      const wait = due - wallNow();
      if (intervalMs > 0 && wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (options.stop?.() ?? false) break;
      const target = i % 2 === 0 ? open.violating : open.clean;
      const event = run(target, intervalMs > 0 ? due : wallNow()).then((figures) => {
        warmRequests.push(figures.requests);
        warmNotModified.push(figures.notModified);
        timesMs.push(figures.ms);
        traces.push(figures.trace);
        conclusions[`${target.repository}#${target.number}`] = figures.outcome.check.conclusion;
      });
      if (intervalMs > 0) inFlight.push(event);
      else await event;
    }
    await Promise.all(inFlight);
  } finally {
    tracer.detach();
  }
  return {
    traces,
    events: timesMs.length + (coldRequests === null ? 0 : 1),
    coldRequests,
    warmRequests,
    warmNotModified,
    timesMs,
    conclusions,
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? 0;
}

/** The header that ties an HTTP exchange to the traced request it belongs to (the simulator ignores it). */
const TRACE_HEADER = "x-soc2-bench-trace";

/**
 * Records the requests of one client while `current` is set: each octokit request (outermost hook,
 * so the client's limiters and retries are inside it) and each HTTP exchange it made (the global
 * fetch, which the client's own fetch calls once every limiter has let the request go).
 */
function traceRequests(octokit: GitHubClient): {
  run<T>(event: EventTrace, work: () => Promise<T>): Promise<T>;
  detach(): void;
} {
  const requests = new Map<string, RequestTrace>();
  const events = new AsyncLocalStorage<EventTrace>();
  let nextId = 1;
  let attached = true;
  octokit.hook.wrap("request", async (request, options) => {
    const event = events.getStore();
    if (!attached || !event) return request(options);
    const id = String(nextId++);
    const trace: RequestTrace = {
      label: `${String(options.method)} ${String(options.url)}`,
      write: !/^(GET|HEAD)$/i.test(String(options.method)) && !isGraphqlQuery(options),
      start: wallNow(),
      end: 0,
      fetches: [],
    };
    event.requests.push(trace);
    requests.set(id, trace);
    try {
      // Set on the options object itself, as conditional.ts does: the hooks inside read it, not a copy.
      options.headers = { ...options.headers, [TRACE_HEADER]: id };
      return await request(options);
    } finally {
      trace.end = wallNow();
      requests.delete(id);
    }
  });
  const original = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const headers = init?.headers as Record<string, string> | undefined;
    const trace =
      typeof headers?.[TRACE_HEADER] === "string" ? requests.get(headers[TRACE_HEADER]) : undefined;
    if (!trace) return original(input, init);
    const exchange: FetchTrace = { start: wallNow(), end: 0, status: 0, server: null };
    trace.fetches.push(exchange);
    try {
      const response = await original(input, init);
      exchange.status = response.status;
      exchange.server = serverTiming(response.headers.get("server-timing"));
      return response;
    } finally {
      exchange.end = wallNow();
    }
  };
  return {
    run: (event, work) => events.run(event, work),
    detach() {
      attached = false;
      globalThis.fetch = original;
    },
  };
}

/** A GraphQL query (not a mutation): a read, which GitHub does not ask to space. */
function isGraphqlQuery(options: Record<string, unknown>): boolean {
  const query = typeof options.query === "string" ? options.query : undefined;
  return String(options.url).endsWith("/graphql") && query !== undefined && !/^\s*mutation\b/.test(query);
}

function serverTiming(header: string | null): FetchTrace["server"] {
  if (header === null) return null;
  const value = (name: string) => Number(new RegExp(`${name};dur=([0-9.]+)`).exec(header)?.[1] ?? 0);
  return { recv: value("recv"), late: value("late"), exec: value("exec") };
}

/** Where an event's milliseconds went, each counted once, in this order of precedence. */
export interface EventBreakdown {
  totalMs: number;
  /** The tool's event loop blocked (by the audit running in the same process, or anything else). */
  toolLoopMs: number;
  /**
   * A read inside our client before (or between) its HTTP exchanges: the limiters, concurrency
   * slots, retry waits, and the hooks' own work before sending.
   */
  clientQueueMs: number;
  /** The same for a write, which also waits for GitHub's second since the client's previous write. */
  writeQueueMs: number;
  /** A request inside our client after its last answer's headers: reading and parsing the body, hooks. */
  clientAnswerMs: number;
  /** At the host while the simulator's event loop was blocked (by other requests: the audit's pages). */
  simulatorBusyMs: number;
  /** At the host otherwise: its latency, its execution of this request, the network. */
  hostMs: number;
  /** Nothing in flight and the loop free: the check's own work (host setup, parsing, evaluation). */
  checkWorkMs: number;
  /**
   * Of toolLoopMs and simulatorBusyMs, the part the blocked process spent on a CPU (its CPU time over
   * the blocked interval's length): code running. The rest is the process waiting for a core, which
   * a machine shared with other work adds and a dedicated one would not.
   */
  toolLoopCpuMs: number;
  simulatorBusyCpuMs: number;
}

/** A blocked interval of an event loop, with the CPU time its process used in it when measured. */
type Blocked = Interval & { cpuMs?: number };

/**
 * Splits each event's wall time, millisecond by millisecond, into the first of: tool loop blocked,
 * queued in the client, at a busy simulator, at the host, the check's own work.
 */
export function breakdownEvent(
  trace: EventTrace,
  toolBlocked: readonly Blocked[],
  simulatorBlocked: readonly Blocked[],
): EventBreakdown {
  const result: EventBreakdown = {
    totalMs: trace.end - trace.start,
    toolLoopMs: 0,
    clientQueueMs: 0,
    writeQueueMs: 0,
    clientAnswerMs: 0,
    simulatorBusyMs: 0,
    hostMs: 0,
    checkWorkMs: 0,
    toolLoopCpuMs: 0,
    simulatorBusyCpuMs: 0,
  };
  const fetches = trace.requests.flatMap((request) => request.fetches);
  const within = (intervals: readonly Interval[], at: number) =>
    intervals.some((interval) => interval.start <= at && at < interval.end);
  // The share of a blocked interval its process spent on a CPU (1 when not measured).
  const onCpu = (intervals: readonly Blocked[], at: number) => {
    const interval = intervals.find((i) => i.start <= at && at < i.end);
    if (!interval || interval.cpuMs === undefined) return 1;
    return Math.min(1, interval.cpuMs / Math.max(1e-9, interval.end - interval.start));
  };
  const tool = toolBlocked.filter((i) => i.end > trace.start && i.start < trace.end);
  const simulator = simulatorBlocked.filter((i) => i.end > trace.start && i.start < trace.end);
  const step = 0.25;
  for (let at = trace.start; at < trace.end; at += step) {
    if (within(tool, at)) {
      result.toolLoopMs += step;
      result.toolLoopCpuMs += step * onCpu(tool, at);
    } else if (within(fetches, at)) {
      if (within(simulator, at)) {
        result.simulatorBusyMs += step;
        result.simulatorBusyCpuMs += step * onCpu(simulator, at);
      } else result.hostMs += step;
    } else {
      const request = trace.requests.find((r) => r.start <= at && at < r.end);
      if (!request) result.checkWorkMs += step;
      else if (request.fetches.some((f) => f.end <= at)) result.clientAnswerMs += step;
      else if (request.write) result.writeQueueMs += step;
      else result.clientQueueMs += step;
    }
  }
  return result;
}

export interface CheckBreakdown {
  events: number;
  /** Mean of each part over the events. */
  mean: EventBreakdown;
  /** The slowest events, slowest first. */
  slowest: EventBreakdown[];
  /**
   * p50/p99 of each event's time minus what it spent at a busy simulator: what a host answering
   * requests in parallel, as GitHub's servers do, would have given (the simulator's own limits and
   * costs still applied).
   */
  p50WithoutSimulatorBusyMs: number;
  p99WithoutSimulatorBusyMs: number;
  /** Requests whose Server-Timing said the simulator resumed them late (its loop busy), and by how much in all. */
  simulatorLateMs: number;
  /** The simulator's own execution of the check's requests, in all (ms). */
  simulatorExecMs: number;
  /** Events during which the tool's event loop was blocked at least once. */
  eventsWithToolLoopBlocked: number;
  /** The longest single block of the tool's loop overlapping an event, ms. */
  longestToolBlockMs: number;
}

export function summarizeBreakdown(
  traces: readonly EventTrace[],
  toolBlocked: readonly Blocked[],
  simulatorBlocked: readonly Blocked[],
): CheckBreakdown {
  const events = traces.map((trace) => breakdownEvent(trace, toolBlocked, simulatorBlocked));
  const keys = [
    "totalMs",
    "toolLoopMs",
    "clientQueueMs",
    "writeQueueMs",
    "clientAnswerMs",
    "simulatorBusyMs",
    "hostMs",
    "checkWorkMs",
    "toolLoopCpuMs",
    "simulatorBusyCpuMs",
  ] as const;
  const mean = Object.fromEntries(
    keys.map((key) => [key, events.reduce((sum, e) => sum + e[key], 0) / Math.max(1, events.length)]),
  ) as unknown as EventBreakdown;
  const fetches = traces.flatMap((trace) => trace.requests.flatMap((request) => request.fetches));
  const touching = toolBlocked.filter((block) => traces.some((trace) => overlapMs([block], trace) > 0));
  const withoutSimulator = events.map((e) => e.totalMs - e.simulatorBusyMs);
  return {
    events: events.length,
    mean,
    slowest: [...events].sort((a, b) => b.totalMs - a.totalMs).slice(0, 5),
    p50WithoutSimulatorBusyMs: percentile(withoutSimulator, 50),
    p99WithoutSimulatorBusyMs: percentile(withoutSimulator, 99),
    simulatorLateMs: fetches.reduce((sum, f) => sum + (f.server?.late ?? 0), 0),
    simulatorExecMs: fetches.reduce((sum, f) => sum + (f.server?.exec ?? 0), 0),
    eventsWithToolLoopBlocked: events.filter((e) => e.toolLoopMs > 0).length,
    longestToolBlockMs: Math.max(0, ...touching.map((block) => block.end - block.start)),
  };
}

/** One line per part, e.g. "tool loop 12 ms, client queue 0 ms, ...". */
export function describeBreakdown(e: EventBreakdown): string {
  return (
    `${e.totalMs.toFixed(0)} ms = tool loop blocked ${e.toolLoopMs.toFixed(0)} (on CPU ${e.toolLoopCpuMs.toFixed(0)}), queued in our client ${e.clientQueueMs.toFixed(0)}, ` +
    `writes waiting ${e.writeQueueMs.toFixed(0)}, reading answers ${e.clientAnswerMs.toFixed(0)}, ` +
    `simulator busy ${e.simulatorBusyMs.toFixed(0)} (on CPU ${e.simulatorBusyCpuMs.toFixed(0)}), at the host ${e.hostMs.toFixed(0)}, the check's own work ${e.checkWorkMs.toFixed(0)}`
  );
}

/**
 * The breakdown as report lines: the mean event, the slowest, the percentiles without the
 * simulator's busy time, and the blocked loops of both processes.
 */
export function breakdownLines(
  breakdown: CheckBreakdown,
  loops: {
    tool: { p99Ms: number; maxMs: number; blockedMs: number; blockedCpuMs: number };
    simulator: { p99Ms: number; maxMs: number; blockedMs: number; blockedCpuMs: number };
  },
): string[] {
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return [
    `  - Where an event's time went (each millisecond counted once, in this order: the tool's event loop blocked; a read, or a write, inside our client before it was sent (limiters, concurrency slots, the second between writes); reading an answer; at the simulated GitHub while its event loop was busy with other requests; at the host otherwise (latency, execution); the check's own work): mean ${describeBreakdown(breakdown.mean)}.`,
    `  - Slowest: ${breakdown.slowest.map(describeBreakdown).join("; ")}.`,
    `  - Without the time spent at the simulator while its single event loop was busy (GitHub answers requests in parallel): p50 ${breakdown.p50WithoutSimulatorBusyMs.toFixed(0)} ms, p99 ${breakdown.p99WithoutSimulatorBusyMs.toFixed(0)} ms.`,
    `  - The tool's event loop (the audit and the checks share it, as in the app): delay p99 ${loops.tool.p99Ms.toFixed(0)} ms, max ${loops.tool.maxMs.toFixed(0)} ms, blocked ${seconds(loops.tool.blockedMs)} in all (the process on a CPU for ${seconds(loops.tool.blockedCpuMs)} of it), during ${breakdown.eventsWithToolLoopBlocked} of ${breakdown.events} events. The simulator's: delay p99 ${loops.simulator.p99Ms.toFixed(0)} ms, max ${loops.simulator.maxMs.toFixed(0)} ms, blocked ${seconds(loops.simulator.blockedMs)} (on a CPU ${seconds(loops.simulator.blockedCpuMs)}).`,
  ];
}
