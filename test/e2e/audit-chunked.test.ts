/**
 * An audit streamed within a repository: a repository with over a thousand merged pull requests is
 * collected, judged and written a chunk of its changes at a time (AuditOptions.changeChunk, small
 * here), through the simulated GitHub and the real GitHub provider. Its evidence package must be,
 * byte for byte, the one the same audit writes holding each repository whole, with a ledger judging
 * every merge as of the merge, and when the big repository's collection fails after some of its
 * chunks were written (the repository is then recorded with its error and no changes, as whole).
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openLedger, type Ledger } from "../../src/ledger/index.js";
import { collectedSummary } from "../../src/ledger/collected.js";
import { collectAudit } from "../../src/pipeline/audit.js";
import { runAuditJob, type AuditOutcome } from "../../src/pipeline/audit-run.js";
import type { CodeHost } from "../../src/providers/types.js";
import {
  compareWithExpected,
  githubHostFor,
  period,
  serveSample,
  type ServedSample,
} from "../../src/sim/harness.js";

/** One repository with 1,203 merged pull requests among small ones (the long tail's shape). */
const COUNTS = [3, 1203, 0, 5, 2];
const BIG = 1;
/** Chunks of 97 (1,203 = 12 x 97 + 39): the last part holds a partial chunk. */
const CHUNK = 97;
const WHOLE = 1_000_000;
const now = () => new Date("2026-11-02T00:00:00.000Z");

let served: ServedSample;
let dir: string;

