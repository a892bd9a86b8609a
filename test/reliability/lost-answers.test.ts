/**
 * "Write applied, answer lost" on the simulated GitHub: the write is applied, then the connection is
 * reset or a 502 comes back. The app's writer must look before writing again: one check run per
 * (head, name), one open issue per finding, no finding lost, whatever share of the answers is lost.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Result } from "../../src/controls/types.js";
import { createGitHubClient, createGitHubHost } from "../../src/providers/github/index.js";
import { CHECK_NAME } from "../../src/reporters/check.js";
import { syncFindings } from "../../src/reporters/findings/lifecycle.js";
import {
  startSimulatedGitHub,
  type LostAnswer,
  type LostAnswerFaults,
  type SimulatedGitHub,
} from "../../src/sim/github/server.js";
import { createWorld, type World } from "../../src/sim/github/world.js";
import { makeRepository, makeSnapshot } from "../fixtures/build.js";

const started: SimulatedGitHub[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

const AT = new Date("2026-11-01T00:00:00Z");
/** No waiting for GitHub's content-creation limits here: pacing is another test's subject. */
const clock = { now: () => 0, sleep: () => Promise.resolve() };
const HEAD = "a".repeat(40);
const CHECK_WRITES = [
  "POST /repos/{owner}/{repo}/check-runs",
  "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
];
const ISSUE_WRITES = [
  "POST /repos/{owner}/{repo}/issues",
  "PATCH /repos/{owner}/{repo}/issues/{issue_number}",
  "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
];

function collaborator(login: string, outcome: "fail" | "pass" = "fail"): Result {
  return {
    control: "cc6.outside-collaborator-access",
    criterion: "CC6.2",
    title: "Outside collaborator access",
    subject: { kind: "collaborator", id: `acme/api:@${login}`, repository: "acme/api", user: login },
    outcome,
    reason: outcome === "fail" ? `Outside collaborator ${login} has write access.` : "Read access only.",
    evidence: [{ label: "permission", value: outcome === "fail" ? "write" : "read" }],
  };
}

async function simulated(lostAnswers: Omit<LostAnswerFaults, "onLost">) {
  const world: World = createWorld(
    makeSnapshot({
      repositories: [
        makeRepository({ fullName: "acme/api" }),
        makeRepository({ fullName: "acme/compliance" }),
      ],
    }),
  );
  const lost: LostAnswer[] = [];
  const sim = await startSimulatedGitHub({
    world,
    seed: 3,
    rateLimits: false,
    faults: { lostAnswers: { ...lostAnswers, onLost: (answer) => lost.push(answer) } },
  });
  started.push(sim);
  // Retries off, as the writer's creates are: what is tried again is the writer's own doing.
  const octokit = createGitHubClient({ token: "sim", baseUrl: sim.url, throttle: false });
  return { world, sim, lost, host: createGitHubHost({ octokit, baseUrl: sim.url }) };
}

describe("the simulated GitHub's lost answers", () => {
  it("applies the write, then answers 502 or resets the connection, and counts it", async () => {
    const { world, sim, lost } = await simulated({ rate: 1, routes: ["POST /repos/{owner}/{repo}/issues"] });
    const post = () =>
      fetch(`${sim.url}/repos/acme/compliance/issues`, {
        method: "POST",
        headers: { authorization: "token sim", "content-type": "application/json" },
        body: JSON.stringify({ title: "a finding", body: "why" }),
      }).then(
        (answer) => answer.status,
        (error: unknown) => `failed: ${String((error as Error).cause ?? error)}`,
      );
    const answers = [await post(), await post(), await post(), await post()];

    expect(world.repositories.get("acme/compliance")!.issues.size).toBe(4);
    expect(answers.every((a) => a === 502 || String(a).startsWith("failed"))).toBe(true);
    expect(lost.map((l) => [l.route, l.status])).toEqual(
      Array.from({ length: 4 }, () => ["POST /repos/{owner}/{repo}/issues", 201]),
    );
    expect((sim.stats.faults["answer-lost-502"] ?? 0) + (sim.stats.faults["answer-lost-reset"] ?? 0)).toBe(4);
    // Reads are never touched.
    const listed = await fetch(`${sim.url}/repos/acme/compliance/issues`, {
      headers: { authorization: "token sim" },
    });
    expect(listed.status).toBe(200);
  });
});

