/**
 * One audit's facts and a hand-built evaluation report over them, shared by the file reporter tests
 * (the engine is tested on its own; here the report is an input). Hostile text sits where a code host
 * lets anyone put it: PR titles, logins, commit messages.
 */
import type { Criterion, Outcome, Result, Subject } from "../../src/controls/types.js";
import { changeRequestSubject, directPushSubject } from "../../src/controls/subjects.js";
import type { EvaluationReport } from "../../src/engine/types.js";
import type { ChangeRequest, DirectPush, Snapshot } from "../../src/model/index.js";
import {
  makeChangeRequest,
  makeDirectPush,
  makeOrganization,
  makeRepository,
  makeSnapshot,
  unknownOf,
} from "../fixtures/build.js";

export const XSS_TITLE = "<img src=x onerror=alert(1)>";
export const SCRIPT_TITLE = "</script><script>alert(1)</script>";
export const FORMULA_TITLE = '=HYPERLINK("https://evil.example/x","click")';
export const FORMULA_LOGIN = "+cmd";

const CONTROLS: Record<string, { criterion: Criterion; title: string }> = {
  "cc8.independent-approval": { criterion: "CC8.1", title: "Independent approval" },
  "cc8.approval-covers-final-code": { criterion: "CC8.1", title: "Approval covers the final code" },
  "cc8.required-checks": { criterion: "CC8.1", title: "Required checks passed" },
  "cc8.no-bypass": { criterion: "CC8.1", title: "No bypass of protection" },
  "cc8.no-direct-push": { criterion: "CC8.1", title: "No direct push to production" },
  "cc6.member-2fa": { criterion: "CC6.1", title: "Members use 2FA" },
  "cc6.deploy-key-write": { criterion: "CC6.1", title: "Deploy keys are read-only" },
};

export function result(
  control: string,
  subject: Subject,
  outcome: Outcome,
  reason: string,
  extra: Partial<Result> = {},
): Result {
  const meta = CONTROLS[control] ?? { criterion: "CC8.1", title: control };
  return { control, ...meta, subject, outcome, reason, evidence: [], ...extra };
}

const head = (c: string): string => c.repeat(40);

/** Clean: approved by bob on the final head, green, not bypassed. */
export const clean = makeChangeRequest();
/** Approved by bob before a later push by alice: the approval does not cover the merged code. */
export const staleApproval = makeChangeRequest({
  number: 13,
  title: FORMULA_TITLE,
  url: "https://github.com/acme/api/pull/13",
  headSha: head("b"),
  mergedAt: "2026-09-10T12:00:00Z",
  pushes: [
    { at: "2026-09-09T09:00:00Z", actor: "alice", headSha: head("a"), forced: false },
    { at: "2026-09-10T11:00:00Z", actor: "alice", headSha: head("b"), forced: false },
  ],
  reviews: [
    { reviewer: "bob", state: "commented", submittedAt: "2026-09-09T09:30:00Z", commitSha: head("a") },
    { reviewer: "bob", state: "approved", submittedAt: "2026-09-09T10:00:00Z", commitSha: head("a") },
  ],
  checks: [],
});
/** Merged by an admin over protection with no review. */
export const bypassed = makeChangeRequest({
  number: 14,
  title: XSS_TITLE,
  url: "https://github.com/acme/api/pull/14",
  mergedBy: FORMULA_LOGIN,
  mergedAt: "2026-10-20T08:00:00Z",
  reviews: [],
  bypassedProtection: { known: true, value: true },
});
/** GitLab-style approval without a commit, after the last push; bypass unreadable. */
export const undecided = makeChangeRequest({
  number: 15,
  title: SCRIPT_TITLE,
  url: "https://github.com/acme/api/pull/15",
  mergedAt: "2026-10-21T08:00:00Z",
  reviews: [
    { reviewer: "carol", state: "approved", submittedAt: "2026-10-03T10:00:00Z", commitSha: null },
    { reviewer: "bob", state: "approved", submittedAt: "2026-10-04T10:00:00Z", commitSha: null },
    { reviewer: "carol", state: "approved", submittedAt: "2026-10-05T10:00:00Z", commitSha: null },
  ],
  bypassedProtection: unknownOf<boolean>("administration:read"),
});
/** Still open: judged by the PR check, but not part of the merged population. */
export const open = makeChangeRequest({ number: 16, state: "open", mergedAt: null, mergedBy: null });
/** Merged to a feature branch: every control says not applicable, so it is not a production merge. */
export const notProduction = makeChangeRequest({ number: 17, baseBranch: "feature/x" });

export const hotfix: DirectPush = makeDirectPush({ message: "=cmd|' /C calc'!A0", pushedBy: FORMULA_LOGIN });
export const emergency: DirectPush = makeDirectPush({
  sha: head("e"),
  message: "emergency: revert bad deploy",
  pushedBy: "alice",
  url: `https://github.com/acme/api/commit/${head("e")}`,
});

