/**
 * `soc2-bot audit` with a ledger judges each merge by the branch rule and the policy in force when it
 * merged: the sample organization served by the simulated GitHub, audited through the real GitHub
 * provider, over a ledger whose observations of acme-demo/api say its protection was weakened for a
 * week in June and its policy required two approvals until the end of that week. The audit's
 * snapshot.json carries those rules, so `soc2-bot evaluate --snapshot` gives results.json again byte
 * for byte; the audit records the configuration it read as today's observation, after judging, and
 * that observation is never read as one from before a merge of the period.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { period, serveSample, type ServedSample } from "../../src/sim/harness.js";
import { runAudit } from "../../src/cli/audit.js";
import { main } from "../../src/cli/main.js";
import type { Result } from "../../src/controls/types.js";
import { evaluate, type EvaluationReport } from "../../src/engine/index.js";
import {
  evaluateAsOfMergeSafely,
  openLedger,
  OBSERVATION,
  POLICY_AS_OF_MERGE,
  recordObservation,
  repositoryFacts,
  RULE_AS_OF_MERGE,
  type Ledger,
  type ObservationContent,
} from "../../src/ledger/index.js";
import { Snapshot, type PolicyFile, type Repository } from "../../src/model/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";
import { createGitHubClient, createGitHubHost } from "../../src/providers/github/index.js";
import { BACKENDS, testBackend } from "./backends.js";
import { memoryIo } from "../fixtures/memory-io.js";

const SIZE = { repositories: 3, pullRequestsPerRepository: 8 };
const API = "acme-demo/api";
const STREAM = `observation:github/${API}`;
/** Observed strong before the period, weakened for a week in June, restored after it. */
const BEFORE = new Date("2026-04-30T00:00:00Z");
const WEAKENED = new Date("2026-06-22T09:00:00Z");
const RESTORED = new Date("2026-06-29T09:00:00Z");

/** The protection of the weakened week: no required status check, and admins may bypass it. */
function weakened(repository: Repository): Repository {
  if (!repository.branchRules.known) throw new Error("the sample's api has readable branch rules");
  return {
    ...repository,
    branchRules: {
      known: true,
      value: repository.branchRules.value.map((rule) =>
        rule.branch === "main" ? { ...rule, requiredStatusChecks: [], enforceAdmins: false } : rule,
      ),
    },
  };
}

/** The organization's policy then: the sample's, with two independent approvals required. */
function twoApprovals(files: readonly PolicyFile[]): PolicyFile[] {
  return files.map((file) =>
    file.layer === "organization"
      ? {
          ...file,
          content: `${file.content}controls:\n  cc8.independent-approval:\n    min_approvals: 2\n`,
        }
      : file,
  );
}

async function observations(ledger: Ledger, stream: string): Promise<ObservationContent[]> {
  const out: ObservationContent[] = [];
  for await (const record of ledger.records(stream)) {
    if (record.kind === OBSERVATION) out.push(JSON.parse(record.content) as ObservationContent);
  }
  return out;
}

