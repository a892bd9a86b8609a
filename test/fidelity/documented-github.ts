/**
 * A GitHub that answers every REST request with what GitHub documents for it: the first documented
 * 2xx example of the operation the request names (or a test's own answer for that route), and 404
 * "Not Found" for an endpoint the edition does not have (GitHub Enterprise Server lacks some).
 * Whatever the provider asks, now or after it learns a new endpoint, it gets GitHub's own example;
 * a request to an endpoint GitHub does not document fails the test.
 */
import nock from "nock";
import { afterEach, beforeEach, expect } from "vitest";
import { ProbotOctokit } from "probot";
import { createGitHubHost } from "../../src/providers/github/index.js";
import type { CodeHost } from "../../src/providers/types.js";
import { openapi, queryParameterProblem, successExamples, type Edition } from "./openapi.js";

export const API = "https://api.github.com";
export const GHES_API = "https://ghe.example/api/v3";

/** What a test answers instead of the documented example: a body (200), or [status, body]. */
export type Answer = unknown | [number, unknown];
export type Handler = (request: { path: string; query: URLSearchParams; body: unknown }) => Answer;

export interface DocumentedGitHub {
  /** Routes asked, in order ("GET /repos/{owner}/{repo}"), with their query strings. */
  requests: { route: string; url: string }[];
  /** Requests to endpoints GitHub does not document at all, and GraphQL nobody answers. */
  undocumented: string[];
  /** Routes api.github.com has and this edition lacks: answered 404, as GitHub Enterprise Server does. */
  absentOnEdition: string[];
  /** Answers route ("GET /repos/{owner}/{repo}/keys") with `answer` instead of the example. */
  answer(route: string, answer: Answer): void;
  /** Answers route with what `handler` makes of each request. */
  handle(route: string, handler: Handler): void;
  /** Answers the GraphQL operation `name` ("PullRequest") with `data`. */
  graphql(name: string, data: (variables: Record<string, unknown>) => unknown): void;
  host(): CodeHost;
}

interface Template {
  method: string;
  route: string;
  pattern: RegExp;
  literals: number;
}

const templates = new Map<Edition, Template[]>();

/** The documented path templates, most literal first (`rulesets/rule-suites` before `rulesets/{id}`). */
function templatesOf(edition: Edition): Template[] {
  let list = templates.get(edition);
  if (list) return list;
  list = [];
  for (const [path, operations] of Object.entries(openapi(edition).paths)) {
    const segments = path.split("/");
    // `{path}` of the contents API spans slashes; every other parameter is one segment.
    const source = segments
      .map((s) =>
        s === "{path}" ? ".+" : s.startsWith("{") ? "[^/]+" : s.replace(/[.*+?^$()|[\]\\]/g, "\\$&"),
      )
      .join("/");
    for (const method of Object.keys(operations)) {
      list.push({
        method: method.toUpperCase(),
        route: `${method.toUpperCase()} ${path}`,
        pattern: new RegExp(`^${source}$`),
        literals: segments.filter((s) => !s.startsWith("{")).length,
      });
    }
  }
  list.sort((a, b) => b.literals - a.literals);
  templates.set(edition, list);
  return list;
}

export function matchRoute(method: string, path: string, edition: Edition): string | undefined {
  return templatesOf(edition).find((t) => t.method === method && t.pattern.test(path))?.route;
}