export function auditSnapshot(): Snapshot {
  return makeSnapshot({
    organization: makeOrganization({ membersWithoutTwoFactor: { known: true, value: ["carol"] } }),
    repositories: [
      makeRepository({
        deployKeys: {
          known: true,
          value: [{ id: "42", title: "ci deploy", readOnly: false, createdAt: null, addedBy: "alice" }],
        },
      }),
      makeRepository({
        fullName: "acme/web",
        url: "https://github.com/acme/web",
        collaborators: {
          known: true,
          value: [
            { login: "bob", permission: "write", outside: false },
            { login: FORMULA_LOGIN, permission: "admin", outside: true },
          ],
        },
        deployKeys: unknownOf("administration:read"),
      }),
      makeRepository({
        fullName: "acme/legacy",
        url: "https://github.com/acme/legacy",
        collaborators: unknownOf("administration:read"),
      }),
    ],
    changeRequests: [clean, staleApproval, bypassed, undecided, open, notProduction],
    directPushes: [hotfix, emergency],
    unreadable: [
      {
        subject: "acme/legacy",
        what: "collaborators",
        permission: "administration:read",
        reason: "403 Resource not accessible by integration",
      },
    ],
  });
}

function crResults(cr: ChangeRequest, outcomes: [Outcome, Outcome, Outcome, Outcome]): Result[] {
  const subject = changeRequestSubject(cr);
  const ids = [
    "cc8.independent-approval",
    "cc8.approval-covers-final-code",
    "cc8.required-checks",
    "cc8.no-bypass",
  ];
  return ids.map((id, i) =>
    result(id, subject, outcomes[i] ?? "pass", `${id} ${outcomes[i] ?? "pass"} for ${cr.title}`),
  );
}

export function auditReport(snapshot: Snapshot = auditSnapshot()): EvaluationReport {
  const results: Result[] = [
    ...crResults(clean, ["pass", "pass", "pass", "pass"]),
    ...crResults(staleApproval, ["pass", "fail", "fail", "pass"]),
    ...crResults(bypassed, ["fail", "not-applicable", "pass", "fail"]),
    ...crResults(undecided, ["pass", "pass", "pass", "unknown"]),
    ...crResults(open, ["pass", "pass", "pass", "pass"]),
    ...crResults(notProduction, ["not-applicable", "not-applicable", "not-applicable", "not-applicable"]),
    result("cc8.no-direct-push", directPushSubject(hotfix), "fail", `Pushed directly by ${FORMULA_LOGIN}`, {
      evidence: [{ label: "pushed by", value: FORMULA_LOGIN, url: hotfix.url }],
    }),
    result("cc8.no-direct-push", directPushSubject(emergency), "excepted", "Pushed directly by alice", {
      exception: {
        reason: "Emergency revert, reviewed after the fact",
        approvedBy: "ciso",
        expires: "2026-12-31",
        source: "acme/.github:.github/soc2.yml:14",
      },
    }),
    result(
      "cc6.member-2fa",
      { kind: "member", id: "acme:@carol", user: "carol" },
      "fail",
      "carol has no 2FA",
    ),
    result(
      "cc6.deploy-key-write",
      { kind: "deploy-key", id: "acme/api:key:42", repository: "acme/api" },
      "fail",
      "Deploy key ci deploy can write",
      { evidence: [{ label: "javascript link", value: "x", url: "javascript:alert(1)" }] },
    ),
  ];
  const totals: EvaluationReport["totals"] = {};
  for (const r of results) {
    totals[r.control] ??= { pass: 0, fail: 0, unknown: 0, excepted: 0, "not-applicable": 0 };
    totals[r.control]![r.outcome] += 1;
  }
  return {
    evaluatedAt: "2026-11-01T00:00:00.000Z",
    policy: { sources: ["policies/soc2.yml", "acme/.github:.github/soc2.yml@main"], hash: "f".repeat(64) },
    snapshot: {
      host: snapshot.collector.host,
      baseUrl: snapshot.collector.baseUrl,
      collectedAt: snapshot.collectedAt,
      actor: snapshot.collector.actor,
      period: snapshot.period,
    },
    results,
    totals,
  };
}

/** RFC 4180 parsing, so tests read cells the way a spreadsheet would. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i += 1;
    } else cell += ch;
  }
  if (cell !== "" || row.length > 0) rows.push([...row, cell]);
  return rows;
}

/** Rows as objects keyed by the header. */
export function csvRecords(text: string): Record<string, string>[] {
  const [header = [], ...rows] = parseCsv(text);
  return rows.map((cells) => Object.fromEntries(header.map((name, i) => [name, cells[i] ?? ""])));
}

/** A cell a spreadsheet would run as a formula. */
export function isFormula(cell: string): boolean {
  return /^\s*[=+\-@\t\r]/.test(cell);
}
