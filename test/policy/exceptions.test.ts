import { describe, expect, it } from "vitest";
import type { Subject } from "../../src/controls/types.js";
import { findException, parsePolicyLayer, resolvePolicy } from "../../src/policy/index.js";
import type { Policy } from "../../src/policy/index.js";
import { FAKE_CONTROLS, FAKE_DEFAULT, problemsOf } from "./fake-controls.js";

function policyWith(exceptions: string): Policy {
  const layers = [
    parsePolicyLayer(FAKE_DEFAULT, "policies/soc2.yml", FAKE_CONTROLS),
    parsePolicyLayer(`version: 1\nexceptions:\n${exceptions}`, "org.yml", FAKE_CONTROLS),
  ];
  return resolvePolicy(layers, FAKE_CONTROLS);
}

const directPush: Subject = {
  kind: "direct-push",
  id: "acme/api@1a2b3c4d5e6f",
  repository: "acme/api",
  user: "bob",
  commit: "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
};

const pullRequest: Subject = {
  kind: "change-request",
  id: "acme/api#42",
  repository: "acme/api",
  number: 42,
  user: "bob",
};

const HOTFIX = `  - control: cc8.no-direct-push
    subject: { repository: acme/api, commit: "1A2B3C4D" }
    reason: "Emergency fix for incident INC-42, reviewed after the fact"
    approved_by: alice
    expires: 2026-12-31
`;

describe("findException", () => {
  const policy = policyWith(HOTFIX);

  it("applies an unexpired exception whose control and subject match", () => {
    expect(
      findException(
        policy,
        { control: "cc8.no-direct-push", subject: directPush },
        new Date("2026-06-01T12:00:00Z"),
      ),
    ).toEqual({
      control: "cc8.no-direct-push",
      subject: { repository: "acme/api", commit: "1a2b3c4d" },
      reason: "Emergency fix for incident INC-42, reviewed after the fact",
      approvedBy: "alice",
      expires: "2026-12-31",
      source: "org.yml:3",
    });
  });

  it("applies through the whole last day, in UTC, and never after", () => {
    const find = (at: string) =>
      findException(policy, { control: "cc8.no-direct-push", subject: directPush }, new Date(at))?.source;
    expect(find("2026-12-31T00:00:00Z")).toBe("org.yml:3");
    expect(find("2026-12-31T23:59:59.999Z")).toBe("org.yml:3");
    // Still the 31st in New York, but the 1st in UTC: the exception has expired.
    expect(find("2026-12-31T20:00:00-05:00")).toBeUndefined();
    expect(find("2027-01-01T00:00:00Z")).toBeUndefined();
  });

  it("does not apply to another control, repository or commit", () => {
    const at = new Date("2026-06-01T00:00:00Z");
    expect(
      findException(policy, { control: "cc8.independent-approval", subject: directPush }, at),
    ).toBeUndefined();
    expect(
      findException(
        policy,
        { control: "cc8.no-direct-push", subject: { ...directPush, repository: "acme/web" } },
        at,
      ),
    ).toBeUndefined();
    expect(
      findException(
        policy,
        { control: "cc8.no-direct-push", subject: { ...directPush, commit: "ffff1a2b3c4d" } },
        at,
      ),
    ).toBeUndefined();
    // A subject without the key the exception names is not covered by it.
    expect(
      findException(
        policy,
        { control: "cc8.no-direct-push", subject: { ...directPush, commit: undefined } },
        at,
      ),
    ).toBeUndefined();
  });

  it("matches change request numbers and users exactly", () => {
    const byNumber = policyWith(`  - control: cc8.independent-approval
    subject: { repository: acme/api, change_request: 42 }
    reason: "Sole maintainer"
    approved_by: alice
    expires: 2026-12-31
  - control: cc8.independent-approval
    subject: { user: carol }
    reason: "Release manager for the Q3 freeze"
    approved_by: alice
    expires: 2026-12-31
`);
    const at = new Date("2026-06-01T00:00:00Z");
    const find = (subject: Subject) =>
      findException(byNumber, { control: "cc8.independent-approval", subject }, at)?.source;
    expect(find(pullRequest)).toBe("org.yml:3");
    expect(find({ ...pullRequest, id: "acme/api#43", number: 43 })).toBeUndefined();
    expect(find({ ...pullRequest, repository: "acme/web", id: "acme/web#42" })).toBeUndefined();
    expect(find({ ...pullRequest, number: 7, id: "acme/api#7", user: "carol" })).toBe("org.yml:8");
    expect(find({ ...pullRequest, number: 7, id: "acme/api#7", user: "caroline" })).toBeUndefined();
  });

  it("skips an expired exception and finds a later one that still applies", () => {
    const twoExceptions = policyWith(`  - control: cc8.no-direct-push
    subject: { repository: acme/api }
    reason: "Migration, first window"
    approved_by: alice
    expires: 2026-03-31
  - control: cc8.no-direct-push
    subject: { repository: acme/api }
    reason: "Migration, second window"
    approved_by: alice
    expires: 2026-09-30
`);
    const find = (at: string) =>
      findException(twoExceptions, { control: "cc8.no-direct-push", subject: directPush }, new Date(at))
        ?.reason;
    expect(find("2026-03-01T00:00:00Z")).toBe("Migration, first window");
    expect(find("2026-04-01T00:00:00Z")).toBe("Migration, second window");
    expect(find("2026-10-01T00:00:00Z")).toBeUndefined();
  });
});

