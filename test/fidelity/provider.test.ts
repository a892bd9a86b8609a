/**
 * GitHub's documented examples fed through the GitHub provider's public functions: every REST
 * request is answered with the example GitHub publishes for it (documented-github.ts), and the facts
 * the provider reads must be the ones the example shows, or a clear error / an unknown naming what
 * is missing. Expected facts are read from the examples themselves.
 */
import { schema as published } from "@octokit/graphql-schema";
import { buildSchema, type GraphQLInterfaceType, type GraphQLSchema } from "graphql";
import { describe, expect, it } from "vitest";
import type { BranchRule, Known } from "../../src/model/index.js";
import { fixture, makePolicy } from "../providers/github/mock.js";
import { useDocumentedGitHub } from "./documented-github.js";
import {
  documentedExample,
  ENTERPRISE_SERVER,
  flatten,
  resolve,
  successExamples,
  type SchemaNode,
} from "./openapi.js";

interface Login {
  login: string;
}

const ORG = "GET /orgs/{org}";
const MEMBERS = "GET /orgs/{org}/members";
const INVITATIONS = "GET /orgs/{org}/invitations";
const OUTSIDE = "GET /orgs/{org}/outside_collaborators";
const PROTECTION = "GET /repos/{owner}/{repo}/branches/{branch}/protection";
const RULES = "GET /repos/{owner}/{repo}/rules/branches/{branch}";
const RULESET = "GET /repos/{owner}/{repo}/rulesets/{ruleset_id}";

let graphqlSchema: GraphQLSchema | undefined;
function githubSchema(): GraphQLSchema {
  // The published SDL repeats two fields, hence assumeValidSDL.
  graphqlSchema ??= buildSchema(published.idl, { assumeValidSDL: true });
  return graphqlSchema;
}

function value<T>(fact: Known<T>): T {
  if (!fact.known) throw new Error(`expected a known fact, got unknown: ${fact.permission}: ${fact.reason}`);
  return fact.value;
}

describe("organization, from GitHub's examples", () => {
  const github = useDocumentedGitHub();

  it("reads the organization, owners, members, invitations and outside collaborators as documented", async () => {
    const org = documentedExample<{
      login: string;
      html_url: string;
      two_factor_requirement_enabled: boolean;
      default_repository_permission: string;
    }>(ORG);
    const members = documentedExample<Login[]>(MEMBERS);
    const invitations =
      documentedExample<
        { login: string | null; email: string | null; role: string; created_at: string; inviter: Login }[]
      >(INVITATIONS);
    const outside = documentedExample<Login[]>(OUTSIDE);

    const organization = await github.host().collectOrganization(org.login);

    expect(organization.login).toBe(org.login);
    expect(organization.url).toBe(org.html_url);
    expect(organization.twoFactorRequired).toEqual({
      known: true,
      value: org.two_factor_requirement_enabled,
    });
    expect(organization.basePermission).toEqual({ known: true, value: org.default_repository_permission });
    // The example answers every members query alike: everyone listed is an owner.
    expect(value(organization.members)).toEqual(members.map((m) => ({ login: m.login, role: "owner" })));
    expect(value(organization.membersWithoutTwoFactor)).toEqual(members.map((m) => m.login));
    expect(value(organization.invitations)).toEqual(
      invitations.map((i) => ({
        login: i.login,
        email: i.email,
        role: i.role,
        invitedAt: i.created_at,
        inviter: i.inviter.login,
      })),
    );
    expect(value(organization.outsideCollaborators)).toEqual(outside.map((u) => u.login));
    expect(github.requests.map((r) => r.url)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/members\?.*role=admin/),
        expect.stringMatching(/members\?.*filter=2fa_disabled/),
      ]),
    );
  });

  it("says unknown, naming the permission, for what GitHub shows only to owners", async () => {
    const org = documentedExample<Record<string, unknown>>(ORG);
    // GitHub leaves these out of a non-owner's answer.
    delete org.two_factor_requirement_enabled;
    delete org.default_repository_permission;
    github.answer(ORG, org);
    github.handle(MEMBERS, ({ query }) =>
      query.get("filter") === "2fa_disabled"
        ? [422, { message: "Only owners can use this filter.", documentation_url: "https://docs.github.com" }]
        : documentedExample(MEMBERS),
    );

    const organization = await github.host().collectOrganization(String(org.login));

    for (const fact of [
      organization.twoFactorRequired,
      organization.basePermission,
      organization.membersWithoutTwoFactor,
    ]) {
      expect(fact.known).toBe(false);
      expect(fact.known ? "" : fact.permission).toMatch(/organization administration/);
    }
    expect(organization.members.known).toBe(true);
  });
});

