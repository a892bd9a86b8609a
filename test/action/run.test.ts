/**
 * The GitHub Action's entry point against the simulated GitHub: GitHub's documented
 * pull_request.opened payload (@octokit/webhooks-examples) pointed at the simulated organization's
 * open pull requests, judged and reported as the app reports it; a token that may not write check
 * runs gets a commit status; mode: audit writes the evidence package the action uploads.
 */
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nock from "nock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { period, serveSample, type ServedSample } from "../../src/sim/harness.js";
import { withOpenPullRequests, type OpenPullRequests } from "../../bench/pr-check.js";
import { findRepository } from "../../src/sim/github/world.js";
import { runAction } from "../../src/action/run.js";

const require = createRequire(import.meta.url);
const definitions = require("@octokit/webhooks-examples/api.github.com/index.json") as {
  name: string;
  examples: Record<string, unknown>[];
}[];
const opened = definitions
  .find((definition) => definition.name === "pull_request")!
  .examples.find((example) => example.action === "opened")!;

let served: ServedSample;
let open: OpenPullRequests;
let dir: string;

beforeAll(async () => {
  let added: OpenPullRequests | undefined;
  served = await serveSample({ repositories: 2, pullRequestsPerRepository: 4 }, {}, (snapshot, sample) => {
    const extended = withOpenPullRequests(snapshot, sample);
    added = extended.open;
    return extended.snapshot;
  });
  open = added!;
  dir = await mkdtemp(join(tmpdir(), "soc2-action-"));
});
afterAll(async () => {
  await served.sim.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  nock.cleanAll();
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) },
    stdout: () => out.join(""),
    stderr: () => err.join(""),
  };
}

/** GitHub's documented payload, its pull request and repository those of the simulated organization. */
async function eventFile(name: string, target: { repository: string; number: number }): Promise<string> {
  const change = served.served.changeRequests.find(
    (c) => c.repository === target.repository && c.number === target.number,
  )!;
  const [owner, repo] = target.repository.split("/") as [string, string];
  const example = structuredClone(opened) as {
    number: number;
    pull_request: Record<string, unknown> & { head: Record<string, unknown>; base: Record<string, unknown> };
    repository: Record<string, unknown> & { owner: Record<string, unknown> };
  };
  example.number = target.number;
  example.pull_request.number = target.number;
  example.pull_request.head = { ...example.pull_request.head, sha: change.headSha, ref: change.headBranch };
  example.pull_request.base = { ...example.pull_request.base, ref: change.baseBranch };
  example.repository = {
    ...example.repository,
    name: repo,
    full_name: target.repository,
    owner: { ...example.repository.owner, login: owner },
  };
  const path = join(dir, `${name}.json`);
  await writeFile(path, JSON.stringify(example));
  return path;
}

function checkEnv(eventPath: string, summary: string): Record<string, string> {
  return {
    SOC2_MODE: "check",
    GITHUB_TOKEN: "demo",
    GITHUB_API_URL: served.sim.url,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_REPOSITORY: open.clean.repository,
    GITHUB_RUN_ID: "4242",
  };
}

function repositoryOf(fullName: string) {
  const [owner, name] = fullName.split("/") as [string, string];
  return findRepository(served.world, owner, name)!;
}

function headOf(target: { repository: string; number: number }): string {
  return served.served.changeRequests.find(
    (c) => c.repository === target.repository && c.number === target.number,
  )!.headSha;
}

