/**
 * The push record: the app records `push` webhooks in the ledger, and an audit answers a production
 * branch's direct pushes from it, without GitHub's activity record, only where the recorded pushes
 * chain without a gap from before the period to the branch's head. The sample organization's
 * history, delivered as the push webhooks GitHub would have sent (the documented payload from
 * @octokit/webhooks-examples, filled with the simulated world's pushes and merges), must give the same
 * direct pushes as the activity record; a gap, a force push or no record at all falls back to it.
 */
import { createRequire } from "node:module";
import { afterEach, describe, expect, it } from "vitest";
import { pushDeliveriesOf } from "../../../src/sim/github/rest-activity.js";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../../src/sim/github/server.js";
import { createWorld, type World } from "../../../src/sim/github/world.js";
import { reconcilePushDeliveries } from "../../../src/app/deliveries-reconcile.js";
import { pushContentOf, recordPushEvent } from "../../../src/app/pushes.js";
import { PushEvent } from "../../../src/app/payloads.js";
import { openLedger, pushRecordOf, pushStream, type Ledger } from "../../../src/ledger/index.js";
import { recordDeliveriesCheckpoint } from "../../../src/ledger/pushes.js";
import type { DirectPush, Snapshot } from "../../../src/model/index.js";
import { collectAudit } from "../../../src/pipeline/audit.js";
import {
  createGitHubClient,
  createGitHubHost,
  type RecordedPush,
} from "../../../src/providers/github/index.js";
import { pushesFromRecord } from "../../../src/providers/github/direct-pushes.js";
import type { GitHubContext } from "../../../src/providers/github/http.js";
import { generateSampleOrganization } from "../../../src/sample/generate.js";
import { examplePayloadWhere, inAcmeApi, loadApp } from "../../fixtures/app/github-app.js";
import { makeChangeRequest, makeDirectPush, makeSnapshot } from "../../fixtures/build.js";

const require = createRequire(import.meta.url);
const ACTIVITY = "GET /repos/{owner}/{repo}/activity";
const SILENT = { warn: () => {} };
const SILENT_LOG = { info: () => {}, warn: () => {} };

interface Example {
  ref: string;
  commits: Record<string, unknown>[];
  [key: string]: unknown;
}
const examples = (
  require("@octokit/webhooks-examples/api.github.com/index.json") as { name: string; examples: Example[] }[]
).find((definition) => definition.name === "push")!.examples;
/** GitHub's documented push to a branch (it created refs/heads/master with one commit). */
const branchPush = examples.find((e) => e.ref.startsWith("refs/heads/") && e.commits.length > 0)!;

/** The simulated push filled into GitHub's documented payload: every field the example has, ours where we have one. */
function documentedPayload(simulated: Record<string, unknown>): unknown {
  const commits = (simulated.commits as Record<string, unknown>[]).map((commit) => ({
    ...branchPush.commits[0],
    ...commit,
  }));
  return {
    ...structuredClone(branchPush),
    ...simulated,
    repository: { ...(branchPush.repository as object), ...(simulated.repository as object) },
    commits,
  };
}

const opened: Ledger[] = [];
const started: SimulatedGitHub[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((sim) => sim.close()));
  await Promise.all(opened.splice(0).map((ledger) => ledger.close()));
});

/**
 * A ledger holding the world's push webhooks, each delivered at its push's time (`skip`: deliveries
 * lost), and the reconciliation checkpoint that says so from the first delivery to the world's time
 * (`reconciled: false`: none; test/app/deliveries-reconcile.test.ts writes them by reconciling).
 */
