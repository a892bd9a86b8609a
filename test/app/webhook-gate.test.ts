import { createHmac } from "node:crypto";
import { createServer, request as httpRequest, type ClientRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { gateWebhooks } from "../../src/app/webhook-gate.js";

const SECRET = "whsec-gate-test-1b9e";
const MIB = 1024 * 1024;

/** The gate over a stand-in for Probot's middleware that answers 200 with the body it was given. */
let server: Server;
let port: number;
const warnings: object[] = [];

beforeEach(async () => {
  warnings.length = 0;
  const gate = gateWebhooks(
    (req, res) => {
      res.writeHead(200).end(`got ${(req as { body?: string }).body?.length ?? 0} characters`);
      return Promise.resolve(true);
    },
    {
      secret: SECRET,
      path: "/api/github/webhooks",
      log: { warn: (object) => void warnings.push(object) },
      maxBodyBytes: 0.75 * MIB,
      maxPendingBytes: MIB,
    },
  );
  server = createServer((req, res) => void gate(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function open(signature: string): { req: ClientRequest; answer: Promise<{ status: number; text: string }> } {
  let req!: ClientRequest;
  const answer = new Promise<{ status: number; text: string }>((resolve, reject) => {
    req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/api/github/webhooks",
        headers: {
          "content-type": "application/json",
          "x-github-event": "ping",
          "x-github-delivery": "d-1",
          "x-hub-signature-256": signature,
          "transfer-encoding": "chunked",
        },
      },
      (res) => {
        let text = "";
        res.on("data", (chunk: Buffer) => (text += chunk.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
    });
  });
  return { req, answer };
}

function sign(body: string): string {
  return `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`;
}

async function deliver(body: string): Promise<{ status: number; text: string }> {
  const { req, answer } = open(sign(body));
  req.end(body);
  return answer;
}

describe("the webhook gate's shared budget of unverified bytes", () => {
  it("answers 503 while slow unsigned uploads hold the budget, and serves again once they are refused", async () => {
    // An upload that has sent most of the budget and holds its connection open.
    const slow = open(`sha256=${"0".repeat(64)}`);
    slow.req.write(`{"zen":"${"x".repeat(0.7 * MIB)}`);

    const small = JSON.stringify({ zen: "y".repeat(0.4 * MIB) });
    let busy: { status: number; text: string } | undefined;
    for (let attempt = 0; attempt < 200 && busy?.status !== 503; attempt++) {
      busy = await deliver(small);
      if (busy.status !== 503) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(busy).toEqual({
      status: 503,
      text: JSON.stringify({ error: "too many deliveries being received at once" }),
    });
    expect(warnings).toContainEqual({ id: "d-1", event: "ping" });

    slow.req.end('"}');
    expect((await slow.answer).status).toBe(401);
    expect(await deliver(small)).toEqual({ status: 200, text: `got ${small.length} characters` });
  });

  it("refuses one body over its own limit with 413 whatever the budget", async () => {
    const large = JSON.stringify({ zen: "z".repeat(0.8 * MIB) });
    expect((await deliver(large)).status).toBe(413);
  });
});
