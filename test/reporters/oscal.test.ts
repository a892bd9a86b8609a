import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { afterEach, describe, expect, it } from "vitest";
import { findControl } from "../../src/controls/index.js";
import { evaluate } from "../../src/engine/evaluate.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { OSCAL_FILE, renderOscal, uuidV5, writeEvidencePackage } from "../../src/reporters/files/index.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";

/**
 * The parts of NIST's OSCAL assessment-results JSON schema (oscal_assessment-results_schema.json,
 * draft-07) that this document uses, transcribed with their required properties, data types and
 * additionalProperties: NIST publishes the schema as a release asset of usnistgov/OSCAL and on no
 * npm package, so the file itself is not here (test/fixtures/schemas/README.md).
 */
const UUID = {
  type: "string",
  pattern: "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[45][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$",
};
const DATE_TIME = {
  type: "string",
  format: "date-time",
  pattern: "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$",
};
const STRING = { type: "string", pattern: "^\\S(.*\\S)?$" };
const TOKEN = { type: "string", pattern: "^(\\p{L}|_)(\\p{L}|\\p{N}|[.\\-_])*$" };
const URI_REFERENCE = { type: "string", format: "uri-reference" };
const PROP = {
  type: "object",
  properties: { name: TOKEN, ns: { type: "string", format: "uri" }, value: STRING },
  required: ["name", "value"],
  additionalProperties: false,
};
const PROPS = { type: "array", minItems: 1, items: PROP };
const object = (properties: Record<string, unknown>, required: string[]) => ({
  type: "object",
  properties,
  required,
  additionalProperties: false,
});
const array = (items: unknown) => ({ type: "array", minItems: 1, items });
const OSCAL_SCHEMA = object(
  {
    "assessment-results": object(
      {
        uuid: UUID,
        metadata: object(
          {
            title: { type: "string" },
            "last-modified": DATE_TIME,
            version: STRING,
            "oscal-version": { type: "string", pattern: "^1\\.1\\.[0-9]+$" },
            props: PROPS,
          },
          ["title", "last-modified", "version", "oscal-version"],
        ),
        "import-ap": object({ href: URI_REFERENCE }, ["href"]),
        results: array(
          object(
            {
              uuid: UUID,
              title: { type: "string" },
              description: { type: "string" },
              start: DATE_TIME,
              end: DATE_TIME,
              "reviewed-controls": object(
                {
                  "control-selections": array(
                    object(
                      {
                        "include-all": object({}, []),
                        "include-controls": array(object({ "control-id": TOKEN }, ["control-id"])),
                      },
                      [],
                    ),
                  ),
                },
                ["control-selections"],
              ),
              observations: array(
                object(
                  {
                    uuid: UUID,
                    title: { type: "string" },
                    description: { type: "string" },
                    props: PROPS,
                    methods: array({
                      ...STRING,
                      enum: ["EXAMINE", "INTERVIEW", "TEST", "UNKNOWN"],
                    }),
                    types: array(TOKEN),
                    subjects: array(
                      object(
                        {
                          "subject-uuid": UUID,
                          type: TOKEN,
                          title: { type: "string" },
                          props: PROPS,
                        },
                        ["subject-uuid", "type"],
                      ),
                    ),
                    "relevant-evidence": array(
                      object({ href: URI_REFERENCE, description: { type: "string" } }, ["description"]),
                    ),
                    collected: DATE_TIME,
                  },
                  ["uuid", "description", "methods", "collected"],
                ),
              ),
              findings: array(
                object(
                  {
                    uuid: UUID,
                    title: { type: "string" },
                    description: { type: "string" },
                    target: object(
                      {
                        type: { enum: ["statement-id", "objective-id"] },
                        "target-id": TOKEN,
                        status: object({ state: { enum: ["satisfied", "not-satisfied"] } }, ["state"]),
                      },
                      ["type", "target-id", "status"],
                    ),
                    "related-observations": array(object({ "observation-uuid": UUID }, ["observation-uuid"])),
                  },
                  ["uuid", "title", "description", "target"],
                ),
              ),
            },
            ["uuid", "title", "description", "start", "reviewed-controls"],
          ),
        ),
        "back-matter": object(
          {
            resources: array(
              object(
                {
                  uuid: UUID,
                  title: { type: "string" },
                  description: { type: "string" },
                  props: PROPS,
                  rlinks: array(
                    object(
                      {
                        href: URI_REFERENCE,
                        "media-type": STRING,
                        hashes: array(
                          object(
                            {
                              algorithm: { enum: ["SHA-224", "SHA-256", "SHA-384", "SHA-512"] },
                              value: { type: "string" },
                            },
                            ["algorithm", "value"],
                          ),
                        ),
                      },
                      ["href"],
                    ),
                  ),
                },
                ["uuid"],
              ),
            ),
          },
          [],
        ),
      },
      ["uuid", "metadata", "import-ap", "results"],
    ),
  },
  ["assessment-results"],
);

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;
const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validateOscal = ajv.compile(OSCAL_SCHEMA);

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

