/**
 * The hand-written GitHub answers the provider tests use (test/fixtures/github) must be answers
 * GitHub could give: the GraphQL one fits the query it answers under GitHub's published schema
 * (types, enum values, non-null fields, nothing the query did not ask for), the REST one fits the
 * operation's documented schema. A fixture GitHub could never send proves nothing.
 */
import { readFileSync } from "node:fs";
import { schema as published } from "@octokit/graphql-schema";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import {
  buildSchema,
  getNamedType,
  isAbstractType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  Kind,
  parse,
  type DocumentNode,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
} from "graphql";
import { describe, expect, it } from "vitest";
import { PULL_REQUEST_QUERY } from "../../src/providers/github/queries.js";
import { openapi, successExamples, type SchemaNode } from "./openapi.js";

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;

let github: GraphQLSchema | undefined;
function githubSchema(): GraphQLSchema {
  github ??= buildSchema(published.idl, { assumeValidSDL: true });
  return github;
}

function fixtureText(name: string): string {
  return readFileSync(new URL(`../fixtures/github/${name}`, import.meta.url), "utf8");
}

const STRING_SCALARS = new Set([
  "String",
  "ID",
  "DateTime",
  "URI",
  "GitObjectID",
  "GitTimestamp",
  "HTML",
  "Date",
]);

/** Everything in `value` that no GitHub answer to the selection could contain. */
export function answerProblems(
  value: unknown,
  type: GraphQLOutputType,
  set: SelectionSetNode | undefined,
  document: DocumentNode,
  path: string,
): string[] {
  if (isNonNullType(type)) {
    if (value === null) return [`${path}: null, but GitHub's schema says it never is`];
    return answerProblems(value, type.ofType, set, document, path);
  }
  if (value === null) return [];
  if (value === undefined) return [`${path}: missing (GitHub answers every field asked for)`];
  if (isListType(type)) {
    if (!Array.isArray(value)) return [`${path}: not a list`];
    return value.flatMap((item, i) => answerProblems(item, type.ofType, set, document, `${path}[${i}]`));
  }
  const named = getNamedType(type);
  if (isEnumType(named)) {
    return named.getValue(String(value)) ? [] : [`${path}: ${String(value)} is no ${named.name} value`];
  }
  if (isScalarType(named)) {
    const expected = STRING_SCALARS.has(named.name)
      ? "string"
      : named.name === "Boolean"
        ? "boolean"
        : named.name === "Int" || named.name === "Float"
          ? "number"
          : undefined;
    return expected === undefined || typeof value === expected ? [] : [`${path}: not a ${named.name}`];
  }
  if (typeof value !== "object" || !set) return [`${path}: not an object`];
  const data = value as Record<string, unknown>;
  const typename = typeof data.__typename === "string" ? data.__typename : undefined;
  const concrete = typename ? githubSchema().getType(typename) : named;
  if (!concrete) return [`${path}: __typename ${typename} is no GitHub type`];
  if (typename && isAbstractType(named) && !githubSchema().isSubType(named, concrete as GraphQLObjectType)) {
    return [`${path}: ${typename} cannot be a ${named.name}`];
  }
  const problems: string[] = [];
  const asked = new Set<string>();
  const visitSet = (selections: SelectionSetNode, condition: GraphQLNamedType | null) => {
    for (const selection of selections.selections) {
      if (selection.kind === Kind.FIELD) {
        const applies =
          !condition ||
          condition === concrete ||
          (isAbstractType(condition) &&
            isObjectType(concrete) &&
            githubSchema().isSubType(condition, concrete));
        if (!applies) continue;
        const key = selection.alias?.value ?? selection.name.value;
        asked.add(key);
        if (selection.name.value === "__typename") continue;
        const owner = (condition && isObjectType(condition) ? condition : concrete) as GraphQLObjectType;
        const definition = "getFields" in owner ? owner.getFields()[selection.name.value] : undefined;
        if (!definition) {
          problems.push(`${path}.${key}: no such field on ${owner.name}`);
          continue;
        }
        problems.push(
          ...answerProblems(data[key], definition.type, selection.selectionSet, document, `${path}.${key}`),
        );
      } else {
        const fragment =
          selection.kind === Kind.INLINE_FRAGMENT
            ? selection
            : document.definitions.find(
                (d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value,
              );
        if (!fragment || !("selectionSet" in fragment) || !fragment.selectionSet) continue;
        const on =
          "typeCondition" in fragment && fragment.typeCondition
            ? (githubSchema().getType(fragment.typeCondition.name.value) ?? null)
            : condition;
        visitSet(fragment.selectionSet, on);
      }
    }
  };
  visitSet(set, null);
  for (const key of Object.keys(data)) {
    if (!asked.has(key)) problems.push(`${path}.${key}: not asked for by the query`);
  }
  return problems;
}

/** OpenAPI 3.0 (`nullable`) to the JSON Schema Ajv checks. */
function jsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(jsonSchema);
  if (typeof node !== "object" || node === null) return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const out: Record<string, unknown> = Object.fromEntries(
    Object.entries(rest).map(([k, v]) => [
      k,
      k === "$ref" && typeof v === "string" ? v.replace("#/components/", "gh#/components/") : jsonSchema(v),
    ]),
  );
  if (nullable !== true) return out;
  if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
  if (typeof out.type === "string") return { ...out, type: [out.type, "null"] };
  return { anyOf: [out, { type: "null" }] };
}

describe("the GitHub answers the provider tests are built on", () => {
  it("pull-request.json is an answer GitHub could give to PULL_REQUEST_QUERY", () => {
    const document = parse(PULL_REQUEST_QUERY);
    const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
    const query = githubSchema().getQueryType();
    if (operation?.kind !== Kind.OPERATION_DEFINITION || !query) throw new Error("no query");
    const answer = JSON.parse(fixtureText("pull-request.json")) as unknown;
    expect(answerProblems(answer, query, operation.selectionSet, document, "data")).toEqual([]);
  });

  it("branch-protection.json fits GitHub's documented branch protection answer", () => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
    addFormats(ajv);
    ajv.addSchema({ $id: "gh", components: jsonSchema(openapi("api.github.com").components) });
    const [example] = successExamples("GET /repos/{owner}/{repo}/branches/{branch}/protection");
    const validate = ajv.compile(jsonSchema(example?.schema as SchemaNode) as object);
    const valid = validate(JSON.parse(fixtureText("branch-protection.json")));
    expect(valid ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ""}`)).toEqual(
      [],
    );
  });

  it("the answer check finds what GitHub could never send", () => {
    const document = parse(`query Q { viewer { login isHireable } rateLimit { cost } }`);
    const operation = document.definitions[0];
    const query = githubSchema().getQueryType();
    if (operation?.kind !== Kind.OPERATION_DEFINITION || !query) throw new Error("no query");
    expect(
      answerProblems(
        { viewer: { login: null, isHireable: "yes", extra: 1 }, rateLimit: null },
        query,
        operation.selectionSet,
        document,
        "data",
      ),
    ).toEqual([
      "data.viewer.login: null, but GitHub's schema says it never is",
      "data.viewer.isHireable: not a Boolean",
      "data.viewer.extra: not asked for by the query",
    ]);
  });
});
