import { describe, expect, it } from "vitest";
import { inactiveAccess } from "../../src/controls/cc6-inactive-access.js";
import type { Evaluation } from "../../src/controls/types.js";
import { evaluate, evaluateOrganization } from "../../src/engine/evaluate.js";
import { CONTROLS } from "../../src/controls/index.js";
import type { Snapshot } from "../../src/model/index.js";
import { accessFacts } from "../../src/pipeline/access-facts.js";
import { peopleDirectory } from "../../src/policy/people.js";
import { loadPolicy } from "../../src/policy/index.js";
import {
  makeChangeRequest,
  makeContext,
  makeDirectPush,
  makeOrganization,
  makeRepository,
  makeReview,
  makeSnapshot,
  unknownOf,
} from "../fixtures/build.js";

const defaults = inactiveAccess.params.parse({});

/** acme: alice owner, bob and carol members (base permission read); bob writes acme/api, dana (outside) too. */
function snapshotWith(overrides: Partial<Snapshot> = {}): Snapshot {
  return makeSnapshot({
    repositories: [
      makeRepository({
        collaborators: {
          known: true,
          value: [
            { login: "alice", permission: "admin", outside: false },
            { login: "bob", permission: "write", outside: false },
            { login: "carol", permission: "read", outside: false },
            { login: "dana", permission: "write", outside: true },
          ],
        },
      }),
    ],
    changeRequests: [],
    directPushes: [],
    ...overrides,
  });
}

function judge(snapshot: Snapshot, params = defaults, people = peopleDirectory([], "github")) {
  return inactiveAccess.evaluate(snapshot.organization!, makeContext(params, { snapshot, people }));
}

function outcomes(results: Evaluation[]) {
  return results.map((result) => [result.subject.id, result.outcome]);
}

/** Bob opened acme/api#7 on 2026-10-20 and alice approved it on the 21st; dana did nothing. */
const recentChange = makeChangeRequest({
  number: 7,
  author: "bob",
  createdAt: "2026-10-20T09:00:00Z",
  mergedAt: "2026-10-21T10:00:00Z",
  mergedBy: "bob",
  commits: [
    {
      sha: "a".repeat(40),
      authorLogin: "bob",
      authorName: "Bob",
      committerLogin: "bob",
      authoredAt: "2026-10-20T08:00:00Z",
      committedAt: "2026-10-20T08:00:00Z",
    },
  ],
  pushes: [],
  reviews: [
    { reviewer: "alice", state: "approved", submittedAt: "2026-10-21T09:00:00Z", commitSha: "a".repeat(40) },
  ],
});

