/**
 * GitHub's own description of its REST API (@octokit/openapi): the operations, their success
 * schemas and every documented response example, for api.github.com and GitHub Enterprise Server.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export type Edition = "api.github.com" | "ghes-3.17" | "ghes-3.18" | "ghes-3.19";
export const ENTERPRISE_SERVER: readonly Edition[] = ["ghes-3.17", "ghes-3.18", "ghes-3.19"];

/** An OpenAPI 3.0 schema node, as far as these tests read it. */
export interface SchemaNode {
  $ref?: string;
  type?: string;
  nullable?: boolean;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  allOf?: SchemaNode[];
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
  enum?: unknown[];
  additionalProperties?: boolean | SchemaNode;
}

interface MediaType {
  schema?: SchemaNode;
  examples?: Record<string, { $ref?: string; value?: unknown }>;
  example?: unknown;
}

export interface Parameter {
  $ref?: string;
  name: string;
  in: "query" | "path" | "header" | "cookie";
  schema?: SchemaNode;
}

interface Operation {
  operationId: string;
  parameters?: Parameter[];
  responses: Record<string, { $ref?: string; content?: Record<string, MediaType> }>;
}

interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, unknown>>;
}

const documents = new Map<Edition, Document>();

export function openapi(edition: Edition): Document {
  let document = documents.get(edition);
  if (!document) {
    const file = require.resolve(`@octokit/openapi/generated/${edition}.json`);
    document = JSON.parse(readFileSync(file, "utf8")) as Document;
    documents.set(edition, document);
  }
  return document;
}

/** Follows a local `$ref` ("#/components/…") to what it names; anything else as it is. */
export function resolve<T>(node: T, edition: Edition = "api.github.com"): T {
  let current: unknown = node;
  for (let hops = 0; hops < 20; hops++) {
    const ref = (current as { $ref?: unknown } | null)?.$ref;
    if (typeof ref !== "string") return current as T;
    const path = ref.replace(/^#\//, "").split("/");
    current = path.reduce<unknown>(
      (at, key) => (at as Record<string, unknown> | undefined)?.[key],
      openapi(edition),
    );
    if (current === undefined) throw new Error(`${edition}: unresolvable $ref ${ref}`);
  }
  throw new Error(`${edition}: $ref chain too long`);
}

/** "GET /repos/{owner}/{repo}" → the operation, or undefined when the edition has no such endpoint. */
export function findOperation(route: string, edition: Edition = "api.github.com"): Operation | undefined {
  const [method, path] = splitRoute(route);
  return openapi(edition).paths[path]?.[method.toLowerCase()];
}

export function splitRoute(route: string): [string, string] {
  const match = /^(GET|POST|PATCH|PUT|DELETE) (\/\S*)$/.exec(route);
  if (!match?.[1] || !match[2]) throw new Error(`not a route: ${route}`);
  return [match[1], match[2]];
}

export interface DocumentedExample {
  status: string;
  mediaType: string;
  name: string;
  value: unknown;
  schema: SchemaNode | undefined;
}

/**
 * Every documented example of every 2xx answer of an operation in `mediaTypes` (octokit asks for
 * `application/vnd.github.v3+json`, which GitHub answers with the `application/json` forms).
 */
export function successExamples(
  route: string,
  mediaTypes: readonly string[] = ["application/json"],
  edition: Edition = "api.github.com",
): DocumentedExample[] {
  const operation = findOperation(route, edition);
  if (!operation) throw new Error(`${edition} documents no ${route}`);
  const examples: DocumentedExample[] = [];
  for (const [status, reference] of Object.entries(operation.responses)) {
    if (!/^2\d\d$/.test(status)) continue;
    const response = resolve(reference, edition);
    for (const [mediaType, content] of Object.entries(response.content ?? {})) {
      if (!mediaTypes.includes(mediaType)) continue;
      for (const [name, example] of Object.entries(content.examples ?? {})) {
        const { value } = resolve(example, edition);
        examples.push({ status, mediaType, name, value, schema: content.schema });
      }
      if (content.example !== undefined) {
        examples.push({ status, mediaType, name: "example", value: content.example, schema: content.schema });
      }
    }
  }
  return examples;
}

/** The one documented example named `name` (or the only one), deep-copied so a test may change it. */
export function documentedExample<T = unknown>(
  route: string,
  name?: string,
  edition: Edition = "api.github.com",
): T {
  const examples = successExamples(route, ["application/json"], edition);
  const chosen = name === undefined ? examples[0] : examples.find((e) => e.name === name);
  if (!chosen || (name === undefined && examples.length !== 1)) {
    throw new Error(
      `${route}: no single example${name ? ` named ${name}` : ""} (has ${examples.map((e) => e.name).join(", ")})`,
    );
  }
  return structuredClone(chosen.value) as T;
}

/**
 * The schema with `allOf` merged and `$ref`s followed, and whether the value may be null: OpenAPI
 * 3.0's `nullable`, or a oneOf/anyOf alternative that is nullable.
 */
export function flatten(node: SchemaNode, edition: Edition = "api.github.com"): SchemaNode {
  const schema = resolve(node, edition);
  if (!schema.allOf) return schema;
  const parts = schema.allOf.map((part) => flatten(part, edition));
  return {
    ...schema,
    allOf: undefined,
    nullable: schema.nullable === true || parts.some((p) => p.nullable === true),
    properties: Object.assign({}, ...parts.map((p) => p.properties ?? {}), schema.properties ?? {}) as Record<
      string,
      SchemaNode
    >,
    required: [...new Set([...parts.flatMap((p) => p.required ?? []), ...(schema.required ?? [])])],
  };
}

export function mayBeNull(node: SchemaNode, edition: Edition = "api.github.com"): boolean {
  const schema = flatten(node, edition);
  if (schema.nullable === true || schema.type === "null") return true;
  return [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])].some((alternative) =>
    mayBeNull(alternative, edition),
  );
}

/** Why `value` is not a documented value of the operation's query parameter `name`, or null. */
export function queryParameterProblem(
  route: string,
  name: string,
  value: string,
  edition: Edition = "api.github.com",
): string | null {
  const parameters = (findOperation(route, edition)?.parameters ?? []).map((p) => resolve(p, edition));
  const parameter = parameters.find((p) => p.in === "query" && p.name === name);
  if (!parameter) return `${route}: query parameter ${name} is not documented (GitHub ignores it)`;
  const schema = parameter.schema ? flatten(parameter.schema, edition) : undefined;
  if (schema?.enum && !schema.enum.map(String).includes(value)) {
    return `${route}: ${name}=${value} is none of ${schema.enum.map(String).join(", ")}`;
  }
  return null;
}
