/**
 * Configuration observations in the ledger: one stream per subject, the first observation whole and
 * later ones as changes (or "unchanged since"), unreadable facts kept as unreadable, the rule in force
 * at a time from the nearest earlier observation, and merges judged against the rule in force when
 * they merged (protection weakened for a week).
 */
import { afterAll, describe, expect, it } from "vitest";
import { openLedger, type Ledger } from "../../src/ledger/index.js";
import {
  OBSERVATION,
  recordObservation,
  recordSnapshotObservations,
  repositoryFacts,
  organizationFacts,
  ruleAsOf,
  type ObservationContent,
} from "../../src/ledger/observations.js";
import { changeAsOfMerge, evaluateAsOfMerge, RULE_AS_OF_MERGE } from "../../src/ledger/timeline.js";
import { evaluate } from "../../src/engine/index.js";
import { policyOf } from "../../src/pipeline/policies.js";
import type { Result } from "../../src/controls/types.js";
import type { Repository } from "../../src/model/index.js";
import {
  cleanBranchRule,
  makeChangeRequest,
  makeOrganization,
  makeRepository,
  makeSnapshot,
} from "../fixtures/build.js";
import { BACKENDS, testBackend } from "./backends.js";

const DAY = 86_400_000;
const START = Date.parse("2026-10-01T06:00:00Z");
const day = (n: number) => new Date(START + n * DAY);

const strong = makeRepository();
/** The week protection was weakened: no required status check, and admins may bypass. */
const weak = makeRepository({
  branchRules: {
    known: true,
    value: [cleanBranchRule({ requiredStatusChecks: [], enforceAdmins: false, bypassActors: ["alice"] })],
  },
});

async function contents(ledger: Ledger, stream: string): Promise<ObservationContent[]> {
  const out: ObservationContent[] = [];
  for await (const record of ledger.records(stream)) {
    expect(record.kind).toBe(OBSERVATION);
    out.push(JSON.parse(record.content) as ObservationContent);
  }
  return out;
}

/** Daily observations of acme/api from day 0 to day 19, weakened on days 4 to 10. */
async function observeWeakWeek(ledger: Ledger) {
  for (let n = 0; n < 20; n += 1) {
    await recordObservation(ledger, {
      host: "github",
      facts: repositoryFacts(n >= 4 && n <= 10 ? weak : strong),
      observedAt: day(n),
      source: { trigger: "schedule" },
    });
  }
}

