/** Repository facts from the REST API: settings, production branches and their rules, access. */
import { z } from "zod";
import { ProviderError, unreachableErrorIn } from "../../errors.js";
import {
  known,
  uncollectedRepository,
  type BranchRule,
  type Collaborator,
  type DeployKey,
  type Known,
  type Permission,
  type Repository,
  type TeamAccess,
} from "../../model/index.js";
import type { Policy } from "../../policy/types.js";
import { mergeRuleSources, protectionSource, rulesetSources } from "./branch-rules.js";
import { globMatch } from "../../policy/branches.js";
import { ProtectionAnswer, RuleAnswer, RulesetAnswer, TeamAnswer } from "./rest-schema.js";
import {
  batchBranches,
  batchCollaborators,
  batchDefaultBranchRule,
  batchDeployKeys,
  batchSettings,
  batchTeams,
  takePrefetchedRepository,
} from "./repository-batch.js";
import {
  describeFailure,
  failureReason,
  isForbidden,
  providerError,
  readKnown,
  recordUnreadable,
  splitFullName,
  webUrl,
  type GitHubContext,
  type ListedRepository,
} from "./http.js";
import {
  BranchAnswer,
  CollaboratorAnswer,
  DeployKeyAnswer,
  parseAnswer,
  RepositoryAnswer,
  type CollaboratorAnswer as CollaboratorAnswerType,
} from "./schema.js";

export const ADMINISTRATION_READ = "administration:read";
export const METADATA_READ = "metadata:read";
/** The "permission" of a fact GitHub answered in a shape we cannot read: none would change it. */
export const MALFORMED_ANSWER =
  "a well-formed answer from GitHub (no permission is missing: GitHub's answer lacked what it documents)";
/** What shows a ruleset's bypass_actors: GitHub returns them only to who may edit the ruleset. */
export const RULESET_WRITE =
  "write access to the repository's rulesets (administration:write): GitHub shows bypass_actors only to who may edit a ruleset";

export async function collectRepository(
  ctx: GitHubContext,
  fullName: string,
  policy: Policy,
): Promise<Repository> {
  try {
    return await readRepository(ctx, fullName, policy);
  } catch (error) {
    // A host gone away is no broken repository (nor a missing metadata:read): the run stops, exit 3.
    if (unreachableErrorIn(error)) throw error;
    // One broken repository must not stop an organization's audit: every control on it says unknown.
    const reason = error instanceof Error ? error.message : String(error);
    ctx.log.warn(`${fullName}: could not be collected: ${reason}`);
    const cause =
      error instanceof ProviderError && error.details.cause !== undefined ? error.details.cause : error;
    return uncollectedRepository(
      fullName,
      `${webUrl(ctx.baseUrl)}/${fullName}`,
      { permission: METADATA_READ, reason: failureReason(cause) },
      reason,
    );
  }
}

async function readRepository(ctx: GitHubContext, fullName: string, policy: Policy): Promise<Repository> {
  const { owner, repo } = splitFullName(fullName);
  // What a batch read ahead answers here; each fact it could not give exactly is read through REST.
  const batch = takePrefetchedRepository(ctx, fullName, policy);
  const settings = (batch && batchSettings(ctx, fullName, batch)) ?? (await readSettings(ctx, fullName));
  const productionBranches = await selectProductionBranches(
    ctx,
    fullName,
    settings.default_branch,
    policy,
    batch ? batchBranches(batch) : null,
  );

  const rules = await Promise.all(
    productionBranches.map(
      async (branch) =>
        (batch && (await batchDefaultBranchRule(ctx, fullName, batch, branch))) ||
        readBranchRule(ctx, fullName, branch),
    ),
  );
  const unreadableRule = rules.find((r) => !r.known);
  const branchRules: Known<BranchRule[]> =
    unreadableRule && !unreadableRule.known
      ? unreadableRule
      : known(rules.flatMap((r) => (r.known ? [r.value] : [])));

  const [collaborators, teams, deployKeys] = await Promise.all([
    (batch && batchCollaborators(ctx, fullName, batch)) ?? readCollaborators(ctx, fullName),
    batchTeams(ctx, fullName).then(
      (fromWalk) =>
        fromWalk ??
        readKnown(ctx, fullName, "teams", METADATA_READ, () =>
          list(ctx, "GET /repos/{owner}/{repo}/teams", { owner, repo }, TeamAnswer),
        ).then((r) => teamAccess(ctx, fullName, r)),
    ),
    (batch && batchDeployKeys(ctx, fullName, batch)) ??
      readKnown(ctx, fullName, "deploy keys", ADMINISTRATION_READ, () =>
        list(ctx, "GET /repos/{owner}/{repo}/keys", { owner, repo }, DeployKeyAnswer),
      ).then((r) =>
        mapKnown(r, (keys): DeployKey[] =>
          keys.map((k) => ({
            id: String(k.id),
            title: k.title,
            readOnly: k.read_only,
            createdAt: k.created_at ?? null,
            addedBy: k.added_by ?? null,
          })),
        ),
      ),
  ]);

  return {
    fullName: settings.full_name,
    url: settings.html_url,
    visibility: settings.visibility ?? (settings.private ? "private" : "public"),
    archived: settings.archived,
    defaultBranch: settings.default_branch,
    productionBranches,
    branchRules,
    collaborators,
    teams,
    deployKeys,
    collectionError: null,
  };
}

