import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { MAX_WEBHOOK_BODY_BYTES } from "./webhook-gate.js";

/**
 * The GitLab webhook endpoint (mounted by the app, e.g. at /gitlab/webhook). GitLab sends the
 * secret verbatim in X-Gitlab-Token: it is checked before anything else, and a request without
 * the right token gets 401 and causes nothing. Payloads are validated (fields we use only) and
 * handed to typed callbacks; the answer (202) does not wait for them, because GitLab gives a hook
 * 10 seconds and disables hooks that keep timing out.
 */

export interface GitLabMergeRequestEvent {
  project: string;
  iid: number;
  /** open, update, merge, close, reopen, approved, … (absent on some older GitLab versions). */
  action: string | null;
  state: string;
  headSha: string | null;
  targetBranch: string;
  sourceBranch: string;
  url: string | null;
  /** Who triggered the event. */
  actor: string | null;
}

export interface GitLabPipelineEvent {
  project: string;
  pipelineId: number;
  sha: string;
  ref: string;
  status: string;
  /** The merge request the pipeline ran for, when GitLab says (merge request pipelines). */
  mergeRequestIid: number | null;
  /** That merge request's state when the pipeline finished ("opened", "merged", …). */
  mergeRequestState: string | null;
  /** That merge request's source branch, when GitLab says. */
  mergeRequestSourceBranch: string | null;
  /** Pipeline source ("push", "merge_request_event", "external" for commit statuses, ...). */
  source: string | null;
  /** Names of the pipeline's jobs (for an external pipeline: the commit statuses in it). */
  jobNames: string[];
}

/**
 * A group member added, removed, or given another role or expiry (GitLab's "Group member events" of
 * a group webhook, X-Gitlab-Event: Member Hook). GitLab's payload names the member, never who made
 * the change.
 */
export interface GitLabMemberEvent {
  /** user_add_to_group, user_update_for_group, user_remove_from_group. */
  eventName: string;
  groupId: number;
  /** The group's own path (a subgroup's is not its full path). */
  groupPath: string;
  member: string | null;
  /** The member's role as GitLab names it ("Guest" … "Owner"); null when removed or not given. */
  access: string | null;
}

export interface GitLabWebhookLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface GitLabWebhookOptions {
  secret: string;
  onMergeRequest(event: GitLabMergeRequestEvent): Promise<void> | void;
  onPipeline(event: GitLabPipelineEvent): Promise<void> | void;
  /** Group member events; without this callback they are answered 204 like other kinds. */
  onMember?(event: GitLabMemberEvent): Promise<void> | void;
  log: GitLabWebhookLogger;
  /** Largest body accepted, in bytes (by default 25 MiB: GitLab sends no larger hook). */
  maxBodyBytes?: number;
}

const Project = z.object({ path_with_namespace: z.string().min(1) });

export const MergeRequestHook = z.object({
  object_kind: z.literal("merge_request"),
  user: z.object({ username: z.string() }).optional(),
  project: Project,
  object_attributes: z.object({
    iid: z.number().int().positive(),
    action: z.string().optional(),
    state: z.string(),
    target_branch: z.string(),
    source_branch: z.string(),
    url: z.string().optional(),
    last_commit: z.object({ id: z.string() }).nullable().optional(),
  }),
});

export const PipelineHook = z.object({
  object_kind: z.literal("pipeline"),
  project: Project,
  object_attributes: z.object({
    id: z.number().int(),
    ref: z.string(),
    sha: z.string(),
    status: z.string(),
    source: z.string().nullable().optional(),
  }),
  merge_request: z
    .object({
      iid: z.number().int().positive(),
      state: z.string().optional(),
      source_branch: z.string().optional(),
    })
    .nullable()
    .optional(),
  builds: z
    .array(z.object({ name: z.string() }))
    .nullable()
    .optional(),
});

/** The member events GitLab documents for group webhooks (and, with the same names, system hooks). */
export const MEMBER_EVENTS = [
  "user_add_to_group",
  "user_update_for_group",
  "user_remove_from_group",
] as const;

export const MemberHook = z.object({
  event_name: z.enum(MEMBER_EVENTS),
  group_id: z.number().int(),
  group_path: z.string().min(1),
  user_username: z.string().optional(),
  group_access: z.string().nullable().optional(),
});

