/**
 * Worlds the simulated GitHub serves for the merged pull request pages: the sample organization,
 * and one repository of long and unusual pull requests (more than 100 commits, reviews, timeline
 * items and check contexts on the head and on the merge commit, force pushes, a merge queue, no
 * checks at all, pending reviews, deleted accounts, co-authors) spread over more than one page.
 */
import { startSimulatedGitHub, type SimulatedGitHub } from "../../../src/sim/github/server.js";
import { createWorld } from "../../../src/sim/github/world.js";
import type { ChangeRequest, Check, Commit, Push, Review, Snapshot } from "../../../src/model/index.js";
import { createGitHubClient, createGitHubHost } from "../../../src/providers/github/index.js";
import type { MergedPullRequestNode } from "../../../src/providers/github/merged-pages.js";
import type { PullRequestNode } from "../../../src/providers/github/schema.js";
import { generateSampleOrganization } from "../../../src/sample/generate.js";
import { makeChangeRequest, makeRepository, makeSnapshot } from "../../fixtures/build.js";

const sha = (prefix: string, n: number, i: number) =>
  `${prefix}${n.toString(16).padStart(4, "0")}${i.toString(16).padStart(35, "0")}`.slice(0, 40);
const minute = (i: number) => new Date(Date.parse("2026-10-01T09:00:00Z") + i * 60_000).toISOString();

function commits(n: number, count: number, coAuthored: number | null = null): Commit[] {
  return Array.from({ length: count }, (_, i) => ({
    sha: sha("c", n, i),
    authorLogin: i % 3 === 2 ? null : "alice",
    authorName: "Alice Martin",
    authorEmail: i % 3 === 2 ? "alice@laptop.local" : "alice@acme.example",
    authorKind: i % 3 === 2 ? ("unknown" as const) : ("user" as const),
    committerLogin: i % 4 === 3 ? "web-flow" : "alice",
    committerKind: "user" as const,
    coAuthors:
      i === coAuthored
        ? [
            {
              login: "bob",
              name: "Bob Stone",
              email: "5129+bob@users.noreply.github.com",
              kind: "user" as const,
              source: "trailer" as const,
            },
            {
              login: "carol",
              name: "Carol King",
              email: "carol@acme.example",
              kind: "user" as const,
              source: "host" as const,
            },
          ]
        : [],
    authoredAt: minute(i),
    committedAt: minute(i),
  }));
}

function reviews(count: number, head: string, options: { pending?: boolean } = {}): Review[] {
  const reviewer = (i: number): Pick<Review, "reviewer" | "reviewerKind" | "authorCanPush"> => {
    if (i === 0) return { reviewer: "renovate[bot]", reviewerKind: "bot", authorCanPush: true };
    if (i === 1) return { reviewer: "old-import", reviewerKind: "unknown", authorCanPush: false };
    if (i === 2) return { reviewer: "ghost", reviewerKind: "unknown", authorCanPush: false };
    if (i === 3) return { reviewer: "drive-by-dana", reviewerKind: "user", authorCanPush: false };
    return { reviewer: i % 2 === 0 ? "bob" : "carol", reviewerKind: "user", authorCanPush: true };
  };
  const list: Review[] = Array.from({ length: count }, (_, i) => ({
    ...reviewer(i),
    state:
      i === count - 1 ? ("approved" as const) : i % 5 === 4 ? "changes_requested" : ("commented" as const),
    submittedAt: minute(400 + i),
    commitSha: i % 7 === 6 ? null : head,
  }));
  if (options.pending)
    list.push({
      reviewer: "erin",
      reviewerKind: "user",
      authorCanPush: true,
      state: "pending",
      submittedAt: minute(399),
      commitSha: head,
    });
  return list;
}

