import nock from "nock";
import { describe, expect, it } from "vitest";
import {
  createConditionalCache,
  createGitHubClient,
  useConditionalRequests,
} from "../../../src/providers/github/index.js";
import { API, useHttpMock } from "./mock.js";

describe("conditional requests", () => {
  useHttpMock();

  it("asks again with If-None-Match, serves the cached answer on 304 and does not count it as charged", async () => {
    const cache = createConditionalCache();
    const client = createGitHubClient({ token: "t", throttle: false, conditionalCache: cache });
    nock(API)
      .get("/repos/acme/api/branches/main/protection")
      .reply(200, { enforce_admins: { enabled: true } }, { etag: '"v1"' });
    nock(API, { reqheaders: { "if-none-match": '"v1"' } })
      .get("/repos/acme/api/branches/main/protection")
      .reply(304, "", { etag: '"v1"' });

    const first = await client.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner: "acme",
      repo: "api",
      branch: "main",
    });
    const second = await client.request("GET /repos/{owner}/{repo}/branches/{branch}/protection", {
      owner: "acme",
      repo: "api",
      branch: "main",
    });
    expect(second.data).toEqual(first.data);
    expect(client.stats).toMatchObject({ requests: 1, notModified: 1 });
  });

  it("never shares answers between two tokens, and leaves writes alone", async () => {
    const cache = createConditionalCache();
    const one = createGitHubClient({ token: "one", throttle: false, conditionalCache: cache });
    const two = createGitHubClient({ token: "two", throttle: false, conditionalCache: cache });
    nock(API).get("/orgs/acme").reply(200, { login: "acme" }, { etag: '"a"' });
    // The second token's request carries no If-None-Match: nock would not match a header it did not expect.
    nock(API, { badheaders: ["if-none-match"] })
      .get("/orgs/acme")
      .reply(200, { login: "acme" }, { etag: '"a"' });
    nock(API, { badheaders: ["if-none-match"] })
      .post("/repos/acme/api/issues")
      .reply(201, { number: 1 });
    await one.request("GET /orgs/{org}", { org: "acme" });
    await two.request("GET /orgs/{org}", { org: "acme" });
    await two.request("POST /repos/{owner}/{repo}/issues", { owner: "acme", repo: "api", title: "x" });
    expect(one.stats.requests + two.stats.requests).toBe(3);
  });

  it("keeps a bounded number of answers", () => {
    const cache = createConditionalCache(2);
    cache.set("a", { etag: "1", response: 1 });
    cache.set("b", { etag: "2", response: 2 });
    cache.get("a");
    cache.set("c", { etag: "3", response: 3 });
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")?.response).toBe(1);
    expect(cache.get("c")?.response).toBe(3);
  });
});

describe("request deadline", () => {
  useHttpMock();

  it("gives up on an answer that does not come within the deadline", async () => {
    const client = createGitHubClient({ token: "t", throttle: false, requestTimeoutMs: 200 });
    nock(API).get("/orgs/acme").delay(2_000).reply(200, { login: "acme" });
    // Without the deadline the delayed answer would arrive and the request would succeed.
    await expect(client.request("GET /orgs/{org}", { org: "acme" })).rejects.toThrow();
  });
});

describe("conditional requests on an octokit wrapped twice", () => {
  useHttpMock();

  it("sends one If-None-Match and counts the 304 once", async () => {
    const cache = createConditionalCache();
    const client = createGitHubClient({ token: "t", throttle: false });
    useConditionalRequests(client, cache, "installation:1");
    useConditionalRequests(client, cache, "installation:1");
    nock(API).get("/orgs/acme").reply(200, { login: "acme" }, { etag: '"a"' });
    nock(API, { reqheaders: { "if-none-match": '"a"' } })
      .get("/orgs/acme")
      .reply(304, "", { etag: '"a"' });
    await client.request("GET /orgs/{org}", { org: "acme" });
    const again = await client.request("GET /orgs/{org}", { org: "acme" });
    expect(again.data).toEqual({ login: "acme" });
    expect(client.stats).toMatchObject({ requests: 1, notModified: 1 });
  });
});
