/**
 * Weakening changes read from configuration observations: every field of a branch rule in both
 * directions, a rule removed or a ruleset disabled, visibility, admins, owners and the 2FA
 * requirement; windows that a restoration closes only when every weakened field is at least as
 * strong again; unreadable facts neither weaken nor restore. The last tests read a real ledger.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  openLedger,
  organizationFacts,
  recordObservation,
  repositoryFacts,
  type Ledger,
  type ObservationSource,
  type ObservedFacts,
} from "../../src/ledger/index.js";
import type { ReplayedObservation, RepositoryFacts } from "../../src/ledger/observations.js";
import {
  changedBy,
  weakeningsBetween,
  weakeningWindows,
  weakeningWindowsOf,
  type ObservationPoint,
  type WeakeningWindow,
} from "../../src/ledger/weakening.js";
import {
  unprotectedBranchRule,
  unreadable,
  type BranchRule,
  type Organization,
  type Repository,
} from "../../src/model/index.js";
import { cleanBranchRule, makeOrganization, makeRepository } from "../fixtures/build.js";
import { BACKENDS, testBackend } from "./backends.js";

/** A strong rule: every requirement on, so each field can be weakened on its own. */
const STRONG: BranchRule = cleanBranchRule({
  sources: ["branch-protection", "ruleset:12"],
  requiredApprovals: 2,
  requireCodeOwnerReview: true,
  requireLastPushApproval: true,
  requiredStatusChecks: ["ci/test", "lint"],
  requiredCheckApps: { "ci/test": 15368 },
  otherRequirements: ["required_signatures"],
  restrictedTo: ["team:release"],
  bypassActors: ["Team ops"],
});

function repoWith(rules: BranchRule[] | null, overrides: Partial<Repository> = {}): ObservedFacts {
  return repositoryFacts(
    makeRepository({
      productionBranches: rules ? rules.map((r) => r.branch) : ["main"],
      branchRules: rules ? { known: true, value: rules } : unreadable("administration:read", "403"),
      ...overrides,
    }),
  );
}

const rule = (overrides: Partial<BranchRule>) => repoWith([{ ...STRONG, ...overrides }]);
const strongRepo = repoWith([STRONG]);

/** Each field, the weaker value, and the line that names it. */
const FIELDS: { field: string; weaker: Partial<BranchRule>; detail: string }[] = [
  {
    field: "requirePullRequest",
    weaker: { requirePullRequest: false },
    detail: "pull request no longer required before merging",
  },
  {
    field: "requiredApprovals",
    weaker: { requiredApprovals: 1 },
    detail: "required approvals lowered from 2 to 1",
  },
  {
    field: "dismissStaleApprovals",
    weaker: { dismissStaleApprovals: false },
    detail: "stale approvals no longer dismissed when new commits are pushed",
  },
  {
    field: "requireCodeOwnerReview",
    weaker: { requireCodeOwnerReview: false },
    detail: "code owner review no longer required",
  },
  {
    field: "requireLastPushApproval",
    weaker: { requireLastPushApproval: false },
    detail: "approval of the most recent push no longer required",
  },
  {
    field: "requiredStatusChecks",
    weaker: { requiredStatusChecks: ["ci/test"] },
    detail: "required status checks removed: lint",
  },
  {
    field: "requiredCheckApps (unpinned)",
    weaker: { requiredCheckApps: {} },
    detail: "required check ci/test no longer pinned to app 15368",
  },
  {
    field: "requiredCheckApps (another app)",
    weaker: { requiredCheckApps: { "ci/test": 999 } },
    detail: "required check ci/test pinned to app 999 instead of app 15368",
  },
  {
    field: "enforceAdmins",
    weaker: { enforceAdmins: false },
    detail: "administrators no longer bound by the rule",
  },
  { field: "allowForcePushes", weaker: { allowForcePushes: true }, detail: "force pushes allowed" },
  { field: "allowDeletions", weaker: { allowDeletions: true }, detail: "branch deletion allowed" },
  {
    field: "otherRequirements",
    weaker: { otherRequirements: [] },
    detail: "requirements removed: required_signatures",
  },
  {
    field: "restrictedTo (removed)",
    weaker: { restrictedTo: undefined },
    detail: "push restrictions removed: anyone with write access may push",
  },
  {
    field: "restrictedTo (widened)",
    weaker: { restrictedTo: ["team:release", "mallory"] },
    detail: "may now push: mallory",
  },
];

