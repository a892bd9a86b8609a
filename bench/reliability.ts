/**
 * Many instances, bursts, redeliveries, a directed race and a SIGKILL, as an operator would try them:
 * the real app (src/app/server.ts, `npm start`'s entry point) started two or three times as child
 * processes against the simulated GitHub on 127.0.0.1, behind a small round-robin proxy, with one
 * PostgreSQL as their shared ledger. Signed deliveries are sent in bursts, some redelivered (same id,
 * same bytes) and out of order; one instance is killed mid-work and the deliveries it dropped are
 * redelivered, as GitHub's "Redeliver" would. Then it counts: check runs per (head, name), each final
 * verdict against a fresh evaluation of the final state, the directed race's verdict, finding issues
 * per finding, findings lost, and the time from each change's last event to its correct check.
 *
 * The reliability test (test/reliability) runs a bounded version; `npm run bench -- --reliability`
 * the full one (a 500-delivery burst on one instance, with GitHub's rate limits and the app's
 * production throttling).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { WebhookDefinition } from "@octokit/webhooks-examples";
import pg from "pg";
import type { ChangeRequest, Snapshot } from "../src/model/index.js";
import { runChangeCheck } from "../src/pipeline/change-check.js";
import { createGitHubClient, createGitHubHost } from "../src/providers/github/index.js";
import { CHECK_NAME } from "../src/reporters/check.js";
import { generateSampleOrganization } from "../src/sample/generate.js";
import { withFindingsRepository, FINDINGS_REPOSITORY } from "../src/sim/harness.js";
import { startSimulatedGitHub, type SimulatedGitHub } from "../src/sim/github/server.js";
import { createWorld, userId, type World } from "../src/sim/github/world.js";

const execute = promisify(execFile);
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const examples: WebhookDefinition[] = createRequire(import.meta.url)("@octokit/webhooks-examples");
const INSTALLATION = 1;
const SECRET = "reliability-webhook-secret";
/** The app's test key (a throwaway RSA key, as Probot's testing guide has one). */
const PRIVATE_KEY = readFileSync(new URL("../test/fixtures/app/private-key.pem", import.meta.url), "utf8");

export interface ReliabilityOptions {
  /** PostgreSQL the instances share (a fresh schema is used). */
  databaseUrl: string;
  instances: number;
  /** Open pull requests the deliveries are about. */
  openPullRequests: number;
  /** Deliveries of the burst (redeliveries included). */
  deliveries: number;
  /** Share of the burst that are redeliveries of earlier deliveries (same id, same bytes). */
  redeliveryShare: number;
  /** Merged pull requests failing a control, each announced (and redelivered) as a closed event. */
  mergedFailing: number;
  /** Run the directed race (an approval dismissed while another instance has read the change). */
  directedRace: boolean;
  /** SIGKILL one instance mid-burst (its dropped deliveries are redelivered to the others). */
  killOne: boolean;
  /** GitHub's documented rate limits on the simulator (the app's own throttling is always on). */
  rateLimits: boolean;
  /**
   * Share (0..1) of check-run and issue writes (creates, updates, comments) the simulated GitHub
   * applies and whose answer it then loses (a 502 or a reset connection): "write applied, answer lost".
   */
  lostAnswerShare?: number;
  log?: (line: string) => void;
  /** A folder the instances' logs are written to (instance-N.log), for a failure's story. */
  logDir?: string;
}

export interface ReliabilityFigures {
  instances: number;
  deliveries: number;
  redeliveries: number;
  /** Deliveries an instance dropped (killed) and that were redelivered. */
  redeliveredAfterKill: number;
  /** Heads with more than one "SOC 2 change management" check run. */
  duplicateCheckRuns: number;
  /** Open changes whose final check is missing or differs from a fresh evaluation of the final state. */
  wrongVerdicts: string[];
  /** The directed race's final conclusion (must be failure). */
  raceConclusion: string | null;
  /** Findings with more than one open issue. */
  duplicateIssues: number;
  /** Failing merged changes with no open issue naming them. */
  lostFindings: string[];
  /** Writes GitHub applied whose answer was lost, by kind, and the writes of those kinds it answered or lost. */
  answersLost: { checkRuns: number; issues: number; comments: number; ofWrites: number };
  /** Evaluations the instances logged as published, and those skipped as already evaluated. */
  published: number;
  skippedAsCovered: number;
  duplicatesIgnored: number;
  /** Milliseconds from each change's last delivery to its correct check, p50 and p99. */
  timeToCorrectMs: { p50: number; p99: number; max: number };
  wallMs: number;
}

