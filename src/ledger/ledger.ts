/**
 * The ledger as the rest of soc2-bot uses it: opened lazily (the first write connects and applies
 * the migrations; a failure is thrown to that caller and the next call tries again, so a database
 * that comes back is used again without a restart), recording audit runs and judgements, and
 * verifying its chains.
 */
import type { ChangeCheckOutcome, MergeCommitWait } from "../pipeline/change-check.js";
import type { Result } from "../controls/types.js";
import { TOOL_VERSION } from "../version.js";
import {
  appendRecord,
  listStreams,
  readHead,
  readStream,
  recordAt,
  verifyStream,
  type ChainBreak,
  type ChainedRecord,
  type StreamVerification,
} from "./chain.js";
import {
  DEFAULT_SCHEMA,
  LedgerUnavailableError,
  describeDatabaseUrl,
  openPglite,
  openPostgres,
  type Backend,
  type Database,
} from "./database.js";
import { coverageFromLedger, DEFAULT_JUDGED_WITHIN_MINUTES } from "./coverage.js";
import { hashStoredFile, storeFile } from "./files.js";
import { migrate } from "./migrations.js";
import {
  AUDIT_RUN,
  JUDGEMENT,
  auditRunContent,
  auditStream,
  judgementStream,
  packageFilesOf,
  withPackage,
  type AuditRunContent,
  type AuditRunInput,
  type JudgementContent,
  type JudgementTrigger,
  type PackageFile,
} from "./records.js";

export interface LedgerOptions {
  /** PostgreSQL (postgres://...). When absent, the embedded PGlite in `dir`. */
  databaseUrl?: string;
  /** PGlite's folder; null keeps it in memory (tests). */
  dir?: string | null;
  /** The SQL schema of the ledger's tables (soc2_ledger by default). */
  schema?: string;
  /** The clock stamping records; tests pass a fixed one. */
  now?: () => Date;
  /** false: only open a ledger that exists (verify and export read one; they never start an empty one). */
  create?: boolean;
}

export const DEFAULT_LEDGER_DIR = ".soc2-bot/ledger";

type Env = Record<string, string | undefined>;

/**
 * Where the ledger is: an explicit folder wins; then DATABASE_URL (PostgreSQL); then SOC2_LEDGER_DIR;
 * then .soc2-bot/ledger under the working directory. SOC2_LEDGER_SCHEMA names another schema.
 */
export function ledgerOptionsFromEnvironment(env: Env, explicit: { dir?: string } = {}): LedgerOptions {
  const schema = env.SOC2_LEDGER_SCHEMA ? { schema: env.SOC2_LEDGER_SCHEMA } : {};
  if (explicit.dir !== undefined) return { dir: explicit.dir, ...schema };
  if (env.DATABASE_URL) return { databaseUrl: env.DATABASE_URL, ...schema };
  return { dir: env.SOC2_LEDGER_DIR || DEFAULT_LEDGER_DIR, ...schema };
}

export interface RecordedEntry {
  stream: string;
  sequence: number;
  hash: string;
}

export interface AuditRunRecord {
  record: ChainedRecord;
  content: AuditRunContent;
}

export interface VerificationReport {
  location: string;
  streams: StreamVerification[];
  breaks: ChainBreak[];
  records: number;
  /** Package files whose bytes were decompressed and hashed against their record. */
  filesChecked: number;
}

export interface JudgementInput {
  trigger: JudgementTrigger;
  host: "github" | "gitlab";
  outcome: Pick<ChangeCheckOutcome, "changeRequest" | "policy" | "results"> & {
    check?: { conclusion: string };
  };
  /** The results as judged (a merge's may differ from the outcome's: held for the merge commit's checks). */
  results?: Result[];
  waiting?: MergeCommitWait | null;
  judgedAt: Date;
}

export interface Ledger {
  /** Where it is, with no password. */
  readonly location: string;
  readonly backend: Backend;
  /** Connects and migrates now (the CLI does, to fail before a long collection). */
  open(): Promise<void>;
  /** Appends a record to a stream: the foundation later kinds of record (observations) build on. */
  append(stream: string, kind: string, content: unknown): Promise<RecordedEntry>;
  /** The stream's last record (its head), null when the stream has none: one indexed read. */
  streamHead(stream: string): Promise<RecordedEntry | null>;
  recordAuditRun(input: AuditRunInput): Promise<RecordedEntry>;
  recordJudgement(input: JudgementInput): Promise<RecordedEntry>;
  /** Audit runs whose period overlaps [since, until), oldest period first. */
  auditRuns(period: { since: Date; until: Date }): Promise<AuditRunRecord[]>;
  /** The same runs one at a time, so a year of them is never held at once. */
  auditRunsIn(period: { since: Date; until: Date }): AsyncGenerator<AuditRunRecord>;
  records(stream: string): AsyncGenerator<ChainedRecord>;
  verify(options?: { files?: boolean; streams?: (stream: string) => boolean }): Promise<VerificationReport>;
  /** The open connection (export and tests read through it). */
  database(): Promise<Database>;
  close(): Promise<void>;
}

