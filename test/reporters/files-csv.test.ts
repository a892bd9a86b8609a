import { describe, expect, it } from "vitest";
import { renderAccessCsv } from "../../src/reporters/files/access-csv.js";
import { renderDirectPushesCsv } from "../../src/reporters/files/direct-pushes-csv.js";
import { populationRows, renderPopulationCsv } from "../../src/reporters/files/population-csv.js";
import { renderResultsCsv } from "../../src/reporters/files/results-csv.js";
import { makeOrganization, makeSnapshot, unknownOf } from "../fixtures/build.js";
import {
  FORMULA_LOGIN,
  FORMULA_TITLE,
  auditReport,
  auditSnapshot,
  csvRecords,
  isFormula,
  parseCsv,
} from "./files-report-fixture.js";

const snapshot = auditSnapshot();
const report = auditReport(snapshot);

describe("every CSV", () => {
  const files = {
    population: renderPopulationCsv(snapshot, report),
    directPushes: renderDirectPushesCsv(snapshot, report),
    access: renderAccessCsv(snapshot),
    results: renderResultsCsv(report),
  };

  it.each(Object.entries(files))("%s has no cell a spreadsheet would run as a formula", (_name, text) => {
    const cells = parseCsv(text).flat();
    expect(cells.filter(isFormula)).toEqual([]);
  });

  it("keeps the hostile values, neutralised, rather than dropping them", () => {
    expect(parseCsv(files.population).flat()).toContain(`'${FORMULA_TITLE}`);
    expect(parseCsv(files.access).flat()).toContain(`'${FORMULA_LOGIN}`);
    expect(parseCsv(files.directPushes).flat()).toContain(`'${FORMULA_LOGIN}`);
  });

  it.each(Object.entries(files))("%s has the same number of cells in every row", (_name, text) => {
    const widths = new Set(parseCsv(text).map((row) => row.length));
    expect(widths.size).toBe(1);
  });
});

describe("population.csv", () => {
  const records = csvRecords(renderPopulationCsv(snapshot, report));

  it("has one row per merged production change, leaving out open and unjudged ones", () => {
    expect(records.map((r) => `${r.repository}#${r.number}`)).toEqual([
      "acme/api#12",
      "acme/api#13",
      "acme/api#14",
      "acme/api#15",
    ]);
  });

  it("gives approvers, approval after the last push, checks and bypass per change", () => {
    const byNumber = Object.fromEntries(records.map((r) => [r.number, r]));
    expect(byNumber["12"]).toMatchObject({
      approvers: "bob 2026-10-02T10:00:00Z",
      approval_after_last_push: "yes",
      required_checks_on_head: "ci/test: success",
      merged_by: "alice",
      merged_at: "2026-10-02T15:00:00Z",
      bypassed_protection: "no",
      link: "https://github.com/acme/api/pull/12",
    });
    // bob approved commit a…, then alice pushed b…: the approval does not cover what merged
    expect(byNumber["13"]).toMatchObject({
      approvers: "bob 2026-09-09T10:00:00Z",
      approval_after_last_push: "no",
      required_checks_on_head: "ci/test: missing",
      "cc8.approval-covers-final-code": "fail",
      "cc8.required-checks": "fail",
    });
    expect(byNumber["14"]).toMatchObject({
      approvers: "",
      approval_after_last_push: "no",
      bypassed_protection: "yes",
      merged_by: `'${FORMULA_LOGIN}`,
      "cc8.independent-approval": "fail",
      "cc8.no-bypass": "fail",
    });
    // approvals without a commit count when they came after the last push; latest per reviewer
    expect(byNumber["15"]).toMatchObject({
      approvers: "bob 2026-10-04T10:00:00Z; carol 2026-10-05T10:00:00Z",
      approval_after_last_push: "yes",
      bypassed_protection: "unknown",
      "cc8.no-bypass": "unknown",
    });
  });

  it("streams: the generator yields the header then one line per row", () => {
    const rows = [...populationRows(snapshot, report)];
    expect(rows).toHaveLength(5);
    expect(rows.every((row) => row.endsWith("\r\n"))).toBe(true);
    expect(rows.join("")).toBe(renderPopulationCsv(snapshot, report));
  });

  it("says when the required checks are not readable instead of leaving the cell empty", () => {
    const unreadableRules = auditSnapshot();
    unreadableRules.repositories[0]!.branchRules = unknownOf("administration:read");
    const [first] = csvRecords(renderPopulationCsv(unreadableRules, report));
    expect(first?.required_checks_on_head).toBe(
      "required checks unknown (needs administration:read); ran: ci/test: success",
    );
  });
});

