/**
 * The GitHub provider's GraphQL queries against GitHub's published schema (@octokit/graphql-schema):
 * each is valid, and every connection it reads asks for at most 100 items (GitHub's limit) and
 * selects what tells a truncated answer from a complete one (pageInfo or totalCount), unless it is
 * a known single-item read.
 */
import { schema as published } from "@octokit/graphql-schema";
import {
  buildSchema,
  getNamedType,
  isObjectType,
  Kind,
  parse,
  TypeInfo,
  validate,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type SelectionSetNode,
} from "graphql";
import { describe, expect, it } from "vitest";
import * as queries from "../../src/providers/github/queries.js";

/** Reads of one item by design: "Type.alias" → why one is enough. */
const SINGLE_ITEM_READS: Record<string, string> = {
  "PullRequest.headCommit": "the pull request's last commit is its head: one item is the whole answer",
  "PullRequest.headRuns": "the head's check runs, for the change check's write: one item is the whole answer",
};

let github: GraphQLSchema | undefined;
function githubSchema(): GraphQLSchema {
  // The published SDL repeats two fields, hence assumeValidSDL.
  github ??= buildSchema(published.idl, { assumeValidSDL: true });
  return github;
}

const texts: [string, string][] = Object.entries(queries as Record<string, unknown>).flatMap(
  ([name, value]) => (typeof value === "string" ? [[name, value] as [string, string]] : []),
);
const operations = texts.filter(([, text]) => /^\s*(query|mutation)\b/m.test(text));

export interface ConnectionRead {
  where: string;
  limit: { argument: "first" | "last"; value: number | string } | null;
  selects: string[];
}

/** Every connection field a document reads, with its page size and what it selects beside nodes. */
export function connectionReads(schema: GraphQLSchema, document: DocumentNode): ConnectionRead[] {
  const reads: ConnectionRead[] = [];
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node: FieldNode) {
        const parent = typeInfo.getParentType();
        const type = getNamedType(typeInfo.getType());
        if (!parent || !type || !isObjectType(type) || !type.getFields().pageInfo) return;
        const limit = node.arguments?.find((a) => a.name.value === "first" || a.name.value === "last");
        const value =
          limit?.value.kind === Kind.INT
            ? Number(limit.value.value)
            : limit?.value.kind === Kind.VARIABLE
              ? `$${limit.value.name.value}`
              : "?";
        reads.push({
          where: `${parent.name}.${node.alias?.value ?? node.name.value}`,
          limit: limit ? { argument: limit.name.value as "first" | "last", value } : null,
          selects: selected(node.selectionSet, document),
        });
      },
    }),
  );
  return reads;
}

/** The field names (and pageInfo's fields, as "pageInfo.x") a selection set asks for. */
function selected(set: SelectionSetNode | undefined, document: DocumentNode): string[] {
  const names: string[] = [];
  for (const selection of set?.selections ?? []) {
    if (selection.kind === Kind.FIELD) {
      names.push(selection.name.value);
      if (selection.name.value === "pageInfo") {
        names.push(...selected(selection.selectionSet, document).map((n) => `pageInfo.${n}`));
      }
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      names.push(...selected(selection.selectionSet, document));
    } else {
      const fragment = document.definitions.find(
        (d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value,
      );
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION)
        names.push(...selected(fragment.selectionSet, document));
    }
  }
  return names;
}

/** What is wrong with one connection read, or null. */
function connectionProblem(read: ConnectionRead): string | null {
  if (!read.limit) {
    // Counting needs no page; reading items does, and GitHub refuses it without first/last.
    const readsItems = read.selects.some((s) => s === "nodes" || s === "edges");
    return readsItems ? `${read.where}: no first/last (GitHub refuses it)` : null;
  }
  if (typeof read.limit.value !== "number")
    return `${read.where}: ${read.limit.argument}: ${read.limit.value} is not a literal ≤ 100`;
  if (read.limit.value > 100) return `${read.where}: ${read.limit.argument}: ${read.limit.value} > 100`;
  if (SINGLE_ITEM_READS[read.where] !== undefined && read.limit.value === 1) return null;
  const more = read.limit.argument === "first" ? "pageInfo.hasNextPage" : "pageInfo.hasPreviousPage";
  if (read.selects.includes("totalCount") || read.selects.includes(more)) return null;
  return `${read.where}(${read.limit.argument}: ${read.limit.value}) selects neither totalCount nor ${more}: a truncated answer looks complete`;
}

describe("the GitHub provider's GraphQL queries", () => {
  it("are found in queries.ts (and every fragment there is used by one)", () => {
    expect(operations.map(([name]) => name).length).toBeGreaterThanOrEqual(3);
    for (const [name, text] of texts) {
      if (operations.some(([other]) => other === name)) continue;
      const fragment = /fragment\s+(\w+)/.exec(text)?.[1];
      expect(fragment, `${name} is a query or a fragment`).toBeDefined();
      expect(
        operations.some(([, op]) => op.includes(`...${fragment}`)),
        `${fragment} is used`,
      ).toBe(true);
    }
  });

  describe.each(operations)("%s", (_name, text) => {
    it("is valid against GitHub's published schema", () => {
      expect(validate(githubSchema(), parse(text)).map((e) => e.message)).toEqual([]);
    });

    it("reads at most 100 items per connection and can tell when a connection was cut short", () => {
      const reads = connectionReads(githubSchema(), parse(text));
      expect(reads.length).toBeGreaterThan(0);
      expect(reads.map(connectionProblem).filter((p) => p !== null)).toEqual([]);
    });
  });

  it("the connection check finds an unbounded, oversized or unmarked connection", () => {
    const document = parse(`query Q($n: Int) {
      repository(owner: "a", name: "b") {
        issues(first: 101) { totalCount }
        labels(first: $n) { totalCount }
        milestones(last: 10) { nodes { title } }
        assignableUsers { nodes { login } }
        stargazers { totalCount }
        pullRequests(last: 10) { pageInfo { hasNextPage } }
        refs(refPrefix: "refs/heads/", first: 5) { pageInfo { hasNextPage } nodes { name } }
        pull: pullRequest(number: 1) { headCommit: commits(last: 1) { nodes { commit { oid } } } }
      }
    }`);
    expect(validate(githubSchema(), document).map((e) => e.message)).toEqual([]);
    expect(
      connectionReads(githubSchema(), document)
        .map(connectionProblem)
        .map((p) => p?.split(":")[0] ?? null),
    ).toEqual([
      "Repository.issues",
      "Repository.labels",
      "Repository.milestones(last",
      "Repository.assignableUsers",
      null,
      "Repository.pullRequests(last",
      null,
      null,
    ]);
  });
});
