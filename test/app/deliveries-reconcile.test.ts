/**
 * The push record's hole and its fix: a push A -> C and the force push C -> A that undid it, both
 * deliveries lost (the app down), leave a record whose pushes still chain from before the period to
 * the head A. Without reconciliation the audit must not trust it; reconciling with GitHub's list of
 * deliveries (GET /app/hook/deliveries, cursor pages; GET /app/hook/deliveries/{id} for the payload,
 * in @octokit/openapi's documented shapes, the push payload from @octokit/webhooks-examples) records
 * both, and the record then shows the push of C.
 */
import { createRequire } from "node:module";
import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { reconcilePushDeliveries } from "../../src/app/deliveries-reconcile.js";
import { recordPushEvent } from "../../src/app/pushes.js";
import { openLedger, pushRecordOf, type Ledger } from "../../src/ledger/index.js";
import { deliveriesCheckpoints, recordDeliveriesCheckpoint } from "../../src/ledger/pushes.js";
import { createGitHubClient } from "../../src/providers/github/index.js";
import { pushesFromRecord } from "../../src/providers/github/direct-pushes.js";
import type { GitHubContext } from "../../src/providers/github/http.js";

const require = createRequire(import.meta.url);
const API = "https://api.github.com";
const LOG = { info: () => {}, warn: () => {} };

interface OpenApiExample {
  value: Record<string, unknown> | Record<string, unknown>[];
}
const openapi = require("@octokit/openapi/generated/api.github.com.deref.json") as {
  paths: Record<
    string,
    {
      get: {
        responses: { 200: { content: { "application/json": { examples: Record<string, OpenApiExample> } } } };
      };
    }
  >;
};
const documented = (path: string) =>
  openapi.paths[path]!.get.responses[200].content["application/json"].examples.default!.value;
/** GitHub's documented delivery summary (an issues delivery) and delivery (with its request and response). */
const listed = (documented("/app/hook/deliveries") as Record<string, unknown>[])[0]!;
const detailed = documented("/app/hook/deliveries/{delivery_id}") as Record<string, unknown>;

const examples = (
  require("@octokit/webhooks-examples/api.github.com/index.json") as {
    name: string;
    examples: { ref: string; commits: Record<string, unknown>[]; [key: string]: unknown }[];
  }[]
).find((d) => d.name === "push")!.examples;
const branchPush = examples.find((e) => e.ref.startsWith("refs/heads/") && e.commits.length > 0)!;

const sha = (c: string) => c.repeat(40);
const A = sha("a");
const C = sha("c");
const X = sha("9");

/** GitHub's documented push webhook, to refs/heads/main of acme/api, moving before -> after. */
function pushPayload(before: string, after: string, at: string, forced: boolean) {
  const commits = forced
    ? []
    : [{ ...branchPush.commits[0], id: after, message: "sneak a change in", timestamp: at }];
  return {
    ...structuredClone(branchPush),
    ref: "refs/heads/main",
    before,
    after,
    created: false,
    forced,
    repository: {
      ...(branchPush.repository as object),
      full_name: "acme/api",
      name: "api",
      pushed_at: Math.floor(Date.parse(at) / 1000),
    },
    commits,
    head_commit: commits[0] ?? null,
  };
}

interface Delivery {
  id: number;
  guid: string;
  at: string;
  event: string;
  status: number;
  payload: unknown;
}

/** The deliveries as GitHub lists them (newest first) and serves them one by one. */
function serveDeliveries(deliveries: Delivery[], perPage: number) {
  const newest = [...deliveries].sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
  const summary = (d: Delivery) => ({
    ...listed,
    id: d.id,
    guid: d.guid,
    delivered_at: d.at,
    redelivery: false,
    status: d.status === 200 ? "OK" : "Invalid HTTP Response: 502",
    status_code: d.status,
    event: d.event,
    action: null,
  });
  for (let page = 0; page * perPage < newest.length; page++) {
    const items = newest.slice(page * perPage, (page + 1) * perPage);
    const more = (page + 1) * perPage < newest.length;
    const cursor = `v1_${page + 1}`;
    nock(API)
      .get("/app/hook/deliveries")
      .query(page === 0 ? { per_page: 100 } : { per_page: 100, cursor: `v1_${page}` })
      .reply(
        200,
        items.map(summary),
        more ? { link: `<${API}/app/hook/deliveries?per_page=100&cursor=${cursor}>; rel="next"` } : {},
      );
  }
  for (const d of deliveries)
    nock(API)
      .get(`/app/hook/deliveries/${d.id}`)
      .optionally()
      .reply(200, {
        ...detailed,
        ...summary(d),
        request: { ...(detailed.request as object), payload: d.payload },
      });
}

const opened: Ledger[] = [];
afterEach(async () => {
  nock.cleanAll();
  await Promise.all(opened.splice(0).map((ledger) => ledger.close()));
});

