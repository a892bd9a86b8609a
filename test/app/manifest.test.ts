import { readFileSync } from "node:fs";
import { Probot, ProbotOctokit } from "probot";
import { describe, expect, it } from "vitest";
import { isMap, isScalar, isSeq, parseDocument } from "yaml";
import { createApp } from "../../src/app/index.js";
import { createLogger } from "../../src/app/logger.js";
import { PRIVATE_KEY } from "../fixtures/app/github-app.js";
// Not in probot's exports: the class `npm start` runs in setup mode, reached by its file.
import { ManifestCreation } from "../../node_modules/probot/lib/manifest-creation.js";

const text = readFileSync(new URL("../../app.yml", import.meta.url), "utf8");
const document = parseDocument(text);

function manifestJs(): Record<string, unknown> {
  return document.toJS() as Record<string, unknown>;
}

/** The webhook events (without their action) the app registers handlers for. */
async function subscribedEvents(): Promise<string[]> {
  const probot = new Probot({
    appId: 1,
    privateKey: PRIVATE_KEY,
    log: createLogger({ level: "silent" }),
    Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }),
  });
  const names: string[] = [];
  const on = probot.on.bind(probot);
  probot.on = ((event: string | string[], handler: never) => {
    names.push(...[event].flat());
    return on(event as never, handler);
  }) as typeof probot.on;
  await probot.load(createApp());
  return [...new Set(names.map((name) => name.split(".")[0]!))].sort();
}

describe("app.yml", () => {
  it("parses as a private GitHub App manifest", () => {
    expect(document.errors).toEqual([]);
    const manifest = document.toJS() as Record<string, unknown>;
    expect(manifest).toMatchObject({
      name: "soc2-bot",
      public: false,
      url: expect.stringMatching(/^https:\/\//) as string,
    });
  });

  it("lets Probot's manifest flow point the webhook and the redirect at this server (or its smee channel)", () => {
    const creation = new ManifestCreation();
    const pkg = { name: "soc2-bot", description: "d" };
    // app.yml as this checkout has it, whatever the working directory.
    const readApp = (() => text) as unknown as typeof readFileSync;
    const previous = process.env.WEBHOOK_PROXY_URL;
    try {
      delete process.env.WEBHOOK_PROXY_URL;
      const direct = JSON.parse(
        creation.getManifest({ pkg, baseUrl: "https://soc2.acme.test", readFileSync: readApp }),
      ) as Record<string, unknown>;
      expect(direct).toMatchObject({
        name: "soc2-bot",
        public: false,
        hook_attributes: { url: "https://soc2.acme.test/" },
        redirect_url: "https://soc2.acme.test/probot/setup",
      });
      expect(direct.default_permissions).toEqual(manifestJs().default_permissions);
      process.env.WEBHOOK_PROXY_URL = "https://smee.io/abc123";
      const proxied = JSON.parse(
        creation.getManifest({ pkg, baseUrl: "http://localhost:3000", readFileSync: readApp }),
      ) as Record<string, unknown>;
      expect(proxied).toMatchObject({
        hook_attributes: { url: "https://smee.io/abc123" },
        redirect_url: "http://localhost:3000/probot/setup",
      });
    } finally {
      if (previous === undefined) delete process.env.WEBHOOK_PROXY_URL;
      else process.env.WEBHOOK_PROXY_URL = previous;
    }
  });

  it("subscribes to exactly the events the app handles", async () => {
    const manifest = document.toJS() as { default_events: string[] };
    expect([...manifest.default_events].sort()).toEqual(await subscribedEvents());
  });

  it("asks for least privilege: write only for the check run and finding issues", () => {
    const manifest = document.toJS() as { default_permissions: Record<string, string> };
    expect(manifest.default_permissions).toEqual({
      checks: "write",
      pull_requests: "read",
      contents: "read",
      metadata: "read",
      issues: "write",
      administration: "read",
      members: "read",
      organization_administration: "read",
      statuses: "read",
    });
  });

  it("justifies every permission and every event with the control that needs it", () => {
    const permissions = document.get("default_permissions");
    const events = document.get("default_events");
    if (!isMap(permissions) || !isSeq(events)) throw new Error("app.yml lost its structure");
    // The yaml library hangs the comment above a collection's first entry on the collection.
    const justified = [
      ...permissions.items.map((pair, i) => ({
        what: isScalar(pair.key) ? String(pair.key.value) : "?",
        comment:
          (i === 0 ? permissions.commentBefore : isScalar(pair.key) ? pair.key.commentBefore : "") ?? "",
      })),
      ...events.items.map((item, i) => ({
        what: isScalar(item) ? String(item.value) : "?",
        comment: (i === 0 ? events.commentBefore : isScalar(item) ? item.commentBefore : "") ?? "",
      })),
    ];
    expect(justified).toHaveLength(23);
    for (const { what, comment } of justified) {
      expect(comment, `the comment above ${what}`).toMatch(/cc[68]\.[a-z0-9-]+|CC[68]\.\d/);
    }
  });
});
