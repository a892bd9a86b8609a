/**
 * Fills a ledger with the year's push webhooks of a benchmark organization, in a process of its own
 * (the audit's memory stays the audit's): the same sample and world the simulated GitHub serves
 * (bench/sim-process.ts builds it the same way from the shape and seed), each branch's pushes and
 * merges delivered as the app receives them (src/app/pushes.ts), at the push's time. Then the
 * reconciliation checkpoints the app's scheduler would have written over the same time (the audit
 * trusts the record only over checkpointed spans): one every 2 days, within GitHub's 3 days of
 * deliveries, from the first delivery to the world's time, each counting the push deliveries GitHub
 * listed in its span (none missing: every one was received). The app reconciles every hour; a span
 * of 2 days covers the same time with fewer rows, so the audit reads the same record.
 */
import { recordPushEvent } from "../src/app/pushes.js";
import { openLedger, type LedgerOptions } from "../src/ledger/index.js";
import { recordDeliveriesCheckpoint } from "../src/ledger/pushes.js";
import { generateSampleOrganization } from "../src/sample/generate.js";
import { withFindingsRepository } from "../src/sim/harness.js";
import { sampleOptionsFor, type OrgShape } from "./shapes.js";
import { pushDeliveriesOf } from "../src/sim/github/rest-activity.js";
import { createWorld } from "../src/sim/github/world.js";
import { serveWorker } from "./worker.js";

/** Within GitHub's 3 days of deliveries: consecutive runs leave no hole. */
const RECONCILE_EVERY_MS = 2 * 24 * 60 * 60 * 1000;

export interface PushRecordFillConfig {
  shape: OrgShape;
  seed?: number;
  ledger: LedgerOptions;
}

export interface PushRecordFillFigures {
  deliveries: number;
  branches: number;
  /** Reconciliation checkpoints written, and the span they cover. */
  checkpoints: number;
  reconciledFrom: string;
  reconciledTo: string;
  wallMs: number;
}

serveWorker<PushRecordFillConfig, PushRecordFillFigures>({
  async start(config) {
    const sample = generateSampleOrganization(sampleOptionsFor(config.shape, config.seed ?? 42));
    const world = createWorld(withFindingsRepository(sample.snapshot));
    const ledger = openLedger(config.ledger);
    const started = performance.now();
    let reconciledFrom = "";
    let reconciledTo = "";
    let deliveries = 0;
    let branches = 0;
    let checkpoints = 0;
    const deliveredAt: number[] = [];
    const log = {
      warn: (object: object, message: string) => {
        throw new Error(`${message}: ${JSON.stringify(object)}`);
      },
    };
    try {
      for (const repository of world.repositories.values()) {
        const names = new Set([
          repository.facts.defaultBranch,
          ...repository.facts.productionBranches,
          ...repository.branchCommits.keys(),
        ]);
        for (const branch of names) {
          branches += 1;
          for (const delivery of pushDeliveriesOf(world, repository, branch)) {
            await recordPushEvent(
              ledger,
              delivery.payload,
              { id: delivery.id, receivedAt: new Date(delivery.receivedAt) },
              log,
            );
            deliveries += 1;
            deliveredAt.push(Date.parse(delivery.receivedAt));
          }
        }
      }
      deliveredAt.sort((a, b) => a - b);
      const end = Date.parse(world.now());
      let at = deliveredAt[0] ?? end;
      reconciledFrom = new Date(at).toISOString();
      for (let next = 0; at < end; checkpoints += 1) {
        const to = Math.min(end, at + RECONCILE_EVERY_MS);
        let listed = 0;
        while (next < deliveredAt.length && deliveredAt[next]! <= to) {
          listed += 1;
          next += 1;
        }
        await recordDeliveriesCheckpoint(ledger, {
          host: "github",
          from: new Date(at).toISOString(),
          to: new Date(to).toISOString(),
          pushDeliveries: listed,
          recorded: 0,
          retentionBound: false,
        });
        at = to;
      }
      reconciledTo = new Date(end).toISOString();
    } finally {
      await ledger.close();
    }
    return {
      deliveries,
      branches,
      checkpoints,
      reconciledFrom,
      reconciledTo,
      wallMs: performance.now() - started,
    };
  },
});
