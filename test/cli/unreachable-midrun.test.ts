/**
 * A code host that goes away after the run has started (the up-front reachability check passed):
 * the simulated GitHub and GitLab behind a proxy on 127.0.0.1 that stops listening at a chosen
 * request. The run must end within seconds with exit 3 and one line naming the host and the cause,
 * not wait through the clients' retries, read on into "unknown" facts blaming a permission, or
 * record every finding write left as failed.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runAction } from "../../src/action/run.js";
import { main } from "../../src/cli/main.js";
import { period, serveSample, type ServedSample } from "../../src/sim/harness.js";
import { startSimulatedGitLab, type SimulatedGitLab } from "../../src/sim/gitlab/server.js";
import { closingProxy, type ClosingProxy, type GoneAt } from "../fixtures/closing-proxy.js";
import { memoryIo } from "../fixtures/memory-io.js";

/** From the host going away to the exit: the connection budget (2 tries, 750 ms apart) and some slack. */
const FAIL_WITHIN_MS = 5_000;

const saved = { ...process.env };
let proxy: ClosingProxy | undefined;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "soc2-midrun-"));
});
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  process.env = { ...saved };
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** What the CLI must end with: one line, the host and the system's reason; no stack, no permission. */
function expectUnreachable(err: string, origin: string): void {
  const host = new URL(origin).host;
  expect(
    err.endsWith(`soc2-bot: code host unreachable: ${host}: ECONNREFUSED: connect ECONNREFUSED ${host}\n`),
  ).toBe(true);
  expect(err).not.toMatch(/permission|\n\s+at /);
}

/** Runs the command line and says how long after the host went away it returned. */
async function runUntilGone(
  argv: string[],
): Promise<{ code: number; out: string; err: string; afterGone: number }> {
  const io = memoryIo();
  const code = await main(argv, io);
  const gone = proxy!.closedAt();
  expect(gone, "the host went away during the run").toBeDefined();
  return { code, out: io.out, err: io.err, afterGone: Date.now() - gone! };
}

