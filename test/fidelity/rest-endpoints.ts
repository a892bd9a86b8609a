/**
 * Every REST endpoint the GitHub provider calls, with the wire schema its answers are validated by.
 * The list is checked against the provider's source (rest-schemas.test.ts), so an endpoint added to
 * the provider without an entry here fails the suite.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import * as wire from "../../src/providers/github/schema.js";

export interface Endpoint {
  route: string;
  /** The schema each answer (or, for a list, each item) is validated with. */
  schema?: z.ZodType;
  list?: boolean;
  /**
   * Why no exported schema validates the answer, and which test feeds its examples through the
   * provider instead.
   */
  checkedElsewhere?: string;
  /**
   * Documented examples the provider must not take as a valid answer of this kind, with why: they
   * are turned into a clear error or an unknown by the provider (and a test shows it).
   */
  rejected?: Record<string, string>;
  /**
   * Fields GitHub's schema does not mark required that ours requires, with why that is safe: a
   * missing field then fails the read with a clear error naming it, where a default could be a guess.
   */
  requiredOnPurpose?: Record<string, string>;
}

const NO_DEFAULT = "absent must not default to a value that could pass: a clear error naming the field";

export const ENDPOINTS: Endpoint[] = [
  { route: "GET /orgs/{org}", schema: wire.OrganizationAnswer },
  {
    route: "GET /orgs/{org}/members",
    checkedElsewhere: "organization.ts validates { login } itself: provider.test.ts 'organization'",
  },
  { route: "GET /orgs/{org}/invitations", schema: wire.InvitationAnswer, list: true },
  {
    route: "GET /orgs/{org}/outside_collaborators",
    checkedElsewhere: "organization.ts validates { login } itself: provider.test.ts 'organization'",
  },
  {
    route: "GET /orgs/{org}/repos",
    checkedElsewhere:
      "organization.ts validates { full_name } and keeps RepositoryAnswer's fields when they fit: provider.test.ts 'listRepositories'",
  },
  { route: "GET /repos/{owner}/{repo}", schema: wire.RepositoryAnswer },
  { route: "GET /repos/{owner}/{repo}/branches", schema: wire.BranchAnswer, list: true },
  {
    route: "GET /repos/{owner}/{repo}/branches/{branch}/protection",
    schema: wire.ProtectionAnswer,
    requiredOnPurpose: {
      "(root).allow_force_pushes.enabled": NO_DEFAULT,
      "(root).allow_deletions.enabled": NO_DEFAULT,
      "(root).required_pull_request_reviews.bypass_pull_request_allowances.apps[].slug":
        "a bypass actor without a name cannot be listed: a clear error",
    },
  },
  {
    route: "GET /repos/{owner}/{repo}/rules/branches/{branch}",
    schema: wire.RuleAnswer,
    list: true,
    requiredOnPurpose: {
      "(root)[].ruleset_id": "a rule is judged with its ruleset (bypass actors): a clear error without one",
    },
  },
  {
    route: "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}",
    schema: wire.RulesetAnswer,
    requiredOnPurpose: {
      "(root).bypass_actors[].actor_id":
        "GitHub sends null for actors without an id (OrganizationAdmin, DeployKey); absence is a clear error",
    },
  },
  { route: "GET /repos/{owner}/{repo}/collaborators", schema: wire.CollaboratorAnswer, list: true },
  { route: "GET /repos/{owner}/{repo}/teams", schema: wire.TeamAnswer, list: true },
  { route: "GET /repos/{owner}/{repo}/keys", schema: wire.DeployKeyAnswer, list: true },
  {
    route: "GET /repos/{owner}/{repo}/contents/{path}",
    schema: wire.ContentAnswer,
    rejected: {
      "response-if-content-is-a-directory": "a directory is no file: readFile answers it without reading",
      "response-if-content-is-a-symlink":
        "a symlink is no file: readFile must say so (provider.test.ts 'contents')",
      "response-if-content-is-a-submodule":
        "a submodule is no file: readFile must say so (provider.test.ts 'contents')",
    },
  },
  {
    route: "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
    schema: wire.CommitPullAnswer,
    list: true,
  },
  { route: "GET /repos/{owner}/{repo}/commits/{ref}/check-runs", schema: wire.CheckRunsAnswer },
  { route: "POST /repos/{owner}/{repo}/check-runs", checkedElsewhere: "the answer is not read (a write)" },
  {
    route: "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
    checkedElsewhere: "the answer is not read (a write)",
  },
  { route: "GET /repos/{owner}/{repo}/issues", schema: wire.IssueAnswer, list: true },
  { route: "POST /repos/{owner}/{repo}/issues", schema: wire.IssueAnswer },
  { route: "PATCH /repos/{owner}/{repo}/issues/{issue_number}", schema: wire.IssueAnswer },
  {
    route: "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
    checkedElsewhere: "the answer is not read (a write)",
  },
  {
    route: "GET /user",
    checkedElsewhere: "index.ts validates { login } itself: provider.test.ts 'describeCredentials'",
  },
];

const SOURCE = new URL("../../src/providers/github/", import.meta.url);

/** The provider's source files, by name. */
export function providerSources(): Map<string, string> {
  const dir = SOURCE.pathname;
  return new Map(
    readdirSync(dir)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => [f, readFileSync(join(dir, f), "utf8")]),
  );
}

/** Every route literal ("GET /repos/{owner}/{repo}") in the provider's source. */
export function routesInSource(): Set<string> {
  const routes = new Set<string>();
  for (const text of providerSources().values()) {
    for (const match of text.matchAll(/["'`]((?:GET|POST|PATCH|PUT|DELETE) \/[^"'`$\s]*)["'`]/g)) {
      if (match[1]) routes.add(match[1]);
    }
  }
  return routes;
}
