import { z } from "zod";

/**
 * The webhook fields the app relies on, validated at the edge (Probot has already checked the
 * signature). Schemas name only what is used and let the rest through; a payload that does not fit
 * is logged and dropped with the field that was wrong, never half-handled.
 */
const Repository = z.object({ name: z.string().min(1), owner: z.object({ login: z.string().min(1) }) });
const PullRequestRef = z.object({
  number: z.number().int().positive(),
  head: z.object({ sha: z.string().min(1) }),
});

export const PullRequestEvent = z.object({
  action: z.string(),
  changes: z.object({ base: z.unknown().optional() }).optional(),
  pull_request: PullRequestRef.extend({ state: z.string(), merged: z.boolean().nullable().optional() }),
  repository: Repository,
});

/**
 * A check run or check suite completing. `head_branch` is null, and `pull_requests` empty, when the
 * head was pushed to a fork (GitHub documents both); `pull_requests` is also empty for a commit on the
 * base branch, such as a merge commit.
 */
export const CheckEvent = z.object({
  check_run: z
    .object({
      name: z.string(),
      head_sha: z.string().min(1),
      pull_requests: z.array(PullRequestRef),
      check_suite: z.object({ head_branch: z.string().nullable() }),
    })
    .optional(),
  check_suite: z
    .object({
      head_sha: z.string().min(1),
      head_branch: z.string().nullable(),
      pull_requests: z.array(PullRequestRef),
      app: z.object({ id: z.number().optional() }).nullable().optional(),
    })
    .optional(),
  repository: Repository,
});

export const StatusEvent = z.object({
  sha: z.string().min(1),
  context: z.string(),
  /** Branches of the repository that contain the commit (at most 10): none for a fork's head. */
  branches: z.array(z.object({ name: z.string() })),
  repository: Repository,
});

/** The parsed payload, or undefined after logging which field did not fit. */
export function parsePayload<T extends z.ZodType>(
  schema: T,
  payload: unknown,
  log: { warn(object: object, message: string): void },
  event: string,
): z.infer<T> | undefined {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  log.warn(
    { event, field: issue?.path.join(".") ?? "", problem: issue?.message ?? "invalid" },
    "webhook payload ignored: it does not have the shape GitHub documents",
  );
  return undefined;
}

/**
 * A webhook that changes configuration the ledger observes (branch rules, access, visibility, deploy
 * keys, organization settings and members). The repository is absent for organization-level events
 * (membership, organization, a team not tied to one repository, an organization ruleset).
 */
export const ConfigurationEvent = z.object({
  action: z.string().optional(),
  repository: Repository.extend({
    full_name: z.string().min(1),
    default_branch: z.string().optional(),
  }).optional(),
  organization: z.object({ login: z.string().min(1) }).optional(),
  sender: z.object({ login: z.string() }).nullable().optional(),
});

const PushGitActor = z.object({ username: z.string().optional() }).passthrough();

/** The push webhook's fields the record relies on (GitHub's documented `push` payload). */
export const PushEvent = z.object({
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  created: z.boolean(),
  deleted: z.boolean(),
  forced: z.boolean(),
  pusher: z.object({ name: z.string() }).passthrough(),
  sender: z.object({ login: z.string() }).passthrough().nullable().optional(),
  repository: z
    .object({
      full_name: z.string(),
      pushed_at: z.union([z.number(), z.string()]).nullable().optional(),
    })
    .passthrough(),
  commits: z.array(
    z
      .object({
        id: z.string(),
        message: z.string(),
        timestamp: z.string(),
        url: z.string(),
        distinct: z.boolean(),
        author: PushGitActor,
        committer: PushGitActor,
      })
      .passthrough(),
  ),
});
export type PushEvent = z.infer<typeof PushEvent>;
