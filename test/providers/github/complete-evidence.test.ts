/**
 * Every connection of a pull request is read to its end, through the simulated GitHub (GitHub's
 * published schema, its first/last/after paging, at most 100 items a page): more than 100 commits,
 * reviews, timeline items and check contexts, a commit with several authors, and every kind of
 * actor. Where GitHub refuses a page, the change request says which evidence is partial.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../../src/sim/github/server.js";
import { createWorld } from "../../../src/sim/github/world.js";
import type { ChangeRequest, Check, Commit, Push, Review } from "../../../src/model/index.js";
import { createGitHubClient, createGitHubHost } from "../../../src/providers/github/index.js";
import { makeChangeRequest, makeRepository, makeSnapshot } from "../../fixtures/build.js";
import { fixture, github, graphqlReply, useHttpMock } from "./mock.js";
import type { PullRequestNode } from "../../../src/providers/github/schema.js";

const started: SimulatedGitHub[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
});

const sha = (prefix: string, i: number) => `${prefix}${i.toString(16).padStart(39, "0")}`.slice(0, 40);
const minute = (i: number) => new Date(Date.parse("2026-10-01T09:00:00Z") + i * 60_000).toISOString();

/** The commit with four authors: alice, then bob and Pat by trailers, carol as GitHub lists her. */
const CO_AUTHORED = 3;

