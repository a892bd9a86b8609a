/**
 * results.sarif: the repository and organization controls that failed or could not be decided, as
 * SARIF 2.1.0 for GitHub code scanning (upload it with github/codeql-action/upload-sarif to the
 * repository that holds the policy, e.g. the organization's `.github` repository).
 *
 * Change requests and direct pushes are left out: they are events of the period, listed in the
 * population, and a code scanning alert is about a state that can be fixed and then closes.
 *
 * - fail is an "error", unknown a "warning" (something could not be read: the alert says what, and
 *   closes when the token can read it and it passes); excepted failures are accepted risks in the
 *   policy and are not alerts.
 * - Code scanning rejects a result without a physical location, and our results are about settings,
 *   not lines: each points at the policy file (line 1), which is where the control is configured and
 *   excepted, with the subject (repository, member, key) as its logical location.
 * - partialFingerprints hash the control and the subject, so an alert stays one alert across runs,
 *   whatever the reason's wording.
 * - Texts from the code host (names, reasons) are plain text with no mention, reference or link that
 *   would notify or link (titleText), and bidi controls shown.
 * - Code scanning takes at most 25,000 results per run (and shows the 5,000 most severe): past that
 *   failures are kept before unknowns, and the rest are counted in the run's tool notifications,
 *   never dropped silently (results.json has them all).
 */
import { createHash } from "node:crypto";
import { findControl } from "../../controls/index.js";
import type { Result, SubjectKind } from "../../controls/types.js";
import type { EvaluationReport } from "../../engine/types.js";
import { titleText } from "../../text/escape.js";
import type { ControlRow } from "./common.js";
import { stableJson } from "./results-json.js";

export const SARIF_FILE = "results.sarif";

/** GitHub code scanning's limit of results per run (the rest would be ignored by GitHub). */
export const SARIF_RESULTS_PER_RUN = 25_000;

/** Where the policy lives in the repository the SARIF is uploaded to (the organization policy). */
export const SARIF_DEFAULT_POLICY_PATH = ".github/soc2.yml";

/** What a SARIF or OSCAL document needs of a result: never its evidence (kept in results.json). */
export type FrameworkResult = Pick<
  Result,
  "control" | "criterion" | "title" | "subject" | "outcome" | "reason" | "remediation"
>;

/** The subjects of repository and organization controls: what code scanning alerts are about. */
const STATE_SUBJECTS: readonly SubjectKind[] = [
  "organization",
  "member",
  "invitation",
  "repository",
  "collaborator",
  "deploy-key",
  "access-review",
  "revocation",
];

/** Whether a result belongs in the SARIF file: a failed or undecided repository or organization control. */
export function isSarifResult(result: Pick<Result, "outcome" | "subject">): boolean {
  return (
    (result.outcome === "fail" || result.outcome === "unknown") &&
    STATE_SUBJECTS.includes(result.subject.kind)
  );
}

/** The part of a result a framework document keeps (no evidence: bounded memory when streamed). */
export function frameworkResult(result: Result): FrameworkResult {
  return {
    control: result.control,
    criterion: result.criterion,
    title: result.title,
    subject: result.subject,
    outcome: result.outcome,
    reason: result.reason,
    ...(result.remediation !== undefined ? { remediation: result.remediation } : {}),
  };
}

export interface SarifInput {
  report: Pick<EvaluationReport, "evaluatedAt" | "policy" | "snapshot">;
  /** The controls in report order with their totals. */
  rows: readonly ControlRow[];
  /** Failed and unknown results (any subject: those that are not SARIF results are skipped), in report order. */
  results: readonly FrameworkResult[];
  toolVersion: string;
  /** The policy file's path in the repository the SARIF goes to. */
  policyPath?: string;
}

/** Plain text for SARIF messages: one line, nothing that mentions, links or references. */
function plain(text: string): string {
  return titleText(text, 4000);
}

function fingerprint(control: string, subjectId: string): string {
  return createHash("sha256").update(`${control}\u0000${subjectId}`, "utf8").digest("hex");
}

