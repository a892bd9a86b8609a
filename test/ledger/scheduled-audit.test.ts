/**
 * The app's scheduled audit records its run in the ledger with the evidence package it would have
 * handed over (the scheduled audit writes no folder of its own), so the period can be exported later.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nock from "nock";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { githubHostFor, serveSample, type ServedSample } from "../../src/sim/harness.js";
import { createScheduledAudit } from "../../src/app/index.js";
import type { EvaluationReport } from "../../src/engine/index.js";
import { exportPeriod, openLedger, type Ledger } from "../../src/ledger/index.js";
import { loadApp } from "../fixtures/app/github-app.js";
import { BACKENDS, testBackend } from "./backends.js";

const SIZE = { repositories: 3, pullRequestsPerRepository: 4 };

describe.each(BACKENDS)("the scheduled audit recorded on %s", (name) => {
  const backend = testBackend(name);
  let served: ServedSample | undefined;
  let ledger: Ledger | undefined;
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending, "mocks never used").toEqual([]);
  });
  afterAll(async () => {
    await ledger?.close();
    await served?.sim.close();
    await backend.stop();
  });

  it("records the run and its package, which export gives back", async () => {
    served = await serveSample(SIZE);
    const at = served.sample.at;
    ledger = openLedger(await backend.fresh());
    const app = await loadApp();
    const simulated = githubHostFor(served.sim).host;
    const audit = createScheduledAudit(app.probot, { now: () => at, hostFor: () => simulated, ledger });

    await audit.runAudit({ id: 2, account: "acme-demo" }, "monthly", at);

    const runs = await ledger.auditRuns({ since: new Date(at.getTime() - 1), until: at });
    expect(runs.map((r) => [r.record.stream, r.content.trigger, r.content.period?.until])).toEqual([
      ["audit:github/acme-demo", "schedule", at.toISOString()],
    ]);
    const out = join(await mkdtemp(join(tmpdir(), "soc2-ledger-scheduled-")), "export");
    const summary = await exportPeriod(ledger, {
      since: new Date(at.getTime() - 1),
      until: at,
      outDir: out,
      packages: true,
    });
    const files = summary.runs[0]!.files;
    expect(files.map((f) => f.name).sort()).toEqual(
      [
        "access.csv",
        "access-reviews.csv",
        "assessment-results.oscal.json",
        "coverage.md",
        "direct-pushes.csv",
        "manifest.json",
        "population.csv",
        "report.html",
        "results.csv",
        "results.json",
        "results.sarif",
        "snapshot.json",
        "summary.md",
      ].sort(),
    );
    const results = JSON.parse(
      await readFile(join(out, files.find((f) => f.name === "results.json")!.path!), "utf8"),
    ) as EvaluationReport;
    expect(results.results).toHaveLength(runs[0]!.content.totals.results);
    const totals = Object.values(results.totals).reduce(
      (sum, outcomes) => sum + Object.values(outcomes).reduce((a, b) => a + b, 0),
      0,
    );
    expect(totals).toBe(results.results.length);
  });
});
