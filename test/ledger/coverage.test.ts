/**
 * Coverage from the ledger's records on both backends: audit runs recorded with their packages
 * (snapshot.json read back from the file store) and judgements recorded as the app records them.
 * The app down for two days, a repository the audit could not collect, a merge judged late, full
 * coverage, and hostile repository and branch names in every rendering.
 */
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main, type Io } from "../../src/cli/main.js";
import { evaluate } from "../../src/engine/index.js";
import {
  coverageFromLedger,
  exportPeriod,
  openLedger,
  type Ledger,
  type LedgerOptions,
} from "../../src/ledger/index.js";
import { uncollectedRepository, type ChangeRequest, type Snapshot } from "../../src/model/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import {
  coverageHtmlSection,
  renderCoverageCsv,
  renderCoverageMarkdown,
} from "../../src/reporters/files/index.js";
import { parseCsv } from "../reporters/files-report-fixture.js";
import { makeChangeRequest, makeRepository, makeSnapshot } from "../fixtures/build.js";
import { BACKENDS, testBackend } from "./backends.js";

const SINCE = new Date("2026-10-01T00:00:00Z");
const UNTIL = new Date("2026-10-08T00:00:00Z");

/** The ledger's clock: each record is stamped when the test says it was made (an audit at its period's end, a judgement when judged). */
let clock = new Date("2026-10-01T00:00:00Z");
const now = () => clock;

function memoryIo(): Io & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout: (text: string) => void (io.out += text),
    stderr: (text: string) => void (io.err += text),
  };
  return io;
}

function merged(number: number, mergedAt: string, overrides: Partial<ChangeRequest> = {}): ChangeRequest {
  return makeChangeRequest({
    number,
    url: `https://github.com/acme/api/pull/${number}`,
    mergedAt,
    createdAt: "2026-09-30T09:00:00Z",
    ...overrides,
  });
}

/** An audit of [since, until) recorded as the CLI records one: snapshot, report, package. */
async function recordAudit(ledger: Ledger, since: string, until: string, overrides: Partial<Snapshot> = {}) {
  const snapshot = makeSnapshot({
    period: { since, until },
    collectedAt: until,
    changeRequests: [],
    ...overrides,
  });
  const report = evaluate(snapshot, policySetFor(snapshot), new Date(until));
  clock = new Date(until);
  await ledger.recordAuditRun({ trigger: "cli", organization: "acme", snapshot, report });
  return { snapshot, report };
}

/** A merge judged by the app at `judgedAt`, recorded as the app records it. */
async function recordMergeJudgement(ledger: Ledger, changeRequest: ChangeRequest, judgedAt: string) {
  const snapshot = makeSnapshot({ changeRequests: [changeRequest] });
  const report = evaluate(snapshot, policySetFor(snapshot), new Date(judgedAt));
  const results = report.results.filter((r) => r.subject.id === `acme/api#${changeRequest.number}`);
  expect(results.length).toBeGreaterThan(0);
  clock = new Date(Date.parse(judgedAt) + 150);
  await ledger.recordJudgement({
    trigger: "merge",
    host: "github",
    outcome: { changeRequest, policy: null, results },
    judgedAt: new Date(judgedAt),
  });
}