describe("organization on GitHub Enterprise Server, from its examples", () => {
  const github = useDocumentedGitHub("ghes-3.19");

  it("reads everything GHES documents, and says invitations are not available on this host (GHES has no such endpoint), not a missing permission", async () => {
    const organization = await github.host().collectOrganization("github");

    expect(github.absentOnEdition).toEqual([INVITATIONS]);
    expect(organization.members.known).toBe(true);
    expect(organization.outsideCollaborators.known).toBe(true);
    expect(organization.invitations.known).toBe(false);
    const fact = organization.invitations as { permission: string; reason: string };
    expect(`${fact.permission} ${fact.reason}`).toMatch(/not available on this host|enterprise server/i);
    expect(fact.permission).not.toBe("members:read");
  });
});

describe("credentials, from GitHub's examples", () => {
  const github = useDocumentedGitHub();

  it("names the user of a token by GET /user (every documented answer)", async () => {
    for (const example of successExamples("GET /user")) {
      github.answer("GET /user", example.value);
      const { actor } = await github.host().describeCredentials();
      expect(actor, example.name).toBe((example.value as Login).login);
    }
  });
});

describe("repositories of an organization, from GitHub's examples", () => {
  const github = useDocumentedGitHub();

  it("lists every repository of the documented answer", async () => {
    const repos = documentedExample<{ full_name: string }[]>("GET /orgs/{org}/repos");
    const names: string[] = [];
    for await (const name of github.host().listRepositories("octocat")) names.push(name);
    expect(names).toEqual(repos.map((r) => r.full_name));
  });
});

describe("a file (the policy file), from GitHub's examples", () => {
  const github = useDocumentedGitHub();
  const CONTENTS = "GET /repos/{owner}/{repo}/contents/{path}";
  const example = (name: string) => successExamples(CONTENTS).find((e) => e.name === name)?.value;

  it("reads a file's base64 content", async () => {
    github.answer(CONTENTS, example("response-if-content-is-a-file"));
    const text = await github.host().readFile("octokit/octokit.rb", "README.md");
    // The documented README begins "# Yoga Bo…" (its base64 starts "IyBZb2dhIEJv").
    expect(text?.startsWith("# Yoga Bo")).toBe(true);
  });

  it.each([
    ["response-if-content-is-a-directory", /directory/],
    ["response-if-content-is-a-symlink", /symlink/],
    ["response-if-content-is-a-submodule", /submodule/],
  ])("%s: a clear error saying what is there, never a policy read as absent", async (name, what) => {
    github.answer(CONTENTS, example(name));
    await expect(github.host().readFile("acme/.github", ".github/soc2.yml")).rejects.toThrow(what);
  });

  it("a missing file is absent (GitHub's 404)", async () => {
    github.answer(CONTENTS, [404, { message: "Not Found", documentation_url: "https://docs.github.com" }]);
    await expect(github.host().readFile("acme/.github", ".github/soc2.yml")).resolves.toBeNull();
  });
});