async function ledgerWithPushes(
  world: World,
  skip: (id: string) => boolean = () => false,
  reconciled = true,
): Promise<Ledger> {
  const ledger = openLedger({ dir: null });
  opened.push(ledger);
  let first = world.now();
  for (const repository of world.repositories.values()) {
    for (const branch of repository.facts.productionBranches) {
      for (const delivery of pushDeliveriesOf(world, repository, branch)) {
        if (delivery.receivedAt < first) first = delivery.receivedAt;
        if (skip(delivery.id)) continue;
        const entry = await recordPushEvent(
          ledger,
          documentedPayload(delivery.payload as Record<string, unknown>),
          { id: delivery.id, receivedAt: new Date(delivery.receivedAt) },
          SILENT,
        );
        expect(entry, `delivery ${delivery.id} recorded`).not.toBeNull();
      }
    }
  }
  if (reconciled)
    await recordDeliveriesCheckpoint(ledger, {
      host: "github",
      from: new Date(first).toISOString(),
      to: new Date(world.now()).toISOString(),
      pushDeliveries: 0,
      recorded: 0,
      retentionBound: false,
    });
  return ledger;
}

async function audit(snapshot: Snapshot, ledger: Ledger | null) {
  const sim = await startSimulatedGitHub({ world: createWorld(snapshot), seed: 3, rateLimits: false });
  started.push(sim);
  const octokit = createGitHubClient({ token: "test", baseUrl: sim.url, throttle: false });
  const host = createGitHubHost({
    octokit,
    baseUrl: sim.url,
    ...(ledger ? { pushRecord: pushRecordOf(ledger) } : {}),
  });
  const period = snapshot.period!;
  const collected = await collectAudit({
    host,
    organization: snapshot.organization!.login,
    since: new Date(period.since),
    until: new Date(period.until),
    now: () => new Date(period.until),
  });
  return { directPushes: sorted(collected.directPushes), activityReads: sim.stats.byRoute[ACTIVITY] ?? 0 };
}

function instants(push: DirectPush): DirectPush {
  const instant = (time: string) => new Date(time).toISOString();
  return { ...push, at: instant(push.at), pushedAt: push.pushedAt && instant(push.pushedAt) };
}

function sorted(pushes: DirectPush[]): DirectPush[] {
  return [...pushes].sort((a, b) => (a.sha < b.sha ? -1 : a.sha > b.sha ? 1 : 0));
}

