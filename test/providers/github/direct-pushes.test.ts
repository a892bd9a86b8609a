/**
 * Direct pushes found by when they were pushed (GitHub's repository activity), with the commit-date
 * history only for the part of the period the activity record does not reach.
 */
import { describe, expect, it } from "vitest";
import type { DirectPush } from "../../../src/model/index.js";
import type { HistoryCommit } from "../../../src/providers/github/schema.js";
import { documentedExample } from "../../fidelity/openapi.js";
import { API, github, graphqlReply, testHost, useHttpMock } from "./mock.js";

const PERIOD = { since: new Date("2026-10-01T00:00:00Z"), until: new Date("2026-10-31T23:59:59Z") };
const sha = (c: string) => c.repeat(40);
const ACTIVITY_QUERY = { ref: "refs/heads/main", direction: "desc", per_page: 100 };

function activity(
  id: number,
  type: string,
  timestamp: string,
  before: string,
  after: string,
  actor: string | null = "mallory",
) {
  return {
    id,
    node_id: `A_${id}`,
    before,
    after,
    ref: "refs/heads/main",
    timestamp,
    activity_type: type,
    actor: actor === null ? null : { login: actor, id: 7, type: "User" },
  };
}

function comparedCommit(oid: string, date: string, message: string, author: string | null = "mallory") {
  return {
    sha: oid,
    node_id: `C_${oid.slice(0, 4)}`,
    url: `${API}/repos/acme/api/commits/${oid}`,
    html_url: `https://github.com/acme/api/commit/${oid}`,
    comments_url: `${API}/repos/acme/api/commits/${oid}/comments`,
    commit: {
      url: `${API}/repos/acme/api/git/commits/${oid}`,
      author: { name: "Mallory", email: "mallory@example.com", date },
      committer: { name: "Mallory", email: "mallory@example.com", date },
      message,
      tree: { sha: oid, url: "" },
      comment_count: 0,
    },
    author: author === null ? null : { login: author },
    committer: author === null ? null : { login: author },
    parents: [],
  };
}

function comparison(commits: unknown[], total = commits.length) {
  return { status: "ahead", ahead_by: total, behind_by: 0, total_commits: total, commits, files: [] };
}

async function collect(mergedShas: ReadonlySet<string> = new Set(), branch = "main", period = PERIOD) {
  const pushes: DirectPush[] = [];
  for await (const push of testHost().listDirectPushes("acme/api", branch, period, mergedShas))
    pushes.push(push);
  return pushes;
}

function history(nodes: HistoryCommit[]) {
  return {
    repository: {
      ref: { target: { history: { nodes, pageInfo: { hasNextPage: false, endCursor: null } } } },
    },
  };
}

function historyCommit(oid: string, overrides: Partial<HistoryCommit> = {}): HistoryCommit {
  return {
    oid,
    messageHeadline: `commit ${oid.slice(0, 4)}`,
    committedDate: "2026-10-03T12:00:00Z",
    url: `https://github.com/acme/api/commit/${oid}`,
    author: { user: { login: "alice" } },
    committer: { user: { login: "web-flow" } },
    parents: { totalCount: 1 },
    associatedPullRequests: { totalCount: 0, nodes: [] },
    ...overrides,
  };
}