describe("branch rules, from GitHub's examples", () => {
  const github = useDocumentedGitHub();

  /** The documented ruleset, as GitHub answers it for `id`; bypass actors only where `visible`. */
  function rulesetAnswer(visible: (id: number) => boolean) {
    return ({ path }: { path: string }) => {
      const id = Number(path.split("/").pop());
      const ruleset = documentedExample<Record<string, unknown>>(RULESET);
      ruleset.id = id;
      if (!visible(id)) delete ruleset.bypass_actors;
      return ruleset;
    };
  }

  async function mainRule(): Promise<Known<BranchRule[]>> {
    const repository = await github.host().collectRepository("octocat/Hello-World", makePolicy());
    expect(repository.collectionError).toBeNull();
    return repository.branchRules;
  }

  it("classic protection: every setting of the documented answer", async () => {
    github.answer(RULES, []);
    const protection = documentedExample<{
      required_status_checks: { contexts: string[] };
      enforce_admins: { enabled: boolean };
      required_pull_request_reviews: {
        required_approving_review_count: number;
        dismiss_stale_reviews: boolean;
        require_code_owner_reviews: boolean;
        require_last_push_approval: boolean;
      };
      allow_force_pushes: { enabled: boolean };
      allow_deletions: { enabled: boolean };
    }>(PROTECTION);
    const reviews = protection.required_pull_request_reviews;

    const [rule] = value(await mainRule());

    expect(rule).toMatchObject({
      sources: ["branch-protection"],
      requirePullRequest: true,
      requiredApprovals: reviews.required_approving_review_count,
      dismissStaleApprovals: reviews.dismiss_stale_reviews,
      requireCodeOwnerReview: reviews.require_code_owner_reviews,
      requireLastPushApproval: reviews.require_last_push_approval,
      requiredStatusChecks: protection.required_status_checks.contexts,
      enforceAdmins: protection.enforce_admins.enabled,
      allowForcePushes: protection.allow_force_pushes.enabled,
      allowDeletions: protection.allow_deletions.enabled,
      bypassActors: [],
      bypassActorsVisible: true,
      // Contexts without checks[].app_id pin no source.
      requiredCheckApps: {},
    });
  });

  it("classic protection: linear history and conversation resolution the example requires are named as other requirements", async () => {
    github.answer(RULES, []);
    const [rule] = value(await mainRule());
    expect(rule?.otherRequirements).toEqual(
      expect.arrayContaining(["required_linear_history", "required_conversation_resolution"]),
    );
  });

  it("classic protection: a check pinned to an app (checks[].app_id) is required from that app", async () => {
    github.answer(RULES, []);
    const protection = documentedExample<{
      required_status_checks: { contexts: string[]; checks?: { context: string; app_id: number | null }[] };
    }>(PROTECTION);
    const [context] = protection.required_status_checks.contexts;
    // The documented schema's checks[]: the same context, pinned to an app, and one from any source.
    protection.required_status_checks.checks = [
      { context: String(context), app_id: 15368 },
      { context: "any-source", app_id: null },
    ];
    github.answer(PROTECTION, protection);
    const [rule] = value(await mainRule());
    expect(rule?.requiredCheckApps).toEqual({ [String(context)]: 15368 });
    expect(rule?.requiredStatusChecks).toEqual(expect.arrayContaining([String(context), "any-source"]));
  });

  it("rulesets: the documented rules of a branch and the documented ruleset's bypass actors", async () => {
    github.answer(PROTECTION, [
      404,
      { message: "Branch not protected", documentation_url: "https://docs.github.com" },
    ]);
    github.answer(
      RULESET,
      rulesetAnswer(() => true),
    );
    const rules = documentedExample<{ ruleset_id: number }[]>(RULES);
    const ruleset = documentedExample<{ bypass_actors: { actor_id: number; actor_type: string }[] }>(RULESET);

    const [rule] = value(await mainRule());

    expect(rule?.sources.sort()).toEqual([...new Set(rules.map((r) => `ruleset:${r.ruleset_id}`))].sort());
    expect(rule?.bypassActorsVisible).toBe(true);
    for (const actor of ruleset.bypass_actors) {
      expect(rule?.bypassActors.some((a) => a.includes(String(actor.actor_id)))).toBe(true);
    }
    // Neither documented rule requires a pull request: the branch takes changes without one.
    expect(rule?.requirePullRequest).toBe(false);
  });

  it("rulesets: a rule the provider does not verify (commit message and author e-mail patterns) is named, never dropped", async () => {
    github.answer(PROTECTION, [
      404,
      { message: "Branch not protected", documentation_url: "https://docs.github.com" },
    ]);
    github.answer(
      RULESET,
      rulesetAnswer(() => true),
    );
    const rules = documentedExample<{ type: string }[]>(RULES);
    const [rule] = value(await mainRule());
    expect(rule?.otherRequirements).toEqual(expect.arrayContaining(rules.map((r) => r.type)));
  });

  it("rulesets: bypass actors GitHub hides (no write access to the ruleset) leave the rest of the rule known", async () => {
    github.answer(PROTECTION, [
      404,
      { message: "Branch not protected", documentation_url: "https://docs.github.com" },
    ]);
    const rules = documentedExample<{ ruleset_id: number }[]>(RULES);
    const hidden = rules[rules.length - 1]?.ruleset_id;
    github.answer(
      RULESET,
      rulesetAnswer((id) => id !== hidden),
    );

    const branchRules = await mainRule();

    expect(branchRules.known).toBe(true);
    expect(value(branchRules)[0]?.bypassActorsVisible).toBe(false);
  });

  it("every rule type GitHub documents gives a known rule, and the ones issue 10 names are verified or named", async () => {
    github.answer(PROTECTION, [
      404,
      { message: "Branch not protected", documentation_url: "https://docs.github.com" },
    ]);
    github.answer(
      RULESET,
      rulesetAnswer(() => true),
    );
    const union = resolve<SchemaNode>({ $ref: "#/components/schemas/repository-rule" });
    const failures: string[] = [];
    for (const alternative of union.oneOf ?? []) {
      const documented = flatten(alternative);
      const type = String(resolve(documented.properties?.type ?? {}).enum?.[0]);
      // GitHub sends a rule's parameters whenever it has any, though its schema makes them optional.
      const parameters = documented.properties?.parameters;
      const instance = {
        ...(minimalInstance(documented) as object),
        ...(parameters ? { parameters: minimalInstance(parameters) } : {}),
      };
      github.answer(RULES, [{ ...instance, type, ruleset_id: 42 }]);
      let rule: BranchRule | undefined;
      try {
        const repository = await github.host().collectRepository("octocat/Hello-World", makePolicy());
        rule = repository.branchRules.known ? repository.branchRules.value[0] : undefined;
        if (!rule) failures.push(`${type}: rule unknown (${JSON.stringify(repository.branchRules)})`);
      } catch (error) {
        failures.push(`${type}: ${String(error)}`);
      }
      if (!rule) continue;
      const verified =
        (type === "pull_request" && rule.requirePullRequest) ||
        (type === "required_status_checks" && rule.sources.includes("ruleset:42")) ||
        (type === "non_fast_forward" && !rule.allowForcePushes) ||
        (type === "deletion" && !rule.allowDeletions) ||
        rule.otherRequirements.includes(type);
      if (MUST_BE_JUDGED.has(type) && !verified) failures.push(`${type}: neither verified nor named`);
    }
    expect(failures).toEqual([]);
  });
});

