/**
 * Reads a pull request's connections to their end. The first query asks one page of each; only the
 * connections that report more are asked again, with `after` cursors, and only the commits whose
 * message names a co-author have their `authors` read (GitHub builds that list from the git author
 * and the Co-authored-by trailers alone). Where GitHub refuses a further page, the connection is
 * recorded as refused so the change request says it is partial.
 */
import type { z } from "zod";
import { ProviderError } from "../../errors.js";
import type { Completion, PartialConnection } from "./change-request.js";
import { mentionsCoAuthor } from "./co-authors.js";
import { countGraphqlCost, splitFullName, type GitHubContext } from "./http.js";
import { graphql } from "./pull-requests.js";
import {
  commitAuthorsQuery,
  COMMIT_CONTEXTS_QUERY,
  PULL_REQUEST_COMMITS_QUERY,
  PULL_REQUEST_REVIEWS_QUERY,
  PULL_REQUEST_TIMELINE_QUERY,
} from "./queries.js";
import {
  CommitAuthorsAnswer,
  CommitContextsAnswer,
  parseAnswer,
  PullRequestCommitsAnswer,
  PullRequestReviewsAnswer,
  PullRequestTimelineAnswer,
  type AuthorConnection,
  type GitActor,
  type PageInfo,
  type PullRequestNode,
} from "./schema.js";

/** Commits whose authors are asked in one query (each alias costs one request of 100 nodes). */
const AUTHORS_BATCH = 50;

export interface CompletedPullRequest {
  pr: PullRequestNode;
  completion: Completion;
}

/** GitHub answered with GraphQL errors (it refused the page), as opposed to a failed request. */
export function refusedPage(error: unknown): boolean {
  if (!(error instanceof ProviderError)) return false;
  const errors = (error.details.cause as { errors?: Array<{ type?: string }> } | undefined)?.errors;
  // A rate limit is not a refusal of the page: the request is failed, and retried or reported.
  return Array.isArray(errors) && !errors.some((e) => e.type === "RATE_LIMITED");
}

interface Connection<T> {
  pageInfo: PageInfo;
  nodes: T[];
}

/**
 * Pages `connection` on from its end cursor until GitHub says there is no more, appending in place.
 * Returns false when GitHub refused a page (the connection stays partial).
 */
async function readToEnd<T>(
  connection: Connection<T>,
  next: (after: string) => Promise<Connection<T> | null>,
): Promise<boolean> {
  while (connection.pageInfo.hasNextPage && connection.pageInfo.endCursor) {
    let page: Connection<T> | null;
    try {
      page = await next(connection.pageInfo.endCursor);
    } catch (error) {
      if (refusedPage(error)) return false;
      throw error;
    }
    if (!page) return false;
    connection.nodes.push(...page.nodes);
    connection.pageInfo = page.pageInfo;
  }
  return true;
}

/**
 * The pull request to append pages to: a copy when any connection has more (appending never
 * changes the answer the caller holds), the answer itself when it is complete (the common case).
 */
function copyIfLong(pr: PullRequestNode): PullRequestNode {
  const rollups = [...pr.headCommit.nodes.map((n) => n.commit), ...(pr.mergeCommit ? [pr.mergeCommit] : [])];
  const long =
    pr.commits.pageInfo.hasNextPage ||
    pr.reviews.pageInfo.hasNextPage ||
    pr.timelineItems.pageInfo.hasNextPage ||
    rollups.some((commit) => commit.statusCheckRollup?.contexts.pageInfo.hasNextPage);
  return long ? structuredClone(pr) : pr;
}

