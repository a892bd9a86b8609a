/**
 * The push record: each `push` webhook to a branch is recorded in the ledger as it arrives (ref,
 * before, after, forced, created, deleted, who pushed, when, and the pushed commits), so an audit
 * can find direct pushes without reading GitHub's repository activity. A delivery the app did not
 * receive leaves a gap the audit sees (the pushes no longer chain) and reads the activity record for
 * instead: a missed webhook costs requests, never evidence. Without a ledger nothing is recorded.
 */
import type { Probot } from "probot";
import {
  pushRecordOf,
  recordPush,
  type Ledger,
  type PushContent,
  type RecordedEntry,
} from "../ledger/index.js";
import type { PushRecordSource } from "../providers/github/index.js";
import { parsePayload, PushEvent } from "./payloads.js";

/** GitHub's documented cap on the commits of a push webhook delivery. */
export const WEBHOOK_COMMITS_CAP = 2048;
/** A delivery later than this after GitHub's own push time is a redelivery: that push time stands. */
const REDELIVERY_MS = 60_000;

/** The record of a push to a branch (null for a tag: tags are not production branches). */
export function pushContentOf(
  payload: PushEvent,
  delivery: { id: string | null; receivedAt: Date },
): PushContent | null {
  if (!payload.ref.startsWith("refs/heads/")) return null;
  const stated = payload.repository.pushed_at;
  const payloadPushedAt =
    stated === null || stated === undefined
      ? null
      : new Date(typeof stated === "number" ? stated * 1000 : stated).toISOString();
  const received = delivery.receivedAt.getTime();
  const redelivered = payloadPushedAt !== null && received - Date.parse(payloadPushedAt) > REDELIVERY_MS;
  return {
    host: "github",
    repository: payload.repository.full_name,
    ref: payload.ref,
    before: payload.before,
    after: payload.after,
    forced: payload.forced,
    created: payload.created,
    deleted: payload.deleted,
    pusher: payload.pusher.name,
    sender: payload.sender?.login ?? null,
    pushedAt: redelivered && payloadPushedAt ? payloadPushedAt : delivery.receivedAt.toISOString(),
    receivedAt: delivery.receivedAt.toISOString(),
    payloadPushedAt,
    deliveryId: delivery.id,
    commits: payload.commits.map((commit) => ({
      sha: commit.id,
      message: commit.message,
      authorLogin: commit.author.username ?? null,
      committerLogin: commit.committer.username ?? null,
      timestamp: commit.timestamp,
      url: commit.url,
      distinct: commit.distinct,
    })),
    commitsComplete: payload.commits.length < WEBHOOK_COMMITS_CAP,
  };
}

/** Records one push webhook (validated here, at the edge); null for a tag or a payload not GitHub's shape. */
export async function recordPushEvent(
  ledger: Ledger,
  payload: unknown,
  delivery: { id: string | null; receivedAt: Date },
  log: { warn(object: object, message: string): void },
): Promise<RecordedEntry | null> {
  const parsed = parsePayload(PushEvent, payload, log, "push");
  const content = parsed && pushContentOf(parsed, delivery);
  return content ? recordPush(ledger, content) : null;
}

export function recordPushes(app: Probot, options: { ledger: Ledger | undefined; now: () => Date }): void {
  const { ledger } = options;
  app.on("push", async (context) => {
    const payload = parsePayload(PushEvent, context.payload, context.log, context.name);
    // Without a ledger nothing remembers pushes: audits read GitHub's activity record.
    if (!payload || !ledger) return;
    try {
      const content = pushContentOf(payload, { id: context.id, receivedAt: options.now() });
      if (content) await recordPush(ledger, content);
    } catch (error) {
      // The record has a gap now: audits read GitHub's activity for this branch, nothing is lost.
      context.log.warn(
        {
          delivery: context.id,
          ledger: ledger.location,
          error: error instanceof Error ? error.message : String(error),
        },
        "push not recorded in the ledger: audits read GitHub's activity record for this branch instead",
      );
    }
  });
}

/** createGitHubHost's push record from the app's ledger, when it has one. */
export function pushRecordOption(ledger: Ledger | undefined): { pushRecord?: PushRecordSource } {
  return ledger ? { pushRecord: pushRecordOf(ledger) } : {};
}