describe("a rule GitHub sends without the parameters its schema makes optional", () => {
  const github = useDocumentedGitHub();

  it("is an unknown or error naming the rule, never a missing permission", async () => {
    github.answer(PROTECTION, [
      404,
      { message: "Branch not protected", documentation_url: "https://docs.github.com" },
    ]);
    github.answer(RULES, [{ type: "pull_request", ruleset_id: 42 }]);
    const repository = await github.host().collectRepository("octocat/Hello-World", makePolicy());
    const said =
      repository.collectionError ?? (repository.branchRules.known ? "" : repository.branchRules.reason);
    expect(repository.branchRules.known && repository.collectionError === null).toBe(false);
    expect(said).toMatch(/pull_request/);
    expect(repository.branchRules.known ? "" : repository.branchRules.permission).not.toBe("metadata:read");
  });
});

/** Rule types issue 10 (section 3) says must be verified from evidence or make the verdict unknown. */
const MUST_BE_JUDGED = new Set([
  "pull_request",
  "required_status_checks",
  "non_fast_forward",
  "deletion",
  "workflows",
  "merge_queue",
  "required_deployments",
  "code_scanning",
  "required_signatures",
  "required_linear_history",
]);

/** The smallest value GitHub's schema allows: required properties only, first enum values. */
function minimalInstance(node: SchemaNode): unknown {
  const schema = flatten(node);
  if (schema.enum && schema.enum.length > 0) return schema.enum[0];
  const alternatives = [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])];
  if (alternatives[0]) return minimalInstance(alternatives[0]);
  switch (schema.type) {
    case "object":
      return Object.fromEntries(
        (schema.required ?? []).map((key) => [key, minimalInstance(schema.properties?.[key] ?? {})]),
      );
    case "array":
      return [];
    case "string":
      return "x";
    case "integer":
    case "number":
      return 1;
    case "boolean":
      return true;
    default:
      return schema.properties ? minimalInstance({ ...schema, type: "object" }) : null;
  }
}

