/**
 * A merge judged as of the event: GitHub fires pull_request.closed the moment a pull request merges,
 * while CI on the merge commit has only just started. The required-checks verdict waits for those
 * checks (no finding meanwhile), the merge is judged again when they complete, and a check that never
 * completes becomes a finding at the end of a bounded wait.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readChangesMarker } from "../../src/reporters/findings/fingerprint.js";
import type { PullRequestNode } from "../../src/providers/github/schema.js";
import {
  HEAD,
  linkCommitsToAlice,
  POLICY,
  protection,
  recordedPullRequest,
  review,
  setReviews,
  type PullRequestAnswer,
} from "../fixtures/app/change-facts.js";
import {
  documentedExample,
  examplePayload,
  examplePayloadWhere,
  github,
  inAcmeApi,
  loadApp,
  type RecordedRequest,
  type TestApp,
} from "../fixtures/app/github-app.js";

const MERGE = "e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5";
const MERGED_AT = "2026-10-02T15:00:00Z";
const SIX_HOURS = 6 * 60 * 60 * 1000;
const ISSUES = "/repos/acme/compliance/issues?labels=soc2&state=all&per_page=100";
const ACTIONS = { databaseId: 15368, slug: "github-actions" };

type RollupNode = NonNullable<
  NonNullable<PullRequestNode["mergeCommit"]>["statusCheckRollup"]
>["contexts"]["nodes"][number];

/**
 * The provider's recorded pull request: #42 by alice, approved by bob on its head, ci/test green on
 * the head, merged at 15:00 as MERGE; `ciOnMerge` is what ci/test shows on the merge commit.
 */
function mergedPullRequest(
  ciOnMerge: "IN_PROGRESS" | "SUCCESS" | "FAILURE" | null,
  change: (pr: PullRequestNode) => void = () => {},
): PullRequestAnswer {
  const answer = recordedPullRequest();
  const pr = answer.repository.pullRequest;
  linkCommitsToAlice(pr);
  setReviews(pr, [review("bob", "APPROVED", "2026-10-02T10:00:00Z", HEAD)]);
  const headContexts = pr.headCommit.nodes[0]!.commit.statusCheckRollup!.contexts;
  // Every connection is read to its end: GitHub's pageInfo says there is no further page.
  (headContexts as { pageInfo?: object }).pageInfo ??= { hasNextPage: false, endCursor: null };
  // The rule pins ci/test to GitHub Actions (app 15368): its runs say which app reported them.
  for (const node of headContexts.nodes) {
    if (node.__typename === "CheckRun") Object.assign(node, { checkSuite: { app: ACTIONS } });
  }
  const nodes: RollupNode[] = [];
  if (ciOnMerge !== null) {
    nodes.push({
      __typename: "CheckRun",
      name: "ci/test",
      status: ciOnMerge === "IN_PROGRESS" ? "IN_PROGRESS" : "COMPLETED",
      conclusion: ciOnMerge === "IN_PROGRESS" ? null : ciOnMerge,
      detailsUrl: "https://github.com/acme/api/actions/runs/904/job/3",
      completedAt: ciOnMerge === "IN_PROGRESS" ? null : "2026-10-02T15:07:00Z",
      checkSuite: { app: ACTIONS },
    } as RollupNode);
  }
  pr.mergeCommit = {
    oid: MERGE,
    statusCheckRollup: {
      contexts: { totalCount: nodes.length, nodes, pageInfo: { hasNextPage: false, endCursor: null } },
    },
  } as NonNullable<PullRequestNode["mergeCommit"]>;
  change(pr);
  return answer;
}

function pullRequestClosed() {
  const payload = inAcmeApi(examplePayload("pull_request", "closed"));
  Object.assign(payload, { number: 42 });
  Object.assign(payload.pull_request, { number: 42, state: "closed", merged: true });
  return payload;
}

