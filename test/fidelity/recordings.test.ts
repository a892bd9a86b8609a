/**
 * Answers GitHub really gave (@octokit/fixtures: recorded against api.github.com, normalized) fed
 * through the GitHub provider, for every recording of an endpoint the provider calls: branch
 * protection (absent and set), the organization, a repository, its collaborators, a directory where
 * a file was expected, and issues paged through GitHub's Link headers.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { github, makePolicy, testHost, useHttpMock } from "../providers/github/mock.js";

const require = createRequire(import.meta.url);

interface Recording {
  method: string;
  path: string;
  status: number;
  response: unknown;
  headers: Record<string, string>;
}

function recordings(scenario: string): Recording[] {
  const file = require.resolve(
    `@octokit/fixtures/scenarios/api.github.com/${scenario}/normalized-fixture.json`,
  );
  return JSON.parse(readFileSync(file, "utf8")) as Recording[];
}

function recorded(scenario: string, method: string, path: string | RegExp, index = 0): Recording {
  const found = recordings(scenario).filter(
    (r) => r.method === method && (typeof path === "string" ? r.path === path : path.test(r.path)),
  )[index];
  if (!found) throw new Error(`@octokit/fixtures ${scenario} has no ${method} ${String(path)} #${index}`);
  return found;
}

const NOT_PROTECTED = recorded("branch-protection", "get", /\/protection$/);
const REPOSITORY = recorded("get-repository", "get", "/repos/octokit-fixture-org/hello-world");
const COLLABORATORS = recorded("add-and-remove-repository-collaborator", "get", /\/collaborators$/);

type RecordedRepository = { full_name: string; html_url: string; default_branch: string; archived: boolean };
type RecordedCollaborator = { login: string; role_name: string };

describe("GitHub's recorded answers through the provider", () => {
  useHttpMock();
  const repo = REPOSITORY.response as RecordedRepository;
  const base = `/repos/${repo.full_name}`;

  /** The recorded repository, its recorded collaborators, and no rules, teams, keys or outside collaborators. */
  function repository(protection: Recording) {
    return github()
      .get(base)
      .reply(REPOSITORY.status, REPOSITORY.response as object)
      .get(`${base}/rules/branches/${repo.default_branch}`)
      .query(true)
      .reply(200, [])
      .get(`${base}/branches/${repo.default_branch}/protection`)
      .reply(protection.status, protection.response as object)
      .get(`${base}/collaborators`)
      .query({ affiliation: "all", per_page: 100 })
      .reply(COLLABORATORS.status, COLLABORATORS.response as object)
      .get(`${base}/collaborators`)
      .query({ affiliation: "outside", per_page: 100 })
      .reply(200, [])
      .get(`${base}/teams`)
      .query(true)
      .reply(200, [])
      .get(`${base}/keys`)
      .query(true)
      .reply(200, []);
  }

  it("branch-protection: the recorded 404 'Branch not protected' is a known, unprotected branch", async () => {
    expect(NOT_PROTECTED.status).toBe(404);
    repository(NOT_PROTECTED);

    const collected = await testHost().collectRepository(repo.full_name, makePolicy());

    expect(collected).toMatchObject({
      fullName: repo.full_name,
      url: repo.html_url,
      defaultBranch: repo.default_branch,
      archived: repo.archived,
      collectionError: null,
    });
    expect(collected.branchRules).toEqual({
      known: true,
      value: [
        expect.objectContaining({
          branch: repo.default_branch,
          requirePullRequest: false,
          allowForcePushes: true,
          allowDeletions: true,
        }),
      ],
    });
    expect(collected.collaborators).toEqual({
      known: true,
      value: (COLLABORATORS.response as RecordedCollaborator[]).map((c) => ({
        login: c.login,
        permission: c.role_name,
        outside: false,
      })),
    });
  });

  it.each([0, 1])("branch-protection: the recorded protection #%i reads as GitHub set it", async (index) => {
    const protection = recorded("branch-protection", "put", /\/protection$/, index);
    const answer = protection.response as {
      required_status_checks?: { contexts: string[]; checks: { context: string; app_id: number | null }[] };
      required_pull_request_reviews?: {
        required_approving_review_count: number;
        dismiss_stale_reviews: boolean;
      };
      enforce_admins: { enabled: boolean };
      allow_force_pushes: { enabled: boolean };
      allow_deletions: { enabled: boolean };
      required_signatures: { enabled: boolean };
    };
    repository({ ...protection, method: "get" });

    const collected = await testHost().collectRepository(repo.full_name, makePolicy());

    expect(collected.branchRules.known).toBe(true);
    const [rule] = collected.branchRules.known ? collected.branchRules.value : [];
    expect(rule).toMatchObject({
      sources: ["branch-protection"],
      requirePullRequest: answer.required_pull_request_reviews !== undefined,
      requiredApprovals: answer.required_pull_request_reviews?.required_approving_review_count ?? 0,
      dismissStaleApprovals: answer.required_pull_request_reviews?.dismiss_stale_reviews ?? false,
      requiredStatusChecks: answer.required_status_checks?.contexts ?? [],
      enforceAdmins: answer.enforce_admins.enabled,
      allowForcePushes: answer.allow_force_pushes.enabled,
      allowDeletions: answer.allow_deletions.enabled,
      // GitHub's app_id null is "any source": nothing pinned.
      requiredCheckApps: Object.fromEntries(
        (answer.required_status_checks?.checks ?? []).flatMap((c) =>
          c.app_id === null ? [] : [[c.context, c.app_id]],
        ),
      ),
    });
    // Requirements GitHub recorded as disabled are no requirement.
    expect(rule?.otherRequirements).not.toContain("required_signatures");
    expect(rule?.otherRequirements).not.toContain("required_linear_history");
  });

  it("get-organization: the recorded organization, as an owner reads it", async () => {
    const org = recorded("get-organization", "get", "/orgs/octokit-fixture-org").response as {
      login: string;
      html_url: string;
      two_factor_requirement_enabled: boolean;
      default_repository_permission: string;
    };
    github()
      .get(`/orgs/${org.login}`)
      .reply(200, org)
      .get(`/orgs/${org.login}/members`)
      .query(true)
      .times(3)
      .reply(200, [])
      .get(`/orgs/${org.login}/invitations`)
      .query(true)
      .reply(200, [])
      .get(`/orgs/${org.login}/outside_collaborators`)
      .query(true)
      .reply(200, []);

    const organization = await testHost().collectOrganization(org.login);

    expect(organization).toMatchObject({
      login: org.login,
      url: org.html_url,
      twoFactorRequired: { known: true, value: org.two_factor_requirement_enabled },
      basePermission: { known: true, value: org.default_repository_permission },
    });
  });

  it("get-content: a recorded directory where the policy file should be is a clear error", async () => {
    const directory = recorded("get-content", "get", /\/contents\/$/);
    expect(Array.isArray(directory.response)).toBe(true);
    github()
      .get(`${base}/contents/.github%2Fsoc2.yml`)
      .reply(200, directory.response as object);
    await expect(testHost().readFile(repo.full_name, ".github/soc2.yml")).rejects.toThrow(/directory/);
  });

  it("paginate-issues: every recorded page is followed through GitHub's Link headers", async () => {
    const pages = recordings("paginate-issues");
    const [first, ...rest] = pages;
    if (!first) throw new Error("no recorded pages");
    const scope = github()
      .get(first.path.replace(/\?.*$/, ""))
      .query(true)
      .reply(first.status, first.response as object, { link: String(first.headers.link) });
    for (const page of rest) {
      scope.get(page.path).reply(page.status, page.response as object, { link: String(page.headers.link) });
    }

    const issues = await testHost().issues("octokit-fixture-org/paginate-issues").listByLabel("soc2");

    const all = pages.flatMap((p) => p.response as { number: number; pull_request?: unknown }[]);
    expect(issues.map((i) => i.number)).toEqual(
      all.filter((i) => i.pull_request == null).map((i) => i.number),
    );
    expect(issues.length).toBeGreaterThan(3);
  });
});