describe("weakeningsBetween: a branch rule, field by field", () => {
  it.each(FIELDS)("$field: the weaker value is a weakening naming it", ({ weaker, detail }) => {
    expect(weakeningsBetween(strongRepo, rule(weaker))).toEqual([
      { aspect: "acme/api:branch:main", subject: "acme/api", kind: "protection-weakened", details: [detail] },
    ]);
  });

  // a pin moved to another app cannot be ordered: both directions weaken (the next test)
  const ORDERED_FIELDS = FIELDS.filter((f) => f.field !== "requiredCheckApps (another app)");
  it.each(ORDERED_FIELDS)("$field: the stronger direction is not a weakening", ({ weaker }) => {
    expect(weakeningsBetween(rule(weaker), strongRepo)).toEqual([]);
  });

  it("a check's pin moved from one app to another weakens in both directions (apps cannot be ordered)", () => {
    const other = rule({ requiredCheckApps: { "ci/test": 999 } });
    expect(weakeningsBetween(other, strongRepo)).toEqual([
      expect.objectContaining({
        kind: "protection-weakened",
        details: ["required check ci/test pinned to app 15368 instead of app 999"],
      }),
    ]);
  });

  it("a bypass actor added is its own kind; removed is not a weakening", () => {
    const wider = rule({ bypassActors: ["Team ops", "app:deployer"] });
    expect(weakeningsBetween(strongRepo, wider)).toEqual([
      {
        aspect: "acme/api:branch:main",
        subject: "acme/api",
        kind: "bypass-actor-added",
        details: ["bypass actor added: app:deployer"],
      },
    ]);
    expect(weakeningsBetween(wider, strongRepo)).toEqual([]);
  });

  it("a bypass actor added with another weakening is a weakened rule listing both", () => {
    const after = rule({ bypassActors: ["Team ops", "mallory"], requiredApprovals: 0 });
    expect(weakeningsBetween(strongRepo, after)).toEqual([
      expect.objectContaining({
        kind: "protection-weakened",
        details: ["required approvals lowered from 2 to 0", "bypass actor added: mallory"],
      }),
    ]);
  });

  it("bypass actors hidden on either side are neither a weakening nor a restoration", () => {
    const hidden = rule({ bypassActors: [], bypassActorsVisible: false });
    expect(weakeningsBetween(strongRepo, hidden)).toEqual([]);
    expect(weakeningsBetween(hidden, rule({ bypassActors: ["Team ops", "mallory"] }))).toEqual([]);
  });

  it("stronger on other fields does not hide a weakened one", () => {
    const after = rule({
      requiredApprovals: 5,
      allowForcePushes: true,
      requiredStatusChecks: ["a", "ci/test", "lint"],
    });
    expect(weakeningsBetween(strongRepo, after).map((w) => w.details)).toEqual([["force pushes allowed"]]);
  });

  it("a field the module does not order weakens whenever it differs", () => {
    // built past the model's schema (which would strip the unknown field), as a newer version would record it
    const withNew = (value: unknown): ObservedFacts => {
      const facts = structuredClone(strongRepo) as RepositoryFacts;
      if (facts.branchRules.known) Object.assign(facts.branchRules.value.main!, { mergeQueueMinimum: value });
      return facts;
    };
    expect(weakeningsBetween(withNew(3), withNew(2))).toEqual([
      expect.objectContaining({ details: ["mergeQueueMinimum changed from 3 to 2"] }),
    ]);
    expect(weakeningsBetween(withNew(2), withNew(3))).toHaveLength(1);
    expect(weakeningsBetween(withNew(2), withNew(2))).toEqual([]);
  });

  it("protection deleted (the branch left unprotected) is a removal listing everything lost", () => {
    const after = repoWith([unprotectedBranchRule("main")]);
    expect(weakeningsBetween(strongRepo, after)).toEqual([
      {
        aspect: "acme/api:branch:main",
        subject: "acme/api",
        kind: "protection-removed",
        details: [
          "protection removed from main",
          "pull request no longer required before merging",
          "stale approvals no longer dismissed when new commits are pushed",
          "code owner review no longer required",
          "approval of the most recent push no longer required",
          "administrators no longer bound by the rule",
          "required approvals lowered from 2 to 0",
          "required status checks removed: ci/test, lint",
          "force pushes allowed",
          "branch deletion allowed",
          "requirements removed: required_signatures",
          "push restrictions removed: anyone with write access may push",
        ],
      },
    ]);
  });

  it("a branch rule removed from the observation entirely is a removal", () => {
    const after = repoWith([], { productionBranches: [] });
    const [weakening] = weakeningsBetween(strongRepo, after);
    expect(weakening?.kind).toBe("protection-removed");
    expect(weakening?.details[0]).toBe(
      "branch main no longer observed with a rule (deleted, or no longer a production branch)",
    );
  });

  it("a ruleset disabled: the effective rule loses its requirements and names the ruleset", () => {
    const after = rule({ sources: ["branch-protection"], otherRequirements: [], requiredApprovals: 1 });
    expect(weakeningsBetween(strongRepo, after)).toEqual([
      expect.objectContaining({
        kind: "protection-weakened",
        details: [
          "required approvals lowered from 2 to 1",
          "requirements removed: required_signatures",
          "no longer enforced by: ruleset:12",
        ],
      }),
    ]);
  });

  it("a ruleset disabled that enforced nothing the protection does not is not a weakening", () => {
    expect(weakeningsBetween(strongRepo, rule({ sources: ["branch-protection"] }))).toEqual([]);
  });

  it("a new production branch has nothing to be weaker than", () => {
    const after = repoWith([STRONG, unprotectedBranchRule("release")]);
    expect(weakeningsBetween(strongRepo, after)).toEqual([]);
  });

  it("rules that became unreadable, or were unreadable, are not a weakening", () => {
    expect(weakeningsBetween(strongRepo, repoWith(null))).toEqual([]);
    expect(weakeningsBetween(repoWith(null), rule({ requiredApprovals: 0 }))).toEqual([]);
  });
});

