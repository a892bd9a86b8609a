/** GitHub's own record of bypasses (rule suites) applied to merged pull requests. */
import { describe, expect, it } from "vitest";
import type { GitHubContext } from "../../../src/providers/github/http.js";
import { observeBypass } from "../../../src/providers/github/rule-suites.js";
import { documentedExample } from "../../fidelity/openapi.js";
import { makeChangeRequest } from "../../fixtures/build.js";
import { github, testOctokit, useHttpMock } from "./mock.js";

const SUITES = "GET /repos/{owner}/{repo}/rulesets/rule-suites";
const SUITES_QUERY = {
  ref: "refs/heads/main",
  time_period: "month",
  rule_suite_result: "bypass",
  per_page: 100,
};

function context(): GitHubContext {
  return {
    octokit: testOctokit(),
    log: { debug: () => {}, info: () => {}, warn: () => {} },
    baseUrl: "https://api.github.com",
    unreadable: [],
    branchRules: new Map(),
    listedRepositories: new Map(),
    outsideCollaborators: new Map(),
    bypassRecords: new Map(),
  };
}

/** main is guarded by ruleset 42 only. */
function mockRuleset() {
  return github()
    .get("/repos/acme/api/rules/branches/main")
    .query({ per_page: 100 })
    .reply(200, [{ type: "non_fast_forward", ruleset_id: 42 }])
    .get("/repos/acme/api/rulesets/42")
    .query({ includes_parents: true })
    .reply(200, { id: 42, name: "main", source: "acme/api", enforcement: "active", bypass_actors: [] })
    .get("/repos/acme/api/branches/main/protection")
    .reply(404, { message: "Branch not protected" });
}

describe("observeBypass", () => {
  useHttpMock();

  it("makes a merge GitHub's documented rule suites list as a bypass a bypass, and leaves the others", async () => {
    const suites = documentedExample<Array<{ after_sha: string; result: string }>>(SUITES);
    const bypass = suites.find((s) => s.result === "bypass");
    if (!bypass) throw new Error("no documented bypass");
    mockRuleset().get("/repos/acme/api/rulesets/rule-suites").query(SUITES_QUERY).reply(200, suites);
    const ctx = context();

    const bypassed = await observeBypass(
      ctx,
      "acme/api",
      makeChangeRequest({ mergeCommitSha: bypass.after_sha }),
    );
    const passed = await observeBypass(ctx, "acme/api", makeChangeRequest({ number: 13 }));

    expect(bypassed.bypassedProtection).toEqual({ known: true, value: true });
    expect(passed.bypassedProtection).toEqual(makeChangeRequest().bypassedProtection);
  });

  it("leaves the derivation to the evidence when the credentials may not read rule suites", async () => {
    mockRuleset()
      .get("/repos/acme/api/rulesets/rule-suites")
      .query(SUITES_QUERY)
      .reply(403, { message: "Resource not accessible by integration" });
    const change = makeChangeRequest();

    expect(await observeBypass(context(), "acme/api", change)).toEqual(change);
  });

  it("stops with the reason on a rate limit", async () => {
    mockRuleset()
      .get("/repos/acme/api/rulesets/rule-suites")
      .query(SUITES_QUERY)
      .reply(
        403,
        { message: "API rate limit exceeded" },
        { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1" },
      );

    await expect(observeBypass(context(), "acme/api", makeChangeRequest())).rejects.toThrow(/rate limit/);
  });

  it("asks nothing for a change not merged", async () => {
    const open = makeChangeRequest({ state: "open", mergedAt: null, mergeCommitSha: null });
    expect(await observeBypass(context(), "acme/api", open)).toEqual(open);
  });
});