describe("listDirectPushes by push time", () => {
  useHttpMock();

  it("finds a commit dated before the period but pushed inside it, naming the pusher and the push time", async () => {
    github()
      .get("/repos/acme/api/activity")
      .query(ACTIVITY_QUERY)
      .reply(
        200,
        [
          activity(4, "push", "2026-11-02T08:00:00Z", sha("7"), sha("8")), // after the period
          activity(3, "pr_merge", "2026-10-20T10:00:00Z", sha("2"), sha("3"), "alice"),
          activity(2, "force_push", "2026-10-12T09:00:00Z", sha("1"), sha("2"), "bob"),
        ],
        {
          Link: `<${API}/repositories/1/activity?ref=refs%2Fheads%2Fmain&direction=desc&per_page=100&after=Y3Vy>; rel="next"`,
        },
      )
      .get("/repositories/1/activity")
      .query({ ...ACTIVITY_QUERY, after: "Y3Vy" })
      .reply(200, [
        activity(1, "push", "2026-10-05T12:00:00Z", sha("e"), sha("1")),
        // Older than the period: the record reaches its start, so no history is read.
        activity(0, "push", "2026-09-20T12:00:00Z", sha("f"), sha("e"), "alice"),
      ])
      .get(`/repos/acme/api/compare/${sha("e")}...${sha("1")}`)
      .query({ per_page: 100, page: 1 })
      .reply(
        200,
        comparison([comparedCommit(sha("1"), "2026-08-30T12:00:00Z", "hotfix: pool size\n\nlong body")]),
      )
      .get(`/repos/acme/api/compare/${sha("1")}...${sha("2")}`)
      .query({ per_page: 100, page: 1 })
      .reply(200, comparison([comparedCommit(sha("2"), "2026-10-12T08:59:00Z", "rewrite", "bob")]));

    expect(await collect()).toEqual([
      {
        repository: "acme/api",
        branch: "main",
        sha: sha("1"),
        message: "hotfix: pool size",
        authorLogin: "mallory",
        committerLogin: "mallory",
        pushedBy: "mallory",
        at: "2026-08-30T12:00:00Z",
        pushedAt: "2026-10-05T12:00:00Z",
        forced: false,
        url: `https://github.com/acme/api/commit/${sha("1")}`,
      },
      {
        repository: "acme/api",
        branch: "main",
        sha: sha("2"),
        message: "rewrite",
        authorLogin: "bob",
        committerLogin: "bob",
        pushedBy: "bob",
        at: "2026-10-12T08:59:00Z",
        pushedAt: "2026-10-12T09:00:00Z",
        forced: true,
        url: `https://github.com/acme/api/commit/${sha("2")}`,
      },
    ] satisfies DirectPush[]);
  });

  it("reports a force push that only removed commits (the branch reset to an earlier commit) as a direct push", async () => {
    const base = comparedCommit(sha("a"), "2026-09-28T10:00:00Z", "Merge pull request #7", "alice");
    github()
      .get("/repos/acme/api/activity")
      .query(ACTIVITY_QUERY)
      .reply(200, [
        activity(2, "force_push", "2026-10-12T09:00:00Z", sha("b"), sha("a"), "bob"),
        activity(1, "push", "2026-09-20T12:00:00Z", sha("9"), sha("b"), "alice"),
      ])
      // As GitHub compares a rewind: nothing ahead, the removed commits behind, the reset commit the base.
      .get(`/repos/acme/api/compare/${sha("b")}...${sha("a")}`)
      .query({ per_page: 100, page: 1 })
      .reply(200, {
        ...comparison([], 0),
        status: "behind",
        ahead_by: 0,
        behind_by: 3,
        base_commit: comparedCommit(sha("b"), "2026-09-20T11:00:00Z", "reviewed change", "alice"),
        merge_base_commit: base,
      });

    expect(await collect(new Set([sha("a")]))).toEqual([
      {
        repository: "acme/api",
        branch: "main",
        sha: sha("a"),
        message: "Force push reset main to this commit, removing 3 commits: Merge pull request #7",
        authorLogin: "alice",
        committerLogin: "alice",
        pushedBy: "bob",
        at: "2026-09-28T10:00:00Z",
        pushedAt: "2026-10-12T09:00:00Z",
        forced: true,
        url: `https://github.com/acme/api/commit/${sha("a")}`,
      },
    ] satisfies DirectPush[]);
  });

  it("reads the history by commit date, push time not recorded, for the part the activity record does not reach", async () => {
    github()
      .get("/repos/acme/api/activity")
      .query(ACTIVITY_QUERY)
      .reply(200, [activity(9, "push", "2026-10-15T12:00:00Z", sha("a"), sha("b"))])
      .get(`/repos/acme/api/compare/${sha("a")}...${sha("b")}`)
      .query({ per_page: 100, page: 1 })
      .reply(200, comparison([comparedCommit(sha("b"), "2026-10-15T11:00:00Z", "recorded push")]))
      .post("/graphql")
      .reply(
        graphqlReply(
          "BranchHistory",
          history([historyCommit(sha("c"), { messageHeadline: "older push" }), historyCommit(sha("b"))]),
          (variables) => {
            expect(variables.since).toBe("2026-10-01T00:00:00.000Z");
            // Only up to the oldest activity GitHub still has.
            expect(variables.until).toBe("2026-10-15T12:00:00.000Z");
          },
        ),
      );

    const pushes = await collect();

    expect(pushes.map((p) => [p.sha, p.pushedAt, p.pushedBy])).toEqual([
      [sha("b"), "2026-10-15T12:00:00Z", "mallory"],
      [sha("c"), null, null],
    ]);
  });

  it("says the push times of the part of the period before the activity record starts are not recorded", async () => {
    github()
      .get("/repos/acme/api/activity")
      .query(ACTIVITY_QUERY)
      .reply(200, [activity(9, "push", "2026-10-15T12:00:00Z", sha("a"), sha("b"))])
      .get(`/repos/acme/api/compare/${sha("a")}...${sha("b")}`)
      .query({ per_page: 100, page: 1 })
      .reply(200, comparison([comparedCommit(sha("b"), "2026-10-15T11:00:00Z", "recorded push")]))
      .post("/graphql")
      .reply(graphqlReply("BranchHistory", history([])));

    const host = testHost();
    for await (const push of host.listDirectPushes("acme/api", "main", PERIOD, new Set())) void push;

    // A commit dated before the period but pushed before 2026-10-15 is in neither record: said so.
    expect(host.drainUnreadable()).toEqual([
      expect.objectContaining({
        subject: "acme/api",
        what: "push times and pushers of main from 2026-10-01T00:00:00.000Z to 2026-10-15T12:00:00.000Z",
      }),
    ]);
  });

  it("says the push times are not recorded where a push's commits cannot be listed", async () => {
    github()
      .get("/repos/acme/api/activity")
      .query(ACTIVITY_QUERY)
      .reply(200, [
        activity(2, "force_push", "2026-10-05T12:00:00Z", sha("9"), sha("b")),
        activity(1, "push", "2026-09-05T12:00:00Z", sha("8"), sha("9")),
      ])
      // The commit the force push replaced is gone: the comparison cannot be made.
      .get(`/repos/acme/api/compare/${sha("9")}...${sha("b")}`)
      .query({ per_page: 100, page: 1 })
      .reply(404, { message: "Not Found" })
      .post("/graphql")
      .reply(graphqlReply("BranchHistory", history([])));

    const host = testHost();
    for await (const push of host.listDirectPushes("acme/api", "main", PERIOD, new Set())) void push;

    expect(host.drainUnreadable()).toEqual([
      expect.objectContaining({
        subject: "acme/api",
        what: `commits of the force_push to main at 2026-10-05T12:00:00Z (${sha("9").slice(0, 7)}...${sha("b").slice(0, 7)})`,
      }),
    ]);
  });

  it("fails, never stops short, when GitHub says the history goes on but gives no cursor", async () => {
    const broken = history([historyCommit(sha("c"))]);
    broken.repository.ref.target.history.pageInfo = { hasNextPage: true, endCursor: null } as never;
    github()
      .get("/repos/acme/api/activity")
      .query(ACTIVITY_QUERY)
      .reply(404, { message: "Not Found" })
      .post("/graphql")
      .reply(graphqlReply("BranchHistory", broken));

    await expect(collect()).rejects.toThrow(/no cursor/);
  });

  it("falls back to the whole period's history when the host has no activity record for the credentials", async () => {
    github()
      .get("/repos/acme/api/activity")
      .query(ACTIVITY_QUERY)
      .reply(404, { message: "Not Found" })
      .post("/graphql")
      .reply(
        graphqlReply("BranchHistory", history([historyCommit(sha("c"))]), (variables) =>
          expect(variables.until).toBe("2026-10-31T23:59:59.000Z"),
        ),
      );

    const host = testHost();
    const pushes: DirectPush[] = [];
    for await (const push of host.listDirectPushes("acme/api", "main", PERIOD, new Set())) pushes.push(push);

    expect(pushes.map((p) => [p.sha, p.pushedAt])).toEqual([[sha("c"), null]]);
    // The report says why these pushes carry no push time.
    expect(host.drainUnreadable().map((u) => u.what)).toEqual(["push times and pushers of main"]);
  });

  it.each(["push", "branch_creation"])(
    "reads the whole period's history when the commits of a %s from nothing cannot be listed",
    async (type) => {
      github()
        .get("/repos/acme/api/activity")
        .query(ACTIVITY_QUERY)
        .reply(200, [
          activity(2, type, "2026-10-05T12:00:00Z", "0".repeat(40), sha("b")),
          activity(1, "push", "2026-09-05T12:00:00Z", sha("9"), sha("a")),
        ])
        .post("/graphql")
        .reply(
          graphqlReply("BranchHistory", history([historyCommit(sha("b"))]), (variables) =>
            expect(variables.until).toBe("2026-10-31T23:59:59.000Z"),
          ),
        );

      expect((await collect()).map((p) => [p.sha, p.pushedAt])).toEqual([[sha("b"), null]]);
    },
  );

  it("stops with the reason on a rate limit instead of reading less", async () => {
    github()
      .get("/repos/acme/api/activity")
      .query(ACTIVITY_QUERY)
      .reply(
        403,
        { message: "API rate limit exceeded" },
        { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1" },
      );

    await expect(collect()).rejects.toThrow(/rate limit/);
  });

  it("lists every page of a push's commits, and refuses a comparison that ends short of its count", async () => {
    const many = Array.from({ length: 101 }, (_, i) =>
      comparedCommit(i.toString(16).padStart(40, "0"), "2026-10-05T11:00:00Z", `commit ${i}`),
    );
    github()
      .get("/repos/acme/api/activity")
      .query(ACTIVITY_QUERY)
      .reply(200, [
        activity(2, "force_push", "2026-10-06T12:00:00Z", sha("b"), sha("c")),
        activity(1, "push", "2026-10-05T12:00:00Z", sha("a"), sha("b")),
        activity(0, "branch_creation", "2026-09-01T00:00:00Z", sha("0"), sha("a")),
      ])
      .get(`/repos/acme/api/compare/${sha("a")}...${sha("b")}`)
      .query({ per_page: 100, page: 1 })
      .reply(200, comparison(many.slice(0, 100), 101), { Link: `<${API}/x?page=2>; rel="next"` })
      .get(`/repos/acme/api/compare/${sha("a")}...${sha("b")}`)
      .query({ per_page: 100, page: 2 })
      .reply(200, comparison(many.slice(100), 101))
      .get(`/repos/acme/api/compare/${sha("b")}...${sha("c")}`)
      .query({ per_page: 100, page: 1 })
      .reply(200, comparison(many.slice(0, 100), 250));

    await expect(collect()).rejects.toThrow(/100 of 250 commits listed/);
  });

  it("lists pushes that follow each other with one comparison, each commit credited to the push that brought it", async () => {
    const withParent = (oid: string, parent: string, date: string) => ({
      ...comparedCommit(oid, date, `commit ${oid.slice(0, 1)}`),
      parents: [{ sha: parent, url: "", html_url: "" }],
    });
    github()
      .get("/repos/acme/api/activity")
      .query(ACTIVITY_QUERY)
      .reply(200, [
        activity(5, "push", "2026-10-09T12:00:00Z", sha("d"), sha("e"), "carol"),
        // A merge between: the push after it starts a comparison of its own.
        activity(4, "pr_merge", "2026-10-08T12:00:00Z", sha("c"), sha("d"), "alice"),
        activity(3, "push", "2026-10-07T12:00:00Z", sha("b"), sha("c"), "bob"),
        activity(2, "push", "2026-10-06T12:00:00Z", sha("a"), sha("b"), "mallory"),
        activity(1, "push", "2026-09-06T12:00:00Z", sha("9"), sha("a"), "alice"),
      ])
      .get(`/repos/acme/api/compare/${sha("a")}...${sha("c")}`)
      .query({ per_page: 100, page: 1 })
      .reply(
        200,
        comparison([
          // Backdated: chronological order does not tell which push brought a commit; parents do.
          withParent(sha("c"), sha("2"), "2026-10-01T00:00:00Z"),
          withParent(sha("2"), sha("b"), "2026-10-07T11:00:00Z"),
          withParent(sha("b"), sha("a"), "2026-10-06T11:00:00Z"),
        ]),
      )
      .get(`/repos/acme/api/compare/${sha("d")}...${sha("e")}`)
      .query({ per_page: 100, page: 1 })
      .reply(200, comparison([withParent(sha("e"), sha("d"), "2026-10-09T11:00:00Z")]));

    expect((await collect()).map((p) => [p.sha.slice(0, 1), p.pushedBy, p.pushedAt])).toEqual([
      ["c", "bob", "2026-10-07T12:00:00Z"],
      ["2", "bob", "2026-10-07T12:00:00Z"],
      ["b", "mallory", "2026-10-06T12:00:00Z"],
      ["e", "carol", "2026-10-09T12:00:00Z"],
    ]);
  });

  it("counts a pushed commit as a change request's only when that request was merged into this same branch", async () => {
    const documentedPulls = documentedExample<Array<{ base: { ref: string } }>>(
      "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
    );
    const head = "6dcb09b5b57875f334f61aebed695e2e4193db5e"; // the documented pull request's head
    const intoMain = structuredClone(documentedPulls);
    for (const pull of intoMain) pull.base.ref = "main";
    const mock = (pulls: unknown) =>
      github()
        .get("/repos/acme/api/activity")
        .query(ACTIVITY_QUERY)
        .reply(200, [
          activity(1, "push", "2026-10-05T12:00:00Z", sha("a"), head),
          activity(0, "push", "2026-09-05T12:00:00Z", sha("9"), sha("a")),
        ])
        .get(`/repos/acme/api/compare/${sha("a")}...${head}`)
        .query({ per_page: 100, page: 1 })
        .reply(200, documentedExample("GET /repos/{owner}/{repo}/compare/{basehead}"))
        .get(`/repos/acme/api/commits/${head}/pulls`)
        .query({ per_page: 100 })
        .reply(200, pulls as object[]);

    // The documented pull request was merged into "master", not "main": its commit is a direct push.
    mock(documentedPulls);
    expect((await collect(new Set([head]))).map((p) => [p.sha, p.message, p.pushedBy])).toEqual([
      [head, "Fix all the bugs", "mallory"],
    ]);

    mock(intoMain);
    expect(await collect(new Set([head]))).toEqual([]);
  });

  it("reads GitHub's documented activity example (its older field names) as a push", async () => {
    const documented = documentedExample<Array<{ before: string; after: string }>>(
      "GET /repos/{owner}/{repo}/activity",
    );
    const [push] = documented;
    if (!push) throw new Error("no documented activity");
    const period = { since: new Date("2011-01-01T00:00:00Z"), until: new Date("2011-01-31T00:00:00Z") };
    github()
      .get("/repos/acme/api/activity")
      .query({ ...ACTIVITY_QUERY, ref: "refs/heads/master" })
      .reply(200, [...documented, activity(0, "push", "2010-12-01T00:00:00Z", sha("0"), push.before)])
      .get(`/repos/acme/api/compare/${push.before}...${push.after}`)
      .query({ per_page: 100, page: 1 })
      .reply(200, documentedExample("GET /repos/{owner}/{repo}/compare/{basehead}"));

    expect(
      (await collect(new Set(), "master", period)).map((p) => [p.pushedBy, p.pushedAt, p.forced]),
    ).toEqual([["octocat", "2011-01-26T19:06:43Z", false]]);
  });
});

describe("listDirectPushes from the commit-date history", () => {
  useHttpMock();

  const noActivity = () =>
    github()
      .get("/repos/acme/api/activity")
      .query(ACTIVITY_QUERY)
      .reply(403, { message: "Must have admin rights to Repository." });
  const merged = (number: number, baseRefName: string, mergeCommit: string | null = null) => ({
    number,
    merged: true,
    baseRefName,
    mergeCommit: mergeCommit === null ? null : { oid: mergeCommit },
  });

  it("reports the merge commit of a pull request merged into another branch as a direct push", async () => {
    noActivity()
      .post("/graphql")
      .reply(
        graphqlReply(
          "BranchHistory",
          history([
            historyCommit(sha("b"), {
              associatedPullRequests: { totalCount: 1, nodes: [merged(7, "main")] },
            }),
            historyCommit(sha("c"), {
              associatedPullRequests: { totalCount: 1, nodes: [merged(8, "develop", sha("c"))] },
            }),
            historyCommit(sha("d"), {
              associatedPullRequests: {
                totalCount: 1,
                nodes: [{ number: 9, merged: false, baseRefName: "main", mergeCommit: null }],
              },
            }),
          ]),
        ),
      );

    expect((await collect(new Set([sha("c")]))).map((p) => [p.sha, p.pushedAt])).toEqual([
      [sha("c"), null],
      [sha("d"), null],
    ]);
  });

  it("asks for every pull request of a commit GitHub listed only in part before calling it a direct push", async () => {
    const documentedPulls = documentedExample<Array<{ base: { ref: string }; merged_at: string | null }>>(
      "GET /repos/{owner}/{repo}/commits/{commit_sha}/pulls",
    );
    const intoMain = structuredClone(documentedPulls);
    for (const pull of intoMain) {
      pull.base.ref = "main";
      pull.merged_at = "2026-10-03T11:00:00Z";
    }
    const fiveElsewhere = [1, 2, 3, 4, 5].map((n) => merged(n, "develop"));
    const partial = (pulls: unknown) =>
      noActivity()
        .post("/graphql")
        .reply(
          graphqlReply(
            "BranchHistory",
            history([
              historyCommit(sha("e"), { associatedPullRequests: { totalCount: 6, nodes: fiveElsewhere } }),
            ]),
          ),
        )
        .get(`/repos/acme/api/commits/${sha("e")}/pulls`)
        .query({ per_page: 100 })
        .reply(200, pulls as object[]);

    // The sixth pull request, which GitHub did not list, was merged into main: not a direct push.
    partial(intoMain);
    expect(await collect()).toEqual([]);
    // None of them was merged into main: a direct push, whose push time is not recorded.
    partial(documentedPulls);
    expect((await collect()).map((p) => [p.sha, p.pushedAt])).toEqual([[sha("e"), null]]);
  });

  it("reads a ref whose target GitHub answers as null as a branch with no history", async () => {
    noActivity()
      .post("/graphql")
      .reply(graphqlReply("BranchHistory", { repository: { ref: { target: null } } }));
    expect(await collect()).toEqual([]);
  });

  it("yields nothing for a branch that no longer exists", async () => {
    noActivity()
      .post("/graphql")
      .reply(graphqlReply("BranchHistory", { repository: { ref: null } }));

    expect(await collect(new Set(), "main")).toEqual([]);
  });
});
