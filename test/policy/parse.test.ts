import { describe, expect, it } from "vitest";
import { parsePolicyLayer } from "../../src/policy/index.js";
import { FAKE_CONTROLS, fixture, problemsOf } from "./fake-controls.js";

function parseFixture(name: string): ReturnType<typeof parsePolicyLayer> {
  return parsePolicyLayer(fixture(name), name, FAKE_CONTROLS);
}

describe("parsePolicyLayer: a valid file", () => {
  it("reads every section into the layer, with positions of controls and exceptions", () => {
    expect(parseFixture("org.yml")).toEqual({
      file: "org.yml",
      text: fixture("org.yml"),
      productionBranches: { patterns: ["release/*", "hotfix/**/*"] },
      controls: {
        "cc8.independent-approval": { locked: true, params: { min_approvals: 2 }, line: 5, column: 3 },
        "cc8.no-direct-push": { enabled: true, params: {}, line: 8, column: 3 },
      },
      exceptions: [
        {
          control: "cc8.no-direct-push",
          subject: { repository: "acme/api", commit: "1a2b3c4d" },
          reason: "Emergency fix for incident INC-42, reviewed after the fact",
          approvedBy: "alice",
          expires: "2026-12-31",
          source: "org.yml:11",
        },
      ],
      findings: { repository: "soc2-findings", labels: ["soc2", "compliance"] },
      audit: { schedule: "daily", exclude: ["sandbox-*"] },
    });
  });

  it("leaves out what the file does not say, and reads empty sections as absent", () => {
    const layer = parsePolicyLayer("version: 1\ncontrols:\nexceptions:\n", "repo.yml", FAKE_CONTROLS);
    expect(layer).toEqual({
      file: "repo.yml",
      text: "version: 1\ncontrols:\nexceptions:\n",
      controls: {},
      exceptions: [],
    });
  });

  it("maps every subject key from snake_case", () => {
    const text = `version: 1
exceptions:
  - control: cc8.independent-approval
    subject: { repository: acme/api, change_request: 42, user: bob }
    reason: "Sole maintainer on leave; reviewed by the security team after merge"
    approved_by: alice
    expires: 2026-06-30
`;
    expect(parsePolicyLayer(text, "repo.yml", FAKE_CONTROLS).exceptions).toEqual([
      {
        control: "cc8.independent-approval",
        subject: { repository: "acme/api", changeRequest: 42, user: "bob" },
        reason: "Sole maintainer on leave; reviewed by the security team after merge",
        approvedBy: "alice",
        expires: "2026-06-30",
        source: "repo.yml:3",
      },
    ]);
  });
});

