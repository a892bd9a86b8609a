/**
 * Every webhook payload GitHub documents (@octokit/webhooks-examples, api.github.com and GitHub
 * Enterprise Server) for an event the app subscribes to (app.yml `default_events`) either reaches a
 * handler and parses with the payload schema that handler validates with (src/app/payloads.ts), or
 * is an action the app does not handle, listed below with why. The handlers and their schemas are
 * read from src/app/index.ts and src/app/observe.ts, so a new handler cannot escape the suite.
 */
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { parse as parseYaml } from "yaml";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import * as payloads from "../../src/app/payloads.js";

const require = createRequire(import.meta.url);

interface WebhookDefinition {
  name: string;
  actions: string[];
  examples: Array<Record<string, unknown> & { action?: string }>;
}

/** Actions of subscribed events the app does not handle, and why none of them changes a verdict. */
const DROPPED: Record<string, string> = {
  "pull_request.assigned": "assignees are no evidence of any control",
  "pull_request.unassigned": "assignees are no evidence of any control",
  "pull_request.labeled": "labels are no evidence of any control",
  "pull_request.unlabeled": "labels are no evidence of any control",
  "pull_request.locked": "locking the conversation changes no control",
  "pull_request.unlocked": "locking the conversation changes no control",
  "pull_request.converted_to_draft": "a draft cannot be merged; ready_for_review evaluates it again",
  "pull_request.review_requested": "a request is no review; the review itself is an event",
  "pull_request.review_request_removed": "a request is no review; the review itself is an event",
  "pull_request_review.edited": "editing a review's text leaves its state (approval) as it was",
  "check_run.created": "a check that has not completed decides nothing; completed does",
  "check_run.requested_action": "a button on another app's check run; its result arrives as completed",
  "check_run.rerequested": "a re-run starts; its result arrives as completed",
  "check_suite.requested": "a suite starts; its result arrives as completed",
  "check_suite.rerequested": "a suite re-runs; its result arrives as completed",
};

/** The files that subscribe the app's handlers: the change checks and the configuration observer. */
/**
 * Subscribed events @octokit/webhooks-examples has no example of. Each is listed so that the day an
 * example appears, this list must shrink and the example is checked like the others.
 */
const WITHOUT_EXAMPLES: Record<string, string> = {
  repository_ruleset:
    "no example published; its handler reads only sender, organization and repository, which every event carries",
};

const APP_SOURCE = ["index.ts", "observe.ts", "pushes.ts"]
  .map((file) => readFileSync(new URL(`../../src/app/${file}`, import.meta.url), "utf8"))
  .join("\n");

/** "event.action" (or "event") → the payload schema name its handler validates with. */
function handlers(): Map<string, string[]> {
  const constants = new Map<string, string[]>();
  for (const match of APP_SOURCE.matchAll(/const (\w+) = \[([^\]]*)\] as const/g)) {
    constants.set(
      match[1] ?? "",
      [...(match[2] ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? ""),
    );
  }
  const map = new Map<string, string[]>();
  const on =
    /app\.on\(\s*(\[[^\]]*\]|"[^"]+")\s*,\s*async\s*\(context\)\s*=>\s*\{\s*const payload = parsePayload\((\w+)/g;
  for (const match of APP_SOURCE.matchAll(on)) {
    const events = (match[1] ?? "").startsWith("[")
      ? [...(match[1] ?? "").matchAll(/\.\.\.(\w+)|"([^"]+)"/g)].flatMap((m) =>
          m[1] ? (constants.get(m[1]) ?? [`unknown constant ${m[1]}`]) : [m[2] ?? ""],
        )
      : [(match[1] ?? "").slice(1, -1)];
    for (const event of events) map.set(event, [...(map.get(event) ?? []), match[2] ?? ""]);
  }
  return map;
}

function subscribedEvents(): string[] {
  const manifest = parseYaml(readFileSync(new URL("../../app.yml", import.meta.url), "utf8")) as {
    default_events: string[];
  };
  return manifest.default_events;
}

function examplesOf(event: string): { edition: string; action: string | undefined; payload: unknown }[] {
  const root = require.resolve("@octokit/webhooks-examples/package.json").replace(/package\.json$/, "");
  const editions = readdirSync(root).filter((d) => d === "api.github.com" || d.startsWith("ghes-"));
  return editions.flatMap((edition) => {
    const definitions = JSON.parse(
      readFileSync(`${root}${edition}/index.json`, "utf8"),
    ) as WebhookDefinition[];
    return (definitions.find((d) => d.name === event)?.examples ?? []).map((payload) => ({
      edition,
      action: payload.action,
      payload,
    }));
  });
}

describe("the webhooks the app subscribes to", () => {
  const handled = handlers();

  it("each have a handler that validates its payload (read from src/app/index.ts and observe.ts)", () => {
    expect(handled.size).toBeGreaterThan(0);
    for (const event of subscribedEvents()) {
      expect(
        [...handled.keys()].some((key) => key === event || key.startsWith(`${event}.`)),
        `a handler for ${event}`,
      ).toBe(true);
    }
    for (const names of handled.values()) {
      for (const name of names) {
        expect((payloads as Record<string, unknown>)[name], `payloads.ts exports ${name}`).toBeInstanceOf(
          z.ZodType,
        );
      }
    }
  });

  it("list only subscribed events' actions as dropped, and none that is handled", () => {
    for (const key of Object.keys(DROPPED)) {
      expect(subscribedEvents(), key).toContain(key.split(".")[0]);
      expect(handled.has(key), `${key} is handled, not dropped`).toBe(false);
    }
  });

  describe.each(subscribedEvents())("%s", (event) => {
    const examples = examplesOf(event);

    it("has documented examples (or is listed as having none)", () => {
      if (event in WITHOUT_EXAMPLES) expect(examples).toEqual([]);
      else expect(examples.length).toBeGreaterThan(0);
    });

    it("every documented example parses with its handler's schema, or its action is dropped on purpose", () => {
      const outcomes: string[] = [];
      let parsed = 0;
      for (const { edition, action, payload } of examples) {
        const key = action === undefined ? event : `${event}.${action}`;
        const schemas = [
          ...(handled.get(key) ?? []),
          ...(action === undefined ? [] : (handled.get(event) ?? [])),
        ];
        if (schemas.length === 0) {
          if (!(key in DROPPED)) outcomes.push(`${edition} ${key}: neither handled nor listed as dropped`);
          continue;
        }
        for (const name of schemas) {
          const schema = (payloads as Record<string, unknown>)[name] as z.ZodType;
          const result = schema.safeParse(payload);
          if (result.success) parsed++;
          else {
            const issue = result.error.issues[0];
            outcomes.push(
              `${edition} ${key}: ${name} rejects it at ${issue?.path.join(".")}: ${issue?.message}`,
            );
          }
        }
      }
      expect(outcomes).toEqual([]);
      if (!(event in WITHOUT_EXAMPLES)) expect(parsed, "examples that reached a handler").toBeGreaterThan(0);
    });
  });
});
