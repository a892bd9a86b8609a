/**
 * The facts of a page of repositories in one GraphQL query (repository-queries.ts), read ahead of
 * collectRepository and readFile: settings, the default branch's classic protection, whether any
 * ruleset rule applies to it, collaborators with their permission, whether there are deploy keys,
 * the policy file and, when a policy pattern needs them, the branch names. Teams come from one walk
 * of the organization's teams. Each fact the batch cannot give exactly as the REST reads do (a
 * ruleset, deploy keys, a symlink at the policy path, an error GitHub gives for no missing
 * permission) is left to the REST path: the answer is the same, only the requests differ.
 */
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { ProviderError } from "../../errors.js";
import {
  known,
  type BranchRule,
  type Collaborator,
  type DeployKey,
  type Known,
  type Permission,
  type TeamAccess,
} from "../../model/index.js";
import { isProductionBranch } from "../../policy/branches.js";
import type { Policy } from "../../policy/types.js";
import { mergeRuleSources, protectionSource, rulesetSources } from "./branch-rules.js";
import {
  countGraphqlCost,
  describeFailure,
  providerError,
  recordUnreadable,
  splitFullName,
  type GitHubContext,
  type ListedRepository,
} from "./http.js";
import {
  moreQuery,
  moreTeamRepositoriesQuery,
  ORGANIZATION_TEAMS_QUERY,
  REPOSITORIES_PER_QUERY,
  repositoryFactsQuery,
} from "./repository-queries.js";
import { ProtectionAnswer, RulesetAnswer, type RuleAnswer } from "./rest-schema.js";
import {
  DeployKeyCountNode,
  MoreRepositoryFactsNode,
  OrganizationTeamsAnswer,
  parseAnswer,
  RepositoryFactsNode,
  TeamRepositoriesNode,
  type CollaboratorConnection,
  type ProtectionRuleNode,
  type RefConnection,
  type TeamRepositoryConnection,
  treeEntryText,
} from "./schema.js";
import { rememberBranchHead } from "./direct-pushes.js";

/** What the batch read of one repository, until collectRepository and readFile have used it. */
export interface PrefetchedRepository {
  /** Which prefetch call read it (entries two calls old are dropped). */
  generation: number;
  /** The production branches of the policy it was read for: another policy is read afresh. */
  productionBranches: Policy["productionBranches"];
  node: RepositoryFactsNode;
  /** GraphQL errors inside this repository's answer, paths relative to it. */
  errors: FieldError[];
  /**
   * How many deploy keys it has; a refusal names the permission; null when only REST can say
   * (any other error).
   */
  deployKeys: number | { refused: { status: number; message: string } } | null;
  /** Every collaborator, completed page by page; null when they could not all be read. */
  collaborators: CollaboratorConnection["edges"] | null;
  /** Every branch name, when the policy needs them; null when not asked or not all read. */
  branches: string[] | null;
  filePath: string;
  repositoryUsed: boolean;
  fileUsed: boolean;
}

/** A repository's first page of merged pull requests as the batch read it, unparsed. */
export interface PrefetchedMergedPage {
  generation: number;
  /** When the batch was sent (ms): a listing that goes on past this page began then. */
  readAt: number;
  /** The answer's `pullRequests` connection, parsed by the listing as it parses its own pages. */
  pullRequests: unknown;
}

interface FieldError {
  path: readonly (string | number)[];
  type: string | undefined;
  message: string;
}

type Period = { since: Date; until: Date };

/** Organization teams by repository (lower-cased full name), or null when they cannot be walked. */
type TeamMap = Map<string, TeamAccess[]>;