export function openLedger(options: LedgerOptions): Ledger {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const now = options.now ?? (() => new Date());
  const backend: Backend = options.databaseUrl ? "postgres" : "pglite";
  const location = options.databaseUrl
    ? `PostgreSQL at ${describeDatabaseUrl(options.databaseUrl)}`
    : options.dir === null || options.dir === undefined
      ? "PGlite in memory"
      : `PGlite at ${options.dir}`;
  let opening: Promise<Database> | null = null;
  let closed = false;

  async function connect(): Promise<Database> {
    let db: Database;
    try {
      db = options.databaseUrl
        ? await openPostgres(options.databaseUrl, schema)
        : await openPglite(options.dir ?? null, schema, options.create ?? true);
    } catch (error) {
      if (error instanceof LedgerUnavailableError) throw error;
      throw new LedgerUnavailableError(`the ledger (${location}) cannot be opened: ${message(error)}`, {
        cause: error,
      });
    }
    try {
      if (options.create === false) {
        const [found] = await db.query<{ table: string | null }>(`SELECT to_regclass($1)::text AS table`, [
          `${schema}.migrations`,
        ]);
        if (!found?.table)
          throw new LedgerUnavailableError(`there is no ledger in ${location} (schema ${schema})`);
      }
      await migrate(db, schema);
    } catch (error) {
      await db.close().catch(() => {});
      if (error instanceof LedgerUnavailableError) throw error;
      throw new LedgerUnavailableError(`the ledger (${location}) cannot be used: ${message(error)}`, {
        cause: error,
      });
    }
    return db;
  }

  function database(): Promise<Database> {
    if (closed) return Promise.reject(new LedgerUnavailableError(`the ledger (${location}) is closed`));
    if (!opening) {
      const attempt = connect();
      opening = attempt;
      // A failed open is not kept: the next write tries again (the database may be back by then).
      attempt.catch(() => {
        if (opening === attempt) opening = null;
      });
    }
    return opening;
  }

  async function append(stream: string, kind: string, content: unknown): Promise<RecordedEntry> {
    const db = await database();
    const record = await db.transaction((tx) =>
      appendRecord(tx, { stream, kind, content, recordedAt: now() }),
    );
    return { stream: record.stream, sequence: record.sequence, hash: record.hash };
  }

  async function checkAuditFiles(db: Database, record: ChainedRecord) {
    if (record.kind !== AUDIT_RUN) return null;
    const content = JSON.parse(record.content) as AuditRunContent;
    for (const file of content.package.files) {
      const found = await hashStoredFile(db, file.sha256);
      if (!found) {
        return {
          problem: `the file ${file.name} of record ${record.sequence} is missing from the file store`,
          expected: `${file.sha256} (${file.bytes} bytes)`,
          found: "nothing",
        };
      }
      if (found.sha256 !== file.sha256 || found.bytes !== file.bytes) {
        return {
          problem: `the file ${file.name} of record ${record.sequence} was changed in the file store`,
          expected: `${file.sha256} (${file.bytes} bytes)`,
          found: `${found.sha256} (${found.bytes} bytes)`,
        };
      }
    }
    return null;
  }

  const ledger: Ledger = {
    location,
    backend,
    async open() {
      await database();
    },
    append,
    database,

    async streamHead(stream) {
      const head = await readHead(await database(), stream);
      return head && { stream, sequence: head.sequence, hash: head.hash };
    },

    async recordAuditRun(given) {
      const db = await database();
      // a run recorded from the package it wrote (an audit streamed to disk) has its coverage in it
      const period = "snapshot" in given ? given.snapshot.period : null;
      // a package written here (the app's scheduled audit) carries this ledger's coverage of its period
      const input =
        "snapshot" in given && given.packageDir === undefined && given.coverage === undefined && period
          ? {
              ...given,
              coverage: await coverageFromLedger(ledger, {
                since: new Date(period.since),
                until: new Date(period.until),
                judgedWithinMinutes: given.judgedWithinMinutes ?? DEFAULT_JUDGED_WITHIN_MINUTES,
                pending: [{ label: "this audit", snapshot: given.snapshot }],
              }),
            }
          : given;
      const files = await withPackage(input, async (dir) => {
        const stored: PackageFile[] = [];
        for (const file of await packageFilesOf(dir)) {
          const { sha256, bytes } = await storeFile(db, file.path);
          if (file.sha256 !== undefined && file.sha256 !== sha256) {
            throw new Error(
              `${file.path} is not the file its manifest lists (SHA-256 ${sha256}, listed ${file.sha256})`,
            );
          }
          stored.push({ name: file.name, sha256, bytes });
        }
        return stored;
      });
      const content = auditRunContent(input, files);
      return append(auditStream(content.host, content.organization), AUDIT_RUN, content);
    },

    async recordJudgement(input) {
      const { changeRequest, policy } = input.outcome;
      const waiting = input.waiting ?? null;
      const content: JudgementContent = {
        trigger: input.trigger,
        host: input.host,
        repository: changeRequest.repository,
        number: changeRequest.number,
        change: `${changeRequest.repository}#${changeRequest.number}`,
        state: changeRequest.state,
        baseBranch: changeRequest.baseBranch,
        headSha: changeRequest.headSha,
        mergeCommitSha: changeRequest.mergeCommitSha,
        mergedAt: changeRequest.mergedAt,
        judgedAt: input.judgedAt.toISOString(),
        policy: policy ? { sources: policy.sources, hash: policy.hash } : null,
        toolVersion: TOOL_VERSION,
        conclusion: input.outcome.check?.conclusion ?? null,
        waiting: waiting && {
          mergeCommitSha: waiting.mergeCommitSha,
          checks: waiting.checks.map((c) => ({ name: c.name, state: c.state })),
          until: waiting.until.toISOString(),
        },
        results: input.results ?? input.outcome.results,
      };
      return append(judgementStream(input.host, changeRequest.repository), JUDGEMENT, content);
    },

    async auditRuns(period) {
      const runs: AuditRunRecord[] = [];
      for await (const run of ledger.auditRunsIn(period)) runs.push(run);
      return runs;
    },

    async *auditRunsIn(period) {
      const db = await database();
      const since = period.since.getTime();
      const until = period.until.getTime();
      // Which runs, in which order, from their periods alone; each run's content (a year of daily
      // runs of 1,000 repositories carries tens of MB of summaries) is then read one at a time.
      const keys = (
        await db.query<{ stream: string; sequence: number; since: string | null; until: string | null }>(
          `SELECT stream, sequence,
                  content::jsonb->'period'->>'since' AS since,
                  content::jsonb->'period'->>'until' AS until
             FROM records WHERE kind = $1`,
          [AUDIT_RUN],
        )
      )
        .filter((row) => row.since !== null && row.until !== null)
        .map((row) => ({ ...row, from: Date.parse(row.since!), to: Date.parse(row.until!) }))
        .filter((row) => row.from < until && row.to > since)
        .sort(
          (a, b) =>
            a.from - b.from ||
            (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : 0) ||
            a.sequence - b.sequence,
        );
      for (const key of keys) {
        const record = await recordAt(db, key.stream, key.sequence);
        if (record) yield { record, content: JSON.parse(record.content) as AuditRunContent };
      }
    },

    async *records(stream) {
      yield* readStream(await database(), stream);
    },

    async verify(verifyOptions = {}) {
      const db = await database();
      const files = verifyOptions.files ?? true;
      const streams: StreamVerification[] = [];
      let filesChecked = 0;
      for (const head of await listStreams(db)) {
        if (verifyOptions.streams && !verifyOptions.streams(head.stream)) continue;
        streams.push(
          await verifyStream(
            db,
            head,
            files
              ? async (record) => {
                  const problem = await checkAuditFiles(db, record);
                  if (!problem && record.kind === AUDIT_RUN) {
                    filesChecked += (JSON.parse(record.content) as AuditRunContent).package.files.length;
                  }
                  return problem;
                }
              : undefined,
          ),
        );
      }
      return {
        location,
        streams,
        breaks: streams.flatMap((s) => (s.break ? [s.break] : [])),
        records: streams.reduce((sum, s) => sum + s.records, 0),
        filesChecked,
      };
    },

    async close() {
      closed = true;
      const pending = opening;
      opening = null;
      if (pending) await (await pending.catch(() => null))?.close();
    },
  };
  return ledger;
}

function message(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return message(error.errors[0]);
  return error instanceof Error ? error.message || error.name : String(error);
}