const LOGICAL_KIND: Record<SubjectKind, string> = {
  organization: "organization",
  member: "member",
  invitation: "invitation",
  repository: "repository",
  collaborator: "collaborator",
  "deploy-key": "deployKey",
  "change-request": "changeRequest",
  "direct-push": "directPush",
  "access-review": "accessReview",
  revocation: "revocation",
};

/** results.sarif for a report: deterministic (the same results give the same bytes). */
export function renderSarif(input: SarifInput): string {
  const policyPath = input.policyPath ?? SARIF_DEFAULT_POLICY_PATH;
  const ruleIndex = new Map<string, number>();
  const rules = input.rows.map((row, index) => {
    ruleIndex.set(row.id, index);
    const control = findControl(row.id);
    const help = control
      ? `Passes when: ${control.passes}\nFails when: ${control.fails}\nUnknown when: ${control.unknownWhen}\nTo fix: ${control.remediation}`
      : `${row.criterion} ${row.title}`;
    return {
      id: row.id,
      name: row.id.replace(/[^A-Za-z0-9]+(.)?/g, (_, ch: string | undefined) => (ch ?? "").toUpperCase()),
      shortDescription: { text: plain(`${row.criterion} ${row.title}`) },
      fullDescription: { text: plain(control?.passes ?? row.title) },
      help: { text: help },
      defaultConfiguration: { level: "error" },
      properties: { tags: ["soc2", row.criterion], criterion: row.criterion },
    };
  });

  const candidates = input.results.filter(isSarifResult);
  // over the limit, failures go first (code scanning prioritises by severity too), in report order
  let kept = candidates;
  if (candidates.length > SARIF_RESULTS_PER_RUN) {
    const failures = candidates.filter((r) => r.outcome === "fail").length;
    let unknownRoom = Math.max(0, SARIF_RESULTS_PER_RUN - failures);
    let failureRoom = SARIF_RESULTS_PER_RUN - unknownRoom;
    kept = candidates.filter((r) => (r.outcome === "fail" ? failureRoom-- > 0 : unknownRoom-- > 0));
  }
  const leftOut = candidates.length - kept.length;
  const results: unknown[] = [];
  for (const result of kept) {
    const subject = result.subject;
    const reason = plain(result.reason);
    const remedy = result.remediation ? ` To fix: ${plain(result.remediation)}` : "";
    const entry: Record<string, unknown> = {
      ruleId: result.control,
      level: result.outcome === "fail" ? "error" : "warning",
      message: {
        text: `${result.outcome === "fail" ? "Fails" : "Unknown"}: ${plain(subject.id)}: ${reason}${remedy}`,
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri: policyPath, uriBaseId: "%SRCROOT%" },
            region: { startLine: 1 },
          },
          logicalLocations: [{ fullyQualifiedName: plain(subject.id), kind: LOGICAL_KIND[subject.kind] }],
        },
      ],
      partialFingerprints: { "soc2BotSubject/v1": fingerprint(result.control, subject.id) },
      properties: { outcome: result.outcome, subject: plain(subject.id), criterion: result.criterion },
    };
    const index = ruleIndex.get(result.control);
    if (index !== undefined) entry.ruleIndex = index;
    results.push(entry);
  }

  const notifications =
    leftOut === 0
      ? []
      : [
          {
            level: "warning",
            message: {
              text: `${leftOut} more failed or unknown results were left out: code scanning takes at most ${SARIF_RESULTS_PER_RUN} results per run. results.json of the evidence package holds them all.`,
            },
          },
        ];

  const log = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "soc2-bot",
            version: input.toolVersion,
            rules,
          },
        },
        automationDetails: { id: `soc2-bot/${input.report.snapshot.host}/` },
        invocations: [
          {
            executionSuccessful: true,
            endTimeUtc: input.report.evaluatedAt,
            toolExecutionNotifications: notifications,
          },
        ],
        results,
        properties: {
          policyHash: input.report.policy.hash,
          policySources: input.report.policy.sources.map(plain),
          collectedAt: input.report.snapshot.collectedAt,
          period: input.report.snapshot.period,
          resultsLeftOut: leftOut,
        },
      },
    ],
  };
  return stableJson(log);
}