describe("weakeningsBetween: visibility, admins, owners, two-factor", () => {
  it("made public, or widened to internal; narrowing is not a weakening", () => {
    const at = (visibility: Repository["visibility"]) => repoWith([STRONG], { visibility });
    expect(weakeningsBetween(at("private"), at("public"))).toEqual([
      {
        aspect: "acme/api:visibility",
        subject: "acme/api",
        kind: "made-public",
        details: ["repository made public (was private)"],
      },
    ]);
    expect(weakeningsBetween(at("internal"), at("public"))[0]?.details).toEqual([
      "repository made public (was internal)",
    ]);
    expect(weakeningsBetween(at("private"), at("internal"))[0]?.details).toEqual([
      "visibility widened from private to internal (visible to every member of the enterprise)",
    ]);
    expect(weakeningsBetween(at("public"), at("private"))).toEqual([]);
    expect(weakeningsBetween(at("public"), at("internal"))).toEqual([]);
  });

  it("an uncollected repository (placeholder visibility) is neither weaker nor stronger", () => {
    const uncollected = repoWith(null, {
      collectionError: "404",
      visibility: "private",
      collaborators: unreadable("metadata", "404"),
    });
    expect(weakeningsBetween(uncollected, repoWith([STRONG], { visibility: "public" }))).toEqual([]);
  });

  it("a repository admin added, a person or a team; removed is not a weakening", () => {
    const before = strongRepo;
    const after = repoWith([STRONG], {
      collaborators: {
        known: true,
        value: [
          { login: "alice", permission: "admin", outside: false },
          { login: "bob", permission: "admin", outside: false },
        ],
      },
      teams: { known: true, value: [{ slug: "ops", permission: "admin" }] },
    });
    expect(weakeningsBetween(before, after)).toEqual([
      {
        aspect: "acme/api:admin:bob",
        subject: "acme/api",
        kind: "admin-added",
        details: ["repository admin added: bob"],
      },
      {
        aspect: "acme/api:admin:team:ops",
        subject: "acme/api",
        kind: "admin-added",
        details: ["repository admin added: team ops"],
      },
    ]);
    expect(weakeningsBetween(after, before)).toEqual([]);
    const blind = repoWith([STRONG], { collaborators: unreadable("administration:read", "403") });
    expect(weakeningsBetween(blind, after)).toEqual([]);
    expect(weakeningsBetween(before, blind)).toEqual([]);
  });

  it("an owner added (promoted or new), the 2FA requirement turned off; the reverse is not a weakening", () => {
    const org = (overrides: Partial<Organization>) => organizationFacts(makeOrganization(overrides));
    const before = org({});
    const after = org({
      twoFactorRequired: { known: true, value: false },
      members: {
        known: true,
        value: [
          { login: "alice", role: "owner" },
          { login: "bob", role: "owner" },
          { login: "carol", role: "member" },
          { login: "dave", role: "owner" },
        ],
      },
    });
    expect(weakeningsBetween(before, after)).toEqual([
      {
        aspect: "acme:two-factor-requirement",
        subject: "acme",
        kind: "two-factor-requirement-off",
        details: ["two-factor authentication no longer required of members"],
      },
      {
        aspect: "acme:owner:bob",
        subject: "acme",
        kind: "owner-added",
        details: ["organization owner added: bob (was member)"],
      },
      {
        aspect: "acme:owner:dave",
        subject: "acme",
        kind: "owner-added",
        details: ["organization owner added: dave (new member)"],
      },
    ]);
    expect(weakeningsBetween(after, before)).toEqual([]);
    const blind = org({
      twoFactorRequired: unreadable("admin:org", "403"),
      members: unreadable("members", "403"),
    });
    expect(weakeningsBetween(before, blind)).toEqual([]);
    expect(weakeningsBetween(blind, after)).toEqual([]);
  });
});

