import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import {
  compareWithExpected,
  FINDINGS_REPOSITORY,
  githubHostFor,
  period,
  serveSample,
} from "../sim/harness.js";
import type { EvaluationReport } from "../engine/index.js";
import { accessReviewOutcomes, playAccessReview, withAccessReviewPolicy } from "./demo-access-review.js";
import { openLedger } from "../ledger/index.js";
import { runAudit } from "./audit.js";
import { ledgerGuide } from "./ledger-guide.js";
import { EXIT, type Io } from "./main.js";
import type { DemoOptions } from "./program.js";

/**
 * The main job, end to end, without leaving the machine: the built-in sample organization is served
 * by the simulated GitHub on 127.0.0.1 and audited through the real GitHub provider, as
 * `soc2-bot audit` would audit a real organization: findings are opened as issues in the sim's
 * findings repository and the evidence package is written. Exit 0 only when exactly the planted
 * violations were found (none missed, none extra).
 */
export async function demoCommand(values: DemoOptions, io: Io): Promise<number> {
  if (values.gitlab) {
    // The same audit, through the GitLab provider, against a simulated GitLab group on 127.0.0.1.
    const { runGitLabDemo } = await import("./demo-gitlab.js");
    return runGitLabDemo(
      io,
      resolve(values.out === "out/demo" ? "out/demo-gitlab" : (values.out ?? "out/demo-gitlab")),
      ...(values.ledger === undefined ? [] : [resolve(values.ledger)]),
    );
  }
  const outDir = resolve(values.out ?? "out/demo");
  // The embedded ledger, in the demo's own folder: nothing to install, nothing left in the repository.
  const ledgerDir = resolve(values.ledger ?? join(outDir, "ledger"));
  const ledger = openLedger({ dir: ledgerDir });
  await ledger.open();
  const started = Date.now();
  const { sample, served, sim, world } = await serveSample({}, {}, (snapshot) =>
    withAccessReviewPolicy(snapshot, FINDINGS_REPOSITORY),
  ).catch(async (error: unknown) => {
    await ledger.close();
    throw error;
  });
  try {
    const organization = served.organization?.login ?? "acme-demo";
    const { host, stats } = githubHostFor(sim, { throttle: false });
    io.stdout(
      `soc2-bot demo: sample organization "${organization}" served by a simulated GitHub at ${sim.url}\n` +
        `${served.repositories.length} repositories, ${sample.snapshot.changeRequests.length} merged pull requests, ` +
        `${sample.snapshot.directPushes.length} direct pushes\n\n`,
    );
    // A quarter's access review, decided by people through the simulated GitHub before the audit.
    const review = await playAccessReview({
      host,
      world,
      api: sim.url,
      organization,
      findingsRepository: FINDINGS_REPOSITORY,
      served,
    });
    io.stdout(`${review.lines.join("\n")}\n\n`);
    const { since, until } = period(sample);
    await runAudit(
      { host, organization, since, until, policyFiles: [], outDir, findings: true, ledger, trigger: "demo" },
      io,
    );
    const report = JSON.parse(await readFile(resolve(outDir, "results.json"), "utf8")) as EvaluationReport;
    io.stdout(accessReviewOutcomes(report));
    const comparison = compareWithExpected(report, [...sample.expected, review.planted]);
    io.stdout(`\nplanted violations found: ${comparison.found} of ${comparison.expected}\n`);
    for (const key of comparison.missing) io.stdout(`  missing (planted, not found): ${key}\n`);
    for (const key of comparison.unexpected) io.stdout(`  unexpected (found, not planted): ${key}\n`);
    const findings = [
      ...(world.repositories.get(`${organization}/${FINDINGS_REPOSITORY}`)?.issues.values() ?? []),
    ];
    // The revocation left in place is a finding like any other: an issue naming the review and the decision.
    const revocationIssue = findings.find(
      // Markdown-escaped in the body (`\-`): compared without the escapes.
      (i) => i.state === "open" && i.body.replace(/\\/g, "").includes(review.planted.subject),
    );
    io.stdout(
      `access review finding: ${revocationIssue ? `${organization}/${FINDINGS_REPOSITORY}#${revocationIssue.number} ${revocationIssue.title}` : "none opened"}\n`,
    );
    io.stdout(
      `API requests: ${stats.requests} (GraphQL points: ${stats.graphqlPoints ?? 0})\n` +
        `finding issues open in ${organization}/${FINDINGS_REPOSITORY}: ${findings.filter((i) => i.state === "open").length}\n` +
        `report: ${resolve(outDir, "report.html")}\n` +
        `took ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    io.stdout(await ledgerGuide(ledgerDir, outDir, since, until));
    const exact = comparison.missing.length === 0 && comparison.unexpected.length === 0;
    return exact ? EXIT.ok : EXIT.findings;
  } finally {
    await sim.close();
    await ledger.close();
  }
}
