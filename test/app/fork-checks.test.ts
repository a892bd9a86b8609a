/**
 * Pull requests from forks: GitHub documents that a check suite or check run whose head was pushed
 * to a fork carries an empty `pull_requests` and a null `head_branch`. The payloads below are the
 * real @octokit/webhooks-examples ones, edited only there (and pointed at acme/api and the pull
 * request's head): that is exactly how a fork's check event differs from the examples. The pull
 * request is then found by its head SHA among the open pull requests, so its check run is updated
 * when CI ends.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CHECK_NAME } from "../../src/reporters/check.js";
import { expectChangeCheck, HEAD, NOW } from "../fixtures/app/change-facts.js";
import {
  documentedExample,
  examplePayload,
  github,
  inAcmeApi,
  loadApp,
  type RecordedRequest,
} from "../fixtures/app/github-app.js";

const OPEN_PULLS = "/repos/acme/api/pulls?state=open&per_page=100";

/**
 * GitHub's documented answer of GET /repos/{owner}/{repo}/pulls (pull-request-simple-items), as
 * open pull requests: #42 from octocat's fork with head HEAD, and the others with heads of their own.
 */
function openPulls(numbers: number[], withFork: boolean) {
  const [pull] = documentedExample<Record<string, unknown>[]>("pull-request-simple-items");
  const head = pull!.head as { repo: Record<string, unknown> };
  return numbers.map((number) => ({
    ...pull,
    number,
    state: "open",
    merged_at: null,
    head: {
      ...head,
      ref: number === 42 ? "patch-1" : `topic-${number}`,
      label: number === 42 ? "octocat:patch-1" : `acme:topic-${number}`,
      sha: withFork && number === 42 ? HEAD : `${String(number).padStart(4, "0")}${"0".repeat(36)}`,
      // A fork: the head repository is octocat's copy of acme/api.
      repo: { ...head.repo, full_name: number === 42 ? "octocat/api" : "acme/api", fork: number === 42 },
    },
  }));
}

function forkCheckSuite() {
  const payload = inAcmeApi(examplePayload("check_suite", "completed"));
  Object.assign(payload.check_suite, { head_sha: HEAD, head_branch: null, pull_requests: [] });
  return payload;
}

function forkCheckRun() {
  const payload = inAcmeApi(examplePayload("check_run", "completed"));
  Object.assign(payload.check_run, { name: "ci/test", head_sha: HEAD, pull_requests: [] });
  Object.assign(payload.check_run.check_suite, { head_sha: HEAD, head_branch: null, pull_requests: [] });
  return payload;
}

const checkRunWrites = (requests: RecordedRequest[]) =>
  requests.filter((r) => r.path.startsWith("/repos/acme/api/check-runs"));

describe("check events of pull requests from forks", () => {
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

  const appFor = () => loadApp({ now: () => NOW, appId: 1 });

  it("updates the fork's pull request when its check suite completes, found by head SHA among the open pull requests", async () => {
    const app = await appFor();
    github(app)
      .installationToken(NOW)
      .on("GET", OPEN_PULLS, [200, openPulls([40, 42, 43], true)]);
    expectChangeCheck(app, {}, false);

    await app.receive("check_suite", forkCheckSuite());

    // The documented fork case goes straight to the open pull requests.
    expect(app.requests.some((r) => r.path.includes(`/commits/${HEAD}/pulls`))).toBe(false);
    expect(app.requests[1]).toEqual({ method: "GET", path: OPEN_PULLS });
    const [write] = checkRunWrites(app.requests);
    expect(write?.body).toEqual(
      expect.objectContaining({
        name: CHECK_NAME,
        head_sha: HEAD,
        status: "completed",
        conclusion: "success",
      }),
    );
    expect(app.requests.find((r) => r.path === "/graphql")?.body).toEqual(
      expect.objectContaining({
        variables: expect.objectContaining({ owner: "acme", name: "api", number: 42 }) as unknown,
      }),
    );
  });

  it("updates the fork's pull request when one of its check runs completes", async () => {
    const app = await appFor();
    github(app)
      .installationToken(NOW)
      .on("GET", OPEN_PULLS, [200, openPulls([42], true)]);
    expectChangeCheck(app, {}, false);

    await app.receive("check_run", forkCheckRun());

    expect(checkRunWrites(app.requests)).toHaveLength(1);
    expect(checkRunWrites(app.requests)[0]!.body).toEqual(expect.objectContaining({ head_sha: HEAD }));
  });

  it("reads the open pull requests to the last page to find the fork's", async () => {
    const app = await appFor();
    const page2 = `${OPEN_PULLS}&page=2`;
    github(app)
      .installationToken(NOW)
      .on("GET", OPEN_PULLS, [
        200,
        openPulls(
          Array.from({ length: 100 }, (_, i) => 100 + i),
          false,
        ),
        {
          link: `<https://api.github.com${page2}>; rel="next", <https://api.github.com${page2}>; rel="last"`,
        },
      ])
      .on("GET", page2, [200, openPulls([42, 300], true)]);
    expectChangeCheck(app, {}, false);

    await app.receive("check_suite", forkCheckSuite());

    expect(app.requests.filter((r) => r.path.startsWith("/repos/acme/api/pulls")).map((r) => r.path)).toEqual(
      [OPEN_PULLS, page2],
    );
    expect(checkRunWrites(app.requests)).toHaveLength(1);
  });

  it("updates the fork's pull request on a commit status no branch of the repository contains", async () => {
    const app = await appFor();
    const status = inAcmeApi(examplePayload("status"));
    // A fork's head is on no branch of acme/api: GitHub lists no branch for it.
    Object.assign(status, { sha: HEAD, context: "ci/test", state: "success", branches: [] });
    github(app)
      .installationToken(NOW)
      .on("GET", `/repos/acme/api/commits/${HEAD}/pulls?per_page=100`, [200, []])
      .on("GET", OPEN_PULLS, [200, openPulls([41, 42], true)]);
    expectChangeCheck(app, {}, false);

    await app.receive("status", status);

    expect(checkRunWrites(app.requests)).toHaveLength(1);
  });

  it("writes nothing when no open pull request has the fork's head", async () => {
    const app = await appFor();
    github(app)
      .installationToken(NOW)
      .on("GET", OPEN_PULLS, [200, openPulls([40, 41], false)]);

    await app.receive("check_suite", forkCheckSuite());

    expect(app.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "POST /app/installations/2/access_tokens",
      `GET ${OPEN_PULLS}`,
    ]);
  });
});