const START = Date.parse("2026-10-01T06:00:00Z");

/** Observations of one stream, one per facts, each by a webhook delivery named after its index. */
function stream(...facts: ObservedFacts[]): ReplayedObservation[] {
  return facts.map((f, i) => ({
    sequence: i + 1,
    observedAt: new Date(START + i * 3_600_000).toISOString(),
    source: {
      trigger: "webhook",
      event: "branch_protection_rule.edited",
      deliveryId: `d${i + 1}`,
      actor: `u${i + 1}`,
    },
    facts: f,
    changedAt: i + 1,
  }));
}

const summary = (windows: WeakeningWindow[]) =>
  windows.map((w) => [w.aspect, w.kind, w.weakened.sequence, w.restored?.sequence ?? null]);

describe("weakeningWindows", () => {
  it("opens on the weakening and closes on the restoration, naming who did each", async () => {
    const windows = await weakeningWindows(
      "observation:github/acme/api",
      stream(strongRepo, strongRepo, rule({ requiredApprovals: 1 }), strongRepo, strongRepo),
    );
    expect(windows).toEqual([
      {
        aspect: "acme/api:branch:main",
        subject: "acme/api",
        kind: "protection-weakened",
        details: ["required approvals lowered from 2 to 1"],
        stream: "observation:github/acme/api",
        weakened: {
          sequence: 3,
          observedAt: "2026-10-01T08:00:00.000Z",
          source: expect.objectContaining({ actor: "u3", deliveryId: "d3" }) as ObservationSource,
        },
        restored: {
          sequence: 4,
          observedAt: "2026-10-01T09:00:00.000Z",
          source: expect.objectContaining({ actor: "u4" }) as ObservationSource,
        },
      },
    ]);
  });

  it.each(FIELDS)("$field: restored only when at least as strong again", async ({ weaker }) => {
    const windows = await weakeningWindows("s", stream(strongRepo, rule(weaker), rule(weaker), strongRepo));
    expect(summary(windows)).toEqual([["acme/api:branch:main", "protection-weakened", 2, 4]]);
  });

  it("a partial restoration does not close the window; the full one does", async () => {
    const windows = await weakeningWindows(
      "s",
      stream(
        strongRepo,
        rule({ requiredApprovals: 0, allowForcePushes: true }),
        rule({ requiredApprovals: 2, allowForcePushes: true }),
        rule({ requiredApprovals: 3, allowForcePushes: true }),
        rule({ requiredApprovals: 2, allowForcePushes: false }),
      ),
    );
    expect(summary(windows)).toEqual([["acme/api:branch:main", "protection-weakened", 2, 5]]);
  });

  it("lowering a requirement raised earlier is a weakening when no weakening of the rule was open", async () => {
    const windows = await weakeningWindows(
      "s",
      stream(strongRepo, rule({ requiredApprovals: 3 }), strongRepo),
    );
    expect(windows.map((w) => [w.weakened.sequence, w.details])).toEqual([
      [3, ["required approvals lowered from 3 to 2"]],
    ]);
  });

  it("stronger in other ways does not cure a weakening", async () => {
    const windows = await weakeningWindows(
      "s",
      stream(
        strongRepo,
        rule({ enforceAdmins: false }),
        rule({ enforceAdmins: false, requiredApprovals: 6 }),
      ),
    );
    expect(summary(windows)).toEqual([["acme/api:branch:main", "protection-weakened", 2, null]]);
  });

  it("a further weakening opens its own window; the first closes only when the rule is back where it was", async () => {
    const windows = await weakeningWindows(
      "s",
      stream(
        strongRepo,
        rule({ requiredApprovals: 1 }),
        rule({ requiredApprovals: 1, allowDeletions: true }),
        rule({ requiredApprovals: 2, allowDeletions: true }),
        strongRepo,
      ),
    );
    expect(summary(windows)).toEqual([
      ["acme/api:branch:main", "protection-weakened", 2, 5],
      ["acme/api:branch:main", "protection-weakened", 3, 5],
    ]);
  });

  it("an unreadable observation never restores, and a weakening behind it is found against the last readable rule", async () => {
    const windows = await weakeningWindows(
      "s",
      stream(
        strongRepo,
        rule({ requiredApprovals: 0 }),
        repoWith(null),
        strongRepo,
        repoWith(null),
        rule({ allowForcePushes: true }),
      ),
    );
    expect(summary(windows)).toEqual([
      ["acme/api:branch:main", "protection-weakened", 2, 4],
      ["acme/api:branch:main", "protection-weakened", 6, null],
    ]);
  });

  it("hidden bypass actors never restore; a bypass actor added while hidden is found when visible again", async () => {
    const windows = await weakeningWindows(
      "s",
      stream(
        strongRepo,
        rule({ bypassActors: ["Team ops", "mallory"] }),
        rule({ bypassActors: [], bypassActorsVisible: false }),
        strongRepo,
        rule({ bypassActors: [], bypassActorsVisible: false }),
        rule({ bypassActors: ["Team ops", "eve"] }),
      ),
    );
    expect(summary(windows)).toEqual([
      ["acme/api:branch:main", "bypass-actor-added", 2, 4],
      ["acme/api:branch:main", "bypass-actor-added", 6, null],
    ]);
  });

  it("bypass actors hidden all along (a ruleset the app may not edit) do not keep a window open", async () => {
    const hidden = (overrides: Partial<BranchRule>) =>
      rule({ bypassActors: [], bypassActorsVisible: false, ...overrides });
    const windows = await weakeningWindows(
      "s",
      stream(hidden({}), hidden({ requiredApprovals: 1 }), hidden({})),
    );
    expect(summary(windows)).toEqual([["acme/api:branch:main", "protection-weakened", 2, 3]]);
  });

  it("a rule removed entirely is restored when the branch is observed with its rule again", async () => {
    const gone = repoWith([], { productionBranches: [] });
    const windows = await weakeningWindows(
      "s",
      stream(strongRepo, gone, repoWith([{ ...STRONG, requiredApprovals: 1 }]), strongRepo),
    );
    expect(summary(windows)).toEqual([["acme/api:branch:main", "protection-removed", 2, 4]]);
  });

  it("visibility, admins, owners and 2FA each open and close their own windows", async () => {
    const repositoryWindows = await weakeningWindows(
      "s",
      stream(
        strongRepo,
        repoWith([STRONG], { visibility: "public" }),
        repoWith([STRONG], {
          visibility: "public",
          collaborators: {
            known: true,
            value: [
              { login: "alice", permission: "admin", outside: false },
              { login: "bob", permission: "admin", outside: false },
            ],
          },
        }),
        strongRepo,
      ),
    );
    expect(summary(repositoryWindows)).toEqual([
      ["acme/api:visibility", "made-public", 2, 4],
      ["acme/api:admin:bob", "admin-added", 3, 4],
    ]);
    const org = (overrides: Partial<Organization>) => organizationFacts(makeOrganization(overrides));
    const organizationWindows = await weakeningWindows(
      "s",
      stream(
        org({}),
        org({ twoFactorRequired: { known: true, value: false } }),
        org({ twoFactorRequired: unreadable("admin:org", "403") }),
        org({
          members: {
            known: true,
            value: [
              { login: "alice", role: "owner" },
              { login: "bob", role: "owner" },
            ],
          },
        }),
        org({}),
      ),
    );
    expect(summary(organizationWindows)).toEqual([
      ["acme:two-factor-requirement", "two-factor-requirement-off", 2, 4],
      ["acme:owner:bob", "owner-added", 4, 5],
    ]);
  });

  it("an unchanged observation opens nothing", async () => {
    const weak = rule({ requiredApprovals: 0 });
    const windows = await weakeningWindows("s", stream(strongRepo, weak, weak, weak));
    expect(summary(windows)).toEqual([["acme/api:branch:main", "protection-weakened", 2, null]]);
  });
});