function checks(head: string, merge: string | null, onHead: number, onMerge: number): Check[] {
  const run = (
    name: string,
    on: "head" | "merge",
    at: number,
    conclusion: Check["conclusion"] = "success",
  ): Check => ({
    name,
    kind: "check-run",
    conclusion,
    on,
    sha: on === "head" ? head : (merge ?? head),
    url: `https://github.com/acme/api/actions/runs/${at}`,
    completedAt: conclusion === "pending" ? null : minute(at),
    appId: 15368,
    appSlug: "github-actions",
    reportedBy: null,
  });
  return [
    ...Array.from({ length: onHead }, (_, i) =>
      run(`job-${String(i).padStart(3, "0")}`, "head", 600 + i, i % 9 === 8 ? "failure" : "success"),
    ),
    ...(onHead > 0
      ? [
          { ...run("orphan", "head", 599), appId: null, appSlug: null },
          {
            name: "ci/jenkins",
            kind: "status" as const,
            conclusion: "success" as const,
            on: "head" as const,
            sha: head,
            url: null,
            completedAt: minute(590),
            appId: null,
            appSlug: null,
            reportedBy: "jenkins",
          },
        ]
      : []),
    ...(merge
      ? Array.from({ length: onMerge }, (_, i) =>
          run(`post-merge-${i}`, "merge", 900 + i, i === onMerge - 1 ? "pending" : "success"),
        )
      : []),
  ];
}