export async function prefetchRepositories(
  ctx: GitHubContext,
  fullNames: readonly string[],
  policy: Policy,
  // The audit period: the direct-push history is not read ahead yet, it stays per branch.
  _period: Period,
  filePath: string,
): Promise<void> {
  // What the call before the previous one read and nobody used is dropped: memory stays bounded
  // by two chunks, and a chunk still being collected keeps its facts while the next one is read.
  ctx.prefetched ??= new Map();
  const generation = (ctx.prefetchGeneration = (ctx.prefetchGeneration ?? 0) + 1);
  for (const [key, entry] of ctx.prefetched)
    if (entry.generation < generation - 1) ctx.prefetched.delete(key);
  ctx.prefetchedMergedPages ??= new Map();
  for (const [key, page] of ctx.prefetchedMergedPages)
    if (page.generation < generation - 1) ctx.prefetchedMergedPages.delete(key);
  ctx.organizationTeams ??= new Map();
  const owners = new Set(fullNames.map((n) => splitFullName(n).owner.toLowerCase()));
  for (const owner of owners) {
    if (ctx.organizationTeams.has(owner)) continue;
    const walk = walkTeams(ctx, owner);
    // Awaited by each repository's collection; a failure there is that repository's, not unhandled.
    walk.catch(() => undefined);
    ctx.organizationTeams.set(owner, walk);
  }
  const branches = policy.productionBranches.patterns.length > 0;
  for (let start = 0; start < fullNames.length; start += REPOSITORIES_PER_QUERY) {
    const page = fullNames.slice(start, start + REPOSITORIES_PER_QUERY);
    try {
      await prefetchPage(ctx, page, policy, filePath, branches, generation);
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      // Nothing is lost: each repository is then read through REST, which reports its own failure.
      ctx.log.warn(`repository facts could not be read in a batch (${error.message}): read one by one`);
      for (const name of page) {
        ctx.prefetched?.delete(name.toLowerCase());
        ctx.prefetchedMergedPages?.delete(name.toLowerCase());
      }
    }
  }
}

async function prefetchPage(
  ctx: GitHubContext,
  names: readonly string[],
  policy: Policy,
  filePath: string,
  branches: boolean,
  generation: number,
): Promise<void> {
  const variables: Record<string, unknown> = { path: filePath, branches };
  names.forEach((name, i) => {
    const { owner, repo } = splitFullName(name);
    variables[`o${i}`] = owner;
    variables[`n${i}`] = repo;
  });
  const readAt = Date.now();
  const { data, errors } = await batchGraphql(
    ctx,
    repositoryFactsQuery(names.length, firstPagesPay(ctx) ? names.length : 1),
    variables,
    `facts of ${names.length} repositories`,
  );
  names.forEach((name, i) => {
    // Kept only when GitHub answered it whole; otherwise the listing reads (and fails on) its own.
    const merged = data[`m${i}`] as { pullRequests?: unknown } | null | undefined;
    if (merged?.pullRequests && !errors.some((e) => e.path[0] === `m${i}`))
      ctx.prefetchedMergedPages?.set(name.toLowerCase(), {
        generation,
        readAt,
        pullRequests: merged.pullRequests,
      });
  });
  names.forEach((name, i) => {
    const alias = `r${i}`;
    const own = errors.filter((e) => e.path[0] === alias).map((e) => ({ ...e, path: e.path.slice(1) }));
    const raw = data[alias];
    // Not found, or an error that took the whole repository: REST reads it and says why.
    if (raw === null || raw === undefined) return;
    const parsed = RepositoryFactsNode.safeParse(raw);
    if (!parsed.success || !parsed.data.defaultBranchRef) return;
    if (!own.every(understood)) return;
    // The push record is checked against the head read now (src/providers/github/direct-pushes.ts).
    const head = parsed.data.defaultBranchRef;
    if (head.target?.oid) rememberBranchHead(ctx, name, head.name, head.target.oid);
    for (const ref of parsed.data.refs?.nodes ?? [])
      if (ref.target?.oid && ref.name !== head.name && isProductionBranch(policy, head.name, ref.name))
        rememberBranchHead(ctx, name, ref.name, ref.target.oid);
    ctx.prefetched?.set(name.toLowerCase(), {
      generation,
      productionBranches: policy.productionBranches,
      node: parsed.data,
      errors: own,
      deployKeys: deployKeyCount(
        data[`k${i}`],
        errors.filter((e) => e.path[0] === `k${i}`),
      ),
      collaborators: parsed.data.collaborators ? [...parsed.data.collaborators.edges] : null,
      branches: branches && parsed.data.refs ? parsed.data.refs.nodes.map((r) => r.name) : null,
      filePath,
      repositoryUsed: false,
      fileUsed: false,
    });
  });
  await completeConnections(ctx, names);
}

