import { describe, expect, it } from "vitest";
import {
  globMatch,
  isProductionBranch,
  parsePolicyLayer,
  patternProblem,
  resolvePolicy,
} from "../../src/policy/index.js";
import { FAKE_CONTROLS, FAKE_DEFAULT, problemsOf } from "./fake-controls.js";

/**
 * Patterns follow GitHub's documented syntax for branch protection rules and rulesets: Ruby's
 * File.fnmatch with File::FNM_PATHNAME. The examples marked "GitHub's docs" are the ones GitHub's
 * "Managing a branch protection rule" page gives; the others are Ruby's File.fnmatch examples.
 */
describe("globMatch", () => {
  it("matches `*` within one path segment only (GitHub's docs: qa/* and *release*)", () => {
    expect(globMatch("qa/*", "qa/foo")).toBe(true);
    expect(globMatch("qa/*", "qa/foo/bar")).toBe(false);
    expect(globMatch("*release*", "release")).toBe(true);
    expect(globMatch("*release*", "pre-release-2")).toBe(true);
    expect(globMatch("*release*", "team/release")).toBe(false);
    expect(globMatch("release/*", "release/1.2")).toBe(true);
    expect(globMatch("release/*", "release")).toBe(false);
    expect(globMatch("release-*", "release-2026")).toBe(true);
    expect(globMatch("*", "main")).toBe(true);
    expect(globMatch("*", "feature/x")).toBe(false);
  });

  it("matches `**/` across any number of segments, none included (GitHub's docs: qa/**/* and qa**/**/*)", () => {
    expect(globMatch("qa/**/*", "qa/foo")).toBe(true);
    expect(globMatch("qa/**/*", "qa/foo/bar/foobar/hello-world")).toBe(true);
    expect(globMatch("qa/**/*", "qa")).toBe(false);
    expect(globMatch("qa**/**/*", "qa-team/foo/bar")).toBe(true);
    expect(globMatch("hotfix/**/*", "hotfix/2026/inc-42")).toBe(true);
    expect(globMatch("**/prod", "deploy/eu/prod")).toBe(true);
    expect(globMatch("**/prod", "prod")).toBe(true);
    expect(globMatch("**/prod", "preprod")).toBe(false);
    expect(globMatch("env/**/live", "env/live")).toBe(true);
    expect(globMatch("env/**/live", "env/eu/west/live")).toBe(true);
    // Inside a segment `**` is `*`, as in Ruby.
    expect(globMatch("x**y", "x-any-y")).toBe(true);
    expect(globMatch("x**y", "x/y")).toBe(false);
  });

  it("matches `?` as exactly one character, and `[...]` classes, ranges and negation", () => {
    expect(globMatch("release/[0-9]*", "release/1.2")).toBe(true);
    expect(globMatch("release/[0-9]*", "release/x")).toBe(false);
    expect(globMatch("hotfix-?", "hotfix-1")).toBe(true);
    expect(globMatch("hotfix-?", "hotfix-12")).toBe(false);
    expect(globMatch("hotfix-?", "hotfix-")).toBe(false);
    expect(globMatch("hotfix-?", "hotfix-/")).toBe(false);
    expect(globMatch("v[0-9]", "v1")).toBe(true);
    expect(globMatch("ca[a-z]", "cat")).toBe(true);
    // Both negations GitHub users write (from GitHub's community answers: `[!m]*`).
    expect(globMatch("[!m]*", "main")).toBe(false);
    expect(globMatch("[!m]*", "develop")).toBe(true);
    expect(globMatch("v[^0-9]x", "vax")).toBe(true);
    expect(globMatch("v[^0-9]x", "v1x")).toBe(false);
    // A negated class never matches the separator.
    expect(globMatch("a[!b]c", "a/c")).toBe(false);
    expect(globMatch("[-a]x", "-x")).toBe(true);
  });

  it("treats every other character literally: regular expressions, braces, extglobs and `!`", () => {
    expect(globMatch("release/1.2", "release/1x2")).toBe(false);
    expect(globMatch("release/1.2", "release/1.2")).toBe(true);
    expect(globMatch("(a|b)+", "a")).toBe(false);
    expect(globMatch("(a|b)+", "(a|b)+")).toBe(true);
    // Ruby's File.fnmatch('c{at,ub}s', 'cats') is false without FNM_EXTGLOB, which GitHub does not set.
    expect(globMatch("c{at,ub}s", "cats")).toBe(false);
    expect(globMatch("c{at,ub}s", "c{at,ub}s")).toBe(true);
    expect(globMatch("@(main)", "main")).toBe(false);
    expect(globMatch("!main", "develop")).toBe(false);
    expect(globMatch("!main", "!main")).toBe(true);
    expect(globMatch("users/bob+fix#1", "users/bob+fix#1")).toBe(true);
    expect(globMatch("a]b", "a]b")).toBe(true);
    expect(globMatch("main", "Main")).toBe(false);
  });

  it("never lets a wildcard match a leading dot, as GitHub (no FNM_DOTMATCH)", () => {
    // Git refuses branch names with a segment starting with "."; repository names can (".github").
    expect(globMatch("*", ".github")).toBe(false);
    expect(globMatch("?github", ".github")).toBe(false);
    expect(globMatch(".*", ".github")).toBe(true);
    expect(globMatch("acme/*", "acme/.github")).toBe(false);
    expect(globMatch("**/*", "acme/.github")).toBe(false);
    expect(globMatch("**/x", "a/.b/x")).toBe(false);
    // Ruby: only a literal "." matches a leading one, a class listing "." does not.
    expect(globMatch("[.]github", ".github")).toBe(false);
    expect(globMatch("acme/.git*", "acme/.github")).toBe(true);
  });

  it("stays fast on the slowest patterns validation lets through, on long names", () => {
    const started = performance.now();
    expect(globMatch("*a*b", "a".repeat(255))).toBe(false);
    expect(globMatch("*a*a/*a*b", `${"a".repeat(127)}/${"a".repeat(127)}`)).toBe(false);
    expect(globMatch("**/*a*a/**/*a*a/**/*a*b", `${"a".repeat(30)}/`.repeat(8) + "a")).toBe(false);
    expect(globMatch("**/a/**/a/**/a/**/b", `${"a/".repeat(127)}a`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it("refuses a pattern validation rejects, rather than guessing what it means", () => {
    expect(() => globMatch("*a*a*a*a*a*a*a*a*a*a*a*a*b", "a".repeat(255))).toThrow(/at most 2/);
    expect(() => globMatch("release/[0-9", "release/1")).toThrow(/without its closing/);
  });
});

describe("patternProblem", () => {
  it("accepts GitHub's documented examples", () => {
    for (const pattern of ["main", "*", "qa/*", "qa/**/*", "qa**/**/*", "*release*", "release/[0-9]*"]) {
      expect(patternProblem(pattern)).toBeUndefined();
    }
  });

  it("rejects a final `**`, which GitHub reads as `*` though authors usually mean any depth", () => {
    expect(patternProblem("hotfix/**")).toBe(
      "`hotfix/**` means `hotfix/*` in GitHub's syntax (one more segment only): " +
        "write `hotfix/*` for one segment or `hotfix/**/*` for any number",
    );
    expect(patternProblem("**")).toMatch(/^`\*\*` alone means `\*`/);
  });

  it("rejects patterns that cannot match any branch or repository name", () => {
    expect(patternProblem("release/[0-9")).toMatch(/`\[` without its closing `\]`/);
    expect(patternProblem("v[]")).toMatch(/empty class/);
    expect(patternProblem("v[z-a]")).toBe("has the range `z-a`, which is empty: write `a-z`");
    expect(patternProblem("release/")).toMatch(/empty segment/);
    expect(patternProblem("/main")).toMatch(/empty segment/);
    expect(patternProblem("a//b")).toMatch(/empty segment/);
    expect(patternProblem("release\\*")).toMatch(/nothing needs escaping/);
  });

  it("rejects syntax GitHub does not have, and more than two `*` in a segment", () => {
    expect(patternProblem("v[[:digit:]]")).toMatch(/POSIX class/);
    expect(patternProblem("v[+]")).toMatch(/has `\+` in `\[\.\.\.\]`/);
    expect(patternProblem("*a*b*")).toMatch(/has 3 `\*` in the segment `\*a\*b\*`; at most 2/);
    expect(patternProblem("*a*/*b*")).toBeUndefined();
  });
});

describe("policy validation of patterns", () => {
  it("reports a bad production branch or audit pattern with its file, line and column", () => {
    const text = [
      "version: 1",
      "production_branches:",
      '  patterns: ["release/*", "hotfix/**", "v[0-9"]',
      "audit:",
      '  exclude: ["sandbox-*", "*a*b*c"]',
      "",
    ].join("\n");
    expect(problemsOf(() => parsePolicyLayer(text, "org.yml", FAKE_CONTROLS))).toEqual([
      {
        file: "org.yml",
        line: 3,
        column: 27,
        message:
          "`production_branches.patterns[1]` `hotfix/**` means `hotfix/*` in GitHub's syntax (one more segment only): " +
          "write `hotfix/*` for one segment or `hotfix/**/*` for any number",
      },
      {
        file: "org.yml",
        line: 3,
        column: 40,
        message:
          "`production_branches.patterns[2]` has a `[` without its closing `]`: GitHub reads that as a pattern matching nothing",
      },
      {
        file: "org.yml",
        line: 5,
        column: 26,
        message:
          "`audit.exclude[1]` has 3 `*` in the segment `*a*b*c`; at most 2 are allowed in one segment " +
          "(more make matching a long name slow enough to stall an audit)",
      },
    ]);
  });
});

describe("isProductionBranch", () => {
  function policy(productionBranches: string) {
    const layers = [
      parsePolicyLayer(FAKE_DEFAULT, "policies/soc2.yml", FAKE_CONTROLS),
      parsePolicyLayer(`version: 1\nproduction_branches: ${productionBranches}\n`, "org.yml", FAKE_CONTROLS),
    ];
    return resolvePolicy(layers, FAKE_CONTROLS);
  }

  it("includes the default branch and the branches matching a pattern", () => {
    const releases = policy(`{ patterns: ["release/*"] }`);
    expect(isProductionBranch(releases, "main", "main")).toBe(true);
    expect(isProductionBranch(releases, "trunk", "trunk")).toBe(true);
    expect(isProductionBranch(releases, "trunk", "main")).toBe(false);
    expect(isProductionBranch(releases, "main", "release/2026.06")).toBe(true);
    expect(isProductionBranch(releases, "main", "feature/release/x")).toBe(false);
  });

  it("includes branches matched by `?` and `[...]`, which an earlier matcher took literally", () => {
    const versioned = policy(`{ patterns: ["release/[0-9]*", "hotfix-?"] }`);
    expect(isProductionBranch(versioned, "main", "release/1.2")).toBe(true);
    expect(isProductionBranch(versioned, "main", "release/x")).toBe(false);
    expect(isProductionBranch(versioned, "main", "hotfix-1")).toBe(true);
    expect(isProductionBranch(versioned, "main", "hotfix-12")).toBe(false);
  });

  it("leaves the default branch out when the policy says so", () => {
    const patternsOnly = policy(`{ default_branch: false, patterns: [production] }`);
    expect(isProductionBranch(patternsOnly, "main", "main")).toBe(false);
    expect(isProductionBranch(patternsOnly, "main", "production")).toBe(true);
  });
});