describe("the writer after a lost answer", () => {
  it.each(["502", "reset"] as const)(
    "every check-run create's answer lost (%s): one run on the head, with the newest verdict",
    async (kind) => {
      const { world, lost, host } = await simulated({ rate: 1, routes: [CHECK_WRITES[0]!], kinds: [kind] });
      const target = { repository: "acme/api", number: 1, headSha: HEAD };
      await host.publishChangeCheck(target, {
        name: CHECK_NAME,
        conclusion: "success",
        title: "Meets the policy",
        summary: "first",
      });
      await host.publishChangeCheck(target, {
        name: CHECK_NAME,
        conclusion: "failure",
        title: "Approval dismissed",
        summary: "second",
      });

      const runs = world.repositories.get("acme/api")!.checkRuns.filter((r) => r.headSha === HEAD);
      expect(runs.map((r) => [r.name, r.conclusion, r.summary])).toEqual([[CHECK_NAME, "failure", "second"]]);
      expect(lost.filter((l) => l.kind === kind)).toHaveLength(1);
    },
  );

  it("a share of every check-run and issue write lost: one run per head, one open issue per finding, none lost", async () => {
    const { world, lost, host } = await simulated({ rate: 0.4, routes: [...CHECK_WRITES, ...ISSUE_WRITES] });
    const heads = Array.from({ length: 12 }, (_, i) => String(i).padStart(40, "b"));
    for (const [i, headSha] of heads.entries()) {
      for (const conclusion of ["success", "failure"] as const) {
        await host.publishChangeCheck(
          { repository: "acme/api", number: i + 1, headSha },
          { name: CHECK_NAME, conclusion, title: conclusion, summary: `${conclusion} of ${headSha}` },
        );
      }
    }
    const logins = Array.from({ length: 12 }, (_, i) => `outsider-${i}`);
    const tracker = host.issues("acme/compliance");
    const sync = (results: Result[]) =>
      syncFindings(tracker, results, { evaluatedAt: AT, scope: "audit", clock });
    const first = await sync(logins.map((login) => collaborator(login)));
    // The next sync closes the fixed ones (a comment and an edit each) and keeps the rest open.
    const second = await sync(logins.map((login, i) => collaborator(login, i % 3 === 0 ? "pass" : "fail")));

    const runs = world.repositories.get("acme/api")!.checkRuns;
    expect(heads.map((h) => runs.filter((r) => r.headSha === h).map((r) => r.conclusion))).toEqual(
      heads.map(() => ["failure"]),
    );
    const issues = [...world.repositories.get("acme/compliance")!.issues.values()];
    const open = issues.filter((issue) => issue.state === "open");
    const stillFailing = logins.filter((_, i) => i % 3 !== 0);
    expect(issues).toHaveLength(logins.length);
    const names = (login: string) => (issue: { title: string }) =>
      new RegExp(`${login}(?!\\d)`).test(issue.title);
    expect(logins.map((login) => issues.filter(names(login)).length)).toEqual(logins.map(() => 1));
    for (const login of stillFailing) expect(open.filter(names(login))).toHaveLength(1);
    expect(open).toHaveLength(stillFailing.length);
    // A lost comment is recorded as of unknown outcome, never re-sent; nothing was refused.
    expect(
      [...first.failed, ...second.failed].every((f) => f.applied === "unknown" && f.action === "comment"),
    ).toBe(true);
    expect(new Set(lost.map((l) => l.route)).size).toBeGreaterThanOrEqual(3);
  });
});
