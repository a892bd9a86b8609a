import { generateKeyPairSync } from "node:crypto";
import { parse, validate, buildSchema } from "graphql";
import { schema } from "@octokit/graphql-schema";
import { describe, expect, it } from "vitest";
import { createGitHubClient, createGitHubHost, graphqlUrl } from "../../../src/providers/github/index.js";
import {
  BRANCH_HISTORY_QUERY,
  MERGED_PULL_REQUESTS_QUERY,
  PULL_REQUEST_QUERY,
} from "../../../src/providers/github/queries.js";
import { github, testHost, useHttpMock } from "./mock.js";

describe("createGitHubClient", () => {
  useHttpMock();

  it("retries a secondary rate limit after retry-after, once, then succeeds", async () => {
    const client = createGitHubClient({ token: "test" });
    github()
      .get("/repos/acme/api/contents/.github%2Fsoc2.yml")
      .reply(
        403,
        {
          message:
            "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        },
        {
          "retry-after": "1",
        },
      )
      .get("/repos/acme/api/contents/.github%2Fsoc2.yml")
      .reply(200, {
        type: "file",
        encoding: "base64",
        content: Buffer.from("controls: {}\n").toString("base64"),
      });

    const started = Date.now();
    const text = await createGitHubHost({ octokit: client }).readFile("acme/api", ".github/soc2.yml");

    expect(text).toBe("controls: {}\n");
    expect(client.stats.requests).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it("finds GraphQL where octokit does, for github.com and GHES", () => {
    expect(graphqlUrl("https://api.github.com")).toBe("https://api.github.com/graphql");
    expect(graphqlUrl("https://ghe.example/api/v3")).toBe("https://ghe.example/api/graphql");
  });
});

describe("reading files and credentials", () => {
  useHttpMock();

  it("decodes a file and answers null for one that does not exist", async () => {
    github()
      .get("/repos/acme/.github/contents/.github%2Fsoc2.yml")
      .query({ ref: "main" })
      .reply(200, {
        type: "file",
        encoding: "base64",
        content: Buffer.from("audit:\n  schedule: daily\n").toString("base64"),
      })
      .get("/repos/acme/api/contents/.github%2Fsoc2.yml")
      .reply(404, { message: "Not Found" });
    const host = testHost();

    expect(await host.readFile("acme/.github", ".github/soc2.yml", "main")).toBe(
      "audit:\n  schedule: daily\n",
    );
    expect(await host.readFile("acme/api", ".github/soc2.yml")).toBeNull();
  });

  it("authenticates as an app installation and describes it by the permissions of its token", async () => {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs1", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    const client = createGitHubClient({ appId: 1234, privateKey, installationId: 99, throttle: false });
    github()
      .post("/app/installations/99/access_tokens")
      .reply(201, {
        token: "ghs_installation",
        expires_at: "2099-01-01T00:00:00Z",
        permissions: { checks: "write", metadata: "read", administration: "read" },
        repository_selection: "all",
      })
      .get("/repos/acme/api/contents/.github%2Fsoc2.yml")
      .matchHeader("authorization", "token ghs_installation")
      .reply(404, { message: "Not Found" });
    const host = createGitHubHost({ octokit: client });

    expect(await host.describeCredentials()).toEqual({
      actor: "installation:99",
      permissions: { checks: "write", metadata: "read", administration: "read" },
    });
    expect(await host.readFile("acme/api", ".github/soc2.yml")).toBeNull();
  });

  it("describes token credentials by the user and the scopes GitHub reports", async () => {
    github().get("/user").reply(200, { login: "auditor" }, { "x-oauth-scopes": "repo, read:org" });

    expect(await testHost().describeCredentials()).toEqual({
      actor: "auditor",
      permissions: { repo: "granted", "read:org": "granted" },
    });
  });
});

describe("GraphQL queries", () => {
  it("are valid against GitHub's published schema", () => {
    const github = buildSchema(schema.idl, { assumeValidSDL: true });
    for (const query of [PULL_REQUEST_QUERY, MERGED_PULL_REQUESTS_QUERY, BRANCH_HISTORY_QUERY]) {
      expect(validate(github, parse(query)).map((e) => e.message)).toEqual([]);
    }
  });
});