interface SentDelivery {
  id: string;
  event: string;
  body: string;
  change: number | null;
  sentAt: number;
  status: number | null;
}

/** The world: the sample's first repository, its clean merged changes copied as open ones. */
function buildWorld(options: ReliabilityOptions) {
  const sample = generateSampleOrganization({
    seed: 7,
    repositories: 1,
    pullRequestsPerRepository: Math.max(40, options.openPullRequests * 2 + options.mergedFailing * 3),
  });
  const snapshot: Snapshot = withPolicyRepository(withFindingsRepository(sample.snapshot));
  const failing = new Set(sample.expected.map((e) => e.subject));
  const repository = sample.snapshot.repositories[0]!.fullName;
  const merged = snapshot.changeRequests.filter((c) => c.repository === repository);
  const clean = merged.filter((c) => !failing.has(`${c.repository}#${c.number}`) && c.reviews.length > 0);
  const failingMerged = merged.filter((c) => failing.has(`${c.repository}#${c.number}`));
  if (clean.length < options.openPullRequests) throw new Error("the sample has too few clean changes");
  const open: ChangeRequest[] = clean.slice(0, options.openPullRequests).map((change, index) => ({
    ...change,
    number: 50_000 + index,
    url: change.url.replace(/\/pull\/\d+$/, `/pull/${50_000 + index}`),
    headBranch: `${change.headBranch}-open`,
    state: "open",
    mergeCommitSha: null,
    mergedAt: null,
    mergedBy: null,
    checks: change.checks.map((check) => ({ ...check, on: "head" as const })),
    bypassedProtection: { known: true, value: false },
  }));
  const world = createWorld({ ...snapshot, changeRequests: [...snapshot.changeRequests, ...open] });
  return {
    world,
    repository,
    open: open.map((c) => c.number),
    mergedFailing: failingMerged.slice(0, options.mergedFailing).map((c) => c.number),
  };
}

/**
 * The organization's policy repository (`.github`), which holds the sample's organization policy:
 * GitHub serves a file only from a repository that exists, and the app's change check reads the
 * policy through GraphQL, where a missing repository is NOT_FOUND (no organization layer: the shipped
 * default, whose production branches leave out the sample's `release/*`).
 */
function withPolicyRepository(snapshot: Snapshot): Snapshot {
  const org = snapshot.organization?.login ?? "acme-demo";
  const fullName = `${org}/.github`;
  const model = snapshot.repositories.find((r) => r.fullName === `${org}/${FINDINGS_REPOSITORY}`);
  if (!model || snapshot.repositories.some((r) => r.fullName === fullName)) return snapshot;
  const repository = { ...model, fullName, url: model.url.replace(model.fullName, fullName) };
  return { ...snapshot, repositories: [...snapshot.repositories, repository] };
}

function example(name: string, action: string): Record<string, unknown> {
  const definition = examples.find((d) => d.name === name);
  const found = definition?.examples.find((e) => "action" in e && e.action === action);
  if (!found) throw new Error(`no ${name}.${action} example`);
  return structuredClone(found) as Record<string, unknown>;
}

/** A real payload of @octokit/webhooks-examples pointed at the change. */
function payloadFor(world: World, fullName: string, number: number, name: string, action: string) {
  const [owner = "", repo = ""] = fullName.split("/");
  const pull = world.repositories.get(fullName)!.pulls.get(number)!.change;
  const payload = example(name, action);
  const repository = payload.repository as Record<string, unknown>;
  Object.assign(repository, { name: repo, full_name: fullName });
  Object.assign(repository.owner as object, { login: owner });
  const pr = payload.pull_request as Record<string, unknown>;
  Object.assign(pr, { number, state: pull.state === "merged" ? "closed" : "open" });
  if (pull.state === "merged") Object.assign(pr, { merged: true });
  Object.assign(pr.head as object, { sha: pull.headSha, ref: pull.headBranch });
  Object.assign(pr.base as object, { ref: pull.baseBranch });
  if (name === "pull_request") Object.assign(payload, { number });
  Object.assign(payload, {
    installation: { id: INSTALLATION, node_id: "MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMQ==" },
  });
  return payload;
}

