/** Change requests and direct pushes, read with GraphQL (one query per pull request or page). */
import { ProviderError } from "../../errors.js";
import {
  known,
  unreadable,
  type Repository,
  type BranchRule,
  type ChangeRequest,
  type Known,
} from "../../model/index.js";
import { mapPullRequest } from "./change-request.js";
import { completePullRequest } from "./completion.js";
import {
  completeMergedPullRequests,
  MergedPullRequestConnection,
  MergedPullRequestsAnswer,
  type MergedPullRequestNode,
} from "./merged-pages.js";
import { countTakenMergedPage, takePrefetchedMergedPage } from "./repository-batch.js";
import {
  countGraphqlCost,
  describeFailure,
  providerError,
  splitFullName,
  type GitHubContext,
  POLICY_FILE,
  POLICY_REPOSITORY,
} from "./http.js";
import { CHANGE_CHECK_QUERY, MERGED_PULL_REQUESTS_QUERY, PULL_REQUEST_QUERY } from "./queries.js";
import { list, mapKnown, readBranchRule } from "./repository.js";
import { observeBypass } from "./rule-suites.js";
import { rememberHeadCheckRuns, type HeadCheckRun } from "./writing.js";
import {
  ChangeCheckAnswer,
  CommitPullAnswer,
  parseAnswer,
  PullRequestAnswer,
  type PullRequestNode,
  type HeadRun,
  treeEntryText,
} from "./schema.js";

/** A GraphQL error as GitHub answers it: its type and the path of the field it nulled. */
export interface GraphqlFieldError {
  type?: string;
  message?: string;
  path?: ReadonlyArray<string | number>;
}

export async function graphql(
  ctx: GitHubContext,
  query: string,
  variables: Record<string, unknown>,
  what: string,
  /** Errors the caller reads from the answer itself (the fields they nulled): the data is returned. */
  expected: (errors: readonly GraphqlFieldError[]) => boolean = () => false,
) {
  try {
    return await ctx.octokit.graphql<unknown>(query, variables);
  } catch (error) {
    const failure = describeFailure(error);
    const { errors, data } = error as { errors?: GraphqlFieldError[]; data?: unknown };
    if (errors && errors.length > 0 && data && expected(errors)) return data;
    if (errors && errors.length > 0) {
      const first = errors[0];
      throw new ProviderError(
        `GitHub GraphQL could not read ${what}: ${first?.type ?? ""} ${first?.message ?? ""}`.trim(),
        {
          host: "github",
          status: first?.type === "NOT_FOUND" ? 404 : first?.type === "FORBIDDEN" ? 403 : failure.status,
          cause: error,
        },
      );
    }
    throw providerError(error, what);
  }
}

async function rulesFor(
  ctx: GitHubContext,
  repository: string,
  pr: PullRequestNode,
): Promise<Known<BranchRule | null>> {
  // Only a merge can have bypassed the rules: open pull requests cost no extra request.
  if (pr.state !== "MERGED") return known(null);
  return readBranchRule(ctx, repository, pr.baseRefName);
}

async function queryPullRequest(ctx: GitHubContext, repository: string, number: number) {
  const { owner, repo } = splitFullName(repository);
  const what = `pull request ${repository}#${number}`;
  const data = await graphql(ctx, PULL_REQUEST_QUERY, { owner, name: repo, number }, what);
  const answer = parseAnswer(PullRequestAnswer, data, what);
  countGraphqlCost(ctx, answer.rateLimit);
  const pr = answer.repository?.pullRequest;
  if (!answer.repository || !pr)
    throw new ProviderError(`GitHub has no ${what}`, { host: "github", status: 404 });
  return { repository: answer.repository, pr };
}

export async function collectChangeRequest(
  ctx: GitHubContext,
  repository: string,
  number: number,
): Promise<ChangeRequest> {
  const { pr } = await queryPullRequest(ctx, repository, number);
  const [complete] = await completePullRequest(ctx, repository, [pr]);
  if (!complete) throw new Error("completePullRequest returned nothing");
  return observeBypass(
    ctx,
    repository,
    mapPullRequest(repository, complete.pr, await rulesFor(ctx, repository, pr), complete.completion),
  );
}

