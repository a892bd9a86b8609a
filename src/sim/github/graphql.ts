/**
 * GraphQL over the world, executed by graphql-js against GitHub's published schema: a query the
 * real API would reject is rejected here, and answers conform to the schema by construction.
 * Resolvers are plain objects whose fields are values or functions of the field's arguments
 * (graphql-js's default resolver calls them); abstract types resolve by __typename.
 */
import { schema as published } from "@octokit/graphql-schema";
import {
  buildSchema,
  execute,
  GraphQLError,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";
import type { ActorKind, ChangeRequest } from "../../model/index.js";
import { organizationNode, refFacts, repositoryFacts } from "./graphql-repository.js";
import {
  branchHead,
  userId,
  type SimCheckRun,
  type SimCommit,
  type SimPull,
  type SimRepository,
  type World,
} from "./world.js";

let cachedSchema: GraphQLSchema | undefined;

/** GitHub's schema, built once per process (the published SDL repeats two fields, hence assumeValidSDL). */
export function githubSchema(): GraphQLSchema {
  cachedSchema ??= buildSchema(published.idl, { assumeValidSDL: true });
  return cachedSchema;
}

type Obj = Record<string, unknown>;
type Args = Record<string, unknown>;

export interface GraphQLAnswer {
  body: { data?: unknown; errors?: unknown[] };
  cost: number;
}

export function runGraphQL(
  world: World,
  request: { query?: unknown; variables?: unknown; operationName?: unknown },
  rateLimit: (cost: number) => Obj,
): GraphQLAnswer {
  if (typeof request.query !== "string")
    return {
      body: { errors: [{ message: "A query attribute must be specified and must be a string." }] },
      cost: 0,
    };
  let document: DocumentNode;
  try {
    document = parse(request.query);
  } catch (error) {
    return { body: { errors: [(error as GraphQLError).toJSON()] }, cost: 0 };
  }
  const schema = githubSchema();
  const errors = validate(schema, document);
  if (errors.length > 0) return { body: { errors: errors.map((e) => e.toJSON()) }, cost: 0 };
  const variables = (request.variables ?? {}) as Args;
  const operationName = typeof request.operationName === "string" ? request.operationName : undefined;
  const cost = queryCost(document, variables, operationName);
  const rootValue = {
    rateLimit: () => rateLimit(cost),
    repository: (args: Args) => {
      const repo = world.repositories.get(`${String(args.owner)}/${String(args.name)}`);
      if (!repo || repo.facts.collectionError) {
        throw new GraphQLError(
          `Could not resolve to a Repository with the name '${String(args.owner)}/${String(args.name)}'.`,
          { extensions: { type: "NOT_FOUND" } },
        );
      }
      return repositoryNode(world, repo);
    },
    organization: (args: Args) => organizationNode(world, String(args.login)),
  };
  const result = execute({ schema, document, rootValue, variableValues: variables, operationName });
  if (result instanceof Promise) throw new Error("the simulated GitHub resolves synchronously");
  const body: GraphQLAnswer["body"] = { data: result.data };
  if (result.errors) body.errors = result.errors.map((e) => ({ ...e.toJSON(), type: e.extensions.type }));
  return { body, cost };
}

/**
 * GitHub's rate-limit cost: for every connection, the number of requests needed to fill it (the
 * product of the first/last of the connections above it), summed, divided by 100, at least 1.
 */
export function queryCost(document: DocumentNode, variables: Args, operationName?: string): number {
  const fragments = new Map<string, SelectionSetNode>();
  for (const def of document.definitions)
    if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def.selectionSet);
  const operation = document.definitions.find(
    (d) => d.kind === Kind.OPERATION_DEFINITION && (!operationName || d.name?.value === operationName),
  );
  if (!operation || operation.kind !== Kind.OPERATION_DEFINITION) return 1;
  const value = (node: ValueNode): number => {
    if (node.kind === Kind.INT) return Number(node.value);
    if (node.kind === Kind.VARIABLE) return Number(variables[node.name.value] ?? 0);
    return 0;
  };
  let requests = 0;
  const walk = (set: SelectionSetNode, multiplier: number) => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = fragments.get(selection.name.value);
        if (fragment) walk(fragment, multiplier);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        walk(selection.selectionSet, multiplier);
      } else if (selection.selectionSet) {
        const size = selection.arguments?.find((a) => a.name.value === "first" || a.name.value === "last");
        if (size) {
          requests += multiplier;
          walk(selection.selectionSet, multiplier * Math.max(1, value(size.value)));
        } else {
          walk(selection.selectionSet, multiplier);
        }
      }
    }
  };
  walk(operation.selectionSet, 1);
  return Math.max(1, Math.round(requests / 100));
}

