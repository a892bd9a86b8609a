/**
 * Every REST endpoint the GitHub provider calls, held against GitHub's OpenAPI description: the
 * endpoint exists, our wire schema accepts every documented example of every success answer, and
 * every field we rely on may be null or absent in ours wherever GitHub says it may.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { PullRequestRuleParameters, StatusChecksRuleParameters } from "../../src/providers/github/schema.js";
import { findOperation, resolve, successExamples, type SchemaNode } from "./openapi.js";
import { ENDPOINTS, providerSources, routesInSource } from "./rest-endpoints.js";
import { compareWithDocumented } from "./wire.js";

describe("the REST endpoints the GitHub provider calls", () => {
  it("are exactly the ones this suite checks (a new endpoint cannot be forgotten)", () => {
    expect([...routesInSource()].sort()).toEqual(ENDPOINTS.map((e) => e.route).sort());
  });

  it("are all named by a route literal (no request whose route this suite cannot see)", () => {
    const dynamic: string[] = [];
    for (const [file, text] of providerSources()) {
      for (const match of text.matchAll(/\.(request|paginate(?:\.iterator)?)\(\s*([^\s"'])/g)) {
        // list() in repository.ts pages any route its callers name with a literal.
        if (file === "repository.ts" && match[1] === "paginate" && match[2] === "r") continue;
        dynamic.push(`${file}: .${match[1]}(${match[2]}…`);
      }
    }
    expect(dynamic).toEqual([]);
  });
});

describe.each(ENDPOINTS)("$route", (endpoint) => {
  it("is documented by GitHub", () => {
    expect(findOperation(endpoint.route), `${endpoint.route} in api.github.com`).toBeDefined();
  });

  if (!endpoint.schema) {
    it("has its examples checked through the provider", () => {
      expect(endpoint.checkedElsewhere).toMatch(/\S/);
      expect(
        successExamples(endpoint.route).length + (endpoint.route.startsWith("GET") ? 0 : 1),
      ).toBeGreaterThan(0);
    });
    return;
  }
  const schema = endpoint.list ? z.array(endpoint.schema) : endpoint.schema;

  it("accepts every documented example of a success answer", () => {
    const examples = successExamples(endpoint.route);
    expect(examples.length, "GitHub documents at least one example").toBeGreaterThan(0);
    const rejected = endpoint.rejected ?? {};
    const outcomes = examples.map((example) => {
      const result = schema.safeParse(example.value);
      return {
        example: `${example.status} ${example.name}`,
        accepted: result.success,
        problem: result.success
          ? ""
          : result.error.issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`).join("; "),
      };
    });
    expect(outcomes).toEqual(
      examples.map((example, index) => ({
        example: `${example.status} ${example.name}`,
        accepted: !(example.name in rejected),
        problem: example.name in rejected ? outcomes[index]?.problem : "",
      })),
    );
  });

  it("accepts null wherever GitHub documents it, and names only documented fields", () => {
    const [example] = successExamples(endpoint.route);
    expect(example?.schema, "GitHub documents the answer's schema").toBeDefined();
    const problems = compareWithDocumented(schema, example?.schema as SchemaNode);
    expect(
      problems.filter((p) => p.kind !== "requires-optional").map((p) => `${p.path}: ${p.detail}`),
    ).toEqual([]);
  });

  it("requires a field GitHub may leave out only on purpose (a clear error, never a default)", () => {
    const [example] = successExamples(endpoint.route);
    const problems = compareWithDocumented(schema, example?.schema as SchemaNode);
    expect(
      problems
        .filter((p) => p.kind === "requires-optional")
        .map((p) => p.path)
        .sort(),
    ).toEqual(Object.keys(endpoint.requiredOnPurpose ?? {}).sort());
  });
});

/** The documented schema of one rule type in GitHub's `repository-rule` union. */
function documentedRule(type: string): SchemaNode {
  const union = resolve<SchemaNode>({ $ref: "#/components/schemas/repository-rule" });
  const rule = (union.oneOf ?? [])
    .map((alternative) => resolve(alternative))
    .find((alternative) => resolve(alternative.properties?.type ?? {}).enum?.includes(type));
  if (!rule) throw new Error(`GitHub documents no rule of type ${type}`);
  return rule;
}

describe("rule parameters of GET /repos/{owner}/{repo}/rules/branches/{branch}", () => {
  it.each([
    ["pull_request", PullRequestRuleParameters],
    ["required_status_checks", StatusChecksRuleParameters],
  ] as const)("%s: our parameter schema fits GitHub's", (type, parameters) => {
    const rule = documentedRule(type);
    const documented = rule.properties?.parameters;
    expect(documented, `${type} has parameters`).toBeDefined();
    const problems = compareWithDocumented(parameters, documented as SchemaNode, `${type}.parameters`);
    expect(problems.map((p) => `${p.path}: ${p.detail}`)).toEqual([]);
  });
});

describe("the comparison with GitHub's schema", () => {
  // It must find what it is for, or every test above passes for nothing.
  const documented: SchemaNode = {
    type: "object",
    required: ["login"],
    properties: {
      login: { type: "string", nullable: true },
      inviter: { type: "object", properties: { login: { type: "string" } } },
      teams: {
        type: "array",
        items: { type: "object", properties: { slug: { type: "string", nullable: true } } },
      },
    },
  };

  it("finds a nullable field ours rejects, an optional one ours requires and a field GitHub never sends", () => {
    const ours = z.object({
      login: z.string(),
      inviter: z.object({ login: z.string() }),
      teams: z.array(z.object({ slug: z.string() })),
      invented: z.string(),
    });
    expect(compareWithDocumented(ours, documented).map((p) => `${p.kind} ${p.path}`)).toEqual([
      "rejects-null (root).login",
      "requires-optional (root).inviter",
      "requires-optional (root).inviter.login",
      "requires-optional (root).teams",
      "rejects-null (root).teams[].slug",
      "requires-optional (root).teams[].slug",
      "undocumented (root).invented",
    ]);
  });

  it("finds nothing in a schema that accepts what GitHub documents", () => {
    const ours = z.object({
      login: z.string().nullable(),
      inviter: z.object({ login: z.string().optional() }).optional(),
    });
    expect(compareWithDocumented(ours, documented)).toEqual([]);
  });
});
