import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { readFileSync } from "node:fs";
import { createGitLabWebhookHandler } from "../../src/app/gitlab-webhook.js";
import { MAX_WEBHOOK_BODY_BYTES } from "../../src/app/webhook-gate.js";

const SECRET = "hook-secret-5f2c";
const mergeRequestHook = readFileSync(
  new URL("../fixtures/gitlab/merge-request-hook.json", import.meta.url),
  "utf8",
);
const pipelineHook = readFileSync(new URL("../fixtures/gitlab/pipeline-hook.json", import.meta.url), "utf8");
// GitLab's documented "Group member events" example (user/project/integrations/webhook_events).
const memberHook = readFileSync(new URL("../fixtures/gitlab/member-hook.json", import.meta.url), "utf8");

let server: Server;
let url: string;
let settled: Promise<void>[];
const onMergeRequest = vi.fn();
const onPipeline = vi.fn();
const onMember = vi.fn();
const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };

beforeEach(async () => {
  settled = [];
  onMergeRequest.mockReset();
  onPipeline.mockReset();
  onMember.mockReset();
  const handle = createGitLabWebhookHandler({ secret: SECRET, onMergeRequest, onPipeline, onMember, log });
  server = createServer((req, res) => void settled.push(handle(req, res)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gitlab/webhook`;
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  nock.cleanAll();
});

async function deliver(body: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(url, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
  await response.text();
  await Promise.all(settled);
  return response.status;
}

describe("GitLab webhook", () => {
  it("hands a merge request event to its callback and answers 202", async () => {
    const status = await deliver(mergeRequestHook, {
      "x-gitlab-token": SECRET,
      "x-gitlab-event": "Merge Request Hook",
    });
    expect(status).toBe(202);
    expect(onMergeRequest.mock.calls).toEqual([
      [
        {
          project: "acme/api",
          iid: 12,
          action: "update",
          state: "opened",
          headSha: "1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e",
          targetBranch: "main",
          sourceBranch: "feature/rate-limit",
          url: "https://gitlab.example.com/acme/api/-/merge_requests/12",
          actor: "alice",
        },
      ],
    ]);
    expect(onPipeline).not.toHaveBeenCalled();
  });

  it("hands a pipeline event to its callback with its merge request", async () => {
    expect(await deliver(pipelineHook, { "x-gitlab-token": SECRET, "x-gitlab-event": "Pipeline Hook" })).toBe(
      202,
    );
    expect(onPipeline.mock.calls).toEqual([
      [
        {
          project: "acme/api",
          pipelineId: 4501,
          sha: "1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e",
          ref: "feature/rate-limit",
          status: "failed",
          mergeRequestIid: 12,
          mergeRequestState: "opened",
          mergeRequestSourceBranch: "feature/rate-limit",
          source: "merge_request_event",
          jobNames: [],
        },
      ],
    ]);
  });

  it.each([
    ["a wrong token", { "x-gitlab-token": "hook-secret-5f2d" }],
    ["a longer token", { "x-gitlab-token": `${SECRET}-and-more` }],
    ["no token", {}],
  ])("rejects %s with 401, no callback and no API request", async (_case, headers) => {
    // Any request to GitLab would consume this mock; it must stay pending.
    const gitlab = nock("https://gitlab.example.com").get(/.*/).reply(200, {});
    expect(await deliver(mergeRequestHook, headers)).toBe(401);
    expect(onMergeRequest).not.toHaveBeenCalled();
    expect(onPipeline).not.toHaveBeenCalled();
    expect(gitlab.isDone()).toBe(false);
  });

  it("answers 400 on malformed JSON and on a payload missing what we use", async () => {
    expect(await deliver("{not json", { "x-gitlab-token": SECRET })).toBe(400);
    const broken = JSON.parse(mergeRequestHook) as { object_attributes: Record<string, unknown> };
    delete broken.object_attributes.iid;
    expect(await deliver(JSON.stringify(broken), { "x-gitlab-token": SECRET })).toBe(400);
    expect(onMergeRequest).not.toHaveBeenCalled();
  });

  it("ignores other event kinds with 204", async () => {
    const push = JSON.stringify({ object_kind: "push", ref: "refs/heads/main" });
    expect(await deliver(push, { "x-gitlab-token": SECRET, "x-gitlab-event": "Push Hook" })).toBe(204);
    expect(onMergeRequest).not.toHaveBeenCalled();
    expect(onPipeline).not.toHaveBeenCalled();
  });

  it("logs a failing callback instead of crashing the server", async () => {
    onPipeline.mockRejectedValueOnce(new Error("boom"));
    expect(await deliver(pipelineHook, { "x-gitlab-token": SECRET })).toBe(202);
    expect(log.error).toHaveBeenCalledWith(
      expect.objectContaining({ kind: "pipeline" }),
      "GitLab webhook handler failed",
    );
  });

  it("hands a group member event to its callback: the member and role, never an actor GitLab does not send", async () => {
    const headers = { "x-gitlab-token": SECRET, "x-gitlab-event": "Member Hook" };
    expect(await deliver(memberHook, headers)).toBe(202);
    const removed = { ...JSON.parse(memberHook), event_name: "user_remove_from_group" };
    expect(await deliver(JSON.stringify(removed), headers)).toBe(202);
    expect(onMember.mock.calls).toEqual([
      [
        {
          eventName: "user_add_to_group",
          groupId: 100,
          groupPath: "webhook-test",
          member: "test_user",
          access: "Guest",
        },
      ],
      [
        {
          eventName: "user_remove_from_group",
          groupId: 100,
          groupPath: "webhook-test",
          member: "test_user",
          access: null,
        },
      ],
    ]);
    expect(onMergeRequest).not.toHaveBeenCalled();
  });

  it("answers 400 on a member event missing its group, and 204 when no member callback is set", async () => {
    const headers = { "x-gitlab-token": SECRET, "x-gitlab-event": "Member Hook" };
    const broken = JSON.parse(memberHook) as Record<string, unknown>;
    delete broken.group_id;
    expect(await deliver(JSON.stringify(broken), headers)).toBe(400);
    expect(onMember).not.toHaveBeenCalled();

    const withoutMembers = createGitLabWebhookHandler({ secret: SECRET, onMergeRequest, onPipeline, log });
    const other = createServer((req, res) => void settled.push(withoutMembers(req, res)));
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`, {
        method: "POST",
        body: memberHook,
        headers: { "content-type": "application/json", ...headers },
      });
      await response.text();
      expect(response.status).toBe(204);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });
});