describe("parsePolicyLayer: every problem with its line and column", () => {
  it("reports a YAML syntax error where the parser finds it", () => {
    expect(problemsOf(() => parseFixture("syntax-error.yml"))).toEqual([
      {
        file: "syntax-error.yml",
        line: 4,
        column: 1,
        message:
          "YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]",
      },
    ]);
  });

  it("reports a duplicate key at its second occurrence", () => {
    expect(problemsOf(() => parseFixture("duplicate-key.yml"))).toEqual([
      {
        file: "duplicate-key.yml",
        line: 5,
        column: 5,
        message: "duplicate key `min_approvals`: each key may appear only once in a mapping",
      },
    ]);
  });

  it("suggests the key or control meant for unknown keys and control ids", () => {
    expect(problemsOf(() => parseFixture("typos.yml"))).toEqual([
      {
        file: "typos.yml",
        line: 2,
        column: 1,
        message: "unknown key `production_branch`; did you mean `production_branches`?",
      },
      {
        file: "typos.yml",
        line: 5,
        column: 3,
        message: "unknown control `cc8.independant-approval`; did you mean `cc8.independent-approval`?",
      },
      {
        file: "typos.yml",
        line: 8,
        column: 5,
        message: "unknown setting `enabeld` for control `cc8.no-direct-push`; did you mean `enabled`?",
      },
    ]);
  });

  it("points at the offending value for bad parameters and wrong types, at any depth", () => {
    expect(problemsOf(() => parseFixture("bad-values.yml"))).toEqual([
      {
        file: "bad-values.yml",
        line: 4,
        column: 20,
        message: "`controls.cc8.independent-approval.min_approvals` must be at least 1, not 0",
      },
      {
        file: "bad-values.yml",
        line: 5,
        column: 25,
        message: '`controls.cc8.independent-approval.exclude_committers` must be true or false, not "no"',
      },
      {
        file: "bad-values.yml",
        line: 8,
        column: 33,
        message:
          "unknown key `repo` in `controls.cc6.outside-collaborator-access.allowed[0]`; expected one of `user`, `repository`",
      },
      {
        file: "bad-values.yml",
        line: 10,
        column: 13,
        message: '`audit.schedule` must be `daily` or `weekly` or `monthly` or `off`, not "hourly"',
      },
      {
        file: "bad-values.yml",
        line: 11,
        column: 12,
        message: '`audit.include` must be a list, not "acme/*"',
      },
    ]);
  });

  it("requires `expires` on every exception, pointing at the exception", () => {
    expect(problemsOf(() => parseFixture("exception-without-expires.yml"))).toEqual([
      {
        file: "exception-without-expires.yml",
        line: 3,
        column: 5,
        message:
          "missing required key `expires` in `exceptions[0]`: every exception must end: add `expires: YYYY-MM-DD`",
      },
    ]);
  });

  it("rejects dates that are not real YYYY-MM-DD days", () => {
    expect(problemsOf(() => parseFixture("bad-dates.yml"))).toEqual([
      {
        file: "bad-dates.yml",
        line: 7,
        column: 14,
        message: "`exceptions[0].expires` must be a real date written YYYY-MM-DD, e.g. 2026-12-31",
      },
      {
        file: "bad-dates.yml",
        line: 12,
        column: 14,
        message: "`exceptions[1].expires` must be a real date written YYYY-MM-DD, e.g. 2026-12-31",
      },
    ]);
  });

  it("rejects exceptions for unknown controls, covering nothing, or with an unquoted commit", () => {
    expect(problemsOf(() => parseFixture("bad-exceptions.yml"))).toEqual([
      {
        file: "bad-exceptions.yml",
        line: 3,
        column: 14,
        message: "exception for unknown control `cc8.no-direct-psh`; did you mean `cc8.no-direct-push`?",
      },
      {
        file: "bad-exceptions.yml",
        line: 9,
        column: 14,
        message:
          "`exceptions[1].subject` names nothing: give at least one of repository, change_request, user, commit " +
          "(an exception must say what it covers)",
      },
      {
        file: "bad-exceptions.yml",
        line: 14,
        column: 24,
        message:
          '`exceptions[2].subject.commit` must be a quoted commit SHA, e.g. "1a2b3c4d" (unquoted digits are read as a number)',
      },
    ]);
  });

  it("requires `version: 1`", () => {
    expect(problemsOf(() => parsePolicyLayer("controls: {}\n", "repo.yml", FAKE_CONTROLS))).toEqual([
      {
        file: "repo.yml",
        line: 1,
        column: 1,
        message: "missing required key `version`: start the file with `version: 1`",
      },
    ]);
    expect(problemsOf(() => parsePolicyLayer("version: 2\n", "repo.yml", FAKE_CONTROLS))).toEqual([
      { file: "repo.yml", line: 1, column: 10, message: "`version` must be `1`, not 2" },
    ]);
  });

  it("explains an empty file or one that is not a mapping", () => {
    expect(problemsOf(() => parsePolicyLayer("", "repo.yml", FAKE_CONTROLS))).toEqual([
      {
        file: "repo.yml",
        line: 1,
        column: 1,
        message: "a policy is a mapping starting with `version: 1`, but the file is empty",
      },
    ]);
    expect(problemsOf(() => parsePolicyLayer("- version: 1\n", "repo.yml", FAKE_CONTROLS))).toEqual([
      {
        file: "repo.yml",
        line: 1,
        column: 1,
        message: "a policy is a mapping starting with `version: 1`, but it holds a list",
      },
    ]);
  });

  it("lists problems from every section of one file at once, in reading order", () => {
    const text = `version: 1
audit: { schedule: sometimes }
controls:
  cc8.no-direct-push: true
`;
    expect(
      problemsOf(() => parsePolicyLayer(text, "org.yml", FAKE_CONTROLS)).map((p) => [p.line, p.column]),
    ).toEqual([
      [2, 20],
      [4, 23],
    ]);
  });

  it("points at the key when a value is left empty", () => {
    const text = "version: 1\ncontrols:\n  cc8.no-direct-push:\n    enabled:\n  cc8.independent-approval:\n";
    expect(problemsOf(() => parsePolicyLayer(text, "org.yml", FAKE_CONTROLS))).toEqual([
      {
        file: "org.yml",
        line: 4,
        column: 5,
        message: "`controls.cc8.no-direct-push.enabled` must be true or false, not nothing",
      },
      {
        file: "org.yml",
        line: 5,
        column: 3,
        message:
          "`controls.cc8.independent-approval` must be a mapping such as `{ enabled: true }`, not nothing",
      },
    ]);
  });

  it("puts file, line and column in the error message itself", () => {
    expect(() => parseFixture("duplicate-key.yml")).toThrow(
      "duplicate-key.yml:5:5: duplicate key `min_approvals`: each key may appear only once in a mapping",
    );
  });
});