interface Oscal {
  "assessment-results": {
    uuid: string;
    metadata: { "last-modified": string; "oscal-version": string };
    "import-ap": { href: string };
    results: {
      start: string;
      end: string;
      "reviewed-controls": { "control-selections": { "include-controls": { "control-id": string }[] }[] };
      observations: {
        uuid: string;
        props: { name: string; value: string }[];
        subjects?: { "subject-uuid": string; title: string; props: { name: string; value: string }[] }[];
        "relevant-evidence": { href: string; description: string }[];
        description: string;
      }[];
      findings: {
        target: { "target-id": string; status: { state: string } };
        "related-observations": { "observation-uuid": string }[];
      }[];
    }[];
    "back-matter": {
      resources: { uuid: string; title: string; rlinks?: { href: string; hashes: { value: string }[] }[] }[];
    };
  };
}

async function writePackage() {
  const sample = generateSampleOrganization({ repositories: 8, pullRequestsPerRepository: 6 });
  const report = evaluate(sample.snapshot, policySetFor(sample.snapshot), sample.at);
  const out = join(await mkdtemp(join(tmpdir(), "soc2-oscal-")), "evidence");
  dirs.push(out);
  await writeEvidencePackage(out, sample.snapshot, report, { toolVersion: "9.9.9" });
  const text = await readFile(join(out, OSCAL_FILE), "utf8");
  const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as {
    files: { name: string; sha256: string }[];
  };
  return { report, text, oscal: JSON.parse(text) as Oscal, manifest };
}