describe("repository settings and access, from GitHub's examples", () => {
  const github = useDocumentedGitHub();

  it("reads settings, collaborators, outside collaborators, teams and deploy keys as documented", async () => {
    const repo = documentedExample<{
      full_name: string;
      html_url: string;
      visibility?: string;
      private: boolean;
      archived: boolean;
      default_branch: string;
    }>("GET /repos/{owner}/{repo}");
    const collaborators = documentedExample<(Login & { role_name: string })[]>(
      "GET /repos/{owner}/{repo}/collaborators",
    );
    const teams = documentedExample<{ slug: string; permission: string }[]>(
      "GET /repos/{owner}/{repo}/teams",
    );
    const keys = documentedExample<
      { id: number; title: string; read_only: boolean; created_at: string; added_by: string }[]
    >("GET /repos/{owner}/{repo}/keys");

    const repository = await github.host().collectRepository(repo.full_name, makePolicy());

    expect(repository).toMatchObject({
      fullName: repo.full_name,
      url: repo.html_url,
      visibility: repo.visibility ?? (repo.private ? "private" : "public"),
      archived: repo.archived,
      defaultBranch: repo.default_branch,
      productionBranches: [repo.default_branch],
      collectionError: null,
    });
    // The documented outside-collaborator answer is the same list: everyone in it is outside.
    expect(value(repository.collaborators)).toEqual(
      collaborators.map((c) => ({ login: c.login, permission: c.role_name, outside: true })),
    );
    expect(value(repository.teams)).toEqual(teams.map((t) => ({ slug: t.slug, permission: t.permission })));
    expect(value(repository.deployKeys)).toEqual(
      keys.map((k) => ({
        id: String(k.id),
        title: k.title,
        readOnly: k.read_only,
        createdAt: k.created_at,
        addedBy: k.added_by,
      })),
    );
  });

  it("a team with a custom repository role takes its access from the permissions flags", async () => {
    const [team] = documentedExample<Record<string, unknown>[]>("GET /repos/{owner}/{repo}/teams");
    // GitHub's team schema: `permission` names the role, `permissions` its base access.
    github.answer("GET /repos/{owner}/{repo}/teams", [
      {
        ...team,
        permission: "security-reviewer",
        permissions: { pull: true, triage: true, push: true, maintain: false, admin: false },
      },
    ]);
    const repository = await github.host().collectRepository("octocat/Hello-World", makePolicy());
    expect(value(repository.teams)).toEqual([{ slug: team?.slug, permission: "write" }]);
  });
});

describe("finding issues, from GitHub's examples", () => {
  const github = useDocumentedGitHub();
  type IssueExample = {
    number: number;
    title: string;
    body: string | null;
    state: "open" | "closed";
    html_url: string;
    labels: ({ name: string } | string)[];
    pull_request?: unknown;
  };
  const finding = (i: IssueExample) => ({
    number: i.number,
    title: i.title,
    body: i.body ?? "",
    state: i.state,
    url: i.html_url,
    labels: i.labels.map((l) => (typeof l === "string" ? l : l.name)),
  });

  it("lists issues by label, leaving out the pull requests the issues API also lists", async () => {
    const listed = documentedExample<IssueExample[]>("GET /repos/{owner}/{repo}/issues");
    const plain = listed.map(({ pull_request: _, ...issue }) => ({ ...issue, number: issue.number + 1 }));
    github.answer("GET /repos/{owner}/{repo}/issues", [...listed, ...plain]);

    const issues = await github.host().issues("octocat/Hello-World").listByLabel("soc2");

    expect(issues).toEqual([...listed.filter((i) => i.pull_request == null), ...plain].map(finding));
    expect(github.requests.find((r) => r.route === "GET /repos/{owner}/{repo}/issues")?.url).toMatch(
      /labels=soc2.*state=all|state=all.*labels=soc2/,
    );
  });

  it("reads the issue GitHub answers a create and an update with", async () => {
    const tracker = github.host().issues("octocat/Hello-World");
    const created = await tracker.create({ title: "t", body: "b", labels: ["soc2"] });
    expect(created).toEqual(finding(documentedExample<IssueExample>("POST /repos/{owner}/{repo}/issues")));
    const updated = await tracker.update(1347, { state: "closed" });
    expect(updated).toEqual(
      finding(documentedExample<IssueExample>("PATCH /repos/{owner}/{repo}/issues/{issue_number}")),
    );
    await tracker.comment(1347, "still failing");
    expect(github.requests.map((r) => r.route)).toContain(
      "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
    );
  });
});

