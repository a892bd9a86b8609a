/**
 * The ledger's connection: PostgreSQL through `pg` when a database URL is given, otherwise PGlite
 * (PostgreSQL compiled to WASM, no server) in a local folder. Both speak the same SQL; this file is
 * the only place that knows which one it is talking to, and it irons out how each returns values
 * (bigint as string or number, bytea as Buffer or Uint8Array) so the rest reads typed rows alike.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";

export type Backend = "pglite" | "postgres";

/** A parameter as both drivers take it. */
export type SqlValue = string | number | boolean | null | Date | Uint8Array;

export interface Queryable {
  /** Plain SQL with $1, $2 ... placeholders; the rows as the caller's row type. */
  query<Row>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  /** Several statements without parameters (a migration). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly backend: Backend;
  /** Where the data lives, with no password: "PGlite at /path" or "PostgreSQL at postgres://user@host/db". */
  readonly location: string;
  /** Runs `work` in one transaction (READ COMMITTED); rolled back when it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class LedgerUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LedgerUnavailableError";
  }
}

/** The schema every table lives in (the same on both backends), so a shared PostgreSQL stays tidy. */
export const DEFAULT_SCHEMA = "soc2_ledger";

export function assertSchemaName(schema: string): void {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new LedgerUnavailableError(`ledger schema "${schema}" must be a lower-case SQL identifier`);
  }
}

/** A database URL without its password, for messages and logs. */
export function describeDatabaseUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "(an unparsable DATABASE_URL)";
  }
}

export async function openPostgres(url: string, schema: string): Promise<Database> {
  // (whether the schema holds a ledger yet is for the caller to ask: see openLedger's create option)
  assertSchemaName(schema);
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({
    connectionString: url,
    // An unreachable server must fail the write in seconds, never hang a webhook's handling.
    connectionTimeoutMillis: 5_000,
    // a server that stops answering mid-query fails that query instead of holding the caller forever
    query_timeout: 120_000,
    idleTimeoutMillis: 30_000,
    max: 4,
    options: `-c search_path=${schema}`,
  });
  // An idle connection the server drops emits 'error' on the pool; unhandled, it would end the process.
  pool.on("error", () => {});
  const location = `PostgreSQL at ${describeDatabaseUrl(url)}`;
  const query = async <Row>(
    runner: { query: (sql: string, params?: unknown[]) => Promise<{ rows: unknown[] }> },
    sql: string,
    params: readonly SqlValue[] = [],
  ): Promise<Row[]> => (await runner.query(sql, [...params])).rows.map((row) => normalise(row) as Row);
  return {
    backend: "postgres",
    location,
    query: (sql, params) => query(pool, sql, params),
    exec: async (sql) => void (await pool.query(sql)),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await work({
          query: (sql, params) => query(client, sql, params),
          exec: async (sql) => void (await client.query(sql)),
        });
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * PGlite serves one process: two processes writing the same folder would corrupt it. A lock file
 * (with the holder's pid) makes a second opener fail with a reason instead; a lock left by a process
 * that is gone is taken over.
 */
export async function openPglite(dir: string | null, schema: string, create = true): Promise<Database> {
  assertSchemaName(schema);
  const folder = dir === null ? null : resolve(dir);
  if (folder !== null && !create && !existsSync(join(folder, "PG_VERSION"))) {
    throw new LedgerUnavailableError(`there is no ledger at ${folder}`);
  }
  let release = () => {};
  if (folder !== null) {
    mkdirSync(folder, { recursive: true });
    release = takeLock(join(folder, LOCK_FILE));
  }
  try {
    const { PGlite } = await import("@electric-sql/pglite");
    // PostgreSQL's default 128 MB of shared buffers is most of an embedded ledger's memory (a CLI
    // reading it peaked at 300 MB before its first own byte); the ledger's writes are single records
    // and its reads stream through the operating system's file cache, which 16 MB in front of it serve.
    const settings = {
      startParams: [...PGlite.defaultStartParams, "-c", `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
    };
    const db = folder === null ? new PGlite(settings) : new PGlite(folder, settings);
    await db.waitReady;
    await db.exec(`SET search_path TO ${schema}`);
    const query = async <Row>(
      runner: { query: (sql: string, params?: unknown[]) => Promise<{ rows: unknown[] }> },
      sql: string,
      params: readonly SqlValue[] = [],
    ): Promise<Row[]> => (await runner.query(sql, [...params])).rows.map((row) => normalise(row) as Row);
    return {
      backend: "pglite",
      location: folder === null ? "PGlite in memory" : `PGlite at ${folder}`,
      query: (sql, params) => query(db, sql, params),
      exec: async (sql) => void (await db.exec(sql)),
      // PGlite runs one transaction at a time: another caller's queries wait for it to end.
      transaction: (work) =>
        db.transaction((tx) =>
          work({
            query: (sql, params) => query(tx, sql, params),
            exec: async (sql) => void (await tx.exec(sql)),
          }),
        ),
      async close() {
        try {
          await db.close();
        } finally {
          release();
        }
      },
    };
  } catch (error) {
    release();
    throw error;
  }
}

export const LOCK_FILE = "soc2-bot-ledger.lock";

/** PGlite's shared buffers (see openPglite). */
export const PGLITE_SHARED_BUFFERS = "16MB";

function takeLock(path: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname() }));
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = readHolder(path);
      if (holder && holder.host === hostname() && !alive(holder.pid)) {
        rmSync(path, { force: true });
        continue;
      }
      throw new LedgerUnavailableError(
        `the ledger at ${path.slice(0, -LOCK_FILE.length - 1)} is in use by process ${holder?.pid ?? "?"}` +
          `${holder && holder.host !== hostname() ? ` on ${holder.host}` : ""}: the embedded ledger serves one ` +
          `process at a time (stop the other, or point every process at one PostgreSQL with DATABASE_URL)`,
      );
    }
  }
  throw new LedgerUnavailableError(`could not lock the ledger: ${path}`);
}

function readHolder(path: string): { pid: number; host: string } | null {
  try {
    if (!existsSync(path)) return null;
    const parsed = JSON.parse(readFileSync(path, "utf8")) as { pid?: unknown; host?: unknown };
    return typeof parsed.pid === "number" && typeof parsed.host === "string"
      ? { pid: parsed.pid, host: parsed.host }
      : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Both drivers' values as one: int8 as a number (sequences stay far below 2^53), bytea as a Buffer. */
function normalise(row: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row as Record<string, unknown>)) {
    if (typeof value === "bigint") out[key] = Number(value);
    else if (value instanceof Uint8Array && !Buffer.isBuffer(value))
      out[key] = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    else out[key] = value;
  }
  return out;
}