describe("direct pushes from the push record", () => {
  const sample = generateSampleOrganization({ pullRequestsPerRepository: 6 });
  const world = createWorld(sample.snapshot);
  const branches = sample.snapshot.repositories.flatMap((r) =>
    r.productionBranches.map((branch) => ({
      repository: r.fullName,
      branch,
      isDefault: branch === r.defaultBranch,
    })),
  );
  const otherBranches = branches.filter((b) => !b.isDefault).length;

  it("gives the activity record's direct pushes (messages, push times, pushers) without reading it", async () => {
    const byActivity = await audit(sample.snapshot, null);
    const byRecord = await audit(sample.snapshot, await ledgerWithPushes(world));

    expect(byActivity.directPushes).toEqual(sorted(sample.snapshot.directPushes));
    expect(byRecord.directPushes).toEqual(byActivity.directPushes);
    expect(byRecord.directPushes.map((p) => [p.message, p.pushedAt, p.pushedBy])).toEqual(
      byActivity.directPushes.map((p) => [p.message, p.pushedAt, p.pushedBy]),
    );
    // The activity record is read for every production branch without the record (a release branch
    // too, whose head the repository batch reads with the branch names), and not at all with it.
    expect(byActivity.activityReads).toBeGreaterThanOrEqual(branches.length);
    expect(otherBranches).toBeGreaterThan(0);
    expect(byRecord.activityReads).toBe(0);
  });

  it("falls back to the activity record for a branch whose record has a gap (a lost delivery), finding the same", async () => {
    // One merge's delivery of the repository with direct pushes is lost: its main no longer chains.
    const api = world.repositories.get(`${sample.snapshot.organization!.login}/api`)!;
    const lost = pushDeliveriesOf(world, api, "main")[3]!.id;
    const byActivity = await audit(sample.snapshot, null);
    const byRecord = await audit(sample.snapshot, await ledgerWithPushes(world, (id) => id === lost));

    expect(byRecord.directPushes).toEqual(byActivity.directPushes);
    expect(byRecord.activityReads).toBe(1);
  });

  it("recovers a lost direct push's delivery by reconciling with GitHub's list of deliveries, and answers from the record", async () => {
    const api = world.repositories.get(`${sample.snapshot.organization!.login}/api`)!;
    const direct = new Set(sample.snapshot.directPushes.map((p) => p.sha));
    const lost = pushDeliveriesOf(world, api, "main").find((d) =>
      ((d.payload as { commits: { id: string }[] }).commits ?? []).some((c) => direct.has(c.id)),
    )!;
    expect(lost).toBeDefined();
    const byActivity = await audit(sample.snapshot, null);

    // Without reconciliation: nothing says the record is complete, every branch reads the activity.
    const unreconciled = await ledgerWithPushes(world, (id) => id === lost.id, false);
    const before = await audit(sample.snapshot, unreconciled);
    expect(before.directPushes).toEqual(byActivity.directPushes);
    expect(before.activityReads).toBe(byActivity.activityReads);

    // The app reconciles on its schedule all along (every 2 days, within GitHub's 3 days of deliveries),
    // against the simulated GitHub's list of them as its clock moves.
    let clock = Date.parse(
      [...world.repositories.values()]
        .flatMap((r) => r.facts.productionBranches.flatMap((b) => pushDeliveriesOf(world, r, b)))
        .map((d) => d.receivedAt)
        .sort()[0]!,
    );
    const end = Date.parse(world.now());
    const moving = createWorld(sample.snapshot, { now: () => new Date(clock).toISOString() });
    const sim = await startSimulatedGitHub({ world: moving, seed: 3, rateLimits: false });
    started.push(sim);
    const octokit = createGitHubClient({ token: "app-jwt", baseUrl: sim.url, throttle: false });
    let fetched = 0;
    for (; ; clock = Math.min(end, clock + 2 * 24 * 60 * 60 * 1000)) {
      const run = await reconcilePushDeliveries({
        octokit,
        ledger: unreconciled,
        now: () => new Date(clock),
        log: SILENT_LOG,
      });
      fetched += run.fetched;
      if (clock === end) break;
    }
    // Only the lost delivery was fetched; branches other than production ones were pushed too.
    expect(fetched).toBeGreaterThanOrEqual(1);
    expect(sim.stats.byRoute["GET /app/hook/deliveries/{delivery_id}"]).toBe(fetched);
    const recovered = (await pushRecordOf(unreconciled).pushesOf(api.facts.fullName, "main")).find(
      (p) => p.after === (lost.payload as { after: string }).after,
    );
    expect(recovered?.pushedAt).toBe(new Date(lost.receivedAt).toISOString());

    const after = await audit(sample.snapshot, unreconciled);
    expect(after.directPushes).toEqual(byActivity.directPushes);
    expect(after.activityReads).toBe(0);
  }, 180_000);

  it("reads the activity record as before when nothing is recorded yet", async () => {
    const empty = openLedger({ dir: null });
    opened.push(empty);
    const byActivity = await audit(sample.snapshot, null);
    const byRecord = await audit(sample.snapshot, empty);

    expect(byRecord).toEqual(byActivity);
  });

  it("leaves a force push in the period to the activity record, which compares it", async () => {
    const forced = makeDirectPush({
      repository: "acme/api",
      sha: "2".repeat(40),
      message: "rewrite history",
      at: "2026-10-20T00:30:00Z",
      pushedAt: "2026-10-20T01:00:00Z",
      pushedBy: "bob",
      forced: true,
      url: `https://github.com/acme/api/commit/${"2".repeat(40)}`,
    });
    const snapshot = makeSnapshot({
      period: { since: "2026-10-01T00:00:00Z", until: "2026-10-31T23:59:59Z" },
      changeRequests: [makeChangeRequest({ mergedAt: "2026-10-02T15:00:00Z" })],
      directPushes: [forced],
    });
    const forcedWorld = createWorld(snapshot);
    const byRecord = await audit(snapshot, await ledgerWithPushes(forcedWorld));
    const byActivity = await audit(snapshot, null);

    expect(byRecord.directPushes).toEqual([forced]);
    expect(byRecord).toEqual(byActivity);
    // The same push, not forced, is answered from the record alone.
    const plain = { ...forced, forced: false };
    const plainSnapshot = { ...snapshot, directPushes: [plain] };
    const plainByRecord = await audit(plainSnapshot, await ledgerWithPushes(createWorld(plainSnapshot)));
    // The same instant: GitHub writes its times without milliseconds, the delivery's time has them.
    expect(plainByRecord.activityReads).toBe(0);
    expect(plainByRecord.directPushes.map(instants)).toEqual([plain].map(instants));
  });
});

