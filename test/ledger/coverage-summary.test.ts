/**
 * The summary of what an audit collected, carried by its run's record so coverage need not read the
 * run's snapshot back: the same runs recorded with it (as recordAuditRun records them now) and
 * without it (as records written before it are) give the same coverage, on both backends, and the
 * summary says what the stored snapshot says.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { evaluate } from "../../src/engine/index.js";
import {
  AUDIT_RUN,
  auditStream,
  coverageFromLedger,
  openLedger,
  type AuditRunContent,
  type Ledger,
} from "../../src/ledger/index.js";
import { storeFile } from "../../src/ledger/files.js";
import { auditRunContent, packageFilesOf } from "../../src/ledger/records.js";
import { uncollectedRepository, type ChangeRequest, type Snapshot } from "../../src/model/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { writeEvidencePackage } from "../../src/reporters/files/index.js";
import type { CoverageReport } from "../../src/reporters/files/coverage.js";
import { TOOL_VERSION } from "../../src/version.js";
import { makeChangeRequest, makeRepository, makeSnapshot } from "../fixtures/build.js";
import { BACKENDS, testBackend } from "./backends.js";

const SINCE = new Date("2026-10-01T00:00:00Z");
const UNTIL = new Date("2026-10-08T00:00:00Z");

let clock = new Date("2026-10-01T00:00:00Z");
const now = () => clock;

function merged(
  repository: string,
  number: number,
  mergedAt: string,
  overrides: Partial<ChangeRequest> = {},
): ChangeRequest {
  return makeChangeRequest({
    repository,
    number,
    url: `https://github.com/${repository}/pull/${number}`,
    mergedAt,
    createdAt: "2026-09-30T09:00:00Z",
    ...overrides,
  });
}

const WEB_ERROR = "Resource not accessible by integration";

/**
 * Three audits: api with two production branches, web collected then not (its branch rules and its
 * contents unreadable), ops only in the last; merges into each, one still open, one of a
 * non-production branch.
 */
function audits(): Snapshot[] {
  const api = makeRepository({ productionBranches: ["main", "release"] });
  const web = makeRepository({ fullName: "acme/web", url: "https://github.com/acme/web" });
  const webFailed = uncollectedRepository(
    "acme/web",
    "https://github.com/acme/web",
    { permission: "metadata: read", reason: `403 ${WEB_ERROR}` },
    WEB_ERROR,
  );
  const ops = makeRepository({ fullName: "acme/ops", url: "https://github.com/acme/ops" });
  const snapshot = (since: string, until: string, overrides: Partial<Snapshot>) =>
    makeSnapshot({ period: { since, until }, collectedAt: until, changeRequests: [], ...overrides });
  return [
    snapshot("2026-10-01T00:00:00Z", "2026-10-03T00:00:00Z", {
      repositories: [api, web],
      changeRequests: [
        merged("acme/api", 1, "2026-10-01T10:00:00Z"),
        merged("acme/api", 2, "2026-10-02T11:00:00Z", { baseBranch: "release" }),
        merged("acme/web", 3, "2026-10-02T12:00:00Z"),
        merged("acme/api", 4, "2026-10-02T13:00:00Z", { baseBranch: "feature" }),
        merged("acme/api", 5, "2026-10-02T14:00:00Z", { state: "open", mergedAt: null }),
      ],
    }),
    snapshot("2026-10-03T00:00:00Z", "2026-10-05T00:00:00Z", {
      repositories: [api, webFailed],
      unreadable: [
        { subject: "acme/web", what: "contents", permission: "contents: read", reason: `403 ${WEB_ERROR}` },
        { subject: "acme/web", what: "rules", permission: "metadata: read", reason: `403 ${WEB_ERROR}` },
        { subject: "acme/api", what: "teams", permission: "members: read", reason: "403" },
      ],
      changeRequests: [merged("acme/api", 6, "2026-10-04T09:00:00Z")],
    }),
    snapshot("2026-10-06T00:00:00Z", "2026-10-08T00:00:00Z", {
      repositories: [api, web, ops],
      changeRequests: [
        merged("acme/api", 6, "2026-10-04T09:00:00Z"),
        merged("acme/ops", 7, "2026-10-07T08:00:00Z"),
      ],
    }),
  ];
}

