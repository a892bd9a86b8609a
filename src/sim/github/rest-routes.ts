/**
 * The REST routes the simulated GitHub serves, each named by its OpenAPI path template and method
 * so the honesty test can validate every answer against GitHub's published description.
 */
import { branchHead, branchNames, branchRule, syntheticSha, userId } from "./world.js";
import {
  list,
  orgOf,
  pullOf,
  readable,
  repoOf,
  RouteError,
  text,
  type Route,
  type RouteAnswer,
} from "./rest-common.js";
import { checkRunOutputRefusal } from "./rest-limits.js";
import { ISSUE_ROUTES } from "./rest-issues.js";
import { ACTIVITY_ROUTES } from "./rest-activity.js";
import { DELIVERY_ROUTES } from "./rest-deliveries.js";
import { REVIEW_ROUTES } from "./rest-review-routes.js";
import {
  checkRunJson,
  commitJson,
  fullRepositoryJson,
  githubPermission,
  permissionFlags,
  pullJson,
  statusJson,
  userJson,
  type Json,
} from "./rest-shapes.js";
import { protectionJson, reviewJson, rulesetJson, rulesForBranch, timelineJson } from "./rest-protection.js";

/** Whose token the simulated GitHub takes every token to be (GET /user). */
export const SIMULATED_TOKEN_USER = "soc2-auditor";

