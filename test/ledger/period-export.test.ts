/**
 * The period export on both backends: from a ledger holding daily observations, webhook-sourced
 * changes (event, delivery and sender taken from GitHub's documented webhook examples), the app's
 * merge judgements and an audit run, `export` writes the configuration timeline (who weakened main's
 * protection and when, who restored it, and exactly the merges that landed in between with their
 * verdicts as judged then), access snapshots at the quarter's end and the period's end (a member
 * added before the quarter's end and not one added after; a repository not yet observed said so),
 * coverage, and a manifest with every file's SHA-256. Hostile logins are escaped in Markdown and CSV.
 */
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { Result } from "../../src/controls/types.js";
import { evaluate } from "../../src/engine/index.js";
import {
  EXPORT_MANIFEST,
  accessFileName,
  accessPoints,
  exportPeriod,
  openLedger,
  recordObservation,
  organizationFacts,
  repositoryFacts,
  type ExportSummary,
  type Ledger,
  type LedgerOptions,
  type ObservationSource,
} from "../../src/ledger/index.js";
import {
  unprotectedBranchRule,
  type BranchRule,
  type ChangeRequest,
  type Organization,
  type Repository,
} from "../../src/model/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import type { TimelineSubject } from "../../src/reporters/files/timeline.js";
import type { AccessSubjectSnapshot } from "../../src/reporters/files/access-snapshots.js";
import { parseCsv } from "../reporters/files-report-fixture.js";
import {
  cleanBranchRule,
  makeChangeRequest,
  makeOrganization,
  makeRepository,
  makeSnapshot,
} from "../fixtures/build.js";
import { BACKENDS, testBackend } from "./backends.js";
import { memoryIo } from "../fixtures/memory-io.js";

const SINCE = new Date("2026-08-01T00:00:00Z");
const UNTIL = new Date("2026-11-01T00:00:00Z");
const DAY = 86_400_000;

/** GitHub's documented webhook examples: the event, action and sender the app records as the source. */
interface WebhookExample {
  name: string;
  examples: { action?: string; sender?: { login: string } }[];
}
const EXAMPLES = createRequire(import.meta.url)(
  "@octokit/webhooks-examples/api.github.com/index.json",
) as WebhookExample[];

function webhookSource(
  event: string,
  action: string,
  deliveryId: string,
  sender?: string,
): ObservationSource {
  const example = EXAMPLES.find((e) => e.name === event)?.examples.find((x) => x.action === action);
  if (!example?.sender) throw new Error(`no documented example of ${event}.${action}`);
  // as src/app/observe.ts records it: `${event}.${action}`, the delivery id, the payload's sender
  return {
    trigger: "webhook",
    event: `${event}.${action}`,
    deliveryId,
    actor: sender ?? example.sender.login,
  };
}

/** A login a spreadsheet would run as a formula and Markdown would render (GitHub refuses such logins; a compromised host need not). */
const HOSTILE_MEMBER = '=HYPERLINK("https://evil.example")';
const HOSTILE_ACTOR = "<b>@acme/owners</b>|x";

const strongRule = cleanBranchRule({ requiredApprovals: 2 });
const weakRule = cleanBranchRule({ requiredApprovals: 1 });
const api = (rule = strongRule): Repository =>
  makeRepository({ branchRules: { known: true, value: [rule] } });
const web = (visibility: Repository["visibility"] = "private"): Repository =>
  makeRepository({ fullName: "acme/web", url: "https://github.com/acme/web", visibility });
const org = (members: { login: string; role: "owner" | "member" }[]): Organization =>
  makeOrganization({
    members: { known: true, value: members },
    membersWithoutTwoFactor: { known: true, value: ["bob"] },
    outsideCollaborators: { known: true, value: ["olga"] },
  });
const BASE_MEMBERS = [
  { login: "alice", role: "owner" as const },
  { login: "bob", role: "member" as const },
  { login: HOSTILE_MEMBER, role: "member" as const },
];

const WEAKENED_AT = "2026-09-01T10:00:00.000Z";
const RESTORED_AT = "2026-09-08T10:00:00.000Z";

let clock = new Date(SINCE);
const now = () => clock;

async function observe(
  ledger: Ledger,
  facts: Parameters<typeof recordObservation>[1]["facts"],
  at: string,
  source: ObservationSource,
) {
  clock = new Date(at);
  await recordObservation(ledger, { host: "github", facts, observedAt: new Date(at), source });
}

