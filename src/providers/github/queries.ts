/**
 * The GraphQL queries this provider sends (src/sim/github answers exactly these). commit pushedDate is
 * deprecated, so a commit's committedDate stands for when it was pushed.
 *
 * Every connection is asked with `first` and read on with `after` until its end: `last: N` would
 * return the newest N and silently drop the oldest. The first query asks one modest page of each
 * connection; only a pull request whose connection has more is asked again, for that connection.
 */

const PAGE_INFO = "pageInfo { hasNextPage endCursor }";

const AUTHORS_CONNECTION = `totalCount
${PAGE_INFO}
nodes { name email user { login } }`;

const CONTEXTS = `totalCount
${PAGE_INFO}
nodes {
  __typename
  ... on CheckRun {
    name conclusion status detailsUrl completedAt
    checkSuite { app { databaseId slug } }
  }
  ... on StatusContext { context state targetUrl createdAt creator { login } }
}`;

const ROLLUP = `statusCheckRollup { contexts(first: 100) { ${CONTEXTS} } }`;

/** A commit of the pull request; its message carries the Co-authored-by trailers. */
const COMMIT = `oid
message
author { name email date user { login } }
committer { name email date user { login } }`;

const COMMITS = `totalCount
${PAGE_INFO}
nodes { commit { ${COMMIT} } }`;

const REVIEWS = `totalCount
${PAGE_INFO}
nodes { author { __typename login } authorCanPushToRepository state submittedAt commit { oid } }`;

/** The pushes and merge queue events of a timeline, as inline fragments of its nodes. */
const PUSH_ITEMS = `  ... on HeadRefForcePushedEvent { actor { login } createdAt afterCommit { oid } }
  ... on PullRequestCommit {
    commit { oid committedDate author { user { login } } committer { user { login } } }
  }
  ... on AddedToMergeQueueEvent { createdAt }
  ... on RemovedFromMergeQueueEvent { createdAt }`;

const TIMELINE = `${PAGE_INFO}
nodes {
  __typename
${PUSH_ITEMS}
}`;

/** Pushes (commits and force pushes) and the merge queue's events (was it merged by the queue?). */
const TIMELINE_TYPES =
  "itemTypes: [HEAD_REF_FORCE_PUSHED_EVENT, PULL_REQUEST_COMMIT, ADDED_TO_MERGE_QUEUE_EVENT, REMOVED_FROM_MERGE_QUEUE_EVENT]";

/** What both pull request fragments ask first: the pull request's own fields and its merge commit's checks. */
const PULL_REQUEST_SCALARS = `  number
  title
  url
  author { __typename login }
  state
  isDraft
  baseRefName
  headRefName
  headRefOid
  createdAt
  updatedAt
  mergedAt
  mergedBy { login }
  mergeCommit { oid ${ROLLUP} }`;

export const PULL_REQUEST_FIELDS = `fragment ChangeRequestFields on PullRequest {
${PULL_REQUEST_SCALARS}
  commits(first: 100) { ${COMMITS} }
  headCommit: commits(last: 1) { nodes { commit { oid ${ROLLUP} } } }
  reviews(first: 100) { ${REVIEWS} }
  timelineItems(${TIMELINE_TYPES}, first: 100) { ${TIMELINE} }
}`;

export const PULL_REQUEST_QUERY = `query PullRequest($owner: String!, $name: String!, $number: Int!) {
  rateLimit { cost }
  repository(owner: $owner, name: $name) {
    nameWithOwner
    url
    visibility
    isArchived
    defaultBranchRef { name }
    pullRequest(number: $number) { ...ChangeRequestFields }
  }
}
${PULL_REQUEST_FIELDS}`;

/**
 * One pull request for its change check, in one query: PULL_REQUEST_QUERY's facts, the id and app
 * of each check run on its head (the run to update is found there), the authors of its first 100
 * commits (a commit's co-authors; for one pull request they cost no more than the commits)
 * and the policy file ($policyPath) at the head of its base branch and of the organization's policy
 * repository ($policyRepository, the owner's), each entry with its type and mode so that only a
 * plain text file is taken from here (anything else is read as before). GitHub answers a policy
 * repository that does not exist (or that the app cannot see) with null and a NOT_FOUND error.
 */