describe("the push record's webhook", () => {
  it("is recorded by the app in the repository's push stream, tags left out", async () => {
    const ledger = openLedger({ dir: null });
    opened.push(ledger);
    await ledger.open();
    const at = new Date("2019-05-15T15:20:58Z");
    const app = await loadApp({ ledger, now: () => at });
    const branch = inAcmeApi(examplePayloadWhere("push", (e) => e.ref.startsWith("refs/heads/")));
    const tag = inAcmeApi(examplePayloadWhere("push", (e) => e.ref.startsWith("refs/tags/")));
    await app.receive("push", branch);
    await app.receive("push", tag);

    const recorded: unknown[] = [];
    for await (const record of ledger.records(pushStream("github", "acme/api")))
      recorded.push({ kind: record.kind, ...(JSON.parse(record.content) as object) });
    expect(recorded).toEqual([
      expect.objectContaining({
        kind: "push",
        repository: "acme/api",
        ref: "refs/heads/master",
        after: branch.after,
        deliveryId: "delivery-1",
        pushedAt: at.toISOString(),
        commitsComplete: true,
      }),
    ]);
    expect(await pushRecordOf(ledger).pushesOf("acme/api", "master")).toEqual([
      expect.objectContaining({ after: branch.after, pusher: "Codertocat", created: true }),
    ]);
  });

  it("is not recorded, and nothing fails, without a ledger", async () => {
    const app = await loadApp({});
    await app.receive("push", inAcmeApi(examplePayloadWhere("push", (e) => e.ref.startsWith("refs/heads/"))));
    expect(app.logs().filter((line) => (line.level as number) >= 40)).toEqual([]);
  });

  it("records GitHub's documented push to a branch: before, after, created, who, when, its commits in full", () => {
    const payload = PushEvent.parse(branchPush);
    const receivedAt = new Date(Date.parse("2019-05-15T15:20:57Z") + 2_000);
    expect(pushContentOf(payload, { id: "delivery-1", receivedAt })).toEqual({
      host: "github",
      repository: "Codertocat/Hello-World",
      ref: "refs/heads/master",
      before: "0000000000000000000000000000000000000000",
      after: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
      forced: false,
      created: true,
      deleted: false,
      pusher: "Codertocat",
      sender: "Codertocat",
      pushedAt: receivedAt.toISOString(),
      receivedAt: receivedAt.toISOString(),
      payloadPushedAt: "2019-05-15T15:20:57.000Z",
      deliveryId: "delivery-1",
      commits: [
        {
          sha: "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
          message: "Initial commit",
          authorLogin: "Codertocat",
          committerLogin: "Codertocat",
          timestamp: "2019-05-15T15:19:25Z",
          url: "https://github.com/Codertocat/Hello-World/commit/6113728f27ae82c7b1a177c8d03f9e96e0adf246",
          distinct: true,
        },
      ],
      commitsComplete: true,
    });
  });

  it("keeps GitHub's push time for a delivery that arrives long after it (a redelivery), and no tag", () => {
    const payload = PushEvent.parse(branchPush);
    const late = new Date("2019-05-16T09:00:00Z");
    expect(pushContentOf(payload, { id: "redelivered", receivedAt: late })?.pushedAt).toBe(
      "2019-05-15T15:20:57.000Z",
    );
    const tag = examples.find((e) => e.ref.startsWith("refs/tags/"))!;
    expect(pushContentOf(PushEvent.parse(tag), { id: "tag", receivedAt: late })).toBeNull();
  });

  it("says a push listing GitHub's cap of 2,048 commits may have left some out", () => {
    const commit = branchPush.commits[0]!;
    const payload = PushEvent.parse({
      ...branchPush,
      commits: Array.from({ length: 2048 }, (_, i) => ({ ...commit, id: i.toString(16).padStart(40, "0") })),
    });
    expect(pushContentOf(payload, { id: "big", receivedAt: new Date() })?.commitsComplete).toBe(false);
  });
});