function deployKeyCount(raw: unknown, errors: FieldError[]): PrefetchedRepository["deployKeys"] {
  const refusal = errors.find((e) => e.type === "FORBIDDEN" && e.path[1] === "deployKeys");
  if (refusal && errors.length === 1) return { refused: { status: 403, message: refusal.message } };
  const parsed = DeployKeyCountNode.safeParse(raw);
  return errors.length === 0 && parsed.success ? parsed.data.deployKeys.totalCount : null;
}

/**
 * The errors the batch maps to a fact: a permission GitHub refused on the protection, the rules or
 * the collaborators. Any other error leaves the whole repository to REST.
 */
function understood(error: FieldError): boolean {
  if (error.type !== "FORBIDDEN") return false;
  const [first, second] = error.path;
  return (
    first === "collaborators" ||
    (first === "defaultBranchRef" && (second === "branchProtectionRule" || second === "rules"))
  );
}

type Need = { name: string; entry: PrefetchedRepository; kind: "collaborators" | "refs"; after: string };

/**
 * Adds a page of collaborators or branch names to what the entry holds, and says where the
 * connection goes on: undefined when complete, a cursor, or null when it cannot be completed (the
 * entry's list is then dropped, and the repository reads that fact through REST).
 */
function addPage(
  entry: PrefetchedRepository,
  kind: Need["kind"],
  page: CollaboratorConnection | RefConnection | null | undefined,
): string | null | undefined {
  if (kind === "collaborators") {
    if (!page || !entry.collaborators) return (entry.collaborators = null);
    entry.collaborators.push(...(page as CollaboratorConnection).edges);
    const next = nextCursor(page, entry.collaborators.length);
    if (next === null) entry.collaborators = null;
    return next;
  }
  if (!page || !entry.branches) return (entry.branches = null);
  entry.branches.push(...(page as RefConnection).nodes.map((r) => r.name));
  const next = nextCursor(page, entry.branches.length);
  if (next === null) entry.branches = null;
  return next;
}

/** Reads the collaborators and branch names of every repository on to their last page. */
async function completeConnections(ctx: GitHubContext, names: readonly string[]): Promise<void> {
  const pending: Need[] = [];
  for (const name of names) {
    const entry = ctx.prefetched?.get(name.toLowerCase());
    if (!entry) continue;
    // The first page is already in the entry's lists: only where it goes on is asked.
    if (entry.collaborators && entry.node.collaborators) {
      const next = nextCursor(entry.node.collaborators, entry.collaborators.length);
      if (next === null) entry.collaborators = null;
      else if (next !== undefined) pending.push({ name, entry, kind: "collaborators", after: next });
    }
    if (entry.branches && entry.node.refs) {
      const next = nextCursor(entry.node.refs, entry.branches.length);
      if (next === null) entry.branches = null;
      else if (next !== undefined) pending.push({ name, entry, kind: "refs", after: next });
    }
  }
  while (pending.length > 0) {
    const round = pending.splice(0, REPOSITORIES_PER_QUERY);
    const variables: Record<string, unknown> = {};
    round.forEach((need, i) => {
      const { owner, repo } = splitFullName(need.name);
      Object.assign(variables, { [`o${i}`]: owner, [`n${i}`]: repo, [`a${i}`]: need.after });
    });
    const { data, errors } = await batchGraphql(
      ctx,
      moreQuery(round.map((n) => n.kind)),
      variables,
      `more facts of ${round.length} repositories`,
    );
    round.forEach((need, i) => {
      const parsed = MoreRepositoryFactsNode.safeParse(data[`r${i}`]);
      const failed = errors.some((e) => e.path[0] === `r${i}`) || !parsed.success;
      const next = addPage(need.entry, need.kind, failed ? null : parsed.data[need.kind]);
      if (typeof next === "string") pending.push({ ...need, after: next });
    });
  }
}

/**
 * Where a connection goes on: undefined when it is complete (no next page and as many items as
 * its totalCount), null when it cannot be completed (more, but no cursor; or fewer than it says).
 */
