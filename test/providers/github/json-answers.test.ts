import { RequestError } from "@octokit/request-error";
import { describe, expect, it } from "vitest";
import { createGitHubClient, GitHubOctokit } from "../../../src/providers/github/client.js";
import { rateLimiterOf } from "../../../src/providers/github/read-limits.js";
import { github, useHttpMock } from "./mock.js";

// Above Number.MAX_SAFE_INTEGER: octokit's own parser (json-with-bigint) would answer a BigInt.
const BEYOND_2_53 = "9007199254740993";
const RATE_HEADERS = {
  "x-ratelimit-limit": "5000",
  "x-ratelimit-remaining": "4321",
  "x-ratelimit-used": "679",
  "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
  "x-ratelimit-resource": "core",
};
const JSON_TYPE = { "content-type": "application/json; charset=utf-8" };

function repositoryAnswer(): string {
  return `{"id":${BEYOND_2_53},"node_id":"R_kgDOAbCdEf","full_name":"acme/api","private":true}`;
}

describe("GitHub's JSON answers, parsed with JSON.parse", () => {
  useHttpMock();

  for (const throttle of [true, false]) {
    it(`parses a REST answer with JSON.parse (limits ${throttle ? "on" : "off"}): numbers stay numbers`, async () => {
      const client = createGitHubClient({ token: "test", throttle });
      github()
        .get("/repos/acme/api")
        .reply(200, repositoryAnswer(), { ...JSON_TYPE, ...RATE_HEADERS });

      const { data, status, headers, url } = await client.request("GET /repos/{owner}/{repo}", {
        owner: "acme",
        repo: "api",
      });

      expect(status).toBe(200);
      expect(url).toBe("https://api.github.com/repos/acme/api");
      expect(data).toEqual({
        id: 9007199254740992,
        node_id: "R_kgDOAbCdEf",
        full_name: "acme/api",
        private: true,
      });
      expect(typeof data.id).toBe("number");
      expect(headers["x-ratelimit-remaining"]).toBe("4321");
      expect(client.stats.requests).toBe(1);
    });
  }

  it("keeps the rate-limit headers reaching the limiter and GraphQL's reported cost reaching its budget", async () => {
    const client = createGitHubClient({ token: "test" });
    github()
      .post("/graphql")
      .reply(
        200,
        { data: { repository: { databaseId: 123456789, id: "R_kgDOAbCdEf" }, rateLimit: { cost: 3 } } },
        { ...JSON_TYPE, ...RATE_HEADERS, "x-ratelimit-resource": "graphql", "x-ratelimit-remaining": "4000" },
      );

    const answer = await client.graphql<{ repository: { databaseId: number } }>(
      'query { repository(owner: "acme", name: "api") { databaseId id } rateLimit { cost } }',
    );

    expect(answer.repository.databaseId).toBe(123456789);
    expect(rateLimiterOf(client)?.budget("graphql")).toMatchObject({ limit: 5000, remaining: 4000 });
  });

  it("follows every page of a paginated listing to its end", async () => {
    const client = createGitHubClient({ token: "test" });
    github()
      .get("/orgs/acme/members")
      .query({ per_page: 2 })
      .reply(
        200,
        [
          { login: "a", id: 1 },
          { login: "b", id: 2 },
        ],
        {
          ...JSON_TYPE,
          link: '<https://api.github.com/orgs/acme/members?per_page=2&page=2>; rel="next", <https://api.github.com/orgs/acme/members?per_page=2&page=2>; rel="last"',
        },
      )
      .get("/orgs/acme/members")
      .query({ per_page: 2, page: 2 })
      .reply(200, [{ login: "c", id: 3 }], JSON_TYPE);

    const members = await client.paginate("GET /orgs/{org}/members", { org: "acme", per_page: 2 });

    expect(members.map((member) => member.login)).toEqual(["a", "b", "c"]);
  });

  it("leaves an error answer to octokit: status, GitHub's message and the parsed body", async () => {
    const client = createGitHubClient({ token: "test", throttle: false });
    github().get("/repos/acme/gone").reply(
      404,
      {
        message: "Not Found",
        documentation_url: "https://docs.github.com/rest/repos/repos#get-a-repository",
        status: "404",
      },
      JSON_TYPE,
    );

    const failure = await client
      .request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "gone" })
      .catch((e: unknown) => e);

    expect(failure).toBeInstanceOf(RequestError);
    expect((failure as RequestError).status).toBe(404);
    expect((failure as RequestError).message).toContain("Not Found");
    expect((failure as RequestError).response?.data).toMatchObject({ message: "Not Found" });
  });

  it("answers 304 Not Modified as octokit does, a RequestError with status 304", async () => {
    const client = createGitHubClient({ token: "test", throttle: false });
    github().get("/repos/acme/api").matchHeader("if-none-match", '"abc"').reply(304, "", { etag: '"abc"' });

    const failure = await client
      .request("GET /repos/{owner}/{repo}", {
        owner: "acme",
        repo: "api",
        headers: { "if-none-match": '"abc"' },
      })
      .catch((e: unknown) => e);

    expect((failure as RequestError).status).toBe(304);
    expect(client.stats.notModified).toBe(1);
  });

  it("reads text, binary, unlabelled and malformed answers as octokit does", async () => {
    const client = createGitHubClient({ token: "test", throttle: false });
    github()
      .get("/repos/acme/api/contents/README.md")
      .reply(200, "# api\n", { "content-type": "application/vnd.github.raw+json; charset=utf-8" })
      .get("/repos/acme/api/tarball/main")
      .reply(200, Buffer.from([0x1f, 0x8b, 0x08]), { "content-type": "application/x-gzip" })
      .get("/repos/acme/api/readme")
      .reply(200, "plain")
      .get("/repos/acme/api/license")
      .reply(200, "{not json", JSON_TYPE);

    const raw = await client.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner: "acme",
      repo: "api",
      path: "README.md",
      mediaType: { format: "raw" },
    });
    const tarball = await client.request("GET /repos/{owner}/{repo}/tarball/{ref}", {
      owner: "acme",
      repo: "api",
      ref: "main",
    });
    const unlabelled = await client.request("GET /repos/{owner}/{repo}/readme", {
      owner: "acme",
      repo: "api",
    });
    const malformed = await client.request("GET /repos/{owner}/{repo}/license", {
      owner: "acme",
      repo: "api",
    });

    expect(raw.data).toBe("# api\n");
    expect(tarball.data).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(tarball.data as ArrayBuffer)]).toEqual([0x1f, 0x8b, 0x08]);
    expect(unlabelled.data).toBe("plain");
    expect(malformed.data).toBe("{not json");
  });

  it("still answers a request that asks octokit to parse after all", async () => {
    const client = createGitHubClient({ token: "test", throttle: false });
    github().get("/repos/acme/api").reply(200, repositoryAnswer(), JSON_TYPE);

    const { data } = await client.request("GET /repos/{owner}/{repo}", {
      owner: "acme",
      repo: "api",
      request: { parseSuccessResponseBody: true },
    });

    expect(data).toMatchObject({ full_name: "acme/api" });
  });

  it("parses with JSON.parse in the client class Probot builds the app's and installations' clients from", async () => {
    const octokit = new GitHubOctokit({ auth: "test", retry: { enabled: false } });
    github()
      .get("/repos/acme/api")
      .reply(200, repositoryAnswer(), { ...JSON_TYPE, ...RATE_HEADERS });

    const { data } = await octokit.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "api" });

    expect(typeof data.id).toBe("number");
    expect(rateLimiterOf(octokit)?.budget("core")).toMatchObject({ remaining: 4321 });
  });
});