describe("when the push record proves itself complete", () => {
  const period = { since: new Date("2026-10-01T00:00:00Z"), until: new Date("2026-10-31T00:00:00Z") };
  const sha = (c: string) => c.repeat(40);
  const push = (
    before: string,
    after: string,
    at: string,
    more: Partial<RecordedPush> = {},
  ): RecordedPush => ({
    ref: "refs/heads/main",
    before: sha(before),
    after: sha(after),
    forced: false,
    created: false,
    deleted: false,
    pusher: "bob",
    pushedAt: at,
    commits: [
      {
        sha: sha(after),
        message: `commit ${after}\n\nbody`,
        authorLogin: "bob",
        committerLogin: "bob",
        timestamp: at,
        url: `https://github.com/acme/api/commit/${sha(after)}`,
      },
    ],
    commitsComplete: true,
    ...more,
  });
  const ctx = {} as GitHubContext;
  const reconciled = [{ from: "2026-08-01T00:00:00Z", to: "2026-11-01T00:00:00Z" }];
  const answer = (pushes: RecordedPush[], head: string, merges = new Map(), checkpoints = reconciled) =>
    pushesFromRecord(ctx, "acme/api", "main", period, new Set(), {
      source: { pushesOf: async () => pushes, checkpoints: async () => checkpoints },
      head: sha(head),
      merges,
    });

  it("chains deliveries that arrived out of order, from a push before the period to the head", async () => {
    const pushes = [
      push("b", "c", "2026-10-10T00:00:00Z"),
      push("a", "b", "2026-09-01T00:00:00Z"),
      push("c", "d", "2026-10-20T00:00:00Z"),
    ];
    const found = await answer(pushes, "d");
    expect(found.pushes?.map((p) => [p.sha, p.message, p.pushedAt])).toEqual([
      [sha("c"), "commit c", "2026-10-10T00:00:00Z"],
      [sha("d"), "commit d", "2026-10-20T00:00:00Z"],
    ]);
  });

  it("answers null, with why, for a gap, a head it never recorded, a branch created inside the period or a list cut short", async () => {
    const start = push("a", "b", "2026-09-01T00:00:00Z");
    expect((await answer([start, push("c", "d", "2026-10-20T00:00:00Z")], "d")).why).toMatch(/no push of c/);
    expect((await answer([start], "e")).why).toMatch(/no push of its head/);
    expect((await answer([push("0", "b", "2026-10-05T00:00:00Z", { created: true })], "b")).why).toMatch(
      /created inside the period/,
    );
    expect(
      (await answer([start, push("b", "c", "2026-10-05T00:00:00Z", { commitsComplete: false })], "c")).why,
    ).toMatch(/only some of its commits/);
  });

  it("takes a merge's push for the merge only when it brought nothing but the pull request's commits", async () => {
    const merge = push("b", "c", "2026-10-05T00:00:00Z");
    const merges = new Map([[sha("c"), { baseBranch: "main", commits: new Set([sha("p")]) }]]);
    const start = push("a", "b", "2026-09-01T00:00:00Z");
    expect((await answer([start, merge], "c", merges)).pushes).toEqual([]);
    const smuggled = { ...merge, commits: [{ ...merge.commits[0]!, sha: sha("x") }, ...merge.commits] };
    expect((await answer([start, smuggled], "c", merges)).why).toMatch(/brought other commits/);
    // A merge queue's push may bring several pull requests' merges at once.
    const queued = {
      ...merge,
      commits: [
        { ...merge.commits[0]!, sha: sha("q") },
        { ...merge.commits[0]!, sha: sha("p") },
        ...merge.commits,
      ],
    };
    const both = new Map([...merges, [sha("q"), { baseBranch: "main", commits: new Set<string>() }]]);
    expect((await answer([start, queued], "c", both)).pushes).toEqual([]);
    // A merge into another branch is no merge of this one: its commit is a direct push here.
    const elsewhere = new Map([[sha("c"), { baseBranch: "release", commits: new Set<string>() }]]);
    expect((await answer([start, merge], "c", elsewhere)).pushes?.map((p) => p.sha)).toEqual([sha("c")]);
  });

  it("is not trusted where reconciliation checkpoints leave a hole between the chain's first push and the period's end", async () => {
    const pushes = [push("a", "b", "2026-09-01T00:00:00Z"), push("b", "c", "2026-10-10T00:00:00Z")];
    expect((await answer(pushes, "c")).pushes?.map((p) => p.sha)).toEqual([sha("c")]);
    // Nothing reconciled: a lost push and the force push that undid it would not show.
    expect((await answer(pushes, "c", new Map(), [])).why).toMatch(/not reconciled/);
    // Two runs more than GitHub's retention apart: the span between them was never checked.
    const holed = [
      { from: "2026-08-01T00:00:00Z", to: "2026-10-05T00:00:00Z" },
      { from: "2026-10-07T00:00:00Z", to: "2026-11-01T00:00:00Z" },
    ];
    expect((await answer(pushes, "c", new Map(), holed)).why).toMatch(
      /from 2026-10-05T00:00:00.000Z were not reconciled/,
    );
    // Starting after the chain's first push (the record reaches further back than the checks).
    const late = [{ from: "2026-09-15T00:00:00Z", to: "2026-11-01T00:00:00Z" }];
    expect((await answer(pushes, "c", new Map(), late)).why).toMatch(/from 2026-09-01T00:00:00.000Z/);
    // Ending before the period does: the end of the period is not covered.
    const short = [{ from: "2026-08-01T00:00:00Z", to: "2026-10-20T00:00:00Z" }];
    expect((await answer(pushes, "c", new Map(), short)).why).toMatch(/from 2026-10-20T00:00:00.000Z/);
    // Overlapping runs, in any order, cover it.
    const overlapping = [
      { from: "2026-10-01T00:00:00Z", to: "2026-11-01T00:00:00Z" },
      { from: "2026-08-01T00:00:00Z", to: "2026-10-02T00:00:00Z" },
    ];
    expect((await answer(pushes, "c", new Map(), overlapping)).pushes?.map((p) => p.sha)).toEqual([sha("c")]);
  });

  it("falls back when a recorded push in the reconciled span is not on the walk back from the head (its reset was lost)", async () => {
    // a -> b before the period; b -> c pushed in it (recorded); the force push c -> b that undid it lost.
    const pushes = [push("a", "b", "2026-09-01T00:00:00Z"), push("b", "c", "2026-10-10T00:00:00Z")];
    const found = await answer(pushes, "b");
    expect(found.pushes).toBeNull();
    expect(found.why).toMatch(
      /the push at 2026-10-10T00:00:00Z \(bbbbbbb...ccccccc\) is not on the way back from the head/,
    );
  });
});
