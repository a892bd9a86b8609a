import { describe, expect, it } from "vitest";
import type { Result } from "../../src/controls/types.js";
import { PolicyError } from "../../src/errors.js";
import { buildChangeCheck, CHECK_NAME, SUMMARY_LIMIT } from "../../src/reporters/check.js";
import { utf8Length } from "../../src/text/limits.js";
import { makeChangeRequest } from "../fixtures/build.js";

const HOSTILE = "@org/admins <img src=x onerror=alert(1)> [x](http://evil)";
const POLICY = ["policies/soc2.yml", "acme/.github:.github/soc2.yml"];
const changeRequest = makeChangeRequest();
const subject = {
  kind: "change-request" as const,
  id: "acme/api#12",
  repository: "acme/api",
  number: 12,
  user: "alice",
  url: "https://github.com/acme/api/pull/12",
};

const CONTROLS = {
  "cc8.independent-approval": "Independent approval",
  "cc8.approval-covers-final-code": "Approval covers the final code",
  "cc8.required-checks": "Required checks passed",
  "cc8.no-bypass": "No bypass of branch protection",
} as const;

function result(control: keyof typeof CONTROLS, overrides: Partial<Result> = {}): Result {
  return {
    control,
    criterion: "CC8.1",
    title: CONTROLS[control],
    subject,
    outcome: "pass",
    reason: "Passes.",
    evidence: [],
    ...overrides,
  };
}

function greenResults(): Result[] {
  return [
    result("cc8.independent-approval", {
      reason: "Approved by bob, who is not the author.",
      evidence: [{ label: "approval", value: "bob", at: "2026-10-02T10:00:00Z" }],
    }),
    result("cc8.approval-covers-final-code", { reason: "The approval was given on the final head." }),
    result("cc8.required-checks", { reason: "ci/test succeeded on the head commit." }),
    result("cc8.no-bypass", { reason: "Merged without bypassing branch protection." }),
  ];
}

function replace(results: Result[], control: keyof typeof CONTROLS, overrides: Partial<Result>): Result[] {
  return results.map((r) => (r.control === control ? { ...r, ...overrides } : r));
}

