/**
 * The first merged pull requests of each repository come with its repository batch: a listing they
 * hold whole (no more, or one updated before the period) asks GitHub for no page of its own, and
 * gives exactly the change requests its own page would have given; any other listing reads its
 * pages as before. Against the simulated GitHub, which answers with GitHub's schema and cost.
 */
import { parse, validate } from "graphql";
import { afterEach, describe, expect, it } from "vitest";
import { period, serveSample, type ServedSample } from "../../src/sim/harness.js";
import { githubSchema, queryCost } from "../../src/sim/github/graphql.js";
import { startSimulatedGitHub } from "../../src/sim/github/server.js";
import { createWorld } from "../../src/sim/github/world.js";
import type { ChangeRequest, Snapshot } from "../../src/model/index.js";
import { collectAudit } from "../../src/pipeline/audit.js";
import { policyOf } from "../../src/pipeline/policies.js";
import { createGitHubClient, createGitHubHost } from "../../src/providers/github/index.js";
import {
  MERGED_FIRST_PAGE,
  REPOSITORIES_PER_QUERY,
  repositoryFactsQuery,
} from "../../src/providers/github/repository-queries.js";
import {
  manyLongCommitsAndChecks,
  manyLongTimelines,
  unusualWorld,
  WIDE_PERIOD,
} from "../providers/github/pull-worlds.js";

const K = MERGED_FIRST_PAGE;
const DAY = 86_400_000;

