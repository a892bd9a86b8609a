/**
 * assessment-results.oscal.json: the audit as an OSCAL 1.1 assessment-results document, for GRC
 * tools that read OSCAL. One result for the audit period; one observation per control (its counts,
 * and the subjects that failed or could not be decided), with the evidence package's files (by
 * SHA-256, as back-matter resources) as its relevant evidence; one finding per failing control,
 * "not-satisfied", pointing at its observation.
 *
 * Every UUID is a version 5 UUID of the content it names (the document's from the policy hash, the
 * period, the collection and evaluation times and the files' hashes), and every time comes from the
 * report, never the clock: the same snapshot evaluated again gives the same document, byte for byte.
 *
 * Unknown is not a finding (OSCAL's finding states are satisfied and not-satisfied, and unknown is
 * neither): the observation says how many subjects could not be decided and why, so the auditor
 * sees them.
 */
import { createHash } from "node:crypto";
import type { Outcome, SubjectKind } from "../../controls/types.js";
import type { EvaluationReport } from "../../engine/types.js";
import { markdownText, titleText } from "../../text/escape.js";
import { OUTCOMES, type ControlRow } from "./common.js";
import type { ManifestFile } from "./manifest.js";
import { stableJson } from "./results-json.js";
import type { FrameworkResult } from "./sarif.js";

export const OSCAL_FILE = "assessment-results.oscal.json";

export const OSCAL_VERSION = "1.1.2";

/** Our namespace for props OSCAL does not define. */
const NS = "urn:soc2-bot";

/** The namespace of every UUID this tool makes (itself a v5 UUID of the tool's name in the URL namespace). */
const NAMESPACE = uuidV5("soc2-bot:oscal", "6ba7b811-9dad-11d1-80b4-00c04fd430c8");

/**
 * RFC 9562 version 5: SHA-1 of the namespace and the name, with the version and variant bits set.
 * Stable: the same name in the same namespace is always the same UUID.
 */
export function uuidV5(name: string, namespace: string = NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ""), "hex");
  const hash = createHash("sha1").update(ns).update(name, "utf8").digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface OscalInput {
  report: Pick<EvaluationReport, "evaluatedAt" | "policy" | "snapshot">;
  /** The organization or group audited. */
  organization: string;
  rows: readonly ControlRow[];
  /** Failed and unknown results, in report order (at least the first OSCAL_SUBJECTS_PER_OBSERVATION of each control). */
  results: Iterable<FrameworkResult>;
  /**
   * Failed and unknown results left out of `results`, by control: a streamed audit keeps only those
   * an observation names and counts the rest (the document says "and N more" either way).
   */
  leftOut?: ReadonlyMap<string, number>;
  /** The package's files with their hashes (the manifest's entries, without this document). */
  files: readonly ManifestFile[];
  toolVersion: string;
}

/** How many subjects an observation names; the rest are counted (results.json holds them all). */
export const OSCAL_SUBJECTS_PER_OBSERVATION = 1000;

const MEDIA_TYPES: Record<string, string> = {
  csv: "text/csv",
  json: "application/json",
  md: "text/markdown",
  html: "text/html",
  sarif: "application/sarif+json",
};

function subjectType(kind: SubjectKind): string {
  return kind === "member" || kind === "collaborator" || kind === "invitation" ? "party" : "component";
}

/** A plain one-line title with nothing that would mention or link. */
function plain(text: string): string {
  return titleText(text, 1000);
}

function countsText(totals: Record<Outcome, number>): string {
  const total = OUTCOMES.reduce((sum, outcome) => sum + totals[outcome], 0);
  const parts = OUTCOMES.filter((outcome) => totals[outcome] > 0).map(
    (outcome) => `${totals[outcome]} ${outcome}`,
  );
  return `${total} subjects evaluated${parts.length > 0 ? `: ${parts.join(", ")}` : ""}.`;
}