/** Registers a documented GitHub for every test of the file; `edition` picks the OpenAPI document. */
export function useDocumentedGitHub(
  edition: Edition = "api.github.com",
  baseUrl: string = edition === "api.github.com" ? API : GHES_API,
): DocumentedGitHub {
  const answers = new Map<string, Answer | Handler>();
  const graphqlAnswers = new Map<string, (variables: Record<string, unknown>) => unknown>();
  const state: DocumentedGitHub = {
    requests: [],
    undocumented: [],
    absentOnEdition: [],
    answer: (route, answer) => answers.set(route, answer),
    handle: (route, handler) => answers.set(route, handler),
    graphql: (name, data) => graphqlAnswers.set(name, data),
    host: () =>
      createGitHubHost({
        octokit: new ProbotOctokit({
          auth: { token: "test" },
          baseUrl,
          retry: { enabled: false },
          throttle: { enabled: false },
        }),
        baseUrl,
      }),
  };
  const origin = new URL(baseUrl).origin;
  const prefix = new URL(baseUrl).pathname.replace(/\/$/, "");
  const graphqlPath = edition === "api.github.com" ? "/graphql" : `${prefix.replace(/\/v3$/, "")}/graphql`;

  // GitHub Enterprise Server names its version on every answer.
  const headers: Record<string, string> = edition.startsWith("ghes-")
    ? { "x-github-enterprise-version": `${edition.slice("ghes-".length)}.0` }
    : {};
  const reply = (method: string) =>
    function (uri: string, body: unknown): [number, unknown, Record<string, string>] {
      const [status, answer] = answerOf(method, uri, body);
      return [status, answer, headers];
    };
  const answerOf = (method: string, uri: string, body: unknown): [number, unknown] => {
    const url = new URL(uri, origin);
    if (method === "POST" && url.pathname === graphqlPath) {
      const request = body as { query: string; variables?: Record<string, unknown> };
      const name = /\b(?:query|mutation)\s+(\w+)/.exec(request.query)?.[1] ?? "(anonymous)";
      state.requests.push({ route: `GraphQL ${name}`, url: url.pathname });
      const data = graphqlAnswers.get(name);
      if (!data) {
        state.undocumented.push(`GraphQL ${name} (no answer given by the test)`);
        return [200, { data: null, errors: [{ type: "INTERNAL", message: `no answer for ${name}` }] }];
      }
      return [200, { data: data(request.variables ?? {}) }];
    }
    const path = decodeURIComponent(url.pathname.slice(prefix.length));
    const route = matchRoute(method, path, edition);
    const elsewhere = route ? undefined : matchRoute(method, path, "api.github.com");
    if (elsewhere) {
      state.absentOnEdition.push(elsewhere);
      return [
        404,
        { message: "Not Found", documentation_url: "https://docs.github.com/enterprise-server/rest" },
      ];
    }
    if (!route) {
      state.undocumented.push(`${method} ${url.pathname}${url.search}`);
      return [404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" }];
    }
    state.requests.push({ route, url: `${url.pathname}${url.search}` });
    // A parameter GitHub does not document is ignored by it: the answer would not be what was meant.
    for (const [name, value] of url.searchParams) {
      const problem = queryParameterProblem(route, name, value, edition);
      if (problem) state.undocumented.push(problem);
    }
    const given = answers.get(route);
    const answer =
      typeof given === "function"
        ? (given as Handler)({ path, query: url.searchParams, body })
        : given !== undefined
          ? given
          : defaultAnswer(route, edition);
    return Array.isArray(answer) && answer.length === 2 && typeof answer[0] === "number"
      ? (answer as [number, unknown])
      : [method === "POST" ? 201 : 200, answer];
  };

  beforeEach(() => {
    state.requests.length = 0;
    state.undocumented.length = 0;
    state.absentOnEdition.length = 0;
    answers.clear();
    graphqlAnswers.clear();
    const scope = nock(origin).persist();
    for (const method of ["GET", "POST", "PATCH", "PUT", "DELETE"]) {
      scope.intercept(() => true, method).reply(reply(method));
    }
  });
  afterEach(() => {
    nock.cleanAll();
    expect(state.undocumented, "requests GitHub does not document (or GraphQL nobody answered)").toEqual([]);
  });
  return state;
}

function defaultAnswer(route: string, edition: Edition): unknown {
  const [example] = successExamples(route, ["application/json"], edition);
  if (!example) return [204, ""];
  return structuredClone(example.value);
}