/** How each audit is recorded: as recordAuditRun records it now, or as a record written before the summary. */
type Format = "with summary" | "old format";

/** The audit's report and its package written to a folder (the same package files in either format). */
async function packaged(snapshot: Snapshot) {
  const report = evaluate(snapshot, policySetFor(snapshot), new Date(snapshot.period!.until));
  clock = new Date(snapshot.period!.until);
  const packageDir = await mkdtemp(join(tmpdir(), "soc2-coverage-summary-package-"));
  await writeEvidencePackage(packageDir, snapshot, report, { toolVersion: TOOL_VERSION, coverage: null });
  return { report, packageDir };
}

/** Records the audit as recordAuditRun records it, and returns the content recorded. */
async function recordAudit(ledger: Ledger, snapshot: Snapshot): Promise<AuditRunContent> {
  const { report, packageDir } = await packaged(snapshot);
  const entry = await ledger.recordAuditRun({
    trigger: "cli",
    organization: "acme",
    snapshot,
    report,
    packageDir,
  });
  const runs = await ledger.auditRuns({ since: SINCE, until: UNTIL });
  return runs.find((run) => run.record.stream === entry.stream && run.record.sequence === entry.sequence)!
    .content;
}

/** Records the audit as a record written before the summary was: its package stored, the content without it. */
async function recordOldAudit(ledger: Ledger, snapshot: Snapshot): Promise<void> {
  const { report, packageDir } = await packaged(snapshot);
  const db = await ledger.database();
  const files = [];
  for (const file of await packageFilesOf(packageDir)) {
    const { sha256, bytes } = await storeFile(db, file.path);
    files.push({ name: file.name, sha256, bytes });
  }
  const { collected, ...old } = auditRunContent(
    { trigger: "cli", organization: "acme", snapshot, report },
    files,
  );
  expect(collected).toBeDefined();
  await ledger.append(auditStream(old.host, old.organization), AUDIT_RUN, old);
}

/** The merges the app judged, the same in every ledger. */
async function recordJudgements(ledger: Ledger): Promise<void> {
  for (const [changeRequest, judgedAt] of [
    [merged("acme/api", 1, "2026-10-01T10:00:00Z"), "2026-10-01T10:03:00Z"],
    [merged("acme/web", 3, "2026-10-02T12:00:00Z"), "2026-10-02T13:00:00Z"],
  ] as const) {
    const snapshot = makeSnapshot({
      repositories: [
        makeRepository({
          fullName: changeRequest.repository,
          productionBranches: [changeRequest.baseBranch],
        }),
      ],
      changeRequests: [changeRequest],
    });
    const report = evaluate(snapshot, policySetFor(snapshot), new Date(judgedAt));
    const results = report.results.filter(
      (r) => r.subject.id === `${changeRequest.repository}#${changeRequest.number}`,
    );
    clock = new Date(Date.parse(judgedAt) + 150);
    await ledger.recordJudgement({
      trigger: "merge",
      host: "github",
      outcome: { changeRequest, policy: null, results },
      judgedAt: new Date(judgedAt),
    });
  }
}

function withoutLocation(report: CoverageReport): Omit<CoverageReport, "ledger"> {
  const { ledger: _location, ...rest } = report;
  return rest;
}

