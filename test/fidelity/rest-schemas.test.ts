/**
 * Every REST endpoint the GitHub provider calls, held against GitHub's OpenAPI description: the
 * endpoint exists, our wire schema accepts every documented example of every success answer, and
 * every field we rely on may be null or absent in ours wherever GitHub says it may.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  ENTERPRISE_SERVER,
  findOperation,
  queryParameterProblem,
  resolve,
  successExamples,
  type Edition,
  type SchemaNode,
} from "./openapi.js";
import { ENDPOINTS, providerSources, routesInSource, wireSchemas } from "./rest-endpoints.js";
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

describe("the wire schemas the provider pages REST lists with", () => {
  it("are the ones this suite checks for that route", () => {
    const unchecked: string[] = [];
    for (const [file, text] of providerSources()) {
      for (const match of text.matchAll(/\blist\(\s*ctx,\s*"([^"]+)",\s*\{[^{}]*\},\s*(\w+)/g)) {
        const [, route, schema] = match;
        const entry = ENDPOINTS.find((e) => e.route === route);
        // An endpoint whose local schema is not exported has its examples fed through the provider.
        if (entry && !entry.schema && entry.checkedElsewhere) continue;
        const names = typeof entry?.schema === "string" ? [entry.schema] : (entry?.schema ?? []);
        if (!schema || !names.includes(schema)) unchecked.push(`${file}: ${route} with ${schema}`);
      }
    }
    expect(unchecked).toEqual([]);
  });
});

const EDITIONS: Edition[] = ["api.github.com", ...ENTERPRISE_SERVER];

/** Endpoints the provider calls that GitHub Enterprise Server does not have, and where that is tested. */
const ABSENT_ON_ENTERPRISE_SERVER: Record<string, string> = {
  "GET /orgs/{org}/invitations": "provider.test.ts: invitations are not available on this host",
};

describe("GitHub Enterprise Server", () => {
  it.each(ENTERPRISE_SERVER)("%s lacks exactly the endpoints listed as absent", (edition) => {
    const absent = ENDPOINTS.filter((e) => !findOperation(e.route, edition)).map((e) => e.route);
    expect(absent.sort()).toEqual(Object.keys(ABSENT_ON_ENTERPRISE_SERVER).sort());
  });
});

describe.each(ENDPOINTS)("$route", (endpoint) => {
  it("is documented by GitHub", () => {
    expect(findOperation(endpoint.route), `${endpoint.route} in api.github.com`).toBeDefined();
  });

  if (!endpoint.schema) {
    it("has its examples checked through the provider", () => {
      expect(endpoint.checkedElsewhere).toMatch(/\S/);
    });
    return;
  }
  const names = typeof endpoint.schema === "string" ? [endpoint.schema] : endpoint.schema;

  /** Each named schema as the provider imports it, wrapped in an array for a list answer. */
  async function schemas(): Promise<{ name: string; schema: z.ZodType }[]> {
    const found = [];
    for (const name of names) {
      const modules = await wireSchemas(name);
      expect(modules.length, `the provider imports a wire schema named ${name}`).toBeGreaterThan(0);
      for (const { module, schema } of modules) {
        found.push({ name: `${module}.${name}`, schema: endpoint.list ? z.array(schema) : schema });
      }
    }
    return found;
  }

  it.each(EDITIONS)("accepts every documented example of a success answer (%s)", async (edition) => {
    if (!findOperation(endpoint.route, edition)) {
      // An endpoint the edition lacks: the provider must say so (provider.test.ts shows it does).
      expect(
        ABSENT_ON_ENTERPRISE_SERVER[endpoint.route],
        `${endpoint.route} is absent on ${edition}`,
      ).toBeDefined();
      return;
    }
    const examples = successExamples(endpoint.route, ["application/json"], edition);
    expect(examples.length, "GitHub documents at least one example").toBeGreaterThan(0);
    const rejected: string[] = [];
    for (const { name, schema } of await schemas()) {
      for (const example of examples) {
        const result = schema.safeParse(example.value);
        if (!result.success) {
          const issues = result.error.issues.map((i) => `${i.path.map(String).join(".")}: ${i.message}`);
          rejected.push(`${name} rejects ${example.status} ${example.name}: ${issues.join("; ")}`);
        }
      }
    }
    expect(rejected).toEqual([]);
  });

  it("accepts null wherever GitHub documents it, and names only documented fields", async () => {
    const [example] = successExamples(endpoint.route);
    expect(example?.schema, "GitHub documents the answer's schema").toBeDefined();
    const problems: string[] = [];
    for (const { name, schema } of await schemas()) {
      for (const p of compareWithDocumented(schema, example?.schema as SchemaNode)) {
        if (
          p.kind === "rejects-null" ||
          (p.kind === "undocumented" && !(p.path in (endpoint.undocumentedOnPurpose ?? {})))
        )
          problems.push(`${name} ${p.path}: ${p.detail}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it("requires a field GitHub may leave out only on purpose (a clear error, never a default)", async () => {
    const [example] = successExamples(endpoint.route);
    const problems: string[] = [];
    for (const { name, schema } of await schemas()) {
      for (const p of compareWithDocumented(schema, example?.schema as SchemaNode)) {
        if (p.kind === "requires-optional" && !(p.path in (endpoint.requiredOnPurpose ?? {}))) {
          problems.push(`${name} ${p.path}: ${p.detail}`);
        }
      }
    }
    expect(problems).toEqual([]);
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
    ["pull_request", "PullRequestRuleParameters"],
    ["required_status_checks", "StatusChecksRuleParameters"],
  ])("%s: our parameter schema (%s) fits GitHub's", async (type, name) => {
    const rule = documentedRule(type);
    const documented = rule.properties?.parameters;
    expect(documented, `${type} has parameters`).toBeDefined();
    const modules = await wireSchemas(name);
    expect(modules.length, `the provider imports ${name}`).toBeGreaterThan(0);
    for (const { module, schema } of modules) {
      const problems = compareWithDocumented(
        schema,
        documented as SchemaNode,
        `${module}: ${type}.parameters`,
      );
      expect(problems.map((p) => `${p.path}: ${p.detail}`)).toEqual([]);
    }
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

describe("the query parameter check of the documented GitHub (documented-github.ts)", () => {
  it("knows documented parameters and values, and finds the rest", () => {
    expect(queryParameterProblem("GET /orgs/{org}/members", "filter", "2fa_disabled")).toBeNull();
    expect(queryParameterProblem("GET /orgs/{org}/members", "role", "admin")).toBeNull();
    expect(queryParameterProblem("GET /orgs/{org}/members", "role", "owner")).toMatch(/none of/);
    expect(queryParameterProblem("GET /orgs/{org}/members", "affiliation", "all")).toMatch(/not documented/);
  });
});
