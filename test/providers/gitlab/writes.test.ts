import { describe, expect, it } from "vitest";
import { API, fixture, gitlab, HEAD, MR, strictNock, testHost } from "./helpers.js";
import { NOTE_MARKER } from "../../../src/providers/gitlab/writes.js";
import { WriteError } from "../../../src/providers/types.js";

strictNock();

const ISSUES = `${API}/projects/acme%2Fcompliance/issues`;
const issue = fixture<Record<string, unknown>>("issue");
const finding = {
  number: 5,
  title: "cc6.member-2fa: @bob has no two-factor authentication",
  body: "Finding body",
  state: "open",
  url: "https://gitlab.example.com/acme/compliance/-/issues/5",
  labels: ["soc2-finding"],
};

describe("GitLab finding issues", () => {
  it("creates, lists by label, closes and reopens through state_event", async () => {
    gitlab()
      .post(ISSUES, { title: finding.title, description: "Finding body", labels: "soc2-finding,cc6" })
      .reply(201, { ...issue, labels: ["soc2-finding", "cc6"] })
      .get(ISSUES)
      .query({ labels: "soc2-finding", state: "all", per_page: "100" })
      .reply(200, [issue, { ...issue, iid: 6, state: "closed" }])
      .put(`${ISSUES}/5`, { state_event: "close" })
      .reply(200, { ...issue, state: "closed" })
      .put(`${ISSUES}/6`, { state_event: "reopen", description: "Seen again" })
      .reply(200, { ...issue, iid: 6, description: "Seen again" })
      .post(`${ISSUES}/6/notes`, { body: "Failing again on 2026-11-01." })
      .reply(201, {
        id: 1,
        body: "Failing again on 2026-11-01.",
        system: false,
        author: { username: "soc2-bot" },
        created_at: "2026-11-01T00:00:00Z",
      });
    const { host } = testHost();
    const tracker = host.issues("acme/compliance");
    expect(
      await tracker.create({ title: finding.title, body: "Finding body", labels: ["soc2-finding", "cc6"] }),
    ).toEqual({ ...finding, labels: ["soc2-finding", "cc6"] });
    expect(await tracker.listByLabel("soc2-finding")).toEqual([
      finding,
      { ...finding, number: 6, state: "closed" },
    ]);
    expect(await tracker.update(5, { state: "closed" })).toEqual({ ...finding, state: "closed" });
    expect(await tracker.update(6, { state: "open", body: "Seen again" })).toEqual({
      ...finding,
      number: 6,
      body: "Seen again",
    });
    await tracker.comment(6, "Failing again on 2026-11-01.");
  });
});

describe("GitLab finding issue writes that fail", () => {
  const created = { title: "t", body: "b", labels: ["soc2"] };

  it("reports a refused title with GitLab's field and words, naming no permission", async () => {
    gitlab()
      .post(ISSUES)
      .reply(400, { message: { title: ["is too long (maximum is 255 characters)"] } });
    const error = await testHost()
      .host.issues("acme/compliance")
      .create(created)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WriteError);
    expect((error as WriteError).write).toMatchObject({
      host: "gitlab",
      status: 400,
      applied: "no",
      fields: ["title"],
      hostMessage: "title is too long (maximum is 255 characters)",
    });
    expect((error as WriteError).details.permission).toBeUndefined();
  });

  it("says a write whose answer was lost (502) may have been applied", async () => {
    gitlab().post(ISSUES).reply(502, "Bad Gateway");
    const error = await testHost()
      .host.issues("acme/compliance")
      .create(created)
      .catch((e: unknown) => e);
    expect((error as WriteError).write).toMatchObject({ status: 502, applied: "unknown" });
  });

  it("states GitLab's limits: 255 characters of title, 1,048,576 of description", () => {
    expect(testHost().host.issues("acme/compliance").limits).toEqual({
      titleCharacters: 255,
      bodyCharacters: 1_048_576,
      commentCharacters: 1_000_000,
    });
  });
});

describe("GitLab publishChangeCheck", () => {
  const check = {
    name: "soc2-bot/change-management",
    conclusion: "failure" as const,
    title: "1 of 6 controls fail\n<script>",
    summary: "| control | result |\n| --- | --- |",
    detailsUrl: "https://soc2.example/report/12",
  };
  const me = { id: 99, username: "soc2-bot" };

  it("sets a failed commit status and updates its own marked note in place", async () => {
    const body = `${NOTE_MARKER}\n### soc2-bot/change-management: 1 of 6 controls fail <script>\n\n${check.summary}`;
    gitlab()
      .post(`${API}/projects/acme%2Fapi/statuses/${HEAD}`, {
        state: "failed",
        name: "soc2-bot/change-management",
        description: "1 of 6 controls fail <script>",
        target_url: "https://soc2.example/report/12",
      })
      .reply(201, { id: 1, status: "failed" })
      .get(`${API}/user`)
      .reply(200, me)
      .get(`${MR}/notes`)
      .query(true)
      .reply(200, [
        // Someone pasted the marker: not ours, never edited.
        {
          id: 40,
          body: `${NOTE_MARKER} fake`,
          system: false,
          author: { username: "mallory" },
          created_at: "2026-10-01T00:00:00Z",
        },
        {
          id: 41,
          body: `${NOTE_MARKER}\nold`,
          system: false,
          author: { username: "soc2-bot" },
          created_at: "2026-10-01T01:00:00Z",
        },
      ])
      .put(`${MR}/notes/41`, (sent: { body: string }) => {
        expect(sent.body.startsWith(NOTE_MARKER)).toBe(true);
        expect(sent.body).toContain("1 of 6 controls fail");
        expect(sent.body).not.toContain("<script>");
        return true;
      })
      .reply(200, {
        id: 41,
        body,
        system: false,
        author: { username: "soc2-bot" },
        created_at: "2026-10-01T01:00:00Z",
      });
    const { host } = testHost();
    await host.publishChangeCheck({ repository: "acme/api", number: 12, headSha: HEAD }, check);
  });

  it("posts a note the first time and maps neutral to skipped", async () => {
    gitlab()
      .post(
        `${API}/projects/acme%2Fapi/statuses/${HEAD}`,
        (sent: { state: string }) => sent.state === "skipped",
      )
      .reply(201, { id: 2, status: "skipped" })
      .get(`${API}/user`)
      .reply(200, me)
      .get(`${MR}/notes`)
      .query(true)
      .reply(200, [])
      .post(`${MR}/notes`)
      .reply(201, {
        id: 50,
        body: NOTE_MARKER,
        system: false,
        author: { username: "soc2-bot" },
        created_at: "2026-10-01T01:00:00Z",
      });
    const { host } = testHost();
    await host.publishChangeCheck(
      { repository: "acme/api", number: 12, headSha: HEAD },
      { ...check, conclusion: "neutral", title: "x".repeat(300) },
    );
    expect(host.stats.requests).toBe(4);
  });
});