describe("mode: check", () => {
  it("passes a clean pull request with a successful check run on its head", async () => {
    const summary = join(dir, "clean-summary.md");
    const output = capture();
    const code = await runAction(checkEnv(await eventFile("clean", open.clean), summary), output.io);
    expect(output.stderr()).not.toContain("::error::");
    expect(code).toBe(0);
    const runs = repositoryOf(open.clean.repository).checkRuns.filter(
      (run) => run.headSha === headOf(open.clean) && run.name === "SOC 2 change management",
    );
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ status: "completed", conclusion: "success" });
    expect(await readFile(summary, "utf8")).toContain(runs[0]!.summary!.slice(0, 200));
    expect(output.stdout()).toContain(`${open.clean.repository}#${open.clean.number}`);
  });

  it("fails an unapproved pull request, exit 1, and updates its run instead of adding one when run again", async () => {
    const event = await eventFile("violating", open.violating);
    const summary = join(dir, "violating-summary.md");
    for (let run = 0; run < 2; run++) {
      const output = capture();
      expect(await runAction(checkEnv(event, summary), output.io)).toBe(1);
    }
    const runs = repositoryOf(open.violating.repository).checkRuns.filter(
      (run) => run.headSha === headOf(open.violating) && run.name === "SOC 2 change management",
    );
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ conclusion: "failure" });
    expect(runs[0]!.summary).toContain("cc8.independent-approval");
    const text = await readFile(summary, "utf8");
    expect(text).toContain("cc8.independent-approval");
  });

  it("reports a commit status when the token may not write check runs", async () => {
    const refusal = {
      message: "Resource not accessible by personal access token",
      documentation_url: "https://docs.github.com/rest/checks/runs#create-a-check-run",
      status: "403",
    };
    nock(served.sim.url, { allowUnmocked: true })
      .get(/\/commits\/[0-9a-f]{40}\/check-runs/)
      .reply(403, refusal)
      .post(/\/check-runs$/)
      .reply(403, refusal)
      // The run the earlier test created on this head is updated, not created.
      .patch(/\/check-runs\/\d+$/)
      .reply(403, refusal);
    const output = capture();
    const code = await runAction(
      {
        ...checkEnv(await eventFile("status", open.violating), join(dir, "status.md")),
        SOC2_FAIL_ON_FINDINGS: "false",
      },
      output.io,
    );
    expect(output.stderr() + output.stdout()).toContain("reporting a commit status instead");
    expect(code).toBe(0);
    const statuses = repositoryOf(open.violating.repository).statuses.filter(
      (status) => status.sha === headOf(open.violating) && status.context === "SOC 2 change management",
    );
    expect(statuses).toHaveLength(1);
    expect(statuses[0]).toMatchObject({
      state: "failure",
      targetUrl: `https://github.com/${open.clean.repository}/actions/runs/4242`,
    });
    expect([...statuses[0]!.description!].length).toBeLessThanOrEqual(140);
  });

  it("fails, naming the permission, when the token may write neither, and still leaves the report in the summary", async () => {
    const refusal = { message: "Resource not accessible by integration", status: "403" };
    nock(served.sim.url, { allowUnmocked: true })
      .post(/\/check-runs$/)
      .reply(403, refusal)
      .patch(/\/check-runs\/\d+$/)
      .reply(403, refusal)
      .post(/\/statuses\/[0-9a-f]{40}$/)
      .reply(403, refusal);
    const summary = join(dir, "read-only.md");
    const before = repositoryOf(open.clean.repository).statuses.length;
    const output = capture();
    const code = await runAction(checkEnv(await eventFile("read-only", open.clean), summary), output.io);
    expect(code).toBe(1);
    expect(output.stderr()).toMatch(/::error::soc2-bot: .*statuses:write/);
    expect(repositoryOf(open.clean.repository).statuses).toHaveLength(before);
    expect(await readFile(summary, "utf8")).toMatch(/^## SOC 2 change management: /);
  });

  it("refuses an event without a pull request, exit 2", async () => {
    const path = join(dir, "push.json");
    const push = definitions.find((d) => d.name === "push")!.examples[0]!;
    await writeFile(path, JSON.stringify(push));
    const output = capture();
    expect(await runAction({ ...checkEnv(path, join(dir, "push.md")) }, output.io)).toBe(2);
    expect(output.stderr()).toMatch(/::error::soc2-bot: mode: check judges a pull request/);
  });
});

describe("mode: audit", () => {
  it("runs the organization audit and writes the evidence package to upload", async () => {
    const out = join(dir, "evidence");
    const { since, until } = period(served.sample);
    const output = capture();
    // The command line's audit reads its credentials from the process's environment, as on a runner.
    const credentials = { GITHUB_TOKEN: "demo", GITHUB_API_URL: served.sim.url };
    const saved = Object.fromEntries(Object.keys(credentials).map((name) => [name, process.env[name]]));
    Object.assign(process.env, credentials);
    const code = await runAction(
      {
        SOC2_MODE: "audit",
        SOC2_ORGANIZATION: "acme-demo",
        SOC2_SINCE: since.toISOString(),
        SOC2_UNTIL: until.toISOString(),
        SOC2_OUT: out,
        SOC2_SKIP_FINDINGS: "true",
        GITHUB_TOKEN: "demo",
        GITHUB_API_URL: served.sim.url,
      },
      output.io,
    ).finally(() => {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });
    // The sample plants violations: the audit says so with exit 1, as the command line does.
    expect(output.stderr()).not.toContain("soc2-bot:");
    expect(code).toBe(1);
    expect(output.stdout()).toContain("--skip-ledger");
    const files = await readdir(out);
    expect(files).toEqual(
      expect.arrayContaining(["manifest.json", "population.csv", "results.json", "summary.md"]),
    );
  });

  it("refuses an unknown mode, exit 2", async () => {
    const output = capture();
    expect(await runAction({ SOC2_MODE: "deploy" }, output.io)).toBe(2);
    expect(output.stderr()).toContain('mode must be "audit" or "check"');
  });
});