export const CHANGE_CHECK_QUERY = `query ChangeCheck($owner: String!, $name: String!, $number: Int!, $policyPath: String!, $policyRepository: String!) {
  rateLimit { cost }
  policyRepository: repository(owner: $owner, name: $policyRepository) {
    defaultBranchRef {
      target {
        ... on Commit {
          policyFile: file(path: $policyPath) { type mode object { ... on Blob { text isBinary isTruncated } } }
        }
      }
    }
  }
  repository(owner: $owner, name: $name) {
    nameWithOwner
    url
    visibility
    isArchived
    defaultBranchRef { name }
    pullRequest(number: $number) {
      ...ChangeRequestFields
      commitAuthors: commits(first: 100) {
        totalCount
        ${PAGE_INFO}
        nodes { commit { oid authors(first: 100) { ${AUTHORS_CONNECTION} } } }
      }
      headRuns: commits(last: 1) {
        nodes {
          commit {
            oid
            statusCheckRollup {
              contexts(first: 100) {
                totalCount
                ${PAGE_INFO}
                nodes { __typename ... on CheckRun { databaseId name checkSuite { app { databaseId } } } }
              }
            }
          }
        }
      }
      baseRef {
        target {
          ... on Commit {
            policyFile: file(path: $policyPath) { type mode object { ... on Blob { text isBinary isTruncated } } }
          }
        }
      }
    }
  }
}
${PULL_REQUEST_FIELDS}`;

/**
 * A page of merged pull requests is charged by its nested connections (each asks up to 100 pull
 * requests' worth), so it carries four: commits, the head's checks (the pull request's own
 * statusCheckRollup, with the commit it belongs to), the merge commit's checks, and one timeline
 * holding the pushes, the merge queue's events and the reviews (a review is a timeline item too, so
 * the reviews need no connection of their own). 1 + 4 x 100 requests: 4 points a page of 100.
 */
const MERGED_TIMELINE = `${PAGE_INFO}
nodes {
  __typename
${PUSH_ITEMS}
  ... on PullRequestReview {
    author { __typename login }
    authorCanPushToRepository
    state
    submittedAt
    reviewCommit: commit { oid }
  }
}`;

const MERGED_TIMELINE_TYPES =
  "itemTypes: [HEAD_REF_FORCE_PUSHED_EVENT, PULL_REQUEST_COMMIT, ADDED_TO_MERGE_QUEUE_EVENT, REMOVED_FROM_MERGE_QUEUE_EVENT, PULL_REQUEST_REVIEW]";

export const MERGED_PULL_REQUEST_FIELDS = `fragment MergedPullRequestFields on PullRequest {
${PULL_REQUEST_SCALARS}
  statusCheckRollup { commit { oid } contexts(first: 100) { ${CONTEXTS} } }
  commits(first: 100) { ${COMMITS} }
  timelineItems(${MERGED_TIMELINE_TYPES}, first: 100) { ${MERGED_TIMELINE} }
}`;

/**
 * Merged pull requests into any branch, most recently updated first: the audit selects them by their
 * base branch's name, so a production branch deleted after its merges keeps its changes.
 */
export const MERGED_PULL_REQUESTS_QUERY = `query MergedPullRequests($owner: String!, $name: String!, $after: String) {
  rateLimit { cost }
  repository(owner: $owner, name: $name) {
    pullRequests(states: MERGED, orderBy: { field: UPDATED_AT, direction: DESC }, first: 100, after: $after) {
      nodes { ...MergedPullRequestFields }
      pageInfo { hasNextPage endCursor }
    }
  }
}
${MERGED_PULL_REQUEST_FIELDS}`;

/**
 * One query asking a page of a connection for `count` pull requests or commits at once, each aliased
 * and from its own cursor. Variables: $owner, $name, ${key.variable}0..N (the keys), $a0..$aN
 * (cursors, null for a first page).
 */
function aliasedPagesQuery(
  operation: string,
  count: number,
  key: { variable: "n" | "o"; type: "Int!" | "GitObjectID!" },
  alias: (index: number, key: string, after: string) => string,
): string {
  const indexes = Array.from({ length: count }, (_, i) => i);
  const variables = indexes.map((i) => `, $${key.variable}${i}: ${key.type}, $a${i}: String`).join("");
  const aliases = indexes.map((i) => `    ${alias(i, `$${key.variable}${i}`, `$a${i}`)}`).join("\n");
  return `query ${operation}($owner: String!, $name: String!${variables}) {
  rateLimit { cost }
  repository(owner: $owner, name: $name) {
${aliases}
  }
}`;
}

/**
 * The next page of one connection (as MERGED_PULL_REQUESTS_QUERY asks it) of `count` pull requests
 * at once. Variables: $owner, $name, $n0..$nN (numbers), $a0..$aN.
 */
