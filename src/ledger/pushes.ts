/**
 * The push record: every push to a branch as the app received its `push` webhook, one hash-chained
 * stream per repository ("push:github/acme/api"). GitHub's repository activity answers the same
 * questions (who pushed what, when, force or not) but costs an audit a request per 100 pushes and
 * merges of every production branch, and keeps about 90 days; the record costs none and keeps as long
 * as the ledger. It is only as complete as the deliveries the app received: the audit uses it for a
 * branch only where the recorded pushes chain without a gap (src/providers/github/direct-pushes.ts).
 */
import { z } from "zod";
import type { PushCheckpoint, PushRecordSource, RecordedPush } from "../providers/github/index.js";
import type { Ledger, RecordedEntry } from "./ledger.js";

export const PUSH = "push";

export function pushStream(host: string, repository: string): string {
  return `push:${host}/${repository.toLowerCase()}`;
}

/** One pushed commit, as the webhook listed it (what a direct push's evidence shows). */
const PushCommitContent = z.object({
  sha: z.string(),
  message: z.string(),
  authorLogin: z.string().nullable(),
  committerLogin: z.string().nullable(),
  timestamp: z.string(),
  url: z.string(),
  /** GitHub's `distinct`: not pushed to this repository before. */
  distinct: z.boolean(),
});

export const PushContent = z.object({
  host: z.literal("github"),
  repository: z.string(),
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  forced: z.boolean(),
  created: z.boolean(),
  deleted: z.boolean(),
  /** The pusher's name as the webhook gave it, and the account that sent it (a login). */
  pusher: z.string().nullable(),
  sender: z.string().nullable(),
  /**
   * When the push happened: when its delivery arrived, or, for a delivery that arrived more than a
   * minute after GitHub's own push time (a redelivery), that push time.
   */
  pushedAt: z.string(),
  receivedAt: z.string(),
  /** repository.pushed_at of the payload (seconds), when it had one. */
  payloadPushedAt: z.string().nullable(),
  deliveryId: z.string().nullable(),
  commits: z.array(PushCommitContent),
  /**
   * The webhook lists at most 2,048 commits (GitHub's documented cap for webhook deliveries; the
   * 20-commit cap applies to the events API): a list that long may be cut short.
   */
  commitsComplete: z.boolean(),
});
export type PushContent = z.infer<typeof PushContent>;

export async function recordPush(ledger: Ledger, content: PushContent): Promise<RecordedEntry> {
  return ledger.append(pushStream(content.host, content.repository), PUSH, content);
}

/** The pushes of one branch of a repository as recorded, in the provider's terms. */
export async function recordedPushes(
  ledger: Ledger,
  host: "github",
  repository: string,
  branch: string,
): Promise<RecordedPush[]> {
  const db = await ledger.database();
  const rows = await db.query<{ content: string }>(
    `SELECT content FROM records
      WHERE stream = $1 AND kind = $2 AND content::jsonb->>'ref' = $3
      ORDER BY sequence`,
    [pushStream(host, repository), PUSH, `refs/heads/${branch}`],
  );
  return rows.map((row) => {
    const push = PushContent.parse(JSON.parse(row.content));
    return {
      ref: push.ref,
      before: push.before,
      after: push.after,
      forced: push.forced,
      created: push.created,
      deleted: push.deleted,
      pusher: push.sender ?? push.pusher,
      pushedAt: push.pushedAt,
      commits: push.commits.map(({ distinct: _distinct, ...commit }) => commit),
      commitsComplete: push.commitsComplete,
    };
  });
}

// ---- reconciliation checkpoints ----

/**
 * The app's reconciliations of its webhook deliveries (src/app/deliveries-reconcile.ts), one stream
 * per host: each checkpoint says every push delivery GitHub lists as delivered (or attempted) from
 * `from` to `to` is in the push record. A lost delivery is otherwise invisible when the pushes around
 * it still chain (a push and the force push that undid it, both lost): the audit trusts the record
 * only over spans these checkpoints cover.
 */
export const DELIVERIES_CHECKPOINT = "deliveries-checkpoint";

export function deliveriesStream(host: string): string {
  return `deliveries:${host}`;
}

export const DeliveriesCheckpoint = z.object({
  host: z.literal("github"),
  from: z.string(),
  to: z.string(),
  /** Push deliveries GitHub listed in the span, and how many of them the record lacked and got now. */
  pushDeliveries: z.number().int().nonnegative(),
  recorded: z.number().int().nonnegative(),
  /** The span started where GitHub's retention of deliveries did, not where the last checkpoint ended. */
  retentionBound: z.boolean(),
});
export type DeliveriesCheckpoint = z.infer<typeof DeliveriesCheckpoint>;

export async function recordDeliveriesCheckpoint(
  ledger: Ledger,
  content: DeliveriesCheckpoint,
): Promise<RecordedEntry> {
  return ledger.append(
    deliveriesStream(content.host),
    DELIVERIES_CHECKPOINT,
    DeliveriesCheckpoint.parse(content),
  );
}

/** Every checkpoint of the host, in the order they were written. */
export async function deliveriesCheckpoints(ledger: Ledger, host: "github"): Promise<PushCheckpoint[]> {
  const db = await ledger.database();
  const rows = await db.query<{ content: string }>(
    `SELECT content FROM records WHERE stream = $1 AND kind = $2 ORDER BY sequence`,
    [deliveriesStream(host), DELIVERIES_CHECKPOINT],
  );
  return rows.map((row) => {
    const { from, to } = DeliveriesCheckpoint.parse(JSON.parse(row.content));
    return { from, to };
  });
}

/** Where the latest reconciliation ended (the next one starts there), or null before the first. */
export async function lastDeliveriesCheckpointEnd(ledger: Ledger, host: "github"): Promise<Date | null> {
  const db = await ledger.database();
  const rows = await db.query<{ ended: string | null }>(
    `SELECT max(content::jsonb->>'to') AS ended FROM records WHERE stream = $1 AND kind = $2`,
    [deliveriesStream(host), DELIVERIES_CHECKPOINT],
  );
  const ended = rows[0]?.ended;
  return ended ? new Date(ended) : null;
}

/** The delivery ids (GitHub's GUIDs) of the pushes recorded from `since` on, any repository. */
export async function recordedPushDeliveries(
  ledger: Ledger,
  host: "github",
  since: Date,
): Promise<Set<string>> {
  const db = await ledger.database();
  const rows = await db.query<{ id: string | null }>(
    `SELECT content::jsonb->>'deliveryId' AS id FROM records
      WHERE kind = $1 AND stream LIKE $2 AND content::jsonb->>'receivedAt' >= $3`,
    [PUSH, `push:${host}/%`, since.toISOString()],
  );
  return new Set(rows.flatMap((row) => (row.id ? [row.id] : [])));
}

/** The ledger as the GitHub host's push record (createGitHubHost's pushRecord). */
export function pushRecordOf(ledger: Ledger): PushRecordSource {
  return {
    pushesOf: (repository, branch) => recordedPushes(ledger, "github", repository, branch),
    checkpoints: () => deliveriesCheckpoints(ledger, "github"),
  };
}
