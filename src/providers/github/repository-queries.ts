/**
 * GraphQL documents of the repository batch (repository-batch.ts): one query reads the facts of a
 * page of repositories through aliases, instead of seven REST reads per repository. Every nested
 * connection is sized so GitHub's point cost (each connection times the `first` of those above it)
 * stays a few points per page: the costly per-rule and per-commit connections are not asked here.
 */
import { MERGED_PULL_REQUEST_FIELDS } from "./queries.js";

/** Repositories per batch query: GitHub's cost grows with it, the number of requests shrinks. */
export const REPOSITORIES_PER_QUERY = 50;

/**
 * Merged pull requests each repository of a batch brings along, most recently updated first, with
 * the lean fields of the audit's own pages: 1 + 4 connections a pull request, so 50 repositories
 * cost 50 x (1 + 4 x 6) / 100 points more a batch (3 to 16 in all). Six answers a repository with up to
 * five changes in the period and older history (the sixth predates the period, so the listing ends
 * there) without its own 4-point page of 100; a repository with more reads its listing as before.
 */
export const MERGED_FIRST_PAGE = 6;

const ACTOR = `__typename ... on User { login } ... on Team { slug } ... on App { slug }`;

/**
 * The classic branch protection rule of a branch, with what GET …/branches/{branch}/protection
 * gives: each allowance list is read to 100 and checked against its totalCount.
 */
const PROTECTION = `
  requiresApprovingReviews requiredApprovingReviewCount dismissesStaleReviews requiresCodeOwnerReviews
  requireLastPushApproval requiresStatusChecks requiresStrictStatusChecks requiredStatusCheckContexts
  requiredStatusChecks { context app { databaseId } }
  isAdminEnforced allowsForcePushes allowsDeletions requiresCommitSignatures requiresLinearHistory
  requiresConversationResolution lockBranch restrictsPushes
  bypassPullRequestAllowances(first: 100) { totalCount nodes { actor { ${ACTOR} } } }
  pushAllowances(first: 100) { totalCount nodes { actor { ${ACTOR} } } }`;

const COLLABORATORS = `totalCount pageInfo { hasNextPage endCursor } edges { permission node { login } }`;
const REFS = `totalCount pageInfo { hasNextPage endCursor } nodes { name target { oid } }`;

/**
 * The facts of `count` repositories, aliased r0…r{count-1} with variables $o{i}/$n{i}. The policy
 * file is read as a tree entry of the default branch's commit, so its mode tells a symlink or a
 * submodule from a file. `rules` names each ruleset rule's type and ruleset, no parameters: each
 * ruleset is then read through REST as before (GraphQL shows neither every rule parameter nor
 * bypass actors as REST names them). Branch names only with `$branches` (a policy pattern may
 * select them). And the first MERGED_FIRST_PAGE merged pull requests of the first `mergedPages`
 * repositories, as the audit's listing asks its pages (listMergedChangeRequests starts from them).
 */
export function repositoryFactsQuery(count: number, mergedPages = count): string {
  const variables = Array.from({ length: count }, (_, i) => `$o${i}: String!, $n${i}: String!`).join(", ");
  // Deploy keys under an alias of their own: a non-null field, so GitHub's refusal (they need
  // administration:read) would null the whole repository with it. The first merged pull requests
  // too (m…): an error among them leaves the facts whole, and the listing reads its own page.
  const aliases = Array.from(
    { length: count },
    (_, i) =>
      `r${i}: repository(owner: $o${i}, name: $n${i}) { ...RepositoryFacts }\n  k${i}: repository(owner: $o${i}, name: $n${i}) { deployKeys(first: 1) { totalCount } }` +
      (i < mergedPages
        ? `\n  m${i}: repository(owner: $o${i}, name: $n${i}) { ...FirstMergedPullRequests }`
        : ""),
  ).join("\n  ");
  // GitHub refuses a document with a fragment no operation spreads.
  const merged =
    mergedPages > 0
      ? `fragment FirstMergedPullRequests on Repository {
  pullRequests(states: MERGED, orderBy: { field: UPDATED_AT, direction: DESC }, first: ${MERGED_FIRST_PAGE}) {
    nodes { ...MergedPullRequestFields }
    pageInfo { hasNextPage endCursor }
  }
}
${MERGED_PULL_REQUEST_FIELDS}
`
      : "";
  return `query RepositoryFacts($path: String!, $branches: Boolean!, ${variables}) {
  rateLimit { cost }
  ${aliases}
}
${merged}fragment RepositoryFacts on Repository {
  nameWithOwner url visibility isArchived isPrivate viewerPermission
  defaultBranchRef {
    name
    target { __typename ... on Commit { oid file(path: $path) { mode type object { __typename ... on Blob { text isBinary isTruncated byteSize } } } } }
    branchProtectionRule { ${PROTECTION} }
    rules(first: 100) { totalCount nodes { type repositoryRuleset { databaseId enforcement } } }
  }
  collaborators(first: 100, affiliation: ALL) { ${COLLABORATORS} }
  refs(refPrefix: "refs/heads/", first: 100, orderBy: { field: ALPHABETICAL, direction: ASC }) @include(if: $branches) { ${REFS} }
}`;
}

/** The next page of collaborators or branch names of several repositories, aliased r0… */
export function moreQuery(needs: ReadonlyArray<"collaborators" | "refs">): string {
  const variables = needs.map((_, i) => `$o${i}: String!, $n${i}: String!, $a${i}: String!`).join(", ");
  const aliases = needs
    .map((need, i) =>
      need === "collaborators"
        ? `r${i}: repository(owner: $o${i}, name: $n${i}) { collaborators(first: 100, affiliation: ALL, after: $a${i}) { ${COLLABORATORS} } }`
        : `r${i}: repository(owner: $o${i}, name: $n${i}) { refs(refPrefix: "refs/heads/", first: 100, after: $a${i}, orderBy: { field: ALPHABETICAL, direction: ASC }) { ${REFS} } }`,
    )
    .join("\n  ");
  return `query MoreRepositoryFacts(${variables}) {
  rateLimit { cost }
  ${aliases}
}`;
}

/** The organization's teams with the repositories each may access and how, 100 per page. */
export const ORGANIZATION_TEAMS_QUERY = `query OrganizationTeams($login: String!, $after: String) {
  rateLimit { cost }
  organization(login: $login) {
    teams(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        slug
        repositories(first: 100) { pageInfo { hasNextPage endCursor } edges { permission node { nameWithOwner } } }
      }
    }
  }
}`;

/** The next page of the repositories of several teams, aliased t0… */
export function moreTeamRepositoriesQuery(count: number): string {
  const variables = Array.from({ length: count }, (_, i) => `$s${i}: String!, $a${i}: String!`).join(", ");
  const aliases = Array.from(
    { length: count },
    (_, i) =>
      `t${i}: team(slug: $s${i}) { repositories(first: 100, after: $a${i}) { pageInfo { hasNextPage endCursor } edges { permission node { nameWithOwner } } } }`,
  ).join("\n    ");
  return `query MoreTeamRepositories($login: String!, ${variables}) {
  rateLimit { cost }
  organization(login: $login) {
    ${aliases}
  }
}`;
}
