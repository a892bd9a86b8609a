/**
 * The GraphQL queries this provider sends (bench/sim answers exactly these). commit pushedDate is
 * deprecated, so a commit's committedDate stands for when it was pushed.
 */

const ROLLUP = `statusCheckRollup {
  contexts(first: 100) {
    totalCount
    nodes {
      __typename
      ... on CheckRun { name conclusion status detailsUrl completedAt }
      ... on StatusContext { context state targetUrl createdAt }
    }
  }
}`;

export const PULL_REQUEST_FIELDS = `fragment ChangeRequestFields on PullRequest {
  number
  title
  url
  author { login }
  state
  isDraft
  baseRefName
  headRefName
  headRefOid
  createdAt
  updatedAt
  mergedAt
  mergedBy { login }
  mergeCommit { oid ${ROLLUP} }
  commits(last: 100) {
    totalCount
    nodes {
      commit {
        oid
        author { user { login } name date }
        committer { user { login } date }
      }
    }
  }
  headCommit: commits(last: 1) { nodes { commit { oid ${ROLLUP} } } }
  reviews(last: 100) { nodes { author { login } state submittedAt commit { oid } } }
  timelineItems(itemTypes: [HEAD_REF_FORCE_PUSHED_EVENT, PULL_REQUEST_COMMIT], last: 100) {
    nodes {
      __typename
      ... on HeadRefForcePushedEvent { actor { login } createdAt afterCommit { oid } }
      ... on PullRequestCommit {
        commit { oid committedDate author { user { login } } committer { user { login } } }
      }
    }
  }
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

export const MERGED_PULL_REQUESTS_QUERY = `query MergedPullRequests($owner: String!, $name: String!, $base: String!, $after: String) {
  rateLimit { cost }
  repository(owner: $owner, name: $name) {
    pullRequests(states: MERGED, baseRefName: $base, orderBy: { field: UPDATED_AT, direction: DESC }, first: 100, after: $after) {
      nodes { ...ChangeRequestFields }
      pageInfo { hasNextPage endCursor }
    }
  }
}
${PULL_REQUEST_FIELDS}`;

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
              associatedPullRequests(first: 5) { nodes { number merged baseRefName mergeCommit { oid } } }
            }
            pageInfo { hasNextPage endCursor }
          }
        }
      }
    }
  }
}`;
