/**
 * The connection budget both clients share (src/providers/connection.ts), with a fetch that fails
 * the way undici's does: a TypeError "fetch failed" whose cause carries the system's code.
 */
import { createServer } from "node:http";
import { describe, expect, it } from "vitest";
import { UnreachableError } from "../../src/errors.js";
import { connectionFailure, guardedFetch } from "../../src/providers/connection.js";

const API = "https://ghe.example.com/api/v3";

/** What undici's fetch rejects with when the connection fails: the system error is the cause. */
function fetchFailed(code: string, message: string): TypeError {
  return new TypeError("fetch failed", { cause: Object.assign(new Error(message), { code }) });
}

/** A fetch answering from a script: an Error is thrown, a number is an answer with that status. */
function scripted(steps: Array<Error | number>) {
  const calls: string[] = [];
  const fetch = ((_input: unknown, init?: RequestInit) => {
    calls.push(init?.method ?? "GET");
    const step = steps.shift();
    if (step === undefined) throw new Error("no more steps");
    return step instanceof Error
      ? Promise.reject(step)
      : Promise.resolve(new Response("{}", { status: step }));
  }) as typeof globalThis.fetch;
  return { fetch, calls };
}

function guarded(fetch: typeof globalThis.fetch, waits: number[], timeoutMs = 60_000, apiUrl = API) {
  return guardedFetch(fetch, {
    host: "github",
    apiUrl,
    timeoutMs,
    reads: (method) => method === "GET",
    sleep: async (ms) => {
      waits.push(ms);
    },
  });
}

describe("connection failures", () => {
  it.each([
    ["ECONNREFUSED", "connect ECONNREFUSED 10.0.0.1:443"],
    ["ENOTFOUND", "getaddrinfo ENOTFOUND ghe.example.com"],
    ["EHOSTUNREACH", "connect EHOSTUNREACH 10.0.0.1:443"],
    ["ENETUNREACH", "connect ENETUNREACH 10.0.0.1:443"],
    ["UND_ERR_CONNECT_TIMEOUT", "Connect Timeout Error"],
  ])(
    "%s, before anything was sent: tried twice, 750 ms apart, then unreachable, even for a write",
    async (code, message) => {
      const waits: number[] = [];
      const { fetch, calls } = scripted([fetchFailed(code, message), fetchFailed(code, message)]);
      const error = await guarded(fetch, waits)(`${API}/repos/acme/api/issues`, {
        method: "POST",
        body: "{}",
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnreachableError);
      expect((error as Error).message).toBe(`code host unreachable: ghe.example.com: ${code}: ${message}`);
      expect(calls).toEqual(["POST", "POST"]);
      expect(waits).toEqual([750]);
    },
  );

  it("a blip: the second try's answer is the answer", async () => {
    const waits: number[] = [];
    const { fetch } = scripted([fetchFailed("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.1:443"), 200]);
    const response = await guarded(fetch, waits)(`${API}/orgs/acme`);
    expect(response.status).toBe(200);
    expect(waits).toEqual([750]);
  });

  it("a read whose connection was cut is sent again; cut twice, the host is unreachable", async () => {
    const waits: number[] = [];
    const reset = () => fetchFailed("ECONNRESET", "read ECONNRESET");
    const { fetch, calls } = scripted([reset(), reset()]);
    await expect(guarded(fetch, waits)(`${API}/orgs/acme`)).rejects.toThrow(
      "code host unreachable: ghe.example.com: ECONNRESET: read ECONNRESET",
    );
    expect(calls).toEqual(["GET", "GET"]);
  });

  it("a write whose connection was cut is not sent again: its caller gets the failure to look first", async () => {
    const waits: number[] = [];
    const cut = fetchFailed("ECONNRESET", "read ECONNRESET");
    const { fetch, calls } = scripted([cut]);
    const error = await guarded(fetch, waits)(`${API}/repos/acme/api/issues`, {
      method: "POST",
      body: "{}",
    }).catch((e: unknown) => e);
    expect(error).toBe(cut);
    expect(calls).toEqual(["POST"]);
  });

  it("an answer, even a 502 or a 503, is no connection failure: handed on at once for the retry policy", async () => {
    const waits: number[] = [];
    const { fetch, calls } = scripted([502]);
    expect((await guarded(fetch, waits)(`${API}/orgs/acme`)).status).toBe(502);
    expect(calls).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it("a certificate the host should not have is not tried again", async () => {
    const { fetch, calls } = scripted([fetchFailed("CERT_HAS_EXPIRED", "certificate has expired")]);
    await expect(guarded(fetch, [])(`${API}/orgs/acme`)).rejects.toBeInstanceOf(UnreachableError);
    expect(calls).toHaveLength(1);
  });

  it("other failures, and the caller's own abort, are not the connection's", async () => {
    const bug = new RangeError("not a connection");
    await expect(guarded(scripted([bug]).fetch, [])(`${API}/orgs/acme`)).rejects.toBe(bug);
    const controller = new AbortController();
    controller.abort();
    const aborted = fetchFailed("ECONNREFUSED", "connect ECONNREFUSED 10.0.0.1:443");
    await expect(
      guarded(scripted([aborted]).fetch, [])(`${API}/orgs/acme`, { signal: controller.signal }),
    ).rejects.toBe(aborted);
    expect(connectionFailure(bug)).toBeUndefined();
  });

  it("no answer within the deadline: unreachable at once, from a real server that never answers", async () => {
    const server = createServer(() => {
      // holds every request without answering
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    try {
      const started = Date.now();
      const error = await guarded(
        globalThis.fetch,
        [],
        300,
        `http://127.0.0.1:${port}`,
      )(`http://127.0.0.1:${port}/orgs/acme`).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnreachableError);
      expect((error as Error).message).toBe(
        `code host unreachable: 127.0.0.1:${port}: no answer within 0.3 s`,
      );
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("a real refused connection: undici's error is read as ECONNREFUSED", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const waits: number[] = [];
    await expect(
      guarded(globalThis.fetch, waits, 60_000, `http://127.0.0.1:${port}`)(`http://127.0.0.1:${port}/`),
    ).rejects.toThrow(
      `code host unreachable: 127.0.0.1:${port}: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(waits).toEqual([750]);
  });
});