/**
 * A change check's facts at the lowest cost: the one pull-request query (which also carries the
 * repository's settings) and the base branch's rules. People and keys are not read for a check.
 */
export async function collectChangeContext(
  ctx: GitHubContext,
  fullName: string,
  number: number,
): Promise<{ changeRequest: ChangeRequest; repository: Repository }> {
  const { owner, repo } = splitFullName(fullName);
  const what = `pull request ${fullName}#${number}`;
  const data = await graphql(
    ctx,
    CHANGE_CHECK_QUERY,
    { owner, name: repo, number, policyPath: POLICY_FILE, policyRepository: POLICY_REPOSITORY },
    what,
    // No policy repository (or none the app can see): as REST's 404, no organization layer.
    (errors) => errors.every((e) => e.type === "NOT_FOUND" && e.path?.[0] === "policyRepository"),
  );
  const answer = parseAnswer(ChangeCheckAnswer, data, what);
  if (answer.policyRepository !== undefined) {
    const policyRepository = `${owner}/${POLICY_REPOSITORY}`;
    const target = answer.policyRepository?.defaultBranchRef?.target;
    const text =
      answer.policyRepository === null ? null : target ? treeEntryText(target.policyFile) : undefined;
    if (text !== undefined) rememberChangeCheckFile(ctx, policyRepository, POLICY_FILE, undefined, text);
  }
  countGraphqlCost(ctx, answer.rateLimit);
  const repository = answer.repository;
  const asked = repository?.pullRequest;
  if (!repository || !asked)
    throw new ProviderError(`GitHub has no ${what}`, { host: "github", status: 404 });
  const { commitAuthors, headRuns, baseRef, ...pr } = asked;
  const authors = new Map(commitAuthors?.nodes.map(({ commit }) => [commit.oid, commit.authors]));
  const [complete] = await completePullRequest(ctx, fullName, [pr], [], authors);
  if (!complete) throw new Error("completePullRequest returned nothing");
  if (baseRef !== undefined) {
    const text = baseRef === null ? undefined : treeEntryText(baseRef.target?.policyFile);
    if (text !== undefined) rememberChangeCheckFile(ctx, fullName, POLICY_FILE, pr.baseRefName, text);
  }
  const branchRule = await readBranchRule(ctx, fullName, pr.baseRefName);
  const changeRequest = await observeBypass(
    ctx,
    fullName,
    mapPullRequest(
      fullName,
      complete.pr,
      pr.state === "MERGED" ? branchRule : known(null),
      complete.completion,
    ),
  );
  const runs = headCheckRuns(pr.headRefOid, headRuns);
  if (runs) rememberHeadCheckRuns(ctx, fullName, pr.headRefOid, runs);
  const skipped = unreadable("not collected for a change check", "only the base branch's rules are read");
  return {
    changeRequest,
    repository: {
      fullName: repository.nameWithOwner,
      url: repository.url,
      visibility: VISIBILITY[repository.visibility],
      archived: repository.isArchived,
      defaultBranch: repository.defaultBranchRef?.name ?? "",
      productionBranches: [pr.baseRefName],
      branchRules: mapKnown(branchRule, (rule) => [rule]),
      collaborators: skipped,
      teams: skipped,
      deployKeys: skipped,
      collectionError: null,
    },
  };
}

/** A file at a branch, or at the default branch (no ref). */
const fileKey = (repository: string, path: string, ref: string | undefined) =>
  `${repository.toLowerCase()}:${path}@${ref ?? ""}`;

function rememberChangeCheckFile(
  ctx: GitHubContext,
  repository: string,
  path: string,
  ref: string | undefined,
  text: string | null,
): void {
  (ctx.changeCheckFiles ??= new Map()).set(fileKey(repository, path, ref), text);
}

