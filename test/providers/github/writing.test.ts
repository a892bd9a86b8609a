import { describe, expect, it } from "vitest";
import type { CheckReport } from "../../../src/providers/types.js";
import { github, testHost, useHttpMock } from "./mock.js";

const HEAD = "9f2c4e1a7b3d5f6e8c0a1b2c3d4e5f60718293a4";
const TARGET = { repository: "acme/api", number: 42, headSha: HEAD };
const REPORT: CheckReport = {
  name: "SOC 2 change management",
  conclusion: "failure",
  title: "1 of 4 controls fails",
  summary: "| control | result |\n| --- | --- |\n| cc8.approved | fail |",
};
const EXPECTED_OUTPUT = { title: REPORT.title, summary: REPORT.summary };

describe("publishChangeCheck", () => {
  useHttpMock();

  it("creates the check run when the head has none of that name", async () => {
    let posted: Record<string, unknown> = {};
    github()
      .get(`/repos/acme/api/commits/${HEAD}/check-runs`)
      .query({ check_name: REPORT.name, filter: "latest", per_page: 100 })
      .reply(200, { total_count: 0, check_runs: [] })
      .post("/repos/acme/api/check-runs", (body: Record<string, unknown>) => {
        posted = body;
        return true;
      })
      .reply(201, { id: 4001, name: REPORT.name });

    await testHost().publishChangeCheck(TARGET, REPORT);

    expect(posted).toEqual({
      name: REPORT.name,
      head_sha: HEAD,
      status: "completed",
      conclusion: "failure",
      completed_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      output: EXPECTED_OUTPUT,
    });
  });

  it("updates the same check run on a re-delivery instead of creating a second", async () => {
    const patched: Record<string, unknown>[] = [];
    github()
      .get(`/repos/acme/api/commits/${HEAD}/check-runs`)
      .query({ check_name: REPORT.name, filter: "latest", per_page: 100 })
      .reply(200, { total_count: 1, check_runs: [{ id: 4001, name: REPORT.name, app: { id: 77 } }] })
      .patch("/repos/acme/api/check-runs/4001", (body: Record<string, unknown>) => {
        patched.push(body);
        return true;
      })
      .reply(200, { id: 4001, name: REPORT.name });

    await testHost().publishChangeCheck(TARGET, {
      ...REPORT,
      conclusion: "success",
      detailsUrl: "https://soc2.example/r/1",
    });

    expect(patched).toEqual([
      {
        status: "completed",
        conclusion: "success",
        completed_at: expect.any(String),
        output: EXPECTED_OUTPUT,
        details_url: "https://soc2.example/r/1",
      },
    ]);
  });
});

describe("issues", () => {
  useHttpMock();

  const issue = (number: number, extra: Record<string, unknown> = {}) => ({
    number,
    title: `Finding ${number}`,
    body: "fingerprint: abc",
    state: "open",
    html_url: `https://github.com/acme/compliance/issues/${number}`,
    labels: [{ name: "soc2" }],
    ...extra,
  });

  it("lists issues with the label across pages, leaving pull requests out", async () => {
    github()
      .get("/repos/acme/compliance/issues")
      .query({ labels: "soc2", state: "all", per_page: 100 })
      .reply(
        200,
        [
          issue(1),
          issue(2, { pull_request: { url: "https://api.github.com/repos/acme/compliance/pulls/2" } }),
        ],
        {
          Link: '<https://api.github.com/repositories/5/issues?labels=soc2&state=all&per_page=100&page=2>; rel="next"',
        },
      )
      .get("/repositories/5/issues")
      .query({ labels: "soc2", state: "all", per_page: 100, page: 2 })
      .reply(200, [issue(3, { state: "closed", body: null, labels: ["soc2", { name: "cc6.1" }] })]);

    const issues = await testHost().issues("acme/compliance").listByLabel("soc2");

    expect(issues).toEqual([
      {
        number: 1,
        title: "Finding 1",
        body: "fingerprint: abc",
        state: "open",
        url: "https://github.com/acme/compliance/issues/1",
        labels: ["soc2"],
      },
      {
        number: 3,
        title: "Finding 3",
        body: "",
        state: "closed",
        url: "https://github.com/acme/compliance/issues/3",
        labels: ["soc2", "cc6.1"],
      },
    ]);
  });

  it("creates, updates and comments with exactly the bodies asked for", async () => {
    const bodies: unknown[] = [];
    const record = (body: unknown) => {
      bodies.push(body);
      return true;
    };
    github()
      .post("/repos/acme/compliance/issues", record)
      .reply(201, issue(7))
      .patch("/repos/acme/compliance/issues/7", record)
      .reply(200, issue(7, { state: "closed" }))
      .post("/repos/acme/compliance/issues/7/comments", record)
      .reply(201, { id: 1 });
    const tracker = testHost().issues("acme/compliance");

    const created = await tracker.create({ title: "Finding 7", body: "fingerprint: abc", labels: ["soc2"] });
    const closed = await tracker.update(7, { state: "closed" });
    await tracker.comment(7, "Resolved: branch protection restored.");

    expect(created.number).toBe(7);
    expect(closed.state).toBe("closed");
    expect(bodies).toEqual([
      { title: "Finding 7", body: "fingerprint: abc", labels: ["soc2"] },
      { state: "closed" },
      { body: "Resolved: branch protection restored." },
    ]);
  });
});
