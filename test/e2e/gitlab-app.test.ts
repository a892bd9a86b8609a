import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import nock from "nock";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createGitLabEndpoint } from "../../src/app/gitlab.js";
import { openLedger, type JudgementContent, type Ledger } from "../../src/ledger/index.js";
import { createGitLabHost } from "../../src/providers/gitlab/index.js";
import { GITLAB_STATUS_NAME } from "../../src/providers/gitlab/index.js";
import { readChangesMarker } from "../../src/reporters/findings/fingerprint.js";
import {
  API,
  BASE,
  fixture,
  gitlab,
  HEAD,
  mockBranchRules,
  mockMergeRequestReads,
  mockOpenChangeContext,
  mockPipelines,
  mockProjectMembers,
  mockUsers,
  MR,
  PROJECT,
} from "../providers/gitlab/helpers.js";

/**
 * The GitLab endpoint end to end: a real HTTP delivery signed with X-Gitlab-Token, the real GitLab
 * host over fetch, and GitLab's API answered by nock (recorded answer shapes from test/fixtures).
 */

const SECRET = "hook-secret-5f2c";
const NOW = new Date("2026-10-02T12:00:00Z");

const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
let server: Server;
let url: string;
let settled: Promise<void>[];
/** Every judgement the endpoint makes is recorded here (an embedded ledger in memory). */
let ledger: Ledger;