describe("cc6.inactive-access", () => {
  it("defaults to 90 days and rejects unknown keys", () => {
    expect(defaults).toEqual({ days: 90 });
    expect(() => inactiveAccess.params.parse({ max_days: 30 })).toThrow();
    expect(() => inactiveAccess.params.parse({ days: 0 })).toThrow();
  });

  it("passes accounts seen reviewing, authoring or merging within the days, fails one seen doing nothing", () => {
    const results = judge(snapshotWith({ changeRequests: [recentChange] }));
    expect(outcomes(results)).toEqual([
      ["acme:@alice", "pass"],
      ["acme:@bob", "pass"],
      ["acme:@dana", "fail"],
    ]);
    expect(results[0]?.reason).toBe(
      "@alice (admin) was active on 2026-10-21, within the last 90 days: @alice reviewed acme/api#7.",
    );
    expect(results[1]?.reason).toMatch(/@bob \(write\) was active on 2026-10-21.*merged acme\/api#7/);
    expect(results[2]?.subject).toEqual({ kind: "collaborator", id: "acme:@dana", user: "dana" });
    expect(results[2]?.reason).toBe(
      "@dana (write) was not seen active in the audit period: no use of the access in the last 90 days (since 2026-08-03).",
    );
    expect(results[2]?.evidence).toContainEqual({ label: "outside collaborator", value: "dana" });
    expect(results[2]?.evidence).toContainEqual({ label: "access", value: "acme/api: write" });
    // carol reads only: not a write grant, not judged
    expect(results.some((result) => result.subject.user === "carol")).toBe(false);
  });

  it("fails access last used before the window, naming the last use", () => {
    const old = makeDirectPush({ pushedBy: "dana", authorLogin: "dana", committerLogin: "dana", at: "2026-08-01T10:00:00Z", pushedAt: "2026-08-01T10:03:00Z" }); // prettier-ignore
    const results = judge(snapshotWith({ changeRequests: [recentChange], directPushes: [old] }));
    const dana = results.find((result) => result.subject.id === "acme:@dana");
    expect(dana?.outcome).toBe("fail");
    expect(dana?.reason).toMatch(/last seen on 2026-08-01 \(@dana pushed acme\/api@ddddddd\)/);
    expect(dana?.evidence).toContainEqual({
      label: "last activity",
      value: "@dana pushed acme/api@ddddddd",
      at: "2026-08-01T10:03:00.000Z",
    });
  });

  it("counts activity under any account of the same person", () => {
    const people = peopleDirectory(
      [{ id: "dana", github: ["dana", "dana-work"], gitlab: [], emails: [] }],
      "github",
    );
    const work = makeChangeRequest({ ...recentChange, number: 8, reviews: [makeReview({ reviewer: "dana-work", state: "commented", submittedAt: "2026-10-25T09:00:00Z", commitSha: null })] }); // prettier-ignore
    const dana = judge(snapshotWith({ changeRequests: [recentChange, work] }), defaults, people).find(
      (result) => result.subject.id === "acme:@dana",
    );
    expect(dana?.outcome).toBe("pass");
    expect(dana?.reason).toMatch(/@dana-work reviewed acme\/api#8/);
    expect(dana?.evidence).toContainEqual({ label: "person", value: "dana" });
  });

  it("is unknown, never fail, when the audit period does not cover the days", () => {
    const short = { since: "2026-10-01T00:00:00Z", until: "2026-11-01T00:00:00Z" };
    const results = judge(snapshotWith({ period: short, changeRequests: [recentChange] }));
    expect(outcomes(results)).toEqual([
      ["acme:@alice", "pass"],
      ["acme:@bob", "pass"],
      ["acme:@dana", "unknown"],
    ]);
    expect(results[2]?.reason).toBe(
      "@dana (write) was not seen active in the audit period, but the audit period read (2026-10-01 to 2026-11-01) " +
        "does not cover the last 90 days (2026-08-03 to 2026-11-01): an audit from 2026-08-03 would show it.",
    );
    // a 30-day policy is covered by the same period: then it fails
    expect(
      judge(snapshotWith({ period: short, changeRequests: [recentChange] }), { days: 30 })[2]?.outcome,
    ).toBe("fail");
  });

  it("is unknown when a change's reviews, pushes or commits were truncated: the rest may show the use", () => {
    const truncated = makeChangeRequest({ ...recentChange, number: 9, truncated: ["reviews"] });
    const dana = judge(snapshotWith({ changeRequests: [recentChange, truncated] }))[2];
    expect(dana?.outcome).toBe("unknown");
    expect(dana?.reason).toMatch(
      /only part of the commits, reviews or pushes of 1 change\(s\) \(acme\/api#9\)/,
    );
  });

  it("is unknown for a deploy key that can push: the host's last use is not in the snapshot", () => {
    const repository = makeRepository({
      deployKeys: {
        known: true,
        value: [
          { id: "41", title: "mirror", readOnly: true, createdAt: null, addedBy: null },
          {
            id: "42",
            title: "ci-deploy",
            readOnly: false,
            createdAt: "2026-06-01T00:00:00Z",
            addedBy: "bob",
          },
        ],
      },
    });
    const results = judge(snapshotWith({ repositories: [repository], changeRequests: [recentChange] }));
    const keys = results.filter((result) => result.subject.kind === "deploy-key");
    expect(outcomes(keys)).toEqual([["acme/api:key:42", "unknown"]]);
    expect(keys[0]?.reason).toMatch(/GitHub's deploy key `last_used`/);
  });

  it("is unknown, naming the permission, when members or collaborators cannot be read", () => {
    const noMembers = snapshotWith({
      organization: makeOrganization({ members: unknownOf("members:read") }),
    });
    expect(outcomes(judge(noMembers)).filter(([, outcome]) => outcome !== "unknown")).toEqual([]);
    const results = judge(noMembers);
    expect(results[0]?.reason).toMatch(/cannot read the organization's members: members:read/);

    const hidden = snapshotWith({
      repositories: [makeRepository({ collaborators: unknownOf("administration:read") })],
      changeRequests: [recentChange],
    });
    const first = judge(hidden)[0];
    expect(first?.outcome).toBe("unknown");
    expect(first?.reason).toMatch(/collaborators of acme\/api: administration:read/);
  });

  it("never fails an account when it was given the organization alone, without the repositories", () => {
    const results = judge(snapshotWith({ repositories: [], changeRequests: [recentChange] }));
    expect(results.filter((result) => result.outcome === "fail")).toEqual([]);
    expect(results.find((result) => result.subject.id === "acme:@alice")?.outcome).toBe("pass");
  });

  it("gives the audit's digest (latest record per account) the same results as the whole snapshot", () => {
    const old = makeDirectPush({ pushedBy: "dana", authorLogin: "dana", committerLogin: "dana", at: "2026-08-01T10:00:00Z", pushedAt: "2026-08-01T10:03:00Z" }); // prettier-ignore
    const earlier = makeChangeRequest({ ...recentChange, number: 3, createdAt: "2026-09-01T00:00:00Z", mergedAt: "2026-09-02T00:00:00Z" }); // prettier-ignore
    const oldest = makeChangeRequest({ number: 1, author: "bob", createdAt: "2026-05-10T00:00:00Z", mergedAt: "2026-05-11T00:00:00Z", mergedBy: "bob", commits: [], pushes: [], reviews: [] }); // prettier-ignore
    const snapshot = snapshotWith({ changeRequests: [oldest, earlier, recentChange], directPushes: [old] });
    const policy = loadPolicy([], CONTROLS);
    const digest = accessFacts();
    for (const repository of snapshot.repositories)
      digest.add(repository, snapshot.changeRequests, snapshot.directPushes);
    const streamed = evaluateOrganization(
      { ...snapshot, ...digest.snapshotPart() },
      policy,
      new Date("2026-11-01T00:00:00Z"),
    ).filter((result) => result.control === "cc6.inactive-access");
    const whole = evaluate(snapshot, policy, new Date("2026-11-01T00:00:00Z")).results.filter(
      (result) => result.control === "cc6.inactive-access",
    );
    expect(streamed).toEqual(whole);
    // #1 holds nobody's latest activity: not kept (#3 and #7 tie on alice's review, the first in text order wins)
    const kept = digest.snapshotPart();
    expect(kept.changeRequests.map((change) => change.number).sort()).toEqual([3, 7]);
    expect(kept.directPushes).toEqual([old]);
  });
});