/** GitHub's documented answer of GET /repos/{o}/{r}/commits/{sha}/pulls, made #42 merged as MERGE. */
function pullsOfMergeCommit() {
  const [pull] = documentedExample<Record<string, unknown>[]>("pull-request-simple-items");
  return [
    {
      ...pull,
      number: 42,
      state: "closed",
      merged_at: MERGED_AT,
      merge_commit_sha: MERGE,
      head: { ...(pull!.head as object), sha: HEAD, ref: "feature/rate-limit" },
    },
  ];
}

function issueCreated(number: number, body: unknown): [number, nock.Body] {
  const issue = body as { title: string; body: string; labels: string[] };
  return [
    201,
    {
      number,
      title: issue.title,
      body: issue.body,
      state: "open",
      html_url: `https://github.com/acme/compliance/issues/${number}`,
      labels: issue.labels.map((name) => ({ name })),
    },
  ];
}

const createdIssues = (requests: RecordedRequest[]) =>
  requests.filter((r) => r.method === "POST" && r.path === "/repos/acme/compliance/issues");

/** Failing merges are listed by one issue per control and repository (the policy's default grouping). */
const bodies = (requests: RecordedRequest[]) =>
  createdIssues(requests).map((r) => (r.body as { body: string }).body);
const titles = (requests: RecordedRequest[]) =>
  createdIssues(requests)
    .map((r) => (r.body as { title: string }).title)
    .sort();

/**
 * The reads of one merged-change judgement and the findings it writes. `issues` answers the first
 * listing of the findings repository; each issue created is answered with the next number from 7,
 * and the listing after creating shows every issue created so far.
 */
function expectJudgement(
  app: TestApp,
  answer: PullRequestAnswer,
  options: { token?: boolean; issues?: object[]; creates?: number | "some" } = {},
) {
  const gh = github(app);
  if (options.token !== false) gh.installationToken(new Date(MERGED_AT));
  gh.on("POST", "/graphql", [200, { data: answer }])
    .on("GET", "/repos/acme/api/rules/branches/main?per_page=100", [200, []])
    .on("GET", "/repos/acme/api/branches/main/protection", [200, protection()])
    .on("GET", `/repos/acme/.github/contents/${POLICY}`, [404, { message: "Not Found" }])
    .on("GET", `/repos/acme/api/contents/${POLICY}?ref=main`, [404, { message: "Not Found" }])
    .on("GET", ISSUES, [200, options.issues ?? []]);
  const creates = options.creates ?? 0;
  if (creates !== 0) {
    const number = (body: unknown) => issueCreated(6 + createdIssues(app.requests).length, body);
    if (creates === "some") gh.onEvery("POST", "/repos/acme/compliance/issues", number);
    for (let i = 0; i < (creates === "some" ? 0 : creates); i++) {
      gh.on("POST", "/repos/acme/compliance/issues", number);
    }
    gh.on("GET", ISSUES, () => [
      200,
      [
        ...(options.issues ?? []),
        ...createdIssues(app.requests).map((r, i) => issueCreated(7 + i, r.body)[1]),
      ],
    ]);
  }
  return gh;
}

function judgedLogs(app: TestApp) {
  return app.logs().filter((line) => String(line.msg).startsWith("merged change judged"));
}

