/**
 * The ledger's schema, as numbered migrations applied in order at start. Each runs once, recorded in
 * `migrations`; all of them run in one transaction under an advisory lock, so two processes starting
 * at once on a fresh database do not both create the tables (the second waits, then finds them).
 * A migration is never edited once released: a change is a new migration.
 */
import { createHash } from "node:crypto";
import { LedgerUnavailableError, type Database } from "./database.js";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "hash-chained records and the package file store",
    sql: `
      -- One row per stream: its head, locked (SELECT ... FOR UPDATE) by each append so that two
      -- writers of one stream take turns and never both extend the same head.
      CREATE TABLE streams (
        stream        text PRIMARY KEY,
        head_sequence integer NOT NULL,
        head_hash     text NOT NULL,
        created_at    timestamptz NOT NULL DEFAULT now()
      );
      -- Append-only: each record carries its sequence in its stream, the hash of the record before
      -- it, and its own hash over the canonical JSON of {content, kind, prevHash, recordedAt,
      -- sequence, stream}. content is that canonical JSON text, stored as hashed.
      CREATE TABLE records (
        stream      text NOT NULL REFERENCES streams (stream),
        sequence    integer NOT NULL CHECK (sequence >= 1),
        kind        text NOT NULL,
        recorded_at timestamptz NOT NULL,
        content     text NOT NULL,
        prev_hash   text NOT NULL,
        hash        text NOT NULL,
        PRIMARY KEY (stream, sequence)
      );
      CREATE INDEX records_kind_recorded_at ON records (kind, recorded_at);
      -- Evidence files, content-addressed by the SHA-256 of their bytes (identical files of two audit
      -- runs are kept once), stored as gzip members of at most CHUNK bytes each so no file is ever
      -- held whole in memory on the way in or out.
      CREATE TABLE files (
        sha256       text PRIMARY KEY,
        bytes        bigint NOT NULL,
        chunks       integer NOT NULL,
        stored_bytes bigint NOT NULL
      );
      CREATE TABLE file_chunks (
        sha256 text NOT NULL REFERENCES files (sha256),
        chunk  integer NOT NULL,
        data   bytea NOT NULL,
        PRIMARY KEY (sha256, chunk)
      );
    `,
  },
  {
    version: 2,
    name: "webhook deliveries and change evaluations shared by the app's instances",
    sql: `
      -- Each webhook delivery (GitHub's X-GitHub-Delivery, GitLab's X-Gitlab-Event-UUID) claimed by
      -- the instance that handles it, so a redelivery or a replay is not handled again. A claim whose
      -- instance stopped before finishing (lease over) can be taken again; a failed one is deleted.
      CREATE TABLE deliveries (
        host        text NOT NULL,
        delivery_id text NOT NULL,
        state       text NOT NULL CHECK (state IN ('claimed', 'done')),
        received_at timestamptz NOT NULL,
        lease_until timestamptz NOT NULL,
        PRIMARY KEY (host, delivery_id)
      );
      CREATE INDEX deliveries_received_at ON deliveries (received_at);
      -- Per change request: how many evaluations started and the newest one whose verdict was
      -- published, so an evaluation that read the change earlier never overwrites a later one's check.
      CREATE TABLE change_evaluations (
        change     text PRIMARY KEY,
        started    integer NOT NULL,
        published  integer NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL
      );
    `,
  },
];

/** A 64-bit advisory lock key per schema, so ledgers in two schemas of one database do not wait on each other. */
function lockKey(schema: string): string {
  return createHash("sha256").update(`soc2-bot-ledger:${schema}`).digest().readBigInt64BE(0).toString();
}

/** Applies the migrations the database lacks; returns the versions applied now. */
export async function migrate(db: Database, schema: string): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock($1::bigint)`, [lockKey(schema)]);
    // Created only when missing: once the ledger exists, its database user needs no CREATE right
    // (PostgreSQL checks that right even for CREATE SCHEMA IF NOT EXISTS on an existing schema).
    const [existing] = await tx.query<{ schema: boolean; table: string | null }>(
      `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS schema, to_regclass($2)::text AS table`,
      [schema, `${schema}.migrations`],
    );
    if (!existing?.schema) await tx.query(`CREATE SCHEMA ${schema}`);
    await tx.query(`SET LOCAL search_path TO ${schema}`);
    if (!existing?.table) {
      await tx.query(
        `CREATE TABLE migrations (
           version    integer PRIMARY KEY,
           name       text NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
    }
    const rows = await tx.query<{ version: number }>(`SELECT version FROM migrations ORDER BY version`);
    const applied = new Set(rows.map((row) => row.version));
    const newest = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
    const unknown = [...applied].filter((version) => version > newest);
    if (unknown.length > 0) {
      throw new LedgerUnavailableError(
        `the ledger was written by a newer soc2-bot (migration ${Math.max(...unknown)}; this one knows up to ${newest}): upgrade soc2-bot`,
      );
    }
    const done: number[] = [];
    for (const migration of MIGRATIONS) {
      if (applied.has(migration.version)) continue;
      await tx.exec(migration.sql);
      await tx.query(`INSERT INTO migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      done.push(migration.version);
    }
    return done;
  });
}