/**
 * The settings the organization's listing gave, used once (a later collection asks afresh), or
 * GET /repos/{owner}/{repo} for a repository the listing did not cover.
 */
async function readSettings(ctx: GitHubContext, fullName: string): Promise<ListedRepository> {
  const key = fullName.toLowerCase();
  const listed = ctx.listedRepositories.get(key);
  if (listed) {
    ctx.listedRepositories.delete(key);
    return listed;
  }
  const { owner, repo } = splitFullName(fullName);
  const answer = await ctx.octokit
    .request("GET /repos/{owner}/{repo}", { owner, repo })
    .catch((error: unknown) => Promise.reject(providerError(error, `repository ${fullName}`, METADATA_READ)));
  return parseAnswer(RepositoryAnswer, answer.data, `GET /repos/${fullName}`);
}

async function selectProductionBranches(
  ctx: GitHubContext,
  fullName: string,
  defaultBranch: string,
  policy: Policy,
  listed: readonly string[] | null,
): Promise<string[]> {
  const selected = policy.productionBranches.defaultBranch ? [defaultBranch] : [];
  const patterns = policy.productionBranches.patterns;
  // Listing branches costs a request per 100; only worth it when a pattern could select one.
  if (patterns.length === 0) return selected;
  const { owner, repo } = splitFullName(fullName);
  const branches = listed
    ? listed.map((name) => ({ name }))
    : await list(ctx, "GET /repos/{owner}/{repo}/branches", { owner, repo }, BranchAnswer).catch(
        (error: unknown) => Promise.reject(providerError(error, `branches of ${fullName}`, METADATA_READ)),
      );
  for (const { name } of branches) {
    if (!selected.includes(name) && patterns.some((p) => globMatch(p, name))) selected.push(name);
  }
  return selected;
}

/** The effective rule of one branch, read once per host instance. */
export function readBranchRule(
  ctx: GitHubContext,
  fullName: string,
  branch: string,
): Promise<Known<BranchRule>> {
  const key = `${fullName}\u0000${branch}`;
  let cached = ctx.branchRules.get(key);
  if (!cached) {
    cached = readBranchRuleUncached(ctx, fullName, branch);
    ctx.branchRules.set(key, cached);
  }
  return cached;
}

async function readBranchRuleUncached(
  ctx: GitHubContext,
  fullName: string,
  branch: string,
): Promise<Known<BranchRule>> {
  const { owner, repo } = splitFullName(fullName);
  const what = `rules of branch ${branch}`;
  let rules;
  try {
    rules = await list(
      ctx,
      "GET /repos/{owner}/{repo}/rules/branches/{branch}",
      { owner, repo, branch },
      RuleAnswer,
    );
  } catch (error) {
    if (isForbidden(error)) return recordUnreadable(ctx, fullName, what, METADATA_READ, error);
    throw providerError(error, `${what} of ${fullName}`);
  }
  const rulesets = new Map<number, RulesetAnswer>();
  for (const id of new Set(rules.map((r) => r.ruleset_id))) {
    try {
      const answer = await ctx.octokit.request("GET /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
        owner,
        repo,
        ruleset_id: id,
        includes_parents: true,
      });
      const ruleset = parseAnswer(RulesetAnswer, answer.data, `ruleset ${id} of ${fullName}`);
      // GitHub hides bypass actors from who may not edit the ruleset: its rules still count (they came
      // with the branch's rules), only who may bypass them is unknown, and "none" would be a guess.
      if (ruleset.bypass_actors === undefined) {
        recordUnreadable(ctx, fullName, `bypass actors of ruleset ${id}`, RULESET_WRITE, {
          message: "bypass_actors not returned",
        });
        continue;
      }
      rulesets.set(id, ruleset);
    } catch (error) {
      if (!isForbidden(error)) throw providerError(error, `ruleset ${id} of ${fullName}`);
      recordUnreadable(ctx, fullName, `bypass actors of ruleset ${id}`, RULESET_WRITE, error);
    }
  }
  let sources;
  try {
    sources = rulesetSources(rules, rulesets);
  } catch (error) {
    // A rule GitHub sent in a shape we cannot read (parameters missing) is unknown, naming the
    // rule: no permission is missing, and guessing its parameters could pass a weaker rule.
    if (!(error instanceof ProviderError)) throw error;
    return recordUnreadable(ctx, fullName, what, MALFORMED_ANSWER, error);
  }
  try {
    const answer = await ctx.octokit.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner,
      repo,
      branch,
    });
    sources.unshift(protectionSource(parseAnswer(ProtectionAnswer, answer.data, `protection of ${branch}`)));
  } catch (error) {
    const failure = describeFailure(error);
    const notProtected = failure.status === 404 && /branch not protected/i.test(failure.message);
    if (failure.status === 404 && /branch not found/i.test(failure.message)) {
      // A branch deleted since (a release branch after its merges): no permission is missing, GitHub
      // keeps no record of the rules it had.
      return recordUnreadable(ctx, fullName, `protection of branch ${branch}`, BRANCH_GONE, error);
    }
    if (!notProtected) {
      if (isForbidden(error))
        return recordUnreadable(ctx, fullName, `protection of branch ${branch}`, ADMINISTRATION_READ, error);
      throw providerError(error, `protection of branch ${branch} of ${fullName}`);
    }
  }
  return known(mergeRuleSources(branch, sources));
}

