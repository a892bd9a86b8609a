/**
 * CPU spent on one GraphQL answer page: octokit's own parse (json-with-bigint, what
 * @octokit/request 10 does with every JSON answer) against JSON.parse, then end to end through
 * createGitHubClient and a plain ProbotOctokit against a local server (a child process, so its CPU
 * is not counted) answering an ~86 KB page shaped like a page of 60 merged pull requests.
 *
 *   npx tsx bench/json-parse.ts [--pages 300]
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { parseArgs } from "node:util";
import { JSONParse } from "json-with-bigint";
import { ProbotOctokit } from "probot";
import { createGitHubClient } from "../src/providers/github/index.js";

function pullRequestPage(): string {
  const nodes = Array.from({ length: 60 }, (_, i) => ({
    id: `PR_kwDOAbCdEf5${String(1_000_000 + i)}`,
    number: 4000 + i,
    title: `Change ${i}: bump the dependency and adjust the configuration`,
    url: `https://github.com/acme/api/pull/${4000 + i}`,
    mergedAt: "2026-03-14T12:34:56Z",
    baseRefName: "main",
    author: { login: `dev-${i % 17}`, __typename: "User", databaseId: 10_000_000 + i },
    mergeCommit: { oid: "9f".repeat(20) },
    headRefOid: "a1".repeat(20),
    reviews: {
      totalCount: 2,
      nodes: [0, 1].map((r) => ({
        state: "APPROVED",
        submittedAt: "2026-03-14T11:00:00Z",
        commit: { oid: "a1".repeat(20) },
        author: { login: `reviewer-${r}`, __typename: "User", databaseId: 20_000_000 + r },
        authorCanPushToRepository: true,
      })),
    },
    commits: {
      totalCount: 2,
      nodes: [0, 1].map((c) => ({
        commit: {
          oid: `${c}b`.repeat(20),
          committedDate: "2026-03-14T10:00:00Z",
          author: { user: { login: `dev-${i % 17}` }, email: "dev@example.com", name: "Dev" },
          committer: { user: null, email: "noreply@github.com", name: "GitHub" },
        },
      })),
    },
  }));
  return JSON.stringify({
    data: {
      repository: {
        pullRequests: {
          pageInfo: { hasNextPage: true, endCursor: "Y3Vyc29yOnYyOpK5MjAyNi0wMy0xNFQxMjozNDo1NlrOAbCdEf" },
          nodes,
        },
      },
      rateLimit: { cost: 1, remaining: 4999, resetAt: "2026-03-14T13:00:00Z" },
    },
  });
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

async function perPage(pages: number, read: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 20; i += 1) await read();
  const start = process.cpuUsage();
  for (let i = 0; i < pages; i += 1) await read();
  return cpuMs(start) / pages;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pages: { type: "string", default: "300" } } });
  const pages = Number(values.pages);
  const page = pullRequestPage();
  console.log(`page: ${(Buffer.byteLength(page) / 1024).toFixed(1)} KB`);

  const parseOnly = (parse: (text: string) => unknown) => {
    for (let i = 0; i < 50; i += 1) parse(page);
    const start = process.cpuUsage();
    for (let i = 0; i < pages; i += 1) parse(page);
    return cpuMs(start) / pages;
  };
  console.log(
    `parse only: json-with-bigint ${parseOnly(JSONParse).toFixed(3)} ms, JSON.parse ${parseOnly(JSON.parse).toFixed(3)} ms`,
  );

  const server = spawn(
    process.execPath,
    [
      "-e",
      `let body = ""; process.stdin.setEncoding("utf8"); process.stdin.on("data", (c) => { body += c; });
       process.stdin.on("end", () => {
       const s = require("node:http").createServer((q, r) => { q.resume(); q.on("end", () => {
         r.writeHead(200, { "content-type": "application/json; charset=utf-8", "x-ratelimit-limit": "5000",
           "x-ratelimit-remaining": "4999", "x-ratelimit-used": "1", "x-ratelimit-reset": "9999999999",
           "x-ratelimit-resource": "graphql" });
         r.end(body); }); });
       s.listen(0, "127.0.0.1", () => console.log(s.address().port)); });`,
    ],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  server.stdin.end(page);
  const [chunk] = (await once(server.stdout, "data")) as [Buffer];
  const baseUrl = `http://127.0.0.1:${chunk.toString().trim()}`;
  const query = 'query { repository(owner: "acme", name: "api") { id } }';
  try {
    const ours = createGitHubClient({ token: "bench", baseUrl, throttle: true });
    const unthrottled = createGitHubClient({ token: "bench", baseUrl, throttle: false });
    const plain = new ProbotOctokit({
      auth: { token: "bench" },
      baseUrl,
      throttle: { enabled: false },
      retry: { enabled: false },
    });
    const ourAnswer = (await ours.graphql(query)) as { repository: { pullRequests: { nodes: unknown[] } } };
    if (ourAnswer.repository.pullRequests.nodes.length !== 60)
      throw new Error("createGitHubClient: not the page");
    const clients: [string, () => Promise<unknown>][] = [
      ["createGitHubClient (limits on)", () => ours.graphql(query)],
      ["createGitHubClient (limits off)", () => unthrottled.graphql(query)],
      ["ProbotOctokit, octokit's parse", () => plain.graphql(query)],
    ];
    for (const [name, read] of clients) {
      console.log(`end to end, CPU per page: ${name} ${(await perPage(pages, read)).toFixed(3)} ms`);
    }
  } finally {
    server.kill();
  }
}

await main();