describe.each(BACKENDS)("weakeningWindowsOf on %s", (name) => {
  const backend = testBackend(name);
  const opened: Ledger[] = [];
  afterAll(async () => {
    for (const ledger of opened) await ledger.close();
    await backend.stop();
  });

  it("reads the subject's stream, as recorded (whole, changes, unchanged), into its windows", async () => {
    const ledger = openLedger(await backend.fresh());
    opened.push(ledger);
    const steps: [ObservedFacts, string][] = [
      [strongRepo, "alice"],
      [strongRepo, "alice"],
      [rule({ enforceAdmins: false, bypassActors: ["Team ops", "mallory"] }), "mallory"],
      [strongRepo, "alice"],
    ];
    for (const [i, [facts, actor]] of steps.entries()) {
      await recordObservation(ledger, {
        host: "github",
        facts,
        observedAt: new Date(START + i * 60_000),
        source: { trigger: "webhook", event: "branch_protection_rule.edited", deliveryId: `d${i}`, actor },
      });
    }
    const windows = await weakeningWindowsOf(ledger, "github", "acme/api");
    expect(windows).toEqual([
      expect.objectContaining({
        aspect: "acme/api:branch:main",
        stream: "observation:github/acme/api",
        kind: "protection-weakened",
        details: ["administrators no longer bound by the rule", "bypass actor added: mallory"],
        weakened: expect.objectContaining({
          sequence: 3,
          source: expect.objectContaining({ actor: "mallory" }),
        }),
        restored: expect.objectContaining({
          sequence: 4,
          source: expect.objectContaining({ actor: "alice" }),
        }),
      }),
    ]);
    expect(await weakeningWindowsOf(ledger, "github", "acme/other")).toEqual([]);
  });
});

