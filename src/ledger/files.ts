/**
 * The evidence files of audit runs, kept so any past package can be produced again byte for byte.
 * Content-addressed by SHA-256; each file is cut into pieces of CHUNK bytes, each gzip-compressed
 * on its own, so a file of hundreds of megabytes goes in and comes out without being held whole.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { promisify } from "node:util";
import { gunzip as gunzipCallback, gzip as gzipCallback } from "node:zlib";
import type { Database, Queryable } from "./database.js";

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

/** Bytes of a file per stored piece, before compression. */
export const CHUNK = 1024 * 1024;

export interface StoredFile {
  sha256: string;
  bytes: number;
}

async function hashFile(path: string): Promise<StoredFile> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

/** Stores a file unless the same bytes are stored already; returns its SHA-256 and size. */
export async function storeFile(db: Database, path: string): Promise<StoredFile> {
  const file = await hashFile(path);
  const [known] = await db.query<{ sha256: string }>(`SELECT sha256 FROM files WHERE sha256 = $1`, [
    file.sha256,
  ]);
  if (known) return file;
  await db.transaction(async (tx) => {
    // Another writer storing the same bytes at once: its row holds this insert until it commits,
    // then this one finds the row and stores nothing.
    const inserted = await tx.query<{ sha256: string }>(
      `INSERT INTO files (sha256, bytes, chunks, stored_bytes) VALUES ($1, $2, 0, 0)
       ON CONFLICT (sha256) DO NOTHING RETURNING sha256`,
      [file.sha256, file.bytes],
    );
    if (inserted.length === 0) return;
    const hash = createHash("sha256");
    let index = 0;
    let stored = 0;
    for await (const piece of createReadStream(path, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
      hash.update(piece);
      const data = await gzip(piece);
      stored += data.length;
      await tx.query(`INSERT INTO file_chunks (sha256, chunk, data) VALUES ($1, $2, $3)`, [
        file.sha256,
        index,
        data,
      ]);
      index += 1;
    }
    if (hash.digest("hex") !== file.sha256) {
      throw new Error(`${path} changed while it was being stored in the ledger`);
    }
    await tx.query(`UPDATE files SET chunks = $2, stored_bytes = $3 WHERE sha256 = $1`, [
      file.sha256,
      index,
      stored,
    ]);
  });
  return file;
}

/** A stored file's bytes, a piece at a time; null when the ledger does not hold it. */
export async function fileExists(
  db: Queryable,
  sha256: string,
): Promise<{ bytes: number; chunks: number } | null> {
  const [row] = await db.query<{ bytes: number; chunks: number }>(
    `SELECT bytes::float8 AS bytes, chunks FROM files WHERE sha256 = $1`,
    [sha256],
  );
  return row ?? null;
}

export async function* readStoredFile(db: Queryable, sha256: string): AsyncGenerator<Buffer> {
  const info = await fileExists(db, sha256);
  if (!info) throw new Error(`the ledger holds no file with SHA-256 ${sha256}`);
  for (let index = 0; index < info.chunks; index++) {
    const [row] = await db.query<{ data: Buffer }>(
      `SELECT data FROM file_chunks WHERE sha256 = $1 AND chunk = $2`,
      [sha256, index],
    );
    if (!row) throw new Error(`piece ${index} of the file ${sha256} is missing from the ledger`);
    yield await gunzip(row.data);
  }
}

/** The SHA-256 and size of a stored file as its pieces decompress now: what verification compares. */
export async function hashStoredFile(db: Queryable, sha256: string): Promise<StoredFile | null> {
  if (!(await fileExists(db, sha256))) return null;
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    for await (const piece of readStoredFile(db, sha256)) {
      hash.update(piece);
      bytes += piece.length;
    }
  } catch (error) {
    return { sha256: `(unreadable: ${(error as Error).message})`, bytes };
  }
  return { sha256: hash.digest("hex"), bytes };
}