beforeAll(async () => {
  served = await serveSample({ seed: 42, repositories: COUNTS.length, pullRequestCounts: COUNTS });
  dir = await mkdtemp(join(tmpdir(), "soc2-audit-chunked-"));
}, 120_000);
afterAll(async () => {
  await served?.sim.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function audit(
  name: string,
  changeChunk: number,
  options: { ledger?: Ledger; host?: CodeHost; errors?: string[] } = {},
): Promise<AuditOutcome> {
  return runAuditJob({
    host: options.host ?? githubHostFor(served.sim).host,
    organization: "acme-demo",
    ...period(served.sample),
    now,
    concurrency: 3,
    changeChunk,
    outDir: join(dir, name),
    ...(options.ledger ? { ledger: options.ledger } : {}),
    log: { error: (_object, message) => options.errors?.push(message) },
    source: { trigger: "cli" },
    findings: true,
  });
}

async function expectSamePackage(chunked: string, whole: string): Promise<void> {
  const names = (await readdir(join(dir, whole))).sort();
  expect((await readdir(join(dir, chunked))).sort()).toEqual(names);
  for (const name of names) {
    const expected = await readFile(join(dir, whole, name), "utf8");
    expect(await readFile(join(dir, chunked, name), "utf8"), name).toBe(expected);
  }
}

/**
 * The GitHub host, but the big repository's listing fails after `after` merged pull requests
 * (a connection lost on a later page): the chunks already handed on must not count.
 */
function failingAfter(after: number): CodeHost {
  const host = githubHostFor(served.sim).host;
  const big = served.sample.snapshot.repositories[BIG]!.fullName;
  return {
    ...host,
    listMergedChangeRequests: async function* (repository, isProduction, period) {
      let n = 0;
      for await (const change of host.listMergedChangeRequests(repository, isProduction, period)) {
        if (repository === big && n === after) throw new Error("socket hang up");
        n += 1;
        yield change;
      }
    },
  };
}

describe("audit streamed within a repository through the simulated GitHub", () => {
  it("writes, byte for byte, the package the audit writes holding each repository whole", async () => {
    const whole = await audit("whole", WHOLE);
    const chunked = await audit("chunked", CHUNK);
    await expectSamePackage("chunked", "whole");

    const snapshot = JSON.parse(await readFile(join(dir, "chunked", "snapshot.json"), "utf8")) as {
      changeRequests: { repository: string }[];
    };
    const big = served.sample.snapshot.repositories[BIG]!.fullName;
    expect(snapshot.changeRequests.filter((c) => c.repository === big)).toHaveLength(COUNTS[BIG]!);
    expect(chunked.report.totals).toEqual(whole.report.totals);
    expect(chunked.counts).toEqual(whole.counts);
    expect(chunked.figures).toEqual(whole.figures);
    expect(chunked.findings).toEqual(whole.findings);
    expect(chunked.figures.population.changeRequests).toBe(COUNTS.reduce((sum, n) => sum + n, 0));
    // what the whole snapshot says was collected, and every planted violation found
    const collected = await collectAudit({
      host: githubHostFor(served.sim).host,
      organization: "acme-demo",
      ...period(served.sample),
      now,
    });
    expect(chunked.figures.collected).toEqual(collectedSummary(collected));
    expect(
      compareWithExpected({ ...chunked.report, results: chunked.findings }, served.sample.expected),
    ).toEqual({
      expected: served.sample.expected.length,
      found: served.sample.expected.length,
      missing: [],
      unexpected: [],
    });
  }, 120_000);

  it("judges each chunk's merges as of the merge from the ledger as the whole repository's are", async () => {
    // Each ledger first holds an observation from the period's start (before every merge), so the
    // merges are judged by it: the rule timeline is read once per repository, not per chunk.
    const seeded = async (name: string): Promise<Ledger> => {
      const ledger = openLedger({ dir: null, now });
      await runAuditJob({
        host: githubHostFor(served.sim).host,
        organization: "acme-demo",
        ...period(served.sample),
        now: () => period(served.sample).since,
        outDir: join(dir, `${name}-seed`),
        ledger,
        log: { error: () => {} },
        source: { trigger: "cli" },
      });
      return ledger;
    };
    const wholeLedger = await seeded("ledger-whole");
    const chunkedLedger = await seeded("ledger-chunked");
    try {
      const errors: string[] = [];
      const whole = await audit("ledger-whole", WHOLE, { ledger: wholeLedger, errors });
      const chunked = await audit("ledger-chunked", CHUNK, { ledger: chunkedLedger, errors });
      await expectSamePackage("ledger-chunked", "ledger-whole");
      expect(errors).toEqual([]);
      expect(chunked.observed).toEqual(whole.observed);
      const snapshot = JSON.parse(await readFile(join(dir, "ledger-chunked", "snapshot.json"), "utf8")) as {
        asOfMerge: { merges: { observation: unknown }[] };
      };
      expect(snapshot.asOfMerge.merges).toHaveLength(COUNTS.reduce((sum, n) => sum + n, 0));
      expect(snapshot.asOfMerge.merges.every((merge) => merge.observation !== null)).toBe(true);
    } finally {
      await wholeLedger.close();
      await chunkedLedger.close();
    }
  }, 180_000);

  it("discards the chunks written of a repository whose collection fails after them", async () => {
    // 300 changes read: three chunks of 97 written before the failure
    const whole = await audit("failed-whole", WHOLE, { host: failingAfter(300) });
    const chunked = await audit("failed-chunked", CHUNK, { host: failingAfter(300) });
    await expectSamePackage("failed-chunked", "failed-whole");
    expect(chunked.figures).toEqual(whole.figures);
    const big = served.sample.snapshot.repositories[BIG]!.fullName;
    const snapshot = JSON.parse(await readFile(join(dir, "failed-chunked", "snapshot.json"), "utf8")) as {
      repositories: { fullName: string; collectionError: string | null }[];
      changeRequests: { repository: string }[];
    };
    expect(snapshot.repositories.find((r) => r.fullName === big)?.collectionError).toBe(
      "Error: socket hang up",
    );
    expect(snapshot.changeRequests.filter((c) => c.repository === big)).toEqual([]);
    expect(chunked.figures.population.changeRequests).toBe(
      COUNTS.reduce((sum, n) => sum + n, 0) - COUNTS[BIG]!,
    );
    expect(chunked.counts.unknown).toBeGreaterThan(0);
  }, 120_000);
});