describe("a push and the force push that undid it, both deliveries lost", () => {
  const period = { since: new Date("2026-10-01T00:00:00Z"), until: new Date("2026-10-12T00:00:00Z") };
  const toA = pushPayload(X, A, "2026-09-01T00:00:00Z", false);
  const toC = {
    id: 201,
    guid: "guid-push-c",
    at: "2026-10-10T12:00:00Z",
    event: "push",
    status: 502,
    payload: pushPayload(A, C, "2026-10-10T12:00:00Z", false),
  };
  const backToA = {
    id: 202,
    guid: "guid-reset-a",
    at: "2026-10-11T09:00:00Z",
    event: "push",
    status: 502,
    payload: pushPayload(C, A, "2026-10-11T09:00:00Z", true),
  };
  const issues = {
    id: 203,
    guid: "guid-issue",
    at: "2026-10-11T10:00:00Z",
    event: "issues",
    status: 200,
    payload: {},
  };
  const older = {
    id: 150,
    guid: "guid-old",
    at: "2026-10-09T00:00:00Z",
    event: "push",
    status: 200,
    payload: toA,
  };

  async function ledgerBefore(): Promise<Ledger> {
    const ledger = openLedger({ dir: null });
    opened.push(ledger);
    // The push that made A the head, received live; the app's earlier runs reconciled up to 10-10.
    expect(
      await recordPushEvent(
        ledger,
        toA,
        { id: "guid-old", receivedAt: new Date("2026-09-01T00:00:00Z") },
        LOG,
      ),
    ).not.toBeNull();
    await recordDeliveriesCheckpoint(ledger, {
      host: "github",
      from: "2026-08-30T00:00:00.000Z",
      to: "2026-10-10T06:00:00.000Z",
      pushDeliveries: 1,
      recorded: 0,
      retentionBound: false,
    });
    return ledger;
  }

  const answer = (ledger: Ledger) =>
    pushesFromRecord({} as GitHubContext, "acme/api", "main", period, new Set(), {
      source: pushRecordOf(ledger),
      head: A,
      merges: new Map(),
    });

  it("is not answered from the record before reconciliation: the pushes chain, the span does not", async () => {
    const ledger = await ledgerBefore();
    const found = await answer(ledger);
    expect(found.pushes).toBeNull();
    expect(found.why).toMatch(/from 2026-10-10T06:00:00.000Z were not reconciled/);
  });

  it("records both lost deliveries by reconciling (two cursor pages, the payloads fetched), and the record shows C", async () => {
    const ledger = await ledgerBefore();
    serveDeliveries([toC, backToA, issues, older], 2);
    const octokit = createGitHubClient({ token: "app-jwt", throttle: false });
    const run = await reconcilePushDeliveries({ octokit, ledger, now: () => period.until, log: LOG });

    expect(run).toEqual({
      pages: 2,
      fetched: 2,
      checkpoint: {
        host: "github",
        from: "2026-10-10T06:00:00.000Z",
        to: "2026-10-12T00:00:00.000Z",
        pushDeliveries: 2,
        recorded: 2,
        retentionBound: false,
      },
    });
    expect(nock.pendingMocks().filter((m) => !m.includes("/deliveries/"))).toEqual([]);
    const pushes = await pushRecordOf(ledger).pushesOf("acme/api", "main");
    expect(pushes.map((p) => [p.before, p.after, p.forced, p.pushedAt])).toEqual([
      [X, A, false, "2026-09-01T00:00:00.000Z"],
      [A, C, false, "2026-10-10T12:00:00.000Z"],
      [C, A, true, "2026-10-11T09:00:00.000Z"],
    ]);
    expect(pushes[1]?.commits.map((c) => c.sha)).toEqual([C]);
    // Reconciled to the period's end, the record shows the force push in it: the audit compares it
    // through GitHub's activity (the record answers only plain pushes), which finds C.
    const found = await answer(ledger);
    expect(found.pushes).toBeNull();
    expect(found.why).toMatch(/the push at 2026-10-11T09:00:00.000Z \(ccccccc...aaaaaaa\) was forced/);
    expect(await deliveriesCheckpoints(ledger, "github")).toHaveLength(2);
  });

  it("writes no checkpoint when a push delivery cannot be fetched (GitHub no longer has it)", async () => {
    const ledger = await ledgerBefore();
    nock(API)
      .get("/app/hook/deliveries")
      .query({ per_page: 100 })
      .reply(200, [
        {
          ...listed,
          id: toC.id,
          guid: toC.guid,
          delivered_at: toC.at,
          event: "push",
          action: null,
          status_code: 502,
        },
      ]);
    nock(API).get(`/app/hook/deliveries/${toC.id}`).reply(404, { message: "Not Found" });
    const octokit = createGitHubClient({ token: "app-jwt", throttle: false });
    await expect(
      reconcilePushDeliveries({ octokit, ledger, now: () => period.until, log: LOG }),
    ).rejects.toThrow();
    expect(await deliveriesCheckpoints(ledger, "github")).toHaveLength(1);
    expect((await answer(ledger)).why).toMatch(/not reconciled/);
  });

  it("starts where GitHub's 3 days of deliveries start when the last run is older: the hole stays a hole", async () => {
    const ledger = await ledgerBefore();
    nock(API).get("/app/hook/deliveries").query({ per_page: 100 }).reply(200, []);
    const octokit = createGitHubClient({ token: "app-jwt", throttle: false });
    const later = new Date("2026-10-20T00:00:00Z");
    const run = await reconcilePushDeliveries({ octokit, ledger, now: () => later, log: LOG });
    expect(run.checkpoint).toMatchObject({ from: "2026-10-17T01:00:00.000Z", retentionBound: true });
    const found = await pushesFromRecord(
      {} as GitHubContext,
      "acme/api",
      "main",
      { since: period.since, until: later },
      new Set(),
      {
        source: pushRecordOf(ledger),
        head: A,
        merges: new Map(),
      },
    );
    expect(found.why).toMatch(/from 2026-10-10T06:00:00.000Z were not reconciled/);
  });
});
