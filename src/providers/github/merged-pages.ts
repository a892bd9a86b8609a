/**
 * The audit's pages of merged pull requests, lean: four nested connections a pull request instead of
 * six (see MERGED_PULL_REQUESTS_QUERY). The reviews come from the timeline, the head's checks from
 * the pull request's own rollup. What a page leaves open is read after it, batched over the page's
 * pull requests (one query for up to 50 of them), never one query per pull request: the timelines
 * that go on, and the head's checks where the pull request's rollup is not the head commit's (none
 * at all, or another commit's). Each pull request then has the shape of PULL_REQUEST_QUERY's answer
 * and is completed and mapped as that one is, so both give the same change request.
 */
import { z } from "zod";
import type { PartialConnection } from "./change-request.js";
import {
  completePullRequest,
  refusedPage,
  repositoryQuery,
  type CompletedPullRequest,
} from "./completion.js";
import type { GitHubContext } from "./http.js";
import { commitsContextsQuery, mergedCommitsQuery, mergedTimelinesQuery } from "./queries.js";
import {
  CommitConnection,
  ContextConnection,
  PullRequestNode,
  ReviewConnection,
  TimelineConnection,
  type PageInfo,
} from "./schema.js";

/** Pull requests (or commits) asked in one follow-up query: 50 aliases of 100 items are 1 point. */
const BATCH = 50;

const PageInfoShape = TimelineConnection.shape.pageInfo;
const ReviewNode = ReviewConnection.shape.nodes.element;

/** A review as a timeline item: its commit is aliased (PullRequestCommit.commit is another type). */
const TimelineReview = ReviewNode.omit({ commit: true }).extend({
  __typename: z.literal("PullRequestReview"),
  reviewCommit: z.object({ oid: z.string() }).nullable(),
});
const MergedTimelineItem = z.union([TimelineConnection.shape.nodes.element, TimelineReview]);
type MergedTimelineItem = z.infer<typeof MergedTimelineItem>;

const MergedTimeline = z.object({ pageInfo: PageInfoShape, nodes: z.array(MergedTimelineItem) });
type MergedTimeline = z.infer<typeof MergedTimeline>;

export const MergedPullRequestNode = PullRequestNode.omit({
  headCommit: true,
  reviews: true,
  timelineItems: true,
}).extend({
  /** GitHub's rollup for the head: `commit` says which commit it is of. */
  statusCheckRollup: z
    .object({ commit: z.object({ oid: z.string() }).nullable(), contexts: ContextConnection })
    .nullable(),
  timelineItems: MergedTimeline,
});
export type MergedPullRequestNode = z.infer<typeof MergedPullRequestNode>;

const RateLimit = z.object({ cost: z.number() }).nullable().optional();

/** A page of merged pull requests: the listing's own, or the first one a repository batch read. */
export const MergedPullRequestConnection = z.object({
  nodes: z.array(MergedPullRequestNode),
  pageInfo: PageInfoShape,
});
export type MergedPullRequestConnection = z.infer<typeof MergedPullRequestConnection>;

export const MergedPullRequestsAnswer = z.object({
  rateLimit: RateLimit,
  repository: z.object({ pullRequests: MergedPullRequestConnection }).nullable(),
});

const MergedTimelinesAnswer = z.object({
  rateLimit: RateLimit,
  repository: z.record(z.string(), z.object({ timelineItems: MergedTimeline }).nullable()).nullable(),
});

const MergedCommitsAnswer = z.object({
  rateLimit: RateLimit,
  repository: z.record(z.string(), z.object({ commits: CommitConnection }).nullable()).nullable(),
});

const CommitsContextsAnswer = z.object({
  rateLimit: RateLimit,
  repository: z
    .record(
      z.string(),
      z
        .object({ statusCheckRollup: z.object({ contexts: ContextConnection }).nullable().optional() })
        .nullable(),
    )
    .nullable(),
});

type Rollup = { contexts: ContextConnection } | null;

/**
 * Runs `entries` through `query` in batches; a batch GitHub refuses is asked again one entry at a
 * time, so one pull request GitHub will not answer for leaves only its own evidence partial.
 * `answer` gets each entry's answer, or null when GitHub refused it.
 */