describe("parsePolicyLayer: hostile input", () => {
  it("stops a YAML alias bomb quickly with a clear error", () => {
    const started = performance.now();
    expect(problemsOf(() => parseFixture("evil-alias-bomb.yml"))).toEqual([
      {
        file: "evil-alias-bomb.yml",
        line: 4,
        column: 8,
        message:
          "too many aliases (*name): the file would expand far beyond any policy; write the values out instead",
      },
    ]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("rejects __proto__ and constructor keys as unknown without touching Object.prototype", () => {
    expect(
      problemsOf(() => parseFixture("evil-prototype.yml")).map((p) => `${p.line}:${p.column} ${p.message}`),
    ).toEqual([
      "2:1 unknown key `__proto__`; expected one of `version`, `production_branches`, `controls`, `exceptions`, `people`, `findings`, `audit`, `ledger`",
      "5:3 unknown control `__proto__`; expected one of `cc8.independent-approval`, `cc8.no-direct-push`, `cc6.outside-collaborator-access`",
      "8:5 unknown setting `__proto__` for control `cc8.independent-approval`; expected one of `min_approvals`, `exclude_committers`, `enabled`, `locked`",
      "9:5 unknown setting `constructor` for control `cc8.independent-approval`; expected one of `min_approvals`, `exclude_committers`, `enabled`, `locked`",
    ]);
    expect(Object.hasOwn(Object.prototype, "polluted")).toBe(false);
  });

  it("rejects language tags and multiple documents", () => {
    expect(problemsOf(() => parseFixture("evil-tags.yml"))).toEqual([
      {
        file: "evil-tags.yml",
        line: 4,
        column: 20,
        message: "unsupported YAML tag `!!js/function`: a policy uses plain values only",
      },
      {
        file: "evil-tags.yml",
        line: 5,
        column: 1,
        message: "more than one YAML document (`---`): a policy file is a single document",
      },
    ]);
  });

  it("reports absurdly deep nesting as an error, not a crash", () => {
    const text = `version: 1\naudit: ${"[".repeat(5_000)}${"]".repeat(5_000)}\n`;
    const problems = problemsOf(() => parsePolicyLayer(text, "deep.yml", FAKE_CONTROLS));
    expect(problems.length).toBeGreaterThan(0);
    expect(
      problems.every(
        (problem) => problem.line === 2 && problem.message === "values are nested too deeply to be a policy",
      ),
    ).toBe(true);
  });

  it("refuses a file over 1 MiB before parsing it", () => {
    const text = `version: 1\n# ${"x".repeat(1024 * 1024)}\n`;
    expect(problemsOf(() => parsePolicyLayer(text, "huge.yml", FAKE_CONTROLS))).toEqual([
      {
        file: "huge.yml",
        line: 1,
        column: 1,
        message: "the file is 1048590 bytes; a policy may be at most 1 MiB",
      },
    ]);
  });
});
