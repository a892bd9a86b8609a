/**
 * The simulated GitHub must not drift from the real one: every REST answer it gives is validated
 * against the operation's success schema in GitHub's OpenAPI description, and every GraphQL query
 * the provider sends is validated against GitHub's published schema.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { parse, validate } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { githubSchema } from "../../src/sim/github/graphql.js";
import { ROUTES } from "../../src/sim/github/rest-routes.js";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../src/sim/github/server.js";
import { createWorld } from "../../src/sim/github/world.js";
import * as queries from "../../src/providers/github/queries.js";
import {
  cleanBranchRule,
  makeChangeRequest,
  makeDirectPush,
  makeRepository,
  makeSnapshot,
} from "../fixtures/build.js";

const require = createRequire(import.meta.url);
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;

interface OpenApi {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
  components: unknown;
}

const H = "h".repeat(40);
/** One request per route: [route key, url path, body]. A route without a sample fails the test below. */
const SAMPLES: Record<string, { url: string; body?: unknown }> = {
  "GET /orgs/{org}": { url: "/orgs/acme" },
  "GET /user": { url: "/user" },
  "GET /app/hook/deliveries": { url: "/app/hook/deliveries?per_page=100" },
  // The world's deliveries are numbered from 90,000,000 in time order: the direct push of 2026-10-31 is the fourth.
  "GET /app/hook/deliveries/{delivery_id}": { url: "/app/hook/deliveries/90000003" },
  "GET /orgs/{org}/members": { url: "/orgs/acme/members?role=all" },
  "GET /orgs/{org}/invitations": { url: "/orgs/acme/invitations" },
  "GET /orgs/{org}/outside_collaborators": { url: "/orgs/acme/outside_collaborators" },
  "GET /orgs/{org}/repos": { url: "/orgs/acme/repos?type=all" },
  "GET /repos/{owner}/{repo}": { url: "/repos/acme/api" },
  "GET /repos/{owner}/{repo}/branches": { url: "/repos/acme/api/branches" },
  "GET /repos/{owner}/{repo}/branches/{branch}/protection": {
    url: "/repos/acme/api/branches/main/protection",
  },
  "GET /repos/{owner}/{repo}/rules/branches/{branch}": { url: "/repos/acme/api/rules/branches/main" },
  "GET /repos/{owner}/{repo}/rulesets": { url: "/repos/acme/api/rulesets" },
  "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}": {
    url: "/repos/acme/api/rulesets/12?includes_parents=true",
  },
  "GET /repos/{owner}/{repo}/collaborators": { url: "/repos/acme/api/collaborators?affiliation=all" },
  "GET /repos/{owner}/{repo}/teams": { url: "/repos/acme/api/teams" },
  "GET /repos/{owner}/{repo}/keys": { url: "/repos/acme/api/keys" },
  "GET /repos/{owner}/{repo}/contents/{path}": {
    url: "/repos/acme/.github/contents/.github/soc2.yml?ref=main",
  },
  "GET /repos/{owner}/{repo}/pulls": { url: "/repos/acme/api/pulls?state=closed&base=main" },
  "GET /repos/{owner}/{repo}/pulls/{pull_number}": { url: "/repos/acme/api/pulls/12" },
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews": { url: "/repos/acme/api/pulls/12/reviews" },
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits": { url: "/repos/acme/api/pulls/12/commits" },
  "GET /repos/{owner}/{repo}/issues/{issue_number}/timeline": { url: "/repos/acme/api/issues/12/timeline" },
  "GET /repos/{owner}/{repo}/commits": { url: "/repos/acme/api/commits?sha=main" },
  "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls": {
    url: `/repos/acme/api/commits/${"m".repeat(40)}/pulls`,
  },
  "GET /repos/{owner}/{repo}/commits/{ref}/check-runs": { url: `/repos/acme/api/commits/${H}/check-runs` },
  "GET /repos/{owner}/{repo}/commits/{ref}/statuses": { url: `/repos/acme/api/commits/${H}/statuses` },
  "POST /repos/{owner}/{repo}/check-runs": {
    url: "/repos/acme/api/check-runs",
    body: { name: "soc2", head_sha: H, status: "in_progress" },
  },
  "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}": {
    url: "/repos/acme/api/check-runs/{created}",
    body: { conclusion: "success", output: { title: "ok", summary: "all pass" } },
  },
  "POST /repos/{owner}/{repo}/statuses/{sha}": {
    url: `/repos/acme/api/statuses/${H}`,
    body: { state: "success", context: "soc2" },
  },
  "POST /repos/{owner}/{repo}/issues": {
    url: "/repos/acme/api/issues",
    body: { title: "Finding", body: "text", labels: ["soc2"] },
  },
  "GET /repos/{owner}/{repo}/issues": { url: "/repos/acme/api/issues?labels=soc2&state=all" },
  "PATCH /repos/{owner}/{repo}/issues/{issue_number}": {
    url: "/repos/acme/api/issues/13",
    body: { state: "closed" },
  },
  "POST /repos/{owner}/{repo}/issues/{issue_number}/comments": {
    url: "/repos/acme/api/issues/13/comments",
    body: { body: "still failing" },
  },
  "GET /repos/{owner}/{repo}/issues/{issue_number}/comments": { url: "/repos/acme/api/issues/13/comments" },
  "GET /rate_limit": { url: "/rate_limit" },
  "GET /repos/{owner}/{repo}/activity": {
    url: "/repos/acme/api/activity?ref=refs/heads/main&direction=desc",
  },
  "GET /repos/{owner}/{repo}/compare/{basehead}": {
    url: `/repos/acme/api/compare/${"m".repeat(40)}...${"d".repeat(40)}?per_page=100&page=1`,
  },
  "GET /repos/{owner}/{repo}/rulesets/rule-suites": {
    url: "/repos/acme/api/rulesets/rule-suites?ref=refs/heads/main&time_period=month&rule_suite_result=all",
  },
  // An access review, in order: a branch, a file on it, the pull request ({pull}), its review and merge.
  "GET /repos/{owner}/{repo}/git/ref/{ref}": { url: "/repos/acme/api/git/ref/heads%2Fmain" },
  "POST /repos/{owner}/{repo}/git/refs": {
    url: "/repos/acme/api/git/refs",
    body: { ref: "refs/heads/soc2-bot/access-review/2026-Q4/organization-admins", sha: "e".repeat(40) },
  },
  "PUT /repos/{owner}/{repo}/contents/{path}": {
    url: "/repos/acme/api/contents/access-reviews%2F2026-Q4%2Forganization-admins.yml",
    body: {
      message: "Open the review",
      content: Buffer.from("review: 2026-Q4\n").toString("base64"),
      branch: "soc2-bot/access-review/2026-Q4/organization-admins",
    },
  },
  "POST /repos/{owner}/{repo}/pulls": {
    url: "/repos/acme/api/pulls",
    body: {
      title: "Access review",
      head: "soc2-bot/access-review/2026-Q4/organization-admins",
      base: "main",
    },
  },
  "POST /repos/{owner}/{repo}/issues/{issue_number}/labels": {
    url: "/repos/acme/api/issues/{pull}/labels",
    body: { labels: ["soc2-access-review"] },
  },
  "GET /repos/{owner}/{repo}/pulls/{pull_number}/files": { url: "/repos/acme/api/pulls/{pull}/files" },
  "POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews": {
    url: "/repos/acme/api/pulls/{pull}/reviews",
    body: { event: "COMMENT", body: "looked" },
  },
  "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge": {
    url: "/repos/acme/api/pulls/{pull}/merge",
    body: {},
  },
  "DELETE /repos/{owner}/{repo}/collaborators/{username}": { url: "/repos/acme/api/collaborators/bob" },
  "DELETE /orgs/{org}/memberships/{username}": { url: "/orgs/acme/memberships/carol" },
  "DELETE /repos/{owner}/{repo}/keys/{key_id}": { url: "/repos/acme/api/keys/7" },
  "DELETE /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}": {
    url: "/orgs/acme/teams/engineering/repos/acme/api",
  },
};

