/**
 * GitHub publishes no GraphQL answer examples, but its schema says exactly what an answer to each
 * query may hold. Each query's wire schema (`<Operation>Answer`) is held against it: every field the
 * schema types as nullable must accept null in ours (a ghost author, a check run without an app), a
 * field behind a type condition may be absent, and ours must not require a field the query never
 * asks for (every answer would then be rejected).
 *
 * The schema also types every connection, its `nodes` and each node as nullable; GitHub answers null
 * there only when resolving the item failed, always with `errors` beside the data, which
 * @octokit/graphql turns into an exception (a clear error): those nulls are not held against ours.
 */
import { schema as published } from "@octokit/graphql-schema";
import {
  buildSchema,
  getNamedType,
  isAbstractType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  parse,
  type DocumentNode,
  type FieldNode,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type SelectionSetNode,
} from "graphql";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import * as queries from "../../src/providers/github/queries.js";
import { wireSchemas } from "./rest-endpoints.js";

let github: GraphQLSchema | undefined;
function githubSchema(): GraphQLSchema {
  // The published SDL repeats two fields, hence assumeValidSDL.
  github ??= buildSchema(published.idl, { assumeValidSDL: true });
  return github;
}

const operations: [string, string][] = Object.values(queries as Record<string, unknown>).flatMap((text) => {
  const name = typeof text === "string" ? /^\s*query\s+(\w+)/m.exec(text)?.[1] : undefined;
  return name ? [[name, text as string] as [string, string]] : [];
});

interface Selected {
  key: string;
  node: FieldNode;
  /** The type condition of the fragment the field sits in, if any. */
  condition: GraphQLNamedType | null;
}

/** The fields of a selection set, fragments flattened, each with the type condition it sits under. */
function selectedFields(
  set: SelectionSetNode,
  document: DocumentNode,
  condition: GraphQLNamedType | null = null,
): Selected[] {
  const fields: Selected[] = [];
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      fields.push({ key: selection.alias?.value ?? selection.name.value, node: selection, condition });
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
      fields.push(...selectedFields(fragment.selectionSet, document, on));
    }
  }
  return fields;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if (def.type === "pipe" && def.in) current = def.in;
    else if (
      ["optional", "nullable", "default", "prefault", "readonly", "catch"].includes(def.type) &&
      def.innerType
    )
      current = def.innerType;
    else return current;
  }
}

/** The `__typename` literal an object schema of a union insists on, if any. */
function typenameOf(option: z.ZodObject): string | undefined {
  const typename = (option.shape as Record<string, z.ZodType | undefined>).__typename;
  if (!typename) return undefined;
  const def = unwrap(typename)._zod.def as { type: string; values?: unknown[] };
  return def.type === "literal" ? String(def.values?.[0]) : undefined;
}

function applies(condition: GraphQLNamedType | null, concrete: GraphQLNamedType): boolean {
  if (!condition || condition === concrete) return true;
  if (isAbstractType(condition) && isObjectType(concrete))
    return githubSchema().isSubType(condition, concrete);
  // Our schema describes the abstract type itself: the conditional field may or may not be there.
  return isAbstractType(concrete);
}