function cursor(index: number): string {
  return Buffer.from(`cursor:v2:${index}`).toString("base64");
}

function cursorIndex(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const match = /^cursor:v2:(\d+)$/.exec(Buffer.from(value, "base64").toString());
  if (!match)
    throw new GraphQLError(`\`${value}\` does not appear to be a valid cursor.`, {
      extensions: { type: "INVALID_CURSOR_ARGUMENTS" },
    });
  return Number(match[1]);
}

/** A connection with first/after or last/before paging, like GitHub's (at most 100 per page). */
export function connection<T>(items: readonly T[], args: Args, node: (item: T) => unknown): Obj {
  for (const key of ["first", "last"] as const) {
    const n = args[key];
    if (typeof n === "number" && (n < 0 || n > 100)) {
      throw new GraphQLError(
        `Requesting ${n} records on the connection exceeds the \`${key}\` limit of 100 records.`,
        { extensions: { type: "EXCESSIVE_PAGINATION" } },
      );
    }
  }
  const after = cursorIndex(args.after);
  const before = cursorIndex(args.before);
  let start = after === null ? 0 : after + 1;
  let end = before === null ? items.length : Math.min(before, items.length);
  if (typeof args.first === "number") end = Math.min(end, start + args.first);
  if (typeof args.last === "number") start = Math.max(start, end - args.last);
  const page = items.slice(start, end).map((item, i) => ({ node: node(item), cursor: cursor(start + i) }));
  return {
    totalCount: items.length,
    nodes: page.map((e) => e.node),
    edges: page,
    pageInfo: {
      hasNextPage: end < items.length,
      hasPreviousPage: start > 0,
      startCursor: page[0]?.cursor ?? null,
      endCursor: page.at(-1)?.cursor ?? null,
    },
  };
}

/** GitHub's Actor types by the model's kinds; an unknown kind with a login is a mannequin. */
const ACTOR_TYPES: Record<ActorKind, string> = { user: "User", bot: "Bot", unknown: "Mannequin" };

/**
 * An Actor. Without a kind, a `[bot]` login is a Bot (GitHub's naming); "ghost" with an unknown
 * kind is a deleted account, which GitHub answers as null.
 */
function actor(login: string | null, kind?: ActorKind): Obj | null {
  if (!login || (login === "ghost" && kind === "unknown")) return null;
  const type = kind ? ACTOR_TYPES[kind] : login.endsWith("[bot]") ? "Bot" : "User";
  return { __typename: type, login, url: `https://github.com/${login}` };
}

function gitActor(login: string | null, name: string, date: string, email?: string | null): Obj {
  return {
    name,
    email: email === undefined ? `${login ?? "unknown"}@users.noreply.github.com` : email,
    date,
    user: login ? { login, url: `https://github.com/${login}` } : null,
  };
}