function merged(number: number, mergedAt: string, overrides: Partial<ChangeRequest> = {}): ChangeRequest {
  return makeChangeRequest({
    number,
    url: `https://github.com/acme/api/pull/${number}`,
    mergedAt,
    ...overrides,
  });
}

function resultsOf(changeRequest: ChangeRequest, at: string, repository = api()): Result[] {
  const snapshot = makeSnapshot({ repositories: [repository], changeRequests: [changeRequest] });
  return evaluate(snapshot, policySetFor(snapshot), new Date(at)).results.filter(
    (r) => r.subject.id === `${changeRequest.repository}#${changeRequest.number}`,
  );
}

/**
 * acme/ops: its protection removed as a daily observation found it (2026-10-03 06:00, nobody named)
 * and back at 2026-10-06 06:00; its deploy keys never readable.
 */
const UNPROTECTED_FROM = "2026-10-03T00:00:00Z";
const UNPROTECTED_UNTIL = "2026-10-06T00:00:00Z";
const ops = (rule: BranchRule): Repository =>
  makeRepository({
    fullName: "acme/ops",
    url: "https://github.com/acme/ops",
    branchRules: { known: true, value: [rule] },
    deployKeys: {
      known: false,
      permission: "administration:read",
      reason: "403 Resource not accessible by integration",
    },
  });
const opsMerged = (number: number, mergedAt: string) =>
  merged(number, mergedAt, { repository: "acme/ops", url: `https://github.com/acme/ops/pull/${number}` });
const OPS_MERGES = {
  /** before the last observation that still showed the protection: not in the window */
  beforePrevious: opsMerged(7, "2026-10-02T05:00:00Z"),
  /** after that observation, before the one that found the protection gone: in the window */
  unseen: opsMerged(8, "2026-10-02T20:00:00Z"),
  inside: opsMerged(9, "2026-10-04T12:00:00Z"),
  /** after the observation that found it back: not in the window */
  after: opsMerged(10, "2026-10-06T07:00:00Z"),
};

/** The merges of the test: #2 lands in the weakened week (judged by the app, and in the audit), #4 too (only in the audit). */
const MERGES = {
  before: merged(1, "2026-08-20T12:00:00Z"),
  inside: merged(2, "2026-09-03T12:00:00Z", { reviews: [] }),
  after: merged(3, "2026-09-10T12:00:00Z"),
  insideAuditOnly: merged(4, "2026-09-05T12:00:00Z"),
  otherBranch: merged(5, "2026-09-04T12:00:00Z", { baseBranch: "feature/x" }),
};

