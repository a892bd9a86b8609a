/**
 * The pure evaluation applies a snapshot's asOfMerge: a merged change with an entry is judged by the
 * rule and the policy in force at its merge (the production branches and parameters of that policy),
 * and says which in its evidence; a policy the snapshot cannot give back leaves today's policy, said
 * so; a snapshot written before asOfMerge existed parses and evaluates as it always did.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Result } from "../../src/controls/types.js";
import { evaluate, POLICY_AS_OF_MERGE, RULE_AS_OF_MERGE } from "../../src/engine/index.js";
import { Snapshot, type AsOfMerge, type MergeAsOf } from "../../src/model/index.js";
import { renderResultsJson } from "../../src/reporters/files/results-json.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { cleanBranchRule, makeChangeRequest, makeSnapshot } from "../fixtures/build.js";

const AT = new Date("2026-11-01T00:00:00Z");
const MERGED = "2026-10-02T15:00:00Z";
const ORG_POLICY = "acme/.github:.github/soc2.yml";

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** An entry naming an organization policy file observed a day before the merge. */
function entryWith(texts: string[], overrides: Partial<MergeAsOf> = {}): AsOfMerge {
  return {
    merges: [
      {
        change: "acme/api#12",
        repository: "acme/api",
        branch: "main",
        mergedAt: MERGED,
        observation: null,
        policy: {
          stream: "observation:github/acme/api",
          sequence: 4,
          observedAt: "2026-10-01T15:00:00Z",
          ageMs: 86_400_000,
          files: texts.map((text) => ({
            layer: "organization" as const,
            repository: null,
            path: ORG_POLICY,
            sha256: sha256(text),
          })),
        },
        ...overrides,
      },
    ],
    policyTexts: Object.fromEntries(texts.map((text) => [sha256(text), text])),
  };
}

function judge(snapshot: Snapshot): Result[] {
  return evaluate(snapshot, policySetFor(snapshot), AT).results.filter((r) => r.subject.id === "acme/api#12");
}

const label = (result: Result | undefined, name: string) =>
  result?.evidence.find((e) => e.label === name)?.value;