describe("GitLab webhook input limits", () => {
  const headers = { "x-gitlab-token": SECRET, "x-gitlab-event": "Merge Request Hook" };

  it("answers 400, not a callback or a 204, to an authentic body that is not a JSON object", async () => {
    for (const body of ["null", "[]", "7", '"merge_request"']) {
      expect({ body, status: await deliver(body, headers) }).toEqual({ body, status: 400 });
    }
    expect(onMergeRequest).not.toHaveBeenCalled();
    expect(onPipeline).not.toHaveBeenCalled();
  });

  it("accepts a hook larger than 1 MiB, as GitLab sends up to 25 MB", async () => {
    const large = JSON.parse(mergeRequestHook) as { object_attributes: Record<string, unknown> };
    large.object_attributes.description = "x".repeat(2 * 1024 * 1024);
    expect(await deliver(JSON.stringify(large), headers)).toBe(202);
    expect(onMergeRequest).toHaveBeenCalledTimes(1);
  });

  it("refuses a body over 25 MiB by its declared length without reading it, and logs no body", async () => {
    const oversize = Buffer.alloc(MAX_WEBHOOK_BODY_BYTES + 1, "x");
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        url,
        {
          method: "POST",
          headers: { "content-type": "application/json", "content-length": oversize.length, ...headers },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
      });
      req.end(oversize);
    });
    await Promise.all(settled);
    expect(status).toBe(413);
    expect(onMergeRequest).not.toHaveBeenCalled();
    expect(JSON.stringify([log.info.mock.calls, log.warn.mock.calls, log.error.mock.calls])).not.toContain(
      "xxxx",
    );
  });
});
