/**
 * Append-only, hash-chained records. A record belongs to a stream ("audit:github/acme",
 * "judgement:github/acme/api"), has the next sequence number of that stream, the hash of the record
 * before it (GENESIS for the first), and its own hash: SHA-256 over the canonical JSON (keys sorted,
 * no spaces) of {content, kind, prevHash, recordedAt, sequence, stream}. Changing, removing or
 * reordering a record breaks the chain at that place, which verifyChains names.
 */
import { createHash } from "node:crypto";
import type { Queryable } from "./database.js";

export const GENESIS = "0".repeat(64);

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** JSON with object keys sorted at every level and no whitespace: one text per value. */
export function canonicalJson(value: unknown): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw new TypeError(`not JSON: ${value}`);
      return JSON.stringify(value);
    case "object": {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
      const entries = Object.entries(value as Record<string, unknown>)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
    }
    default:
      throw new TypeError(`not JSON: a ${typeof value}`);
  }
}

export function sha256Hex(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}

export interface ChainedRecord {
  stream: string;
  sequence: number;
  kind: string;
  /** ISO 8601 with milliseconds. */
  recordedAt: string;
  /** The canonical JSON text of the content. */
  content: string;
  prevHash: string;
  hash: string;
}

export function recordHash(record: Omit<ChainedRecord, "hash">): string {
  // content goes in as the parsed value so the hashed text is canonical JSON all the way down
  return sha256Hex(
    canonicalJson({
      content: JSON.parse(record.content) as Json,
      kind: record.kind,
      prevHash: record.prevHash,
      recordedAt: record.recordedAt,
      sequence: record.sequence,
      stream: record.stream,
    }),
  );
}

/**
 * recordHash of a record whose content is canonical JSON text already (as every stored record's is):
 * the hashed text put together around it, without parsing it again. canonicalJson sorts the keys
 * content, kind, prevHash, recordedAt, sequence, stream in this order; a content that is not
 * canonical gives another text, so another hash than the one recorded.
 */
function hashOfCanonical(record: Omit<ChainedRecord, "hash">): string {
  return sha256Hex(
    `{"content":${record.content},"kind":${JSON.stringify(record.kind)},` +
      `"prevHash":${JSON.stringify(record.prevHash)},"recordedAt":${JSON.stringify(record.recordedAt)},` +
      `"sequence":${canonicalJson(record.sequence)},"stream":${JSON.stringify(record.stream)}}`,
  );
}

interface RecordRow {
  stream: string;
  sequence: number;
  kind: string;
  recorded_at: Date;
  content: string;
  prev_hash: string;
  hash: string;
}

const RECORD_COLUMNS = `stream, sequence, kind, recorded_at, content, prev_hash, hash`;