describe("evaluate with the snapshot's asOfMerge", () => {
  it("decides production branches and parameters by the policy in force at the merge", () => {
    // Merged into release/1: not a production branch by today's policy, one by the policy then.
    const change = makeChangeRequest({ baseBranch: "release/1" });
    const then =
      'version: 1\nproduction_branches:\n  patterns: ["release/*"]\ncontrols:\n  cc8.independent-approval:\n    min_approvals: 2\n';
    const today = judge(makeSnapshot({ changeRequests: [change] }));
    expect(today.find((r) => r.control === "cc8.independent-approval")?.outcome).toBe("not-applicable");

    const asOf = judge(
      makeSnapshot({ changeRequests: [change], asOfMerge: entryWith([then], { branch: "release/1" }) }),
    );
    const approval = asOf.find((r) => r.control === "cc8.independent-approval");
    expect(approval?.outcome).toBe("fail");
    expect(approval?.reason).toBe("1 independent approval, 2 required: nobody else approved it.");
    expect(label(approval, POLICY_AS_OF_MERGE)).toBe(
      `recorded 2026-10-01T15:00:00Z (1 day before the merge), observation:github/acme/api record 4: ` +
        `${ORG_POLICY} (sha256 ${sha256(then).slice(0, 12)})`,
    );
    expect(label(approval, RULE_AS_OF_MERGE)).toBe(
      `the ledger holds no observation of release/1 before ${MERGED}; today's rule used`,
    );
  });

  it("judges by the rule observed then, which may be unreadable, and a change not merged is judged as today", () => {
    const weak = cleanBranchRule({ requiredStatusChecks: [], enforceAdmins: false });
    const asOfMerge = entryWith([], {
      observation: {
        stream: "observation:github/acme/api",
        sequence: 3,
        observedAt: "2026-10-02T13:00:00Z",
        ageMs: 7_200_000,
        rule: { known: true, value: weak },
      },
    });
    const results = judge(makeSnapshot({ asOfMerge }));
    const checks = results.find((r) => r.control === "cc8.required-checks");
    expect(checks?.outcome).toBe("fail");
    expect(label(checks, "branch rule")).toBe("main requires [] (branch-protection)");
    expect(label(checks, RULE_AS_OF_MERGE)).toBe(
      "observed 2026-10-02T13:00:00Z (2 hours before the merge), observation:github/acme/api record 3",
    );
    expect(label(checks, POLICY_AS_OF_MERGE)).toMatch(/: no policy file \(the shipped default\)$/);

    // the same change still open: no merge to judge as of
    const open = makeChangeRequest({ state: "open", mergedAt: null, mergedBy: null });
    const openResults = judge(makeSnapshot({ changeRequests: [open], asOfMerge }));
    expect(openResults.every((r) => r.evidence.every((e) => e.label !== RULE_AS_OF_MERGE))).toBe(true);
  });

  it("uses today's policy when the policy of then cannot be used, and says why", () => {
    const broken = "version: 1\ncontrols:\n  cc8.independant-approval: {}\n";
    const today = judge(makeSnapshot());
    const withBroken = judge(makeSnapshot({ asOfMerge: entryWith([broken]) }));
    const missing = entryWith(["version: 1\n"]);
    const withoutText = judge(makeSnapshot({ asOfMerge: { ...missing, policyTexts: {} } }));
    for (const results of [withBroken, withoutText]) {
      expect(results.map((r) => [r.control, r.outcome])).toEqual(today.map((r) => [r.control, r.outcome]));
    }
    expect(label(withBroken[0], POLICY_AS_OF_MERGE)).toMatch(
      /, which cannot be used \(.*soc2\.yml:3:3.*\); today's policy used$/s,
    );
    expect(label(withoutText[0], POLICY_AS_OF_MERGE)).toMatch(
      /which cannot be used \(the snapshot holds no text of acme\/\.github:\.github\/soc2\.yml \(sha256 [0-9a-f]{64}\)\); today's policy used$/,
    );
  });

  it("says when the ledger could not be read, and when no observation records the policy", () => {
    const unread = judge(
      makeSnapshot({ asOfMerge: entryWith([], { policy: null, ledgerError: "connection refused" }) }),
    );
    expect(label(unread[0], RULE_AS_OF_MERGE)).toBe(
      "the ledger could not be read (connection refused); today's rule used",
    );
    expect(label(unread[0], POLICY_AS_OF_MERGE)).toBe(
      "the ledger could not be read (connection refused); today's policy used",
    );
    const none = judge(makeSnapshot({ asOfMerge: entryWith([], { policy: null }) }));
    expect(label(none[0], POLICY_AS_OF_MERGE)).toBe(
      `no observation of acme/api before ${MERGED} records its policy files; today's policy used`,
    );
    // the app's judgement at once does not look the policy up: nothing said about it
    const notLooked = judge(makeSnapshot({ asOfMerge: entryWith([], { policy: undefined }) }));
    expect(notLooked.every((r) => r.evidence.every((e) => e.label !== POLICY_AS_OF_MERGE))).toBe(true);
  });

  it("parses and evaluates a snapshot written before asOfMerge alike, and writes it back without one", () => {
    const old = JSON.parse(JSON.stringify(makeSnapshot())) as Record<string, unknown>;
    expect("asOfMerge" in old).toBe(false);
    const parsed = Snapshot.parse(old);
    expect(JSON.stringify(parsed)).toBe(JSON.stringify(old));
    const report = evaluate(parsed, policySetFor(parsed), AT);
    expect(report.results.some((r) => r.evidence.some((e) => e.label === RULE_AS_OF_MERGE))).toBe(false);
    expect(
      renderResultsJson(
        evaluate(makeSnapshot({ asOfMerge: { merges: [], policyTexts: {} } }), policySetFor(parsed), AT),
      ),
    ).toBe(renderResultsJson(report));
  });
});