/**
 * The policy file at `ref` as the change check's query read it moments ago (null: no file there),
 * or undefined when it did not (readFile then asks GitHub). Taken once.
 */
export function takeChangeCheckFile(
  ctx: GitHubContext,
  repository: string,
  path: string,
  ref: string | undefined,
): string | null | undefined {
  const files = ctx.changeCheckFiles;
  const key = fileKey(repository, path, ref);
  const text = files?.get(key);
  files?.delete(key);
  return text;
}

/**
 * The check runs on the pull request's head, when its query read them all: the head's rollup whole
 * (or none: no check or status on the commit at all). Undefined when it cannot tell.
 */
function headCheckRuns(
  headSha: string,
  read:
    | {
        nodes: Array<{
          commit: {
            oid: string;
            statusCheckRollup: {
              contexts: { totalCount: number; pageInfo: { hasNextPage: boolean }; nodes: HeadRun[] };
            } | null;
          };
        }>;
      }
    | undefined,
): HeadCheckRun[] | undefined {
  const head = read?.nodes.find((node) => node.commit.oid === headSha)?.commit;
  if (!head) return undefined;
  const contexts = head.statusCheckRollup?.contexts;
  if (!contexts) return [];
  if (contexts.pageInfo.hasNextPage || contexts.nodes.length < contexts.totalCount) return undefined;
  const runs: HeadCheckRun[] = [];
  for (const context of contexts.nodes) {
    if (context.__typename !== "CheckRun") continue;
    if (typeof context.databaseId !== "number" || context.name === undefined) return undefined;
    runs.push({
      id: context.databaseId,
      name: context.name,
      appId: context.checkSuite?.app?.databaseId ?? null,
    });
  }
  return runs;
}

const VISIBILITY = { PUBLIC: "public", PRIVATE: "private", INTERNAL: "internal" } as const;

/** Open pull requests whose head is `sha` (a status event names only the commit). */
export async function changeRequestsForCommit(
  ctx: GitHubContext,
  fullName: string,
  sha: string,
): Promise<number[]> {
  const { owner, repo } = splitFullName(fullName);
  const pulls = await list(
    ctx,
    "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
    { owner, repo, commit_sha: sha },
    CommitPullAnswer,
  ).catch((error: unknown) =>
    Promise.reject(providerError(error, `pull requests of commit ${fullName}@${sha}`, "pull_requests:read")),
  );
  return pulls.filter((p) => p.state === "open" && p.head.sha === sha).map((p) => p.number);
}

/** How far GitHub's clock may be behind ours: updates this recent are read again. */
const CLOCK_MARGIN_MS = 5 * 60_000;

/**
 * Pull requests merged within the period into any branch `isSelectedBase` accepts, selected by the
 * base branch's name: one listing of every merged pull request of the repository, most recently
 * updated first, read until the period's start. A branch deleted after its merges keeps them.
 *
 * The order moves under the cursor: a pull request updated while the later pages are read (a
 * comment, a label) jumps to the front, past the cursor, and no later page holds it. So a listing
 * of more than one page is read again from the front for the pull requests updated since it began.
 *
 * A repository batch may have read the first few merged pull requests already
 * (MERGED_FIRST_PAGE): when they hold the whole listing (no more, or one updated before the
 * period), they are its one page, parsed, completed and mapped as a page read here. When the
 * listing goes on past them, it is read from the front as above: going on from their cursor would
 * make a listing of two reads, which must be read again from the front (two requests more than
 * one page of 100 for a repository with up to 100 changes).
 */