function nextCursor(
  connection: { totalCount?: number; pageInfo: { hasNextPage: boolean; endCursor: string | null } },
  read: number,
): string | null | undefined {
  if (connection.pageInfo.hasNextPage) return connection.pageInfo.endCursor ?? null;
  if (connection.totalCount !== undefined && read !== connection.totalCount) return null;
  return undefined;
}

/**
 * A query whose answer may carry errors next to its data: GitHub answers a field the token may not
 * read with null and an error naming its path. Errors without a path failed the whole query.
 */
async function batchGraphql(
  ctx: GitHubContext,
  query: string,
  variables: Record<string, unknown>,
  what: string,
): Promise<{ data: Record<string, unknown>; errors: FieldError[] }> {
  let data: unknown;
  let errors: FieldError[] = [];
  try {
    data = await ctx.octokit.graphql<unknown>(query, variables);
  } catch (error) {
    const partial = error as { data?: unknown; errors?: unknown };
    if (!Array.isArray(partial.errors) || typeof partial.data !== "object" || partial.data === null)
      throw providerError(error, what);
    errors = partial.errors.map((e: unknown) => {
      const fault = (e ?? {}) as { path?: unknown; type?: unknown; message?: unknown };
      return {
        path: Array.isArray(fault.path) ? (fault.path as (string | number)[]) : [],
        type: typeof fault.type === "string" ? fault.type : undefined,
        message: typeof fault.message === "string" ? fault.message : "",
      };
    });
    const whole = errors.find((e) => e.path.length === 0);
    if (whole) throw providerError(error, what);
    data = partial.data;
  }
  if (typeof data !== "object" || data === null)
    throw new ProviderError(`GitHub answered ${what} without data`, { host: "github" });
  const answer = data as Record<string, unknown>;
  const rateLimit = answer.rateLimit as { cost?: unknown } | null | undefined;
  if (rateLimit && typeof rateLimit.cost === "number") countGraphqlCost(ctx, { cost: rateLimit.cost });
  return { data: answer, errors };
}

// ---- answering from what was read ----

/**
 * The entry read for this repository under the same production branches, once: a second
 * collection (the repository's own policy layer) reads afresh.
 */
export function takePrefetchedRepository(
  ctx: GitHubContext,
  fullName: string,
  policy: Policy,
): PrefetchedRepository | undefined {
  const key = fullName.toLowerCase();
  const entry = ctx.prefetched?.get(key);
  if (!entry || entry.repositoryUsed) return undefined;
  if (!isDeepStrictEqual(entry.productionBranches, policy.productionBranches)) return undefined;
  entry.repositoryUsed = true;
  if (entry.fileUsed) ctx.prefetched?.delete(key);
  return entry;
}

/** The first page of the repository's merged pull requests as its batch read it, once. */
export function takePrefetchedMergedPage(
  ctx: GitHubContext,
  fullName: string,
): PrefetchedMergedPage | undefined {
  const key = fullName.toLowerCase();
  const page = ctx.prefetchedMergedPages?.get(key);
  ctx.prefetchedMergedPages?.delete(key);
  return page;
}

/** Records whether a first page taken held its listing whole (see firstPagesPay). */
export function countTakenMergedPage(ctx: GitHubContext, whole: boolean): void {
  const count = (ctx.mergedPagesTaken ??= { taken: 0, whole: 0 });
  count.taken += 1;
  if (whole) count.whole += 1;
}

/**
 * Whether the next batch asks every repository's first merged pull requests. They cost about 13
 * points a batch of 50; each listing they hold whole saves a page of 4 points and a request, so
 * they pay from about four in 50: asked while at least one in ten of those taken so far did (and
 * before any was taken). Otherwise only the batch's first repository's are asked, which GitHub's
 * rounding makes free (3 points either way for 50), so the record keeps growing: an organization
 * whose busy repositories come first still gets them once its quieter ones show.
 */
function firstPagesPay(ctx: GitHubContext): boolean {
  const count = ctx.mergedPagesTaken;
  return !count || count.taken === 0 || count.whole * 10 >= count.taken;
}

/**
 * The policy file as the batch read it: its text, null for no file at the path, or undefined when
 * only REST can answer as readFile always has (a directory, a symlink, a submodule, a binary or
 * truncated blob, another branch or path). Used once.
 */