async function inBatches<E, A>(
  entries: readonly E[],
  query: (batch: readonly E[]) => Promise<A[]>,
  answer: (entry: E, result: A | null) => void,
): Promise<void> {
  for (let start = 0; start < entries.length; start += BATCH) {
    const batch = entries.slice(start, start + BATCH);
    try {
      const results = await query(batch);
      batch.forEach((entry, i) => answer(entry, results[i] ?? null));
    } catch (error) {
      if (!refusedPage(error)) throw error;
      if (batch.length === 1) {
        answer(batch[0] as E, null);
        continue;
      }
      for (const entry of batch) {
        try {
          const [result] = await query([entry]);
          answer(entry, result ?? null);
        } catch (single) {
          if (!refusedPage(single)) throw single;
          answer(entry, null);
        }
      }
    }
  }
}

interface Connection<T> {
  pageInfo: PageInfo;
  nodes: T[];
}

/**
 * Reads every connection of `entries` to its end, a page further per round, each round's pages asked
 * in batches. A page GitHub refuses leaves its connection going on without a cursor (so it is
 * reported partial, and never asked again) and is `refuse`d.
 */
async function readToEnd<E, T>(
  entries: readonly E[],
  connectionOf: (entry: E) => Connection<T>,
  query: (batch: readonly E[]) => Promise<Array<Connection<T> | null>>,
  refuse: (entry: E) => void,
): Promise<void> {
  let open = entries.filter((entry) => goesOn(connectionOf(entry).pageInfo));
  while (open.length > 0) {
    await inBatches(open, query, (entry, page) => {
      const connection = connectionOf(entry);
      if (!page) {
        connection.pageInfo = { ...connection.pageInfo, endCursor: null };
        refuse(entry);
        return;
      }
      connection.nodes.push(...page.nodes);
      connection.pageInfo = page.pageInfo;
    });
    open = open.filter((entry) => goesOn(connectionOf(entry).pageInfo));
  }
}

/**
 * The merged pull requests of one page, complete: each connection read to its end, or named partial
 * in its completion where GitHub refused a page. Every follow-up is one query for up to 50 pull
 * requests (or commits).
 */
