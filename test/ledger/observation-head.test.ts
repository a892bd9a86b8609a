/**
 * recordObservation's fast path: when this process wrote a stream's last record, it diffs against
 * the facts it kept instead of replaying the stream. The records must be exactly those the replaying
 * path writes, the chains must verify, and a record another writer appended in between must be seen.
 */
import { afterAll, describe, expect, it } from "vitest";
import { openLedger, type Ledger } from "../../src/ledger/index.js";
import {
  recordObservation,
  replayObservations,
  repositoryFacts,
  type ObservationLedger,
} from "../../src/ledger/observations.js";
import type { Repository } from "../../src/model/index.js";
import { cleanBranchRule, makeRepository } from "../fixtures/build.js";
import { BACKENDS, testBackend } from "./backends.js";

const DAY = 86_400_000;
const START = Date.parse("2026-10-01T00:00:00Z");

/** Twelve days of acme/api: protection loosened on day 3, tightened on day 7, a collaborator on day 9. */
function dayOf(n: number): Repository {
  const rule =
    n >= 3 && n < 7 ? cleanBranchRule({ requiredApprovals: 0, enforceAdmins: false }) : cleanBranchRule();
  const repository = makeRepository({ branchRules: { known: true, value: [rule] } });
  if (n >= 9 && repository.collaborators.known) {
    repository.collaborators = {
      known: true,
      value: [...repository.collaborators.value, { login: "mallory", permission: "admin", outside: true }],
    };
  }
  return repository;
}

/** The ledger without streamHead: recordObservation replays the stream every time (the slow path). */
function replaying(ledger: Ledger): ObservationLedger {
  return { append: (...args) => ledger.append(...args), records: (stream) => ledger.records(stream) };
}

async function contents(ledger: Ledger, stream: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const record of ledger.records(stream)) out.push(JSON.parse(record.content));
  return out;
}

async function observeDays(ledger: ObservationLedger, days: number) {
  const changes: string[] = [];
  for (let n = 0; n < days; n++) {
    const recorded = await recordObservation(ledger, {
      host: "github",
      facts: repositoryFacts(dayOf(n)),
      observedAt: new Date(START + n * DAY),
      source: { trigger: "schedule" },
    });
    changes.push(recorded.change);
  }
  return changes;
}

describe.each(BACKENDS)("recordObservation's stream head (%s)", (name) => {
  const backend = testBackend(name);
  const ledgers: Ledger[] = [];
  afterAll(async () => {
    await Promise.all(ledgers.map((l) => l.close()));
    await backend.stop();
  });
  const fresh = async () => {
    const ledger = openLedger({ ...(await backend.fresh()), now: () => new Date(START) });
    ledgers.push(ledger);
    return ledger;
  };

  it("writes the same records as replaying the stream, and the chain verifies", async () => {
    const fast = await fresh();
    const slow = await fresh();
    const stream = "observation:github/acme/api";
    let replays = 0;
    const counting: Ledger = {
      ...fast,
      records: (s) => {
        replays += 1;
        return fast.records(s);
      },
    };
    const fastChanges = await observeDays(counting, 12);
    // the stream was read once, to find it empty; after that its head was enough
    expect(replays).toEqual(1);
    const slowChanges = await observeDays(replaying(slow), 12);
    expect(fastChanges).toEqual(slowChanges);
    expect(fastChanges.filter((c) => c === "changed")).toHaveLength(3);
    expect(await contents(fast, stream)).toEqual(await contents(slow, stream));
    // the same replayed facts after every record
    const replayed = async (ledger: Ledger) => {
      const out: unknown[] = [];
      for await (const o of replayObservations(ledger.records(stream))) out.push([o.facts, o.changedAt]);
      return out;
    };
    expect(await replayed(fast)).toEqual(await replayed(slow));
    const verified = await fast.verify();
    expect(verified.breaks).toEqual([]);
    expect(verified.records).toEqual(12);
    expect(await fast.streamHead(stream)).toMatchObject({ stream, sequence: 12 });
    expect(await fast.streamHead("observation:github/acme/none")).toBeNull();
  });

  it("replays when another writer appended to the stream since this process did", async () => {
    const ledger = await fresh();
    const stream = "observation:github/acme/api";
    await observeDays(ledger, 3);
    // another process (here: the replaying path, which keeps no head) records the loosened rule
    await recordObservation(replaying(ledger), {
      host: "github",
      facts: repositoryFacts(dayOf(3)),
      observedAt: new Date(START + 3 * DAY),
      source: { trigger: "webhook", event: "branch_protection_rule.edited" },
    });
    // this process observes the loosened rule again: unchanged since the other writer's record
    const again = await recordObservation(ledger, {
      host: "github",
      facts: repositoryFacts(dayOf(4)),
      observedAt: new Date(START + 4 * DAY),
      source: { trigger: "schedule" },
    });
    expect(again.change).toEqual("unchanged");
    const records = await contents(ledger, stream);
    expect(records[4]).toMatchObject({ unchangedSince: 4 });
    expect((await ledger.verify()).breaks).toEqual([]);
  });
});