export function takePrefetchedFile(
  ctx: GitHubContext,
  repository: string,
  path: string,
  ref: string | undefined,
): string | null | undefined {
  const key = repository.toLowerCase();
  const entry = ctx.prefetched?.get(key);
  const head = entry?.node.defaultBranchRef;
  if (!entry || !head || entry.fileUsed || path !== entry.filePath || ref !== head.name) return undefined;
  entry.fileUsed = true;
  if (entry.repositoryUsed) ctx.prefetched?.delete(key);
  if (head.target?.__typename !== "Commit") return undefined;
  return treeEntryText(head.target.file);
}

/** The settings as the organization's listing gave them, or as the batch read them. */
export function batchSettings(
  ctx: GitHubContext,
  fullName: string,
  entry: PrefetchedRepository,
): ListedRepository | null {
  // The listing is kept by the name the audit asked for, as readSettings finds it.
  const key = fullName.toLowerCase();
  const listed = ctx.listedRepositories.get(key);
  const defaultBranch = entry.node.defaultBranchRef?.name;
  if (defaultBranch === undefined) return null;
  if (listed) {
    // A default branch renamed between the listing and the batch: REST reads it afresh.
    if (listed.default_branch !== defaultBranch) return null;
    ctx.listedRepositories.delete(key);
    return listed;
  }
  return {
    full_name: entry.node.nameWithOwner,
    html_url: entry.node.url,
    visibility: entry.node.visibility.toLowerCase() as ListedRepository["visibility"],
    private: entry.node.isPrivate,
    archived: entry.node.isArchived,
    default_branch: defaultBranch,
  };
}

/** The error the batch carried at `path`, as the 403 the REST read gives for it. */
function forbiddenAt(
  entry: PrefetchedRepository,
  ...path: string[]
): { status: number; message: string } | null {
  const error = entry.errors.find((e) => path.every((p, i) => e.path[i] === p));
  // GitHub's GraphQL says FORBIDDEN where REST answers 403: the same refusal, recorded alike.
  return error ? { status: 403, message: error.message } : null;
}

/**
 * The effective rule of the default branch from the batch, or null when REST must read it: an
 * allowance list longer than one page, a ruleset rule GitHub's GraphQL cannot place (more rules
 * than one page, a ruleset without id, one not active), or a ruleset whose REST answer does not
 * give every rule's parameters and its bypass actors. The rulesets themselves are read through
 * REST as before (GraphQL shows neither a pull request rule's required reviewers nor user-readable
 * bypass actors alike): the batch saves the rules and protection reads. Recorded as the branch's
 * rule, so pull requests into it share it.
 */
export async function batchDefaultBranchRule(
  ctx: GitHubContext,
  fullName: string,
  entry: PrefetchedRepository,
  branch: string,
): Promise<Known<BranchRule> | null> {
  const head = entry.node.defaultBranchRef;
  if (!head || head.name !== branch) return null;
  const key = `${fullName}\u0000${branch}`;
  const cached = ctx.branchRules.get(key);
  if (cached) return cached;
  const rulesRefused = forbiddenAt(entry, "defaultBranchRef", "rules");
  const protectionRefused = forbiddenAt(entry, "defaultBranchRef", "branchProtectionRule");
  const protection = head.branchProtectionRule;
  if (protection && !allowancesComplete(protection)) return null;
  // GitHub's GraphQL shows no protection rule, without an error, to who may not administer the
  // repository: "none" is only a fact for an admin; anyone else asks REST (a 403 there says so).
  if (!protection && !protectionRefused && !viewerAdministers(entry)) return null;
  let rule: Known<BranchRule>;
  if (rulesRefused) {
    rule = recordUnreadable(ctx, fullName, `rules of branch ${branch}`, METADATA, rulesRefused);
  } else {
    const rules = head.rules;
    if (!rules || rules.totalCount > rules.nodes.length) return null;
    // REST reads the rulesets before the protection: with both, its order of unknowns is kept.
    if (protectionRefused && rules.nodes.length > 0) return null;
    const rulesetSourceList = rules.nodes.length === 0 ? [] : await rulesetsOf(ctx, fullName, rules.nodes);
    if (rulesetSourceList === null) return null;
    if (protectionRefused) {
      rule = recordUnreadable(
        ctx,
        fullName,
        `protection of branch ${branch}`,
        ADMINISTRATION,
        protectionRefused,
      );
    } else {
      const sources = protection
        ? [
            protectionSource(
              parseAnswer(ProtectionAnswer, protectionAnswer(protection), `protection of ${branch}`),
            ),
            ...rulesetSourceList,
          ]
        : rulesetSourceList;
      rule = known(mergeRuleSources(branch, sources));
    }
  }
  const already = ctx.branchRules.get(key);
  if (already) return already;
  ctx.branchRules.set(key, Promise.resolve(rule));
  return rule;
}

