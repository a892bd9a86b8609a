/**
 * Writes whose answer is lost, or that GitHub refuses, through the real GitHub provider (nock):
 * looked up before being tried again, and reported as refusals with GitHub's own words, never as a
 * missing permission.
 */
import { describe, expect, it } from "vitest";
import type { Result } from "../../../src/controls/types.js";
import { WriteError, type CheckReport } from "../../../src/providers/types.js";
import { syncFindings } from "../../../src/reporters/findings/lifecycle.js";
import { ProbotOctokit } from "probot";
import { createGitHubHost } from "../../../src/providers/github/index.js";
import { API, github, testHost, useHttpMock } from "./mock.js";

const AT = new Date("2026-11-01T00:00:00Z");
const ISSUES = "/repos/acme/compliance/issues";
const LIST = { labels: "soc2", state: "all", per_page: 100 };

function collaborator(login: string): Result {
  return {
    control: "cc6.outside-collaborator-access",
    criterion: "CC6.2",
    title: "Outside collaborator access",
    subject: { kind: "collaborator", id: `acme/api:@${login}`, repository: "acme/api", user: login },
    outcome: "fail",
    reason: `Outside collaborator ${login} has write access.`,
    evidence: [{ label: "permission", value: "write" }],
  };
}

/** GitHub's answer for an issue created from a request body. */
function issueAnswer(number: number, body: { title: string; body: string; labels: string[] }) {
  return {
    number,
    title: body.title,
    body: body.body,
    state: "open",
    html_url: `https://github.com/acme/compliance/issues/${number}`,
    labels: body.labels.map((name) => ({ name })),
  };
}

type IssueBody = { title: string; body: string; labels: string[] };

describe("finding issues written through GitHub", () => {
  useHttpMock();

  it("after a create whose answer was lost (502), finds the issue by its fingerprint and creates no second one", async () => {
    const posted: IssueBody[] = [];
    const listed = () => posted.map((body, i) => issueAnswer(i + 1, body));
    github()
      .get(ISSUES)
      .query(LIST)
      .reply(200, [])
      // GitHub applied the create, then the gateway lost the answer.
      .post(ISSUES, (body: IssueBody) => {
        posted.push(body);
        return true;
      })
      .reply(502, { message: "Server Error" })
      .get(ISSUES)
      .query(LIST)
      .reply(200, () => listed())
      // the run looks again for other processes' duplicates
      .get(ISSUES)
      .query(LIST)
      .reply(200, () => listed());

    const summary = await syncFindings(testHost().issues("acme/compliance"), [collaborator("bob")], {
      evaluatedAt: AT,
      scope: "audit",
    });

    expect(posted).toHaveLength(1);
    expect(summary.created).toEqual([1]);
    expect(summary.failed).toEqual([]);
  });

  it("after a lost answer with no issue behind it, creates once more", async () => {
    const posted: IssueBody[] = [];
    github()
      .get(ISSUES)
      .query(LIST)
      .reply(200, [])
      .post(ISSUES)
      .reply(504, { message: "Gateway Timeout" })
      .get(ISSUES)
      .query(LIST)
      .reply(200, [])
      .post(ISSUES, (body: IssueBody) => {
        posted.push(body);
        return true;
      })
      .reply(201, (_uri, body) => issueAnswer(1, body as IssueBody))
      .get(ISSUES)
      .query(LIST)
      .reply(200, () => posted.map((body, i) => issueAnswer(i + 1, body)));

    const summary = await syncFindings(testHost().issues("acme/compliance"), [collaborator("bob")], {
      evaluatedAt: AT,
      scope: "audit",
      clock: { now: () => 0, sleep: () => Promise.resolve() },
    });

    expect(posted).toHaveLength(1);
    expect(summary.created).toEqual([1]);
  });

  it("one 422 in the middle: the other findings are written and the summary names GitHub's message and field", async () => {
    const created: IssueBody[] = [];
    github()
      .get(ISSUES)
      .query(LIST)
      .reply(200, [])
      .post(ISSUES, (body: IssueBody) => body.title.includes("alice"))
      .reply(201, (_uri, body) => {
        created.push(body as IssueBody);
        return issueAnswer(created.length, body as IssueBody);
      })
      .post(ISSUES, (body: IssueBody) => body.title.includes("bob"))
      .reply(422, {
        message: "Validation Failed",
        errors: [
          {
            resource: "Issue",
            code: "custom",
            field: "title",
            message: "title is too long (maximum is 256 characters)",
          },
        ],
        documentation_url: "https://docs.github.com/rest/issues/issues#create-an-issue",
        status: "422",
      })
      .post(ISSUES, (body: IssueBody) => body.title.includes("carol"))
      .reply(201, (_uri, body) => {
        created.push(body as IssueBody);
        return issueAnswer(created.length, body as IssueBody);
      })
      .get(ISSUES)
      .query(LIST)
      .reply(200, () => created.map((body, i) => issueAnswer(i + 1, body)));

    const summary = await syncFindings(
      testHost().issues("acme/compliance"),
      [collaborator("alice"), collaborator("bob"), collaborator("carol")],
      { evaluatedAt: AT, scope: "audit" },
    );

    expect(summary.created).toEqual([1, 2]);
    expect(summary.failed).toEqual([
      {
        action: "create",
        finding: expect.stringContaining("acme/api:@​bob"),
        applied: "no",
        status: 422,
        message: "title is too long (maximum is 256 characters)",
        fields: ["title"],
      },
    ]);
  });

  it("octokit's retries (on in production) never re-send a create or a comment whose answer was lost", async () => {
    const octokit = new ProbotOctokit({
      auth: { token: "test" },
      baseUrl: API,
      retry: { enabled: true },
      throttle: { enabled: false },
    });
    github()
      .post(ISSUES)
      .reply(502, { message: "Server Error" })
      .post(`${ISSUES}/7/comments`)
      .reply(503, { message: "Service Unavailable" });
    const tracker = createGitHubHost({ octokit }).issues("acme/compliance");

    const lost = await tracker.create({ title: "t", body: "b", labels: ["soc2"] }).catch((e: unknown) => e);
    expect((lost as WriteError).write).toMatchObject({ applied: "unknown", status: 502 });
    const comment = await tracker.comment(7, "text").catch((e: unknown) => e);
    expect((comment as WriteError).write).toMatchObject({ applied: "unknown", status: 503 });
  });

  it("a refused write names no permission; a 403 does", async () => {
    github()
      .post(ISSUES)
      .reply(422, {
        message: "Validation Failed",
        errors: [
          {
            resource: "Issue",
            code: "custom",
            field: "body",
            message: "body is too long (maximum is 65536 characters)",
          },
        ],
      })
      .post(ISSUES)
      .reply(403, { message: "Resource not accessible by integration" });
    const tracker = testHost().issues("acme/compliance");
    const issue = { title: "t", body: "b", labels: ["soc2"] };

    const refused = await tracker.create(issue).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(WriteError);
    expect((refused as WriteError).details.permission).toBeUndefined();
    expect((refused as WriteError).message).toBe(
      "GitHub refused to write a new issue in acme/compliance: 422 Validation Failed; body: body is too long (maximum is 65536 characters)",
    );
    expect((refused as WriteError).write).toMatchObject({ applied: "no", fields: ["body"] });

    const forbidden = await tracker.create(issue).catch((error: unknown) => error);
    expect((forbidden as WriteError).details.permission).toBe("issues:write");
  });
});