describe("findException as of the event", () => {
  const policy = policyWith(HOTFIX);
  const find = (occurredAt: string | undefined, at = "2027-03-01T00:00:00Z") =>
    findException(
      policy,
      { control: "cc8.no-direct-push", subject: directPush },
      new Date(at),
      occurredAt === undefined ? undefined : new Date(occurredAt),
    )?.source;

  it("applies to an event that happened while it was in force, even when evaluated after it expired", () => {
    expect(find("2026-12-31T23:59:59.999Z")).toBe("org.yml:3");
    expect(find("2026-06-01T12:00:00Z")).toBe("org.yml:3");
  });

  it("does not apply to an event after its last day, whenever evaluated", () => {
    expect(find("2027-01-01T00:00:00Z")).toBeUndefined();
    expect(find("2027-01-01T00:00:00Z", "2026-12-01T00:00:00Z")).toBeUndefined();
  });

  it("judges standing facts (no event time) at evaluation time", () => {
    expect(find(undefined, "2026-12-31T12:00:00Z")).toBe("org.yml:3");
    expect(find(undefined)).toBeUndefined();
  });
});

describe("exception subjects that name something only within a repository", () => {
  it("refuses a change_request or commit without a repository, pointing at it", () => {
    const text = `version: 1
exceptions:
  - control: cc8.independent-approval
    subject: { change_request: 11 }
    reason: "Sole maintainer"
    approved_by: alice
    expires: 2026-12-31
  - control: cc8.no-direct-push
    subject: { user: bob, commit: "1a2b3c4d" }
    reason: "Incident fix"
    approved_by: alice
    expires: 2026-12-31
`;
    expect(
      problemsOf(() => parsePolicyLayer(text, "org.yml", FAKE_CONTROLS)).map(
        (p) => `${p.line}:${p.column} ${p.message}`,
      ),
    ).toEqual([
      "4:32 `exceptions[0].subject.change_request` needs `repository`: every repository has its own change request numbers, so name the one it is in (e.g. `{ repository: acme/api, change_request: 11 }`)",
      "9:35 `exceptions[1].subject.commit` needs `repository`: the same commit can be in several repositories (forks, mirrors), so name the one it is in",
    ]);
  });

  it("never matches such an exception even if one is built without parsing", () => {
    const policy = policyWith(HOTFIX);
    const unscoped: Policy = {
      ...policy,
      exceptions: [
        { ...policy.exceptions[0]!, control: "cc8.independent-approval", subject: { changeRequest: 42 } },
      ],
    };
    expect(
      findException(
        unscoped,
        { control: "cc8.independent-approval", subject: pullRequest },
        new Date("2026-06-01T00:00:00Z"),
      ),
    ).toBeUndefined();
  });
});
