/**
 * The app records every judgement in the ledger: a pull request's check and a merge judged at merge
 * time (change, head SHA, results, policy hash, tool version, time). When the ledger's database
 * cannot be reached the app goes on judging: the check run is still posted and the failure is logged.
 */
import nock from "nock";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { openLedger, type JudgementContent, type Ledger } from "../../src/ledger/index.js";
import type { PullRequestNode } from "../../src/providers/github/schema.js";
import {
  expectChangeCheck,
  HEAD,
  linkCommitsToAlice,
  NOW,
  POLICY,
  protection,
  recordedPullRequest,
  review,
  setReviews,
} from "../fixtures/app/change-facts.js";
import { examplePayload, github, inAcmeApi, loadApp } from "../fixtures/app/github-app.js";
import { BACKENDS, testBackend } from "./backends.js";

const MERGE = "e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5";
const MERGED_AT = "2026-10-02T11:00:00Z";
const ISSUES = "/repos/acme/compliance/issues?labels=soc2&state=all&per_page=100";

function pullRequestOpened() {
  const payload = inAcmeApi(examplePayload("pull_request", "opened"));
  Object.assign(payload, { number: 42 });
  Object.assign(payload.pull_request, { number: 42, state: "open" });
  Object.assign(payload.pull_request.head, { sha: HEAD, ref: "feature/rate-limit" });
  Object.assign(payload.pull_request.base, { ref: "main" });
  return payload;
}

function pullRequestClosed() {
  const payload = inAcmeApi(examplePayload("pull_request", "closed"));
  Object.assign(payload, { number: 42 });
  Object.assign(payload.pull_request, { number: 42, state: "closed", merged: true });
  return payload;
}

/** #42 approved by bob on its head, merged as MERGE with ci/test green on the head and the merge commit. */
function mergedPullRequest() {
  const answer = recordedPullRequest();
  const pr = answer.repository.pullRequest;
  Object.assign(pr, { mergedAt: MERGED_AT });
  linkCommitsToAlice(pr);
  setReviews(pr, [review("bob", "APPROVED", "2026-10-02T10:00:00Z", HEAD)]);
  const contexts = pr.headCommit.nodes[0]!.commit.statusCheckRollup!.contexts;
  (contexts as { pageInfo?: object }).pageInfo ??= { hasNextPage: false, endCursor: null };
  pr.mergeCommit = {
    oid: MERGE,
    statusCheckRollup: {
      contexts: {
        totalCount: contexts.nodes.length,
        nodes: contexts.nodes,
        pageInfo: { hasNextPage: false, endCursor: null },
      },
    },
  } as NonNullable<PullRequestNode["mergeCommit"]>;
  return answer;
}

async function judgements(ledger: Ledger): Promise<JudgementContent[]> {
  const out: JudgementContent[] = [];
  for await (const record of ledger.records("judgement:github/acme/api")) {
    out.push(JSON.parse(record.content) as JudgementContent);
  }
  return out;
}

describe("the app and the ledger", () => {
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

  describe.each(BACKENDS)("on %s", (name) => {
    const backend = testBackend(name);
    let ledger: Ledger;
    afterAll(async () => {
      await ledger?.close();
      await backend.stop();
    });

    it("records a pull request's check and a merge judged at merge time", async () => {
      ledger = openLedger({ ...(await backend.fresh()), now: () => NOW });
      const app = await loadApp({ now: () => NOW, appId: 1, ledger });
      expectChangeCheck(app);
      await app.receive("pull_request", pullRequestOpened());
      expect(app.requests.filter((r) => r.path === "/repos/acme/api/check-runs")).toHaveLength(1);

      github(app)
        .on("POST", "/graphql", [200, { data: mergedPullRequest() }])
        .on("GET", "/repos/acme/api/rules/branches/main?per_page=100", [200, []])
        .on("GET", "/repos/acme/api/branches/main/protection", [200, protection()])
        .on("GET", `/repos/acme/.github/contents/${POLICY}`, [404, { message: "Not Found" }])
        .on("GET", `/repos/acme/api/contents/${POLICY}?ref=main`, [404, { message: "Not Found" }])
        .on("GET", ISSUES, [200, []]);
      await app.receive("pull_request", pullRequestClosed());

      const recorded = await judgements(ledger);
      expect(recorded.map((j) => [j.trigger, j.change, j.headSha, j.state])).toEqual([
        ["pull-request-check", "acme/api#42", HEAD, "open"],
        ["merge", "acme/api#42", HEAD, "merged"],
      ]);
      const [check, merge] = recorded;
      expect(check).toMatchObject({
        host: "github",
        conclusion: "success",
        judgedAt: NOW.toISOString(),
        policy: { hash: expect.stringMatching(/^[0-9a-f]{64}$/) as string },
        toolVersion: expect.any(String) as string,
      });
      expect(check?.results.map((r) => `${r.control} ${r.outcome}`)).toEqual(
        expect.arrayContaining(["cc8.independent-approval pass", "cc8.required-checks pass"]),
      );
      expect(merge).toMatchObject({ mergeCommitSha: MERGE, mergedAt: MERGED_AT, waiting: null });
      expect(merge?.results.length).toBeGreaterThan(0);
      expect((await ledger.verify()).breaks).toEqual([]);
    });
  });

  it("posts the check run when the ledger's database cannot be reached, and logs that it was not recorded", async () => {
    // Nothing listens on port 1: the connection is refused at once.
    const unreachable = openLedger({ databaseUrl: "postgres://soc2:secret-password@127.0.0.1:1/ledger" });
    const app = await loadApp({ now: () => NOW, appId: 1, ledger: unreachable });
    expectChangeCheck(app);

    await app.receive("pull_request", pullRequestOpened());

    const writes = app.requests.filter((r) => r.path === "/repos/acme/api/check-runs");
    expect(writes).toHaveLength(1);
    expect((writes[0]?.body as { conclusion: string }).conclusion).toBe("success");
    const failure = app.logs().find((line) => line.msg === "judgement not recorded in the ledger");
    expect(failure).toMatchObject({
      level: 50,
      change: "acme/api#42",
      trigger: "pull-request-check",
      ledger: "PostgreSQL at postgres://soc2@127.0.0.1:1/ledger",
    });
    expect(JSON.stringify(app.logs())).not.toContain("secret-password");

    // the next event is judged too: the app did not stop, and tries the database again
    expectChangeCheck(app, {}, false);
    await app.receive("pull_request", pullRequestOpened());
    expect(app.requests.filter((r) => r.path === "/repos/acme/api/check-runs")).toHaveLength(2);
    expect(app.logs().filter((line) => line.msg === "judgement not recorded in the ledger")).toHaveLength(2);
    await unreachable.close();
  });
});