function fromRow(row: RecordRow): ChainedRecord {
  return {
    stream: row.stream,
    sequence: row.sequence,
    kind: row.kind,
    recordedAt: new Date(row.recorded_at).toISOString(),
    content: row.content,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/**
 * Appends one record to its stream inside the caller's transaction. The stream's head row is
 * locked first: a concurrent writer of the same stream waits until this transaction
 * ends and then reads the new head, so the chain never forks; the primary key (stream, sequence)
 * would refuse a fork even if it did not.
 */
export async function appendRecord(
  tx: Queryable,
  entry: { stream: string; kind: string; content: unknown; recordedAt: Date },
): Promise<ChainedRecord> {
  // One statement creates the head row or locks it (ON CONFLICT DO UPDATE takes the row lock, as
  // FOR UPDATE would) and reads it: a concurrent writer of the stream waits here until this commits.
  const [head] = await tx.query<{ head_sequence: number; head_hash: string }>(
    `INSERT INTO streams (stream, head_sequence, head_hash) VALUES ($1, 0, $2)
     ON CONFLICT (stream) DO UPDATE SET head_sequence = streams.head_sequence
     RETURNING head_sequence, head_hash`,
    [entry.stream, GENESIS],
  );
  if (!head) throw new Error(`stream ${entry.stream} vanished while appending`);
  const unhashed = {
    stream: entry.stream,
    sequence: head.head_sequence + 1,
    kind: entry.kind,
    recordedAt: entry.recordedAt.toISOString(),
    content: canonicalJson(entry.content),
    prevHash: head.head_hash,
  };
  const record: ChainedRecord = { ...unhashed, hash: hashOfCanonical(unhashed) };
  // the record and the new head in one statement (a round trip less per append)
  await tx.query(
    `WITH appended AS (
       INSERT INTO records (${RECORD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING stream
     )
     UPDATE streams SET head_sequence = $2, head_hash = $7 WHERE stream = (SELECT stream FROM appended)`,
    [
      record.stream,
      record.sequence,
      record.kind,
      new Date(record.recordedAt),
      record.content,
      record.prevHash,
      record.hash,
    ],
  );
  return record;
}

/** A stream's head as its head row says (null: no record yet). */
export async function readHead(db: Queryable, stream: string): Promise<StreamHead | null> {
  const [row] = await db.query<{ head_sequence: number; head_hash: string }>(
    `SELECT head_sequence, head_hash FROM streams WHERE stream = $1`,
    [stream],
  );
  return row && row.head_sequence > 0 ? { stream, sequence: row.head_sequence, hash: row.head_hash } : null;
}

const PAGE = 500;

/** A stream's records in sequence order, a page at a time (a stream can hold years of judgements). */
export async function* readStream(db: Queryable, stream: string): AsyncGenerator<ChainedRecord> {
  let after = 0;
  for (;;) {
    const rows = await db.query<RecordRow>(
      `SELECT ${RECORD_COLUMNS} FROM records WHERE stream = $1 AND sequence > $2 ORDER BY sequence LIMIT ${PAGE}`,
      [stream, after],
    );
    for (const row of rows) yield fromRow(row);
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]?.sequence ?? after;
  }
}

/** Every record of one kind, oldest first by recording time. */
/** One record by its place in its stream, or null. */
export async function recordAt(
  db: Queryable,
  stream: string,
  sequence: number,
): Promise<ChainedRecord | null> {
  const rows = await db.query<RecordRow>(
    `SELECT ${RECORD_COLUMNS} FROM records WHERE stream = $1 AND sequence = $2`,
    [stream, sequence],
  );
  return rows[0] ? fromRow(rows[0]) : null;
}

export interface StreamHead {
  stream: string;
  sequence: number;
  hash: string;
}

/** Every stream: those with a head row and any that has records but lost its head row. */
export async function listStreams(db: Queryable): Promise<StreamHead[]> {
  const rows = await db.query<{ stream: string; head_sequence: number | null; head_hash: string | null }>(
    `SELECT s.stream, h.head_sequence, h.head_hash
       FROM (SELECT stream FROM streams UNION SELECT DISTINCT stream FROM records) s
       LEFT JOIN streams h ON h.stream = s.stream
      ORDER BY s.stream`,
  );
  return rows.map((row) => ({
    stream: row.stream,
    sequence: row.head_sequence ?? -1,
    hash: row.head_hash ?? "(no head row)",
  }));
}

/** Where a chain breaks: the stream, the record's sequence, what was expected there and what was found. */
export interface ChainBreak {
  stream: string;
  sequence: number;
  problem: string;
  expected: string;
  found: string;
}

export interface StreamVerification {
  stream: string;
  records: number;
  head: { sequence: number; hash: string };
  break: ChainBreak | null;
}

/**
 * Walks one stream from its first record: each must have the next sequence number, the previous
 * record's hash, a canonical content, and a hash that matches its content; the last must be the
 * stream's head. Stops at the first break (what follows a break cannot be trusted either).
 * `check` adds checks of a record's own (e.g. that an audit run's files are all there and intact).
 */
export async function verifyStream(
  db: Queryable,
  head: StreamHead,
  check?: (record: ChainedRecord) => Promise<Omit<ChainBreak, "stream" | "sequence"> | null>,
): Promise<StreamVerification> {
  let expectedSequence = 1;
  let expectedPrev = GENESIS;
  let records = 0;
  const broken = (
    sequence: number,
    problem: string,
    expected: string,
    found: string,
  ): StreamVerification => ({
    stream: head.stream,
    records,
    head: { sequence: head.sequence, hash: head.hash },
    break: { stream: head.stream, sequence, problem, expected, found },
  });
  for await (const record of readStream(db, head.stream)) {
    if (record.sequence !== expectedSequence) {
      return broken(
        expectedSequence,
        record.sequence > expectedSequence
          ? `record ${expectedSequence} is missing (removed)`
          : `record ${record.sequence} is out of order`,
        `record ${expectedSequence}`,
        `record ${record.sequence}`,
      );
    }
    if (record.prevHash !== expectedPrev) {
      return broken(
        record.sequence,
        `record ${record.sequence} does not follow record ${record.sequence - 1} (its previous-record hash differs: a record was changed, removed or reordered)`,
        expectedPrev,
        record.prevHash,
      );
    }
    // An intact record (the hash over its stored text matches) needs no parsing; any other is
    // examined to say what is wrong with it.
    if (record.hash !== hashOfCanonical(record)) {
      let canonical: string;
      try {
        canonical = canonicalJson(JSON.parse(record.content));
      } catch {
        canonical = "(not JSON)";
      }
      if (canonical !== record.content) {
        return broken(
          record.sequence,
          `record ${record.sequence}'s content was edited (not as recorded)`,
          canonical,
          record.content,
        );
      }
      const computed = recordHash(record);
      if (computed !== record.hash) {
        return broken(
          record.sequence,
          `record ${record.sequence}'s content does not match its hash (the record was changed)`,
          computed,
          record.hash,
        );
      }
    }
    const own = check ? await check(record) : null;
    if (own) return broken(record.sequence, own.problem, own.expected, own.found);
    records += 1;
    expectedPrev = record.hash;
    expectedSequence += 1;
  }
  if (head.sequence !== expectedSequence - 1 || head.hash !== expectedPrev) {
    return broken(
      head.sequence,
      head.sequence > expectedSequence - 1
        ? `the stream's head is record ${head.sequence} but the last record found is ${expectedSequence - 1} (records at the end were removed)`
        : `the stream's head does not match its last record`,
      `head ${head.sequence} ${head.hash}`,
      `last record ${expectedSequence - 1} ${expectedPrev}`,
    );
  }
  return { stream: head.stream, records, head: { sequence: head.sequence, hash: head.hash }, break: null };
}