export async function completePullRequest(
  ctx: GitHubContext,
  repository: string,
  pulls: readonly PullRequestNode[],
  /** Connections already refused for each of `pulls`, by index (a lean page's follow-ups). */
  refusedBefore: ReadonlyArray<ReadonlySet<PartialConnection>> = [],
  /** The first page of `authors` of commits, by oid, where the first query asked them already. */
  authorsRead: ReadonlyMap<string, AuthorConnection> = new Map(),
): Promise<CompletedPullRequest[]> {
  const ask = repositoryQuery(ctx, repository);
  const results: { pr: PullRequestNode; refused: Set<PartialConnection> }[] = [];
  for (const [index, original] of pulls.entries()) {
    const pr = copyIfLong(original);
    const refused = new Set<PartialConnection>(refusedBefore[index]);
    const { number } = pr;
    const of = (what: string) => `${what} of pull request ${repository}#${number}`;
    const commits = await readToEnd(pr.commits, async (after) => {
      const answer = await ask(
        PULL_REQUEST_COMMITS_QUERY,
        { number, after },
        of("commits"),
        PullRequestCommitsAnswer,
      );
      return answer.repository?.pullRequest?.commits ?? null;
    });
    if (!commits) refused.add("commits");
    const reviews = await readToEnd(pr.reviews, async (after) => {
      const answer = await ask(
        PULL_REQUEST_REVIEWS_QUERY,
        { number, after },
        of("reviews"),
        PullRequestReviewsAnswer,
      );
      return answer.repository?.pullRequest?.reviews ?? null;
    });
    if (!reviews) refused.add("reviews");
    const timeline = await readToEnd(pr.timelineItems, async (after) => {
      const answer = await ask(
        PULL_REQUEST_TIMELINE_QUERY,
        { number, after },
        of("timeline"),
        PullRequestTimelineAnswer,
      );
      return answer.repository?.pullRequest?.timelineItems ?? null;
    });
    if (!timeline) refused.add("pushes");
    const rollups = [
      ...pr.headCommit.nodes.map((node) => node.commit),
      ...(pr.mergeCommit ? [pr.mergeCommit] : []),
    ];
    for (const { oid, statusCheckRollup } of rollups) {
      if (!statusCheckRollup) continue;
      const complete = await readToEnd(statusCheckRollup.contexts, async (after) => {
        const what = `checks of commit ${repository}@${oid}`;
        const answer = await ask(COMMIT_CONTEXTS_QUERY, { oid, after }, what, CommitContextsAnswer);
        return answer.repository?.object?.statusCheckRollup?.contexts ?? null;
      });
      if (!complete) refused.add("checks");
    }
    results.push({ pr, refused });
  }
  const authors = await readAuthors(
    results.map((r) => r.pr),
    authorsRead,
    async (batch) => {
      const variables: Record<string, unknown> = {};
      batch.forEach((entry, i) => {
        variables[`o${i}`] = entry.oid;
        variables[`a${i}`] = entry.after;
      });
      const what = `authors of ${batch.length} commits of ${repository}`;
      const answer = await ask(commitAuthorsQuery(batch.length), variables, what, CommitAuthorsAnswer);
      return batch.map((_, i) => answer.repository?.[`c${i}`]?.authors ?? null);
    },
  );
  return results.map(({ pr, refused }) => {
    for (const { commit } of pr.commits.nodes) if (authors.partial.has(commit.oid)) refused.add("co-authors");
    return { pr, completion: { authors: authors.lists, refused } };
  });
}

interface AuthorsEntry {
  oid: string;
  after: string | null;
  list: GitActor[];
}

/**
 * The whole `authors` list of every commit whose message names a co-author, asked in batches, each
 * commit from its own cursor until its list ends. `partial` names the commits GitHub refused.
 */
async function readAuthors(
  pulls: readonly PullRequestNode[],
  read: ReadonlyMap<string, AuthorConnection>,
  query: (batch: readonly AuthorsEntry[]) => Promise<Array<AuthorConnection | null>>,
): Promise<{ lists: Map<string, GitActor[]>; partial: Set<string> }> {
  const lists = new Map<string, GitActor[]>();
  const partial = new Set<string>();
  let pending: AuthorsEntry[] = [];
  // A page already read counts as a page answered here: the same checks, the same cursor on.
  const append = (entry: AuthorsEntry, page: AuthorConnection) => {
    entry.list.push(...page.nodes);
    if (page.pageInfo.hasNextPage && page.pageInfo.endCursor) {
      pending.push({ ...entry, after: page.pageInfo.endCursor });
    } else if (page.pageInfo.hasNextPage || entry.list.length < page.totalCount) {
      partial.add(entry.oid);
    }
  };
  for (const pr of pulls) {
    for (const { commit } of pr.commits.nodes) {
      if (lists.has(commit.oid) || !mentionsCoAuthor(commit.message)) continue;
      const entry = { oid: commit.oid, after: null, list: [] };
      lists.set(commit.oid, entry.list);
      const first = read.get(commit.oid);
      if (first) append(entry, first);
      else pending.push(entry);
    }
  }
  while (pending.length > 0) {
    const batch = pending.slice(0, AUTHORS_BATCH);
    pending = pending.slice(AUTHORS_BATCH);
    let pages: Awaited<ReturnType<typeof query>>;
    try {
      pages = await query(batch);
    } catch (error) {
      if (!refusedPage(error)) throw error;
      for (const entry of batch) partial.add(entry.oid);
      continue;
    }
    batch.forEach((entry, i) => {
      const page = pages[i];
      if (!page) {
        partial.add(entry.oid);
        return;
      }
      append(entry, page);
    });
  }
  return { lists, partial };
}

/**
 * Asks a query about one repository (its owner and name are the variables $owner and $name), checks
 * the answer's shape and counts its cost.
 */
export function repositoryQuery(ctx: GitHubContext, repository: string) {
  const { owner, repo } = splitFullName(repository);
  return async <S extends z.ZodType<{ rateLimit?: { cost: number } | null | undefined }>>(
    query: string,
    variables: Record<string, unknown>,
    what: string,
    schema: S,
  ): Promise<z.infer<S>> => {
    const data = await graphql(ctx, query, { owner, name: repo, ...variables }, what);
    const answer = parseAnswer(schema, data, what);
    countGraphqlCost(ctx, answer.rateLimit);
    return answer;
  };
}
