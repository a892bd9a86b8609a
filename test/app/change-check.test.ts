import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CHANGE_CHECK_QUERY } from "../../src/providers/github/queries.js";
import type { PullRequestNode } from "../../src/providers/github/schema.js";
import { CHECK_NAME } from "../../src/reporters/check.js";
import {
  base64,
  CHECK_RUNS,
  expectChangeCheck,
  FIRST,
  HEAD,
  linkCommitsToAlice,
  NOW,
  openPullRequest,
  POLICY,
  protection,
  recordedPullRequest,
  review,
  setReviews,
} from "../fixtures/app/change-facts.js";
import {
  documentedExample,
  examplePayload,
  github,
  inAcmeApi,
  loadApp,
  type RecordedRequest,
} from "../fixtures/app/github-app.js";

// The provider stamps completed_at with its own clock, not the app's: only its form is asserted.
const ISO_TIME = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as string;
// The escaping puts a zero-width space after "@" so GitHub does not read a branch as a mention.
const AT = "@\u200b";

function headCheck(pr: PullRequestNode, status: string, conclusion: string | null): void {
  const node = pr.headCommit.nodes[0]!.commit.statusCheckRollup!.contexts.nodes[0]!;
  Object.assign(node, { status, conclusion, ...(conclusion === null ? { completedAt: null } : {}) });
}

