import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createGitLabEndpoint } from "../../src/app/gitlab.js";
import { openLedger, type Ledger, type ObservationContent } from "../../src/ledger/index.js";
import { createGitLabHost } from "../../src/providers/gitlab/index.js";
import { API, BASE, fixture, gitlab, strictNock } from "../providers/gitlab/helpers.js";

/**
 * GitLab's group member events, end to end: a real delivery of GitLab's documented "Group member
 * events" payload, the real GitLab host over fetch (GitLab's API answered by nock with documented
 * answer shapes), and the observation it leaves in the ledger.
 */

strictNock();

const SECRET = "hook-secret-5f2c";
const NOW = new Date("2026-10-02T12:00:00Z");
const memberHook = readFileSync(new URL("../fixtures/gitlab/member-hook.json", import.meta.url), "utf8");

const log = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
let server: Server;
let url: string;
let settled: Promise<void>[];
let ledger: Ledger;

beforeEach(async () => {
  settled = [];
  log.info.mockReset();
  log.error.mockReset();
  ledger = openLedger({ dir: null, now: () => NOW });
  const handle = createGitLabEndpoint({
    secret: SECRET,
    host: () => createGitLabHost({ baseUrl: BASE, token: "glpat-test-token" }),
    now: () => NOW,
    log,
    ledger,
  });
  server = createServer((req, res) => void settled.push(handle(req, res)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/gitlab/webhook`;
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  await ledger.close();
});

/** GitLab's answers for reading one group's members, invitations and projects' members. */
function mockGroup(
  id: string,
  group: Record<string, unknown>,
  members: unknown[] = fixture("group-members-admin"),
): void {
  const path = `${API}/groups/${encodeURIComponent(id)}`;
  gitlab()
    .get(path)
    .reply(200, group)
    .get(`${path}/members/all`)
    .query(true)
    .reply(200, members)
    .get(`${path}/invitations`)
    .query(true)
    .reply(200, fixture("group-invitations"))
    .get(`${path}/projects`)
    .query(true)
    .reply(200, [{ id: 3, path_with_namespace: "acme/api" }])
    .get(`${API}/projects/acme%2Fapi/members`)
    .query(true)
    .reply(200, fixture("project-members"));
}

async function deliver(body: string): Promise<number> {
  const response = await fetch(url, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-gitlab-token": SECRET,
      "x-gitlab-event": "Member Hook",
    },
  });
  await response.text();
  await Promise.all(settled);
  return response.status;
}

async function observations(stream: string): Promise<ObservationContent[]> {
  const found: ObservationContent[] = [];
  for await (const record of ledger.records(stream))
    found.push(JSON.parse(record.content) as ObservationContent);
  return found;
}

describe("GitLab group member events", () => {
  it("observe the group's members at once, recording the event and no actor (GitLab names none)", async () => {
    const group = fixture<Record<string, unknown>>("group");
    mockGroup("100", group);
    const body = JSON.stringify({ ...JSON.parse(memberHook), group_path: "acme" });
    expect(await deliver(body)).toBe(202);

    expect(log.error).not.toHaveBeenCalled();
    const [observed, ...more] = await observations("observation:gitlab/acme");
    expect(more).toEqual([]);
    expect(observed?.source).toEqual({ trigger: "webhook", event: "member.user_add_to_group", actor: null });
    expect(observed?.observedAt).toBe(NOW.toISOString());
    expect(observed?.whole).toMatchObject({
      kind: "organization",
      login: "acme",
      members: {
        known: true,
        value: { alice: { role: "owner" }, bob: { role: "member", twoFactor: false } },
      },
    });
  });

  it("a member event of a subgroup observes the top-level group, whose stream the audits write", async () => {
    mockGroup("101", {
      ...fixture<Record<string, unknown>>("group"),
      id: 101,
      path: "platform",
      full_path: "acme/platform",
    });
    mockGroup("acme", fixture<Record<string, unknown>>("group"));
    const body = JSON.stringify({ ...JSON.parse(memberHook), group_id: 101, group_path: "platform" });
    expect(await deliver(body)).toBe(202);
    expect(await observations("observation:gitlab/acme/platform")).toEqual([]);
    const [observed] = await observations("observation:gitlab/acme");
    expect(observed?.whole).toMatchObject({ kind: "organization", login: "acme" });
  });

  it("a group GitLab will not show is logged as not observed, and nothing is recorded", async () => {
    gitlab().get(`${API}/groups/100`).reply(404, { message: "404 Group Not Found" });
    expect(await deliver(memberHook)).toBe(202);
    expect(await observations("observation:gitlab/webhook-test")).toEqual([]);
    expect(log.error).toHaveBeenCalledWith(
      expect.objectContaining({ event: "member.user_add_to_group", groupId: 100 }),
      "configuration change not observed",
    );
  });

  it("an owner added is a finding at once in the group's findings project, naming what GitLab says and who it does not", async () => {
    const group = fixture<Record<string, unknown>>("group");
    const members = fixture<Record<string, unknown>[]>("group-members-admin");
    mockGroup("9", group, members);
    const added = JSON.stringify({ ...JSON.parse(memberHook), group_id: 9, group_path: "acme" });
    expect(await deliver(added)).toBe(202);

    // mallory@ is made an owner (access level 50): the next member event finds it
    const promoted = [
      ...members,
      { ...members[1], id: 77, username: "mallory", name: "Mallory", access_level: 50 },
    ];
    mockGroup("9", group, promoted);
    // no policy file in the group's policy project: the default policy's findings project
    gitlab().get(`${API}/projects/acme%2Fgitlab-profile/repository/tree`).query(true).reply(404, {});
    const issues = `${API}/projects/acme%2Fcompliance/issues`;
    let opened: Record<string, string> | undefined;
    gitlab()
      .get(issues)
      .query(true)
      .reply(200, [])
      .post(issues, (body: Record<string, string>) => {
        opened = body;
        return true;
      })
      .reply(201, fixture("issue"))
      // after creating, the lifecycle lists again (another process may have opened the same finding)
      .get(issues)
      .query(true)
      .reply(200, () => [
        {
          ...fixture<Record<string, unknown>>("issue"),
          title: opened?.title,
          description: opened?.description,
        },
      ]);
    const update = {
      ...JSON.parse(memberHook),
      group_id: 9,
      group_path: "acme",
      event_name: "user_update_for_group",
      user_username: "mallory",
      group_access: "Owner",
    };
    expect(await deliver(JSON.stringify(update))).toBe(202);

    expect(log.error).not.toHaveBeenCalled();
    expect(opened?.title).toContain("acme:owner:mallory");
    expect(opened?.title).toContain("Owner added to organization acme (webhook member.user_update_for_group");
    expect(opened?.labels).toBe("soc2,CC7.1,cc7.configuration-weakened");
    expect(opened?.description).toContain("not known: the webhook named nobody");
    const recorded = await observations("observation:gitlab/acme");
    expect(recorded.map((o) => o.source.event)).toEqual([
      "member.user_add_to_group",
      "member.user_update_for_group",
    ]);
  });
});
