import nock from "nock";
import { describe, expect, it } from "vitest";
import { ProviderError, UsageError } from "../../../src/errors.js";
import { gitHubApiUrl } from "../../../src/providers/github/api-origin.js";
import { createGitHubClient, createGitHubHost } from "../../../src/providers/github/index.js";
import { hostFromEnvironment } from "../../../src/providers/index.js";
import { API, github, useHttpMock } from "./mock.js";

const TOKEN = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";
const GHE = "https://ghe.example.com/api/v3";

/** A request nock saw for a host, with the credentials it carried. */
function recordRequests(origin: string): { seen: { path: string; authorization: string | undefined }[] } {
  const record = { seen: [] as { path: string; authorization: string | undefined }[] };
  nock(origin)
    .persist()
    .get(/.*/)
    .reply(function (path) {
      const header = this.req.headers.authorization;
      record.seen.push({ path, authorization: Array.isArray(header) ? header.join(",") : header });
      return [200, []];
    });
  return record;
}

describe("pagination follows Link only to the configured API", () => {
  const http = useHttpMock();

  it("refuses a next page on another host before sending anything there", async () => {
    const elsewhere = recordRequests("https://collector.example.net");
    github()
      .get("/orgs/acme/repos")
      .query({ type: "all", per_page: "100" })
      .reply(200, [{ full_name: "acme/api" }], {
        link: '<https://collector.example.net/orgs/acme/repos?page=2>; rel="next"',
      });
    const octokit = createGitHubClient({ token: TOKEN, throttle: false });
    const host = createGitHubHost({ octokit });

    const names: string[] = [];
    const reading = (async () => {
      for await (const name of host.listRepositories("acme")) names.push(name);
    })();

    await expect(reading).rejects.toThrow(ProviderError);
    await expect(reading).rejects.toThrow(
      /Refused to send a GitHub request to https:\/\/collector\.example\.net: only https:\/\/api\.github\.com/,
    );
    expect(names).toEqual(["acme/api"]);
    expect(elsewhere.seen).toEqual([]);
    nock.cleanAll();
    expect(http.unexpected).toEqual([]);
  });

  it("follows a next page on its own host (GitHub Enterprise Server)", async () => {
    nock("https://ghe.example.com")
      .get("/api/v3/orgs/acme/repos")
      .query({ type: "all", per_page: "100" })
      .reply(200, [{ full_name: "acme/api" }], {
        link: '<https://ghe.example.com/api/v3/organizations/1/repos?page=2>; rel="next"',
      })
      .get("/api/v3/organizations/1/repos")
      .query({ page: "2" })
      .reply(200, [{ full_name: "acme/web" }]);
    const octokit = createGitHubClient({ token: TOKEN, baseUrl: GHE, throttle: false });
    const host = createGitHubHost({ octokit, baseUrl: GHE });

    const names: string[] = [];
    for await (const name of host.listRepositories("acme")) names.push(name);
    expect(names).toEqual(["acme/api", "acme/web"]);
  });

  it("refuses a request whose own base URL names another host", async () => {
    const elsewhere = recordRequests("https://collector.example.net");
    const octokit = createGitHubClient({ token: TOKEN, throttle: false });
    await expect(octokit.request("GET /user", { baseUrl: "https://collector.example.net" })).rejects.toThrow(
      /Refused to send a GitHub request to https:\/\/collector\.example\.net/,
    );
    expect(elsewhere.seen).toEqual([]);
    nock.cleanAll();
  });
});

describe("one GitHub Enterprise setting", () => {
  it("reads GITHUB_API_URL, or Probot's GHE_HOST as the same URL, and refuses the two disagreeing", () => {
    expect(gitHubApiUrl({})).toBe(API);
    expect(gitHubApiUrl({ GITHUB_API_URL: `${GHE}/` })).toBe(GHE);
    expect(gitHubApiUrl({ GHE_HOST: "ghe.example.com" })).toBe(GHE);
    expect(gitHubApiUrl({ GHE_HOST: "ghe.example.com", GHE_PROTOCOL: "http" })).toBe(
      "http://ghe.example.com/api/v3",
    );
    expect(gitHubApiUrl({ GITHUB_API_URL: GHE, GHE_HOST: "ghe.example.com" })).toBe(GHE);
    expect(() => gitHubApiUrl({ GITHUB_API_URL: GHE, GHE_HOST: "other.example.com" })).toThrow(UsageError);
    expect(() => gitHubApiUrl({ GITHUB_API_URL: GHE, GHE_HOST: "other.example.com" })).toThrow(
      "GITHUB_API_URL (https://ghe.example.com/api/v3) and GHE_HOST (https://other.example.com/api/v3) name different GitHub APIs: set GITHUB_API_URL alone",
    );
    expect(() => gitHubApiUrl({ GITHUB_API_URL: "ghe.example.com" })).toThrow(
      'GITHUB_API_URL is not a URL: "ghe.example.com"',
    );
  });

  it("sends the command line's requests to the host GHE_HOST names", async () => {
    const ghe = recordRequests("https://ghe.example.com");
    const { host } = await hostFromEnvironment("github", "acme", {
      GITHUB_TOKEN: TOKEN,
      GHE_HOST: "ghe.example.com",
    });
    for await (const name of host.listRepositories("acme")) expect(name).toBeUndefined();
    expect(ghe.seen).toEqual([
      { path: "/api/v3/orgs/acme/repos?type=all&per_page=100", authorization: `token ${TOKEN}` },
    ]);
    nock.cleanAll();
  });
});