describe("assessment-results.oscal.json", () => {
  it("is an OSCAL 1.1 assessment-results document of the period, its evidence the package's hashed files", async () => {
    const { report, oscal, manifest } = await writePackage();
    expect(validateOscal(oscal), JSON.stringify(validateOscal.errors?.slice(0, 3))).toBe(true);
    // the check is not vacuous: a result without its start, or a non-v4/v5 UUID, is rejected
    const broken = structuredClone(oscal) as unknown as { "assessment-results": { uuid: string } };
    broken["assessment-results"].uuid = "not-a-uuid";
    expect(validateOscal(broken)).toBe(false);

    const document = oscal["assessment-results"];
    expect(document.metadata["oscal-version"]).toBe("1.1.2");
    expect(document.metadata["last-modified"]).toBe(report.evaluatedAt);
    const result = document.results[0]!;
    expect([result.start, result.end]).toEqual([
      report.snapshot.period!.since,
      report.snapshot.period!.until,
    ]);
    expect(
      result["reviewed-controls"]["control-selections"][0]!["include-controls"].map((c) => c["control-id"]),
    ).toEqual([
      ...new Set(
        // every control of the policy, those it turns off (no results) included
        Object.keys(report.totals).map((id) => findControl(id)!.criterion.toLowerCase()),
      ),
    ]);

    // the assessment plan it imports is the policy, in the back-matter
    const resources = new Map(document["back-matter"].resources.map((r) => [r.uuid, r]));
    expect(resources.get(document["import-ap"].href.slice(1))!.title).toMatch(/policy/);
    // every file of the package except this one and the manifest is a resource with the manifest's SHA-256
    const listed = document["back-matter"].resources.filter((r) => r.rlinks);
    expect(listed.map((r) => [r.rlinks![0]!.href, r.rlinks![0]!.hashes[0]!.value]).sort()).toEqual(
      manifest.files
        .filter((f) => f.name !== OSCAL_FILE)
        .map((f) => [f.name, f.sha256])
        .sort(),
    );

    // one observation per control, its evidence resolving to those resources
    expect(result.observations.map((o) => o.props.find((p) => p.name === "control")!.value)).toEqual(
      Object.keys(report.totals),
    );
    for (const observation of result.observations) {
      expect(observation["relevant-evidence"].length).toBeGreaterThan(0);
      for (const evidence of observation["relevant-evidence"]) {
        expect(resources.get(evidence.href.slice(1))?.rlinks, evidence.href).toBeDefined();
      }
    }

    // one finding per failing control, not satisfied, naming the observation with its failing subjects
    const failing = Object.entries(report.totals)
      .filter(([, totals]) => totals.fail > 0)
      .map(([id]) => id);
    expect(failing.length).toBeGreaterThan(0);
    expect(result.findings.map((f) => f.target["target-id"])).toEqual(failing);
    for (const finding of result.findings) {
      expect(finding.target.status.state).toBe("not-satisfied");
      const observation = result.observations.find(
        (o) => o.uuid === finding["related-observations"][0]!["observation-uuid"],
      )!;
      const failed = report.results.filter(
        (r) => r.control === finding.target["target-id"] && r.outcome === "fail",
      );
      const named = observation.subjects!.filter((s) =>
        s.props.some((p) => p.name === "outcome" && p.value === "fail"),
      );
      expect(named.map((s) => s.title.replace(/\u200B/g, ""))).toEqual(failed.map((r) => r.subject.id));
    }
  });

  it("gives the same document, UUIDs and all, when the same snapshot is written again", async () => {
    const first = await writePackage();
    const second = await writePackage();
    expect(second.text).toBe(first.text);
    const uuids = [...first.text.matchAll(/"(?:uuid|subject-uuid)": "([^"]+)"/g)].map((m) => m[1]!);
    expect(uuids.length).toBeGreaterThan(10);
    for (const uuid of uuids)
      expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it("makes RFC 9562 version 5 UUIDs (the RFC's example: www.example.com in the DNS namespace)", () => {
    expect(uuidV5("www.example.com", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe(
      "2ed6657d-e927-568b-95e1-2665a8aea6a2",
    );
  });

  it("writes untrusted subjects and reasons so that they neither mention nor link", () => {
    const text = renderOscal({
      report: {
        evaluatedAt: "2026-10-01T00:00:00.000Z",
        policy: { sources: ["policies/soc2.yml"], hash: "abc" },
        snapshot: {
          host: "github",
          baseUrl: "https://api.github.com",
          collectedAt: "2026-10-01T00:00:00.000Z",
          actor: "bot",
          period: null,
        },
      },
      organization: "acme",
      rows: [
        {
          id: "cc6.member-2fa",
          criterion: "CC6.1",
          title: "Members use two-factor authentication",
          totals: { pass: 0, fail: 1, unknown: 0, excepted: 0, "not-applicable": 0 },
        },
      ],
      results: [
        {
          control: "cc6.member-2fa",
          criterion: "CC6.1",
          title: "Members use two-factor authentication",
          subject: { kind: "member", id: "acme:@octocat" },
          outcome: "fail",
          reason: "@octocat has no second factor, see acme/api#12 and https://evil.example \u202E",
        },
      ],
      files: [],
      toolVersion: "1.0.0",
    });
    const oscal = JSON.parse(text) as Oscal;
    expect(validateOscal(oscal), JSON.stringify(validateOscal.errors?.slice(0, 3))).toBe(true);
    const observation = oscal["assessment-results"].results[0]!.observations[0]!;
    for (const shown of [observation.description, observation.subjects![0]!.title]) {
      expect(shown).not.toMatch(/@[a-z]/);
      expect(shown).not.toMatch(/#\d/);
      expect(shown).not.toContain("://");
      expect(shown).not.toContain("\u202E");
    }
  });
});