/** A ruleset as GET /repos/{owner}/{repo}/rulesets/{ruleset_id} gives it, with its rules. */
export const RulesetWithRules = RulesetAnswer.extend({
  enforcement: z.string(),
  source_type: z.string().optional(),
  rules: z.array(z.object({ type: z.string(), parameters: z.record(z.string(), z.unknown()).optional() })),
});

/**
 * The sources of the rulesets GraphQL says apply to the branch, each read through REST as the REST
 * path reads it (includes_parents: an organization's ruleset too). null when REST must read the
 * branch's rules instead: a ruleset GitHub refused or whose bypass actors it hid (REST then keeps
 * its rules from rules/branches and records who may bypass as unknown), one not active, or one
 * whose rules are not those GraphQL listed.
 */
async function rulesetsOf(
  ctx: GitHubContext,
  fullName: string,
  nodes: NonNullable<NonNullable<RepositoryFactsNode["defaultBranchRef"]>["rules"]>["nodes"],
): Promise<ReturnType<typeof rulesetSources> | null> {
  const typesById = new Map<number, string[]>();
  for (const node of nodes) {
    const ruleset = node.repositoryRuleset;
    if (!ruleset || ruleset.databaseId === null || ruleset.enforcement !== "ACTIVE") return null;
    typesById.set(ruleset.databaseId, [
      ...(typesById.get(ruleset.databaseId) ?? []),
      node.type.toLowerCase(),
    ]);
  }
  const { owner, repo } = splitFullName(fullName);
  const rules: RuleAnswer[] = [];
  const rulesets = new Map<number, RulesetAnswer>();
  for (const [id, types] of typesById) {
    // An organization's ruleset is one object whichever repository shows it: read once per audit.
    const shared = `${owner.toLowerCase()}:${id}`;
    let ruleset = ctx.organizationRulesets?.get(shared);
    if (!ruleset) {
      let answer;
      try {
        answer = await ctx.octokit.request("GET /repos/{owner}/{repo}/rulesets/{ruleset_id}", {
          owner,
          repo,
          ruleset_id: id,
          includes_parents: true,
        });
      } catch {
        return null;
      }
      const parsed = RulesetWithRules.safeParse(answer.data);
      if (!parsed.success || parsed.data.bypass_actors === undefined || parsed.data.enforcement !== "active")
        return null;
      ruleset = parsed.data;
      if (ruleset.source_type === "Organization")
        (ctx.organizationRulesets ??= new Map()).set(shared, ruleset);
    }
    const listed = ruleset.rules.map((r) => r.type).sort();
    if (!isDeepStrictEqual(listed, [...types].sort())) return null;
    rulesets.set(id, ruleset);
    rules.push(...ruleset.rules.map((r) => ({ ...r, ruleset_id: id })));
  }
  try {
    return rulesetSources(rules, rulesets);
  } catch (error) {
    // A rule in a shape that cannot be read: REST reads it again and records it as unknown.
    if (error instanceof ProviderError) return null;
    throw error;
  }
}

function viewerAdministers(entry: PrefetchedRepository): boolean {
  return entry.node.viewerPermission === "ADMIN";
}

// The permission names of repository.ts, repeated here so the two modules do not import each other.
const METADATA = "metadata:read";
const ADMINISTRATION = "administration:read";

/**
 * Every allowance was read, and each bypass allowance names its actor (REST's bypass lists carry
 * no unnamed entry, so an unnamed one is left to REST rather than dropped).
 */
