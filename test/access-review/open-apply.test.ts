import { describe, expect, it } from "vitest";
import {
  accessReviewParams,
  applyRemovals,
  openDueReviews,
  parseReviewFile,
  plannedRemovals,
} from "../../src/access-review/index.js";
import type { Snapshot } from "../../src/model/index.js";
import {
  makeOrganization,
  makeRepository,
  makeSnapshot,
  peopleDirectory,
  unknownOf,
} from "../fixtures/build.js";
import { MemoryReviewHost } from "./fake-host.js";
import { HEAD, makeRecord, revoke } from "./records.js";

const AT = new Date("2026-11-30T10:00:00Z");
const PEOPLE = peopleDirectory({ bob: { github: ["bob", "bob-ci"] } });
const params = accessReviewParams.parse({ owners: [{ owner: "platform", repositories: ["infra-*"] }] });

const snapshot: Snapshot = makeSnapshot({
  repositories: [
    makeRepository({
      deployKeys: {
        known: true,
        value: [
          {
            id: "42",
            title: "CI deploy",
            readOnly: false,
            createdAt: "2026-03-01T00:00:00Z",
            addedBy: "bob",
          },
        ],
      },
    }),
    makeRepository({
      fullName: "acme/infra-dns",
      url: "https://github.com/acme/infra-dns",
      collaborators: { known: true, value: [{ login: "dana", permission: "write", outside: true }] },
      teams: { known: true, value: [] },
    }),
  ],
});

function open(host: MemoryReviewHost | null, overrides: Partial<Parameters<typeof openDueReviews>[0]> = {}) {
  return openDueReviews({
    snapshot,
    organization: "acme",
    params,
    graceDays: 7,
    people: PEOPLE,
    host,
    at: AT,
    ...overrides,
  });
}

describe("opening the cycle's reviews", () => {
  it("opens one pull request per owner, each listing the grants it owns, named as the contract says", async () => {
    const host = new MemoryReviewHost();
    const outcome = await open(host);
    expect(outcome.cycle.id).toBe("2026-Q4");
    expect(outcome.reviews.map((r) => [r.owner, r.status, r.grants, r.number])).toEqual([
      ["organization-admins", "opened", 7, 1],
      ["platform", "opened", 1, 2],
    ]);
    expect(host.requests.map(({ branch, path, title, labels }) => ({ branch, path, title, labels }))).toEqual(
      [
        {
          branch: "soc2-bot/access-review/2026-Q4/organization-admins",
          path: "access-reviews/2026-Q4/organization-admins.yml",
          title: "Access review 2026-Q4: organization-admins (acme)",
          labels: ["soc2-access-review"],
        },
        {
          branch: "soc2-bot/access-review/2026-Q4/platform",
          path: "access-reviews/2026-Q4/platform.yml",
          title: "Access review 2026-Q4: platform (acme)",
          labels: ["soc2-access-review"],
        },
      ],
    );
    const admins = parseReviewFile("admins.yml", host.requests[0]!.text).review!;
    expect(admins.decisions.map((d) => [d.id, d.person, d.repositories.join(" "), d.twoFactor])).toEqual([
      ["collaborator:alice:admin", "unknown person", "acme/api", "yes"],
      ["collaborator:bob:write", "bob", "acme/api", "yes"],
      ["deploy-key:acme/api#42 CI deploy:write", "bob", "acme/api", "n/a"],
      ["member:bob:member (base read)", "bob", "", "yes"],
      ["member:carol:member (base read)", "unknown person", "", "yes"],
      ["owner:alice:owner", "unknown person", "", "yes"],
      ["team:engineering:write", "n/a", "acme/api", "n/a"],
    ]);
    // last activity from what the audit read: bob reviewed acme/api#12; carol did nothing in the period
    expect(admins.decisions.find((d) => d.id === "collaborator:bob:write")?.lastActivity).toBe(
      "2026-10-02 @bob reviewed acme/api#12",
    );
    expect(admins.decisions.find((d) => d.id === "member:carol:member (base read)")?.lastActivity).toBe(
      "none since 2026-08-01",
    );
    const platform = parseReviewFile("platform.yml", host.requests[1]!.text).review!;
    expect(platform.decisions.map((d) => [d.id, d.kind, d.twoFactor])).toEqual([
      ["outside-collaborator:dana:write", "outside-collaborator", "unknown"],
    ]);
  });

  it("opens nothing twice: a second run, or a retry whose list failed, finds the reviews", async () => {
    const host = new MemoryReviewHost();
    await open(host);
    const again = await open(host);
    expect(again.reviews.map((r) => [r.owner, r.status, r.number])).toEqual([
      ["organization-admins", "exists", 1],
      ["platform", "exists", 2],
    ]);
    host.listAnswer = unknownOf("pull_requests:read");
    const retry = await open(host);
    expect(retry.listError).toBe("pull_requests:read (403 Resource not accessible by integration)");
    expect(retry.reviews.map((r) => r.status)).toEqual(["exists", "exists"]);
    expect(host.requests).toHaveLength(2);
    expect(host.records).toHaveLength(2);
  });

  it("refuses an owner whose grants cannot all be read: a partial list signed off would look complete", async () => {
    const host = new MemoryReviewHost();
    const partial = makeSnapshot({
      ...snapshot,
      repositories: [
        snapshot.repositories[0]!,
        { ...snapshot.repositories[1]!, teams: unknownOf("members:read") },
      ],
    });
    const outcome = await open(host, { snapshot: partial });
    expect(outcome.reviews.map((r) => [r.owner, r.status])).toEqual([
      ["organization-admins", "opened"],
      ["platform", "refused"],
    ]);
    expect(outcome.reviews[1]?.why).toBe(
      "cannot read the teams of acme/infra-dns: members:read (403 Resource not accessible by integration)",
    );
    const orgUnreadable = makeSnapshot({
      organization: makeOrganization({ members: unknownOf("members:read") }),
    });
    const refused = await open(new MemoryReviewHost(), { snapshot: orgUnreadable });
    expect(refused.reviews.map((r) => [r.owner, r.status])).toEqual([["organization-admins", "refused"]]);
  });

  it("says since when a grant is held where the ledger knows it", async () => {
    const host = new MemoryReviewHost();
    await open(host, { since: (grant) => (grant.account === "bob" ? "2025-03-04" : null) });
    const admins = parseReviewFile("admins.yml", host.requests[0]!.text).review!;
    expect(admins.decisions.map((d) => [d.id, d.since])).toEqual([
      ["collaborator:alice:admin", "unknown"],
      ["collaborator:bob:write", "2025-03-04"],
      ["deploy-key:acme/api#42 CI deploy:write", "2026-03-01T00:00:00Z"],
      ["member:bob:member (base read)", "2025-03-04"],
      ["member:carol:member (base read)", "unknown"],
      ["owner:alice:owner", "unknown"],
      ["team:engineering:write", "unknown"],
    ]);
  });

  it("refuses a review file too large to be read back, saying how to split it", async () => {
    const many = makeSnapshot({
      repositories: [
        makeRepository({
          collaborators: {
            known: true,
            value: Array.from({ length: 4000 }, (_, i) => ({
              login: `user-${i}`,
              permission: "write" as const,
              outside: true,
            })),
          },
        }),
      ],
    });
    const host = new MemoryReviewHost();
    const outcome = await open(host, { snapshot: many });
    expect(outcome.reviews[0]).toMatchObject({ owner: "organization-admins", status: "refused" });
    expect(outcome.reviews[0]?.why).toMatch(
      /^the review file would be \d+ bytes, more than the 1 MiB a review file may be: give some repositories to other owners/,
    );
    expect(host.requests).toEqual([]);
  });

  it("writes nothing on a dry run, and opens nothing before first_cycle", async () => {
    const host = new MemoryReviewHost();
    const dry = await open(host, { dryRun: true });
    expect(dry.reviews.map((r) => r.status)).toEqual(["dry-run", "dry-run"]);
    expect(dry.reviews[0]?.text).toContain('review: "2026-Q4"');
    expect(host.records).toHaveLength(0);
    const early = await open(host, { params: { ...params, first_cycle: "2027-Q1" } });
    expect(early).toMatchObject({ notDue: "2026-Q4 is before first_cycle 2027-Q1", reviews: [] });
    expect(host.records).toHaveLength(0);
  });
});