describe("a GitHub that goes away after the run started", () => {
  let served: ServedSample;
  beforeAll(async () => {
    served = await serveSample({ repositories: 6, pullRequestsPerRepository: 3 });
  });
  afterAll(async () => {
    await served.sim.close();
  });

  async function behindProxy(goneAt: GoneAt): Promise<string> {
    proxy = await closingProxy(served.sim.url, goneAt);
    process.env.GITHUB_TOKEN = "test-token";
    process.env.GITHUB_API_URL = proxy.origin + new URL(served.sim.url).pathname.replace(/\/$/, "");
    return proxy.origin;
  }

  function auditArgs(name: string, ...more: string[]): string[] {
    const { since, until } = period(served.sample);
    const org = served.served.organization!.login;
    const out = join(dir, name);
    return [
      "audit",
      "--org",
      org,
      "--since",
      day(since),
      "--until",
      day(until),
      "--skip-ledger",
      "--out",
      out,
      ...more,
    ];
  }

  it("audit: gone while collecting (its first GraphQL query), exit 3 in seconds, no package", async () => {
    const origin = await behindProxy((method, path) => method === "POST" && path === "/graphql");
    const run = await runUntilGone(auditArgs("collecting"));
    expect(run.code).toBe(3);
    expect(run.afterGone).toBeLessThan(FAIL_WITHIN_MS);
    expectUnreachable(run.err, origin);
    // Nothing was judged: no totals, and no repository "collected" with unknown facts.
    expect(run.out).toBe("");
    expect(run.err).not.toContain("collected ");
  });

  it("audit: gone while writing finding issues, exit 3 in seconds, not each write left recorded as failed", async () => {
    const origin = await behindProxy((method, path) => method === "POST" && /\/issues$/.test(path));
    const run = await runUntilGone(auditArgs("writing"));
    expect(run.code).toBe(3);
    expect(run.afterGone).toBeLessThan(FAIL_WITHIN_MS);
    expectUnreachable(run.err, origin);
    expect(run.err).toContain("collected ");
  });

  it("doctor: gone right after the reachability check, exit 3 in seconds", async () => {
    const origin = await behindProxy({ answered: 1 });
    const run = await runUntilGone(["doctor", "--org", served.served.organization!.login]);
    expect(run.code).toBe(3);
    expect(run.afterGone).toBeLessThan(FAIL_WITHIN_MS);
    expect(run.out).toBe(`ok    github answers at ${process.env.GITHUB_API_URL}\n`);
    expectUnreachable(run.err, origin);
  });

  it("the Action's audit mode: gone while collecting, exit 3 in seconds, as a workflow error", async () => {
    const origin = await behindProxy((method, path) => method === "POST" && path === "/graphql");
    const io = memoryIo();
    const code = await runAction(
      {
        SOC2_MODE: "audit",
        SOC2_ORGANIZATION: served.served.organization!.login,
        SOC2_UNTIL: day(period(served.sample).until),
        SOC2_PERIOD_DAYS: "30",
        SOC2_OUT: join(dir, "action"),
        SOC2_SKIP_FINDINGS: "true",
      },
      io,
    );
    expect(code).toBe(3);
    expect(Date.now() - proxy!.closedAt()!).toBeLessThan(FAIL_WITHIN_MS);
    expectUnreachable(io.err, origin);
  });
  it("the Action's check mode: gone at its first request, exit 3 in seconds, as a workflow error", async () => {
    const origin = await behindProxy({ answered: 0 });
    const change = served.served.changeRequests[0]!;
    const event = join(dir, "pull_request.json");
    // What mode: check reads of the event: the pull request, its head and its repository.
    await writeFile(
      event,
      JSON.stringify({
        pull_request: { number: change.number, head: { sha: change.headSha } },
        repository: { full_name: change.repository, owner: { login: change.repository.split("/")[0] } },
      }),
    );
    const io = memoryIo();
    const code = await runAction(
      {
        SOC2_MODE: "check",
        GITHUB_TOKEN: "test-token",
        GITHUB_API_URL: process.env.GITHUB_API_URL,
        GITHUB_EVENT_PATH: event,
        GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
      },
      io,
    );
    expect(code).toBe(3);
    expect(Date.now() - proxy!.closedAt()!).toBeLessThan(FAIL_WITHIN_MS);
    expect(io.err).toMatch(/^::error::soc2-bot: code host unreachable: /);
    expectUnreachable(io.err, origin);
  });
});

describe("a GitLab that goes away after the run started", () => {
  let sim: SimulatedGitLab;
  let group: string;
  beforeAll(async () => {
    const { generateSampleOrganization } = await import("../../src/sample/generate.js");
    const sample = generateSampleOrganization({ repositories: 4, pullRequestsPerRepository: 3 });
    group = sample.snapshot.organization!.login;
    sim = await startSimulatedGitLab({ snapshot: sample.snapshot, extraProjects: ["compliance"] });
  });
  afterAll(async () => {
    await sim.close();
  });

  async function behindProxy(goneAt: GoneAt): Promise<string> {
    proxy = await closingProxy(sim.url, goneAt);
    process.env.GITLAB_TOKEN = sim.token;
    process.env.GITLAB_URL = proxy.origin + new URL(sim.url).pathname.replace(/\/$/, "");
    return proxy.origin;
  }

  it("audit: gone while reading merge requests, exit 3 in seconds, no package", async () => {
    const origin = await behindProxy((_method, path) => path.includes("/merge_requests"));
    const run = await runUntilGone([
      "audit",
      "--gitlab-group",
      group,
      "--since",
      "2020-01-01",
      "--until",
      "2030-01-01",
      "--skip-ledger",
      "--skip-findings",
      "--out",
      join(dir, "gitlab"),
    ]);
    expect(run.code).toBe(3);
    expect(run.afterGone).toBeLessThan(FAIL_WITHIN_MS);
    expectUnreachable(run.err, origin);
    expect(run.out).toBe("");
  });

  it("doctor: gone right after the reachability check, exit 3 in seconds", async () => {
    const origin = await behindProxy({ answered: 1 });
    const run = await runUntilGone(["doctor", "--gitlab-group", group]);
    expect(run.code).toBe(3);
    expect(run.afterGone).toBeLessThan(FAIL_WITHIN_MS);
    expectUnreachable(run.err, origin);
  });
});