describe("the change-management check run, from GitHub's examples", () => {
  const github = useDocumentedGitHub();
  const runs = documentedExample<{ check_runs: { id: number; name: string }[] }>(
    "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
  );
  const report = (name: string) => ({
    name,
    conclusion: "success" as const,
    title: "ok",
    summary: "all controls pass",
  });
  const target = {
    repository: "octocat/Hello-World",
    number: 1347,
    headSha: "6dcb09b5b57875f334f61aebed695e2e4193db5e",
  };

  it("updates the run GitHub lists under the same name (a re-delivery adds no second run)", async () => {
    const [run] = runs.check_runs;
    await github.host().publishChangeCheck(target, report(String(run?.name)));
    const write = github.requests.find((r) => r.route.startsWith("PATCH") || r.route.startsWith("POST"));
    expect(write?.route).toBe("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}");
    expect(write?.url).toMatch(new RegExp(`/check-runs/${run?.id}$`));
  });

  it("creates a run when GitHub lists none of that name", async () => {
    await github.host().publishChangeCheck(target, report("SOC 2 change management"));
    expect(github.requests.map((r) => r.route)).toContain("POST /repos/{owner}/{repo}/check-runs");
  });
});

describe("pull requests of a commit, from GitHub's examples", () => {
  const github = useDocumentedGitHub();

  it("finds the open pull request whose head is the commit, and none for another commit", async () => {
    const pulls = documentedExample<{ number: number; state: string; head: { sha: string } }[]>(
      "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
    );
    const [pull] = pulls;
    expect(pull?.state).toBe("open");
    await expect(
      github.host().changeRequestsForCommit("octocat/Hello-World", String(pull?.head.sha)),
    ).resolves.toEqual(
      pulls.filter((p) => p.state === "open" && p.head.sha === pull?.head.sha).map((p) => p.number),
    );
    await expect(
      github.host().changeRequestsForCommit("octocat/Hello-World", "f".repeat(40)),
    ).resolves.toEqual([]);
  });
});

