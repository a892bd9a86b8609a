/**
 * GitLab webhook work as jobs on PostgreSQL (pg-boss), through the server's GitLab endpoint
 * (src/app/server.ts's gitLabEndpoint) as `npm start` mounts it, against the simulated GitLab: two
 * instances behind a round-robin take a burst of merge request events for one merge request, which
 * coalesces (at most one evaluation running and one waiting per merge request, across instances)
 * into a few evaluations whose last commit status is the merge request's correct verdict; a replayed
 * delivery (same X-Gitlab-Event-UUID) at the other instance causes nothing.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pg from "pg";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { pgBossQueue, type JobQueue } from "../../src/app/jobs.js";
import { openLedger, type Ledger } from "../../src/ledger/index.js";
import { gitLabEndpoint } from "../../src/app/server.js";
import { runChangeCheck } from "../../src/pipeline/change-check.js";
import { createGitLabHost, GITLAB_STATUS_NAME } from "../../src/providers/gitlab/index.js";
import { statusStateOf } from "../../src/providers/gitlab/writes.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";
import { startSimulatedGitLab, type SimulatedGitLab } from "../../src/sim/gitlab/server.js";
import { testBackend } from "../ledger/backends.js";

const SECRET = "gitlab-hook-secret-9d1e";

describe("GitLab merge request events as jobs on two instances", () => {
  const backend = testBackend("postgres");
  const queues: JobQueue[] = [];
  const servers: Server[] = [];
  const ledgers: Ledger[] = [];
  let sim: SimulatedGitLab | null = null;
  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await Promise.all(queues.map((queue) => queue.stop()));
    await Promise.all(ledgers.map((ledger) => ledger.close()));
    await sim?.close();
    await backend.stop();
  });

  it("coalesces a burst for one merge request into a few evaluations ending on its correct status", async () => {
    const ledgerOptions = await backend.fresh();
    const { databaseUrl } = ledgerOptions;
    const schema = `jobs_${Date.now().toString(36)}g`;
    const sample = generateSampleOrganization({ repositories: 2, pullRequestsPerRepository: 3, members: 6 });
    // One of the sample's merged changes, still open: it gets a commit status, a merge would not.
    const change = sample.snapshot.changeRequests[0]!;
    Object.assign(change, { state: "open", mergedAt: null, mergedBy: null, mergeCommitSha: null });
    sim = await startSimulatedGitLab({ snapshot: sample.snapshot, groupPolicy: sample.organizationPolicy });
    const host = () => createGitLabHost({ baseUrl: sim!.url, token: sim!.token });

    // Two instances: each its own ledger connection (deliveries are claimed there), queue and endpoint,
    // as `npm start` wires them.
    const urls: string[] = [];
    for (const name of ["a", "b"]) {
      const queue = pgBossQueue(databaseUrl!, {
        schema,
        log: { warn: () => {}, error: () => {} },
        instance: name,
      });
      queues.push(queue);
      const ledger = openLedger(ledgerOptions);
      ledgers.push(ledger);
      const endpoint = gitLabEndpoint(
        { GITLAB_WEBHOOK_SECRET: SECRET },
        pino({ level: "silent" }),
        host,
        ledger,
        queue,
      );
      await queue.start();
      const server = createServer((req, res) => {
        void endpoint(req, res).then((handled) => {
          if (!handled) res.writeHead(404).end();
        });
      });
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      urls.push(`http://127.0.0.1:${(server.address() as AddressInfo).port}/gitlab/webhook`);
    }

    const hook = {
      object_kind: "merge_request",
      user: { username: change.author },
      project: { path_with_namespace: change.repository },
      object_attributes: {
        iid: change.number,
        action: "update",
        state: "opened",
        target_branch: change.baseBranch,
        source_branch: change.headBranch,
        last_commit: { id: change.headSha },
      },
    };
    const deliveries = 12;
    const ids = Array.from({ length: deliveries }, () => randomUUID());
    const deliver = async (id: string, i: number) => {
      const response = await fetch(urls[i % urls.length]!, {
        method: "POST",
        body: JSON.stringify(hook),
        headers: {
          "content-type": "application/json",
          "x-gitlab-token": SECRET,
          "x-gitlab-event": "Merge Request Hook",
          "x-gitlab-event-uuid": id,
        },
      });
      await response.text();
      return response.status;
    };
    const answers = await Promise.all(ids.map(deliver));
    expect(answers).toEqual(Array.from({ length: deliveries }, () => 202));
    // GitLab's "Resend request" of a delivery already handled, at the other instance: nothing queued.
    const replays = await Promise.all(ids.slice(0, 4).map((id, i) => deliver(id, i + 1)));
    expect(replays).toEqual([200, 200, 200, 200]);

    // Every job done (none waiting, retrying or running), across both instances.
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const { rows } = await client.query<{ open: string; done: string }>(
          `SELECT count(*) FILTER (WHERE state < 'completed') AS open,
                  count(*) FILTER (WHERE state = 'completed') AS done
           FROM ${schema}.job WHERE name = 'gitlab-change'`,
        );
        if (Number(rows[0]!.open) === 0 && Number(rows[0]!.done) > 0) break;
        if (Date.now() > deadline) throw new Error(`jobs not done: ${JSON.stringify(rows)}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    } finally {
      await client.end();
    }

    const project = sim.world.group.projects.find((p) => p.wire.path_with_namespace === change.repository)!;
    const statuses = project.statuses.filter((status) => status.name === GITLAB_STATUS_NAME);
    // Coalesced: one evaluation running and one waiting at most at any time, not one per delivery.
    expect(statuses.length).toBeGreaterThanOrEqual(1);
    expect(statuses.length).toBeLessThanOrEqual(3);
    expect(new Set(statuses.map((status) => status.sha))).toEqual(new Set([change.headSha]));
    // The last status is the verdict a fresh evaluation of the merge request gives.
    const expected = await runChangeCheck(
      host(),
      { repository: change.repository, number: change.number },
      { organization: change.repository.split("/")[0]!, now: new Date(), publish: false },
    );
    expect(statuses.at(-1)!.status).toBe(statusStateOf(expected.check.conclusion));
    console.log(
      `[gitlab-jobs] ${deliveries} deliveries, ${statuses.length} evaluations: ${JSON.stringify(statuses.map((s) => [s.status, s.description]))}`,
    );
  }, 120_000);
});