/** OpenAPI 3.0's `nullable` as JSON Schema (Ajv only takes it beside a `type`, GitHub uses it everywhere). */
function jsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(jsonSchema);
  if (node === null || typeof node !== "object") return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const out = Object.fromEntries(
    Object.entries(rest).map(([k, v]) => [
      k,
      k === "properties" || k === "enum" || k === "example" || k === "examples"
        ? k === "properties"
          ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, jsonSchema(pv)]))
          : v
        : jsonSchema(v),
    ]),
  );
  if (nullable !== true) return out;
  if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
  if (typeof out.type === "string") return { ...out, type: [out.type, "null"] };
  return { anyOf: [out, { type: "null" }] };
}

let sim: SimulatedGitHub;
let openapi: OpenApi;
let ajv: Ajv;

beforeAll(async () => {
  openapi = JSON.parse(
    readFileSync(require.resolve("@octokit/openapi/generated/api.github.com.json"), "utf8"),
  ) as OpenApi;
  ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ $id: "gh", components: jsonSchema(openapi.components) });
  const snapshot = makeSnapshot({
    repositories: [
      makeRepository({
        branchRules: {
          known: true,
          value: [cleanBranchRule({ sources: ["branch-protection", "ruleset:12"], bypassActors: ["carol"] })],
        },
        deployKeys: {
          known: true,
          value: [
            { id: "7", title: "deploy", readOnly: true, createdAt: "2026-01-01T00:00:00Z", addedBy: "alice" },
          ],
        },
      }),
    ],
    changeRequests: [
      makeChangeRequest({
        pushes: [{ at: "2026-10-01T09:05:00Z", actor: "alice", headSha: H, forced: true }],
        checks: [
          ...makeChangeRequest().checks,
          {
            name: "lint",
            kind: "status",
            conclusion: "success",
            on: "head",
            sha: H,
            url: null,
            completedAt: "2026-10-01T09:06:00Z",
          },
        ],
      }),
    ],
    directPushes: [
      makeDirectPush(),
      // Pushed within the 3 days before the world's time: GitHub still lists its webhook delivery.
      makeDirectPush({
        sha: "e".repeat(40),
        at: "2026-10-31T12:00:00Z",
        pushedAt: "2026-10-31T12:00:00Z",
        url: "https://github.com/acme/api/commit/" + "e".repeat(40),
      }),
    ],
    policyFiles: [
      {
        layer: "organization",
        repository: null,
        path: "acme/.github:.github/soc2.yml@main",
        content: "controls: {}\n",
      },
    ],
  });
  sim = await startSimulatedGitHub({ world: createWorld(snapshot), seed: 1 });
});
afterAll(() => sim.close());

