/**
 * The ledger's store and chains on both backends: migrations, appending and reading, tampering
 * found and named, concurrent writers that never fork a chain.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  canonicalJson,
  GENESIS,
  MIGRATIONS,
  openLedger,
  recordHash,
  type Ledger,
  type LedgerOptions,
} from "../../src/ledger/index.js";
import { migrate } from "../../src/ledger/migrations.js";
import { BACKENDS, testBackend } from "./backends.js";

const AT = new Date("2026-03-01T12:00:00.000Z");

async function records(ledger: Ledger, stream: string) {
  const out = [];
  for await (const record of ledger.records(stream)) out.push(record);
  return out;
}

describe.each(BACKENDS)("the ledger on %s", (name) => {
  const backend = testBackend(name);
  const opened: Ledger[] = [];
  const open = (options: LedgerOptions) => {
    const ledger = openLedger({ now: () => AT, ...options });
    opened.push(ledger);
    return ledger;
  };
  afterAll(async () => {
    await Promise.all(opened.map((ledger) => ledger.close()));
    await backend.stop();
  });

  it("applies its migrations once: a second start and a second run apply nothing", async () => {
    const options = await backend.fresh();
    const first = open(options);
    await first.open();
    const db = await first.database();
    const applied = await db.query<{ version: number; name: string }>(
      `SELECT version, name FROM migrations ORDER BY version`,
    );
    expect(applied).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    expect(await migrate(db, options.schema ?? "soc2_ledger")).toEqual([]);
    await first.append("test:a", "note", { n: 1 });
    await first.close();

    const again = open(options);
    await again.open();
    expect(await (await again.database()).query(`SELECT version FROM migrations`)).toHaveLength(
      MIGRATIONS.length,
    );
    expect((await records(again, "test:a")).map((r) => r.content)).toEqual(['{"n":1}']);
  });

  it("appends records with their sequence, the previous record's hash and their own hash", async () => {
    const ledger = open(await backend.fresh());
    const contents = [{ b: 2, a: [1, "x"] }, { nested: { z: true, y: null } }, { text: "ünïcode \u2028" }];
    const entries = [];
    for (const content of contents) entries.push(await ledger.append("test:stream", "note", content));
    const read = await records(ledger, "test:stream");
    expect(read.map((r) => r.sequence)).toEqual([1, 2, 3]);
    expect(read.map((r) => r.content)).toEqual(contents.map((c) => canonicalJson(c)));
    expect(read[0]?.content).toBe('{"a":[1,"x"],"b":2}');
    expect(read.map((r) => r.prevHash)).toEqual([GENESIS, read[0]?.hash, read[1]?.hash]);
    for (const record of read) {
      expect(record.hash).toBe(recordHash(record));
      expect(record.recordedAt).toBe(AT.toISOString());
    }
    expect(entries.map((e) => e.hash)).toEqual(read.map((r) => r.hash));
    expect((await ledger.verify()).breaks).toEqual([]);
  });

  describe("tampering, found by verify and named by stream and sequence", () => {
    // one ledger, a stream per case: each case tampers with its own stream only
    let shared: Promise<Ledger> | null = null;
    let cases = 0;
    async function ledgerWithRecords(): Promise<{ ledger: Ledger; stream: string }> {
      shared ??= backend.fresh().then(open);
      const ledger = await shared;
      cases += 1;
      const stream = `judgement:github/acme/api-${cases}`;
      for (let n = 1; n <= 4; n++) await ledger.append(stream, "judgement", { n });
      await ledger.append(`judgement:github/acme/web-${cases}`, "judgement", { n: 1 });
      expect((await ledger.verify({ streams: (s) => s === stream })).breaks).toEqual([]);
      return { ledger, stream };
    }
    const sql = async (ledger: Ledger, text: string) => (await ledger.database()).exec(text);

    it("a changed record", async () => {
      const { ledger, stream } = await ledgerWithRecords();
      const [before] = await records(ledger, stream).then((r) => r.slice(1, 2));
      await sql(
        ledger,
        `UPDATE records SET content = '{"n":20}' WHERE stream = '${stream}' AND sequence = 2`,
      );
      const report = await ledger.verify();
      expect(report.breaks.filter((b) => b.stream === stream)).toEqual([
        {
          stream,
          sequence: 2,
          problem: "record 2's content does not match its hash (the record was changed)",
          expected: recordHash({ ...before!, content: '{"n":20}' }),
          found: before!.hash,
        },
      ]);
      // the other stream is intact, and said to be
      expect(report.streams.find((s) => s.stream === stream.replace("api", "web"))?.break).toBeNull();
    });

    it("a changed record whose hash was recomputed: the next record no longer follows it", async () => {
      const { ledger, stream } = await ledgerWithRecords();
      const [second, third] = (await records(ledger, stream)).slice(1, 3);
      const forged = recordHash({ ...second!, content: '{"n":20}' });
      await sql(
        ledger,
        `UPDATE records SET content = '{"n":20}', hash = '${forged}'
          WHERE stream = '${stream}' AND sequence = 2`,
      );
      expect((await ledger.verify({ streams: (s) => s === stream })).breaks).toEqual([
        expect.objectContaining({
          stream,
          sequence: 3,
          expected: forged,
          found: third!.prevHash,
        }),
      ]);
    });

    it("a removed record", async () => {
      const { ledger, stream } = await ledgerWithRecords();
      await sql(ledger, `DELETE FROM records WHERE stream = '${stream}' AND sequence = 2`);
      expect((await ledger.verify({ streams: (s) => s === stream })).breaks).toEqual([
        {
          stream,
          sequence: 2,
          problem: "record 2 is missing (removed)",
          expected: "record 2",
          found: "record 3",
        },
      ]);
    });

    it("a removed last record", async () => {
      const { ledger, stream } = await ledgerWithRecords();
      const third = (await records(ledger, stream))[2]!;
      const fourth = (await records(ledger, stream))[3]!;
      await sql(ledger, `DELETE FROM records WHERE stream = '${stream}' AND sequence = 4`);
      expect((await ledger.verify({ streams: (s) => s === stream })).breaks).toEqual([
        {
          stream,
          sequence: 4,
          problem:
            "the stream's head is record 4 but the last record found is 3 (records at the end were removed)",
          expected: `head 4 ${fourth.hash}`,
          found: `last record 3 ${third.hash}`,
        },
      ]);
    });

    it("two records swapped", async () => {
      const { ledger, stream } = await ledgerWithRecords();
      const [first, , third] = await records(ledger, stream);
      await sql(
        ledger,
        `UPDATE records SET sequence = 1002 WHERE stream = '${stream}' AND sequence = 2;
         UPDATE records SET sequence = 2 WHERE stream = '${stream}' AND sequence = 3;
         UPDATE records SET sequence = 3 WHERE stream = '${stream}' AND sequence = 1002;`,
      );
      expect((await ledger.verify({ streams: (s) => s === stream })).breaks).toEqual([
        expect.objectContaining({
          stream,
          sequence: 2,
          expected: first!.hash,
          found: third!.prevHash,
        }),
      ]);
    });
  });

  it("two writers appending to one stream at once never fork its chain", async () => {
    const options = await backend.fresh();
    // PostgreSQL: two ledgers, each with its own connections, as two processes would have.
    // PGlite serves one process: one ledger, with concurrent appends from within it.
    const writers = name === "postgres" ? [open(options), open(options)] : [open(options)];
    await Promise.all(writers.map((w) => w.open()));
    const perWriter = 20;
    await Promise.all(
      [0, 1].flatMap((w) =>
        Array.from({ length: perWriter }, (_, n) =>
          writers[w % writers.length]!.append("audit:github/acme", "note", { writer: w, n }),
        ),
      ),
    );
    const read = await records(writers[0]!, "audit:github/acme");
    expect(read.map((r) => r.sequence)).toEqual(Array.from({ length: 2 * perWriter }, (_, i) => i + 1));
    expect(new Set(read.map((r) => r.content)).size).toBe(2 * perWriter);
    const report = await writers[0]!.verify();
    expect(report.breaks).toEqual([]);
    expect(report.records).toBe(2 * perWriter);
  });

  if (name === "postgres") {
    it("two processes starting at once on an empty database both find the tables made once", async () => {
      const options = await backend.fresh();
      const [a, b] = [open(options), open(options)];
      await Promise.all([a.open(), b.open()]);
      expect(await (await a.database()).query(`SELECT version FROM migrations`)).toHaveLength(
        MIGRATIONS.length,
      );
    });
  } else {
    it("a second process opening the same folder is refused, naming the holder", async () => {
      const options = await backend.fresh();
      const first = open(options);
      await first.open();
      const second = open(options);
      await expect(second.open()).rejects.toThrow(
        new RegExp(`in use by process ${process.pid}: the embedded ledger serves one process at a time`),
      );
      await first.close();
      await second.open();
      await second.append("test:a", "note", {});
    });
  }
});
