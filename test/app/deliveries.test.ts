/**
 * A webhook delivery is handled once: a replay (same delivery id, same bytes) reaching the same
 * instance or another one on the same ledger causes nothing, on GitHub's endpoint (Probot) and on
 * GitLab's; a claim left by an instance that died is taken again once its lease is over; claims are
 * kept at least a day. And the evaluation numbers instances agree on, on both ledger backends.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import nock from "nock";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createGitLabWebhookHandler } from "../../src/app/gitlab-webhook.js";
import { gitLabHandledOnce } from "../../src/app/gitlab-deliveries.js";
import {
  ledgerChangeEvaluations,
  ledgerDeliveryClaims,
  memoryDeliveryClaims,
  openLedger,
  type Ledger,
} from "../../src/ledger/index.js";
import { expectChangeCheck, HEAD, NOW } from "../fixtures/app/change-facts.js";
import { examplePayload, inAcmeApi, loadApp, type TestApp } from "../fixtures/app/github-app.js";
import { BACKENDS, testBackend } from "../ledger/backends.js";

const DAY = 24 * 3_600_000;

function pullRequestOpened() {
  const payload = inAcmeApi(examplePayload("pull_request", "opened"));
  Object.assign(payload, { number: 42 });
  Object.assign(payload.pull_request, { number: 42, state: "open" });
  Object.assign(payload.pull_request.head, { sha: HEAD, ref: "feature/rate-limit" });
  Object.assign(payload.pull_request.base, { ref: "main" });
  return payload;
}

/** A delivery as GitHub sends it: its X-GitHub-Delivery id and its payload. */
function deliver(app: TestApp, id: string, payload: object) {
  return app.probot.receive({ id, name: "pull_request", payload } as Parameters<
    TestApp["probot"]["receive"]
  >[0]);
}

const checkRunWrites = (app: TestApp) =>
  app.requests
    .filter((r) => r.path.startsWith("/repos/acme/api/check-runs"))
    .map((r) => `${r.method} ${r.path}`);

describe("deliveries handled once, without a ledger", () => {
  afterEach(() => {
    expect(nock.pendingMocks(), "mocks never used").toEqual([]);
    nock.cleanAll();
  });

  it("evaluates a replayed GitHub delivery once, and a new delivery of the same event again", async () => {
    const app = await loadApp({ now: () => NOW, appId: 1 });
    const payload = pullRequestOpened();
    expectChangeCheck(app);
    await deliver(app, "72d3162e-cc78-11e3-81ab-4c9367dc0958", payload);
    // The same bytes again: GitHub's "Redeliver", or a proxy's replay.
    await deliver(app, "72d3162e-cc78-11e3-81ab-4c9367dc0958", structuredClone(payload));
    expect(checkRunWrites(app)).toEqual(["POST /repos/acme/api/check-runs"]);
    expect(app.logs().filter((line) => line.msg === "duplicate delivery ignored")).toHaveLength(1);

    // Another delivery (another id) of the same event is a new event and is evaluated.
    expectChangeCheck(app, { existingCheckRun: 4001 }, false);
    await deliver(app, "8b1c2d3e-cc78-11e3-81ab-4c9367dc0958", structuredClone(payload));
    expect(checkRunWrites(app)).toEqual([
      "POST /repos/acme/api/check-runs",
      "PATCH /repos/acme/api/check-runs/4001",
    ]);
  });

  it("takes again a claim whose instance never finished it, once its lease is over, and forgets after the keep", async () => {
    let at = NOW.getTime();
    const claims = memoryDeliveryClaims({ leaseMs: 60_000, keepMs: DAY, now: () => new Date(at) });
    expect(await claims.claim("github", "a")).toBe(true);
    expect(await claims.claim("github", "a")).toBe(false);
    at += 61_000;
    expect(await claims.claim("github", "a")).toBe(true);
    await claims.finish("github", "a");
    at += DAY - 1_000;
    expect(await claims.claim("github", "a")).toBe(false);
    at += 2 * DAY;
    expect(await claims.claim("github", "a")).toBe(true);
  });
});