describe.each(BACKENDS)("coverage from the ledger on %s", (name) => {
  const backend = testBackend(name);
  const opened: Ledger[] = [];
  const fresh = async (): Promise<{ ledger: Ledger; options: LedgerOptions }> => {
    const options = await backend.fresh();
    const ledger = openLedger({ ...options, now });
    opened.push(ledger);
    return { ledger, options };
  };
  afterAll(async () => {
    await Promise.all(opened.map((ledger) => ledger.close()));
    await backend.stop();
  });

  it("lists the two days the app was down as gaps with their cause, and the merges judged late or never", async () => {
    const { ledger } = await fresh();
    // audits cover Oct 1-2 and Oct 5-7: nothing at all is recorded for Oct 3 and 4
    await recordAudit(ledger, "2026-10-01T00:00:00Z", "2026-10-03T00:00:00Z", {
      changeRequests: [merged(1, "2026-10-02T10:00:00Z")],
    });
    await recordAudit(ledger, "2026-10-05T00:00:00Z", "2026-10-08T00:00:00Z", {
      changeRequests: [merged(2, "2026-10-06T12:00:00Z"), merged(3, "2026-10-07T08:00:00Z")],
    });
    await recordMergeJudgement(ledger, merged(1, "2026-10-02T10:00:00Z"), "2026-10-02T10:04:00Z");
    await recordMergeJudgement(ledger, merged(2, "2026-10-06T12:00:00Z"), "2026-10-06T13:00:00Z");

    const report = await coverageFromLedger(ledger, { since: SINCE, until: UNTIL, judgedWithinMinutes: 15 });
    expect(report.days).toBe(7);
    expect(report.branches.map((b) => [b.repository, b.branch, b.observedDays, b.gapDays])).toEqual([
      ["acme/api", "main", 5, 2],
    ]);
    const gaps = report.branches[0]!.segments.filter((s) => !s.observed);
    expect(gaps).toEqual([
      {
        from: "2026-10-03",
        to: "2026-10-04",
        days: 2,
        observed: false,
        cause: "no record — app down or not installed",
        by: [],
      },
    ]);
    expect(report.merges.total).toBe(3);
    expect(report.merges.inTime).toBe(1);
    expect(report.merges.late.map((m) => [m.number, m.judgedAt, m.minutes])).toEqual([
      [2, "2026-10-06T13:00:00.000Z", 60],
      [3, null, null],
    ]);

    const md = renderCoverageMarkdown(report);
    expect(md).toContain("2026-10-03 to 2026-10-04 (2) | no record — app down or not installed");
    expect(md).toContain("judged 60 minutes after merging");
    expect(md).toContain("never judged by the app");
  });

  it("counts a merge once wherever it is recorded, listing every audit and judgement that holds it", async () => {
    const { ledger } = await fresh();
    // the second audit reaches back into the first one's last hours: #1 is in both
    await recordAudit(ledger, "2026-10-01T00:00:00Z", "2026-10-04T00:00:00Z", {
      changeRequests: [
        merged(1, "2026-10-03T23:00:00Z"),
        merged(4, "2026-10-02T09:00:00Z", { baseBranch: "develop" }),
        merged(5, "2026-10-02T10:00:00Z"),
      ],
    });
    await recordAudit(ledger, "2026-10-03T18:00:00Z", "2026-10-08T00:00:00Z", {
      changeRequests: [merged(1, "2026-10-03T23:00:00Z"), merged(6, "2026-10-06T12:00:00Z")],
    });
    await recordMergeJudgement(ledger, merged(1, "2026-10-03T23:00:00Z"), "2026-10-03T23:40:00Z");
    await recordMergeJudgement(ledger, merged(6, "2026-10-06T12:00:00Z"), "2026-10-06T12:05:00Z");
    // a merge only the app recorded (no audit since it)
    await recordMergeJudgement(ledger, merged(8, "2026-10-07T22:00:00Z"), "2026-10-07T23:00:00Z");

    const report = await coverageFromLedger(ledger, { since: SINCE, until: UNTIL, judgedWithinMinutes: 15 });
    // #4 went into a branch that is not a production branch: not a merge the controls cover
    expect(report.merges.total).toBe(4);
    expect(report.merges.inTime).toBe(1);
    expect(report.merges.late.map((m) => [m.number, m.branch, m.minutes, m.seenIn])).toEqual([
      [5, "main", null, ["audit:github/acme record 1"]],
      [1, "main", 40, ["audit:github/acme record 1", "audit:github/acme record 2", "judgement"]],
      [8, "main", 60, ["judgement"]],
    ]);
    // each branch-day is counted from the judgements made that day
    const by = report.branches[0]!.segments.flatMap((s) => s.by);
    expect(by.filter((b) => b.endsWith("judgements") || b.endsWith("judgement"))).toEqual(["3 judgements"]);
  });

  it("names the collection error and the missing permission of a repository the audit could not collect", async () => {
    const { ledger } = await fresh();
    const web = makeRepository({ fullName: "acme/web", url: "https://github.com/acme/web" });
    await recordAudit(ledger, "2026-10-01T00:00:00Z", "2026-10-04T00:00:00Z", {
      repositories: [makeRepository(), web],
    });
    await recordAudit(ledger, "2026-10-04T00:00:00Z", "2026-10-08T00:00:00Z", {
      repositories: [
        makeRepository(),
        uncollectedRepository(
          "acme/web",
          "https://github.com/acme/web",
          { permission: "metadata: read", reason: "403 Resource not accessible by integration" },
          "Resource not accessible by integration",
        ),
      ],
    });
    const report = await coverageFromLedger(ledger, { since: SINCE, until: UNTIL, judgedWithinMinutes: 15 });
    const api = report.branches.find((b) => b.repository === "acme/api")!;
    expect(api.gapDays).toBe(0);
    const webMain = report.branches.find((b) => b.repository === "acme/web")!;
    expect(webMain.branch).toBe("main");
    expect(webMain.observedDays).toBe(3);
    const [gap] = webMain.segments.filter((s) => !s.observed);
    expect(gap).toMatchObject({ from: "2026-10-04", to: "2026-10-07", days: 4 });
    expect(gap!.cause).toContain("repository not collected by audit:github/acme record 2");
    expect(gap!.cause).toContain("Resource not accessible by integration");
    expect(gap!.cause).toContain("missing permission: metadata: read");
  });

  it("soc2-bot coverage: exit 0 when fully covered, 1 with a gap, 2 on bad input", async () => {
    const { ledger, options } = await fresh();
    await recordAudit(ledger, "2026-10-01T00:00:00Z", "2026-10-08T00:00:00Z", {
      changeRequests: [merged(7, "2026-10-03T09:00:00Z")],
    });
    await recordMergeJudgement(ledger, merged(7, "2026-10-03T09:00:00Z"), "2026-10-03T09:02:30Z");
    await ledger.close();
    const env = { ...process.env };
    const withLedger = async (args: string[]) => {
      const io = memoryIo();
      // the command opens the ledger by --ledger DIR (PGlite) or DATABASE_URL + schema (PostgreSQL)
      if (options.databaseUrl) {
        process.env.DATABASE_URL = options.databaseUrl;
        process.env.SOC2_LEDGER_SCHEMA = options.schema;
      }
      try {
        const code = await main(["coverage", ...args, ...(options.dir ? ["--ledger", options.dir] : [])], io);
        return { code, ...io };
      } finally {
        process.env.DATABASE_URL = env.DATABASE_URL;
        process.env.SOC2_LEDGER_SCHEMA = env.SOC2_LEDGER_SCHEMA;
        if (env.DATABASE_URL === undefined) delete process.env.DATABASE_URL;
        if (env.SOC2_LEDGER_SCHEMA === undefined) delete process.env.SOC2_LEDGER_SCHEMA;
      }
    };
    const out = await mkdtemp(join(tmpdir(), "soc2-coverage-"));
    const full = await withLedger(["--since", "2026-10-01", "--until", "2026-10-08", "--out", out]);
    expect(full.err).not.toContain("soc2-bot:");
    expect(full.code).toBe(0);
    expect(full.out).toContain("**Fully covered**");
    expect(full.out).toContain("1 of 1 merges of the period were judged by the app within 15 minutes");
    expect(await readFile(join(out, "coverage.csv"), "utf8")).toContain("observed");

    // the package recordAuditRun wrote (as the app's scheduled audit records one) carries its coverage
    const exported = await mkdtemp(join(tmpdir(), "soc2-coverage-export-"));
    const reopened = openLedger(options);
    opened.push(reopened);
    const [run] = (
      await exportPeriod(reopened, { since: SINCE, until: UNTIL, outDir: exported, packages: true })
    ).runs;
    await reopened.close();
    const packaged = await readFile(
      join(exported, run!.files.find((f) => f.name === "coverage.md")!.path!),
      "utf8",
    );
    expect(packaged).not.toContain("Coverage needs the ledger");
    expect(packaged).toContain("| `github:acme/api` | `main` | 7 | 0 |");

    // one day more than the audit covered: that day is a gap
    const longer = await withLedger(["--since", "2026-10-01", "--until", "2026-10-09", "--format", "csv"]);
    expect(longer.code).toBe(1);
    const rows = parseCsv(longer.out);
    expect(rows).toContainEqual([
      "days",
      "github",
      "acme/api",
      "main",
      "2026-10-08",
      "2026-10-08",
      "1",
      "gap",
      "no record — app down or not installed",
      "",
    ]);

    // a stricter policy: the merge judged after 2.5 minutes is late against 2
    const policyDir = await mkdtemp(join(tmpdir(), "soc2-coverage-policy-"));
    const strict = join(policyDir, "soc2.yml");
    await writeFile(strict, "version: 1\nledger:\n  judged_within_minutes: 2\n", "utf8");
    const late = await withLedger([
      "--since",
      "2026-10-01",
      "--until",
      "2026-10-08",
      "--policy",
      strict,
      "--format",
      "json",
    ]);
    expect(late.code).toBe(1);
    const json = JSON.parse(late.out) as { merges: { late: { number: number; minutes: number }[] } };
    expect(json.merges.late).toEqual([expect.objectContaining({ number: 7, minutes: 2.5 })]);

    expect((await withLedger(["--since", "2026-10-08", "--until", "2026-10-01"])).code).toBe(2);
    expect(
      (await withLedger(["--since", "2026-10-01", "--until", "2026-10-08", "--format", "xml"])).code,
    ).toBe(2);
    expect((await withLedger(["--until", "2026-10-08"])).code).toBe(2);
    await writeFile(strict, "version: 1\nledger:\n  judged_within_minutes: 0\n", "utf8");
    const badPolicy = await withLedger([
      "--since",
      "2026-10-01",
      "--until",
      "2026-10-08",
      "--policy",
      strict,
    ]);
    expect(badPolicy.code).toBe(2);
    expect(badPolicy.err).toContain("judged_within_minutes");
  });

  it("escapes hostile repository and branch names in the Markdown, CSV and HTML", async () => {
    const { ledger } = await fresh();
    const repository = '=HYPERLINK("http://evil")|x';
    const branch = '<img src=x onerror=alert(1)>|`@team`,"x"';
    await recordAudit(ledger, "2026-10-01T00:00:00Z", "2026-10-03T00:00:00Z", {
      repositories: [
        makeRepository({ fullName: repository, productionBranches: [branch], defaultBranch: branch }),
      ],
    });
    const report = await coverageFromLedger(ledger, { since: SINCE, until: UNTIL, judgedWithinMinutes: 15 });
    expect(report.branches.map((b) => [b.repository, b.branch, b.gapDays])).toEqual([
      [repository, branch, 5],
    ]);

    const csv = parseCsv(renderCoverageCsv(report));
    // every row has the header's columns: no name broke out of its cell
    expect(new Set(csv.map((row) => row.length))).toEqual(new Set([10]));
    expect(csv[1]!.slice(2, 4)).toEqual([`'${repository}`, branch]);

    const md = renderCoverageMarkdown(report);
    const rows = md.split("\n").filter((l) => l.includes("HYPERLINK"));
    expect(rows).toHaveLength(2); // the branch's line and its gap's
    for (const line of rows) {
      // a table row keeps its columns: every "|" inside a name is escaped
      expect(line.replace(/\\\|/g, "").split("|").length - 2).toBe(4);
    }
    // in a code span (HTML is not read there), its backticks unable to close the span
    expect(md).toContain('| `<img src=x onerror=alert(1)>\\|ˋ@teamˋ,"x"` |');

    const html = coverageHtmlSection(report);
    expect(html).not.toContain("<img");
    expect(html).toContain("&#60;img src=x onerror=alert(1)&#62;");
  });
});