describe.each(BACKENDS)("soc2-bot audit judged as of the merge on %s", (name) => {
  const backend = testBackend(name);
  let served: ServedSample;
  let ledger: Ledger;
  let packageDir: string;
  let since: Date;
  let until: Date;
  let report: EvaluationReport;
  let snapshot: Snapshot;
  let audit: () => Promise<string>;

  beforeAll(async () => {
    served = await serveSample(SIZE);
    ({ since, until } = period(served.sample));
    ledger = openLedger(await backend.fresh());
    const api = served.sample.snapshot.repositories.find((r) => r.fullName === API)!;
    const files = served.sample.snapshot.policyFiles;
    // What the app observed earlier in the year, recorded when it was observed.
    for (const [observedAt, repository, policy] of [
      [BEFORE, api, twoApprovals(files)],
      [WEAKENED, weakened(api), twoApprovals(files)],
      [RESTORED, api, files],
    ] as const) {
      await recordObservation(ledger, {
        host: "github",
        facts: repositoryFacts(repository, policy),
        observedAt,
        source: { trigger: "schedule" },
      });
    }
    audit = async () => {
      const out = await mkdtemp(join(tmpdir(), "soc2-as-of-merge-"));
      const octokit = createGitHubClient({ token: "ghs_test", baseUrl: served.sim.url, throttle: false });
      await runAudit(
        {
          host: createGitHubHost({ octokit, baseUrl: served.sim.url }),
          organization: "acme-demo",
          since,
          until,
          policyFiles: [],
          outDir: out,
          findings: false,
          ledger,
          trigger: "cli",
        },
        memoryIo(),
      );
      return out;
    };
    packageDir = await audit();
    report = JSON.parse(await readFile(join(packageDir, "results.json"), "utf8")) as EvaluationReport;
    snapshot = Snapshot.parse(JSON.parse(await readFile(join(packageDir, "snapshot.json"), "utf8")));
  });
  afterAll(async () => {
    await ledger?.close();
    await served?.sim.close();
    await backend.stop();
  });

  const resultOf = (results: readonly Result[], control: string, change: string) => {
    const found = results.find((r) => r.control === control && r.subject.id === change);
    if (!found) throw new Error(`no ${control} result for ${change}`);
    return found;
  };
  const evidence = (result: Result, label: string) => result.evidence.find((e) => e.label === label)?.value;
  const apiMerges = () =>
    served.sample.snapshot.changeRequests
      .filter((c) => c.repository === API && c.mergedAt !== null)
      .map((c) => ({ id: `${API}#${c.number}`, mergedAt: Date.parse(c.mergedAt!), branch: c.baseBranch }));

  it("judges the weakened week's merges against the weak rule, the others against the strong one, saying which", () => {
    const merges = apiMerges().filter((m) => m.branch === "main");
    const during = merges.filter((m) => m.mergedAt >= WEAKENED.getTime() && m.mergedAt < RESTORED.getTime());
    expect(during.length).toBeGreaterThan(0);
    expect(merges.length).toBeGreaterThan(during.length);
    for (const merge of merges) {
      const checks = resultOf(report.results, "cc8.required-checks", merge.id);
      const weak = during.includes(merge);
      expect(evidence(checks, "branch rule"), merge.id).toBe(
        weak ? "main requires [] (branch-protection)" : "main requires [ci/test] (branch-protection)",
      );
      // every change's check passed: only the weak rule, which required none, fails it
      expect(checks.outcome, merge.id).toBe(weak ? "fail" : "pass");
      const observed = merge.mergedAt < WEAKENED.getTime() ? BEFORE : weak ? WEAKENED : RESTORED;
      const sequence = observed === BEFORE ? 1 : observed === WEAKENED ? 2 : 3;
      expect(evidence(checks, RULE_AS_OF_MERGE), merge.id).toMatch(
        new RegExp(
          `^observed ${observed.toISOString()} \\(\\d+ days?( \\d+ hours?)? before the merge\\), ${STREAM} record ${sequence}$`,
        ),
      );
    }
    // Judged by today's rule instead, the week's merges would pass: the ledger changed the verdict.
    const today = evaluate({ ...snapshot, asOfMerge: undefined }, policySetFor(snapshot), until);
    for (const merge of during) {
      expect(resultOf(today.results, "cc8.required-checks", merge.id).outcome).toBe("pass");
    }
  });

  it("judges merges by the policy in force then: two approvals required until the week's end, one after", () => {
    const merges = apiMerges();
    const today = evaluate({ ...snapshot, asOfMerge: undefined }, policySetFor(snapshot), until);
    for (const merge of merges) {
      const approval = resultOf(report.results, "cc8.independent-approval", merge.id);
      const strict = merge.mergedAt < RESTORED.getTime();
      // each change has one independent approval: enough today, not under the policy of the spring
      expect(resultOf(today.results, "cc8.independent-approval", merge.id).outcome, merge.id).toBe("pass");
      expect(approval.outcome, merge.id).toBe(strict ? "fail" : "pass");
      const observed = merge.mergedAt < WEAKENED.getTime() ? BEFORE : strict ? WEAKENED : RESTORED;
      const sequence = observed === BEFORE ? 1 : observed === WEAKENED ? 2 : 3;
      expect(evidence(approval, POLICY_AS_OF_MERGE), merge.id).toMatch(
        new RegExp(
          `^recorded ${observed.toISOString()} \\(.+ before the merge\\), ${STREAM} record ${sequence}: ` +
            `acme-demo/\\.github:\\.github/soc2\\.yml \\(sha256 [0-9a-f]{12}\\)$`,
        ),
      );
    }
    // the snapshot holds the policy files of then, as recorded
    const entry = snapshot.asOfMerge?.merges.find((e) => e.change === merges[0]!.id);
    const [file] = entry?.policy?.files ?? [];
    expect(snapshot.asOfMerge?.policyTexts[file?.sha256 ?? ""]).toContain("min_approvals: 2");
    // each text once, however many merges name it: the spring's policy and the summer's
    expect(Object.keys(snapshot.asOfMerge?.policyTexts ?? {})).toHaveLength(2);
  });

  it("judges the merges of repositories the ledger never observed by today's rule and policy, and says so", () => {
    const web = served.sample.snapshot.changeRequests.filter(
      (c) => c.repository === "acme-demo/web" && c.mergedAt !== null,
    );
    expect(web.length).toBeGreaterThan(0);
    for (const change of web) {
      const result = resultOf(report.results, "cc8.required-checks", `acme-demo/web#${change.number}`);
      expect(evidence(result, RULE_AS_OF_MERGE)).toBe(
        `the ledger holds no observation of ${change.baseBranch} before ${change.mergedAt}; today's rule used`,
      );
      expect(evidence(result, POLICY_AS_OF_MERGE)).toBe(
        `no observation of acme-demo/web before ${change.mergedAt} records its policy files; today's policy used`,
      );
    }
  });

  it("re-evaluating the package's snapshot.json gives its results.json byte for byte", async () => {
    const io = memoryIo();
    await main(["evaluate", "--snapshot", join(packageDir, "snapshot.json"), "--format", "json"], io);
    expect(io.err).toBe("");
    expect(io.out).toBe(await readFile(join(packageDir, "results.json"), "utf8"));
    // and the snapshot is what made the difference: without its asOfMerge, other results
    const without = { ...snapshot, asOfMerge: undefined };
    expect(evaluate(without, policySetFor(without), until).results).not.toEqual(report.results);
  });

  it("records the configuration it read, with the policy files, as an observation made after judging", async () => {
    const api = await observations(ledger, STREAM);
    expect(api).toHaveLength(4);
    const recorded = api[3]!;
    expect(recorded.source).toEqual({ trigger: "cli" });
    expect(recorded.observedAt).toBe(snapshot.collectedAt);
    // a week's record of every repository and of the organization, as the app's schedule makes
    for (const repository of snapshot.repositories) {
      const stream = await observations(ledger, `observation:github/${repository.fullName}`);
      expect(stream.at(-1)?.source.trigger, repository.fullName).toBe("cli");
    }
    expect((await observations(ledger, "observation:github/acme-demo")).at(-1)?.source.trigger).toBe("cli");
    const web = await observations(ledger, "observation:github/acme-demo/web");
    expect(web[0]?.whole).toMatchObject({
      kind: "repository",
      policyFiles: [{ layer: "organization", path: "acme-demo/.github:.github/soc2.yml" }],
    });
  });

  it("a second audit of the period still finds no observation before the merges the ledger never saw", async () => {
    // The first audit observed acme-demo/web at its collection, after every merge of the period.
    const again = JSON.parse(await readFile(join(await audit(), "results.json"), "utf8")) as EvaluationReport;
    const web = snapshot.asOfMerge?.merges.filter((e) => e.repository === "acme-demo/web") ?? [];
    expect(web.length).toBeGreaterThan(0);
    for (const entry of web) {
      const result = resultOf(again.results, "cc8.required-checks", entry.change);
      expect(evidence(result, RULE_AS_OF_MERGE)).toMatch(/^the ledger holds no observation of main before /);
    }
    expect(again.results).toEqual(report.results);
  });
});

