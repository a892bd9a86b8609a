/**
 * The app's schedule, kept in the ledger: one stream per installation ("schedule:github/acme") holding
 * each scheduled audit's claim, its success with the window it covered, or its failure with the error
 * and when it is tried again. The scheduler reads its state back from here after a restart, so
 * consecutive windows stay contiguous and a slot missed while the app was down is caught up; and it
 * claims a slot under the stream's head row lock, so two instances never run the same slot.
 */
import { appendRecord, readStream, type ChainedRecord } from "./chain.js";
import type { Ledger, RecordedEntry } from "./ledger.js";

export const SCHEDULE_CLAIM = "schedule-claim";
export const SCHEDULE_DONE = "schedule-done";
export const SCHEDULE_FAILURE = "schedule-failure";

export function scheduleStream(host: string, account: string): string {
  return `schedule:${host}/${account}`;
}

export interface ScheduleWindow {
  since: string;
  until: string;
}

export interface ScheduleClaimContent {
  installation: number;
  account: string;
  cadence: string;
  window: ScheduleWindow;
  /** 1 for the slot's first try, then one more for each retry. */
  attempt: number;
  claimedAt: string;
  /** After this the claim is taken as abandoned (its instance stopped mid-audit) and tried again. */
  leaseUntil: string;
  /** Which process claimed it (host name and process id), for the operator. */
  instance: string;
}

export interface ScheduleDoneContent {
  installation: number;
  account: string;
  cadence: string;
  window: ScheduleWindow;
  attempt: number;
  finishedAt: string;
}

export interface ScheduleFailureContent {
  installation: number;
  account: string;
  cadence: string;
  window: ScheduleWindow;
  attempt: number;
  failedAt: string;
  /** The error as logged (redacted by the caller: never a token). */
  error: string;
  /** When it is tried again; null once the retries are spent (the next slot tries again). */
  retryAt: string | null;
}

export interface ScheduleState {
  /** The window of the last successful audit (the next one starts at its `until`). */
  lastDone: ScheduleDoneContent | null;
  /** A claim with no success or failure after it: an audit running now, or one whose process stopped. */
  openClaim: ScheduleClaimContent | null;
  /** The last failure after the last success. */
  lastFailure: ScheduleFailureContent | null;
  records: number;
}

/** Folds a schedule stream's records into the scheduler's state. */
export function scheduleStateOf(records: Iterable<ChainedRecord>): ScheduleState {
  const state: ScheduleState = { lastDone: null, openClaim: null, lastFailure: null, records: 0 };
  for (const record of records) {
    state.records += 1;
    if (record.kind === SCHEDULE_CLAIM) {
      state.openClaim = JSON.parse(record.content) as ScheduleClaimContent;
    } else if (record.kind === SCHEDULE_DONE) {
      state.lastDone = JSON.parse(record.content) as ScheduleDoneContent;
      state.openClaim = null;
      state.lastFailure = null;
    } else if (record.kind === SCHEDULE_FAILURE) {
      state.lastFailure = JSON.parse(record.content) as ScheduleFailureContent;
      state.openClaim = null;
    }
  }
  return state;
}

export async function readScheduleState(ledger: Ledger, stream: string): Promise<ScheduleState> {
  const records: ChainedRecord[] = [];
  for await (const record of ledger.records(stream)) records.push(record);
  return scheduleStateOf(records);
}

/**
 * Claims the stream's next audit in one transaction: the stream's head row is locked first, so a
 * second instance deciding at the same moment waits, then reads this claim and decides not to run.
 * `decide` sees the state as of the lock and returns the claim to record, or null for "not due".
 */
export async function claimScheduledAudit(
  ledger: Ledger,
  stream: string,
  at: Date,
  decide: (state: ScheduleState) => ScheduleClaimContent | null,
): Promise<{ claim: ScheduleClaimContent; entry: RecordedEntry; state: ScheduleState } | null> {
  const db = await ledger.database();
  return db.transaction(async (tx) => {
    // The same two statements appendRecord starts with: the head row exists, and this transaction holds it.
    await tx.query(
      `INSERT INTO streams (stream, head_sequence, head_hash) VALUES ($1, 0, $2) ON CONFLICT (stream) DO NOTHING`,
      [stream, "0".repeat(64)],
    );
    await tx.query(`SELECT head_sequence FROM streams WHERE stream = $1 FOR UPDATE`, [stream]);
    const records: ChainedRecord[] = [];
    for await (const record of readStream(tx, stream)) records.push(record);
    const state = scheduleStateOf(records);
    const claim = decide(state);
    if (!claim) return null;
    const record = await appendRecord(tx, { stream, kind: SCHEDULE_CLAIM, content: claim, recordedAt: at });
    return { claim, state, entry: { stream, sequence: record.sequence, hash: record.hash } };
  });
}

export function recordScheduledDone(
  ledger: Ledger,
  stream: string,
  content: ScheduleDoneContent,
): Promise<RecordedEntry> {
  return ledger.append(stream, SCHEDULE_DONE, content);
}

export function recordScheduledFailure(
  ledger: Ledger,
  stream: string,
  content: ScheduleFailureContent,
): Promise<RecordedEntry> {
  return ledger.append(stream, SCHEDULE_FAILURE, content);
}
