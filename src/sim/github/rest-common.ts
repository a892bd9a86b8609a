/** What every REST route shares: the request, the answer, GitHub-shaped errors. */
import { findRepository, type SimRepository, type World } from "./world.js";

export interface RouteRequest {
  world: World;
  api: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  /** The rate-limit state, for GET /rate_limit. */
  rateLimit: () => unknown;
  /** The request's token (world.tokens says whose): who a write comes from. */
  token?: string;
}

/** One answer; `items` answers are paginated by the server, rendering only the page it sends. */
export type RouteAnswer =
  | {
      status: number;
      body: unknown;
      /** Headers of its own, e.g. a cursor-paginated list's Link (the server pages `items` by page number). */
      headers?: Record<string, string>;
    }
  | {
      status: 200;
      items: readonly unknown[];
      render: (item: unknown) => unknown;
      wrap?: string;
      /** An answer that is an object around the paged list (e.g. a comparison's `commits`). */
      envelope?: (page: unknown[]) => unknown;
    };

export interface Route {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** The OpenAPI path template, e.g. "/repos/{owner}/{repo}/pulls/{pull_number}". */
  path: string;
  handle: (request: RouteRequest) => RouteAnswer;
}

export class RouteError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly documentationUrl = "https://docs.github.com/rest",
  ) {
    super(message);
  }
}

const NOT_ACCESSIBLE = "Resource not accessible by integration";

export function repoOf(request: RouteRequest): SimRepository {
  const repo = findRepository(request.world, request.params.owner ?? "", request.params.repo ?? "");
  if (!repo || repo.facts.collectionError) throw new RouteError(404, "Not Found");
  return repo;
}

export function orgOf(request: RouteRequest) {
  const org = request.world.snapshot.organization;
  if (!org || org.login !== request.params.org) throw new RouteError(404, "Not Found");
  return org;
}

export function readable<T>(fact: { known: true; value: T } | { known: false }): T {
  if (!fact.known) throw new RouteError(403, NOT_ACCESSIBLE);
  return fact.value;
}

export function list<T>(items: readonly T[], render: (item: T) => unknown): RouteAnswer {
  return { status: 200, items, render: render as (item: unknown) => unknown };
}

export function pullOf(request: RouteRequest) {
  const repo = repoOf(request);
  const pull = repo.pulls.get(Number(request.params.pull_number ?? request.params.issue_number));
  if (!pull) throw new RouteError(404, "Not Found");
  return { repo, pull };
}

export function text(value: unknown, field: string): string {
  if (typeof value !== "string") throw new RouteError(422, `Invalid request.\n\n"${field}" wasn't supplied.`);
  return value;
}