describe("a merge judged before CI finished on its merge commit", () => {
  const unexpected: string[] = [];
  const onNoMatch = (req: { method?: string; path?: string }) => unexpected.push(`${req.method} ${req.path}`);
  let clock: Date;
  let scheduled: { at: Date; work: () => Promise<void>; cancelled: boolean }[];

  beforeEach(() => {
    unexpected.length = 0;
    clock = new Date("2026-10-02T15:00:05Z");
    scheduled = [];
    nock.emitter.on("no match", onNoMatch);
  });

  afterEach(() => {
    nock.emitter.removeListener("no match", onNoMatch);
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(unexpected, "requests nobody expected").toEqual([]);
    expect(pending, "mocks never used").toEqual([]);
  });

  function appFor() {
    return loadApp({
      now: () => clock,
      appId: 1,
      later: (at, work) => {
        const entry = { at, work, cancelled: false };
        scheduled.push(entry);
        return () => {
          entry.cancelled = true;
        };
      },
    });
  }

  it("opens no finding for a required check still running on the merge commit, and reports the decided controls at once", async () => {
    const app = await appFor();
    // Nobody approved: independence and bypass are decided now; ci/test is still running on MERGE.
    expectJudgement(
      app,
      mergedPullRequest("IN_PROGRESS", (pr) => {
        setReviews(pr, []);
      }),
      { creates: "some" },
    );

    await app.receive("pull_request", pullRequestClosed());

    const created = titles(app.requests);
    expect(created).toContain("[soc2] cc8.independent-approval: acme/api — 1 merged change request fails");
    expect(bodies(app.requests).join("\n")).toContain(
      "— 0 independent approvals, 1 required: nobody else approved it",
    );
    expect(created.filter((title) => title.includes("cc8.required-checks"))).toEqual([]);
    expect(judgedLogs(app)).toEqual([
      expect.objectContaining({
        msg: "merged change judged; its required checks wait for the merge commit",
        number: 42,
        waitingFor: ["ci/test"],
        until: new Date(Date.parse(MERGED_AT) + SIX_HOURS).toISOString(),
        created: createdIssues(app.requests).map((_, i) => 7 + i),
      }),
    ]);
    // Judged again a second after the wait ends, in case no check event ever comes.
    expect(scheduled.map((s) => s.at.toISOString())).toEqual(["2026-10-02T21:00:01.000Z"]);
    // A merge is judged, not checked: no check run is written for it.
    expect(app.requests.some((r) => r.path.includes("check-runs"))).toBe(false);
  });

  it("judges the merge again when the check suite on its merge commit completes, found through the commit's pull requests", async () => {
    const app = await appFor();
    expectJudgement(app, mergedPullRequest("IN_PROGRESS"));
    await app.receive("pull_request", pullRequestClosed());
    expect(createdIssues(app.requests)).toEqual([]);
    expect(scheduled).toHaveLength(1);

    // A real check_suite.completed of a push to the base branch: GitHub lists no pull request there.
    const suite = inAcmeApi(
      examplePayloadWhere(
        "check_suite",
        (e) => e.action === "completed" && e.check_suite.head_branch === "main",
      ),
    );
    expect(suite.check_suite.pull_requests).toEqual([]);
    Object.assign(suite.check_suite, { head_sha: MERGE, conclusion: "failure" });
    clock = new Date("2026-10-02T15:07:30Z");
    const before = app.requests.length;
    github(app).on("GET", `/repos/acme/api/commits/${MERGE}/pulls?per_page=100`, [200, pullsOfMergeCommit()]);
    expectJudgement(app, mergedPullRequest("FAILURE"), { token: false, creates: 1 });

    await app.receive("check_suite", suite);

    const requests = app.requests.slice(before);
    expect(requests[0]).toEqual({
      method: "GET",
      path: `/repos/acme/api/commits/${MERGE}/pulls?per_page=100`,
    });
    expect(titles(requests)).toEqual([
      "[soc2] cc8.required-checks: acme/api — 1 merged change request fails",
    ]);
    expect(bodies(requests)[0]).toContain("ci/test failure");
    // Decided: the re-judgement at the end of the wait is no longer needed.
    expect(scheduled[0]!.cancelled).toBe(true);
    expect(requests.some((r) => r.path.includes("check-runs"))).toBe(false);
  });

  it("keeps waiting when a check run completes on the merge commit while a required check there still runs", async () => {
    const app = await appFor();
    const run = inAcmeApi(examplePayload("check_run", "completed"));
    // The completion of another job of the push to main: on the base branch, no pull request listed.
    Object.assign(run.check_run, { name: "lint", head_sha: MERGE, pull_requests: [] });
    Object.assign(run.check_run.check_suite, { head_branch: "main", head_sha: MERGE, pull_requests: [] });
    github(app)
      .installationToken(clock)
      .on("GET", `/repos/acme/api/commits/${MERGE}/pulls?per_page=100`, [200, pullsOfMergeCommit()]);
    expectJudgement(app, mergedPullRequest("IN_PROGRESS"), { token: false });

    await app.receive("check_run", run);

    expect(createdIssues(app.requests)).toEqual([]);
    expect(judgedLogs(app)).toEqual([expect.objectContaining({ number: 42, waitingFor: ["ci/test"] })]);
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]!.cancelled).toBe(false);
  });

  it("judges the merge again when a commit status on its merge commit is posted", async () => {
    const app = await appFor();
    const status = inAcmeApi(examplePayload("status"));
    Object.assign(status, { sha: MERGE, context: "ci/test", state: "success" });
    expect(status.branches.length).toBeGreaterThan(0);
    github(app)
      .installationToken(clock)
      .on("GET", `/repos/acme/api/commits/${MERGE}/pulls?per_page=100`, [200, pullsOfMergeCommit()]);
    expectJudgement(app, mergedPullRequest("SUCCESS"), { token: false });

    await app.receive("status", status);

    expect(createdIssues(app.requests)).toEqual([]);
    expect(judgedLogs(app)).toEqual([
      expect.objectContaining({ msg: "merged change judged", number: 42, created: [] }),
    ]);
    expect(scheduled).toEqual([]);
  });

  it("opens the finding, saying the checks never completed, when they are still running at the end of the wait", async () => {
    const app = await appFor();
    expectJudgement(app, mergedPullRequest("IN_PROGRESS"));
    await app.receive("pull_request", pullRequestClosed());
    expect(createdIssues(app.requests)).toEqual([]);
    const [held] = scheduled;
    expect(held).toBeDefined();

    clock = new Date(held!.at);
    expectJudgement(app, mergedPullRequest("IN_PROGRESS"), { token: false, creates: 1 });
    await held!.work();

    expect(titles(app.requests)).toEqual([
      "[soc2] cc8.required-checks: acme/api — 1 merged change request fails",
    ]);
    expect(bodies(app.requests)[0]).toContain(
      "Required checks never completed on the merge commit e4d3c2b within 6 hours of the merge: ci/test",
    );
    const body = (createdIssues(app.requests)[0]!.body as { body: string }).body;
    // The evidence of each change is in the ledger's judgement; the issue lists the change and why.
    expect(readChangesMarker(body)?.failing).toEqual([42]);
    // The wait is over: nothing is scheduled again.
    expect(scheduled).toHaveLength(1);
  });

  it("does not duplicate a finding when GitHub redelivers the pull_request.closed event", async () => {
    const app = await appFor();
    const answer = () =>
      mergedPullRequest("SUCCESS", (pr) => {
        setReviews(pr, []);
      });
    const payload = pullRequestClosed();
    const deliver = () =>
      app.probot.receive({ id: "redelivered-1", name: "pull_request", payload } as Parameters<
        TestApp["probot"]["receive"]
      >[0]);
    expectJudgement(app, answer(), { creates: "some" });
    await deliver();
    const first = createdIssues(app.requests);
    expect(titles(app.requests)).toContain(
      "[soc2] cc8.independent-approval: acme/api — 1 merged change request fails",
    );

    // The redelivery finds each issue by its fingerprint and leaves it as it is. Creating is still
    // answered (the persistent mock above), so a duplicate would be seen here.
    const open = first.map((r, i) => issueCreated(7 + i, r.body)[1] as object);
    expectJudgement(app, answer(), { token: false, issues: open });
    await deliver();

    expect(createdIssues(app.requests)).toEqual(first);
    expect(app.requests.filter((r) => r.method === "PATCH")).toEqual([]);
    expect(judgedLogs(app).at(-1)).toEqual(
      expect.objectContaining({ number: 42, created: [], unchanged: first.map((_, i) => 7 + i) }),
    );
  });
});