function pullRequestOpened() {
  const payload = inAcmeApi(examplePayload("pull_request", "opened"));
  Object.assign(payload, { number: 42 });
  Object.assign(payload.pull_request, { number: 42, state: "open" });
  Object.assign(payload.pull_request.head, { sha: HEAD, ref: "feature/rate-limit" });
  Object.assign(payload.pull_request.base, { ref: "main" });
  return payload;
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

/** The body of the one check-run write among the requests. */
function checkRunWrite(requests: RecordedRequest[]) {
  const writes = requests.filter((r) => r.path.startsWith("/repos/acme/api/check-runs"));
  expect(writes).toHaveLength(1);
  return writes[0]!.body as {
    name?: string;
    head_sha?: string;
    status: string;
    conclusion: string;
    completed_at: string;
    output: { title: string; summary: string };
  };
}

describe("the app on pull request events", () => {
  const unexpected: string[] = [];
  const onNoMatch = (req: { method?: string; path?: string }) => unexpected.push(`${req.method} ${req.path}`);

  beforeEach(() => {
    unexpected.length = 0;
    nock.emitter.on("no match", onNoMatch);
  });

  afterEach(() => {
    nock.emitter.removeListener("no match", onNoMatch);
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(unexpected, "requests nobody expected").toEqual([]);
    expect(pending, "mocks never used").toEqual([]);
  });

  async function appFor() {
    return loadApp({ now: () => NOW, appId: 1 });
  }

  it("passes an approved pull request with green checks, in 8 requests to GitHub", async () => {
    const app = await appFor();
    expectChangeCheck(app);

    await app.receive("pull_request", pullRequestOpened());

    // This is the whole cost of one pull_request.opened event (token included).
    expect(app.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /app/installations/2/access_tokens",
      "POST /graphql",
      "GET /repos/acme/api/rules/branches/main?per_page=100",
      "GET /repos/acme/api/branches/main/protection",
      "GET /repos/acme/.github/contents/.github/soc2.yml",
      "GET /repos/acme/api/contents/.github/soc2.yml?ref=main",
      `GET /repos/acme/api/commits/${HEAD}/check-runs?check_name=${CHECK_NAME}&filter=latest&per_page=100&app_id=1`,
      "POST /repos/acme/api/check-runs",
    ]);
    expect(app.requests[1]!.body).toEqual({
      query: CHANGE_CHECK_QUERY,
      variables: {
        owner: "acme",
        name: "api",
        number: 42,
        policyPath: ".github/soc2.yml",
        policyRepository: ".github",
      },
    });
    const body = checkRunWrite(app.requests);
    expect(body).toEqual({
      name: CHECK_NAME,
      head_sha: HEAD,
      status: "completed",
      conclusion: "success",
      completed_at: ISO_TIME,
      output: { title: "3 of 3 controls pass", summary: expect.any(String) as string },
    });
    expect(body.output.summary).toContain("This change request meets the SOC 2 change-management controls");
    expect(body.output.summary).toContain("Approved by bob");
  });

  it.each([
    {
      case: "a self-approval",
      change: (pr: PullRequestNode) => {
        setReviews(pr, [review("alice", "APPROVED", "2026-10-02T10:00:00Z", HEAD)]);
      },
      title: /^1 of 2 controls pass; 1 fails: approval$/,
      reason: "0 independent approvals, 1 required",
    },
    {
      case: "an approval made stale by a later push",
      change: (pr: PullRequestNode) => {
        setReviews(pr, [review("bob", "APPROVED", "2026-10-01T10:30:00Z", FIRST)]);
      },
      title: /^2 of 3 controls pass; 1 fails: approval of final code$/,
      reason: "0 independent approvals of the final code, 1 required",
    },
    {
      case: "a failing required check",
      change: (pr: PullRequestNode) => headCheck(pr, "COMPLETED", "FAILURE"),
      title: /^2 of 3 controls pass; 1 fails: required checks$/,
      reason: "Required checks did not succeed: ci/test failure",
    },
    {
      case: "no approval at all",
      change: (pr: PullRequestNode) => {
        setReviews(pr, []);
      },
      title: /^1 of 2 controls pass; 1 fails: approval$/,
      reason: "0 independent approvals, 1 required: nobody else approved it\\.",
    },
  ])("fails $case and says why", async ({ change, title, reason }) => {
    const app = await appFor();
    expectChangeCheck(app, { pullRequest: openPullRequest(change) });

    await app.receive("pull_request", pullRequestOpened());

    const body = checkRunWrite(app.requests);
    expect(body.conclusion).toBe("failure");
    expect(body.output.title).toMatch(title);
    expect(body.output.summary).toContain(reason);
  });

  it("is neutral while a required check is still running", async () => {
    const app = await appFor();
    expectChangeCheck(app, { pullRequest: openPullRequest((pr) => headCheck(pr, "IN_PROGRESS", null)) });

    await app.receive("pull_request", pullRequestOpened());

    const body = checkRunWrite(app.requests);
    expect(body.conclusion).toBe("neutral");
    expect(body.output.title).toBe("2 of 3 controls pass; waiting for: required checks");
    expect(body.output.summary).toContain("Waiting for ci/test\\.");
  });

  it("judges by the base branch's policy even when the pull request switches a control off", async () => {
    const app = await appFor();
    // The head of this pull request carries a .github/soc2.yml disabling cc8.independent-approval;
    // only main's policy is read (the mocks answer no other ref), and main's keeps it on.
    const payload = pullRequestOpened();
    expectChangeCheck(app, {
      pullRequest: openPullRequest((pr) => {
        setReviews(pr, []);
      }),
      basePolicy: "version: 1\ncontrols:\n  cc8.independent-approval: { min_approvals: 1 }\n",
    });

    await app.receive("pull_request", payload);

    const policyReads = app.requests.filter((r) => r.path.includes("/contents/"));
    expect(policyReads.map((r) => r.path)).toEqual([
      "/repos/acme/.github/contents/.github/soc2.yml",
      "/repos/acme/api/contents/.github/soc2.yml?ref=main",
    ]);
    expect(policyReads.some((r) => r.path.includes(payload.pull_request.head.ref))).toBe(false);
    const body = checkRunWrite(app.requests);
    expect(body.conclusion).toBe("failure");
    expect(body.output.summary).toContain(`acme/api:.github/soc2.yml${AT}main`);
    expect(body.output.summary).toContain("0 independent approvals, 1 required");
  });

  it("fails with the file, line and column when the base branch's policy is broken", async () => {
    const app = await appFor();
    expectChangeCheck(app, {
      basePolicy: "version: 1\ncontrols:\n  cc8.independent-aproval:\n    enabled: false\n",
    });

    await app.receive("pull_request", pullRequestOpened());

    const body = checkRunWrite(app.requests);
    expect(body.conclusion).toBe("failure");
    expect(body.output.title).toBe("Policy error: 1 problem in the base branch's policy");
    expect(body.output.summary).toContain(`- \`acme/api:.github/soc2.yml${AT}main:3:3\`: unknown control`);
    expect(body.output.summary).toContain("did you mean");
  });

  it("says unknown, naming administration:read, when branch protection cannot be read", async () => {
    const app = await appFor();
    expectChangeCheck(app, {
      protection: [403, { message: "Resource not accessible by integration" }],
    });

    await app.receive("pull_request", pullRequestOpened());

    const body = checkRunWrite(app.requests);
    expect(body.conclusion).toBe("failure");
    expect(body.output.title).toBe("2 of 3 controls pass; 1 cannot be read: required checks");
    expect(body.output.summary).toContain("administration:read");
    expect(body.output.summary).toContain("❔ unknown");
  });

  it("updates the same check run when an event is delivered twice, never adding a second", async () => {
    const app = await appFor();
    const payload = pullRequestOpened();
    expectChangeCheck(app);
    expectChangeCheck(app, { existingCheckRun: 4001 }, false);

    await app.receive("pull_request", payload);
    await app.receive("pull_request", payload);

    const writes = app.requests.filter((r) => r.path.startsWith("/repos/acme/api/check-runs"));
    expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /repos/acme/api/check-runs",
      "PATCH /repos/acme/api/check-runs/4001",
    ]);
    const [created, updated] = writes.map((w) => w.body as Record<string, unknown>);
    expect(updated).toEqual({
      status: "completed",
      conclusion: "success",
      completed_at: ISO_TIME,
      output: created!.output,
    });
  });

  it("costs 3 charged requests on a later event when rules and policies are unchanged (answered 304)", async () => {
    const app = await appFor();
    const etag = (tag: string) => ({ etag: `"${tag}"` });
    const policy = "version: 1\n";
    // First event: every GET answered with an ETag.
    github(app)
      .installationToken(NOW)
      .on("POST", "/graphql", [200, { data: openPullRequest() }])
      .on("GET", "/repos/acme/api/rules/branches/main?per_page=100", [200, [], etag("rules")])
      .on("GET", "/repos/acme/api/branches/main/protection", [200, protection(), etag("protection")])
      .on("GET", `/repos/acme/.github/contents/${POLICY}`, [200, base64(policy), etag("org")])
      .on("GET", `/repos/acme/api/contents/${POLICY}?ref=main`, [200, base64(policy), etag("repo")])
      .on("GET", CHECK_RUNS, [200, { total_count: 0, check_runs: [] }])
      .on("POST", "/repos/acme/api/check-runs", [201, { id: 4001, name: CHECK_NAME }]);
    await app.receive("pull_request", pullRequestOpened());

    // Second event: the unchanged reads are asked with If-None-Match and answered 304.
    const notModified = (path: string, tag: string) =>
      nock("https://api.github.com", { reqheaders: { "if-none-match": `"${tag}"` } })
        .get(path)
        .reply(304, "", etag(tag));
    const unchanged = [
      notModified("/repos/acme/api/rules/branches/main?per_page=100", "rules"),
      notModified("/repos/acme/api/branches/main/protection", "protection"),
      notModified(`/repos/acme/.github/contents/${POLICY}`, "org"),
      notModified(`/repos/acme/api/contents/${POLICY}?ref=main`, "repo"),
    ];
    const before = app.requests.length;
    github(app)
      .on("POST", "/graphql", [200, { data: openPullRequest() }])
      .on("GET", CHECK_RUNS, [200, { total_count: 1, check_runs: [{ id: 4001, name: CHECK_NAME }] }])
      .on("PATCH", "/repos/acme/api/check-runs/4001", [200, { id: 4001 }]);
    await app.receive("pull_request", pullRequestOpened());

    expect(unchanged.every((scope) => scope.isDone())).toBe(true);
    expect(app.requests.slice(before).map((r) => `${r.method} ${r.path.split("?")[0]}`)).toEqual([
      "POST /graphql",
      `GET /repos/acme/api/commits/${HEAD}/check-runs`,
      "PATCH /repos/acme/api/check-runs/4001",
    ]);
    expect(checkRunWrite(app.requests.slice(before)).conclusion).toBe("success");
  });

  it("drops a malformed pull_request payload without a request or a crash", async () => {
    const app = await appFor();
    const payload = pullRequestOpened() as unknown as { pull_request: Record<string, unknown> };
    delete payload.pull_request.head;

    await expect(app.receive("pull_request", payload)).resolves.toBeUndefined();
    expect(app.requests).toEqual([]);
  });

  it("ignores the completion of its own check run: not one request", async () => {
    const app = await appFor();
    const payload = inAcmeApi(examplePayload("check_run", "completed"));
    Object.assign(payload.check_run, { name: CHECK_NAME });
    payload.check_run.pull_requests = [
      {
        ...payload.check_run.pull_requests[0]!,
        number: 42,
        head: { ...payload.check_run.pull_requests[0]!.head, sha: HEAD },
      },
    ];

    await app.receive("check_run", payload);

    expect(app.requests).toEqual([]);
  });

  it("ignores the completion of its own check suite: not one request", async () => {
    const app = await appFor();
    const payload = inAcmeApi(examplePayload("check_suite", "completed"));
    Object.assign(payload.check_suite.app, { id: 1 });
    payload.check_suite.pull_requests = [
      {
        ...payload.check_suite.pull_requests[0]!,
        number: 42,
        head: { ...payload.check_suite.pull_requests[0]!.head, sha: HEAD },
      },
    ];

    await app.receive("check_suite", payload);

    expect(app.requests).toEqual([]);
  });

  it("re-evaluates the pull request when another check run on its head completes", async () => {
    const app = await appFor();
    expectChangeCheck(app);
    const payload = inAcmeApi(examplePayload("check_run", "completed"));
    Object.assign(payload.check_run, { name: "ci/test" });
    payload.check_run.pull_requests = [
      {
        ...payload.check_run.pull_requests[0]!,
        number: 42,
        head: { ...payload.check_run.pull_requests[0]!.head, sha: HEAD },
      },
    ];

    await app.receive("check_run", payload);

    expect(checkRunWrite(app.requests).conclusion).toBe("success");
  });

  it("re-evaluates the pull request whose head a commit status is posted on", async () => {
    const app = await appFor();
    const [pull] = documentedExample<Record<string, unknown>[]>("pull-request-simple-items");
    const status = inAcmeApi(examplePayload("status"));
    Object.assign(status, { sha: HEAD, context: "security/snyk", state: "success" });
    github(app)
      .installationToken(NOW)
      .on("GET", `/repos/acme/api/commits/${HEAD}/pulls?per_page=100`, [
        200,
        [{ ...pull, number: 42, state: "open", head: { ...(pull!.head as object), sha: HEAD } }],
      ]);
    expectChangeCheck(app, {}, false);

    await app.receive("status", status);

    expect(checkRunWrite(app.requests)).toEqual(
      expect.objectContaining({ head_sha: HEAD, conclusion: "success" }),
    );
  });

  it("judges a merge at once and opens a finding issue for the control it fails", async () => {
    const app = await appFor();
    const merged = recordedPullRequest();
    linkCommitsToAlice(merged.repository.pullRequest);
    setReviews(merged.repository.pullRequest, []);
    github(app)
      .installationToken(NOW)
      .on("POST", "/graphql", [200, { data: merged }])
      .on("GET", "/repos/acme/api/rules/branches/main?per_page=100", [200, []])
      .on("GET", "/repos/acme/api/branches/main/protection", [200, protection()])
      .on("GET", `/repos/acme/.github/contents/${POLICY}`, [404, { message: "Not Found" }])
      .on("GET", `/repos/acme/api/contents/${POLICY}?ref=main`, [404, { message: "Not Found" }])
      .on("GET", "/repos/acme/compliance/issues?labels=soc2&state=all&per_page=100", [200, []])
      .on("POST", "/repos/acme/compliance/issues", (body) => issueCreated(7, body))
      .on("POST", "/repos/acme/compliance/issues", (body) => issueCreated(8, body))
      // After creating, the lifecycle lists again to converge with a concurrent run's duplicates.
      .on("GET", "/repos/acme/compliance/issues?labels=soc2&state=all&per_page=100", () => [
        200,
        created().map((r, i) => issueCreated(7 + i, r.body)[1]),
      ]);
    const created = () =>
      app.requests.filter((r) => r.method === "POST" && r.path === "/repos/acme/compliance/issues");
    const payload = inAcmeApi(examplePayload("pull_request", "closed"));
    Object.assign(payload, { number: 42 });
    Object.assign(payload.pull_request, { number: 42, state: "closed", merged: true });

    await app.receive("pull_request", payload);

    // Nobody approved, so the merge also went around the one approval main requires.
    expect(
      created()
        .map((r) => (r.body as { title: string }).title)
        .sort(),
    ).toEqual([
      // one issue per control and repository lists its failing merges (the policy's default grouping)
      "[soc2] cc8.independent-approval: acme/api — 1 merged change request fails",
      "[soc2] cc8.no-bypass: acme/api — 1 merged change request fails",
    ]);
    const texts = created().map(({ body }) => (body as { body: string }).body);
    expect(texts.join("\n")).toContain("— 0 independent approvals, 1 required: nobody else approved it");
    expect(texts.join("\n")).toContain("— Merged by alice bypassing branch protection");
    for (const { body } of created()) {
      expect((body as { labels: string[] }).labels[0]).toBe("soc2");
    }
    // A merge is judged, not checked: no check run is written for it.
    expect(app.requests.some((r) => r.path.includes("check-runs"))).toBe(false);
  });
});