export const ROUTES: Route[] = [
  // First: GET …/rulesets/rule-suites must not be taken for GET …/rulesets/{ruleset_id}.
  ...ACTIVITY_ROUTES,
  ...DELIVERY_ROUTES,
  // Before GET …/pulls below: the access review's list answers the `head` filter and labels too.
  ...REVIEW_ROUTES,
  {
    // The token's own user, as a classic token's GET /user answers (its scopes in X-OAuth-Scopes):
    // the evidence package names who collected it. The simulated token reads what an auditor's does.
    method: "GET",
    path: "/user",
    handle: (r) => ({
      status: 200,
      body: {
        ...userJson(r.world, r.api, SIMULATED_TOKEN_USER),
        user_view_type: "public",
        name: null,
        company: null,
        blog: "",
        location: null,
        email: null,
        hireable: null,
        bio: null,
        public_repos: 0,
        public_gists: 0,
        followers: 0,
        following: 0,
        created_at: "2020-01-01T00:00:00Z",
        updated_at: "2020-01-01T00:00:00Z",
      },
      headers: { "x-oauth-scopes": "read:org, repo" },
    }),
  },
  {
    method: "GET",
    path: "/orgs/{org}",
    handle: (r) => {
      const org = orgOf(r);
      const api = r.api;
      const body: Json = {
        ...userJson(r.world, api, org.login, "Organization"),
        repos_url: `${api}/orgs/${org.login}/repos`,
        events_url: `${api}/orgs/${org.login}/events`,
        hooks_url: `${api}/orgs/${org.login}/hooks`,
        issues_url: `${api}/orgs/${org.login}/issues`,
        members_url: `${api}/orgs/${org.login}/members{/member}`,
        public_members_url: `${api}/orgs/${org.login}/public_members{/member}`,
        url: `${api}/orgs/${org.login}`,
        html_url: org.url,
        description: null,
        has_organization_projects: false,
        has_repository_projects: false,
        public_repos: r.world.snapshot.repositories.filter((repo) => repo.visibility === "public").length,
        public_gists: 0,
        followers: 0,
        following: 0,
        created_at: "2020-01-01T00:00:00Z",
        updated_at: r.world.snapshot.collectedAt,
        archived_at: null,
      };
      // GitHub leaves these out for tokens that are not organization owners: that is the unknown.
      if (org.twoFactorRequired.known) body.two_factor_requirement_enabled = org.twoFactorRequired.value;
      if (org.basePermission.known) body.default_repository_permission = org.basePermission.value;
      for (const key of [
        "gravatar_id",
        "site_admin",
        "followers_url",
        "following_url",
        "gists_url",
        "starred_url",
        "subscriptions_url",
        "organizations_url",
        "received_events_url",
      ])
        delete body[key];
      return { status: 200, body };
    },
  },
  {
    method: "GET",
    path: "/orgs/{org}/members",
    handle: (r) => {
      const org = orgOf(r);
      if (r.query.get("filter") === "2fa_disabled") {
        return list(readable(org.membersWithoutTwoFactor), (login) => userJson(r.world, r.api, login));
      }
      const role = r.query.get("role") ?? "all";
      const members = readable(org.members).filter(
        (m) => role === "all" || (role === "admin" ? m.role === "owner" : m.role === "member"),
      );
      return list(members, (m) => userJson(r.world, r.api, m.login));
    },
  },
  {
    method: "GET",
    path: "/orgs/{org}/invitations",
    handle: (r) =>
      list(readable(orgOf(r).invitations), (inv) => ({
        id: userId(r.world, `invitation:${inv.login ?? inv.email}`),
        node_id: Buffer.from(`Invitation:${inv.login ?? inv.email}`).toString("base64"),
        login: inv.login,
        email: inv.email,
        role: inv.role,
        created_at: inv.invitedAt,
        inviter: userJson(r.world, r.api, inv.inviter ?? "ghost"),
        team_count: 0,
        invitation_teams_url: `${r.api}/organizations/1/invitations/1/teams`,
        invitation_source: "member",
      })),
  },
  {
    method: "GET",
    path: "/orgs/{org}/outside_collaborators",
    handle: (r) => list(readable(orgOf(r).outsideCollaborators), (login) => userJson(r.world, r.api, login)),
  },
  {
    method: "GET",
    path: "/orgs/{org}/repos",
    handle: (r) => {
      const org = orgOf(r);
      const repos = [...r.world.repositories.values()].filter((repo) => repo.owner === org.login);
      return list(repos, (repo) => fullRepositoryJson(r.world, r.api, repo));
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}",
    handle: (r) => ({ status: 200, body: fullRepositoryJson(r.world, r.api, repoOf(r)) }),
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/branches",
    handle: (r) => {
      const repo = repoOf(r);
      return list(branchNames(repo), (name) => {
        const sha = branchHead(repo, name);
        const rule = branchRule(repo, name);
        return {
          name,
          commit: { sha, url: `${r.api}/repos/${repo.facts.fullName}/commits/${sha}` },
          protected: rule.known ? rule.value !== null : false,
        };
      });
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/branches/{branch}/protection",
    handle: (r) => {
      const repo = repoOf(r);
      // GitHub answers a branch that no longer exists apart from one without protection.
      if (repo.deletedBranches?.has(r.params.branch ?? "")) throw new RouteError(404, "Branch not found");
      const rule = readable(branchRule(repo, r.params.branch ?? ""));
      if (!rule || !rule.sources.includes("branch-protection"))
        throw new RouteError(404, "Branch not protected");
      return { status: 200, body: protectionJson(r.world, r.api, repo, rule) };
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/rules/branches/{branch}",
    handle: (r) => {
      const repo = repoOf(r);
      // GitHub gates this on metadata:read, which every installation has: rules that cannot be read
      // show on the protection endpoint (administration:read), not here.
      return list(rulesForBranch(repo, r.params.branch ?? ""), (rule) => rule);
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/rulesets",
    handle: (r) => {
      const repo = repoOf(r);
      readable(repo.facts.branchRules);
      return list(repo.rulesets, (set) => rulesetJson(r.world, r.api, repo, set, false));
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/rulesets/{ruleset_id}",
    handle: (r) => {
      const repo = repoOf(r);
      readable(repo.facts.branchRules);
      const set = repo.rulesets.find((s) => s.id === Number(r.params.ruleset_id));
      if (!set) throw new RouteError(404, "Not Found");
      return { status: 200, body: rulesetJson(r.world, r.api, repo, set, true) };
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/collaborators",
    handle: (r) => {
      const repo = repoOf(r);
      const affiliation = r.query.get("affiliation") ?? "all";
      const people = readable(repo.facts.collaborators).filter((c) => affiliation !== "outside" || c.outside);
      return list(people, (c) => ({
        ...userJson(r.world, r.api, c.login),
        permissions: permissionFlags(c.permission),
        role_name: c.permission,
      }));
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/teams",
    handle: (r) => {
      const repo = repoOf(r);
      return list(readable(repo.facts.teams), (t) => {
        const id = userId(r.world, `team:${t.slug}`);
        const url = `${r.api}/organizations/1/team/${id}`;
        return {
          id,
          node_id: Buffer.from(`Team:${id}`).toString("base64"),
          url,
          html_url: `${r.world.webUrl}/orgs/${repo.owner}/teams/${t.slug}`,
          name: t.slug,
          slug: t.slug,
          description: null,
          privacy: "closed",
          notification_setting: "notifications_enabled",
          permission: githubPermission(t.permission),
          permissions: permissionFlags(t.permission),
          members_url: `${url}/members{/member}`,
          repositories_url: `${url}/repos`,
          parent: null,
          type: "organization",
        };
      });
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/keys",
    handle: (r) => {
      const repo = repoOf(r);
      return list(readable(repo.facts.deployKeys), (k) => ({
        id: Number(k.id) || userId(r.world, `key:${k.id}`),
        key: `ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI${Buffer.from(k.id).toString("base64")}`,
        url: `${r.api}/repos/${repo.facts.fullName}/keys/${k.id}`,
        title: k.title,
        verified: true,
        created_at: k.createdAt ?? "2020-01-01T00:00:00Z",
        read_only: k.readOnly,
        added_by: k.addedBy,
        last_used: null,
        enabled: true,
      }));
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/contents/{path}",
    handle: (r) => {
      const fullName = `${r.params.owner}/${r.params.repo}`;
      const ref = r.query.get("ref") ?? r.world.repositories.get(fullName)?.facts.defaultBranch ?? "main";
      const path = r.params.path ?? "";
      const content = r.world.files.get(`${fullName}:${path}@${ref}`);
      if (content === undefined) throw new RouteError(404, "Not Found");
      const sha = syntheticSha(content);
      const url = `${r.api}/repos/${fullName}/contents/${path}?ref=${ref}`;
      const html = `${r.world.webUrl}/${fullName}/blob/${ref}/${path}`;
      const git = `${r.api}/repos/${fullName}/git/blobs/${sha}`;
      return {
        status: 200,
        body: {
          type: "file",
          encoding: "base64",
          size: Buffer.byteLength(content),
          name: path.split("/").at(-1),
          path,
          content: Buffer.from(content).toString("base64"),
          sha,
          url,
          git_url: git,
          html_url: html,
          download_url: `https://raw.githubusercontent.com/${fullName}/${ref}/${path}`,
          _links: { self: url, git, html },
        },
      };
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/pulls/{pull_number}",
    handle: (r) => {
      const { repo, pull } = pullOf(r);
      return { status: 200, body: pullJson(r.world, r.api, repo, pull, true) };
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
    handle: (r) => {
      const { repo, pull } = pullOf(r);
      return list(
        pull.change.reviews.map((review, index) => ({ review, index })),
        ({ review, index }) => reviewJson(r.world, r.api, repo, pull, review, index),
      );
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/pulls/{pull_number}/commits",
    handle: (r) => {
      const { repo, pull } = pullOf(r);
      return list(pull.change.commits, (c) =>
        commitJson(
          r.world,
          r.api,
          repo,
          repo.commits.get(c.sha) ?? { ...c, message: "", parents: [], pullNumbers: [] },
        ),
      );
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/issues/{issue_number}/timeline",
    handle: (r) => {
      const { repo, pull } = pullOf(r);
      return list(timelineJson(r.world, r.api, repo, pull), (event) => event);
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/commits",
    handle: (r) => {
      const repo = repoOf(r);
      const branch = r.query.get("sha") ?? repo.facts.defaultBranch;
      const since = r.query.get("since");
      const until = r.query.get("until");
      const commits = (repo.branchCommits.get(branch) ?? []).filter(
        (c) => (!since || c.committedAt >= since) && (!until || c.committedAt <= until),
      );
      return list(commits, (c) => commitJson(r.world, r.api, repo, c));
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/commits/{commit_sha}/pulls",
    handle: (r) => {
      const repo = repoOf(r);
      const commit = repo.commits.get(r.params.commit_sha ?? "");
      const pulls = (commit?.pullNumbers ?? []).flatMap((n) => repo.pulls.get(n) ?? []);
      return list(pulls, (p) => pullJson(r.world, r.api, repo, p, false));
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/commits/{ref}/check-runs",
    handle: (r) => {
      const repo = repoOf(r);
      const runs = repo.checkRuns.filter(
        (c) =>
          c.headSha === r.params.ref && (!r.query.get("check_name") || c.name === r.query.get("check_name")),
      );
      // GitHub wraps this list: { total_count, check_runs }; the server pages the inner list.
      return {
        status: 200,
        items: runs,
        render: (c) => checkRunJson(r.world, r.api, repo, c as (typeof runs)[number]),
        wrap: "check_runs",
      } as RouteAnswer;
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/commits/{ref}/statuses",
    handle: (r) => {
      const repo = repoOf(r);
      const statuses = repo.statuses.filter((s) => s.sha === r.params.ref).reverse();
      return list(statuses, (s) => statusJson(r.world, r.api, repo, s));
    },
  },
  {
    method: "POST",
    path: "/repos/{owner}/{repo}/check-runs",
    handle: (r) => {
      const repo = repoOf(r);
      const refused = checkRunOutputRefusal(r.body.output, false);
      if (refused) return refused;
      const output = (r.body.output ?? {}) as Record<string, unknown>;
      const run = {
        id: ++r.world.nextId,
        headSha: text(r.body.head_sha, "head_sha"),
        name: text(r.body.name, "name"),
        status: (r.body.conclusion ? "completed" : (r.body.status ?? "queued")) as "queued",
        conclusion: typeof r.body.conclusion === "string" ? r.body.conclusion : null,
        detailsUrl: typeof r.body.details_url === "string" ? r.body.details_url : null,
        startedAt: r.world.now(),
        completedAt: r.body.conclusion ? r.world.now() : null,
        title: typeof output.title === "string" ? output.title : null,
        summary: typeof output.summary === "string" ? output.summary : null,
        app: "soc2-bot",
        annotations: Array.isArray(output.annotations) ? (output.annotations as unknown[]) : [],
      };
      repo.checkRuns.push(run);
      return { status: 201, body: checkRunJson(r.world, r.api, repo, run) };
    },
  },
  {
    method: "PATCH",
    path: "/repos/{owner}/{repo}/check-runs/{check_run_id}",
    handle: (r) => {
      const repo = repoOf(r);
      const run = repo.checkRuns.find((c) => c.id === Number(r.params.check_run_id));
      if (!run) throw new RouteError(404, "Not Found");
      const refused = checkRunOutputRefusal(r.body.output, true);
      if (refused) return refused;
      const output = (r.body.output ?? {}) as Record<string, unknown>;
      if (typeof r.body.name === "string") run.name = r.body.name;
      if (typeof r.body.conclusion === "string")
        Object.assign(run, {
          conclusion: r.body.conclusion,
          status: "completed",
          completedAt: r.world.now(),
        });
      if (typeof output.title === "string") run.title = output.title;
      if (typeof output.summary === "string") run.summary = output.summary;
      if (Array.isArray(output.annotations))
        run.annotations = [...(run.annotations ?? []), ...(output.annotations as unknown[])];
      return { status: 200, body: checkRunJson(r.world, r.api, repo, run) };
    },
  },
  {
    method: "POST",
    path: "/repos/{owner}/{repo}/statuses/{sha}",
    handle: (r) => {
      const repo = repoOf(r);
      const state = text(r.body.state, "state");
      if (!["success", "failure", "error", "pending"].includes(state))
        throw new RouteError(422, "Validation Failed");
      const status = {
        id: ++r.world.nextId,
        sha: r.params.sha ?? "",
        context: typeof r.body.context === "string" ? r.body.context : "default",
        state: state as "success",
        targetUrl: typeof r.body.target_url === "string" ? r.body.target_url : null,
        description: typeof r.body.description === "string" ? r.body.description : null,
        createdAt: r.world.now(),
        creator: "soc2-bot[bot]",
      };
      repo.statuses.push(status);
      return { status: 201, body: statusJson(r.world, r.api, repo, status) };
    },
  },
  ...ISSUE_ROUTES,
  { method: "GET", path: "/rate_limit", handle: (r) => ({ status: 200, body: r.rateLimit() }) },
];