function allowancesComplete(protection: ProtectionRuleNode): boolean {
  const bypass = protection.bypassPullRequestAllowances;
  return (
    bypass.totalCount <= bypass.nodes.length &&
    bypass.nodes.every((n) => (n.actor?.login ?? n.actor?.slug) !== undefined) &&
    protection.pushAllowances.totalCount <= protection.pushAllowances.nodes.length
  );
}

/** The classic rule in the REST shape of GET …/branches/{branch}/protection, which protectionSource reads. */
function protectionAnswer(p: ProtectionRuleNode): unknown {
  const actors = (allowances: ProtectionRuleNode["pushAllowances"]) => {
    const list = allowances.nodes.map((n) => n.actor);
    return {
      users: list.flatMap((a) =>
        a?.__typename === "User" ? [{ login: a.login }] : a === null ? [{ login: undefined }] : [],
      ),
      teams: list.flatMap((a) => (a?.__typename === "Team" ? [{ slug: a.slug }] : [])),
      apps: list.flatMap((a) => (a?.__typename === "App" ? [{ slug: a.slug }] : [])),
    };
  };
  const enabled = (value: boolean) => ({ enabled: value });
  const bypass = actors(p.bypassPullRequestAllowances);
  return {
    ...(p.requiresApprovingReviews && {
      required_pull_request_reviews: {
        required_approving_review_count: p.requiredApprovingReviewCount ?? 0,
        dismiss_stale_reviews: p.dismissesStaleReviews,
        require_code_owner_reviews: p.requiresCodeOwnerReviews,
        require_last_push_approval: p.requireLastPushApproval,
        bypass_pull_request_allowances: bypass,
      },
    }),
    ...(p.requiresStatusChecks && {
      required_status_checks: {
        strict: p.requiresStrictStatusChecks,
        contexts: (p.requiredStatusCheckContexts ?? []).filter((c): c is string => c !== null),
        checks: (p.requiredStatusChecks ?? []).map((c) => ({
          context: c.context,
          app_id: c.app?.databaseId ?? null,
        })),
      },
    }),
    enforce_admins: enabled(p.isAdminEnforced),
    allow_force_pushes: enabled(p.allowsForcePushes),
    allow_deletions: enabled(p.allowsDeletions),
    required_signatures: enabled(p.requiresCommitSignatures),
    required_linear_history: enabled(p.requiresLinearHistory),
    required_conversation_resolution: enabled(p.requiresConversationResolution),
    lock_branch: enabled(p.lockBranch),
    restrictions: p.restrictsPushes ? actors(p.pushAllowances) : null,
  };
}

const PERMISSIONS: Record<string, Permission> = {
  ADMIN: "admin",
  MAINTAIN: "maintain",
  WRITE: "write",
  TRIAGE: "triage",
  READ: "read",
};

/**
 * Collaborators with their base permission (GraphQL names a custom role by the base it extends),
 * or null when REST must read them: not all were read, or the organization's outside
 * collaborators are unknown (REST then asks the repository for them).
 */
export function batchCollaborators(
  ctx: GitHubContext,
  fullName: string,
  entry: PrefetchedRepository,
): Known<Collaborator[]> | null {
  const refused = forbiddenAt(entry, "collaborators");
  if (refused) return recordUnreadable(ctx, fullName, "collaborators", METADATA, refused);
  const edges = entry.collaborators;
  const outside = ctx.outsideCollaborators.get(splitFullName(fullName).owner.toLowerCase());
  // An organization's repository always has its owners as collaborators: none at all is a list
  // GitHub did not show, which REST answers (or refuses) for itself.
  if (!edges || !outside || edges.length === 0) return null;
  const collaborators: Collaborator[] = [];
  for (const edge of edges) {
    const permission = PERMISSIONS[edge.permission];
    // A permission GitHub added after this code: REST's flags say its base access.
    if (!permission) return null;
    collaborators.push({ login: edge.node.login, permission, outside: outside.has(edge.node.login) });
  }
  return known(collaborators);
}

/**
 * No deploy keys at all, or GitHub refused them (as REST's 403 would): no REST read. Any key is read
 * through REST, which gives its id and who added it (GraphQL gives neither); null: REST reads them.
 */