describe.each(BACKENDS)("configuration observations on %s", (name) => {
  const backend = testBackend(name);
  const opened: Ledger[] = [];
  const fresh = async () => {
    const ledger = openLedger({ ...(await backend.fresh()), now: () => new Date("2026-11-01T00:00:00Z") });
    opened.push(ledger);
    return ledger;
  };
  afterAll(async () => {
    for (const ledger of opened) await ledger.close();
    await backend.stop();
  });

  it("records the first observation whole, then only what changed, and one record per observation", async () => {
    const ledger = await fresh();
    await observeWeakWeek(ledger);
    const recorded = await contents(ledger, "observation:github/acme/api");
    expect(recorded).toHaveLength(20);
    expect(recorded[0]?.whole).toEqual(JSON.parse(JSON.stringify(repositoryFacts(strong))));
    expect(recorded[1]).toMatchObject({ unchangedSince: 1, observedAt: day(1).toISOString() });
    expect(recorded[1]?.whole).toBeUndefined();
    // day 4: the weakening, as the changed fields of main's rule only
    expect(recorded[4]?.changes).toEqual([
      { path: ["branchRules", "value", "main", "bypassActors"], value: ["alice"] },
      { path: ["branchRules", "value", "main", "enforceAdmins"], value: false },
      { path: ["branchRules", "value", "main", "requiredStatusChecks"], value: [] },
    ]);
    expect(recorded[5]).toMatchObject({ unchangedSince: 5 });
    expect(recorded[11]?.changes).toHaveLength(3);
    expect(recorded[19]).toMatchObject({ unchangedSince: 12 });
    expect((await ledger.verify()).breaks).toEqual([]);
  });

  it("keeps a fact it could not read as unreadable with the permission, not as empty", async () => {
    const ledger = await fresh();
    const hidden = makeRepository({
      deployKeys: {
        known: false,
        permission: "administration:read",
        reason: "403 Resource not accessible by integration",
      },
    });
    await recordObservation(ledger, {
      host: "github",
      facts: repositoryFacts(strong),
      observedAt: day(0),
      source: { trigger: "schedule" },
    });
    await recordObservation(ledger, {
      host: "github",
      facts: repositoryFacts(hidden),
      observedAt: day(1),
      source: { trigger: "schedule" },
    });
    const [, second] = await contents(ledger, "observation:github/acme/api");
    expect(second?.changes).toEqual([
      {
        path: ["deployKeys"],
        value: {
          known: false,
          permission: "administration:read",
          reason: "403 Resource not accessible by integration",
        },
      },
    ]);
  });

  it("records an audit's organization (settings, members with role and 2FA, outside collaborators) and repository admins", async () => {
    const ledger = await fresh();
    const organization = makeOrganization({
      membersWithoutTwoFactor: { known: true, value: ["carol"] },
      outsideCollaborators: { known: true, value: ["olga"] },
    });
    const snapshot = makeSnapshot({
      organization,
      repositories: [
        makeRepository({
          teams: { known: true, value: [{ slug: "ops", permission: "admin" }] },
          deployKeys: {
            known: true,
            value: [{ id: "42", title: "deploy", readOnly: false, createdAt: null, addedBy: "alice" }],
          },
        }),
      ],
    });
    expect(await recordSnapshotObservations(ledger, snapshot, { trigger: "cli" })).toEqual([
      { subject: snapshot.organization!.login, sequence: 1, change: "whole" },
      { subject: snapshot.repositories[0]!.fullName, sequence: 1, change: "whole" },
    ]);
    const [org] = await contents(ledger, "observation:github/acme");
    expect(org?.whole).toEqual({
      kind: "organization",
      login: "acme",
      twoFactorRequired: { known: true, value: true },
      basePermission: { known: true, value: "read" },
      members: {
        known: true,
        value: {
          alice: { role: "owner", twoFactor: true },
          bob: { role: "member", twoFactor: true },
          carol: { role: "member", twoFactor: false },
        },
      },
      outsideCollaborators: { known: true, value: ["olga"] },
    });
    const [repository] = await contents(ledger, "observation:github/acme/api");
    expect(repository?.whole).toMatchObject({
      admins: { known: true, value: ["alice", "team:ops"] },
      deployKeys: { known: true, value: { "42": { title: "deploy", readOnly: false, addedBy: "alice" } } },
    });
    // 2FA unreadable (not an owner): members' 2FA is null, never "has 2FA"
    const hidden = organizationFacts(
      makeOrganization({ membersWithoutTwoFactor: { known: false, permission: "owner", reason: "403" } }),
    );
    expect(hidden.members).toMatchObject({ known: true, value: { bob: { twoFactor: null } } });
  });

  it("answers the rule in force at a time from the nearest earlier observation, with its age; null before the first", async () => {
    const ledger = await fresh();
    await observeWeakWeek(ledger);
    const during = await ruleAsOf(
      ledger,
      "github",
      "acme/api",
      "main",
      new Date(day(7).getTime() + 3 * 3_600_000),
    );
    expect(during).toMatchObject({
      sequence: 8,
      observedAt: day(7).toISOString(),
      ageMs: 3 * 3_600_000,
      rule: { known: true, value: { requiredStatusChecks: [], enforceAdmins: false } },
    });
    const after = await ruleAsOf(ledger, "github", "acme/api", "main", day(12));
    expect(after).toMatchObject({
      sequence: 13,
      ageMs: 0,
      rule: { value: { requiredStatusChecks: ["ci/test"] } },
    });
    expect(await ruleAsOf(ledger, "github", "acme/api", "main", day(-1))).toBeNull();
    expect(await ruleAsOf(ledger, "github", "acme/api", "release", day(3))).toBeNull();
    expect(await ruleAsOf(ledger, "github", "acme/web", "main", day(3))).toBeNull();
  });

  it("judges the merges of the weakened week against the weak rule, and says which observation it used", async () => {
    const ledger = await fresh();
    await observeWeakWeek(ledger);
    // No check ran on any of these merges; today main requires ci/test and admins cannot bypass.
    const merged = (number: number, at: Date) =>
      makeChangeRequest({ number, mergedAt: at.toISOString(), checks: [] });
    const snapshot = makeSnapshot({
      repositories: [strong],
      changeRequests: [
        merged(1, new Date(START - 5 * DAY)), // before the ledger's first observation
        merged(2, new Date(day(2).getTime() + 3_600_000)), // before the weakening
        merged(3, new Date(day(6).getTime() + 7_200_000)), // during
        merged(4, new Date(day(10).getTime() + 60_000)), // the week's last day
        merged(5, new Date(day(15).getTime() + 3_600_000)), // after it was restored
      ],
    });
    const policy = policyOf([]);
    const at = new Date("2026-11-01T00:00:00Z");
    const { report, rules } = await evaluateAsOfMerge(ledger, snapshot, policy, at);

    const outcome = (control: string, number: number) =>
      report.results.find((r) => r.control === control && r.subject.id === `acme/api#${number}`);
    const today = evaluate(snapshot, policy, at).results.filter((r) => r.control === "cc8.required-checks");
    // Judged by today's rule every merge fails for its missing ci/test.
    expect(today.map((r) => r.outcome)).toEqual(["fail", "fail", "fail", "fail", "fail"]);
    // Judged as of the merge: the weakened week's merges by a rule requiring no check at all.
    const ruleOf = (number: number) =>
      outcome("cc8.required-checks", number)?.evidence.find((e) => e.label === "branch rule")?.value;
    expect([1, 2, 3, 4, 5].map(ruleOf)).toEqual([
      "main requires [ci/test] (branch-protection)",
      "main requires [ci/test] (branch-protection)",
      "main requires [] (branch-protection)",
      "main requires [] (branch-protection)",
      "main requires [ci/test] (branch-protection)",
    ]);
    expect(outcome("cc8.required-checks", 3)?.reason).toBe(
      "No required checks: the change is not shown to be tested.",
    );
    expect(outcome("cc8.required-checks", 5)?.reason).toBe(today[4]?.reason);
    expect(today[2]?.reason).not.toBe(outcome("cc8.required-checks", 3)?.reason);

    // the evidence names the observation used, or that there was none
    const used = (number: number) =>
      outcome("cc8.required-checks", number)?.evidence.find((e) => e.label === RULE_AS_OF_MERGE);
    expect(used(1)?.value).toBe(
      `the ledger holds no observation of main before ${new Date(START - 5 * DAY).toISOString()}; today's rule used`,
    );
    expect(used(3)).toEqual({
      label: RULE_AS_OF_MERGE,
      value: `observed ${day(6).toISOString()} (2 hours before the merge), observation:github/acme/api record 7`,
      at: day(6).toISOString(),
    });
    // every result of a change carries it (not only the checks')
    expect(
      report.results
        .filter((r) => r.subject.kind === "change-request")
        .every((r) => r.evidence.some((e) => e.label === RULE_AS_OF_MERGE)),
    ).toBe(true);

    // the merges judged against the weakened rule, listed
    const weakened = rules.filter(
      (r) => r.observation?.rule.known && r.observation.rule.value.requiredStatusChecks.length === 0,
    );
    expect(weakened.map((r) => r.change)).toEqual(["acme/api#3", "acme/api#4"]);
    expect(rules.find((r) => r.change === "acme/api#1")?.observation).toBeNull();
    // totals follow the substituted results
    const failures = report.results.filter(
      (r) => r.control === "cc8.required-checks" && r.outcome === "fail",
    );
    expect(report.totals["cc8.required-checks"]?.fail).toBe(failures.length);
  });

  it("judges a merge whose rule was unreadable then as unknown for the rule, naming the permission", async () => {
    const ledger = await fresh();
    const hidden: Repository = makeRepository({
      branchRules: { known: false, permission: "administration:read", reason: "403" },
    });
    await recordObservation(ledger, {
      host: "github",
      facts: repositoryFacts(hidden),
      observedAt: day(0),
      source: { trigger: "schedule" },
    });
    const snapshot = makeSnapshot({
      repositories: [strong],
      changeRequests: [makeChangeRequest({ number: 7, mergedAt: day(1).toISOString() })],
    });
    const { report } = await evaluateAsOfMerge(
      ledger,
      snapshot,
      policyOf([]),
      new Date("2026-11-01T00:00:00Z"),
    );
    const checks = report.results.find((r) => r.control === "cc8.no-bypass" && r.subject.id === "acme/api#7");
    expect(checks?.outcome).toBe("unknown");
    expect(checks?.evidence.find((e) => e.label === RULE_AS_OF_MERGE)?.value).toContain(
      "unreadable then (administration:read)",
    );
  });

  it("judges the app's merge of the weakened week by the weak rule, and hands the merge-commit wait that rule", async () => {
    const ledger = await fresh();
    await observeWeakWeek(ledger);
    const changeRequest = makeChangeRequest({
      number: 9,
      mergedAt: new Date(day(8).getTime() + 60_000).toISOString(),
      checks: [],
    });
    const policy = policyOf([]);
    const at = new Date(day(8).getTime() + 120_000);
    const outcome = {
      changeRequest,
      repository: strong,
      results: [] as Result[],
      policy,
      check: { conclusion: "success" },
    };
    const logged: object[] = [];
    const judged = await changeAsOfMerge(
      ledger,
      { error: (o) => logged.push(o) },
      { host: "github", baseUrl: "https://api.github.com" },
      outcome,
      at,
    );
    expect(logged).toEqual([]);
    expect(judged.check).toBe(outcome.check);
    const checks = judged.results.find((r) => r.control === "cc8.required-checks");
    expect(checks?.evidence.find((e) => e.label === "branch rule")?.value).toBe(
      "main requires [] (branch-protection)",
    );
    expect(checks?.evidence.find((e) => e.label === RULE_AS_OF_MERGE)?.value).toBe(
      `observed ${day(8).toISOString()} (1 minute before the merge), observation:github/acme/api record 9`,
    );
    expect(judged.repository.branchRules).toMatchObject({
      known: true,
      value: [{ branch: "main", requiredStatusChecks: [], enforceAdmins: false }],
    });
  });
});

describe("judged as of the merge when the ledger cannot be read", () => {
  it("uses today's rule, logs it, and each merged change's evidence says so", async () => {
    const unreachable = openLedger({ databaseUrl: "postgres://soc2@127.0.0.1:1/ledger" });
    const changeRequest = makeChangeRequest({ number: 3, mergedAt: day(2).toISOString() });
    const policy = policyOf([]);
    const logged: { msg: string; object: object }[] = [];
    const judged = await changeAsOfMerge(
      unreachable,
      { error: (object, msg) => logged.push({ object, msg }) },
      { host: "github", baseUrl: "https://api.github.com" },
      { changeRequest, repository: strong, results: [] as Result[], policy },
      day(3),
    );
    await unreachable.close();
    expect(logged.map((l) => l.msg)).toEqual(["branch rules as of the merge not read from the ledger"]);
    const evidence = judged.results.map((r) => r.evidence.find((e) => e.label === RULE_AS_OF_MERGE)?.value);
    expect(evidence.length).toBeGreaterThan(0);
    for (const value of evidence)
      expect(value).toMatch(/^the ledger could not be read \(.+\); today's rule used$/);
    expect(judged.repository).toBe(strong);
  });
});