function commits(count: number): Commit[] {
  return Array.from({ length: count }, (_, i) => ({
    sha: sha("c", i),
    authorLogin: "alice",
    authorName: "Alice Martin",
    authorEmail: "alice@acme.example",
    authorKind: "user" as const,
    committerLogin: "alice",
    committerKind: "user" as const,
    coAuthors:
      i === CO_AUTHORED
        ? [
            {
              // A suggestion committed in the web UI credits its reviewer by no-reply address.
              login: "bob",
              name: "Bob Stone",
              email: "5129+bob@users.noreply.github.com",
              kind: "user" as const,
              source: "trailer" as const,
            },
            {
              login: null,
              name: "Pat Doe",
              email: "pat@contractor.example",
              kind: "unknown" as const,
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

function reviews(count: number, head: string): Review[] {
  const reviewer = (i: number): Pick<Review, "reviewer" | "reviewerKind" | "authorCanPush"> => {
    if (i === 0) return { reviewer: "renovate[bot]", reviewerKind: "bot", authorCanPush: true };
    if (i === 1) return { reviewer: "old-import", reviewerKind: "unknown", authorCanPush: false };
    if (i === 2) return { reviewer: "ghost", reviewerKind: "unknown", authorCanPush: false };
    if (i === 3) return { reviewer: "drive-by-dana", reviewerKind: "user", authorCanPush: false };
    return { reviewer: i % 2 === 0 ? "bob" : "carol", reviewerKind: "user", authorCanPush: true };
  };
  return Array.from({ length: count }, (_, i) => ({
    ...reviewer(i),
    state: i === count - 1 ? ("approved" as const) : ("commented" as const),
    submittedAt: minute(200 + i),
    commitSha: head,
  }));
}

function checks(head: string, merge: string, runs: number): Check[] {
  const run = (name: string, on: "head" | "merge", at: number): Check => ({
    name,
    kind: "check-run",
    conclusion: "success",
    on,
    sha: on === "head" ? head : merge,
    url: `https://github.com/acme/api/actions/runs/${at}`,
    completedAt: minute(at),
    appId: 15368,
    appSlug: "github-actions",
    reportedBy: null,
  });
  const status = (name: string, reportedBy: string | null, at: number): Check => ({
    name,
    kind: "status",
    conclusion: "success",
    on: "head",
    sha: head,
    url: null,
    completedAt: minute(at),
    appId: null,
    appSlug: null,
    reportedBy,
  });
  return [
    ...Array.from({ length: runs }, (_, i) => run(`job-${String(i).padStart(3, "0")}`, "head", 400 + i)),
    // A run whose check suite shows no app.
    { ...run("orphan", "head", 399), appId: null, appSlug: null },
    status("ci/jenkins", "jenkins", 390),
    status("ci/legacy", null, 391),
    run("deploy", "merge", 600),
  ];
}

function longPullRequest(): ChangeRequest {
  const list = commits(150);
  const head = list.at(-1)!.sha;
  const merge = "e".repeat(40);
  const pushes: Push[] = [
    ...list.map((c) => ({ at: c.committedAt, actor: "alice", headSha: c.sha, forced: false })),
    { at: minute(10.5), actor: "alice", headSha: sha("f", 1), forced: true },
    { at: minute(20.5), actor: "mallory", headSha: sha("f", 2), forced: true },
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return makeChangeRequest({
    number: 77,
    url: "https://github.com/acme/api/pull/77",
    author: "alice",
    authorKind: "user",
    headSha: head,
    mergeCommitSha: merge,
    mergedAt: "2026-10-02T15:00:00Z",
    commits: list,
    pushes,
    reviews: reviews(120, head),
    checks: checks(head, merge, 110),
  });
}

async function serve(changeRequests: ChangeRequest[]) {
  const world = createWorld(makeSnapshot({ repositories: [makeRepository()], changeRequests }));
  const sim = await startSimulatedGitHub({ world, seed: 3 });
  started.push(sim);
  const octokit = createGitHubClient({ token: "sim", baseUrl: sim.url, throttle: false });
  return { sim, host: createGitHubHost({ octokit, baseUrl: sim.url }) };
}

/** The served change request without the one fact the provider derives (from rules, not read here). */
function asServed(collected: ChangeRequest, served: ChangeRequest): ChangeRequest {
  return { ...collected, bypassedProtection: served.bypassedProtection };
}

describe("a pull request with more than 100 items in every connection", () => {
  it("reads every commit, review, timeline item, check context and co-author, in GitHub's order", async () => {
    const served = longPullRequest();
    expect([
      served.commits.length,
      served.reviews.length,
      served.pushes.length,
      served.checks.length,
    ]).toEqual([150, 120, 152, 114]);
    const { host } = await serve([served]);

    const collected = await host.collectChangeRequest("acme/api", 77);

    expect(collected.commits).toHaveLength(150);
    expect(collected.reviews).toHaveLength(120);
    expect(collected.pushes).toHaveLength(152);
    expect(collected.checks).toHaveLength(114);
    expect(collected.commits[CO_AUTHORED]?.coAuthors.map((c) => [c.login, c.kind, c.source])).toEqual([
      ["bob", "user", "trailer"],
      [null, "unknown", "trailer"],
      ["carol", "user", "host"],
    ]);
    expect(asServed(collected, served)).toEqual(served);
    expect([collected.commitsTruncated, collected.truncated]).toEqual([false, []]);
  });

  it("asks again only for the long pull request's connections, once per connection page", async () => {
    const short = makeChangeRequest({ number: 12 });
    const { sim, host } = await serve([longPullRequest(), short]);

    await host.collectChangeRequest("acme/api", 12);
    const afterShort = sim.stats.byRoute["POST /graphql"];
    await host.collectChangeRequest("acme/api", 77);
    const afterLong = sim.stats.byRoute["POST /graphql"];

    // The short one: one query. The long one: its query, then one more page each of commits,
    // reviews, timeline and head checks, and one batch of co-authored commits' authors.
    expect([afterShort, (afterLong ?? 0) - (afterShort ?? 0)]).toEqual([1, 6]);
  });

  it("reads more than 100 checks on the merge commit too", async () => {
    const base = makeChangeRequest({ number: 15 });
    const merge = base.mergeCommitSha!;
    const onMerge = Array.from({ length: 130 }, (_, i): Check => ({
      ...base.checks[0]!,
      name: `post-merge-${i}`,
      on: "merge",
      sha: merge,
    }));
    const served = { ...base, checks: [...base.checks, ...onMerge] };
    const { host } = await serve([served]);

    const collected = await host.collectChangeRequest("acme/api", 15);

    expect(collected.checks.filter((c) => c.on === "merge").map((c) => c.name)).toEqual(
      onMerge.map((c) => c.name),
    );
    expect(collected.truncated).toEqual([]);
  });

  it("maps each kind of actor from GitHub's type: User, Bot, a mannequin, a deleted account", async () => {
    const served = longPullRequest();
    const { host } = await serve([served]);

    const collected = await host.collectChangeRequest("acme/api", 77);

    expect(collected.reviews.slice(0, 5).map((r) => [r.reviewer, r.reviewerKind, r.authorCanPush])).toEqual([
      ["renovate[bot]", "bot", true],
      ["old-import", "unknown", false],
      ["ghost", "unknown", false],
      ["drive-by-dana", "user", false],
      ["bob", "user", true],
    ]);
    expect(
      collected.checks
        .filter((c) => ["orphan", "ci/jenkins", "ci/legacy", "deploy"].includes(c.name))
        .map((c) => [c.name, c.appId, c.appSlug, c.reportedBy]),
    ).toEqual([
      ["orphan", null, null, null],
      ["ci/jenkins", null, null, "jenkins"],
      ["ci/legacy", null, null, null],
      ["deploy", 15368, "github-actions", null],
    ]);
  });

  it("reads a pull request by a deleted account as ghost, of unknown kind", async () => {
    const served = makeChangeRequest({ number: 13, author: "ghost", authorKind: "unknown" });
    const { host } = await serve([served]);

    const collected = await host.collectChangeRequest("acme/api", 13);

    expect([collected.author, collected.authorKind]).toEqual(["ghost", "unknown"]);
  });

  it("says a merge by the merge queue was one", async () => {
    const served = makeChangeRequest({ number: 14, mergedByQueue: true });
    const { host } = await serve([served]);

    expect((await host.collectChangeRequest("acme/api", 14)).mergedByQueue).toBe(true);
  });
});

describe("when GitHub refuses a further page", () => {
  useHttpMock();

  function answerWithMoreReviews() {
    const answer = fixture<{ repository: { pullRequest: PullRequestNode & { state: string } } }>(
      "pull-request.json",
    );
    const pr = answer.repository.pullRequest;
    Object.assign(pr, { state: "OPEN", mergedAt: null, mergedBy: null, mergeCommit: null });
    pr.reviews.totalCount = 300;
    pr.reviews.pageInfo = { hasNextPage: true, endCursor: "Y3Vyc29yOnYyOjI=" };
    return answer;
  }

  it("marks the reviews partial, keeping what was read, never dropping them silently", async () => {
    github()
      .post("/graphql")
      .reply(graphqlReply("PullRequest", answerWithMoreReviews()))
      .post(
        "/graphql",
        (body: { query: string; variables: Record<string, unknown> }) =>
          body.query.includes("query PullRequestReviews(") && body.variables.after === "Y3Vyc29yOnYyOjI=",
      )
      .reply(200, {
        data: null,
        errors: [
          {
            type: "MAX_NODE_LIMIT_EXCEEDED",
            message:
              "This query requests up to 500,100 possible nodes which exceeds the maximum limit of 500,000.",
          },
        ],
      });

    const change = await createGitHubHost({
      octokit: createGitHubClient({ token: "test", throttle: false }),
    }).collectChangeRequest("acme/api", 42);

    expect(change.truncated).toEqual(["reviews"]);
    expect(change.reviews).toHaveLength(2);
    expect(change.commitsTruncated).toBe(false);
  });

  function refusal(operation: string) {
    return ["/graphql", (body: { query: string }) => body.query.includes(`query ${operation}(`)] as const;
  }
  const refused = {
    data: null,
    errors: [{ type: "FORBIDDEN", message: "Resource not accessible by integration" }],
  };

  it("marks the commits partial when GitHub refuses their next page", async () => {
    const answer = answerWithMoreReviews();
    const pr = answer.repository.pullRequest;
    pr.reviews.totalCount = pr.reviews.nodes.length;
    pr.reviews.pageInfo = { hasNextPage: false, endCursor: null };
    pr.commits.totalCount = 240;
    pr.commits.pageInfo = { hasNextPage: true, endCursor: "Y3Vyc29yOnYyOjE=" };
    github()
      .post("/graphql")
      .reply(graphqlReply("PullRequest", answer))
      .post(...refusal("PullRequestCommits"))
      .reply(200, refused);

    const change = await createGitHubHost({
      octokit: createGitHubClient({ token: "test", throttle: false }),
    }).collectChangeRequest("acme/api", 42);

    expect([change.commitsTruncated, change.commits.length, change.truncated]).toEqual([true, 2, []]);
  });

  it("keeps a trailer's credit and marks the co-authors partial when GitHub refuses the commit's authors", async () => {
    const answer = answerWithMoreReviews();
    const pr = answer.repository.pullRequest;
    pr.reviews.totalCount = pr.reviews.nodes.length;
    pr.reviews.pageInfo = { hasNextPage: false, endCursor: null };
    pr.commits.nodes[1]!.commit.message =
      "Apply suggestions from code review\n\nCo-authored-by: Bob Stone <5129+bob@users.noreply.github.com>";
    github()
      .post("/graphql")
      .reply(graphqlReply("PullRequest", answer))
      .post(...refusal("CommitAuthors"))
      .reply(200, refused);

    const change = await createGitHubHost({
      octokit: createGitHubClient({ token: "test", throttle: false }),
    }).collectChangeRequest("acme/api", 42);

    expect(change.truncated).toEqual(["co-authors"]);
    expect(change.commits[1]?.coAuthors).toEqual([
      {
        login: "bob",
        name: "Bob Stone",
        email: "5129+bob@users.noreply.github.com",
        kind: "user",
        source: "trailer",
      },
    ]);
  });
});
