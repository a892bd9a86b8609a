import { createHmac } from "node:crypto";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { request as httpRequest, createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import nock from "nock";
import { Probot } from "probot";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/app/logger.js";
import { appOctokit, createServerApp } from "../../src/app/server.js";
import { MAX_WEBHOOK_BODY_BYTES } from "../../src/app/webhook-gate.js";

const require = createRequire(import.meta.url);
const PRIVATE_KEY = readFileSync(new URL("../fixtures/app/private-key.pem", import.meta.url), "utf8");
const SECRET = "whsec-server-test-7d1f";
const GHE = "https://ghe.example.com/api/v3";
/** Text that must never reach a log line: it is only in payloads nobody signed. */
const MARKER = "UNSIGNED-PAYLOAD-MARKER";

const ping = (
  require("@octokit/webhooks-examples/api.github.com/index.json") as { name: string; examples: unknown[] }[]
).find((definition) => definition.name === "ping")!.examples[0];

function memoryLog() {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString("utf8"));
      done();
    },
  });
  return {
    log: createLogger({ level: "debug", destination, secrets: [SECRET] }),
    text: () => chunks.join(""),
  };
}

/** The app as `npm start` builds it (createServerApp, the Octokit class main passes to Probot). */
async function startApp(env: Record<string, string>, log: ReturnType<typeof createLogger>) {
  // Probot's own reading of the environment without GHE_HOST: api.github.com.
  const probot = new Probot({
    appId: 1,
    privateKey: PRIVATE_KEY,
    secret: SECRET,
    log,
    baseUrl: "https://api.github.com",
    Octokit: appOctokit(GHE),
  });
  await probot.load(createServerApp({ SOC2_SCHEDULER: "off", WEBHOOK_SECRET: SECRET, ...env }, log), {
    cwd: process.cwd(),
    addHandler: () => {},
  });
  return probot;
}

describe("the app's webhook endpoint", () => {
  const memory = memoryLog();
  let server: Server;
  let port: number;
  let ledgerDir: string;

  beforeAll(async () => {
    ledgerDir = mkdtempSync(join(tmpdir(), "soc2-server-"));
    const probot = await startApp({ SOC2_LEDGER_DIR: ledgerDir }, memory.log);
    // Probot's Server mounts exactly this middleware.
    const middleware = await probot.getNodeMiddleware();
    server = createServer((req, res) => {
      void middleware(req, res, () => res.writeHead(404).end());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(ledgerDir, { recursive: true, force: true });
  });

  /** POSTs a body (chunked when `chunked`), answering the status even if the server stops reading. */
  function deliver(
    body: Buffer | string,
    { signature, chunked = false }: { signature?: string; chunked?: boolean } = {},
  ): Promise<{ status: number; text: string }> {
    const bytes = typeof body === "string" ? Buffer.from(body) : body;
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/api/github/webhooks",
          headers: {
            "content-type": "application/json",
            "x-github-event": "ping",
            "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            "x-hub-signature-256": signature ?? sign(bytes),
            ...(chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(bytes.length) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
        },
      );
      // The server closes the connection on a refused body: the rest of the upload fails, as it should.
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
      });
      if (chunked) {
        // Streamed in 1 MiB pieces, as a large delivery arrives.
        for (let offset = 0; offset < bytes.length; offset += 1024 * 1024) {
          req.write(bytes.subarray(offset, offset + 1024 * 1024));
        }
        req.end();
      } else req.end(bytes);
    });
  }

  function sign(body: Buffer): string {
    return `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
  }

  it("accepts a signed delivery of GitHub's documented ping", async () => {
    const answer = await deliver(JSON.stringify(ping));
    expect(answer).toEqual({ status: 200, text: "ok\n" });
  });

  it("refuses a wrongly signed body without logging it", async () => {
    const body = JSON.stringify({ ...(ping as object), zen: MARKER });
    const answer = await deliver(body, { signature: `sha256=${"0".repeat(64)}` });
    expect(answer.status).toBe(401);
    expect(memory.text()).toContain("GitHub webhook with a wrong signature refused");
    expect(memory.text()).toContain("72d3162e-cc78-11e3-81ab-4c9367dc0958");
    expect(memory.text()).not.toContain(MARKER);
  });

  it("answers 413 to a body over GitHub's 25 MB cap, declared or streamed, and logs none of it", async () => {
    const oversize = Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1024, MARKER);
    const declared = await deliver(oversize, { signature: `sha256=${"0".repeat(64)}` });
    expect(declared.status).toBe(413);
    const streamed = await deliver(oversize, { signature: `sha256=${"0".repeat(64)}`, chunked: true });
    expect(streamed.status).toBe(413);
    expect(memory.text()).not.toContain(MARKER);
  });

  it("answers 400, not 500, to signed JSON that is not an object", async () => {
    for (const body of ["null", "[]", "42", '"text"']) {
      const answer = await deliver(body);
      expect({ body, status: answer.status }).toEqual({ body, status: 400 });
    }
    expect((await deliver("{not json")).status).toBe(400);
  });
});

describe("GitHub Enterprise Server: one setting for the app", () => {
  afterEach(() => nock.cleanAll());

  it("sends the app's JWT and its installations' requests to GITHUB_API_URL's host, not api.github.com", async () => {
    const memory = memoryLog();
    const probot = await startApp({ SOC2_LEDGER_DIR: "unused" }, memory.log);
    const seen: { method: string; path: string; authorization: string }[] = [];
    const record = (method: string) =>
      function (this: { req: { headers: Record<string, string | string[] | undefined> } }, path: string) {
        seen.push({ method, path, authorization: String(this.req.headers.authorization).split(" ")[0]! });
        return path.endsWith("/access_tokens")
          ? [201, { token: "ghs_16C7e42F292c6912E7710c838347Ae178B4a", expires_at: "2099-01-01T00:00:00Z" }]
          : [200, { id: 1 }];
      };
    nock("https://ghe.example.com")
      .get("/api/v3/app")
      .reply(record("GET"))
      .post("/api/v3/app/installations/42/access_tokens")
      .reply(record("POST"))
      .get("/api/v3/repos/acme/api")
      .reply(record("GET"));

    const app = await probot.auth();
    await app.request("GET /app");
    const installation = await probot.auth(42);
    await installation.request("GET /repos/{owner}/{repo}", { owner: "acme", repo: "api" });

    expect(seen).toEqual([
      { method: "GET", path: "/api/v3/app", authorization: "bearer" },
      { method: "POST", path: "/api/v3/app/installations/42/access_tokens", authorization: "bearer" },
      { method: "GET", path: "/api/v3/repos/acme/api", authorization: "token" },
    ]);
    expect(nock.pendingMocks()).toEqual([]);
  });
});