/** A host over `url` that records which repositories asked for a page of merged pull requests. */
function recordingHost(url: string) {
  const octokit = createGitHubClient({ token: "sim", baseUrl: url, throttle: false });
  const ownPages: string[] = [];
  /** For each batch query, how many repositories' first merged pull requests it asked. */
  const batches: Array<{ repositories: number; firstPages: number }> = [];
  octokit.hook.before("request", (options) => {
    const { query, variables } = options as { query?: unknown; variables?: { name?: unknown } };
    const name = variables?.name;
    if (typeof query === "string" && /^query MergedPullRequests\b/.test(query) && typeof name === "string")
      ownPages.push(name);
    if (typeof query === "string" && /^query RepositoryFacts\b/.test(query))
      batches.push({
        repositories: query.match(/\br\d+: repository\(/g)?.length ?? 0,
        firstPages: query.match(/\bm\d+: repository\(/g)?.length ?? 0,
      });
  });
  return { host: createGitHubHost({ octokit, baseUrl: url }), ownPages, batches };
}

const served: ServedSample[] = [];
afterEach(async () => {
  await Promise.all(served.splice(0).map((s) => s.sim.close()));
});

/**
 * Repositories around the first page's size: 0, K and K+1 merges in the period and none before;
 * K-1 and K in the period with older history (so the K-th is, or is not, updated before the
 * period); and one of several pages.
 */
const COUNTS = [0, K, K + 1, 2 * K, 2 * K, 130];
const OLDER = new Map([
  [3, K + 1],
  [4, K],
]);

function withOlderHistory(snapshot: Snapshot): Snapshot {
  const since = Date.parse(snapshot.period?.since ?? "");
  const shifted = new Set<string>();
  snapshot.repositories.forEach((repository, r) => {
    const older = OLDER.get(r);
    if (older === undefined) return;
    const changes = snapshot.changeRequests
      .filter((c) => c.repository === repository.fullName)
      .sort((a, b) => Date.parse(a.mergedAt ?? "") - Date.parse(b.mergedAt ?? ""));
    for (const c of changes.slice(0, older)) shifted.add(`${c.repository}#${c.number}`);
  });
  let i = 0;
  return {
    ...snapshot,
    changeRequests: snapshot.changeRequests.map((c) => {
      if (!shifted.has(`${c.repository}#${c.number}`)) return c;
      // Merged (and so last updated) a few days before the period, oldest first.
      const at = new Date(since - (30 - i++) * DAY).toISOString();
      return { ...c, createdAt: new Date(Date.parse(at) - 3_600_000).toISOString(), mergedAt: at };
    }),
  };
}

async function auditSample(firstPages: boolean) {
  const sample = await serveSample(
    { repositories: COUNTS.length, pullRequestCounts: COUNTS },
    {},
    withOlderHistory,
  );
  served.push(sample);
  const { host, ownPages } = recordingHost(sample.sim.url);
  const { since, until } = period(sample.sample);
  const snapshot = await collectAudit({
    // Without the batch, no first page is read ahead: each listing reads its own.
    host: firstPages ? host : { ...host, prefetchRepositories: undefined },
    organization: sample.sample.snapshot.organization?.login ?? "acme-demo",
    since,
    until,
    now: () => sample.sample.at,
  });
  return { snapshot, ownPages, names: sample.served.repositories.map((r) => r.fullName) };
}

describe("the first merged pull requests from the repository batch, through the audit", () => {
  it("collect the same changes and direct pushes, and only listings that go on ask for pages", async () => {
    const alone = await auditSample(false);
    const batched = await auditSample(true);

    expect(batched.snapshot.changeRequests.length).toBeGreaterThan(130);
    expect(batched.snapshot.changeRequests).toEqual(alone.snapshot.changeRequests);
    expect(batched.snapshot.directPushes).toEqual(alone.snapshot.directPushes);
    expect(batched.snapshot.repositories).toEqual(alone.snapshot.repositories);
    const perRepository = (names: string[]) =>
      Object.fromEntries(
        alone.names.map((full) => [full, names.filter((n) => full.endsWith(`/${n}`)).length]),
      );
    const [none, exactlyK, kPlusOne, kthOlder, kthInPeriod, pages] = alone.names;
    // Every listing reads its own first page without the batch.
    expect(Object.values(perRepository(alone.ownPages)).every((n) => n >= 1)).toBe(true);
    expect(perRepository(batched.ownPages)).toEqual({
      ...Object.fromEntries(alone.names.map((n) => [n, 0])),
      [none!]: 0,
      [exactlyK!]: 0,
      [kthOlder!]: 0,
      // More than the first page: read from the front, as without the batch.
      [kPlusOne!]: 1,
      [kthInPeriod!]: 1,
      // Two pages, then the front again for what was updated meanwhile.
      [pages!]: 3,
    });
    expect(perRepository(alone.ownPages)[pages!]).toBe(3);
  }, 120_000);
});

describe("whether a batch asks every repository's first merged pull requests", () => {
  async function auditOf(counts: number[]) {
    const sample = await serveSample({ repositories: counts.length, pullRequestCounts: counts });
    served.push(sample);
    const { host, ownPages, batches } = recordingHost(sample.sim.url);
    const { since, until } = period(sample.sample);
    // One repository at a time, so the second batch is read once the first's listings are done.
    await collectAudit({
      host,
      organization: sample.sample.snapshot.organization?.login ?? "acme-demo",
      since,
      until,
      now: () => sample.sample.at,
      concurrency: 1,
    });
    return { ownPages, batches };
  }

  it("asks them of every repository while they hold listings whole", async () => {
    // 60 repositories of 0 to 5 merges and the findings repository: two batches.
    const { ownPages, batches } = await auditOf(Array.from({ length: 60 }, (_, i) => i % 6));

    expect(batches).toEqual([
      { repositories: 50, firstPages: 50 },
      { repositories: 11, firstPages: 11 },
    ]);
    expect(ownPages).toEqual([]);
  }, 120_000);

  it("asks only the first repository's (free in GitHub's rounding) once they do not pay", async () => {
    // Every repository merges more than the first page holds: none of the first 50 is whole.
    const { ownPages, batches } = await auditOf(Array.from({ length: 60 }, () => K + 2));

    expect(batches).toEqual([
      { repositories: 50, firstPages: 50 },
      { repositories: 11, firstPages: 1 },
    ]);
    // Every listing but the findings repository's (no merges: its first page was whole) reads its own.
    expect(new Set(ownPages).size).toBe(60);
    expect(queryCost(parse(repositoryFactsQuery(REPOSITORIES_PER_QUERY, 1)), {})).toBe(3);
  }, 120_000);
});

/** Every merged change of `snapshot`'s repositories, with or without their batch read first. */
async function listMerged(snapshot: Snapshot, firstPages: boolean, times = 1) {
  const sim = await startSimulatedGitHub({ world: createWorld(snapshot), seed: 5, primaryLimit: 1e9 });
  try {
    const { host, ownPages } = recordingHost(sim.url);
    const names = snapshot.repositories.map((r) => r.fullName);
    if (firstPages) await host.prefetchRepositories?.(names, policyOf([]), WIDE_PERIOD);
    const changes: ChangeRequest[] = [];
    for (let time = 0; time < times; time++)
      for (const name of names)
        for await (const change of host.listMergedChangeRequests(name, () => true, WIDE_PERIOD))
          changes.push(change);
    return { changes, ownPages };
  } finally {
    await sim.close();
  }
}

function firstK(snapshot: Snapshot): Snapshot {
  return { ...snapshot, changeRequests: snapshot.changeRequests.slice(0, K) };
}

describe("a listing the batch's first page holds whole", () => {
  const worlds = {
    // More than 100 commits, reviews, timeline items and checks, force pushes, a merge queue.
    unusual: () => firstK(unusualWorld()),
    "long timelines": () => manyLongTimelines(K),
    "long commits and checks": () => manyLongCommitsAndChecks(K),
  };
  for (const [name, world] of Object.entries(worlds)) {
    it(`gives the change requests its own page gives, connections completed alike (${name})`, async () => {
      const snapshot = world();
      const own = await listMerged(snapshot, false);
      const batched = await listMerged(snapshot, true);

      expect(own.changes).toHaveLength(K);
      expect(batched.changes).toEqual(own.changes);
      expect(own.ownPages).toHaveLength(1);
      expect(batched.ownPages).toEqual([]);
    });
  }

  it("is taken once: listing the repository again reads its own page", async () => {
    const snapshot = manyLongTimelines(2);
    const { changes, ownPages } = await listMerged(snapshot, true, 2);

    expect(changes.slice(2)).toEqual(changes.slice(0, 2));
    expect(ownPages).toHaveLength(1);
  });
});

describe("the batch query with the first merged pull requests", () => {
  it("asks only what GitHub's published schema has", () => {
    for (const firstPages of [3, 1, 0])
      expect(
        validate(githubSchema(), parse(repositoryFactsQuery(3, firstPages))).map((e) => e.message),
      ).toEqual([]);
  });

  it("costs the facts' 3 points and 50 x (1 + 4 x K) requests' worth more, as GitHub counts", () => {
    const facts = queryCost(parse(repositoryFactsQuery(REPOSITORIES_PER_QUERY)), {});
    // The facts: six connections per repository, 300 requests. The pull requests: one connection
    // per repository and four nested in each of its K pull requests.
    expect(facts).toBe(Math.round((300 + REPOSITORIES_PER_QUERY * (1 + 4 * K)) / 100));
    expect(facts).toBe(16);
  });
});