describe("changedBy: the webhook's sender, only for what its event changes", () => {
  const at = "2026-10-01T00:00:00.000Z";
  const point = (source: ObservationSource): ObservationPoint => ({ sequence: 2, observedAt: at, source });
  const webhook = (event: string, actor: string | null = "alice"): ObservationSource => ({
    trigger: "webhook",
    event,
    deliveryId: "d-1",
    actor,
  });

  it("names the sender of the event that makes the change", () => {
    const cases: [string, string, string][] = [
      ["branch_protection_rule.edited", "acme/api", "acme/api:branch:main"],
      ["repository_ruleset.edited", "acme/api", "acme/api:branch:release/1"],
      ["repository.publicized", "acme/api", "acme/api:visibility"],
      ["member.added", "acme/api", "acme/api:admin:bob"],
      ["team.added_to_repository", "acme/api", "acme/api:admin:team:ops"],
      ["organization.member_added", "acme", "acme:owner:bob"],
    ];
    for (const [event, subject, aspect] of cases) {
      expect(changedBy(point(webhook(event)), { subject, aspect }), event).toBe("alice");
    }
  });

  it("names nobody for a change the event does not make, an audit's observation, or a webhook naming nobody", () => {
    expect(
      changedBy(point(webhook("organization.member_removed")), {
        subject: "acme",
        aspect: "acme:two-factor-requirement",
      }),
    ).toBeNull();
    expect(
      changedBy(point(webhook("deploy_key.created")), {
        subject: "acme/api",
        aspect: "acme/api:branch:main",
      }),
    ).toBeNull();
    expect(
      changedBy(point(webhook("member.added")), { subject: "acme/api", aspect: "acme/api:visibility" }),
    ).toBeNull();
    expect(
      changedBy(point({ trigger: "schedule" }), { subject: "acme/api", aspect: "acme/api:branch:main" }),
    ).toBeNull();
    expect(
      changedBy(point(webhook("branch_protection_rule.edited", null)), {
        subject: "acme/api",
        aspect: "acme/api:branch:main",
      }),
    ).toBeNull();
  });
});
