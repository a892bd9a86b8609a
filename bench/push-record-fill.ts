/**
 * Fills a ledger with the year's push webhooks of a benchmark organization, in a process of its own
 * (the audit's memory stays the audit's): the same sample and world the simulated GitHub serves
 * (bench/sim/process.ts builds it the same way from the shape and seed), each branch's pushes and
 * merges delivered as the app receives them (src/app/pushes.ts), at the push's time.
 */
import { recordPushEvent } from "../src/app/pushes.js";
import { openLedger, type LedgerOptions } from "../src/ledger/index.js";
import { generateSampleOrganization } from "../src/sample/generate.js";
import { withFindingsRepository } from "./harness.js";
import { sampleOptionsFor, type OrgShape } from "./shapes.js";
import { pushDeliveriesOf } from "./sim/rest-activity.js";
import { createWorld } from "./sim/world.js";
import { serveWorker } from "./worker.js";

export interface PushRecordFillConfig {
  shape: OrgShape;
  seed?: number;
  ledger: LedgerOptions;
}

export interface PushRecordFillFigures {
  deliveries: number;
  branches: number;
  wallMs: number;
}

serveWorker<PushRecordFillConfig, PushRecordFillFigures>({
  async start(config) {
    const sample = generateSampleOrganization(sampleOptionsFor(config.shape, config.seed ?? 42));
    const world = createWorld(withFindingsRepository(sample.snapshot));
    const ledger = openLedger(config.ledger);
    const started = performance.now();
    let deliveries = 0;
    let branches = 0;
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
          }
        }
      }
    } finally {
      await ledger.close();
    }
    return { deliveries, branches, wallMs: performance.now() - started };
  },
});