function pull(
  n: number,
  shape: {
    commits?: number;
    reviews?: number;
    headChecks?: number;
    mergeChecks?: number;
    forcePushes?: number;
    queue?: boolean;
    pending?: boolean;
    author?: string;
    authorKind?: ChangeRequest["authorKind"];
    coAuthored?: number;
    base?: string;
  },
): ChangeRequest {
  const list = commits(n, shape.commits ?? 1, shape.coAuthored ?? null);
  const head = list.at(-1)!.sha;
  const merge = sha("e", n, 0);
  const pushes: Push[] = [
    ...list.map((c) => ({
      at: c.committedAt,
      actor: c.committerLogin === "web-flow" ? c.authorLogin : "alice",
      headSha: c.sha,
      forced: false,
    })),
    ...Array.from({ length: shape.forcePushes ?? 0 }, (_, i) => ({
      at: minute(i + 0.5),
      actor: i % 2 === 0 ? "alice" : "mallory",
      headSha: sha("f", n, i),
      forced: true,
    })),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return makeChangeRequest({
    number: n,
    title: `Change ${n}`,
    url: `https://github.com/acme/api/pull/${n}`,
    author: shape.author ?? "alice",
    authorKind: shape.authorKind ?? "user",
    baseBranch: shape.base ?? "main",
    headBranch: `feature/${n}`,
    headSha: head,
    mergeCommitSha: merge,
    mergedAt: minute(2000 + n),
    mergedByQueue: shape.queue ?? false,
    commits: list,
    pushes,
    reviews: reviews(shape.reviews ?? 1, head, { pending: shape.pending ?? false }),
    checks: checks(head, merge, shape.headChecks ?? 1, shape.mergeChecks ?? 0),
  });
}

/** The long and unusual pull requests, with short ones enough for three pages of merged pulls. */
export function unusualWorld(): Snapshot {
  const unusual = [
    pull(1, { commits: 150, reviews: 120, headChecks: 110, mergeChecks: 3, forcePushes: 2, coAuthored: 3 }),
    pull(2, { commits: 3, reviews: 2, headChecks: 2, mergeChecks: 130 }),
    pull(3, { commits: 60, reviews: 50, headChecks: 1 }),
    pull(4, { commits: 2, reviews: 1, headChecks: 0, mergeChecks: 0 }),
    pull(5, { commits: 2, reviews: 1, headChecks: 0, mergeChecks: 2 }),
    pull(6, { commits: 4, reviews: 3, queue: true, forcePushes: 1 }),
    pull(7, { commits: 1, reviews: 2, pending: true, author: "ghost", authorKind: "unknown" }),
    pull(8, { commits: 5, reviews: 101, headChecks: 3 }),
    pull(9, { commits: 101, reviews: 0, headChecks: 3, base: "release" }),
    pull(10, { commits: 2, reviews: 2, headChecks: 100, mergeChecks: 100, coAuthored: 1 }),
    pull(11, { commits: 40, reviews: 40, forcePushes: 30 }),
  ];
  const short = Array.from({ length: 120 }, (_, i) =>
    pull(100 + i, {
      commits: 1 + (i % 4),
      reviews: 1 + (i % 3),
      headChecks: i % 11 === 0 ? 0 : 2,
      mergeChecks: i % 2,
      coAuthored: i % 13 === 0 ? 0 : undefined,
    }),
  );
  return makeSnapshot({
    repositories: [makeRepository({ productionBranches: ["main", "release"] })],
    changeRequests: [...unusual, ...short],
  });
}

export function sampleWorld(): Snapshot {
  return generateSampleOrganization({ repositories: 4, pullRequestsPerRepository: 40, seed: 7 }).snapshot;
}

export const WORLDS = { sample: sampleWorld, unusual: unusualWorld } as const;

export const WIDE_PERIOD = {
  since: new Date("2000-01-01T00:00:00Z"),
  until: new Date("2100-01-01T00:00:00Z"),
};

/** Every merged change of every repository of `snapshot`, as the audit lists them, with the sim's figures. */
export async function collectMerged(snapshot: Snapshot): Promise<{
  changes: ChangeRequest[];
  graphqlRequests: number;
  graphqlPoints: number;
  sim: SimulatedGitHub;
}> {
  const world = createWorld(snapshot);
  const sim = await startSimulatedGitHub({ world, seed: 5, primaryLimit: 1e9 });
  try {
    const octokit = createGitHubClient({ token: "sim", baseUrl: sim.url, throttle: false });
    const host = createGitHubHost({ octokit, baseUrl: sim.url });
    const changes: ChangeRequest[] = [];
    for (const repository of snapshot.repositories) {
      for await (const change of host.listMergedChangeRequests(repository.fullName, () => true, WIDE_PERIOD))
        changes.push(change);
    }
    return {
      changes,
      graphqlRequests: sim.stats.byRoute["POST /graphql"] ?? 0,
      graphqlPoints: sim.stats.graphqlPoints,
      sim,
    };
  } finally {
    await sim.close();
  }
}

/** `count` merged pull requests of 40 commits and 70 reviews each (110 timeline items) and no checks. */
export function manyLongTimelines(count: number): Snapshot {
  return makeSnapshot({
    repositories: [makeRepository()],
    changeRequests: Array.from({ length: count }, (_, i) =>
      pull(500 + i, { commits: 40, reviews: 70, headChecks: 0, mergeChecks: 0 }),
    ),
  });
}

/** The same pull request as a merged page asks it: the head's rollup, the reviews in the timeline. */
export function asMergedPageNode(pr: PullRequestNode): MergedPullRequestNode {
  const { headCommit, reviews, timelineItems, ...rest } = pr;
  const head = headCommit.nodes[0]?.commit;
  return {
    ...rest,
    statusCheckRollup: head?.statusCheckRollup
      ? { commit: { oid: head.oid }, contexts: head.statusCheckRollup.contexts }
      : null,
    timelineItems: {
      pageInfo: timelineItems.pageInfo,
      nodes: [
        ...timelineItems.nodes,
        ...reviews.nodes.map(({ commit, ...review }) => ({
          __typename: "PullRequestReview" as const,
          ...review,
          reviewCommit: commit,
        })),
      ],
    },
  };
}

/** `count` merged pull requests of 120 commits and 120 check runs on the head each. */
export function manyLongCommitsAndChecks(count: number): Snapshot {
  return makeSnapshot({
    repositories: [makeRepository()],
    changeRequests: Array.from({ length: count }, (_, i) =>
      pull(700 + i, { commits: 120, reviews: 1, headChecks: 120, mergeChecks: 0 }),
    ),
  });
}