function post(url: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = httpRequest(url, {
      method: "POST",
      headers: { ...headers, "content-length": String(Buffer.byteLength(body)) },
    });
    req.on("response", (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    // A connection reset (the instance was killed) is a failed delivery, as GitHub records it.
    req.on("error", () => resolve(0));
    req.end(body);
  });
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

/** Check-run writes as the simulator answered them: when, for which head, which conclusion. */
interface CheckWrite {
  at: number;
  headSha: string;
  conclusion: string | null;
}

/**
 * The GitHub the instances talk to: the app endpoints the simulator does not serve (installation
 * tokens), everything else passed to the simulator; check-run writes recorded; `beforeWrite` may hold
 * a write (the directed race).
 */
async function startFront(
  sim: SimulatedGitHub,
  world: World,
  hooks: { beforeWrite?: (headSha: string) => Promise<void>; afterGraphql?: (number: number) => void },
) {
  const writes: CheckWrite[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = req.url ?? "/";
      if (req.method === "POST" && /^\/app\/installations\/\d+\/access_tokens$/.test(path)) {
        res.writeHead(201, { "content-type": "application/json" }).end(
          JSON.stringify({
            token: `ghs_${randomBytes(18).toString("hex")}`,
            expires_at: new Date(Date.now() + 3_600_000).toISOString(),
            permissions: {
              checks: "write",
              pull_requests: "read",
              contents: "read",
              issues: "write",
              metadata: "read",
            },
            repository_selection: "all",
          }),
        );
        return;
      }
      if (req.method === "GET" && path.startsWith("/app/installations")) {
        res.writeHead(200, { "content-type": "application/json" }).end("[]");
        return;
      }
      let headSha: string | null = null;
      const checkRun = /^\/repos\/([^/]+)\/([^/]+)\/check-runs(?:\/(\d+))?$/.exec(path);
      if (checkRun && (req.method === "POST" || req.method === "PATCH")) {
        const parsed = JSON.parse(body.toString("utf8") || "{}") as { head_sha?: string };
        headSha =
          parsed.head_sha ??
          world.repositories
            .get(`${checkRun[1]}/${checkRun[2]}`)
            ?.checkRuns.find((run) => run.id === Number(checkRun[3]))?.headSha ??
          null;
        if (headSha && hooks.beforeWrite) await hooks.beforeWrite(headSha);
      }
      const upstream = httpRequest(`${sim.url}${path}`, {
        method: req.method,
        headers: { ...req.headers, host: new URL(sim.url).host },
      });
      upstream.on("response", (answer) => {
        void readBody(answer).then((answered) => {
          if (headSha && (answer.statusCode ?? 0) < 300) {
            const written = JSON.parse(answered.toString("utf8")) as { conclusion?: string | null };
            writes.push({ at: Date.now(), headSha, conclusion: written.conclusion ?? null });
          }
          if (path.endsWith("/graphql") && hooks.afterGraphql) {
            const variables = (
              JSON.parse(body.toString("utf8") || "{}") as { variables?: { number?: number } }
            ).variables;
            if (typeof variables?.number === "number") hooks.afterGraphql(variables.number);
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers).end(answered);
        });
      });
      // The simulator reset the connection (an answer lost): the instance sees its connection reset.
      upstream.on("error", () => res.destroy());
      upstream.end(body);
    })();
  });
  const url = await listen(server);
  return { url, writes, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

interface Instance {
  url: string;
  child: ChildProcess;
  lines: string[];
  alive: boolean;
}

async function startInstance(
  index: number,
  api: string,
  databaseUrl: string,
  schema: string,
  appId: number,
): Promise<Instance> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer();
    probe.listen(0, "127.0.0.1", () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const child = spawn(process.execPath, ["--import", "tsx", "src/app/server.ts"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      // The simulator's id of the app that writes the check runs: the app finds its own run by it.
      APP_ID: String(appId),
      PRIVATE_KEY,
      WEBHOOK_SECRET: SECRET,
      PORT: String(port),
      HOST: "127.0.0.1",
      GITHUB_API_URL: api,
      DATABASE_URL: databaseUrl,
      SOC2_LEDGER_SCHEMA: schema,
      SOC2_SCHEDULER: "off",
      LOG_LEVEL: "info",
      NODE_ENV: "production",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const instance: Instance = { url: `http://127.0.0.1:${port}`, child, lines: [], alive: true };
  const keep = (chunk: Buffer) => instance.lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  child.on("exit", () => (instance.alive = false));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await fetch(`${instance.url}/ping`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) return instance;
    if (!instance.alive || Date.now() > deadline) {
      throw new Error(`instance ${index} did not start:\n${instance.lines.slice(-20).join("\n")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The round-robin in front of the instances: the next live one for each delivery. */
function roundRobin(instances: Instance[]) {
  let next = 0;
  return () => {
    for (let tried = 0; tried < instances.length; tried++) {
      const instance = instances[next++ % instances.length]!;
      if (instance.alive) return instance;
    }
    throw new Error("no instance is alive");
  };
}

function signed(event: string, id: string, body: string): Record<string, string> {
  return {
    "content-type": "application/json",
    "user-agent": "GitHub-Hookshot/reliability",
    "x-github-event": event,
    "x-github-delivery": id,
    "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`,
  };
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Waits until the instances' job queue (pg-boss in `schema`) has nothing waiting or running; the wait in ms. */
async function drainJobs(databaseUrl: string, schema: string, limitMs = 180_000): Promise<number> {
  const started = Date.now();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    let idle = 0;
    while (idle < 3) {
      if (Date.now() - started > limitMs) throw new Error(`the job queue did not drain in ${limitMs} ms`);
      const [table] = (
        await client.query<{ t: string | null }>(`SELECT to_regclass($1)::text AS t`, [`${schema}.job`])
      ).rows;
      const pending = table?.t
        ? Number(
            (
              await client.query<{ n: string }>(
                `SELECT count(*) AS n FROM ${schema}.job WHERE state IN ('created', 'retry', 'active')`,
              )
            ).rows[0]?.n ?? 0,
          )
        : 0;
      idle = pending === 0 ? idle + 1 : 0;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    return Date.now() - started;
  } finally {
    await client.end();
  }
}

/** The writes whose answers are lost: check runs created and updated, issues created and edited, comments. */
const LOST_ANSWER_ROUTES = [
  "POST /repos/{owner}/{repo}/check-runs",
  "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
  "POST /repos/{owner}/{repo}/issues",
  "PATCH /repos/{owner}/{repo}/issues/{issue_number}",
  "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
];

/** Runs the scenario and returns its figures; every process and server it started is stopped. */
export async function runReliability(options: ReliabilityOptions): Promise<ReliabilityFigures> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const { world, repository, open, mergedFailing } = buildWorld(options);
  const answersLost = { checkRuns: 0, issues: 0, comments: 0, ofWrites: 0 };
  // A check run applied whose answer was lost is still a write the change shows (time to correct).
  let appliedUnanswered: (write: CheckWrite) => void = () => {};
  const sim = await startSimulatedGitHub({
    world,
    seed: 11,
    rateLimits: options.rateLimits ? {} : false,
    ...(options.lostAnswerShare
      ? {
          faults: {
            lostAnswers: {
              rate: options.lostAnswerShare,
              routes: LOST_ANSWER_ROUTES,
              onLost: (lost) => {
                const answer = lost.answer as { head_sha?: string; conclusion?: string | null };
                if (lost.route.includes("/check-runs")) {
                  answersLost.checkRuns += 1;
                  if (answer.head_sha)
                    appliedUnanswered({
                      at: Date.now(),
                      headSha: answer.head_sha,
                      conclusion: answer.conclusion ?? null,
                    });
                } else if (lost.route.endsWith("/comments")) answersLost.comments += 1;
                else answersLost.issues += 1;
              },
            },
          },
        }
      : {}),
  });
  const race = options.directedRace ? open[0]! : null;
  let raceRead: (() => void) | null = null;
  const raceWriteHeld = new Promise<void>((resolve) => (raceRead = resolve));
  const raceHead = race === null ? null : world.repositories.get(repository)!.pulls.get(race)!.change.headSha;
  let raceHeld = false;
  const front = await startFront(sim, world, {
    // The first evaluation of the race's change read it approved; its write is held until the
    // dismissal has been delivered to the other instance and given time to be evaluated there.
    afterGraphql: (number) => {
      if (number === race) raceRead?.();
    },
    beforeWrite: async (headSha) => {
      if (headSha !== raceHead || raceHeld) return;
      raceHeld = true;
      await raceWriteHeld;
      await new Promise((resolve) => setTimeout(resolve, 2_500));
    },
  });
  appliedUnanswered = (write) => front.writes.push(write);
  const schema = `reliability_${randomBytes(5).toString("hex")}`;
  const instances: Instance[] = [];
  const sent: SentDelivery[] = [];
  try {
    for (let i = 0; i < options.instances; i++) {
      instances.push(
        await startInstance(i, front.url, options.databaseUrl, schema, userId(world, "app:soc2-bot")),
      );
    }
    log(`${instances.length} instances up after ${Date.now() - started} ms`);
    const pick = roundRobin(instances);
    const deliver = async (delivery: SentDelivery, to?: Instance) => {
      const target = to ?? pick();
      delivery.sentAt = Date.now();
      delivery.status = await post(
        `${target.url}/api/github/webhooks`,
        signed(delivery.event, delivery.id, delivery.body),
        delivery.body,
      );
      return delivery.status;
    };
    const make = (number: number, event: string, action: string): SentDelivery => ({
      id: randomUUID(),
      event,
      body: JSON.stringify(payloadFor(world, repository, number, event, action)),
      change: number,
      sentAt: 0,
      status: null,
    });

    // The directed race: instance 0 evaluates the approved change; once it has read it, the approval
    // is dismissed and the dismissal delivered to instance 1, while instance 0's write is held.
    let raceDone: Promise<unknown> = Promise.resolve();
    if (race !== null && instances.length > 1) {
      const first = make(race, "pull_request", "synchronize");
      sent.push(first);
      const firstDone = deliver(first, instances[0]);
      raceDone = (async () => {
        await raceWriteHeld;
        const pull = world.repositories.get(repository)!.pulls.get(race)!;
        pull.change = {
          ...pull.change,
          reviews: pull.change.reviews.map((review) =>
            review.state === "approved" ? { ...review, state: "dismissed" as const } : review,
          ),
        };
        const dismissal = make(race, "pull_request_review", "dismissed");
        sent.push(dismissal);
        await Promise.all([firstDone, deliver(dismissal, instances[1])]);
      })();
    }

    // The burst: each open change announced by several kinds of event, then redeliveries of some,
    // all shuffled (GitHub promises no order) and sent at once.
    const kinds: [string, string][] = [
      ["pull_request", "opened"],
      ["pull_request", "synchronize"],
      ["pull_request_review", "submitted"],
      ["pull_request", "ready_for_review"],
    ];
    const burstChanges = open.filter((number) => number !== race);
    const fresh = Math.max(1, Math.round(options.deliveries * (1 - options.redeliveryShare)));
    const burst: SentDelivery[] = [];
    for (let i = 0; i < fresh; i++) {
      const [event, action] = kinds[i % kinds.length]!;
      burst.push(make(burstChanges[i % burstChanges.length]!, event, action));
    }
    for (const number of mergedFailing) burst.push(make(number, "pull_request", "closed"));
    const originals = [...burst];
    for (let i = 0; burst.length < options.deliveries + mergedFailing.length * 2; i++) {
      // A redelivery is the very same delivery: same id, same bytes.
      burst.push({ ...originals[(i * 7) % originals.length]!, sentAt: 0, status: null });
    }
    for (let i = burst.length - 1; i > 0; i--) {
      const j = (i * 7919 + 13) % (i + 1);
      [burst[i], burst[j]] = [burst[j]!, burst[i]!];
    }
    sent.push(...burst);
    log(`burst of ${burst.length} deliveries (${burst.length - originals.length} redeliveries)`);
    const inFlight = burst.map((delivery, index) =>
      new Promise((resolve) => setTimeout(resolve, index * 5)).then(() => deliver(delivery)),
    );
    let killed: Instance | null = null;
    if (options.killOne && instances.length > 1) {
      // Mid-work: after a third of the burst has gone out.
      await new Promise((resolve) => setTimeout(resolve, Math.max(300, burst.length * 5) / 3 + 400));
      killed = instances[instances.length - 1]!;
      killed.child.kill("SIGKILL");
      log("SIGKILL sent to the last instance");
    }
    await Promise.all([...inFlight, raceDone]);

    // Deliveries that failed (the killed instance dropped them) are redelivered, as GitHub's
    // "Redeliver" does, after the dead instance's claims have run out (their lease).
    const failed = sent.filter(
      (delivery) => delivery.status === null || delivery.status === 0 || delivery.status >= 500,
    );
    if (failed.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, 16_000));
      log(`redelivering ${failed.length} deliveries the killed instance dropped`);
      await Promise.all(failed.map((delivery) => deliver(delivery)));
    }

    // Work the instances queued (with PostgreSQL webhooks are answered once their job is stored) is
    // done, including a killed instance's running jobs, tried again by the others after their expiry.
    const drained = await drainJobs(options.databaseUrl, `${schema}_jobs`);
    log(`job queue drained ${drained} ms after the last delivery was answered`);

    // The oracle: each open change evaluated afresh, alone, from the final state.
    const octokit = createGitHubClient({ token: "ghs_oracle", baseUrl: sim.url });
    const wrongVerdicts: string[] = [];
    const timeToCorrect: number[] = [];
    const repo = world.repositories.get(repository)!;
    let duplicateCheckRuns = 0;
    const byHead = new Map<string, number>();
    for (const run of repo.checkRuns) {
      if (run.name === CHECK_NAME) byHead.set(run.headSha, (byHead.get(run.headSha) ?? 0) + 1);
    }
    for (const count of byHead.values()) if (count > 1) duplicateCheckRuns += 1;
    let raceConclusion: string | null = null;
    for (const number of open) {
      const expected = await runChangeCheck(
        createGitHubHost({ octokit, baseUrl: sim.url }),
        { repository, number },
        { organization: repository.split("/")[0]!, now: new Date(), publish: false },
      );
      const head = repo.pulls.get(number)!.change.headSha;
      const run = repo.checkRuns.find((r) => r.name === CHECK_NAME && r.headSha === head);
      if (number === race) raceConclusion = run?.conclusion ?? null;
      if (run?.conclusion !== expected.check.conclusion) {
        wrongVerdicts.push(
          `#${number}: ${run?.conclusion ?? "no check"}, expected ${expected.check.conclusion}`,
        );
        continue;
      }
      const last = Math.max(...sent.filter((d) => d.change === number).map((d) => d.sentAt));
      const correct = front.writes.find(
        (w) => w.headSha === head && w.at >= last && w.conclusion === run.conclusion,
      );
      timeToCorrect.push(correct ? correct.at - last : 0);
    }

    // Findings: one open issue per finding, and each failing merged change named by an open issue.
    const findings = world.repositories.get(`${repository.split("/")[0]}/${FINDINGS_REPOSITORY}`)!;
    const openIssues = [...findings.issues.values()].filter((issue) => issue.state === "open");
    const markers = new Map<string, number>();
    for (const issue of openIssues) {
      const marker = /<!-- soc2-bot:finding:([0-9a-f]{16}) -->/.exec(issue.body)?.[1] ?? issue.title;
      markers.set(marker, (markers.get(marker) ?? 0) + 1);
    }
    const duplicateIssues = [...markers.values()].filter((count) => count > 1).length;
    const lostFindings = mergedFailing
      .filter(
        (number) =>
          !openIssues.some(
            (issue) => issue.body.includes(`/pull/${number}`) || issue.title.includes(`#${number}`),
          ),
      )
      .map((number) => `${repository}#${number}`);

    if (lostFindings.length > 0) {
      log(
        `open finding issues: ${openIssues.map((issue) => `${issue.title} [${issue.body.length} chars]`).join(" | ")}`,
      );
    }
    const lines = instances.flatMap((instance) => instance.lines);
    const count = (message: string) => lines.filter((line) => line.includes(`"msg":"${message}"`)).length;
    return {
      instances: options.instances,
      deliveries: sent.length,
      redeliveries: sent.length - new Set(sent.map((d) => d.id)).size,
      redeliveredAfterKill: failed.length,
      duplicateCheckRuns,
      wrongVerdicts,
      raceConclusion,
      duplicateIssues,
      lostFindings,
      answersLost: {
        ...answersLost,
        ofWrites: LOST_ANSWER_ROUTES.reduce((sum, route) => sum + (sim.stats.byRoute[route] ?? 0), 0),
      },
      published: count("change check published"),
      skippedAsCovered: count("change already evaluated since this event"),
      duplicatesIgnored: count("duplicate delivery ignored"),
      timeToCorrectMs: {
        p50: percentile(timeToCorrect, 50),
        p99: percentile(timeToCorrect, 99),
        max: Math.max(0, ...timeToCorrect),
      },
      wallMs: Date.now() - started,
    };
  } finally {
    if (options.logDir) {
      mkdirSync(options.logDir, { recursive: true });
      instances.forEach((instance, i) =>
        writeFileSync(join(options.logDir!, `instance-${i}.log`), instance.lines.join("\n") + "\n"),
      );
    }
    for (const instance of instances) if (instance.alive) instance.child.kill("SIGTERM");
    await Promise.all(
      instances.map((instance) =>
        instance.alive ? new Promise((resolve) => instance.child.once("exit", resolve)) : Promise.resolve(),
      ),
    );
    await front.close();
    await sim.close();
  }
}

/** The scenarios of `npm run bench -- --reliability`, as run into bench/results.md. */
export const BENCH_SCENARIOS: { name: string; options: Omit<ReliabilityOptions, "databaseUrl"> }[] = [
  {
    name: "500-delivery burst, one instance, GitHub's rate limits and the app's production throttling",
    options: {
      instances: 1,
      openPullRequests: 20,
      deliveries: 500,
      redeliveryShare: 0.64,
      mergedFailing: 3,
      directedRace: false,
      killOne: false,
      rateLimits: true,
    },
  },
  {
    name: "500-delivery burst, three instances behind a round-robin, the directed race, one instance SIGKILLed",
    options: {
      instances: 3,
      openPullRequests: 20,
      deliveries: 500,
      redeliveryShare: 0.64,
      mergedFailing: 3,
      directedRace: true,
      killOne: true,
      rateLimits: true,
    },
  },
  {
    name: "500-delivery burst, three instances, the directed race, 20% of check-run and issue writes applied with their answer lost",
    options: {
      instances: 3,
      openPullRequests: 20,
      deliveries: 500,
      redeliveryShare: 0.64,
      mergedFailing: 3,
      directedRace: true,
      killOne: false,
      rateLimits: true,
      lostAnswerShare: 0.2,
    },
  },
];

/** A scenario's lost answers, as a sentence under the table; none when it loses none. */
export function lostAnswersLine(
  scenario: number,
  share: number | undefined,
  f: ReliabilityFigures,
): string[] {
  if (!share) return [];
  const { checkRuns, issues, comments } = f.answersLost;
  return [
    `Scenario ${scenario}: ${checkRuns + issues + comments} of ${f.answersLost.ofWrites} writes applied with their answer lost (${Math.round(share * 100)}% of ` +
      `check-run and issue writes, a 502 or a reset connection: ${checkRuns} check runs, ${issues} issue creates ` +
      `and edits, ${comments} comments); ${f.duplicateCheckRuns} duplicate check runs, ${f.duplicateIssues} ` +
      `duplicate issues, ${f.lostFindings.length} lost findings, ${f.wrongVerdicts.length} wrong verdicts.`,
    "",
  ];
}

const START = "<!-- reliability:start -->";
const END = "<!-- reliability:end -->";

/** Runs the bench scenarios and writes their table into `out` between the reliability markers. */
export async function runReliabilityBench(options: {
  databaseUrl: string;
  out?: string;
  command: string;
}): Promise<ReliabilityFigures[]> {
  const results: ReliabilityFigures[] = [];
  for (const scenario of BENCH_SCENARIOS) {
    process.stderr.write(`reliability: ${scenario.name}\n`);
    const figures = await runReliability({
      ...scenario.options,
      databaseUrl: options.databaseUrl,
      log: (line) => process.stderr.write(`  ${line}\n`),
    });
    process.stderr.write(`  ${JSON.stringify(figures)}\n`);
    results.push(figures);
  }
  const rows = BENCH_SCENARIOS.map((scenario, i) => {
    const f = results[i]!;
    return (
      `| ${scenario.name} | ${f.deliveries} (${f.redeliveries} redelivered, ${f.redeliveredAfterKill} after the kill) | ` +
      `${f.duplicateCheckRuns} | ${f.wrongVerdicts.length} | ${f.raceConclusion ?? "n/a"} | ${f.duplicateIssues} | ` +
      `${f.lostFindings.length} | ${f.published} / ${f.skippedAsCovered} / ${f.duplicatesIgnored} | ` +
      `${(f.timeToCorrectMs.p50 / 1000).toFixed(1)} s / ${(f.timeToCorrectMs.p99 / 1000).toFixed(1)} s | ${(f.wallMs / 1000).toFixed(0)} s |`
    );
  });
  const section = [
    START,
    "## Reliability: many instances, bursts, redeliveries, a race and a SIGKILL (issue 14)",
    "",
    `\`${options.command}\` (bench/reliability.ts): the real app (src/app/server.ts) as child processes on one`,
    "PostgreSQL, against the simulated GitHub with GitHub's rate limits; each instance's own production",
    "client (retries, throttling, writes a second apart). Deliveries: events plus redeliveries (same id, same",
    "bytes), shuffled; lost: a change whose final check differs from a fresh evaluation of the final state, or",
    "a failing merge no open issue names. Time: from a change's last delivery to its correct check run.",
    "Answers lost (scenario 3): check-run and issue writes the simulated GitHub applied and then answered",
    "502 or reset the connection (src/sim/github/server.ts, faults.lostAnswers); the writer must look first.",
    "",
    "| scenario | deliveries | duplicate check runs | wrong or lost verdicts | directed race | duplicate issues | lost findings | published / skipped (already evaluated) / replays ignored | time to correct check p50 / p99 | wall |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...rows,
    "",
    ...results.flatMap((f, i) => lostAnswersLine(i + 1, BENCH_SCENARIOS[i]!.options.lostAnswerShare, f)),
    ...results.flatMap((f, i) =>
      f.wrongVerdicts.length + f.lostFindings.length > 0
        ? [
            `Scenario ${i + 1}: ${[...f.wrongVerdicts, ...f.lostFindings.map((s) => `lost finding ${s}`)].join("; ")}.`,
            "",
          ]
        : [],
    ),
    END,
  ].join("\n");
  if (options.out) {
    const before = existsSync(options.out) ? readFileSync(options.out, "utf8") : "";
    const start = before.indexOf(START);
    const end = before.indexOf(END);
    const next =
      start >= 0 && end > start
        ? before.slice(0, start) + section + before.slice(end + END.length)
        : `${before.trimEnd()}\n\n${section}\n`;
    writeFileSync(options.out, next);
  }
  return results;
}

/** Runs `work` with DATABASE_URL, or with a throwaway cluster started by .ci/postgres and stopped after. */
export async function withPostgres<T>(work: (databaseUrl: string) => Promise<T>): Promise<T> {
  if (process.env.DATABASE_URL) return work(process.env.DATABASE_URL);
  const dir = join(tmpdir(), `soc2-reliability-pg-${process.pid}`);
  const { stdout } = await execute("bash", [".ci/postgres", "start", dir], { cwd: ROOT, timeout: 120_000 });
  try {
    return await work(stdout.trim());
  } finally {
    await execute("bash", [".ci/postgres", "stop", dir], { cwd: ROOT });
  }
}
