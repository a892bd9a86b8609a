import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Ajv as AjvCore } from "ajv";
import ajvDraft04 from "ajv-draft-04";
import addFormatsModule from "ajv-formats";
import { afterEach, describe, expect, it } from "vitest";
import { evaluate } from "../../src/engine/evaluate.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import {
  isSarifResult,
  renderSarif,
  SARIF_RESULTS_PER_RUN,
  writeEvidencePackage,
  type FrameworkResult,
} from "../../src/reporters/files/index.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";

/**
 * SARIF 2.1.0's JSON schema (2.1.0-rtm.5, draft-04), as @microsoft/jest-sarif@1.0.0-beta.0 ships it
 * (lib/schemas/sarif-2.1.0-rtm.5.json): see test/fixtures/schemas/README.md.
 */
const schema = JSON.parse(
  await readFile(new URL("../fixtures/schemas/sarif-2.1.0-rtm.5.json", import.meta.url), "utf8"),
) as object;
// the schema's language pattern has a stray "]" that only a regular expression without the u flag
// accepts (as the draft-04 validators of its day compiled it): the file is kept as published
// both are CommonJS: under NodeNext the default import is module.exports, the class its `default`
const Ajv = ajvDraft04.default;
const addFormats = addFormatsModule as unknown as (ajv: AjvCore) => void;
const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
addFormats(ajv as unknown as AjvCore);
const validateSarif = ajv.compile(schema);

function expectValid(log: unknown): void {
  const valid = validateSarif(log);
  expect(validateSarif.errors ?? [], JSON.stringify(validateSarif.errors?.slice(0, 3))).toEqual([]);
  expect(valid).toBe(true);
}

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function packageOf(at?: Date) {
  const sample = generateSampleOrganization({ repositories: 8, pullRequestsPerRepository: 6 });
  const when = at ?? sample.at;
  const report = evaluate(sample.snapshot, policySetFor(sample.snapshot), when);
  const out = join(await mkdtemp(join(tmpdir(), "soc2-sarif-")), "evidence");
  dirs.push(out);
  await writeEvidencePackage(out, sample.snapshot, report, { toolVersion: "9.9.9" });
  const text = await readFile(join(out, "results.sarif"), "utf8");
  return { report, text, log: JSON.parse(text) as SarifLog };
}

interface SarifResult {
  ruleId: string;
  ruleIndex?: number;
  level: string;
  message: { text: string };
  locations: {
    physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
    logicalLocations: { fullyQualifiedName: string; kind: string }[];
  }[];
  partialFingerprints: Record<string, string>;
}
interface SarifLog {
  version: string;
  runs: {
    tool: { driver: { name: string; version: string; rules: { id: string; help: { text: string } }[] } };
    results: SarifResult[];
    invocations: { toolExecutionNotifications: { message: { text: string } }[] }[];
    properties: { resultsLeftOut: number };
  }[];
}