describe("judged as of the merge when the audit's ledger cannot be read", () => {
  it("uses today's rule and policy, says so, and the snapshot still reproduces the results", async () => {
    const sample = generateSampleOrganization(SIZE);
    const unreachable = openLedger({ databaseUrl: "postgres://soc2@127.0.0.1:1/ledger" });
    const logged: string[] = [];
    const policies = policySetFor(sample.snapshot);
    try {
      const judged = await evaluateAsOfMergeSafely(
        unreachable,
        { error: (_object, message) => logged.push(message) },
        sample.snapshot,
        policies,
        sample.at,
      );
      expect(logged).toEqual(["branch rules as of the merge not read from the ledger"]);
      const merged = sample.snapshot.changeRequests.filter((c) => c.mergedAt !== null);
      expect(judged.snapshot.asOfMerge?.merges).toHaveLength(merged.length);
      const change = judged.report.results.find(
        (r) => r.subject.id === `${merged[0]!.repository}#${merged[0]!.number}`,
      )!;
      expect(change.evidence.find((e) => e.label === RULE_AS_OF_MERGE)?.value).toMatch(
        /^the ledger could not be read \(.+\); today's rule used$/,
      );
      expect(change.evidence.find((e) => e.label === POLICY_AS_OF_MERGE)?.value).toMatch(
        /^the ledger could not be read \(.+\); today's policy used$/,
      );
      // the same verdicts as today's evaluation, and reproducible from the snapshot alone
      const today = evaluate(sample.snapshot, policies, sample.at);
      expect(judged.report.results.map((r) => [r.control, r.subject.id, r.outcome])).toEqual(
        today.results.map((r) => [r.control, r.subject.id, r.outcome]),
      );
      const reparsed = Snapshot.parse(JSON.parse(JSON.stringify(judged.snapshot)));
      expect(evaluate(reparsed, policySetFor(reparsed), sample.at)).toEqual(judged.report);
    } finally {
      await unreachable.close();
    }
  });
});
