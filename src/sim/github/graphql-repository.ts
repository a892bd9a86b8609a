/**
 * GraphQL repository facts over the world, served from the same facts as the REST routes so the
 * two paths answer alike: collaborators with their permission, deploy keys, branch names, the
 * classic protection rule and the ruleset rules of a branch, a file of a commit's tree, and the
 * organization's teams with their repositories. A fact the world marks unreadable is refused as
 * GitHub's GraphQL refuses it: null data and a FORBIDDEN error with the field's path.
 */
import { GraphQLError } from "graphql";
import type { BranchRule, Permission } from "../../model/index.js";
import { connection } from "./graphql.js";
import { rulesForBranch } from "./rest-protection.js";
import { branchNames, branchRule, userId, type SimRepository, type World } from "./world.js";

type Obj = Record<string, unknown>;
type Args = Record<string, unknown>;

/** The message REST's 403 carries for an installation without the permission. */
const NOT_ACCESSIBLE = "Resource not accessible by integration";

export function forbidden(): GraphQLError {
  return new GraphQLError(NOT_ACCESSIBLE, { extensions: { type: "FORBIDDEN" } });
}

const PERMISSIONS: Partial<Record<Permission, string>> = {
  admin: "ADMIN",
  maintain: "MAINTAIN",
  write: "WRITE",
  triage: "TRIAGE",
  read: "READ",
};

function repositoryPermission(permission: Permission): string {
  const value = PERMISSIONS[permission];
  // GraphQL's RepositoryPermission has no "none": GitHub lists no one without access.
  if (!value) throw new GraphQLError(`no repository permission "${permission}"`);
  return value;
}

/** Repository fields beyond those graphql.ts serves for pull requests. */
export function repositoryFacts(world: World, repo: SimRepository): Obj {
  const facts = repo.facts;
  // The viewer administers what it may read all of: the protection, the deploy keys, the people.
  const admin = facts.branchRules.known && facts.deployKeys.known && facts.collaborators.known;
  return {
    viewerPermission: admin ? "ADMIN" : "READ",
    collaborators: (args: Args) => {
      if (!repo.facts.collaborators.known) throw forbidden();
      const affiliation = typeof args.affiliation === "string" ? args.affiliation : "ALL";
      const people = repo.facts.collaborators.value.filter((c) => affiliation !== "OUTSIDE" || c.outside);
      const page = connection(people, args, (c) => ({
        login: c.login,
        url: `${world.webUrl}/${c.login}`,
        permission: repositoryPermission(c.permission),
      }));
      const edges = page.edges as Array<{ node: Obj; cursor: string }>;
      return { ...page, edges: edges.map((e) => ({ ...e, permission: e.node.permission })) };
    },
    deployKeys: (args: Args) => {
      if (!repo.facts.deployKeys.known) throw forbidden();
      return connection(repo.facts.deployKeys.value, args, (k) => ({
        id: Buffer.from(`DeployKey:${k.id}`).toString("base64"),
        title: k.title,
        readOnly: k.readOnly,
        createdAt: k.createdAt ?? "2020-01-01T00:00:00Z",
        key: `ssh-ed25519 ${k.id}`,
        enabled: true,
        verified: true,
      }));
    },
    refs: (args: Args, refNode: (branch: string) => Obj) => {
      if (args.refPrefix !== "refs/heads/") return connection([], args, (x) => x);
      const order = args.orderBy as { direction?: string } | undefined;
      const names = branchNames(repo);
      return connection(order?.direction === "DESC" ? [...names].reverse() : names, args, refNode);
    },
  };
}

/** Ref fields for the rules of a branch and the files of its head commit. */
export function refFacts(world: World, repo: SimRepository, branch: string): Obj {
  return {
    branchProtectionRule: () => {
      const rule = branchRule(repo, branch);
      // REST answers 403 on …/protection for these credentials: GraphQL refuses the field.
      if (!rule.known) throw forbidden();
      if (!rule.value || !rule.value.sources.includes("branch-protection")) return null;
      return protectionRuleNode(world, rule.value);
    },
    rules: (args: Args) =>
      connection(rulesForBranch(repo, branch), args, (rule) => ({
        type: String(rule.type).toUpperCase(),
        parameters: ruleParameters(rule),
        repositoryRuleset: {
          databaseId: rule.ruleset_id,
          name: `${branch} protection`,
          enforcement: "ACTIVE",
        },
      })),
    /** Commit.file(path:) of the branch's head: the world's files of that branch are blobs. */
    file: (args: Args) => {
      const text = world.files.get(`${repo.facts.fullName}:${String(args.path)}@${branch}`);
      if (text === undefined) return null;
      return {
        name: String(args.path).split("/").at(-1),
        path: args.path,
        mode: 0o100644,
        type: "blob",
        object: {
          __typename: "Blob",
          text,
          isBinary: false,
          isTruncated: false,
          byteSize: Buffer.byteLength(text),
        },
      };
    },
  };
}