async function listen(recordIn: Ledger): Promise<void> {
  const handle = createGitLabEndpoint({
    secret: SECRET,
    host: () => createGitLabHost({ baseUrl: BASE, token: "glpat-test-token" }),
    now: () => NOW,
    log,
    ledger: recordIn,
  });
  server = createServer((req, res) => void settled.push(handle(req, res)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gitlab/webhook`;
}

beforeAll(() => {
  ledger = openLedger({ dir: null, now: () => NOW });
});

afterAll(async () => {
  await ledger.close();
});

beforeEach(async () => {
  settled = [];
  log.info.mockReset();
  log.warn.mockReset();
  log.error.mockReset();
  await listen(ledger);
});

/** The judgements recorded since `after` (the ledger is shared by the file's tests). */
async function judgements(after = 0): Promise<JudgementContent[]> {
  const found: JudgementContent[] = [];
  for await (const record of ledger.records("judgement:gitlab/acme/api")) {
    if (record.sequence > after) found.push(JSON.parse(record.content) as JudgementContent);
  }
  return found;
}

async function head(): Promise<number> {
  let last = 0;
  for await (const record of ledger.records("judgement:gitlab/acme/api")) last = record.sequence;
  return last;
}

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

async function deliver(payload: unknown, token: string, event = "Merge Request Hook"): Promise<number> {
  const response = await fetch(url, {
    method: "POST",
    body: JSON.stringify(payload),
    headers: { "content-type": "application/json", "x-gitlab-token": token, "x-gitlab-event": event },
  });
  await response.text();
  await Promise.all(settled);
  return response.status;
}

function mergeRequestHook(action: string, state = "opened"): Record<string, unknown> {
  const hook = fixture<{ object_attributes: Record<string, unknown> }>("merge-request-hook");
  return { ...hook, object_attributes: { ...hook.object_attributes, action, state } };
}

/** One approval rule of one approval on main, so the fixture MR approved by bob is clean. */
const oneApprovalRule = [
  { ...fixture<Record<string, unknown>[]>("approval-rules")[0], approvals_required: 1 },
];

/** Everything a change check reads for !12 while it is open (no merge commit, no approval state). */
function mockOpenMergeRequest(approvals: object, headPipeline?: object): void {
  mockOpenChangeContext({
    approvals,
    approvalRules: oneApprovalRule,
    ...(headPipeline ? { headPipeline } : {}),
  });
  // No policy files: the shipped default applies.
  gitlab()
    .get(`${API}/projects/acme%2Fgitlab-profile/repository/tree`)
    .query(true)
    .reply(404, { message: "404 Project Not Found" })
    .get(`${PROJECT}/repository/tree`)
    .query({ path: ".gitlab", ref: "main", per_page: "100" })
    .reply(404, { message: "404 Tree Not Found" });
}

/** The writes of a change check: the commit status (body captured) and a first MR note. */
function mockPublish(): { status: () => unknown; note: () => string } {
  let status: unknown;
  let note = "";
  gitlab()
    .post(`${PROJECT}/statuses/${HEAD}`, (body: unknown) => {
      status = body;
      return true;
    })
    .reply(201, { id: 1, status: "success" })
    .get(`${API}/user`)
    .reply(200, { id: 99, username: "soc2-bot" })
    .get(`${MR}/notes`)
    .query(true)
    .reply(200, fixture("mr-notes"))
    .post(`${MR}/notes`, (body: { body: string }) => {
      note = body.body;
      return true;
    })
    .reply(201, {
      id: 900,
      body: "",
      system: false,
      author: { username: "soc2-bot" },
      created_at: NOW.toISOString(),
    });
  return { status: () => status, note: () => note };
}

describe("GitLab endpoint", () => {
  it("judges a clean merge request and posts a success commit status", async () => {
    mockOpenMergeRequest(fixture("mr-approvals"));
    const published = mockPublish();

    expect(await deliver(mergeRequestHook("update"), SECRET)).toBe(202);

    expect(published.status()).toEqual({
      state: "success",
      name: GITLAB_STATUS_NAME,
      description: "3 of 3 controls pass",
    });
    expect(published.note()).toContain("meets the SOC 2 change-management controls");
    expect(log.error).not.toHaveBeenCalled();
  });

  it("records the merge request check in the ledger's stream of the project", async () => {
    const before = await head();
    mockOpenMergeRequest(fixture("mr-approvals"));
    mockPublish();

    expect(await deliver(mergeRequestHook("update"), SECRET)).toBe(202);

    const [recorded, ...more] = await judgements(before);
    expect(more).toEqual([]);
    expect(recorded).toMatchObject({
      trigger: "pull-request-check",
      host: "gitlab",
      change: "acme/api#12",
      headSha: HEAD,
      state: "open",
      conclusion: "success",
      judgedAt: NOW.toISOString(),
      mergedAt: null,
    });
    // As the status said: 3 of 3 controls pass (the fourth does not apply to an open change).
    expect(recorded!.results.filter((r) => r.outcome === "pass")).toHaveLength(3);
    expect(recorded!.results.filter((r) => r.outcome === "fail" || r.outcome === "unknown")).toEqual([]);
    expect(recorded!.policy?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await ledger.verify()).breaks).toEqual([]);
    expect(log.error).not.toHaveBeenCalled();
  });

  it("posts the commit status when the ledger's database cannot be reached, and logs that it was not recorded", async () => {
    await new Promise((resolve) => server.close(resolve));
    // Port 1 on this machine: nothing listens, the connection is refused.
    const unreachable = openLedger({ databaseUrl: "postgres://soc2:hunter2pass@127.0.0.1:1/ledger" });
    await listen(unreachable);
    mockOpenMergeRequest(fixture("mr-approvals"));
    const published = mockPublish();

    expect(await deliver(mergeRequestHook("update"), SECRET)).toBe(202);

    expect(published.status()).toMatchObject({ state: "success", name: GITLAB_STATUS_NAME });
    expect(log.error).toHaveBeenCalledTimes(1);
    const [logged, message] = log.error.mock.calls[0]!;
    expect(message).toBe("judgement not recorded in the ledger");
    expect(logged).toMatchObject({ change: "acme/api#12", trigger: "pull-request-check" });
    expect(JSON.stringify(logged)).not.toContain("hunter2pass");
    await unreachable.close();
  });

  it("fails the status of a merge request nobody approved, naming the control", async () => {
    mockOpenMergeRequest({ ...fixture<Record<string, unknown>>("mr-approvals"), approved_by: [] });
    const published = mockPublish();

    expect(await deliver(mergeRequestHook("open"), SECRET)).toBe(202);

    expect(published.status()).toMatchObject({ state: "failed", name: GITLAB_STATUS_NAME });
    const { description } = published.status() as { description: string };
    expect(description).toBe("1 of 2 controls pass; 1 fails: approval");
    expect(published.note()).toContain("`cc8.independent-approval`");
  });

  it("on GitLab Free judges the merge request without the Premium approval settings, passing nothing that needs them", async () => {
    mockOpenChangeContext({ approvals: fixture("mr-approvals"), edition: "free" });
    gitlab()
      .get(`${API}/projects/acme%2Fgitlab-profile/repository/tree`)
      .query(true)
      .reply(404, { message: "404 Project Not Found" })
      .get(`${PROJECT}/repository/tree`)
      .query(true)
      .reply(404, { message: "404 Tree Not Found" });
    const published = mockPublish();

    expect(await deliver(mergeRequestHook("update"), SECRET)).toBe(202);

    // The branch's rules depend on Premium facts: the status is not a success, and says why.
    expect(published.status()).toEqual({
      state: "failed",
      name: GITLAB_STATUS_NAME,
      description: "2 of 3 controls pass; 1 cannot be read: required checks",
    });
    expect(published.note()).toContain("not available on this GitLab edition");
    expect(log.error).not.toHaveBeenCalled();
  });

  it("answers 401 to a wrong token and calls no API", async () => {
    // No mock is set up: any request to GitLab would fail the test (real network is off too).
    expect(await deliver(mergeRequestHook("update"), "not-the-secret")).toBe(401);
    expect(log.warn).toHaveBeenCalledTimes(1);
  });

  it("ignores a closed merge request and an unfinished pipeline", async () => {
    expect(await deliver(mergeRequestHook("close", "closed"), SECRET)).toBe(202);
    const pipeline = fixture<{ object_attributes: Record<string, unknown> }>("pipeline-hook");
    const running = { ...pipeline, object_attributes: { ...pipeline.object_attributes, status: "running" } };
    expect(await deliver(running, SECRET, "Pipeline Hook")).toBe(202);
    expect(log.error).not.toHaveBeenCalled();
  });

  it("ignores a finished pipeline of a merge request that is no longer open", async () => {
    // No mock is set up: any request to GitLab would fail the test.
    const pipeline = fixture<{ object_attributes: Record<string, unknown>; merge_request: object }>(
      "pipeline-hook",
    );
    const late = {
      ...pipeline,
      object_attributes: { ...pipeline.object_attributes, status: "success" },
      merge_request: { ...pipeline.merge_request, state: "merged" },
    };
    expect(await deliver(late, SECRET, "Pipeline Hook")).toBe(202);
    expect(log.error).not.toHaveBeenCalled();
  });

  it("ignores the external pipeline GitLab makes of our own commit status (no loop)", async () => {
    // No mock is set up: any request to GitLab would fail the test.
    const pipeline = fixture<{ object_attributes: Record<string, unknown> }>("pipeline-hook");
    const ours = {
      ...pipeline,
      object_attributes: { ...pipeline.object_attributes, status: "success", source: "external" },
      builds: [{ name: GITLAB_STATUS_NAME }],
    };
    expect(await deliver(ours, SECRET, "Pipeline Hook")).toBe(202);
    expect(log.error).not.toHaveBeenCalled();
  });

  it("re-judges the merge request a finished merged-results pipeline names, whose sha is no head", async () => {
    const pipeline = fixture<{ object_attributes: Record<string, unknown> }>("pipeline-hook");
    const finished = {
      ...pipeline,
      // GitLab's internal merge commit: no merge request has it as its head.
      object_attributes: { ...pipeline.object_attributes, sha: "7".repeat(40), status: "success" },
    };
    // Found by the hook's merge_request.iid, not by the pipeline's sha; the MR's head_pipeline is
    // that merged-results pipeline, which satisfies "pipelines must succeed" for the head.
    mockOpenMergeRequest(fixture("mr-approvals"), {
      id: 4700,
      sha: "7".repeat(40),
      status: "success",
      source: "merge_request_event",
      web_url: "https://gitlab.example.com/acme/api/-/pipelines/4700",
      finished_at: "2026-10-02T11:00:00.000Z",
      user: { id: 1, username: "alice" },
    });
    // GitLab's internal merge commit merges the MR's head into the target: it tested this head.
    gitlab()
      .get(`${PROJECT}/repository/commits/${"7".repeat(40)}`)
      .reply(200, { id: "7".repeat(40), parent_ids: ["c".repeat(40), HEAD] });
    const published = mockPublish();

    expect(await deliver(finished, SECRET, "Pipeline Hook")).toBe(202);

    // The status goes on the merge request's own head, and every control passes.
    expect(published.status()).toEqual({
      state: "success",
      name: GITLAB_STATUS_NAME,
      description: "3 of 3 controls pass",
    });
  });

  it("re-judges the open merge requests of a finished branch pipeline's commit", async () => {
    const pipeline = fixture<{ object_attributes: Record<string, unknown> }>("pipeline-hook");
    const finished = {
      ...pipeline,
      object_attributes: { ...pipeline.object_attributes, sha: HEAD, status: "success", source: "push" },
      // A branch pipeline names no merge request.
      merge_request: null,
    };
    gitlab()
      .get(`${PROJECT}/repository/commits/${HEAD}/merge_requests`)
      .query(true)
      .reply(200, [{ ...fixture<Record<string, unknown>>("merge-request"), state: "opened" }]);
    mockOpenMergeRequest(fixture("mr-approvals"));
    const published = mockPublish();

    expect(await deliver(finished, SECRET, "Pipeline Hook")).toBe(202);

    expect(published.status()).toMatchObject({ state: "success", name: GITLAB_STATUS_NAME });
  });

  it("logs a failure redacted and publishes an unknown status when GitLab refuses", async () => {
    gitlab().get(MR).reply(403, { message: "403 Forbidden glpat-leakedtoken0123456789" });
    const published = mockPublish();

    expect(await deliver(mergeRequestHook("reopen"), SECRET)).toBe(202);

    expect(published.status()).toEqual({
      state: "failed",
      name: GITLAB_STATUS_NAME,
      description: "Unknown: the change could not be evaluated",
    });
    const logged = JSON.stringify(log.error.mock.calls);
    expect(logged).toContain("answered 403");
    expect(logged).not.toContain("glpat-leakedtoken");
  });

  it("lists a merged merge request that failed controls in one finding issue per control and project", async () => {
    const merged = fixture<Record<string, unknown>>("merge-request");
    mockMergeRequestReads(merged, { ...fixture<Record<string, unknown>>("mr-approvals"), approved_by: [] });
    mockProjectMembers();
    // The author alice (bob approved earlier, by the notes, and was reset).
    mockUsers([1, 2]);
    mockPipelines(true);
    mockBranchRules(oneApprovalRule);
    gitlab()
      .get(`${MR}/approval_state`)
      .reply(200, {
        rules: [{ name: "Maintainers", approvals_required: 1, approved: false, approved_by: [] }],
      })
      .get(`${API}/projects/acme%2Fgitlab-profile/repository/tree`)
      .query(true)
      .reply(404, { message: "404 Project Not Found" })
      .get(`${PROJECT}/repository/tree`)
      .query({ path: ".gitlab", ref: "main", per_page: "100" })
      .reply(404, { message: "404 Tree Not Found" });
    const ISSUES = `${API}/projects/acme%2Fcompliance/issues`;
    const created: Record<string, unknown>[] = [];
    const issueOf = (body: { title: string; description: string; labels: string }) => ({
      ...fixture<Record<string, unknown>>("issue"),
      iid: 100 + created.length,
      title: body.title,
      description: body.description,
      labels: body.labels.split(","),
    });
    gitlab()
      .get(ISSUES)
      .query({ labels: "soc2", state: "all", per_page: "100" })
      .reply(200, [])
      .post(ISSUES)
      .times(2)
      .reply(201, (_uri, body) => {
        const issue = issueOf(body as { title: string; description: string; labels: string });
        created.push(issue);
        return issue;
      })
      // After creating, the lifecycle lists again to close duplicates another process made.
      .get(ISSUES)
      .query({ labels: "soc2", state: "all", per_page: "100" })
      .reply(200, () => created);

    expect(await deliver(mergeRequestHook("merge", "merged"), SECRET)).toBe(202);

    // No approval, and merged while the approval rule was unsatisfied: two findings, no status. By
    // default (findings.group_change_requests: by_repository) each is the issue of its control and
    // project, listing !12 (GitLab's name for a merge request; #12 would be an issue) with its link.
    expect(created.map((issue) => issue.labels)).toEqual([
      ["soc2", "CC8.1", "cc8.independent-approval"],
      ["soc2", "CC8.1", "cc8.no-bypass"],
    ]);
    expect(created.map((issue) => issue.title)).toEqual([
      "[soc2] cc8.independent-approval: acme/api — 1 merged change request fails",
      "[soc2] cc8.no-bypass: acme/api — 1 merged change request fails",
    ]);
    const listed = created.map((issue) => String(issue.description));
    for (const description of listed) {
      expect(readChangesMarker(description)?.failing).toEqual([12]);
      expect(description).toContain(
        "- [acme/api\\!\u200B12](https://gitlab.example.com/acme/api/-/merge_requests/12) — ",
      );
    }
    expect(listed[0]).toContain("0 independent approvals, 1 required: nobody else approved it");
    expect(listed[1]).toContain("Merged by alice bypassing branch protection");
    expect(log.error).not.toHaveBeenCalled();
    // Judged at merge time, and recorded as such.
    const recorded = (await judgements()).filter((j) => j.trigger === "merge");
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatchObject({ host: "gitlab", change: "acme/api#12", state: "merged" });
    expect(recorded[0]!.mergedAt).not.toBeNull();
    expect(
      recorded[0]!.results
        .filter((r) => r.outcome === "fail")
        .map((r) => r.control)
        .sort(),
    ).toEqual(["cc8.independent-approval", "cc8.no-bypass"]);
  });
});