describe("direct pushes, from GitHub's repository activity examples", () => {
  const github = useDocumentedGitHub();
  const ACTIVITY = "GET /repos/{owner}/{repo}/activity";
  const COMPARE = "GET /repos/{owner}/{repo}/compare/{basehead}";
  type ActivityExample = { before: string; after: string; ref: string; pushed_at: string; pusher: Login };
  const [documented] = documentedExample<ActivityExample[]>(ACTIVITY);
  const compared = documentedExample<{ commits: { sha: string }[] }>(COMPARE);
  const period = { since: new Date("2011-01-01T00:00:00Z"), until: new Date("2011-02-01T00:00:00Z") };

  /** Commit-date history, asked for only where the activity record does not reach: none here. */
  function emptyHistory(untils: unknown[]) {
    github.graphql("BranchHistory", (variables) => {
      untils.push(variables.until);
      return {
        rateLimit: { cost: 1 },
        repository: {
          ref: { target: { history: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } } },
        },
      };
    });
  }

  async function pushes() {
    const found = [];
    for await (const push of github
      .host()
      .listDirectPushes("octocat/Hello-World", "main", period, new Set<string>())) {
      found.push(push);
    }
    return found;
  }

  it("names the pusher and the push time of each commit a documented push brought", async () => {
    const untils: unknown[] = [];
    emptyHistory(untils);
    expect(documented?.ref).toBe("refs/heads/main");

    const found = await pushes();

    expect(
      found.map((p) => ({ sha: p.sha, pushedBy: p.pushedBy, pushedAt: p.pushedAt, forced: p.forced })),
    ).toEqual(
      compared.commits.map((c) => ({
        sha: c.sha,
        pushedBy: documented?.pusher.login,
        pushedAt: documented?.pushed_at,
        forced: false,
      })),
    );
    expect(github.requests.find((r) => r.route === COMPARE)?.url).toContain(
      `${documented?.before}...${documented?.after}`,
    );
    // Only the part of the period before the oldest recorded push is read by commit date.
    for (const until of untils)
      expect(Date.parse(String(until))).toBeLessThanOrEqual(Date.parse(String(documented?.pushed_at)));
  });

  it.each([
    ["the published example's spelling", { push_type: "force" }],
    [
      "the documented schema's spelling",
      {
        push_type: undefined,
        pushed_at: undefined,
        pusher: undefined,
        activity_type: "force_push",
        timestamp: "2011-01-26T19:06:43Z",
        actor: { login: "hubot" },
      },
    ],
  ])("a force push (%s) is a forced direct push by its actor", async (_spelling, change) => {
    emptyHistory([]);
    github.answer(ACTIVITY, [{ ...documented, ...change }]);
    const found = await pushes();
    expect(found.length).toBe(compared.commits.length);
    for (const push of found) {
      expect(push.forced).toBe(true);
      expect(push.pushedBy).toBe("actor" in change ? change.actor?.login : documented?.pusher.login);
      expect(push.pushedAt).toBe("2011-01-26T19:06:43Z");
    }
  });
});