export async function* listMergedChangeRequests(
  ctx: GitHubContext,
  repository: string,
  isSelectedBase: (branch: string) => boolean,
  period: { since: Date; until: Date },
): AsyncIterable<ChangeRequest> {
  const startedAt = Date.now() - CLOCK_MARGIN_MS;
  const yielded = new Set<number>();
  let pages = 0;
  const prefetched = takePrefetchedMergedPage(ctx, repository);
  const first = wholeListing(prefetched?.pullRequests, period.since);
  if (prefetched) countTakenMergedPage(ctx, first !== undefined);
  for await (const pr of mergedPullRequests(ctx, repository, isSelectedBase, period, period.since, first)) {
    pages = pr.page;
    if (pr.change && !yielded.has(pr.change.number)) {
      yielded.add(pr.change.number);
      yield pr.change;
    }
  }
  if (pages <= 1) return;
  const since = new Date(Math.max(startedAt, period.since.getTime()));
  for await (const pr of mergedPullRequests(ctx, repository, isSelectedBase, period, since)) {
    if (pr.change && !yielded.has(pr.change.number)) {
      yielded.add(pr.change.number);
      yield pr.change;
    }
  }
}

/**
 * The first merged pull requests a repository batch read, when they are the whole listing from
 * `updatedSince` on: no page after them, or one of them last updated before it. Undefined when the
 * listing must read its own pages (nothing read ahead, a page that does not parse, or more to read).
 */
function wholeListing(raw: unknown, updatedSince: Date): MergedPullRequestConnection | undefined {
  if (raw === undefined) return undefined;
  const parsed = MergedPullRequestConnection.safeParse(raw);
  if (!parsed.success) return undefined;
  const { nodes, pageInfo } = parsed.data;
  const whole =
    !pageInfo.hasNextPage || nodes.some((pr) => Date.parse(pr.updatedAt) < updatedSince.getTime());
  return whole ? parsed.data : undefined;
}

/**
 * One pass over the merged pull requests, newest update first, until one was last updated before
 * `updatedSince`: each selected change, and which page the pass is on (change null at a page's end).
 * `firstPage`, when given, is taken as the first page instead of asking GitHub for it.
 */
async function* mergedPullRequests(
  ctx: GitHubContext,
  repository: string,
  isSelectedBase: (branch: string) => boolean,
  period: { since: Date; until: Date },
  updatedSince: Date,
  firstPage?: MergedPullRequestConnection,
): AsyncIterable<{ page: number; change: ChangeRequest | null }> {
  const { owner, repo } = splitFullName(repository);
  const what = `merged pull requests of ${repository}`;
  let after: string | null = null;
  for (let page = 1; ; page++) {
    let connection = page === 1 ? firstPage : undefined;
    if (!connection) {
      const data = await graphql(ctx, MERGED_PULL_REQUESTS_QUERY, { owner, name: repo, after }, what);
      const answer = parseAnswer(MergedPullRequestsAnswer, data, what);
      countGraphqlCost(ctx, answer.rateLimit);
      connection = answer.repository?.pullRequests;
    }
    if (!connection)
      throw new ProviderError(`GitHub has no repository ${repository}`, { host: "github", status: 404 });
    let reachedOlder = false;
    const selected: MergedPullRequestNode[] = [];
    for (const pr of connection.nodes) {
      // Ordered by last update, newest first: once one predates the pass, all that follow do.
      if (Date.parse(pr.updatedAt) < updatedSince.getTime()) {
        reachedOlder = true;
        continue;
      }
      const mergedAt = pr.mergedAt === null ? NaN : Date.parse(pr.mergedAt);
      if (!(mergedAt >= period.since.getTime() && mergedAt <= period.until.getTime())) continue;
      if (isSelectedBase(pr.baseRefName)) selected.push(pr);
    }
    // Only the selected pull requests are read further: a page costs nothing more when none is long.
    for (const { pr, completion } of await completeMergedPullRequests(ctx, repository, selected)) {
      yield {
        page,
        change: await observeBypass(
          ctx,
          repository,
          mapPullRequest(repository, pr, await rulesFor(ctx, repository, pr), completion),
        ),
      };
    }
    yield { page, change: null };
    if (reachedOlder || !connection.pageInfo.hasNextPage) break;
    // Never a population cut short without a word: more pages and no cursor to them is an error.
    if (!connection.pageInfo.endCursor)
      throw new ProviderError(`GitHub said ${what} go on but gave no cursor to read on from`, {
        host: "github",
      });
    after = connection.pageInfo.endCursor;
  }
}
