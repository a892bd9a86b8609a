/**
 * Branch protection, rulesets, reviews and the PR timeline in GitHub's REST shapes. A branch rule
 * whose sources name "branch-protection" is served as classic protection; each "ruleset:ID" source
 * as a repository ruleset carrying the same rules, so the most-restrictive merge a collector does
 * gives back the rule the snapshot holds.
 */
import type { BranchRule, Review } from "../../model/index.js";
import { userId, type SimPull, type SimRepository, type SimRuleset, type World } from "./world.js";
import { userJson, type Json } from "./rest-shapes.js";

/** Bypass actors are logins, or "team:SLUG", "app:SLUG", "role:admin", "org-admin". */
function bypassActor(world: World, actor: string): Json {
  if (actor === "org-admin")
    return { actor_id: null, actor_type: "OrganizationAdmin", bypass_mode: "always" };
  if (actor === "role:admin") return { actor_id: 5, actor_type: "RepositoryRole", bypass_mode: "always" };
  const [kind, name] = actor.includes(":") ? actor.split(":", 2) : ["user", actor];
  const type = kind === "team" ? "Team" : kind === "app" ? "Integration" : "User";
  return {
    actor_id: userId(world, type === "User" ? (name ?? actor) : actor),
    actor_type: type,
    bypass_mode: "always",
  };
}

export function protectionJson(world: World, api: string, repo: SimRepository, rule: BranchRule): Json {
  const url = `${api}/repos/${repo.facts.fullName}/branches/${encodeURIComponent(rule.branch)}/protection`;
  const body: Json = {
    url,
    enforce_admins: { url: `${url}/enforce_admins`, enabled: rule.enforceAdmins },
    allow_force_pushes: { enabled: rule.allowForcePushes },
    allow_deletions: { enabled: rule.allowDeletions },
    required_linear_history: { enabled: has(rule, "required_linear_history") },
    required_conversation_resolution: { enabled: has(rule, "required_conversation_resolution") },
    required_signatures: {
      url: `${url}/required_signatures`,
      enabled: has(rule, "required_signatures"),
    },
    lock_branch: { enabled: has(rule, "lock_branch") },
  };
  if (rule.requiredStatusChecks.length > 0) {
    body.required_status_checks = {
      url: `${url}/required_status_checks`,
      strict: false,
      contexts: rule.requiredStatusChecks,
      // app_id null: any source; a pinned check names the app that must report it.
      checks: rule.requiredStatusChecks.map((context) => ({
        context,
        app_id: rule.requiredCheckApps?.[context] ?? null,
      })),
      contexts_url: `${url}/required_status_checks/contexts`,
    };
  }
  if (rule.requirePullRequest) {
    const users = rule.bypassActors.filter((a) => !a.includes(":") && a !== "org-admin");
    body.required_pull_request_reviews = {
      url: `${url}/required_pull_request_reviews`,
      dismiss_stale_reviews: rule.dismissStaleApprovals,
      require_code_owner_reviews: rule.requireCodeOwnerReview,
      required_approving_review_count: rule.requiredApprovals,
      require_last_push_approval: rule.requireLastPushApproval,
      bypass_pull_request_allowances: {
        users: users.map((login) => userJson(world, api, login)),
        teams: [],
        apps: [],
      },
    };
  }
  return body;
}

function rulesOf(rule: BranchRule): Json[] {
  const rules: Json[] = [];
  if (rule.requirePullRequest) {
    rules.push({
      type: "pull_request",
      parameters: {
        required_approving_review_count: rule.requiredApprovals,
        dismiss_stale_reviews_on_push: rule.dismissStaleApprovals,
        require_code_owner_review: rule.requireCodeOwnerReview,
        require_last_push_approval: rule.requireLastPushApproval,
        required_review_thread_resolution: has(rule, "required_review_thread_resolution"),
      },
    });
  }
  if (rule.requiredStatusChecks.length > 0) {
    rules.push({
      type: "required_status_checks",
      parameters: {
        required_status_checks: rule.requiredStatusChecks.map((context) => {
          const app = rule.requiredCheckApps?.[context];
          return app === undefined ? { context } : { context, integration_id: app };
        }),
        strict_required_status_checks_policy: false,
      },
    });
  }
  if (!rule.allowForcePushes) rules.push({ type: "non_fast_forward" });
  if (!rule.allowDeletions) rules.push({ type: "deletion" });
  for (const type of rule.otherRequirements ?? []) {
    const parameters = OTHER_RULE_PARAMETERS[type];
    if (parameters !== undefined) rules.push(parameters === null ? { type } : { type, parameters });
  }
  return rules;
}

const has = (rule: BranchRule, requirement: string) => (rule.otherRequirements ?? []).includes(requirement);

/**
 * Ruleset rules for a rule's other requirements, with parameters as GitHub documents them (null:
 * a rule without parameters). Requirements that are no ruleset rule (lock_branch, …) have none.
 */
const OTHER_RULE_PARAMETERS: Record<string, Json | null> = {
  required_signatures: null,
  required_linear_history: null,
  merge_queue: {
    check_response_timeout_minutes: 60,
    grouping_strategy: "ALLGREEN",
    max_entries_to_build: 5,
    max_entries_to_merge: 5,
    merge_method: "MERGE",
    min_entries_to_merge: 1,
    min_entries_to_merge_wait_minutes: 5,
  },
  required_deployments: { required_deployment_environments: ["production"] },
  workflows: { workflows: [{ path: ".github/workflows/required.yml", repository_id: 1 }] },
  code_scanning: {
    code_scanning_tools: [
      { tool: "CodeQL", alerts_threshold: "errors", security_alerts_threshold: "high_or_higher" },
    ],
  },
  commit_message_pattern: { operator: "regex", pattern: "^[A-Z]+-[0-9]+" },
};