describe.each(BACKENDS)("coverage from audit runs' summaries on %s", (name) => {
  const backend = testBackend(name);
  const opened: Ledger[] = [];
  const fresh = async (): Promise<Ledger> => {
    const ledger = openLedger({ ...(await backend.fresh()), now });
    opened.push(ledger);
    return ledger;
  };
  afterAll(async () => {
    await Promise.all(opened.map((ledger) => ledger.close()));
    await backend.stop();
  });

  it("gives the same report from runs recorded with the summary, without it (old records), and a mix", async () => {
    const formats: Format[][] = [
      ["with summary", "with summary", "with summary"],
      ["old format", "old format", "old format"],
      ["old format", "with summary", "old format"],
    ];
    const reports: Omit<CoverageReport, "ledger">[] = [];
    for (const ledgerFormats of formats) {
      const ledger = await fresh();
      const snapshots = audits();
      for (const [index, snapshot] of snapshots.entries()) {
        if (ledgerFormats[index] === "old format") await recordOldAudit(ledger, snapshot);
        else await recordAudit(ledger, snapshot);
      }
      await recordJudgements(ledger);
      const runs = await ledger.auditRuns({ since: SINCE, until: UNTIL });
      expect(runs.map((run) => run.content.collected !== undefined)).toEqual(
        ledgerFormats.map((format) => format === "with summary"),
      );
      const report = await coverageFromLedger(ledger, {
        since: SINCE,
        until: UNTIL,
        judgedWithinMinutes: 15,
      });
      expect(report.problems).toEqual([]);
      reports.push(withoutLocation(report));
      // the summary is content: the record's hash covers it and the chain still verifies
      expect((await ledger.verify()).breaks).toEqual([]);
    }
    expect(reports[1]).toEqual(reports[0]);
    expect(reports[2]).toEqual(reports[0]);

    // and the report is the one these runs call for, not merely the same wrong one three times
    const [report] = reports;
    const rows = report!.branches.map((b) => [b.repository, b.branch, b.observedDays, b.gapDays]);
    expect(rows).toEqual([
      ["acme/api", "main", 6, 1],
      ["acme/api", "release", 6, 1],
      ["acme/ops", "main", 2, 5],
      ["acme/web", "main", 4, 3],
    ]);
    const web = report!.branches.find((b) => b.repository === "acme/web")!;
    expect(web.segments.filter((s) => !s.observed).map((s) => s.cause)).toEqual([
      `repository not collected by audit:github/acme record 2: ${WEB_ERROR}; missing permission: metadata: read, contents: read`,
      "no record — app down or not installed",
    ]);
    expect(report!.merges.total).toBe(5);
    expect(report!.merges.inTime).toBe(1);
    expect(report!.merges.late.map((m) => [m.repository, m.number, m.seenIn])).toEqual([
      ["acme/api", 2, ["audit:github/acme record 1"]],
      ["acme/web", 3, ["audit:github/acme record 1", "judgement"]],
      ["acme/api", 6, ["audit:github/acme record 2", "audit:github/acme record 3"]],
      ["acme/ops", 7, ["audit:github/acme record 3"]],
    ]);
  });

  it("records in the summary what the snapshot says each repository and merge was, in compact arrays", async () => {
    const ledger = await fresh();
    const [first, second] = audits();
    const one = await recordAudit(ledger, first!);
    const two = await recordAudit(ledger, second!);
    expect(one.collected).toEqual({
      repositories: [
        ["acme/api", ["main", "release"], null, []],
        ["acme/web", ["main"], null, []],
      ],
      // merged changes only (not the open one), each as the snapshot has it
      merges: first!.changeRequests
        .filter((cr) => cr.state === "merged")
        .map((cr) => [cr.repository, cr.number, cr.baseBranch, cr.mergedAt]),
    });
    // a repository not collected: its error, the permission its branch rules needed, and those the
    // snapshot's unreadable facts name for it (a collected repository's are not gaps in coverage)
    expect(two.collected).toEqual({
      repositories: [
        ["acme/api", ["main", "release"], null, []],
        ["acme/web", [], WEB_ERROR, ["metadata: read", "contents: read"]],
      ],
      merges: [["acme/api", 6, "main", "2026-10-04T09:00:00Z"]],
    });
    expect(two.package.files.map((f) => f.name)).toContain("snapshot.json");
  });
});
