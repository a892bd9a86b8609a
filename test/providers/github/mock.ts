/**
 * The one way these tests talk HTTP: nock scopes on the GitHub API, a test client with retries and
 * throttling off, and a teardown that fails on a mock never used or a request never expected.
 */
import { readFileSync } from "node:fs";
import nock from "nock";
import { afterEach, beforeEach, expect } from "vitest";
import { ProbotOctokit } from "probot";
import { createGitHubHost } from "../../../src/providers/github/index.js";
import type { Policy } from "../../../src/policy/types.js";

export const API = "https://api.github.com";

export function testOctokit(baseUrl = API) {
  return new ProbotOctokit({
    auth: { token: "test" },
    baseUrl,
    retry: { enabled: false },
    throttle: { enabled: false },
  });
}

export function testHost() {
  return createGitHubHost({ octokit: testOctokit() });
}

export function github(): nock.Scope {
  return nock(API);
}

/** Registers the teardown checks for a test file. */
export function useHttpMock(): { unexpected: string[] } {
  const state = { unexpected: [] as string[] };
  const onNoMatch = (req: {
    method?: string;
    path?: string;
    options?: { method?: string; path?: string };
  }) => {
    state.unexpected.push(
      `${req.method ?? req.options?.method ?? "?"} ${req.path ?? req.options?.path ?? "?"}`,
    );
  };
  beforeEach(() => {
    state.unexpected.length = 0;
    nock.emitter.on("no match", onNoMatch);
  });
  afterEach(() => {
    nock.emitter.removeListener("no match", onNoMatch);
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(state.unexpected, "requests nobody expected").toEqual([]);
    expect(pending, "mocks never used").toEqual([]);
  });
  return state;
}

/** A GraphQL answer, asserting the operation it answers. */
export function graphqlReply(
  operation: string,
  data: unknown,
  check?: (variables: Record<string, unknown>) => void,
) {
  return (_uri: string, body: unknown): [number, unknown] => {
    const request = body as { query: string; variables: Record<string, unknown> };
    expect(request.query).toContain(`query ${operation}(`);
    check?.(request.variables);
    return [200, { data }];
  };
}

export function makePolicy(overrides: Partial<Policy["productionBranches"]> = {}): Policy {
  return {
    sources: ["policies/soc2.yml"],
    hash: "test",
    productionBranches: { defaultBranch: true, patterns: [], ...overrides },
    controls: {},
    exceptions: [],
    people: [],
    findings: { repository: "acme/compliance", labels: ["soc2"] },
    audit: { schedule: "weekly", include: [], exclude: [] },
  };
}

/** A fresh copy of a JSON fixture from test/fixtures/github, for a test to change at will. */
export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/github/${name}`, import.meta.url), "utf8")) as T;
}