describe("applying a review's revocations", () => {
  const host = new MemoryReviewHost();
  const opened = async () => {
    const local = new MemoryReviewHost();
    await open(local);
    return local.records[0]!;
  };

  it("removes what a signed-off review revoked and is still there, and nothing of an unapproved one", async () => {
    const record = await opened();
    let text = revoke(record.openedText!, "collaborator:bob:write", "moved teams");
    text = revoke(text, "member:carol:member (base read)", "left");
    text = revoke(text, "deploy-key:acme/api#42 CI deploy:write", "CI moved to OIDC");
    text = revoke(text, "owner:alice:owner", "one owner too many");
    const merged = makeRecord({
      ...record,
      text,
      state: "merged",
      mergedAt: "2026-12-05T10:00:00Z",
      mergedBy: "dave",
      headSha: HEAD,
      approvals: [{ login: "dave", at: "2026-12-05T09:00:00Z", commit: HEAD }],
    });
    const planned = plannedRemovals([merged], snapshot, params, PEOPLE);
    expect(planned.map((p) => [p.grant.id, p.removals, p.skipped ?? null])).toEqual([
      ["collaborator:bob:write", [{ kind: "collaborator", account: "bob", repository: "acme/api" }], null],
      [
        "deploy-key:acme/api#42 CI deploy:write",
        [{ kind: "deploy-key", account: "42", repository: "acme/api" }],
        null,
      ],
      ["member:carol:member (base read)", [{ kind: "member", account: "carol", repository: null }], null],
      [
        "owner:alice:owner",
        [],
        "an organization owner is not removed by the bot: an owner removes another owner",
      ],
    ]);

    const dry = await applyRemovals(planned, host, true);
    expect(dry.map((o) => o.status)).toEqual(["dry-run", "dry-run", "dry-run", "skipped"]);
    expect(host.removed).toEqual([]);

    host.failRemoval = (removal) => removal.kind === "member";
    const applied = await applyRemovals(planned, host, false);
    expect(applied.map((o) => [o.grant, o.status])).toEqual([
      ["collaborator:bob:write", "removed"],
      ["deploy-key:acme/api#42 CI deploy:write", "removed"],
      ["member:carol:member (base read)", "failed"],
      ["owner:alice:owner", "skipped"],
    ]);
    expect(applied[2]?.error).toBe("403 Must have admin rights to Repository.");
    expect(host.removed).toEqual([
      { kind: "collaborator", account: "bob", repository: "acme/api" },
      { kind: "deploy-key", account: "42", repository: "acme/api" },
    ]);

    const unapproved = { ...merged, approvals: [] };
    expect(plannedRemovals([unapproved], snapshot, params, PEOPLE)).toEqual([]);
    const gone = makeSnapshot({
      ...snapshot,
      repositories: [makeRepository({ collaborators: { known: true, value: [] } })],
    });
    expect(plannedRemovals([merged], gone, params, PEOPLE).map((p) => p.grant.id)).toEqual([
      "member:carol:member (base read)",
      "owner:alice:owner",
    ]);
  });
});