function pullRequestsPageQuery(operation: string, field: (after: string) => string, count: number): string {
  return aliasedPagesQuery(
    operation,
    count,
    { variable: "n", type: "Int!" },
    (i, number, after) => `p${i}: pullRequest(number: ${number}) { ${field(after)} }`,
  );
}

/** The next page of the timelines of `count` merged pull requests (see pullRequestsPageQuery). */
export function mergedTimelinesQuery(count: number): string {
  return pullRequestsPageQuery(
    "MergedTimelines",
    (after) => `timelineItems(${MERGED_TIMELINE_TYPES}, first: 100, after: ${after}) { ${MERGED_TIMELINE} }`,
    count,
  );
}

/** The next page of the commits of `count` merged pull requests (see pullRequestsPageQuery). */
export function mergedCommitsQuery(count: number): string {
  return pullRequestsPageQuery(
    "MergedCommits",
    (after) => `commits(first: 100, after: ${after}) { ${COMMITS} }`,
    count,
  );
}

/**
 * A page of the checks and statuses of `count` commits at once, each from its own cursor (null for
 * the first page). Variables: $owner, $name, $o0..$oN (oids), $a0..$aN (cursors).
 */
export function commitsContextsQuery(count: number): string {
  return aliasedPagesQuery(
    "CommitsContexts",
    count,
    { variable: "o", type: "GitObjectID!" },
    (i, oid, after) =>
      `c${i}: object(oid: ${oid}) { ... on Commit { statusCheckRollup { contexts(first: 100, after: ${after}) { ${CONTEXTS} } } } }`,
  );
}

/** The next page of one pull request's commits, for a pull request with more than the first page. */
export const PULL_REQUEST_COMMITS_QUERY = `query PullRequestCommits($owner: String!, $name: String!, $number: Int!, $after: String) {
  rateLimit { cost }
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) { commits(first: 100, after: $after) { ${COMMITS} } }
  }
}`;

export const PULL_REQUEST_REVIEWS_QUERY = `query PullRequestReviews($owner: String!, $name: String!, $number: Int!, $after: String) {
  rateLimit { cost }
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) { reviews(first: 100, after: $after) { ${REVIEWS} } }
  }
}`;

export const PULL_REQUEST_TIMELINE_QUERY = `query PullRequestTimeline($owner: String!, $name: String!, $number: Int!, $after: String) {
  rateLimit { cost }
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) { timelineItems(${TIMELINE_TYPES}, first: 100, after: $after) { ${TIMELINE} } }
  }
}`;

/** The next page of the checks and statuses of one commit (the head or the merge commit). */
export const COMMIT_CONTEXTS_QUERY = `query CommitContexts($owner: String!, $name: String!, $oid: GitObjectID!, $after: String) {
  rateLimit { cost }
  repository(owner: $owner, name: $name) {
    object(oid: $oid) {
      ... on Commit { statusCheckRollup { contexts(first: 100, after: $after) { ${CONTEXTS} } } }
    }
  }
}`;

/**
 * The authors (git author first, then the Co-authored-by trailers GitHub recognised) of `count`
 * commits at once, each from its own cursor: asked only for the commits whose message names a
 * co-author, since GitHub builds `Commit.authors` from the git author and those trailers alone.
 * Variables: $owner, $name, and $o0..$oN (oids), $a0..$aN (cursors, null for the first page).
 */
export function commitAuthorsQuery(count: number): string {
  return aliasedPagesQuery(
    "CommitAuthors",
    count,
    { variable: "o", type: "GitObjectID!" },
    (i, oid, after) =>
      `c${i}: object(oid: ${oid}) { ... on Commit { authors(first: 100, after: ${after}) { ${AUTHORS_CONNECTION} } } }`,
  );
}

export const BRANCH_HISTORY_QUERY = `query BranchHistory($owner: String!, $name: String!, $ref: String!, $since: GitTimestamp!, $until: GitTimestamp!, $after: String) {
  rateLimit { cost }
  repository(owner: $owner, name: $name) {
    ref(qualifiedName: $ref) {
      target {
        ... on Commit {
          history(since: $since, until: $until, first: 100, after: $after) {
            nodes {
              oid
              messageHeadline
              committedDate
              url
              author { user { login } }
              committer { user { login } }
              parents { totalCount }
              associatedPullRequests(first: 5) { totalCount nodes { number merged baseRefName mergeCommit { oid } } }
            }
            pageInfo { hasNextPage endCursor }
          }
        }
      }
    }
  }
}`;