describe("direct-pushes.csv", () => {
  it("has one row per direct push with its outcome, excepted ones with the exception", () => {
    const records = csvRecords(renderDirectPushesCsv(snapshot, report));
    expect(records.map((r) => [(r.sha ?? "").slice(0, 1), r.pushed_by, r.outcome, r.exception])).toEqual([
      ["d", `'${FORMULA_LOGIN}`, "fail", ""],
      [
        "e",
        "alice",
        "excepted",
        "Emergency revert, reviewed after the fact (approved by ciso, expires 2026-12-31)",
      ],
    ]);
    expect(records[0]?.message).toBe("'=cmd|' /C calc'!A0");
  });
});

describe("access.csv", () => {
  it("lists each person per repository, members without repositories, teams and deploy keys", () => {
    const rows = csvRecords(renderAccessCsv(snapshot)).map((r) => [
      r.kind,
      r.name,
      r.org_role,
      r.repository,
      r.permission,
      r.two_factor,
      r.outside_collaborator,
    ]);
    expect(rows).toEqual([
      ["person", "alice", "owner", "acme/api", "admin", "enabled", "no"],
      ["person", "bob", "member", "acme/api", "write", "enabled", "no"],
      ["team", "engineering", "", "acme/api", "write", "", ""],
      ["deploy-key", "ci deploy", "", "acme/api", "write", "", ""],
      ["person", "bob", "member", "acme/web", "write", "enabled", "no"],
      // an outside collaborator's 2FA is not in the members' list: unknown, never "enabled"
      ["person", `'${FORMULA_LOGIN}`, "outside", "acme/web", "admin", "unknown", "yes"],
      ["team", "engineering", "", "acme/web", "write", "", ""],
      ["deploy-key", "unknown", "unknown", "acme/web", "unknown", "unknown", "unknown"],
      ["person", "unknown", "unknown", "acme/legacy", "unknown", "unknown", "unknown"],
      ["team", "engineering", "", "acme/legacy", "write", "", ""],
      ["person", "carol", "member", "", "read", "disabled", "no"],
    ]);
  });

  it("names the missing permission for every list it could not read", () => {
    const blind = makeSnapshot({
      organization: makeOrganization({
        members: unknownOf("members:read"),
        membersWithoutTwoFactor: unknownOf("admin:org"),
      }),
    });
    const records = csvRecords(renderAccessCsv(blind));
    expect(records.map((r) => [r.name, r.two_factor, r.note])).toEqual([
      ["alice", "unknown", "2FA status could not be read: needs admin:org"],
      ["bob", "unknown", "2FA status could not be read: needs admin:org"],
      ["engineering", "", "members inherit this permission"],
      [
        "unknown",
        "unknown",
        "organization members could not be read: needs members:read (403 Resource not accessible by integration)",
      ],
    ]);
  });
});

describe("results.csv", () => {
  it("has one row per result with exception and evidence", () => {
    const records = csvRecords(renderResultsCsv(report));
    expect(records).toHaveLength(report.results.length);
    const excepted = records.find((r) => r.outcome === "excepted");
    expect(excepted).toMatchObject({
      control: "cc8.no-direct-push",
      criterion: "CC8.1",
      subject_kind: "direct-push",
      exception_reason: "Emergency revert, reviewed after the fact",
      exception_approved_by: "ciso",
      exception_expires: "2026-12-31",
    });
    const pushed = records.find((r) => r.outcome === "fail" && r.subject_kind === "direct-push");
    expect(pushed?.evidence).toBe(`pushed by: ${FORMULA_LOGIN}`);
  });
});