function repositoryNode(world: World, repo: SimRepository): Obj {
  const facts = repositoryFacts(world, repo);
  return {
    ...facts,
    refs: (args: Args) =>
      (facts.refs as (a: Args, ref: (branch: string) => Obj) => Obj)(args, (branch) =>
        refNode(world, repo, branch),
      ),
    name: repo.name,
    nameWithOwner: repo.facts.fullName,
    url: repo.facts.url,
    isArchived: repo.facts.archived,
    isPrivate: repo.facts.visibility !== "public",
    visibility: repo.facts.visibility.toUpperCase(),
    defaultBranchRef: () => refNode(world, repo, repo.facts.defaultBranch),
    ref: (args: Args) => {
      const name = String(args.qualifiedName).replace(/^refs\/heads\//, "");
      const known =
        repo.branchCommits.has(name) ||
        repo.facts.productionBranches.includes(name) ||
        name === repo.facts.defaultBranch;
      return known && !repo.deletedBranches?.has(name) ? refNode(world, repo, name) : null;
    },
    object: (args: Args) => {
      const commit = repo.commits.get(String(args.oid));
      return commit ? commitNode(world, repo, commit) : null;
    },
    pullRequest: (args: Args) => {
      const pull = repo.pulls.get(Number(args.number));
      if (!pull)
        throw new GraphQLError(
          `Could not resolve to a PullRequest with the number of ${String(args.number)}.`,
          { extensions: { type: "NOT_FOUND" } },
        );
      return pullNode(world, repo, pull);
    },
    pullRequests: (args: Args) => {
      const base = typeof args.baseRefName === "string" ? args.baseRefName : null;
      // Each base's list is newest-updated first; so is every base's together.
      let pulls: SimPull[] = base
        ? (repo.pullsByBase.get(base) ?? [])
        : [...repo.pullsByBase.values()].flat().sort(byUpdatedDesc);
      const states = Array.isArray(args.states)
        ? (args.states as string[])
        : typeof args.states === "string"
          ? [args.states]
          : null;
      if (states) pulls = pulls.filter((p) => states.includes(p.change.state.toUpperCase()));
      const order = args.orderBy as { field?: string; direction?: string } | undefined;
      // The index is newest-updated first; GitHub's default order is oldest-created first.
      if (!order) pulls = [...pulls].sort((a, b) => a.change.number - b.change.number);
      else if (order.direction === "ASC") pulls = [...pulls].reverse();
      return connection(pulls, args, (p) => pullNode(world, repo, p));
    },
  };
}

function byUpdatedDesc(a: SimPull, b: SimPull): number {
  return a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : b.change.number - a.change.number;
}

function refNode(world: World, repo: SimRepository, branch: string): Obj {
  const sha = branchHead(repo, branch);
  const commit = repo.commits.get(sha) ?? syntheticCommit(sha, world.snapshot.collectedAt);
  const facts = refFacts(world, repo, branch);
  return {
    name: branch,
    prefix: "refs/heads/",
    branchProtectionRule: facts.branchProtectionRule,
    rules: facts.rules,
    target: { ...commitNode(world, repo, commit, branch), file: facts.file },
  };
}

function syntheticCommit(sha: string, at: string): SimCommit {
  return {
    sha,
    message: "Initial commit",
    authorLogin: null,
    authorName: "unknown",
    committerLogin: null,
    authoredAt: at,
    committedAt: at,
    parents: [],
    pullNumbers: [],
  };
}

function commitNode(world: World, repo: SimRepository, commit: SimCommit, branch: string | null = null): Obj {
  const url = `${world.webUrl}/${repo.facts.fullName}/commit/${commit.sha}`;
  return {
    __typename: "Commit",
    oid: commit.sha,
    abbreviatedOid: commit.sha.slice(0, 7),
    message: commit.message,
    messageHeadline: commit.message.split("\n")[0] ?? "",
    messageBody: commit.message.split("\n").slice(2).join("\n"),
    committedDate: commit.committedAt,
    authoredDate: commit.authoredAt,
    url,
    commitUrl: url,
    author: gitActor(commit.authorLogin, commit.authorName, commit.authoredAt, commit.authorEmail),
    committer: gitActor(commit.committerLogin, commit.committerLogin ?? "GitHub", commit.committedAt),
    // The git author first, then every co-author of the message, linked to its account when known.
    authors: (args: Args) =>
      connection(
        [
          gitActor(commit.authorLogin, commit.authorName, commit.authoredAt, commit.authorEmail),
          ...(commit.coAuthors ?? []).map((c) => gitActor(c.login, c.name, commit.authoredAt, c.email)),
        ],
        args,
        (a) => a,
      ),
    parents: (args: Args) =>
      connection(commit.parents, args, (sha) => ({
        __typename: "Commit",
        oid: sha,
        url: `${world.webUrl}/${repo.facts.fullName}/commit/${sha}`,
      })),
    associatedPullRequests: (args: Args) =>
      connection(
        commit.pullNumbers.flatMap((n) => repo.pulls.get(n) ?? []),
        args,
        (p) => pullNode(world, repo, p),
      ),
    statusCheckRollup: () =>
      rollupNode(world, repo, commit.sha, () => commitNode(world, repo, commit, branch)),
    history: (args: Args) => {
      const all = branch ? (repo.branchCommits.get(branch) ?? []) : [];
      const from = all.findIndex((c) => c.sha === commit.sha);
      const since = typeof args.since === "string" ? args.since : null;
      const until = typeof args.until === "string" ? args.until : null;
      const commits = all
        .slice(Math.max(0, from))
        .filter((c) => (!since || c.committedAt >= since) && (!until || c.committedAt <= until));
      return connection(commits, args, (c) => commitNode(world, repo, c, branch));
    },
  };
}

/** The checks and statuses of commit `sha`; `commit` is the commit they are attached to. */
function rollupNode(world: World, repo: SimRepository, sha: string, commit: () => Obj): Obj | null {
  const runs = repo.checkRuns.filter((c) => c.headSha === sha);
  const statuses = repo.statuses.filter((s) => s.sha === sha);
  if (runs.length + statuses.length === 0) return null;
  const contexts: Obj[] = [
    ...runs.map((run) => ({
      __typename: "CheckRun",
      name: run.name,
      status: run.status.toUpperCase(),
      conclusion: run.conclusion?.toUpperCase() ?? null,
      detailsUrl: run.detailsUrl,
      completedAt: run.completedAt,
      startedAt: run.startedAt,
      databaseId: run.id,
      checkSuite: { app: suiteApp(world, run) },
    })),
    ...statuses.map((s) => ({
      __typename: "StatusContext",
      context: s.context,
      state: s.state.toUpperCase(),
      targetUrl: s.targetUrl,
      createdAt: s.createdAt,
      description: s.description,
      creator: actor(s.reportedBy === undefined ? s.creator : s.reportedBy),
    })),
  ];
  const failing = contexts.some((c) =>
    ["FAILURE", "ERROR", "TIMED_OUT", "CANCELLED", "ACTION_REQUIRED", "STALE"].includes(
      String(c.conclusion ?? c.state),
    ),
  );
  const pending = contexts.some((c) =>
    c.status !== undefined ? c.status !== "COMPLETED" : c.state === "PENDING",
  );
  return {
    state: failing ? "FAILURE" : pending ? "PENDING" : "SUCCESS",
    commit,
    contexts: (args: Args) => connection(contexts, args, (c) => c),
  };
}

function suiteApp(world: World, run: SimCheckRun): Obj | null {
  // A run the bot wrote is its app's, with the same id REST gives it (checkRunJson's app.id): the
  // app recognises its own run by it, as on GitHub.
  const app =
    run.suiteApp === undefined ? { id: userId(world, `app:${run.app}`), slug: run.app } : run.suiteApp;
  if (!app) return null;
  return { databaseId: app.id, slug: app.slug, name: app.slug };
}

function pullNode(world: World, repo: SimRepository, pull: SimPull): Obj {
  const c: ChangeRequest = pull.change;
  const commitOf = (sha: string) => repo.commits.get(sha) ?? syntheticCommit(sha, c.createdAt);
  // Exactly the commits the snapshot holds: a long pull request is a world with many commits.
  const commits = c.commits.map((commit) => ({ commit: commitNode(world, repo, commitOf(commit.sha)) }));
  const review = (r: ChangeRequest["reviews"][number]) => ({
    __typename: "PullRequestReview",
    author: actor(r.reviewer, r.reviewerKind),
    // GitHub always says; a snapshot that does not know is served as "could not push".
    authorCanPushToRepository: r.authorCanPush ?? false,
    state: r.state.toUpperCase(),
    submittedAt: r.state === "pending" ? null : r.submittedAt,
    createdAt: r.submittedAt,
    commit: r.commitSha ? { oid: r.commitSha } : null,
  });
  const timeline = [
    ...c.commits.map((commit) => ({
      at: commit.committedAt,
      node: { __typename: "PullRequestCommit", commit: commitNode(world, repo, commitOf(commit.sha)) },
    })),
    ...c.pushes
      .filter((p) => p.forced)
      .map((p) => ({
        at: p.at,
        node: {
          __typename: "HeadRefForcePushedEvent",
          actor: actor(p.actor),
          createdAt: p.at,
          afterCommit: { oid: p.headSha, url: "" },
          beforeCommit: null,
        },
      })),
    // A submitted review is a timeline item; a pending one is a draft only its author sees.
    ...c.reviews.filter((r) => r.state !== "pending").map((r) => ({ at: r.submittedAt, node: review(r) })),
    // A merge by the merge queue: the pull request went into the queue just before it merged.
    ...(c.mergedByQueue && c.mergedAt
      ? [
          {
            at: new Date(Date.parse(c.mergedAt) - 60_000).toISOString(),
            node: {
              __typename: "AddedToMergeQueueEvent",
              createdAt: new Date(Date.parse(c.mergedAt) - 60_000).toISOString(),
            },
          },
        ]
      : []),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return {
    __typename: "PullRequest",
    id: Buffer.from(`PullRequest:${pull.id}`).toString("base64"),
    databaseId: pull.id,
    number: c.number,
    title: c.title,
    url: c.url,
    author: actor(c.author, c.authorKind),
    state: c.state.toUpperCase(),
    merged: c.state === "merged",
    closed: c.state !== "open",
    isDraft: c.draft,
    baseRefName: c.baseBranch,
    headRefName: c.headBranch,
    headRefOid: c.headSha,
    // The base branch as it is now (null once deleted, as GitHub answers).
    baseRef: () => (repo.deletedBranches?.has(c.baseBranch) ? null : refNode(world, repo, c.baseBranch)),
    createdAt: c.createdAt,
    updatedAt: pull.updatedAt,
    mergedAt: c.mergedAt,
    closedAt: c.state === "open" ? null : (c.mergedAt ?? pull.updatedAt),
    mergedBy: actor(c.mergedBy),
    mergeCommit: c.mergeCommitSha ? commitNode(world, repo, commitOf(c.mergeCommitSha)) : null,
    commits: (args: Args) => connection(commits, args, (n) => n),
    // The head commit's checks (GitHub: "Check and Status rollup information for the PR's head ref").
    statusCheckRollup: () =>
      rollupNode(world, repo, c.headSha, () => commitNode(world, repo, commitOf(c.headSha))),
    reviews: (args: Args) => connection(c.reviews, args, review),
    timelineItems: (args: Args) => {
      const types = Array.isArray(args.itemTypes) ? (args.itemTypes as string[]) : null;
      const wanted = (name: string) =>
        !types || types.includes(name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase());
      return connection(
        timeline.filter((t) => wanted(t.node.__typename)),
        args,
        (t) => t.node,
      );
    },
  };
}