describe("REST answers match GitHub's OpenAPI description", () => {
  it("has a sample request for every route the simulator serves", () => {
    expect(ROUTES.map((r) => `${r.method} ${r.path}`).filter((key) => !(key in SAMPLES))).toEqual([]);
  });

  it("validates every answer against the operation's success schema", async () => {
    const problems: string[] = [];
    let created = 0;
    let pull = 0;
    for (const [key, sample] of Object.entries(SAMPLES)) {
      const [method = "GET", path = ""] = key.split(" ");
      const url = sample.url.replace("{created}", String(created)).replace("{pull}", String(pull));
      const response = await fetch(sim.url + url, {
        method,
        body: sample.body === undefined ? undefined : JSON.stringify(sample.body),
      });
      const operation = openapi.paths[path]?.[method.toLowerCase()];
      // Each sample asks what succeeds: an error answer would leave the success shape unchecked.
      if (response.status >= 400) problems.push(`${key}: answered ${response.status}`);
      if (response.status === 204) {
        // No content: GitHub documents a 204 without a body for it, or the answer is wrong.
        if (!operation?.responses["204"] || (await response.text()) !== "")
          problems.push(`${key}: 204 is not a documented answer without a body`);
        continue;
      }
      const body = (await response.json()) as { id?: number; number?: number };
      if (key === "POST /repos/{owner}/{repo}/check-runs") created = body.id ?? 0;
      if (key === "POST /repos/{owner}/{repo}/pulls") pull = body.number ?? 0;
      const answer = operation?.responses[String(response.status)];
      const schema = answer?.content?.["application/json"]?.schema;
      if (!schema) {
        problems.push(
          `${key}: no ${response.status} schema in the OpenAPI description (${JSON.stringify(body).slice(0, 200)})`,
        );
        continue;
      }
      const check = ajv.compile(
        JSON.parse(
          JSON.stringify(jsonSchema(schema)).replaceAll('"#/components/', '"gh#/components/'),
        ) as object,
      );
      if (!check(body)) problems.push(`${key}: ${ajv.errorsText(check.errors?.slice(0, 5))}`);
    }
    expect(problems).toEqual([]);
  });
});

