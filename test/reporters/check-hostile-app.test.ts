/**
 * A pull request whose title is written to harm: the real app receives GitHub's documented
 * pull_request.opened payload (@octokit/webhooks-examples) with the title replaced, GitHub's GraphQL
 * answer carries the same title and a head branch with a right-to-left override, and the check run
 * the app writes must neither notify, link, render markup nor reorder text, and fit GitHub's limits.
 */
import nock from "nock";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GITHUB_LIMITS, utf8Length } from "../../src/text/limits.js";
import { expectChangeCheck, HEAD, NOW, openPullRequest } from "../fixtures/app/change-facts.js";
import { examplePayload, inAcmeApi, loadApp } from "../fixtures/app/github-app.js";

const OWNERS = Array.from({ length: 8 }, (_, i) => `@acme/owner-${i}`).join(" ");
const HOSTILE_TITLE =
  `${OWNERS} closes #1, GH-2 and acme/api#3 (see https://github.com/acme/api/pull/4 and www.evil.test) ` +
  `\u202Eexe.txt\u202C <img src=x onerror=alert(1)> [x](javascript:alert(1)) ${"変更😀".repeat(200)}`;

describe("a hostile pull-request title through the app", () => {
  const unexpected: string[] = [];
  const onNoMatch = (req: { method?: string; path?: string }) => unexpected.push(`${req.method} ${req.path}`);

  beforeEach(() => {
    unexpected.length = 0;
    nock.emitter.on("no match", onNoMatch);
  });

  afterEach(() => {
    nock.emitter.removeListener("no match", onNoMatch);
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(unexpected, "requests nobody expected").toEqual([]);
    expect(pending, "mocks never used").toEqual([]);
  });

  it("writes a check run that notifies, links and reorders nothing, within GitHub's byte limits", async () => {
    const app = await loadApp({ now: () => NOW, appId: 1 });
    const answer = openPullRequest((pr) => {
      Object.assign(pr, { title: HOSTILE_TITLE, headRefName: "feature/\u202Egnp.exe" });
    });
    expectChangeCheck(app, { pullRequest: answer });

    const payload = inAcmeApi(examplePayload("pull_request", "opened"));
    Object.assign(payload, { number: 42 });
    Object.assign(payload.pull_request, { number: 42, state: "open", title: HOSTILE_TITLE });
    Object.assign(payload.pull_request.head, { sha: HEAD, ref: "feature/\u202Egnp.exe" });
    Object.assign(payload.pull_request.base, { ref: "main" });
    await app.receive("pull_request", payload);

    const write = app.requests.find((r) => r.path === "/repos/acme/api/check-runs");
    const { output } = write?.body as { output: { title: string; summary: string } };
    for (const text of [output.title, output.summary]) {
      // no @mention, and no #12, GH-12 or owner/repo#12 directly followed by its number
      expect(text).not.toMatch(/@[a-z0-9]/i);
      expect(text).not.toMatch(/#\d|GH-\d/i);
      expect(text).not.toMatch(/https?:\/\/github\.com\/acme\/api\/pull\/4\b|www\.evil/);
      expect(text).not.toMatch(/<img|\]\(javascript/);
      expect(text).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/);
    }
    // the title is shown, clipped between characters, with its bidi controls made visible
    expect(output.summary).toContain("‹U\\+202E›exe\\.txt‹U\\+202C›");
    expect(output.summary).toContain("`feature/‹U+202E›gnp.exe`");
    expect(output.summary).toMatch(/変更😀…/);
    expect(utf8Length(output.summary)).toBeLessThanOrEqual(GITHUB_LIMITS.checkRunSummaryBytes);
    expect(utf8Length(output.title)).toBeLessThanOrEqual(GITHUB_LIMITS.checkRunTitleBytes);
    // the references are still there to read, each kept from its number by a zero-width space
    expect(output.summary).toContain("closes \\#\u200B1, GH\\-\u200B2 and acme/api\\#\u200B3");
    expect(output.summary).toContain("https:\u200B//github\\.com/acme/api/pull/4");
  });
});