export async function completeMergedPullRequests(
  ctx: GitHubContext,
  repository: string,
  pulls: readonly MergedPullRequestNode[],
): Promise<CompletedPullRequest[]> {
  if (pulls.length === 0) return [];
  const ask = repositoryQuery(ctx, repository);
  const long = (pr: MergedPullRequestNode) =>
    [
      pr.timelineItems,
      pr.commits,
      pr.statusCheckRollup?.contexts,
      pr.mergeCommit?.statusCheckRollup?.contexts,
    ].some((connection) => connection !== undefined && goesOn(connection.pageInfo));
  // Appending pages never changes the answer the caller holds.
  const nodes = pulls.map((pr) => (long(pr) ? structuredClone(pr) : pr));
  const refused = nodes.map(() => new Set<PartialConnection>());
  const indexed = nodes.map((pr, index) => ({ pr, index }));
  const byNumber = (
    batch: ReadonlyArray<{ pr: MergedPullRequestNode }>,
    after: (pr: MergedPullRequestNode) => string | null,
  ) => {
    const variables: Record<string, unknown> = {};
    batch.forEach(({ pr }, i) => {
      variables[`n${i}`] = pr.number;
      variables[`a${i}`] = after(pr);
    });
    return variables;
  };

  await readToEnd(
    indexed,
    ({ pr }) => pr.timelineItems,
    async (batch) => {
      const variables = byNumber(batch, (pr) => pr.timelineItems.pageInfo.endCursor);
      const what = `timelines of ${batch.length} pull requests of ${repository}`;
      const answer = await ask(mergedTimelinesQuery(batch.length), variables, what, MergedTimelinesAnswer);
      return batch.map((_, i) => answer.repository?.[`p${i}`]?.timelineItems ?? null);
    },
    // Reviews are timeline items here: a timeline cut short leaves both partial.
    ({ index }) => refused[index]?.add("pushes").add("reviews"),
  );

  await readToEnd(
    indexed,
    ({ pr }) => pr.commits,
    async (batch) => {
      const variables = byNumber(batch, (pr) => pr.commits.pageInfo.endCursor);
      const what = `commits of ${batch.length} pull requests of ${repository}`;
      const answer = await ask(mergedCommitsQuery(batch.length), variables, what, MergedCommitsAnswer);
      return batch.map((_, i) => answer.repository?.[`p${i}`]?.commits ?? null);
    },
    ({ index }) => refused[index]?.add("commits"),
  );

  // The head's checks where the pull request's rollup does not show the head commit's.
  const heads = new Map<number, Rollup>();
  const askHeads = indexed.filter(({ pr }) => pr.statusCheckRollup?.commit?.oid !== pr.headRefOid);
  await inBatches(
    askHeads,
    async (batch) => {
      const variables: Record<string, unknown> = {};
      batch.forEach(({ pr }, i) => {
        variables[`o${i}`] = pr.headRefOid;
        variables[`a${i}`] = null;
      });
      const what = `checks of ${batch.length} head commits of ${repository}`;
      const answer = await ask(commitsContextsQuery(batch.length), variables, what, CommitsContextsAnswer);
      return batch.map((_, i) => ({ rollup: answer.repository?.[`c${i}`]?.statusCheckRollup ?? null }));
    },
    (entry, result) => {
      if (result === null) refused[entry.index]?.add("checks");
      heads.set(entry.index, result?.rollup ?? null);
    },
  );
  const headOf = (index: number, pr: MergedPullRequestNode): Rollup =>
    heads.has(index) ? (heads.get(index) ?? null) : pr.statusCheckRollup;

  // The checks that go on, of head and merge commits alike, by commit.
  const rollups = indexed.flatMap(({ pr, index }) => {
    const head = headOf(index, pr);
    const merge = pr.mergeCommit;
    return [
      ...(head ? [{ index, oid: pr.headRefOid, contexts: head.contexts }] : []),
      ...(merge?.statusCheckRollup
        ? [{ index, oid: merge.oid, contexts: merge.statusCheckRollup.contexts }]
        : []),
    ];
  });
  await readToEnd(
    rollups,
    (entry) => entry.contexts,
    async (batch) => {
      const variables: Record<string, unknown> = {};
      batch.forEach((entry, i) => {
        variables[`o${i}`] = entry.oid;
        variables[`a${i}`] = entry.contexts.pageInfo.endCursor;
      });
      const what = `checks of ${batch.length} commits of ${repository}`;
      const answer = await ask(commitsContextsQuery(batch.length), variables, what, CommitsContextsAnswer);
      return batch.map((_, i) => answer.repository?.[`c${i}`]?.statusCheckRollup?.contexts ?? null);
    },
    ({ index }) => refused[index]?.add("checks"),
  );

  const shaped = indexed.map(({ pr, index }) => asPullRequestNode(pr, headOf(index, pr)));
  return completePullRequest(ctx, repository, shaped, refused);
}

function goesOn(pageInfo: PageInfo): boolean {
  return pageInfo.hasNextPage && pageInfo.endCursor !== null;
}

/**
 * The pull request in PULL_REQUEST_QUERY's shape: the timeline's reviews as the reviews connection
 * (complete once the timeline is, or still going on where GitHub refused its next page), the rest of
 * the timeline as it is, and `head` as the head commit's rollup.
 */
function asPullRequestNode(pr: MergedPullRequestNode, head: Rollup): PullRequestNode {
  const { statusCheckRollup: _rollup, timelineItems, ...rest } = pr;
  const reviews: PullRequestNode["reviews"]["nodes"] = [];
  const timeline: PullRequestNode["timelineItems"]["nodes"] = [];
  for (const item of timelineItems.nodes as MergedTimelineItem[]) {
    if (item.__typename === "PullRequestReview") {
      const { __typename: _type, reviewCommit, ...review } = item;
      reviews.push({ ...review, commit: reviewCommit });
    } else {
      timeline.push(item);
    }
  }
  const pageInfo = timelineItems.pageInfo;
  return {
    ...rest,
    headCommit: {
      nodes: [{ commit: { oid: pr.headRefOid, statusCheckRollup: head && { contexts: head.contexts } } }],
    },
    reviews: { totalCount: reviews.length, pageInfo: { ...pageInfo, endCursor: null }, nodes: reviews },
    timelineItems: { pageInfo: { ...pageInfo, endCursor: null }, nodes: timeline },
  };
}
