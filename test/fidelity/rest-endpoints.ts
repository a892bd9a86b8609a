/**
 * Every REST endpoint the GitHub provider calls, with the wire schema its answers are validated by.
 * The list is checked against the provider's source (rest-schemas.test.ts), so an endpoint added to
 * the provider without an entry here fails the suite.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

export interface Endpoint {
  route: string;
  /**
   * The exported wire schema each answer (or, for a list, each item) is validated with, by name: it
   * is looked up in the module the provider imports it from (see wireSchemas).
   */
  schema?: string | string[];
  list?: boolean;
  /**
   * Why no exported schema validates the answer, and which test feeds its examples through the
   * provider instead.
   */
  checkedElsewhere?: string;
  /**
   * Fields GitHub's schema does not mark required that ours requires, with why that is safe: a
   * missing field then fails the read with a clear error naming it, where a default could be a guess.
   */
  requiredOnPurpose?: Record<string, string>;
  /** Fields GitHub's schema does not name that ours reads anyway, with why. */
  undocumentedOnPurpose?: Record<string, string>;
}

const NO_DEFAULT = "absent must not default to a value that could pass: a clear error naming the field";

export const ENDPOINTS: Endpoint[] = [
  { route: "GET /orgs/{org}", schema: "OrganizationAnswer" },
  {
    route: "GET /orgs/{org}/members",
    checkedElsewhere: "organization.ts validates { login } itself: provider.test.ts 'organization'",
  },
  { route: "GET /orgs/{org}/invitations", schema: "InvitationAnswer", list: true },
  {
    route: "GET /orgs/{org}/outside_collaborators",
    checkedElsewhere: "organization.ts validates { login } itself: provider.test.ts 'organization'",
  },
  {
    route: "GET /orgs/{org}/repos",
    checkedElsewhere:
      "organization.ts validates { full_name } and keeps RepositoryAnswer's fields when they fit: provider.test.ts 'listRepositories'",
  },
  { route: "GET /repos/{owner}/{repo}", schema: "RepositoryAnswer" },
  { route: "GET /repos/{owner}/{repo}/branches", schema: "BranchAnswer", list: true },
  {
    route: "GET /repos/{owner}/{repo}/branches/{branch}/protection",
    schema: "ProtectionAnswer",
    requiredOnPurpose: {
      "(root).allow_force_pushes.enabled": NO_DEFAULT,
      "(root).allow_deletions.enabled": NO_DEFAULT,
      "(root).required_linear_history.enabled": NO_DEFAULT,
      "(root).required_conversation_resolution.enabled": NO_DEFAULT,
      "(root).lock_branch.enabled": NO_DEFAULT,
      "(root).required_pull_request_reviews.bypass_pull_request_allowances.apps[].slug":
        "a bypass actor without a name cannot be listed: a clear error",
    },
  },
  {
    route: "GET /repos/{owner}/{repo}/rules/branches/{branch}",
    schema: "RuleAnswer",
    list: true,
    requiredOnPurpose: {
      "(root)[].ruleset_id": "a rule is judged with its ruleset (bypass actors): a clear error without one",
    },
  },
  {
    route: "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}",
    schema: "RulesetAnswer",
    requiredOnPurpose: {
      "(root).bypass_actors[].actor_id":
        "GitHub sends null for actors without an id (OrganizationAdmin, DeployKey); absence is a clear error",
    },
  },
  {
    route: "GET /repos/{owner}/{repo}/activity",
    schema: "ActivityAnswer",
    list: true,
    undocumentedOnPurpose: {
      "(root)[].pushed_at": "GitHub's own published example still spells timestamp so",
      "(root)[].push_type": "GitHub's own published example still spells activity_type so",
      "(root)[].pusher": "GitHub's own published example still spells actor so",
    },
  },
  { route: "GET /repos/{owner}/{repo}/compare/{basehead}", schema: "ComparisonAnswer" },
  {
    route: "GET /repos/{owner}/{repo}/rulesets/rule-suites",
    schema: "RuleSuiteAnswer",
    list: true,
    requiredOnPurpose: {
      "(root)[].id":
        "not read; a suite without one fails the read of the bypass record, whose silence proves nothing anyway",
    },
  },
  { route: "GET /repos/{owner}/{repo}/collaborators", schema: "CollaboratorAnswer", list: true },
  { route: "GET /repos/{owner}/{repo}/teams", schema: "TeamAnswer", list: true },
  { route: "GET /repos/{owner}/{repo}/keys", schema: "DeployKeyAnswer", list: true },
  {
    route: "GET /repos/{owner}/{repo}/contents/{path}",
    schema: "ContentAnswer",
    requiredOnPurpose: {
      "(root).target": "a symlink without a target still fits the union's { type } alternative: not a file",
    },
  },
  {
    route: "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
    schema: ["CommitPullAnswer", "CommitPullRequest"],
    list: true,
  },
  { route: "GET /repos/{owner}/{repo}/commits/{ref}/check-runs", schema: "CheckRunsAnswer" },
  { route: "POST /repos/{owner}/{repo}/check-runs", checkedElsewhere: "the answer is not read (a write)" },
  {
    route: "PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}",
    checkedElsewhere: "the answer is not read (a write)",
  },
  { route: "GET /repos/{owner}/{repo}/issues", schema: "IssueAnswer", list: true },
  { route: "POST /repos/{owner}/{repo}/issues", schema: "IssueAnswer" },
  { route: "PATCH /repos/{owner}/{repo}/issues/{issue_number}", schema: "IssueAnswer" },
  {
    route: "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
    checkedElsewhere: "the answer is not read (a write)",
  },
  {
    route: "POST /repos/{owner}/{repo}/statuses/{sha}",
    checkedElsewhere: "the answer is not read (a write): the Action's commit status, test/action/run.test.ts",
  },
  {
    route: "GET /user",
    checkedElsewhere: "index.ts validates { login } itself: provider.test.ts 'describeCredentials'",
  },
  // Access reviews (access-reviews.ts): pull requests, files and refs of the findings repository.
  { route: "GET /repos/{owner}/{repo}/git/ref/{ref}", schema: "GitRefAnswer" },
  {
    route: "POST /repos/{owner}/{repo}/git/refs",
    checkedElsewhere: "the answer is not read (a write): access-reviews.test.ts",
  },
  {
    route: "PUT /repos/{owner}/{repo}/contents/{path}",
    checkedElsewhere: "the answer is not read (a write): access-reviews.test.ts",
  },
  { route: "GET /repos/{owner}/{repo}/pulls", schema: "ReviewPullAnswer", list: true },
  { route: "POST /repos/{owner}/{repo}/pulls", schema: "ReviewPullAnswer" },
  { route: "GET /repos/{owner}/{repo}/pulls/{pull_number}", schema: "MergedPullAnswer" },
  { route: "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews", schema: "PullReviewAnswer", list: true },
  { route: "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits", schema: "PullCommitAnswer", list: true },
  { route: "GET /repos/{owner}/{repo}/pulls/{pull_number}/files", schema: "PullFileAnswer", list: true },
  {
    route: "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
    checkedElsewhere: "the answer is not read (a write): access-reviews.test.ts",
  },
  {
    route: "DELETE /repos/{owner}/{repo}/collaborators/{username}",
    checkedElsewhere: "GitHub answers 204 without a body: access-reviews.test.ts",
  },
  {
    route: "DELETE /orgs/{org}/memberships/{username}",
    checkedElsewhere: "GitHub answers 204 without a body: access-reviews.test.ts",
  },
  {
    route: "DELETE /repos/{owner}/{repo}/keys/{key_id}",
    checkedElsewhere: "GitHub answers 204 without a body: access-reviews.test.ts",
  },
  {
    route: "DELETE /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}",
    checkedElsewhere: "GitHub answers 204 without a body: access-reviews.test.ts",
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

/**
 * The schemas named `name` that the provider's files import, each from the module it is imported
 * from (a name two modules export is checked in each that is used).
 */
export async function wireSchemas(name: string): Promise<{ module: string; schema: z.ZodType }[]> {
  const modules = new Set<string>();
  for (const text of providerSources().values()) {
    for (const match of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*"\.\/([\w-]+)\.js"/g)) {
      const names = (match[1] ?? "").split(",").map(
        (n) =>
          n
            .trim()
            .replace(/^type\s+/, "")
            .split(/\s+as\s+/)[0],
      );
      if (match[2] && names.includes(name)) modules.add(match[2]);
    }
  }
  const found: { module: string; schema: z.ZodType }[] = [];
  for (const module of [...modules].sort()) {
    const exports = (await import(new URL(`${module}.ts`, SOURCE).href)) as Record<string, unknown>;
    const schema = exports[name];
    if (schema instanceof z.ZodType) found.push({ module, schema });
  }
  return found;
}
