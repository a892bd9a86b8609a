import { describe, expect, it } from "vitest";
import { globMatch, isProductionBranch, parsePolicyLayer, resolvePolicy } from "../../src/policy/index.js";
import { FAKE_CONTROLS, FAKE_DEFAULT } from "./fake-controls.js";

describe("globMatch", () => {
  it("matches `*` within one path segment only", () => {
    expect(globMatch("release/*", "release/1.2")).toBe(true);
    expect(globMatch("release/*", "release/")).toBe(true);
    expect(globMatch("release/*", "release/1.2/hotfix")).toBe(false);
    expect(globMatch("release/*", "release")).toBe(false);
    expect(globMatch("release-*", "release-2026")).toBe(true);
    expect(globMatch("*", "main")).toBe(true);
    expect(globMatch("*", "feature/x")).toBe(false);
  });

  it("matches `**` across segments, and `**/` also matches no segment", () => {
    expect(globMatch("hotfix/**", "hotfix/2026/inc-42")).toBe(true);
    expect(globMatch("**/prod", "deploy/eu/prod")).toBe(true);
    expect(globMatch("**/prod", "prod")).toBe(true);
    expect(globMatch("**/prod", "preprod")).toBe(false);
    expect(globMatch("env/**/live", "env/live")).toBe(true);
    expect(globMatch("env/**/live", "env/eu/west/live")).toBe(true);
  });

  it("treats every other character literally, regular expression syntax included", () => {
    expect(globMatch("release/1.2", "release/1x2")).toBe(false);
    expect(globMatch("release/1.2", "release/1.2")).toBe(true);
    expect(globMatch("(a|b)+", "a")).toBe(false);
    expect(globMatch("(a|b)+", "(a|b)+")).toBe(true);
    expect(globMatch("v[0-9]", "v1")).toBe(false);
    expect(globMatch("main", "Main")).toBe(false);
  });

  it("stays fast on patterns that make backtracking matchers explode", () => {
    const started = performance.now();
    expect(globMatch("*a*a*a*a*a*a*a*a*a*a*a*a*b", "a".repeat(255))).toBe(false);
    expect(globMatch("**a**a**a**a**a**a**a**a**b", `${"a/".repeat(127)}a`)).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
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

  it("leaves the default branch out when the policy says so", () => {
    const patternsOnly = policy(`{ default_branch: false, patterns: [production] }`);
    expect(isProductionBranch(patternsOnly, "main", "main")).toBe(false);
    expect(isProductionBranch(patternsOnly, "main", "production")).toBe(true);
  });
});