describe("GraphQL queries match GitHub's schema", () => {
  const texts = Object.entries(queries).filter(
    ([name, text]) => typeof text === "string" && /^(query|fragment)/.test(text) && name.endsWith("QUERY"),
  );

  it("finds the provider's queries", () => {
    expect(texts.map(([name]) => name).sort()).toEqual([
      "BRANCH_HISTORY_QUERY",
      "CHANGE_CHECK_QUERY",
      "COMMIT_CONTEXTS_QUERY",
      "MERGED_PULL_REQUESTS_QUERY",
      "PULL_REQUEST_COMMITS_QUERY",
      "PULL_REQUEST_QUERY",
      "PULL_REQUEST_REVIEWS_QUERY",
      "PULL_REQUEST_TIMELINE_QUERY",
    ]);
  });

  // The batched authors query is built for the number of commits asked: checked at 1 and 3.
  const built: Array<[string, string]> = [1, 3].map((n) => [
    `commitAuthorsQuery(${n})`,
    queries.commitAuthorsQuery(n),
  ]);

  it.each([...texts, ...built])(
    "%s is valid against the published schema and the simulator answers it without errors",
    async (_name, text) => {
      expect(validate(githubSchema(), parse(text as string)).map((e) => e.message)).toEqual([]);
      const variables = {
        owner: "acme",
        name: "api",
        number: 12,
        base: "main",
        ref: "refs/heads/main",
        since: "2026-08-01T00:00:00Z",
        until: "2026-11-01T00:00:00Z",
        after: null,
        oid: H,
        o0: H,
        a0: null,
        o1: H,
        o2: "f".repeat(40),
        policyPath: ".github/soc2.yml",
        // A policy repository the world has: the answer then has no NOT_FOUND error.
        policyRepository: "api",
      };
      const answer = (await (
        await fetch(sim.graphqlUrl, { method: "POST", body: JSON.stringify({ query: text, variables }) })
      ).json()) as { errors?: unknown; data?: unknown };
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toBeTruthy();
    },
  );

  it("rejects a query GitHub's schema rejects, shaped like GitHub's errors", async () => {
    const answer = (await (
      await fetch(sim.graphqlUrl, {
        method: "POST",
        body: JSON.stringify({ query: '{ repository(owner: "acme", name: "api") { nope } }' }),
      })
    ).json()) as { errors: Array<{ message: string }> };
    expect(answer.errors.map((e) => e.message)).toEqual([
      expect.stringContaining('Cannot query field "nope" on type "Repository".'),
    ]);
  });
});