describe("buildChangeCheck", () => {
  it("succeeds for an independently approved, green change request, with the evidence and the policy", () => {
    const check = buildChangeCheck({ changeRequest, results: greenResults(), policySources: POLICY });
    expect([check.name, check.conclusion, check.title]).toEqual([
      CHECK_NAME,
      "success",
      "4 of 4 controls pass",
    ]);
    expect(check.summary).toContain(
      "| Independent approval (`cc8.independent-approval`) | ✅ pass | Approved by bob, who is not the author\\. |",
    );
    expect(check.summary).toContain("| `bob` | approved | 2026-10-02 10:00 UTC | `hhhhhhh` (final head) |");
    expect(check.summary).toContain(
      "| [ci/test](https://github.com/acme/api/runs/1) | success | head | `hhhhhhh` | 2026-10-01 09:10 UTC |",
    );
    expect(check.summary).toContain(
      "Policy: `policies/soc2.yml`, `acme/.github:.github/soc2.yml`, read from the base branch `main`",
    );
    expect(check.summary).not.toContain("How to pass");
  });

  it("fails with the failing control's reason and remediation", () => {
    const results = replace(greenResults(), "cc8.independent-approval", {
      outcome: "fail",
      reason: "Only the author (alice) approved.",
      remediation: "Ask someone other than the author to approve the final code.",
    });
    const check = buildChangeCheck({ changeRequest, results, policySources: POLICY });
    expect(check.conclusion).toBe("failure");
    expect(check.title).toBe("3 of 4 controls pass; 1 fails: approval");
    expect(check.summary).toContain("| ❌ fail | Only the author \\(alice\\) approved\\. |");
    expect(check.summary).toContain(
      "### How to pass\n\n- **Independent approval**: Ask someone other than the author to approve the final code\\.",
    );
  });

  it("is neutral while required checks are still running", () => {
    const results = replace(greenResults(), "cc8.required-checks", {
      outcome: "unknown",
      reason: "Waiting for ci/test to finish.",
    });
    const check = buildChangeCheck({ changeRequest, results, policySources: POLICY });
    expect([check.conclusion, check.title]).toEqual([
      "neutral",
      "3 of 4 controls pass; waiting for: required checks",
    ]);
    expect(check.summary).toContain("⏳ waiting");
  });

  it("fails, naming the missing permission, when a fact cannot be read", () => {
    const results = replace(greenResults(), "cc8.no-bypass", {
      outcome: "unknown",
      reason: "Cannot read whether the merge bypassed protection: the token lacks administration:read (403).",
      remediation: "Grant the app administration:read.",
      evidence: [{ label: "missing permission", value: "administration:read" }],
    });
    const check = buildChangeCheck({ changeRequest, results, policySources: POLICY });
    expect([check.conclusion, check.title]).toEqual([
      "failure",
      "3 of 4 controls pass; 1 cannot be read: no bypass",
    ]);
    expect(check.summary).toContain("❔ unknown");
    expect(check.summary).toContain("administration:read");
    expect(check.summary).toContain(
      "- **No bypass of branch protection**: Grant the app administration:read\\.",
    );
  });

  it("fails when one control fails even while another is still waiting", () => {
    let results = replace(greenResults(), "cc8.required-checks", {
      outcome: "unknown",
      reason: "Waiting for ci/test.",
    });
    results = replace(results, "cc8.no-bypass", {
      outcome: "fail",
      reason: "An admin merged past protection.",
    });
    expect(buildChangeCheck({ changeRequest, results, policySources: POLICY }).conclusion).toBe("failure");
  });

  it("succeeds with an exception, and shows the exception", () => {
    const results = replace(greenResults(), "cc8.independent-approval", {
      outcome: "excepted",
      reason: "Only the author approved.",
      exception: {
        reason: "Emergency fix for incident 42",
        approvedBy: "carol",
        expires: "2026-12-31",
        source: ".github/soc2.yml:14",
      },
    });
    const check = buildChangeCheck({ changeRequest, results, policySources: POLICY });
    expect([check.conclusion, check.title]).toEqual(["success", "4 of 4 controls pass (1 by exception)"]);
    expect(check.summary).toContain("🛡 excepted");
    expect(check.summary).toContain(
      "Exception: Emergency fix for incident 42 (approved by `carol`, expires 2026\\-12\\-31, `.github/soc2.yml:14`)",
    );
  });

  it("succeeds and says so when no control applies (base is not a production branch)", () => {
    const results = greenResults().map((r) => ({
      ...r,
      outcome: "not-applicable" as const,
      reason: "The base branch develop is not a production branch.",
    }));
    const check = buildChangeCheck({ changeRequest, results, policySources: POLICY });
    expect([check.conclusion, check.title]).toEqual([
      "success",
      "No control applies to this change request (4 not applicable)",
    ]);
  });

  it("fails with every policy problem at file:line:column, saying the base branch's policy is used", () => {
    const policyError = new PolicyError([
      {
        file: ".github/soc2.yml",
        line: 7,
        column: 3,
        message: 'Unknown key "requird_checks": did you mean "required_checks"?',
      },
      { file: ".github/soc2.yml", line: 12, column: 5, message: "expires must be a date (YYYY-MM-DD)" },
    ]);
    const check = buildChangeCheck({
      changeRequest,
      results: greenResults(),
      policySources: POLICY,
      policyError,
    });
    expect([check.conclusion, check.title]).toEqual([
      "failure",
      "Policy error: 2 problems in the base branch's policy",
    ]);
    expect(check.summary).toContain("- `.github/soc2.yml:7:3`: Unknown key");
    expect(check.summary).toContain("- `.github/soc2.yml:12:5`: expires must be a date");
    expect(check.summary).toContain("uses the policy on the base branch `main`");
  });

  it("escapes a hostile title, branch, reviewer and reason", () => {
    const hostile = makeChangeRequest({
      title: HOSTILE,
      headBranch: "x`|<b>@org",
      reviews: [
        {
          reviewer: "@evil|",
          state: "approved",
          submittedAt: "2026-10-02T10:00:00Z",
          commitSha: "h".repeat(40),
        },
      ],
    });
    const results = replace(greenResults(), "cc8.independent-approval", { outcome: "fail", reason: HOSTILE });
    const { summary, title } = buildChangeCheck({ changeRequest: hostile, results, policySources: POLICY });
    for (const text of [summary, title]) {
      expect(text).not.toMatch(/@[a-z]/i);
      expect(text).not.toContain("<img");
      expect(text).not.toContain("](http://evil");
    }
    // the branch stays one code span: its backtick cannot close it (and HTML in code is shown as text)
    expect(summary).toContain("`xˋ|<b>@\u200Borg` into `main`");
    // a "|" in a login cannot split a table row
    expect(summary).toContain("| `evil\\|` |");
  });

  it("truncates very large evidence under GitHub's summary limit and says so", () => {
    const evidence = Array.from({ length: 4000 }, (_, i) => ({
      label: `commit ${i}`,
      value: "c".repeat(250),
    }));
    const results = replace(greenResults(), "cc8.approval-covers-final-code", {
      outcome: "fail",
      reason: "4000 commits were pushed after the approval.",
      evidence,
    });
    const check = buildChangeCheck({ changeRequest, results, policySources: POLICY });
    expect(utf8Length(check.summary)).toBeLessThanOrEqual(SUMMARY_LIMIT);
    expect(check.summary).toMatch(/_Truncated: \d+ more lines did not fit/);
    // what decides the check and the policy footer always survive
    expect(check.summary).toContain("4000 commits were pushed after the approval");
    expect(check.summary).toContain("Policy: `policies/soc2.yml`");
  });

  it("budgets the summary in UTF-8 bytes, as GitHub counts them, for multi-byte evidence", () => {
    // ~1,000 bytes a line but ~350 characters: a character budget let 91,891 bytes through
    const evidence = Array.from({ length: 400 }, (_, i) => ({
      label: `コミット ${i}`,
      value: `${"変更".repeat(150)}😀`,
    }));
    const results = replace(greenResults(), "cc8.approval-covers-final-code", {
      outcome: "fail",
      reason: "400 commits were pushed after the approval.",
      evidence,
    });
    const check = buildChangeCheck({
      changeRequest: makeChangeRequest({ title: `${"変".repeat(500)} 😀` }),
      results,
      policySources: POLICY,
    });
    expect(SUMMARY_LIMIT).toBe(65_535);
    expect(utf8Length(check.summary)).toBeLessThanOrEqual(SUMMARY_LIMIT);
    expect(check.summary).toMatch(
      /_Truncated: \d+ more lines did not fit in the check summary \(GitHub allows 65535 bytes\)/,
    );
    expect(check.summary).toContain("400 commits were pushed after the approval");
    expect(check.summary).toContain("Policy: `policies/soc2.yml`");
    // the title in the header is clipped between characters, never inside a surrogate pair
    expect(check.summary).toContain(`${"変".repeat(299)}…`);
    expect(check.summary).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});
