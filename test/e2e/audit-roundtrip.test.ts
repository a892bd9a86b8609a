/**
 * The whole pipeline against the simulated GitHub: the sample organization is served on 127.0.0.1,
 * collected through the real GitHub provider, evaluated, and its findings filed as issues; the
 * change check runs against open pull requests. What comes back must be exactly what was served.
 *
 * Round-trip exceptions: none at this size. Every repository, change request and direct push fact
 * the model defines comes back equal, including `bypassedProtection`, which GitHub does not record
 * and the provider derives from the reviews, checks and rules: the sample plants it consistently
 * with how GitHub enforces the rules (a stale approval on a branch that dismisses stale approvals
 * can only be merged by a bypass).
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compareWithExpected,
  FINDINGS_REPOSITORY,
  githubHostFor,
  period,
  serveSample,
  type ServedSample,
} from "../../src/sim/harness.js";
import { withOpenPullRequests, type OpenPullRequests } from "../../bench/pr-check.js";
import { evaluate } from "../../src/engine/index.js";
import type { Snapshot } from "../../src/model/index.js";
import { collectedSummary } from "../../src/ledger/collected.js";
import { collectAudit } from "../../src/pipeline/audit.js";
import { runAuditJob } from "../../src/pipeline/audit-run.js";
import { writeEvidencePackage } from "../../src/reporters/files/index.js";
import { TOOL_VERSION } from "../../src/version.js";
import { runChangeCheck } from "../../src/pipeline/change-check.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { fingerprint, readMarker } from "../../src/reporters/findings/fingerprint.js";
import { syncFindings } from "../../src/reporters/findings/lifecycle.js";
import { changeGroupFingerprint } from "../../src/reporters/findings/render.js";

const SIZE = { repositories: 6, pullRequestsPerRepository: 8 };

function byKey<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

describe("audit round trip through the simulated GitHub", () => {
  let served: ServedSample;
  let collected: Snapshot;

  beforeAll(async () => {
    served = await serveSample(SIZE);
    const { host } = githubHostFor(served.sim);
    collected = await collectAudit({ host, organization: "acme-demo", ...period(served.sample) });
  });
  afterAll(async () => {
    await served.sim.close();
  });

  it("collects the repositories, merged pull requests and direct pushes that were served", () => {
    const repositories = (s: Snapshot) => byKey(s.repositories, (r) => r.fullName);
    const changes = (s: Snapshot) => byKey(s.changeRequests, (c) => `${c.repository}#${c.number}`);
    const pushes = (s: Snapshot) => byKey(s.directPushes, (p) => `${p.repository}@${p.sha}`);
    expect(collected.changeRequests.length).toEqual(SIZE.repositories * SIZE.pullRequestsPerRepository);
    expect(repositories(collected)).toEqual(repositories(served.served));
    expect(changes(collected)).toEqual(changes(served.served));
    expect(pushes(collected)).toEqual(pushes(served.served));
    expect(collected.organization).toEqual(served.served.organization);
  });

  it("reads the organization policy from the .github repository", () => {
    expect(collected.policyFiles).toEqual([
      {
        layer: "organization",
        repository: null,
        path: "acme-demo/.github:.github/soc2.yml",
        content: served.sample.organizationPolicy,
      },
    ]);
  });

  it("finds exactly the planted findings, files one issue per failure and none on a second run", async () => {
    const report = evaluate(collected, policySetFor(collected), served.sample.at);
    expect(compareWithExpected(report, served.sample.expected)).toEqual({
      expected: served.sample.expected.length,
      found: served.sample.expected.length,
      missing: [],
      unexpected: [],
    });

    const { host } = githubHostFor(served.sim);
    const repository = `acme-demo/${FINDINGS_REPOSITORY}`;
    const options = { label: "soc2", evaluatedAt: served.sample.at, scope: "audit" as const };
    const first = await syncFindings(host.issues(repository), report.results, options);
    // One issue per failing (control, subject), found again by the fingerprint in its body; failing
    // merged changes are listed by one issue per control and repository (the policy's default).
    const failing = [
      ...new Set(
        served.sample.expected
          .filter((e) => e.outcome === "fail")
          .map((e) => {
            const change = /^(.+)#\d+$/.exec(e.subject);
            return change
              ? changeGroupFingerprint(e.control, change[1]!)
              : fingerprint({ control: e.control, subject: { kind: "organization", id: e.subject } });
          }),
      ),
    ].sort();
    const issues = () => [...(served.world.repositories.get(repository)?.issues.values() ?? [])];
    expect(first.created.length).toEqual(failing.length);
    expect(
      issues()
        .map((i) => readMarker(i.body))
        .sort(),
    ).toEqual(failing);
    expect(issues().every((i) => i.state === "open" && i.labels.includes("soc2"))).toEqual(true);

    const second = await syncFindings(host.issues(repository), report.results, options);
    expect([second.created, second.updated, second.reopened, second.closed]).toEqual([[], [], [], []]);
    expect(second.unchanged.length).toEqual(failing.length);
    expect(issues().length).toEqual(failing.length);
  });
});

describe("audit streamed a repository at a time through the simulated GitHub", () => {
  it("writes, byte for byte, the package of the whole snapshot collected, evaluated and written at once", async () => {
    const served = await serveSample({ repositories: 9, pullRequestsPerRepository: 7 });
    const dir = await mkdtemp(join(tmpdir(), "soc2-audit-job-"));
    try {
      const at = served.sample.at;
      const now = () => new Date("2026-11-02T00:00:00.000Z");
      const whole = await collectAudit({
        host: githubHostFor(served.sim).host,
        organization: "acme-demo",
        ...period(served.sample),
        now,
      });
      const report = evaluate(whole, policySetFor(whole), at);
      await writeEvidencePackage(join(dir, "whole"), whole, report, { toolVersion: TOOL_VERSION });

      const errors: string[] = [];
      let turns = 0;
      // the event loop turns between repositories: a webhook is never held for the whole audit
      const ticking = setInterval(() => (turns += 1), 0);
      const audit = await runAuditJob({
        host: githubHostFor(served.sim).host,
        organization: "acme-demo",
        ...period(served.sample),
        now,
        concurrency: 3,
        outDir: join(dir, "streamed"),
        log: { error: (_object, message) => errors.push(message) },
        source: { trigger: "cli" },
        findings: true,
      }).finally(() => clearInterval(ticking));

      const names = (await readdir(join(dir, "whole"))).sort();
      expect((await readdir(join(dir, "streamed"))).sort()).toEqual(names);
      for (const name of names) {
        const expected = await readFile(join(dir, "whole", name), "utf8");
        expect(await readFile(join(dir, "streamed", name), "utf8"), name).toBe(expected);
      }
      expect(errors).toEqual([]);
      expect(turns).toBeGreaterThan(0);
      expect(audit.report.totals).toEqual(report.totals);
      expect(audit.figures.population).toEqual({
        repositories: whole.repositories.length,
        changeRequests: whole.changeRequests.length,
        directPushes: whole.directPushes.length,
      });
      // the ledger's record of the run summarises what was collected as the whole snapshot says it
      expect(audit.figures.collected).toEqual(collectedSummary(whole));
      // every planted violation is found by the streamed audit too
      expect(compareWithExpected({ ...report, results: audit.findings }, served.sample.expected)).toEqual({
        expected: served.sample.expected.length,
        found: served.sample.expected.length,
        missing: [],
        unexpected: [],
      });
    } finally {
      await served.sim.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("change check through the simulated GitHub", () => {
  let served: ServedSample;
  let open: OpenPullRequests;

  beforeAll(async () => {
    let added: OpenPullRequests | undefined;
    served = await serveSample({ repositories: 2, pullRequestsPerRepository: 12 }, {}, (snapshot, sample) => {
      const extended = withOpenPullRequests(snapshot, sample);
      added = extended.open;
      return extended.snapshot;
    });
    if (!added) throw new Error("no open pull requests were added");
    open = added;
  });
  afterAll(async () => {
    await served.sim.close();
  });

  async function checkRunsOf(target: { repository: string; number: number }) {
    const repo = served.world.repositories.get(target.repository);
    const head = repo?.pulls.get(target.number)?.change.headSha;
    return (repo?.checkRuns ?? [])
      .filter((run) => run.headSha === head && run.app !== "sim-ci")
      .map((run) => ({ name: run.name, status: run.status, conclusion: run.conclusion }));
  }

  it("stores a failing check run for an unapproved pull request and a passing one for a clean one", async () => {
    const { host } = githubHostFor(served.sim);
    const now = served.sample.at;
    const violating = await runChangeCheck(host, open.violating, { organization: "acme-demo", now });
    const clean = await runChangeCheck(host, open.clean, { organization: "acme-demo", now });

    expect(violating.results.filter((r) => r.outcome === "fail").map((r) => r.control)).toEqual([
      "cc8.independent-approval",
    ]);
    expect(await checkRunsOf(open.violating)).toEqual([
      { name: violating.check.name, status: "completed", conclusion: "failure" },
    ]);
    expect(clean.results.filter((r) => r.outcome === "fail" || r.outcome === "unknown")).toEqual([]);
    expect(await checkRunsOf(open.clean)).toEqual([
      { name: clean.check.name, status: "completed", conclusion: "success" },
    ]);
  });

  it("updates the same check run when the event is delivered again", async () => {
    const { host } = githubHostFor(served.sim);
    await runChangeCheck(host, open.violating, { organization: "acme-demo", now: served.sample.at });
    expect((await checkRunsOf(open.violating)).length).toEqual(1);
  });
});