/** GET /repos/{owner}/{repo}/rules/branches/{branch}: every active rule, with its ruleset. */
export function rulesForBranch(repo: SimRepository, branch: string): Json[] {
  return repo.rulesets
    .filter((set) => set.branch === branch)
    .flatMap((set) =>
      rulesOf(set.rule).map((rule) => ({
        ...rule,
        ruleset_source_type: "Repository",
        ruleset_source: repo.facts.fullName,
        ruleset_id: set.id,
      })),
    );
}

export function rulesetJson(
  world: World,
  api: string,
  repo: SimRepository,
  set: SimRuleset,
  full: boolean,
): Json {
  const url = `${api}/repos/${repo.facts.fullName}/rulesets/${set.id}`;
  const actors = set.rule.bypassActors.map((actor) => bypassActor(world, actor));
  // A ruleset binds administrators unless they are bypass actors: enforceAdmins false means they are.
  if (!set.rule.enforceAdmins && !set.rule.bypassActors.includes("role:admin"))
    actors.push(bypassActor(world, "role:admin"));
  const body: Json = {
    id: set.id,
    name: set.name,
    target: "branch",
    source_type: "Repository",
    source: repo.facts.fullName,
    enforcement: "active",
    node_id: Buffer.from(`RepositoryRuleset:${set.id}`).toString("base64"),
    _links: { self: { href: url }, html: { href: `${world.webUrl}/${repo.facts.fullName}/rules/${set.id}` } },
    created_at: "2020-01-01T00:00:00Z",
    updated_at: world.snapshot.collectedAt,
  };
  if (!full) return body;
  return {
    ...body,
    // GitHub shows bypass actors only to who may edit the ruleset: a hidden rule leaves them out.
    ...(set.rule.bypassActorsVisible === false ? {} : { bypass_actors: actors }),
    current_user_can_bypass: "never",
    conditions: { ref_name: { include: [`refs/heads/${set.branch}`], exclude: [] } },
    rules: rulesOf(set.rule),
  };
}

export function reviewJson(
  world: World,
  api: string,
  repo: SimRepository,
  pull: SimPull,
  review: Review,
  index: number,
): Json {
  const id = pull.id * 10 + index;
  const html = `${world.webUrl}/${repo.facts.fullName}/pull/${pull.change.number}#pullrequestreview-${id}`;
  const pullUrl = `${api}/repos/${repo.facts.fullName}/pulls/${pull.change.number}`;
  return {
    id,
    node_id: Buffer.from(`PullRequestReview:${id}`).toString("base64"),
    user: userJson(world, api, review.reviewer),
    body: "",
    state: review.state.toUpperCase(),
    html_url: html,
    pull_request_url: pullUrl,
    _links: { html: { href: html }, pull_request: { href: pullUrl } },
    submitted_at: review.submittedAt,
    commit_id: review.commitSha,
    author_association: "MEMBER",
  };
}

/** Commits and forced pushes of a pull request, oldest first, as the issue timeline lists them. */
export function timelineJson(world: World, api: string, repo: SimRepository, pull: SimPull): Json[] {
  const c = pull.change;
  const events: Array<{ at: string; json: Json }> = [];
  for (const commit of c.commits) {
    const url = `${api}/repos/${repo.facts.fullName}/git/commits/${commit.sha}`;
    events.push({
      at: commit.committedAt,
      json: {
        event: "committed",
        sha: commit.sha,
        node_id: Buffer.from(`Commit:${commit.sha}`).toString("base64"),
        url,
        html_url: `${world.webUrl}/${repo.facts.fullName}/commit/${commit.sha}`,
        author: {
          name: commit.authorName,
          email: `${commit.authorLogin ?? "unknown"}@users.noreply.github.com`,
          date: commit.authoredAt,
        },
        committer: {
          name: commit.committerLogin ?? "GitHub",
          email: "noreply@github.com",
          date: commit.committedAt,
        },
        tree: { sha: commit.sha, url: `${api}/repos/${repo.facts.fullName}/git/trees/${commit.sha}` },
        message: `Commit ${commit.sha.slice(0, 7)}`,
        parents: [],
        verification: {
          verified: false,
          reason: "unsigned",
          signature: null,
          payload: null,
          verified_at: null,
        },
      },
    });
  }
  c.pushes.forEach((push, index) => {
    if (!push.forced) return;
    const id = pull.id * 100 + index;
    events.push({
      at: push.at,
      json: {
        id,
        node_id: Buffer.from(`HeadRefForcePushedEvent:${id}`).toString("base64"),
        url: `${api}/repos/${repo.facts.fullName}/issues/events/${id}`,
        actor: userJson(world, api, push.actor ?? "ghost"),
        event: "head_ref_force_pushed",
        commit_id: push.headSha,
        commit_url: `${api}/repos/${repo.facts.fullName}/commits/${push.headSha}`,
        created_at: push.at,
        performed_via_github_app: null,
      },
    });
  });
  return events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).map((e) => e.json);
}