describe("check run whose create answer was lost", () => {
  useHttpMock();

  const HEAD = "9f2c4e1a7b3d5f6e8c0a1b2c3d4e5f60718293a4";
  const REPORT: CheckReport = {
    name: "SOC 2 change management",
    conclusion: "failure",
    title: "1 of 4 controls fails",
    summary: "| control | result |",
  };
  const RUNS = `/repos/acme/api/commits/${HEAD}/check-runs`;
  const RUNS_QUERY = { check_name: REPORT.name, filter: "latest", per_page: 100 };

  it("lists the head's runs by name and updates the one it finds instead of creating a second", async () => {
    let patched = 0;
    github()
      .get(RUNS)
      .query(RUNS_QUERY)
      .reply(200, { total_count: 0, check_runs: [] })
      .post("/repos/acme/api/check-runs")
      .reply(502, { message: "Server Error" })
      .get(RUNS)
      .query(RUNS_QUERY)
      .reply(200, { total_count: 1, check_runs: [{ id: 4001, name: REPORT.name, app: { id: 77 } }] })
      .patch("/repos/acme/api/check-runs/4001", () => {
        patched += 1;
        return true;
      })
      .reply(200, { id: 4001, name: REPORT.name });

    await testHost().publishChangeCheck({ repository: "acme/api", number: 42, headSha: HEAD }, REPORT);

    expect(patched).toBe(1);
  });

  it("reports a refused check run as refused, not as a missing checks:write", async () => {
    github()
      .get(RUNS)
      .query(RUNS_QUERY)
      .reply(200, { total_count: 0, check_runs: [] })
      .post("/repos/acme/api/check-runs")
      .reply(422, {
        message: "Validation Failed",
        errors: [
          {
            resource: "CheckRun",
            code: "custom",
            field: "summary",
            message: "summary exceeds a maximum bytesize of 65535",
          },
        ],
      });

    const error = await testHost()
      .publishChangeCheck({ repository: "acme/api", number: 42, headSha: HEAD }, REPORT)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(WriteError);
    expect((error as WriteError).details.permission).toBeUndefined();
    expect((error as WriteError).write.hostMessage).toBe("summary exceeds a maximum bytesize of 65535");
  });
});