/** assessment-results.oscal.json for a report and the package's hashed files. */
export function renderOscal(input: OscalInput): string {
  const { report } = input;
  const files = [...input.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const period = report.snapshot.period;
  const start = period?.since ?? report.snapshot.collectedAt;
  const end = period?.until ?? report.snapshot.collectedAt;
  const identity = JSON.stringify([
    report.policy.hash,
    period,
    report.snapshot.collectedAt,
    report.evaluatedAt,
    report.snapshot.baseUrl,
    files.map((file) => [file.name, file.sha256]),
  ]);
  const documentUuid = uuidV5(`assessment-results:${identity}`);
  const planUuid = uuidV5(`assessment-plan:${report.policy.hash}`);
  const resultUuid = uuidV5(`result:${identity}`);

  const resources = files.map((file) => {
    const extension = file.name.split(".").pop() ?? "";
    return {
      uuid: uuidV5(`resource:${file.name}:${file.sha256}`),
      title: file.name,
      description: `A file of the evidence package (${file.bytes} bytes), listed in manifest.json with its SHA-256.`,
      rlinks: [
        {
          href: file.name,
          "media-type": MEDIA_TYPES[extension] ?? "application/octet-stream",
          hashes: [{ algorithm: "SHA-256", value: file.sha256 }],
        },
      ],
    };
  });
  const evidenceOf = (names: string[]) =>
    resources
      .filter((resource) => names.includes(resource.title))
      .map((resource) => ({
        href: `#${resource.uuid}`,
        description: `${resource.title}, SHA-256 ${resource.rlinks[0]!.hashes[0]!.value}`,
      }));
  const evidence = evidenceOf([
    "results.json",
    "results.csv",
    "snapshot.json",
    "population.csv",
    "access.csv",
  ]);

  // failed and unknown subjects per control, a bounded number named
  const byControl = new Map<string, { named: FrameworkResult[]; more: number }>();
  for (const result of input.results) {
    if (result.outcome !== "fail" && result.outcome !== "unknown") continue;
    const entry = byControl.get(result.control) ?? { named: [], more: 0 };
    if (entry.named.length < OSCAL_SUBJECTS_PER_OBSERVATION) entry.named.push(result);
    else entry.more += 1;
    byControl.set(result.control, entry);
  }

  const observations: unknown[] = [];
  const findings: unknown[] = [];
  for (const row of input.rows) {
    const observationUuid = uuidV5(`observation:${resultUuid}:${row.id}`);
    const given = byControl.get(row.id) ?? { named: [], more: 0 };
    const listed = { named: given.named, more: given.more + (input.leftOut?.get(row.id) ?? 0) };
    const lines = listed.named.map(
      (result) => `- ${result.outcome}: ${markdownText(result.subject.id)}: ${markdownText(result.reason)}`,
    );
    if (listed.more > 0) lines.push(`- and ${listed.more} more (results.json lists every result)`);
    observations.push({
      uuid: observationUuid,
      title: plain(`${row.id}: ${row.title}`),
      description: [`${row.criterion} ${markdownText(row.title)}: ${countsText(row.totals)}`, ...lines].join(
        "\n",
      ),
      props: [
        { name: "control", ns: NS, value: row.id },
        { name: "criterion", ns: NS, value: row.criterion },
        ...OUTCOMES.map((outcome) => ({
          name: `count-${outcome}`,
          ns: NS,
          value: String(row.totals[outcome]),
        })),
      ],
      methods: ["TEST"],
      types: ["control-objective"],
      ...(listed.named.length > 0
        ? {
            subjects: listed.named.map((result) => ({
              "subject-uuid": uuidV5(`subject:${result.subject.kind}:${result.subject.id}`),
              type: subjectType(result.subject.kind),
              title: plain(result.subject.id),
              props: [
                { name: "subject-kind", ns: NS, value: result.subject.kind },
                { name: "outcome", ns: NS, value: result.outcome },
              ],
            })),
          }
        : {}),
      ...(evidence.length > 0 ? { "relevant-evidence": evidence } : {}),
      collected: report.snapshot.collectedAt,
    });
    if (row.totals.fail > 0) {
      findings.push({
        uuid: uuidV5(`finding:${resultUuid}:${row.id}`),
        title: plain(`${row.id}: ${row.totals.fail} failing`),
        description: `${row.criterion} ${markdownText(row.title)}: ${row.totals.fail} subjects failed. ${countsText(row.totals)}`,
        target: {
          type: "objective-id",
          "target-id": row.id,
          status: { state: "not-satisfied" },
        },
        "related-observations": [{ "observation-uuid": observationUuid }],
      });
    }
  }

  const criteria = [...new Set(input.rows.map((row) => row.criterion.toLowerCase()))];
  const document = {
    "assessment-results": {
      uuid: documentUuid,
      metadata: {
        title: plain(`SOC 2 evidence of ${input.organization}`),
        "last-modified": report.evaluatedAt,
        version: input.toolVersion,
        "oscal-version": OSCAL_VERSION,
        props: [
          { name: "tool", ns: NS, value: `soc2-bot ${input.toolVersion}` },
          { name: "policy-hash", ns: NS, value: report.policy.hash },
        ],
      },
      "import-ap": { href: `#${planUuid}` },
      results: [
        {
          uuid: resultUuid,
          title: plain(`Audit of ${input.organization}`),
          description: `The controls of the policy evaluated on the facts collected from ${plain(report.snapshot.baseUrl)} at ${report.snapshot.collectedAt}, for the period ${start} to ${end}.`,
          start,
          end,
          "reviewed-controls": {
            "control-selections": [
              criteria.length > 0
                ? { "include-controls": criteria.map((id) => ({ "control-id": id })) }
                : { "include-all": {} },
            ],
          },
          ...(observations.length > 0 ? { observations } : {}),
          ...(findings.length > 0 ? { findings } : {}),
        },
      ],
      "back-matter": {
        resources: [
          {
            uuid: planUuid,
            title: "The policy the controls were evaluated against (the assessment plan)",
            description: `Policy layers: ${report.policy.sources.map(plain).join(", ") || "none"}; SHA-256 of the effective policy ${report.policy.hash}.`,
            props: [{ name: "policy-hash", ns: NS, value: report.policy.hash }],
          },
          ...resources,
        ],
      },
    },
  };
  return stableJson(document);
}