describe.each(BACKENDS)("deliveries handled once across instances on one ledger (%s)", (name) => {
  const backend = testBackend(name);
  const opened: Ledger[] = [];
  const fresh = async () => {
    const ledger = openLedger(await backend.fresh());
    opened.push(ledger);
    return ledger;
  };

  afterEach(async () => {
    nock.cleanAll();
    await Promise.all(opened.splice(0).map((ledger) => ledger.close()));
  });
  afterAll(() => backend.stop());

  it("claims a delivery once; a finished one stays claimed, a released or abandoned one is taken again", async () => {
    const ledger = await fresh();
    let at = NOW.getTime();
    const clock = () => new Date(at);
    // Two instances: two claim stores over one database.
    const first = ledgerDeliveryClaims(ledger, { leaseMs: 60_000, keepMs: DAY, now: clock });
    const second = ledgerDeliveryClaims(ledger, { leaseMs: 60_000, keepMs: DAY, now: clock });
    const both = await Promise.all([first.claim("github", "d-1"), second.claim("github", "d-1")]);
    expect(both.filter(Boolean)).toHaveLength(1);
    // The same id on GitLab is another delivery.
    expect(await second.claim("gitlab", "d-1")).toBe(true);

    await first.finish("github", "d-1");
    at += 10 * 60_000;
    expect(await second.claim("github", "d-1")).toBe(false);

    expect(await first.claim("github", "d-2")).toBe(true);
    await first.release("github", "d-2");
    expect(await second.claim("github", "d-2")).toBe(true);

    // A claim renewed by its working instance holds past its first lease.
    at += 50_000;
    await second.renew("github", "d-2");
    at += 50_000;
    expect(await first.claim("github", "d-2")).toBe(false);
    // d-2's claimer died (SIGKILL): nobody renews it, and after its lease another instance handles a redelivery.
    at += 61_000;
    expect(await first.claim("github", "d-2")).toBe(true);

    // Kept a day at least, then forgotten (a fresh store prunes at once).
    at += DAY + 60_000;
    const later = ledgerDeliveryClaims(ledger, { leaseMs: 60_000, keepMs: DAY, now: clock });
    expect(await later.claim("github", "d-1")).toBe(true);
  });

  it("numbers a change's evaluations in start order, and lets only the newest publish", async () => {
    const ledger = await fresh();
    const a = ledgerChangeEvaluations(ledger);
    const b = ledgerChangeEvaluations(ledger);
    const change = "github:acme/api#42";
    const arrived = await a.mark(change);
    expect(arrived).toBe(0);
    const slow = await a.begin(change);
    const fast = await b.begin(change);
    expect([slow, fast]).toEqual([1, 2]);
    expect(await b.mayPublish(change, fast)).toBe(true);
    await b.published(change, fast);
    // The slower instance read the change before the other did: its verdict is older.
    expect(await a.mayPublish(change, slow)).toBe(false);
    // A delivery that arrived before evaluation 2 started is shown by it; one after it is not.
    expect(await a.coveredSince(change, arrived)).toBe(true);
    expect(await a.coveredSince(change, await a.mark(change))).toBe(false);
    expect(await a.mark("github:acme/api#43")).toBe(0);
  });

  it("evaluates a GitHub delivery replayed to another instance once", async () => {
    const ledger = await fresh();
    const instances = [
      await loadApp({ now: () => NOW, appId: 1, ledger }),
      await loadApp({ now: () => NOW, appId: 1, ledger }),
    ];
    const payload = pullRequestOpened();
    expectChangeCheck(instances[0]!);
    await deliver(instances[0]!, "0f5c4a7e-cc79-11e3-81ab-4c9367dc0958", payload);
    await deliver(instances[1]!, "0f5c4a7e-cc79-11e3-81ab-4c9367dc0958", structuredClone(payload));
    expect(checkRunWrites(instances[0]!)).toEqual(["POST /repos/acme/api/check-runs"]);
    expect(instances[1]!.requests).toEqual([]);
    expect(instances[1]!.logs().filter((line) => line.msg === "duplicate delivery ignored")).toHaveLength(1);
    expect(nock.pendingMocks()).toEqual([]);
  });

  describe("GitLab's endpoint", () => {
    const SECRET = "hook-secret-5f2c";
    const hook = readFileSync(new URL("../fixtures/gitlab/merge-request-hook.json", import.meta.url), "utf8");
    const servers: Server[] = [];
    beforeEach(() => {
      servers.length = 0;
    });
    afterEach(async () => {
      await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    });

    async function instance(ledger: Ledger, onMergeRequest: () => void) {
      const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
      const settled: Promise<void>[] = [];
      const handle = gitLabHandledOnce(
        createGitLabWebhookHandler({ secret: SECRET, onMergeRequest, onPipeline: vi.fn(), log }),
        SECRET,
        ledgerDeliveryClaims(ledger),
        log,
      );
      const server = createServer((req, res) => void settled.push(handle(req, res)));
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gitlab/webhook`;
      return async (headers: Record<string, string>) => {
        const response = await fetch(url, {
          method: "POST",
          body: hook,
          headers: { "content-type": "application/json", "x-gitlab-event": "Merge Request Hook", ...headers },
        });
        await response.text();
        await Promise.all(settled);
        return response.status;
      };
    }

    it("handles a replayed X-Gitlab-Event-UUID once across instances; a wrong token claims nothing", async () => {
      const ledger = await fresh();
      const handled = vi.fn();
      const [one, two] = [await instance(ledger, handled), await instance(ledger, handled)];
      const uuid = "13792a34-cac6-4fda-95a8-c58e00a3954e";
      // Someone without the secret cannot mark the delivery as handled.
      expect(await one({ "x-gitlab-token": "guess", "x-gitlab-event-uuid": uuid })).toBe(401);
      expect(await one({ "x-gitlab-token": SECRET, "x-gitlab-event-uuid": uuid })).toBe(202);
      expect(await two({ "x-gitlab-token": SECRET, "x-gitlab-event-uuid": uuid })).toBe(200);
      expect(await one({ "x-gitlab-token": SECRET, "x-gitlab-event-uuid": uuid })).toBe(200);
      expect(handled).toHaveBeenCalledTimes(1);
      // Another delivery of the same event is handled.
      expect(await two({ "x-gitlab-token": SECRET, "x-gitlab-event-uuid": `${uuid.slice(0, -1)}f` })).toBe(
        202,
      );
      expect(handled).toHaveBeenCalledTimes(2);
    });
  });
});