/** What would show the rules of a branch that no longer exists. */
export const BRANCH_GONE =
  "a record of the branch's rules from before it was deleted (GitHub keeps none; the ledger's observations do)";

async function readCollaborators(ctx: GitHubContext, fullName: string): Promise<Known<Collaborator[]>> {
  const { owner, repo } = splitFullName(fullName);
  return readKnown(ctx, fullName, "collaborators", METADATA_READ, async () => {
    const all = await list(
      ctx,
      "GET /repos/{owner}/{repo}/collaborators",
      { owner, repo, affiliation: "all" },
      CollaboratorAnswer,
    );
    // A collaborator of an organization's repository is outside it exactly when the organization
    // lists them as an outside collaborator; without that list, the repository is asked.
    const outsideLogins =
      ctx.outsideCollaborators.get(owner.toLowerCase()) ??
      new Set(
        (
          await list(
            ctx,
            "GET /repos/{owner}/{repo}/collaborators",
            { owner, repo, affiliation: "outside" },
            CollaboratorAnswer,
          )
        ).map((c) => c.login),
      );
    return all.map((c) => ({
      login: c.login,
      permission: collaboratorPermission(c),
      outside: outsideLogins.has(c.login),
    }));
  }).catch((error: unknown) => {
    if (!(error instanceof UnknownRole)) throw error;
    return recordUnreadable(ctx, fullName, "collaborators", MALFORMED_ANSWER, error);
  });
}

/** A custom role GitHub sent without the permission flags that say its base access. */
class UnknownRole extends ProviderError {
  constructor(message: string) {
    super(message, { host: "github" });
  }
}

/**
 * Each team's access. A custom repository role names itself in `permission`; its base access is in
 * the flags. Without them the access is unknown, never "none" (an admin team would go uncounted).
 */
function teamAccess(
  ctx: GitHubContext,
  fullName: string,
  answer: Known<z.infer<typeof TeamAnswer>[]>,
): Known<TeamAccess[]> {
  try {
    return mapKnown(answer, (teams) =>
      teams.map((t) => ({ slug: t.slug, permission: ROLE_PERMISSIONS[t.permission] ?? flagsPermission(t) })),
    );
  } catch (error) {
    if (!(error instanceof UnknownRole)) throw error;
    return recordUnreadable(ctx, fullName, "teams", MALFORMED_ANSWER, error);
  }
}

const ROLE_PERMISSIONS: Record<string, Permission> = {
  admin: "admin",
  maintain: "maintain",
  write: "write",
  push: "write",
  triage: "triage",
  read: "read",
  pull: "read",
};

function collaboratorPermission(c: CollaboratorAnswerType): Permission {
  const byRole = c.role_name ? ROLE_PERMISSIONS[c.role_name] : undefined;
  if (byRole) return byRole;
  // A custom role: its base permission shows in the permission flags.
  return flagsPermission({ name: `collaborator ${c.login}`, role: c.role_name, permissions: c.permissions });
}

function flagsPermission(holder: {
  slug?: string;
  name?: string;
  role?: string | undefined;
  permission?: string;
  permissions?: CollaboratorAnswerType["permissions"];
}): Permission {
  const p = holder.permissions;
  if (p === undefined) {
    const who = holder.name ?? `team ${holder.slug ?? "?"}`;
    throw new UnknownRole(
      `GitHub gave ${who} the role ${holder.role ?? holder.permission ?? "(none)"} without the permission flags that say its access`,
    );
  }
  if (p.admin) return "admin";
  if (p.maintain) return "maintain";
  if (p.push) return "write";
  if (p.triage) return "triage";
  if (p.pull) return "read";
  return "none";
}

export function mapKnown<T, U>(value: Known<T>, map: (value: T) => U): Known<U> {
  return value.known ? known(map(value.value)) : value;
}

/** Every page of a REST list (per_page=100, Link header), each item validated. */
export async function list<S extends z.ZodType>(
  ctx: GitHubContext,
  route: string,
  params: Record<string, string | number | boolean>,
  item: S,
): Promise<z.infer<S>[]> {
  const items: unknown[] = await ctx.octokit.paginate(route, { ...params, per_page: 100 });
  return parseAnswer(z.array(item), items, route);
}