async function populate(ledger: Ledger): Promise<void> {
  // daily scheduled observations of the organization and acme/api; webhooks change things in between
  for (let day = SINCE.getTime() + 6 * 3_600_000; day < UNTIL.getTime(); day += DAY) {
    const at = new Date(day).toISOString();
    const schedule: ObservationSource = { trigger: "schedule" };
    const members = [
      ...BASE_MEMBERS,
      ...(at > "2026-09-20T12:00:00Z" ? [{ login: "carol", role: "member" as const }] : []),
      ...(at > "2026-10-10T12:00:00Z" ? [{ login: "dave", role: "member" as const }] : []),
    ];
    await observe(ledger, organizationFacts(org(members)), at, schedule);
    const weak = at > WEAKENED_AT && at < RESTORED_AT;
    await observe(ledger, repositoryFacts(api(weak ? weakRule : strongRule)), at, schedule);
    const unprotected = at > UNPROTECTED_FROM && at < UNPROTECTED_UNTIL;
    await observe(
      ledger,
      repositoryFacts(ops(unprotected ? unprotectedBranchRule("main") : strongRule)),
      at,
      schedule,
    );
    // acme/web is first observed after the quarter's end
    if (at > "2026-10-05T00:00:00Z") {
      await observe(
        ledger,
        repositoryFacts(web(at > "2026-10-20T09:00:00Z" ? "public" : "private")),
        at,
        schedule,
      );
    }
    if (at.startsWith("2026-09-01")) {
      await observe(
        ledger,
        repositoryFacts(api(weakRule)),
        WEAKENED_AT,
        webhookSource("branch_protection_rule", "edited", "d-weaken"),
      );
    }
    if (at.startsWith("2026-09-08")) {
      await observe(
        ledger,
        repositoryFacts(api(strongRule)),
        RESTORED_AT,
        webhookSource("branch_protection_rule", "edited", "d-restore", HOSTILE_ACTOR),
      );
    }
    // a member webhook's observation of acme/db finds main's rule weakened: the event did not make that change
    const db = (rule: BranchRule) =>
      makeRepository({
        fullName: "acme/db",
        url: "https://github.com/acme/db",
        branchRules: { known: true, value: [rule] },
      });
    await observe(ledger, repositoryFacts(db(strongRule)), at, schedule);
    if (at.startsWith("2026-10-12")) {
      await observe(
        ledger,
        repositoryFacts(db(weakRule)),
        "2026-10-12T15:00:00.000Z",
        webhookSource("member", "added", "d-member"),
      );
    }
    if (at.startsWith("2026-09-20")) {
      await observe(
        ledger,
        organizationFacts(org([...BASE_MEMBERS, { login: "carol", role: "member" }])),
        "2026-09-20T12:00:00.000Z",
        webhookSource("organization", "member_added", "d-carol"),
      );
    }
    if (at.startsWith("2026-10-20")) {
      await observe(
        ledger,
        repositoryFacts(web("public")),
        "2026-10-20T09:00:00.000Z",
        webhookSource("repository", "publicized", "d-public"),
      );
    }
  }
  // the app's judgements of merges, as it records them minutes after each merge
  const judgements = [
    ...[MERGES.before, MERGES.inside, MERGES.after, MERGES.otherBranch].map((cr) => [cr, api()] as const),
    ...Object.values(OPS_MERGES).map((cr) => [cr, ops(strongRule)] as const),
  ].sort(([a], [b]) => Date.parse(a.mergedAt!) - Date.parse(b.mergedAt!));
  for (const [changeRequest, repository] of judgements) {
    const judgedAt = new Date(Date.parse(changeRequest.mergedAt!) + 2 * 60_000).toISOString();
    clock = new Date(judgedAt);
    await ledger.recordJudgement({
      trigger: "merge",
      host: "github",
      outcome: { changeRequest, policy: null, results: resultsOf(changeRequest, judgedAt, repository) },
      judgedAt: new Date(judgedAt),
    });
  }
  // an audit run of the whole period, recorded with its package
  const snapshot = makeSnapshot({
    period: { since: SINCE.toISOString(), until: UNTIL.toISOString() },
    collectedAt: UNTIL.toISOString(),
    organization: org(BASE_MEMBERS),
    repositories: [api()],
    changeRequests: [MERGES.before, MERGES.inside, MERGES.insideAuditOnly, MERGES.after],
  });
  clock = new Date(UNTIL);
  await ledger.recordAuditRun({
    trigger: "cli",
    organization: "acme",
    snapshot,
    report: evaluate(snapshot, policySetFor(snapshot), UNTIL),
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(relative(dir, join(entry.parentPath, entry.name)));
  }
  return out.sort();
}

describe.each(BACKENDS)("period export on %s", (name) => {
  const backend = testBackend(name);
  let options: LedgerOptions;
  let ledger: Ledger;
  let out: string;
  let summary: ExportSummary;
  const read = (file: string) => readFile(join(out, file), "utf8");

  beforeAll(async () => {
    options = await backend.fresh();
    ledger = openLedger({ ...options, now });
    await populate(ledger);
    out = join(await mkdtemp(join(tmpdir(), "soc2-period-export-")), "export");
    summary = await exportPeriod(ledger, { since: SINCE, until: UNTIL, outDir: out, packages: true });
  }, 120_000);
  afterAll(async () => {
    await ledger?.close();
    await backend.stop();
  });

  it("names who weakened main's protection and when, who restored it, and the merges that landed in between", async () => {
    const timeline = JSON.parse(await read("configuration-timeline.json")) as { subjects: TimelineSubject[] };
    const subject = timeline.subjects.find((s) => s.subject === "acme/api");
    expect(subject?.windows).toHaveLength(1);
    const window = subject!.windows[0]!;
    expect(window).toMatchObject({
      aspect: "acme/api:branch:main",
      kind: "protection-weakened",
      details: ["required approvals lowered from 2 to 1"],
      weakened: {
        observedAt: WEAKENED_AT,
        source: {
          trigger: "webhook",
          event: "branch_protection_rule.edited",
          deliveryId: "d-weaken",
          actor: "Codertocat",
        },
      },
      weakenedBy: "Codertocat",
      restored: { observedAt: RESTORED_AT, source: { deliveryId: "d-restore", actor: HOSTILE_ACTOR } },
      restoredBy: HOSTILE_ACTOR,
      branches: ["main"],
    });
    // exactly the merges into main inside the window: not #1 (before), #3 (after) or #5 (another branch)
    expect(window.merges.map((m) => m.number)).toEqual([2, 4]);
    const [inside, auditOnly] = window.merges;
    // #2 once, with the app's verdict at merge time (it had no approval: failed)
    expect(inside?.verdicts.map((v) => [v.by, v.outcome])).toEqual([
      [expect.stringMatching(/^app judgement \(judgement:github\/acme\/api record \d+\)$/), "fail"],
    ]);
    expect(inside?.recordedIn).toEqual(["app judgements (judgement:github/acme/api)"]);
    expect(inside?.verdicts[0]?.notPassing).toContainEqual(
      expect.objectContaining({ control: "cc8.independent-approval", outcome: "fail" }),
    );
    // #4 the app never judged: the audit's verdict, read from its results.json
    const run = summary.runs[0]!;
    const audited = JSON.parse(await read(join(run.directory!, "results.json"))) as { results: Result[] };
    const four = audited.results.filter((r) => r.subject.id === "acme/api#4");
    expect(four.length).toBeGreaterThan(0);
    const worst = ["fail", "unknown", "excepted", "pass", "not-applicable"].find((o) =>
      four.some((r) => r.outcome === o),
    );
    expect(auditOnly?.verdicts.map((v) => [v.by, v.outcome])).toEqual([
      ["audit:github/acme record 1", worst],
    ]);
    expect(auditOnly?.verdicts[0]?.notPassing).toEqual(
      four
        .filter((r) => r.outcome !== "pass" && r.outcome !== "not-applicable")
        .map((r) => ({ control: r.control, outcome: r.outcome, reason: r.reason })),
    );
    expect(Object.values(auditOnly?.verdicts[0]?.counts ?? {}).reduce((a, b) => a + b, 0)).toBe(four.length);

    // the change itself, with the value before and after and its source
    const change = subject!.changes.find((c) => c.observedAt === WEAKENED_AT);
    expect(change?.changes).toEqual([
      { path: ["branchRules", "value", "main", "requiredApprovals"], before: 2, after: 1 },
    ]);
    // the first observation, then the two changes: the daily observations that saw nothing new are not changes
    expect(subject!.changes.map((c) => [c.observedAt, c.first])).toEqual([
      ["2026-08-01T06:00:00.000Z", true],
      [WEAKENED_AT, false],
      [RESTORED_AT, false],
    ]);

    const md = await read("configuration-timeline.md");
    expect(md).toContain(
      "- Weakened: 2026-09-01T10:00:00.000Z, by Codertocat; observed by webhook branch\\_protection\\_rule\\.edited, delivery d\\-weaken, sent by Codertocat",
    );
    expect(md).toContain("required approvals lowered from 2 to 1");
    expect(md).toContain("`acme/api#2`");
    expect(md).toContain("`acme/api#4`");
    expect(md).not.toMatch(/`acme\/api#[135]`/);
  });

  it("says a weakening still in force at the end of the period, found by its webhook, with no merge into it", async () => {
    const timeline = JSON.parse(await read("configuration-timeline.json")) as { subjects: TimelineSubject[] };
    const window = timeline.subjects.find((s) => s.subject === "acme/web")?.windows[0];
    expect(window).toMatchObject({
      kind: "made-public",
      aspect: "acme/web:visibility",
      restored: null,
      weakened: { source: { event: "repository.publicized", actor: "Codertocat" } },
      merges: [],
    });
    // what shows it: the last observation before the period's end, named
    expect(window?.stillWeakenedAtEnd).toBe(true);
    expect(window?.note).toContain(
      "Still weakened at the end of the period (the last observation before its end: 2026-10-31T06:00:00.000Z)",
    );
    expect(await read("configuration-timeline.md")).toContain("still weakened at the end of the period");
    const rows = parseCsv(await read("configuration-timeline.csv"));
    expect(rows).toContainEqual(
      expect.arrayContaining(["weakening", "github", "acme/web", "still weakened at the end of the period"]),
    );
  });

  it("lists the merges since the observation before a weakening a daily observation found, naming nobody", async () => {
    const timeline = JSON.parse(await read("configuration-timeline.json")) as { subjects: TimelineSubject[] };
    const window = timeline.subjects.find((s) => s.subject === "acme/ops")?.windows[0];
    expect(window).toMatchObject({
      aspect: "acme/ops:branch:main",
      kind: "protection-removed",
      weakened: { observedAt: "2026-10-03T06:00:00.000Z", source: { trigger: "schedule", actor: null } },
      weakenedBy: null,
      restoredBy: null,
      restored: { observedAt: "2026-10-06T06:00:00.000Z", source: { trigger: "schedule", actor: null } },
    });
    expect(window?.note).toContain("made after the observation before it (2026-10-02T06:00:00.000Z)");
    // #8 merged after the last observation that showed the protection, before the one that found it gone
    expect(window?.merges.map((m) => m.number)).toEqual([8, 9]);
    expect(await read("configuration-timeline.md")).toContain(
      "who is not known from the ledger \\(the host's audit log names who\\); observed by daily observation \\(scheduled audit\\), names nobody",
    );
  });

  it("names the sender of a webhook whose event could not have made the weakening only as its sender", async () => {
    const timeline = JSON.parse(await read("configuration-timeline.json")) as { subjects: TimelineSubject[] };
    const window = timeline.subjects.find((s) => s.subject === "acme/db")?.windows[0];
    expect(window).toMatchObject({
      aspect: "acme/db:branch:main",
      weakened: {
        observedAt: "2026-10-12T15:00:00.000Z",
        source: { event: "member.added", actor: "hacktocat" },
      },
      weakenedBy: null,
      restored: { observedAt: "2026-10-13T06:00:00.000Z" },
    });
    expect(await read("configuration-timeline.md")).toContain(
      "- Weakened: 2026-10-12T15:00:00.000Z, who is not known from the ledger \\(the host's audit log names who\\); observed by webhook member\\.added, delivery d\\-member, sent by hacktocat",
    );
  });

  it("lists a list the collector could not read as unreadable with the permission, not as empty", async () => {
    const end = JSON.parse(await read("access-2026-10-31.json")) as { subjects: AccessSubjectSnapshot[] };
    const keys = end.subjects
      .find((s) => s.subject === "acme/ops")
      ?.rows.filter((r) => r.access === "deploy-key");
    expect(keys).toEqual([
      {
        access: "deploy-key",
        name: "",
        role: "",
        detail:
          "unreadable when observed: 403 Resource not accessible by integration (needs administration:read)",
      },
    ]);
  });

  it("lists access at the quarter's end with the member added before it and not the one added after, and at the period's end", async () => {
    expect(summary.period.points.map((p) => [p.label, p.reasons])).toEqual([
      ["2026-09-30", ["quarter end"]],
      ["2026-10-31", ["end of the period"]],
    ]);
    const quarter = JSON.parse(await read("access-2026-09-30.json")) as { subjects: AccessSubjectSnapshot[] };
    const acme = quarter.subjects.find((s) => s.subject === "acme");
    const members = acme?.rows.filter((r) => r.access === "member").map((r) => r.name);
    expect(members).toEqual(["alice", "bob", "carol", HOSTILE_MEMBER].sort());
    expect(acme?.rows.find((r) => r.name === "bob")).toMatchObject({ role: "member", twoFactor: false });
    expect(acme?.rows.find((r) => r.name === "alice")).toMatchObject({ role: "owner", twoFactor: true });
    expect(acme?.rows).toContainEqual(
      expect.objectContaining({ access: "outside-collaborator", name: "olga" }),
    );
    // from the last observation before the end of 2026-09-30: that day's 06:00 daily one, 18 hours old
    expect(acme?.observation).toMatchObject({ observedAt: "2026-09-30T06:00:00.000Z", age: "18 hours" });
    const repository = quarter.subjects.find((s) => s.subject === "acme/api");
    expect(repository?.rows).toContainEqual(
      expect.objectContaining({ access: "collaborator", name: "alice", role: "admin" }),
    );
    expect(repository?.rows).toContainEqual(expect.objectContaining({ access: "admin", name: "alice" }));

    const end = JSON.parse(await read("access-2026-10-31.json")) as { subjects: AccessSubjectSnapshot[] };
    expect(
      end.subjects
        .find((s) => s.subject === "acme")
        ?.rows.filter((r) => r.access === "member")
        .map((r) => r.name),
    ).toContain("dave");

    const csv = parseCsv(await read("access-2026-09-30.csv"));
    const header = csv[0]!;
    const name = header.indexOf("name");
    expect(csv.some((row) => row[name] === "dave")).toBe(false);
    expect(csv.some((row) => row[name] === "carol")).toBe(true);
  });

  it("lists a subject not observed before a point as not observed, never as an empty list", async () => {
    const quarter = JSON.parse(await read("access-2026-09-30.json")) as { subjects: AccessSubjectSnapshot[] };
    expect(quarter.subjects.find((s) => s.subject === "acme/web")).toMatchObject({
      kind: "not observed",
      observation: null,
      rows: [
        {
          access: "not observed",
          detail:
            "the ledger holds no observation of this subject before 2026-10-01T00:00:00.000Z: its access then is not known",
        },
      ],
    });
    const csv = parseCsv(await read("access-2026-09-30.csv"));
    const header = csv[0]!;
    expect(
      csv
        .filter((row) => row[header.indexOf("subject")] === "acme/web")
        .map((r) => r[header.indexOf("access")]),
    ).toEqual(["not observed"]);
    const end = JSON.parse(await read("access-2026-10-31.json")) as { subjects: AccessSubjectSnapshot[] };
    expect(end.subjects.find((s) => s.subject === "acme/web")?.kind).toBe("repository");
  });

  it("escapes hostile logins in the Markdown and the CSV", async () => {
    const md = await read("configuration-timeline.md");
    expect(md).not.toContain("<b>");
    expect(md).not.toContain("@acme/owners");
    expect(md).toContain("&lt;b&gt;@\u200Bacme/owners&lt;/b&gt;\\|x");
    const access = await read("access-2026-09-30.csv");
    // a cell a spreadsheet would run as a formula is prefixed with a quote
    expect(access).toContain(`"'=HYPERLINK(""https://evil.example"")"`);
    expect(access).not.toMatch(/(^|,)=HYPERLINK/m);
    const rows = parseCsv(access);
    expect(rows.some((row) => row.includes(`'${HOSTILE_MEMBER}`))).toBe(true);
  });

  it("writes coverage for the period and lists every file in the manifest with its SHA-256", async () => {
    expect(await read("coverage.md")).toMatch(/^# Coverage/);
    const coverage = JSON.parse(await read("coverage.json")) as { since: string; until: string };
    expect(coverage).toMatchObject({ since: SINCE.toISOString(), until: UNTIL.toISOString() });
    const manifest = JSON.parse(await read(EXPORT_MANIFEST)) as {
      runs: { files: { path: string; sha256: string; bytes: number }[] }[];
      files: { path: string; sha256: string; bytes: number }[];
    };
    const listed = [...manifest.runs.flatMap((r) => r.files), ...manifest.files];
    expect(listed.map((f) => f.path).sort()).toEqual(
      (await filesUnder(out)).filter((f) => f !== EXPORT_MANIFEST),
    );
    for (const file of listed) {
      const bytes = await readFile(join(out, file.path));
      expect(createHash("sha256").update(bytes).digest("hex"), file.path).toBe(file.sha256);
      expect(bytes.length, file.path).toBe(file.bytes);
    }
    expect(manifest.files.map((f) => f.path).sort()).toEqual([
      "access-2026-09-30.csv",
      "access-2026-09-30.json",
      "access-2026-10-31.csv",
      "access-2026-10-31.json",
      "access-reviews.csv",
      "access-reviews.json",
      "configuration-timeline.csv",
      "configuration-timeline.json",
      "configuration-timeline.md",
      "coverage.csv",
      "coverage.json",
      "coverage.md",
      "population.csv",
      "population.json",
      "runs.csv",
      "runs.json",
    ]);
  });

  it("soc2-bot export takes the access points from --policy (month-ends)", async () => {
    // the CLI opens its own connection: PGlite serves one process, so this ledger lets go first
    await ledger.close();
    const policy = join(await mkdtemp(join(tmpdir(), "soc2-period-policy-")), "soc2.yml");
    await writeFile(policy, "version: 1\nledger:\n  access_snapshots: month-ends\n", "utf8");
    const target = join(await mkdtemp(join(tmpdir(), "soc2-period-export-")), "export");
    const env = { url: process.env.DATABASE_URL, schema: process.env.SOC2_LEDGER_SCHEMA };
    if (options.databaseUrl) process.env.DATABASE_URL = options.databaseUrl;
    if (options.schema) process.env.SOC2_LEDGER_SCHEMA = options.schema;
    try {
      const io = memoryIo();
      const code = await main(
        [
          "export",
          ...(options.dir ? ["--ledger", options.dir] : []),
          "--since",
          "2026-08-01",
          "--until",
          "2026-11-01",
          "--out",
          target,
          "--policy",
          policy,
        ],
        io,
      );
      expect(io.err).toBe("");
      expect(code).toBe(0);
      expect(io.out).toContain("4 weakening windows");
      expect((await readdir(target)).filter((f) => /^access-\d/.test(f)).sort()).toEqual([
        "access-2026-08-31.csv",
        "access-2026-08-31.json",
        "access-2026-09-30.csv",
        "access-2026-09-30.json",
        "access-2026-10-31.csv",
        "access-2026-10-31.json",
      ]);
    } finally {
      if (env.url === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = env.url;
      if (env.schema === undefined) delete process.env.SOC2_LEDGER_SCHEMA;
      else process.env.SOC2_LEDGER_SCHEMA = env.schema;
    }
  });
});

describe.each(BACKENDS)("period export of a stream never recorded whole on %s", (name) => {
  const backend = testBackend(name);
  let ledger: Ledger;
  afterAll(async () => {
    await ledger?.close();
    await backend.stop();
  });

  it("says its subject's facts are not known, in the access snapshot and among the problems", async () => {
    ledger = openLedger({ ...(await backend.fresh()), now });
    clock = new Date("2026-08-02T06:00:00Z");
    // a writer that appended "unchanged" to a stream it never observed whole: the chain itself is intact
    await ledger.append("observation:github/acme/lost", "observation", {
      host: "github",
      observedAt: "2026-08-02T06:00:00.000Z",
      source: { trigger: "schedule" },
      subject: "acme/lost",
      unchangedSince: 1,
    });
    const out = join(await mkdtemp(join(tmpdir(), "soc2-period-export-")), "export");
    const exported = await exportPeriod(ledger, { since: SINCE, until: UNTIL, outDir: out });
    expect(exported.period.timeline.problems).toEqual([
      "observation:github/acme/lost: it holds no observation recorded whole, so its facts are not known",
    ]);
    const end = JSON.parse(await readFile(join(out, "access-2026-10-31.json"), "utf8")) as {
      subjects: AccessSubjectSnapshot[];
    };
    expect(end.subjects).toEqual([
      expect.objectContaining({
        subject: "acme/lost",
        kind: "not observed",
        rows: [
          expect.objectContaining({
            access: "not observed",
            detail: expect.stringContaining("no observation recorded whole") as string,
          }),
        ],
      }),
    ]);
  });
});

describe("access snapshot points", () => {
  const since = new Date("2026-01-01T00:00:00Z");
  const until = new Date("2027-01-01T00:00:00Z");

  it("takes each quarter's last day, and the period's end once when it is one", () => {
    const { points } = accessPoints(since, until, "quarter-ends");
    expect(points.map((p) => [p.label, p.at, p.reasons])).toEqual([
      ["2026-03-31", "2026-04-01T00:00:00.000Z", ["quarter end"]],
      ["2026-06-30", "2026-07-01T00:00:00.000Z", ["quarter end"]],
      ["2026-09-30", "2026-10-01T00:00:00.000Z", ["quarter end"]],
      ["2026-12-31", "2027-01-01T00:00:00.000Z", ["quarter end", "end of the period"]],
    ]);
    expect(accessPoints(since, until, "month-ends").points).toHaveLength(12);
  });

  it("takes the policy's days inside the period, says which fall outside, and ends a period that ends mid-day at its end", () => {
    const { points, outside } = accessPoints(since, new Date("2026-08-15T12:00:00Z"), [
      "2026-02-14",
      "2025-12-31",
      "2026-09-30",
    ]);
    expect(points.map((p) => [p.label, p.reasons])).toEqual([
      ["2026-02-14", ["named in the policy"]],
      ["2026-08-15T12:00:00.000Z", ["end of the period"]],
    ]);
    expect(outside).toEqual(["2025-12-31", "2026-09-30"]);
    expect(accessFileName(points[1]!, "csv")).toBe("access-2026-08-15T12-00-00.000Z.csv");
  });
});