/** Walks our schema along the query and GitHub's types, listing every answer ours would reject. */
function compare(
  ours: z.ZodType,
  type: GraphQLOutputType,
  set: SelectionSetNode | undefined,
  document: DocumentNode,
  path: string,
  problems: string[],
  structural = false,
): void {
  const inner = unwrap(ours);
  const bare = isNonNullType(type) ? type.ofType : type;
  if (isListType(bare)) {
    if (!(inner instanceof z.ZodArray)) return;
    const element = inner.element as z.ZodType;
    if (!isNonNullType(bare.ofType) && !structural && !element.safeParse(null).success) {
      problems.push(`${path}[]: GitHub's schema lets an item be null; ours rejects null`);
    }
    compare(element, bare.ofType, set, document, `${path}[]`, problems);
    return;
  }
  if (!set) return;
  const named = getNamedType(bare);
  const options = inner instanceof z.ZodUnion ? (inner.options as z.ZodType[]).map(unwrap) : [inner];
  for (const option of options) {
    if (!(option instanceof z.ZodObject)) continue;
    const typename = typenameOf(option);
    const concrete = (typename ? githubSchema().getType(typename) : undefined) ?? named;
    const at = typename && typename !== named.name ? `${path}<${typename}>` : path;
    const fields = selectedFields(set, document).filter((f) => applies(f.condition, concrete));
    const shape = option.shape as Record<string, z.ZodType>;
    for (const key of Object.keys(shape)) {
      if (!fields.some((f) => f.key === key) && !shape[key]?.safeParse(undefined).success) {
        problems.push(`${at}.${key}: required by ours, never asked for by the query`);
      }
    }
    for (const field of fields) {
      const zodField = shape[field.key];
      if (!zodField || field.node.name.value === "__typename") continue;
      const owner = (
        field.condition && isObjectType(field.condition) ? field.condition : concrete
      ) as GraphQLObjectType;
      const definition = "getFields" in owner ? owner.getFields()[field.node.name.value] : undefined;
      if (!definition) continue;
      // A connection, its nodes and edges are null only beside errors (see the top of this file).
      const partOfConnection =
        getNamedType(definition.type).name.endsWith("Connection") ||
        ((field.node.name.value === "nodes" || field.node.name.value === "edges") &&
          concrete.name.endsWith("Connection"));
      if (!isNonNullType(definition.type) && !partOfConnection && !zodField.safeParse(null).success) {
        problems.push(`${at}.${field.key}: GitHub's schema lets it be null; ours rejects null`);
      }
      const conditional =
        field.condition !== null && field.condition !== concrete && isAbstractType(concrete);
      if (conditional && !zodField.safeParse(undefined).success) {
        problems.push(`${at}.${field.key}: only there for ${field.condition?.name}; ours requires it`);
      }
      compare(
        zodField,
        definition.type,
        field.node.selectionSet,
        document,
        `${at}.${field.key}`,
        problems,
        partOfConnection,
      );
    }
  }
}

describe("the GitHub provider's GraphQL wire schemas", () => {
  it("exist for every query (named <Operation>Answer)", async () => {
    expect(operations.length).toBeGreaterThanOrEqual(3);
    for (const [name] of operations) {
      expect((await wireSchemas(`${name}Answer`)).length, `${name}Answer`).toBeGreaterThan(0);
    }
  });

  describe.each(operations)("%s", (name, text) => {
    it("accepts every null GitHub's schema allows, and requires only what the query asks", async () => {
      const document = parse(text);
      const operation = document.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION);
      if (operation?.kind !== Kind.OPERATION_DEFINITION) throw new Error(`${name}: no operation`);
      const query = githubSchema().getQueryType();
      if (!query) throw new Error("GitHub's schema has no Query type");
      const problems: string[] = [];
      for (const { module, schema } of await wireSchemas(`${name}Answer`)) {
        compare(schema, query, operation.selectionSet, document, `${module}.${name}Answer`, problems);
      }
      expect(problems).toEqual([]);
    });
  });

  it("the comparison finds a null ours rejects, a conditional field ours requires, and a field never asked", () => {
    const document = parse(`query Q {
      repository(owner: "a", name: "b") {
        pullRequest(number: 1) { author { login } mergedAt }
        ref(qualifiedName: "main") { target { ... on Commit { oid } } }
      }
    }`);
    const ours = z.object({
      repository: z
        .object({
          pullRequest: z
            .object({ author: z.object({ login: z.string() }), mergedAt: z.string(), title: z.string() })
            .nullable(),
          ref: z.object({ target: z.object({ oid: z.string() }) }).nullable(),
        })
        .nullable(),
    });
    const problems: string[] = [];
    const query = githubSchema().getQueryType();
    const operation = document.definitions[0];
    if (!query || operation?.kind !== Kind.OPERATION_DEFINITION) throw new Error("unreachable");
    compare(ours, query, operation.selectionSet, document, "Q", problems);
    expect(problems).toEqual([
      "Q.repository.pullRequest.title: required by ours, never asked for by the query",
      "Q.repository.pullRequest.author: GitHub's schema lets it be null; ours rejects null",
      "Q.repository.pullRequest.mergedAt: GitHub's schema lets it be null; ours rejects null",
      "Q.repository.ref.target: GitHub's schema lets it be null; ours rejects null",
      "Q.repository.ref.target.oid: only there for Commit; ours requires it",
    ]);
  });
});
