import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ledgerGuide } from "./ledger-guide.js";
import { EXIT, type Io } from "./main.js";
import { runAudit } from "./audit.js";
import { openLedger } from "../ledger/index.js";
import { createGitLabHost } from "../providers/gitlab/index.js";
import { generateSampleOrganization } from "../sample/generate.js";
import { expectedOnGitLab } from "../sim/gitlab/expected.js";
import { startSimulatedGitLab } from "../sim/gitlab/server.js";
import { accessReviewOutcomes } from "./demo-access-review.js";
import {
  GITLAB_DEMO_PEOPLE,
  GITLAB_DEMO_REVIEW_POLICY,
  playGitLabAccessReview,
} from "./demo-gitlab-access-review.js";

/**
 * `soc2-bot demo --gitlab`: the sample organization served as a GitLab group by the simulated
 * GitLab on 127.0.0.1, audited through the real GitLab provider (REST v4 over HTTP), with the
 * evidence package written to `outDir` and the findings opened as issues in the simulated
 * "compliance" project. The audit is recorded, as `demo` records GitHub's, in the embedded ledger
 * (`ledgerDir`, by default the out folder's "ledger"), and the demo says where it is and how to verify
 * and export it. Returns 0 when every planted violation GitLab can show was found.
 */
export async function runGitLabDemo(
  io: Io,
  outDir: string,
  ledgerDir = join(outDir, "ledger"),
): Promise<number> {
  const sample = generateSampleOrganization();
  const group = sample.snapshot.organization?.login ?? "acme-demo";
  const ledger = openLedger({ dir: ledgerDir });
  await ledger.open();
  // The quarter's access review is decided on the simulated clock; the audit runs at the sample's time.
  let clock = sample.at;
  // The group layer lives in the group's gitlab-profile project, as on a real GitLab.
  const groupPolicy = `${sample.organizationPolicy}${GITLAB_DEMO_REVIEW_POLICY}audit:\n  exclude: [gitlab-profile, compliance]\n`;
  const sim = await startSimulatedGitLab({
    snapshot: sample.snapshot,
    groupPolicy,
    extraProjects: ["compliance"],
    users: Object.fromEntries(Object.values(GITLAB_DEMO_PEOPLE).map((p) => [p.token, p.login])),
    now: () => clock,
  }).catch(async (error: unknown) => {
    await ledger.close();
    throw error;
  });
  const since = new Date(sample.snapshot.period?.since ?? sample.at);
  const until = sample.at;
  try {
    io.stdout(
      `soc2-bot demo (GitLab): sample group "${group}" on a simulated GitLab at ${sim.url}, ` +
        `${sample.snapshot.repositories.length} projects, ${sample.snapshot.changeRequests.length} merged merge requests\n\n`,
    );
    // A quarter's access review, decided by people through the simulated GitLab before the audit.
    const story = await playGitLabAccessReview({
      host: createGitLabHost({ baseUrl: sim.url, token: sim.token }),
      api: sim.url,
      world: sim.world,
      group,
      findingsProject: "compliance",
      groupPolicy,
      clock: (at) => {
        clock = at;
      },
      // The accounts (@login) and projects (group/name) the planted access violations name.
      planted: new Set(
        sample.expected
          .filter((e) => e.control.startsWith("cc6."))
          .flatMap((e) =>
            [...e.subject.matchAll(/@([\w.-]+)|^([\w.-]+\/[\w.-]+)/g)].map((m) => (m[1] ?? m[2])!),
          ),
      ),
    });
    clock = sample.at;
    io.stdout(`${story.lines.join("\n")}\n\n`);
    const host = createGitLabHost({ baseUrl: sim.url, token: sim.token });
    const code = await runAudit(
      {
        host,
        organization: group,
        since,
        until,
        policyFiles: [],
        outDir,
        findings: true,
        now: () => sample.at,
        ledger,
        trigger: "demo",
      },
      io,
    );
    const report = JSON.parse(await readFile(join(outDir, "results.json"), "utf8")) as {
      results: Array<{ control: string; subject: { id: string }; outcome: string; reason: string }>;
    };
    io.stdout(accessReviewOutcomes(report as Parameters<typeof accessReviewOutcomes>[0]));
    const expected = [...expectedOnGitLab(group, sample.expected), story.planted];
    const found = expected.filter((e) =>
      report.results.some(
        (r) => r.control === e.control && r.subject.id === e.subject && r.outcome === e.outcome,
      ),
    ).length;
    io.stdout(
      `planted violations GitLab can show, found: ${found} of ${expected.length} ` +
        `(${sample.expected.length + 1 - expected.length} cannot be shown by GitLab, see src/sim/gitlab/README.md)\n` +
        `GitLab API requests: ${host.stats.requests}\n`,
    );
    // The revocation left in place is a finding like any other: an issue naming the review and the decision.
    const compliance = sim.world.group.projects.find((p) => p.path === `${group}/compliance`);
    const revocationIssue = compliance?.issues.find(
      (i) => i.state === "opened" && i.description.replace(/\\/g, "").includes(story.planted.subject),
    );
    io.stdout(
      `access review finding: ${revocationIssue ? `${group}/compliance#${revocationIssue.iid} ${revocationIssue.title}` : "none opened"}\n`,
    );
    io.stdout(await ledgerGuide(ledgerDir, outDir, since, until));
    if (found !== expected.length) return EXIT.findings;
    // The audit's own code says whether controls fail; the demo succeeds when it found what was planted.
    return code === EXIT.usage ? code : EXIT.ok;
  } finally {
    await sim.close();
    await ledger.close();
  }
}