describe("results.sarif", () => {
  it("is valid SARIF 2.1.0 holding every failed and unknown repository and organization result", async () => {
    const { report, log } = await packageOf();
    expectValid(log);
    expect(log.version).toBe("2.1.0");
    // the schema is really applied: a log without its version, or a result without a message, is not SARIF
    expect(validateSarif({ runs: [] })).toBe(false);
    const broken = structuredClone(log) as { runs: { results: { message?: unknown }[] }[] };
    delete broken.runs[0]!.results[0]!.message;
    expect(validateSarif(broken)).toBe(false);
    const run = log.runs[0]!;
    expect(run.tool.driver).toMatchObject({ name: "soc2-bot", version: "9.9.9" });

    const expected = report.results.filter(isSarifResult);
    // the sample has both, so both levels are covered
    expect(expected.some((r) => r.outcome === "fail")).toBe(true);
    expect(expected.some((r) => r.outcome === "unknown")).toBe(true);
    // subject ids are escaped as text: "@name" gets a zero-width space so it notifies nobody
    const subjectOf = (r: SarifResult) => r.locations[0]!.logicalLocations[0]!.fullyQualifiedName;
    expect(run.results.some((r) => subjectOf(r).includes("@\u200B"))).toBe(true);
    expect(run.results.map((r) => [r.ruleId, subjectOf(r).replace(/\u200B/g, ""), r.level])).toEqual(
      expected.map((r) => [r.control, r.subject.id, r.outcome === "fail" ? "error" : "warning"]),
    );
    // change requests, direct pushes, passes and accepted risks are not alerts
    expect(report.results.some((r) => r.subject.kind === "change-request" && r.outcome === "fail")).toBe(
      true,
    );
    expect(
      run.results.every((r) => !r.ruleId.startsWith("cc8.") || r.ruleId === "cc8.branch-protection"),
    ).toBe(true);

    // rules are the controls, each result points at its rule
    const ruleIds = run.tool.driver.rules.map((rule) => rule.id);
    expect(ruleIds).toEqual(Object.keys(report.totals));
    for (const result of run.results) {
      expect(ruleIds[result.ruleIndex!]).toBe(result.ruleId);
      // code scanning needs a file of the repository: the policy file, line 1
      expect(result.locations[0]!.physicalLocation).toEqual({
        artifactLocation: { uri: ".github/soc2.yml", uriBaseId: "%SRCROOT%" },
        region: { startLine: 1 },
      });
      expect(result.partialFingerprints["soc2BotSubject/v1"]).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(new Set(run.results.map((r) => r.partialFingerprints["soc2BotSubject/v1"])).size).toBe(
      run.results.length,
    );
    expect(run.tool.driver.rules.find((rule) => rule.id === "cc6.org-2fa-required")!.help.text).toMatch(
      /^Passes when: /,
    );
  });

  it("keeps each alert's fingerprint across runs evaluated at another time", async () => {
    const first = await packageOf();
    const later = await packageOf(new Date(Date.parse(first.report.evaluatedAt) + 86_400_000));
    const prints = (log: SarifLog) =>
      new Map(
        log.runs[0]!.results.map((r) => [
          `${r.ruleId} ${r.locations[0]!.logicalLocations[0]!.fullyQualifiedName}`,
          r.partialFingerprints,
        ]),
      );
    const before = prints(first.log);
    const after = prints(later.log);
    const shared = [...before.keys()].filter((key) => after.has(key));
    expect(shared.length).toBeGreaterThan(0);
    for (const key of shared) expect(after.get(key), key).toEqual(before.get(key));
  });

  const base = {
    report: {
      evaluatedAt: "2026-10-01T00:00:00.000Z",
      policy: { sources: ["policies/soc2.yml"], hash: "abc" },
      snapshot: {
        host: "github" as const,
        baseUrl: "https://api.github.com",
        collectedAt: "2026-10-01T00:00:00.000Z",
        actor: "bot",
        period: { since: "2026-09-01T00:00:00.000Z", until: "2026-10-01T00:00:00.000Z" },
      },
    },
    rows: [
      {
        id: "cc6.deploy-key-write",
        criterion: "CC6.1",
        title: "Deploy keys are read-only",
        totals: { pass: 0, fail: 1, unknown: 0, excepted: 0, "not-applicable": 0 },
      },
    ],
    toolVersion: "1.0.0",
  };

  it("writes untrusted text as plain text that neither mentions, links nor hides its direction", () => {
    const hostile: FrameworkResult = {
      control: "cc6.deploy-key-write",
      criterion: "CC6.1",
      title: "Deploy keys are read-only",
      subject: { kind: "deploy-key", id: "acme/api:key:@admins#12", repository: "acme/api" },
      outcome: "fail",
      reason:
        "Key 'ci \u202Egnp.exe' by @octocat can push; see acme/api#12 and https://evil.example\n# heading",
    };
    const log = JSON.parse(renderSarif({ ...base, results: [hostile] })) as SarifLog;
    expectValid(log);
    const text = log.runs[0]!.results[0]!.message.text;
    expect(text).not.toMatch(/@[A-Za-z]/);
    expect(text).not.toMatch(/#\d/);
    expect(text).not.toContain("://");
    expect(text).not.toContain("\u202E");
    expect(text).toContain("‹U+202E›");
    expect(text).not.toContain("\n");
    expect(log.runs[0]!.results[0]!.locations[0]!.logicalLocations[0]!.fullyQualifiedName).not.toMatch(
      /@[a-z]|#\d/,
    );
  });

  it("takes at most code scanning's 25,000 results a run and says how many it left out", () => {
    // three unknowns first: over the limit, every failure is kept before them
    const many: FrameworkResult[] = Array.from({ length: SARIF_RESULTS_PER_RUN + 3 }, (_, i) => ({
      control: "cc6.deploy-key-write",
      criterion: "CC6.1",
      title: "Deploy keys are read-only",
      subject: { kind: "deploy-key", id: `acme/r${i}:key:1` },
      outcome: i < 3 ? "unknown" : "fail",
      reason: "write access",
    }));
    const log = JSON.parse(renderSarif({ ...base, results: many })) as SarifLog;
    const run = log.runs[0]!;
    expect(run.results).toHaveLength(SARIF_RESULTS_PER_RUN);
    expect(run.results.every((r) => r.level === "error")).toBe(true);
    expect(run.properties.resultsLeftOut).toBe(3);
    expect(run.invocations[0]!.toolExecutionNotifications[0]!.message.text).toMatch(
      /^3 more failed or unknown results were left out/,
    );
    expectValid(log);
  });
});