function ruleParameters(rule: Record<string, unknown>): Obj | null {
  const p = rule.parameters as Record<string, unknown> | undefined;
  if (rule.type === "pull_request" && p)
    return {
      __typename: "PullRequestParameters",
      requiredApprovingReviewCount: p.required_approving_review_count,
      dismissStaleReviewsOnPush: p.dismiss_stale_reviews_on_push,
      requireCodeOwnerReview: p.require_code_owner_review,
      requireLastPushApproval: p.require_last_push_approval,
      requiredReviewThreadResolution: p.required_review_thread_resolution ?? false,
      allowedMergeMethods: null,
    };
  if (rule.type === "required_status_checks" && p)
    return {
      __typename: "RequiredStatusChecksParameters",
      requiredStatusChecks: (
        p.required_status_checks as Array<{ context: string; integration_id?: number }>
      ).map((c) => ({ context: c.context, integrationId: c.integration_id ?? null })),
      strictRequiredStatusChecksPolicy: p.strict_required_status_checks_policy ?? false,
      doNotEnforceOnCreate: false,
    };
  return null;
}

/** The classic rule as GraphQL's BranchProtectionRule, the same rule protectionJson serves over REST. */
function protectionRuleNode(world: World, rule: BranchRule): Obj {
  const has = (requirement: string) => (rule.otherRequirements ?? []).includes(requirement);
  const users = rule.requirePullRequest
    ? rule.bypassActors.filter((a) => !a.includes(":") && a !== "org-admin")
    : [];
  return {
    requiresApprovingReviews: rule.requirePullRequest,
    requiredApprovingReviewCount: rule.requirePullRequest ? rule.requiredApprovals : null,
    dismissesStaleReviews: rule.dismissStaleApprovals,
    requiresCodeOwnerReviews: rule.requireCodeOwnerReview,
    requireLastPushApproval: rule.requireLastPushApproval,
    requiresStatusChecks: rule.requiredStatusChecks.length > 0,
    requiresStrictStatusChecks: false,
    requiredStatusCheckContexts: rule.requiredStatusChecks,
    requiredStatusChecks: rule.requiredStatusChecks.map((context) => {
      const app = rule.requiredCheckApps?.[context];
      return {
        context,
        app: app === undefined ? null : { databaseId: app, slug: `app-${app}`, name: `app ${app}` },
      };
    }),
    isAdminEnforced: rule.enforceAdmins,
    allowsForcePushes: rule.allowForcePushes,
    allowsDeletions: rule.allowDeletions,
    requiresCommitSignatures: has("required_signatures"),
    requiresLinearHistory: has("required_linear_history"),
    requiresConversationResolution: has("required_conversation_resolution"),
    lockBranch: has("lock_branch"),
    restrictsPushes: false,
    bypassPullRequestAllowances: (args: Args) =>
      connection(users, args, (login) => ({
        actor: {
          __typename: "User",
          login,
          databaseId: userId(world, login),
          url: `${world.webUrl}/${login}`,
        },
      })),
    pushAllowances: (args: Args) => connection([], args, (x) => x),
  };
}

/**
 * Organization.teams over the world: each team a repository's teams name, by slug, with the
 * repositories it may access. Refused when a repository's teams are unreadable in the world: the
 * walk would otherwise say "no team" where REST says unknown.
 */
export function organizationNode(world: World, login: string): Obj {
  const org = world.snapshot.organization;
  if (!org || org.login !== login)
    throw new GraphQLError(`Could not resolve to an Organization with the login of '${login}'.`, {
      extensions: { type: "NOT_FOUND" },
    });
  const teams = () => {
    const bySlug = new Map<string, Array<{ repo: SimRepository; permission: Permission }>>();
    for (const repo of world.repositories.values()) {
      if (repo.owner !== login || repo.facts.collectionError) continue;
      if (!repo.facts.teams.known) throw forbidden();
      for (const team of repo.facts.teams.value)
        bySlug.set(team.slug, [...(bySlug.get(team.slug) ?? []), { repo, permission: team.permission }]);
    }
    return [...bySlug].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  };
  const teamNode = ([slug, access]: [string, Array<{ repo: SimRepository; permission: Permission }>]) => ({
    slug,
    name: slug,
    databaseId: userId(world, `team:${slug}`),
    repositories: (args: Args) => {
      const page = connection(access, args, (a) => ({
        nameWithOwner: a.repo.facts.fullName,
        permission: repositoryPermission(a.permission),
      }));
      const edges = page.edges as Array<{ node: Obj; cursor: string }>;
      return { ...page, edges: edges.map((e) => ({ ...e, permission: e.node.permission })) };
    },
  });
  return {
    login,
    teams: (args: Args) => connection(teams(), args, teamNode),
    team: (args: Args) => {
      const found = teams().find(([slug]) => slug === args.slug);
      return found ? teamNode(found) : null;
    },
  };
}
