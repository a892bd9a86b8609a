/**
 * `soc2-bot audit` run from a schedule alerts on weakenings as the app's scheduled audit does: the
 * sample organization served by the simulated GitHub, audited twice through the real provider over
 * one ledger; between the runs a production branch loses a required approval. The second audit's
 * observation finds it and opens a CC7.1 finding in the findings repository; a third, after the rule
 * is restored, closes it. Who made the change is not known to an audit, and the issue says so.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { FINDINGS_REPOSITORY, githubHostFor, period, serveSample } from "../../src/sim/harness.js";
import { runAudit } from "../../src/cli/audit.js";
import { openLedger } from "../../src/ledger/index.js";
import type { BranchRule } from "../../src/model/index.js";
import { WEAKENING_CONTROL } from "../../src/pipeline/alerts.js";
import { markdownText } from "../../src/text/escape.js";
import { memoryIo } from "../fixtures/memory-io.js";
import { BACKENDS, testBackend } from "./backends.js";

const SIZE = { repositories: 2, pullRequestsPerRepository: 2 };

describe.each(BACKENDS)("soc2-bot audit alerts on weakenings on %s", (name) => {
  const backend = testBackend(name);
  afterAll(async () => {
    await backend.stop();
  });

  it("opens a finding when an audit's observation finds a rule weakened, and closes it when restored", async () => {
    const served = await serveSample(SIZE);
    const ledger = openLedger(await backend.fresh());
    try {
      await ledger.open();
      const organization = served.served.organization!.login;
      const repository = `${organization}/web`;
      const repo = served.world.repositories.get(repository)!;
      const rules = repo.facts.branchRules.known ? repo.facts.branchRules.value : [];
      const main = rules.find((rule) => rule.branch === "main")!;
      const setMain = (rule: BranchRule) => {
        repo.facts = {
          ...repo.facts,
          branchRules: { known: true, value: rules.map((r) => (r.branch === "main" ? rule : r)) },
        };
      };
      const { since, until } = period(served.sample);
      const audit = async () => {
        const io = memoryIo();
        await runAudit(
          {
            host: githubHostFor(served.sim).host,
            organization,
            since,
            until,
            policyFiles: [],
            outDir: await mkdtemp(join(tmpdir(), "soc2-cli-alerts-")),
            findings: true,
            ledger,
            trigger: "cli",
          },
          io,
        );
        return io;
      };
      const alerts = () =>
        [...served.world.repositories.get(`${organization}/${FINDINGS_REPOSITORY}`)!.issues.values()].filter(
          (issue) => issue.labels.includes(WEAKENING_CONTROL),
        );

      setMain({ ...main, requiredApprovals: 2 });
      await audit();
      expect(alerts()).toEqual([]);

      setMain({ ...main, requiredApprovals: 1 });
      const second = await audit();
      expect(second.out).toContain("configuration weakened or restored since the last observation: 1");
      expect(alerts()).toHaveLength(1);
      const [issue] = alerts();
      expect(issue!.state).toBe("open");
      expect(issue!.title).toContain(`${repository}:branch:main`);
      expect(issue!.title).toContain(`Branch protection of main in ${repository} weakened (observed by cli`);
      expect(issue!.body).toContain(markdownText("required approvals lowered from 2 to 1"));
      expect(issue!.body).toContain(markdownText("found by an audit's observation (cli)"));

      setMain({ ...main, requiredApprovals: 2 });
      await audit();
      expect(alerts().map((i) => i.state)).toEqual(["closed"]);
    } finally {
      await ledger.close();
      await served.sim.close();
    }
  });
});