/** The request handler, returning a promise that settles when the callback has run (for tests). */
export function createGitLabWebhookHandler(
  options: GitLabWebhookOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  if (!options.secret) throw new Error("a GitLab webhook secret is required");
  const expected = digest(options.secret);
  const maxBodyBytes = options.maxBodyBytes ?? MAX_WEBHOOK_BODY_BYTES;

  return async function handle(req, res) {
    if (req.method !== "POST") return answer(res, 405, "method not allowed");
    const token = req.headers["x-gitlab-token"];
    // Hashing both sides gives equal-length buffers, so neither the comparison nor its length
    // check tells an attacker anything about the secret.
    if (typeof token !== "string" || !timingSafeEqual(digest(token), expected)) {
      options.log.warn(
        { event: req.headers["x-gitlab-event"] },
        "GitLab webhook with a missing or wrong token",
      );
      req.resume();
      return answer(res, 401, "unauthorized");
    }

    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBodyBytes) return refuseTooLarge(req, res);
    let payload: unknown;
    try {
      payload = JSON.parse(await readBody(req, maxBodyBytes));
    } catch (error) {
      if (error instanceof BodyTooLarge) return refuseTooLarge(req, res);
      return answer(res, 400, "malformed JSON");
    }
    // Every hook GitLab sends is a JSON object: anything else is no event (and must not reach one).
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) {
      return answer(res, 400, "a webhook payload is a JSON object");
    }
    const kind = objectKind(payload);
    if (kind === undefined && options.onMember && isMemberEvent(payload)) {
      const parsed = MemberHook.safeParse(payload);
      if (!parsed.success) return invalid(res, parsed.error);
      const member = parsed.data;
      answer(res, 202, "accepted");
      const onMember = options.onMember;
      return run("member", () =>
        onMember({
          eventName: member.event_name,
          groupId: member.group_id,
          groupPath: member.group_path,
          member: member.user_username ?? null,
          access: member.event_name === "user_remove_from_group" ? null : (member.group_access ?? null),
        }),
      );
    }
    if (kind !== "merge_request" && kind !== "pipeline") return answer(res, 204);

    if (kind === "merge_request") {
      const parsed = MergeRequestHook.safeParse(payload);
      if (!parsed.success) return invalid(res, parsed.error);
      const { project, object_attributes: mr, user } = parsed.data;
      answer(res, 202, "accepted");
      return run("merge_request", () =>
        options.onMergeRequest({
          project: project.path_with_namespace,
          iid: mr.iid,
          action: mr.action ?? null,
          state: mr.state,
          headSha: mr.last_commit?.id ?? null,
          targetBranch: mr.target_branch,
          sourceBranch: mr.source_branch,
          url: mr.url ?? null,
          actor: user?.username ?? null,
        }),
      );
    }
    const parsed = PipelineHook.safeParse(payload);
    if (!parsed.success) return invalid(res, parsed.error);
    const { project, object_attributes: pipeline, merge_request } = parsed.data;
    answer(res, 202, "accepted");
    return run("pipeline", () =>
      options.onPipeline({
        project: project.path_with_namespace,
        pipelineId: pipeline.id,
        sha: pipeline.sha,
        ref: pipeline.ref,
        status: pipeline.status,
        mergeRequestIid: merge_request?.iid ?? null,
        mergeRequestState: merge_request?.state ?? null,
        mergeRequestSourceBranch: merge_request?.source_branch ?? null,
        source: pipeline.source ?? null,
        jobNames: (parsed.data.builds ?? []).map((build) => build.name),
      }),
    );
  };

  function invalid(res: ServerResponse, error: z.ZodError): void {
    const issue = error.issues[0];
    answer(
      res,
      400,
      `invalid payload at ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`,
    );
  }

  async function run(kind: string, callback: () => Promise<void> | void): Promise<void> {
    try {
      await callback();
    } catch (error) {
      // Never swallowed: logged with the event kind; the pipeline reports its own failures.
      options.log.error({ err: error, kind }, "GitLab webhook handler failed");
    }
  }
}

/** Member events carry no object_kind: their event_name says what they are. */
function isMemberEvent(payload: unknown): boolean {
  if (typeof payload !== "object" || payload === null || !("event_name" in payload)) return false;
  return (MEMBER_EVENTS as readonly unknown[]).includes(payload.event_name);
}

function objectKind(payload: unknown): string | undefined {
  if (typeof payload !== "object" || payload === null || !("object_kind" in payload)) return undefined;
  return typeof payload.object_kind === "string" ? payload.object_kind : undefined;
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** 413, and the connection closed: the rest of an oversized body is never read. */
function refuseTooLarge(req: IncomingMessage, res: ServerResponse): void {
  res.setHeader("connection", "close");
  res.on("finish", () => req.destroy());
  answer(res, 413, "payload too large");
}

function answer(res: ServerResponse, status: number, message?: string): void {
  if (message === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ message }));
}