describe("GitHub's record of bypasses (rule suites), from its examples", () => {
  const github = useDocumentedGitHub();
  const SUITES = "GET /repos/{owner}/{repo}/rulesets/rule-suites";

  it("a merge whose merge commit GitHub recorded as a bypass is a bypass; unrecorded, unverified rules make it unknown", async () => {
    const suites =
      documentedExample<{ after_sha: string; ref: string; result: string; actor_name: string }[]>(SUITES);
    const bypass = suites.find((s) => s.result === "bypass");
    expect(bypass).toBeDefined();
    const branch = String(bypass?.ref).replace(/^refs\/heads\//, "");
    // A merged pull request (the provider tests' GraphQL fixture) merged as that commit into that branch.
    const answer = fixture<{
      repository: {
        pullRequest: { baseRefName: string; mergeCommit: { oid: string } | null; state: string };
      };
    }>("pull-request.json");
    expect(answer.repository.pullRequest.state).toBe("MERGED");
    answer.repository.pullRequest.baseRefName = branch;
    answer.repository.pullRequest.mergeCommit = {
      ...answer.repository.pullRequest.mergeCommit,
      oid: String(bypass?.after_sha),
    };
    github.graphql("PullRequest", () => answer);
    github.answer(PROTECTION, [
      404,
      { message: "Branch not protected", documentation_url: "https://docs.github.com" },
    ]);
    github.handle(RULESET, ({ path }) => ({
      ...documentedExample<object>(RULESET),
      id: Number(path.split("/").pop()),
    }));

    const change = await github.host().collectChangeRequest("octo-org/octo-repo", 42);

    expect(change.bypassedProtection).toEqual({ known: true, value: true });
    // Without GitHub's record, the documented rules (commit message and author e-mail patterns) are
    // requirements nothing verifies: unknown, naming them, never "no bypass".
    github.answer(SUITES, []);
    const unrecorded = await github.host().collectChangeRequest("octo-org/octo-repo", 42);
    expect(unrecorded.bypassedProtection.known).toBe(false);
    expect(unrecorded.bypassedProtection.known ? "" : unrecorded.bypassedProtection.reason).toMatch(
      /commit_message_pattern/,
    );
    const asked = github.requests.find((r) => r.route === SUITES)?.url ?? "";
    expect(asked).toContain(`ref=${encodeURIComponent(`refs/heads/${branch}`)}`);
  });
});

describe.each(ENTERPRISE_SERVER)("GitHub Enterprise Server %s, from its own examples", (edition) => {
  const github = useDocumentedGitHub(edition);

  it("collects a repository: settings, branch rule and access all known", async () => {
    const repo = documentedExample<{ full_name: string; default_branch: string }>(
      "GET /repos/{owner}/{repo}",
      undefined,
      edition,
    );
    const repository = await github.host().collectRepository(repo.full_name, makePolicy());
    expect(repository.collectionError).toBeNull();
    expect(repository.defaultBranch).toBe(repo.default_branch);
    for (const fact of [
      repository.branchRules,
      repository.collaborators,
      repository.teams,
      repository.deployKeys,
    ]) {
      expect(fact.known ? "known" : `${fact.permission}: ${fact.reason}`).toBe("known");
    }
    expect(github.absentOnEdition).toEqual([]);
  });

  it("collects an organization: invitations are not available on this host, everything else is known", async () => {
    const organization = await github.host().collectOrganization("github");
    expect(github.absentOnEdition).toEqual([INVITATIONS]);
    for (const fact of [
      organization.members,
      organization.outsideCollaborators,
      organization.twoFactorRequired,
    ]) {
      expect(fact.known).toBe(true);
    }
    const invitations = organization.invitations;
    expect(invitations.known ? "" : `${invitations.permission} ${invitations.reason}`).toMatch(
      /not available on this host/,
    );
  });

  it("finds direct pushes by push time from the activity record", async () => {
    github.graphql("BranchHistory", () => ({
      rateLimit: null,
      repository: {
        ref: { target: { history: { nodes: [], pageInfo: { hasNextPage: false, endCursor: null } } } },
      },
    }));
    const [activity] = documentedExample<{ pushed_at?: string; timestamp?: string }[]>(
      "GET /repos/{owner}/{repo}/activity",
      undefined,
      edition,
    );
    const compared = documentedExample<{ commits: unknown[] }>(
      "GET /repos/{owner}/{repo}/compare/{basehead}",
      undefined,
      edition,
    );
    const at = Date.parse(String(activity?.pushed_at ?? activity?.timestamp));
    const found = [];
    for await (const push of github
      .host()
      .listDirectPushes(
        "octocat/Hello-World",
        "main",
        { since: new Date(at - 86_400_000), until: new Date(at + 86_400_000) },
        new Set<string>(),
      )) {
      found.push(push);
    }
    expect(found.length).toBe(compared.commits.length);
    expect(found.every((p) => p.pushedAt !== null && p.pushedBy !== null)).toBe(true);
  });
});

describe("actor kinds, for every kind of actor GitHub's GraphQL schema has", () => {
  const github = useDocumentedGitHub();
  // Every type that can stand where the query asks for an Actor (pull request author, reviewer).
  const actorTypes = githubSchema()
    .getPossibleTypes(githubSchema().getType("Actor") as GraphQLInterfaceType)
    .map((t) => t.name);

  it.each(actorTypes)(
    "an author and reviewer of type %s is a user only if GitHub says User",
    async (typename) => {
      const answer = fixture<{
        repository: {
          pullRequest: {
            author: { __typename: string; login: string };
            reviews: { nodes: { author: { __typename: string; login: string } | null }[] };
          };
        };
      }>("pull-request.json");
      const pr = answer.repository.pullRequest;
      pr.author.__typename = typename;
      for (const review of pr.reviews.nodes) if (review.author) review.author.__typename = typename;
      github.graphql("PullRequest", () => answer);
      github.handle(RULESET, ({ path }) => ({
        ...documentedExample<object>(RULESET),
        id: Number(path.split("/").pop()),
      }));

      const change = await github.host().collectChangeRequest("octocat/Hello-World", 42);

      const expected = typename === "User" ? "user" : typename === "Bot" ? "bot" : "unknown";
      expect(change.authorKind).toBe(expected);
      expect(change.reviews.length).toBeGreaterThan(0);
      expect([...new Set(change.reviews.map((r) => r.reviewerKind))]).toEqual([expected]);
    },
  );
});