export function batchDeployKeys(
  ctx: GitHubContext,
  fullName: string,
  entry: PrefetchedRepository,
): Known<DeployKey[]> | null {
  const keys = entry.deployKeys;
  // As with protection rules: no key is only a fact for who may administer the repository.
  if (keys === 0 && viewerAdministers(entry)) return known([]);
  if (keys !== null && typeof keys === "object")
    return recordUnreadable(ctx, fullName, "deploy keys", ADMINISTRATION, keys.refused);
  return null;
}

/** Every branch name the batch read, or null when REST must list them. */
export function batchBranches(entry: PrefetchedRepository): string[] | null {
  return entry.branches;
}

/** The teams with access to the repository, from the organization's walk; null: REST asks. */
export async function batchTeams(ctx: GitHubContext, fullName: string): Promise<Known<TeamAccess[]> | null> {
  const walk = ctx.organizationTeams?.get(splitFullName(fullName).owner.toLowerCase());
  const teams = walk ? await walk : null;
  if (!teams) return null;
  return known(teams.get(fullName.toLowerCase()) ?? []);
}

/**
 * Each repository's teams from one walk of the organization's teams, every page of teams and of
 * each team's repositories. null when any part cannot be read: the repositories then ask REST.
 */
async function walkTeams(ctx: GitHubContext, login: string): Promise<TeamMap | null> {
  try {
    const byRepository: TeamMap = new Map();
    const add = (slug: string, connection: TeamRepositoryConnection) => {
      for (const edge of connection.edges) {
        const permission = PERMISSIONS[edge.permission];
        if (!permission)
          throw new ProviderError(`team ${slug}: unknown permission ${edge.permission}`, {
            host: "github",
          });
        const key = edge.node.nameWithOwner.toLowerCase();
        byRepository.set(key, [...(byRepository.get(key) ?? []), { slug, permission }]);
      }
    };
    let more: Array<{ slug: string; after: string }> = [];
    let after: string | null = null;
    for (;;) {
      const what = `teams of ${login}`;
      const { data, errors } = await batchGraphql(ctx, ORGANIZATION_TEAMS_QUERY, { login, after }, what);
      if (errors.length > 0) return null;
      const answer = parseAnswer(OrganizationTeamsAnswer, data, what);
      const teams = answer.organization?.teams;
      if (!teams) return null;
      for (const team of teams.nodes) {
        add(team.slug, team.repositories);
        const next = nextCursor(team.repositories, 0);
        if (next === null) return null;
        if (next !== undefined) more.push({ slug: team.slug, after: next });
      }
      if (!teams.pageInfo.hasNextPage) break;
      if (!teams.pageInfo.endCursor) return null;
      after = teams.pageInfo.endCursor;
    }
    while (more.length > 0) {
      const round = more.splice(0, REPOSITORIES_PER_QUERY);
      const variables: Record<string, unknown> = { login };
      round.forEach((t, i) => Object.assign(variables, { [`s${i}`]: t.slug, [`a${i}`]: t.after }));
      const what = `repositories of ${round.length} teams of ${login}`;
      const { data, errors } = await batchGraphql(
        ctx,
        moreTeamRepositoriesQuery(round.length),
        variables,
        what,
      );
      const organization = data.organization as Record<string, unknown> | null | undefined;
      if (errors.length > 0 || !organization) return null;
      const next: typeof more = [];
      round.forEach((t, i) => {
        const node = parseAnswer(TeamRepositoriesNode, organization[`t${i}`], what);
        if (!node) throw new ProviderError(`team ${t.slug} vanished during the walk`, { host: "github" });
        add(t.slug, node.repositories);
        const cursor = nextCursor(node.repositories, 0);
        if (cursor === null)
          throw new ProviderError(`team ${t.slug}: more repositories but no cursor`, { host: "github" });
        if (cursor !== undefined) next.push({ slug: t.slug, after: cursor });
      });
      more = [...more, ...next];
    }
    // One order whatever the walk's: by team slug.
    for (const teams of byRepository.values())
      teams.sort((a, b) => (a.slug < b.slug ? -1 : a.slug > b.slug ? 1 : 0));
    return byRepository;
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    ctx.log.debug(
      `teams of ${login} could not be walked (${describeFailure(error).message}): each repository asks`,
    );
    return null;
  }
}
