/**
 * The app opens the current cycle's access reviews after a scheduled audit, once: the policy turns
 * the review on, the audit runs, the reviews are opened; the next audit of the cycle opens none.
 */
import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { createScheduledAudit } from "../../src/app/index.js";
import { parseReviewFile } from "../../src/access-review/index.js";
import type { CodeHost, FindingIssue } from "../../src/providers/types.js";
import { makeOrganization, makeRepository } from "../fixtures/build.js";
import { loadApp } from "../fixtures/app/github-app.js";
import { MemoryReviewHost } from "./fake-host.js";

const AT = new Date("2026-11-30T03:00:00Z");
const POLICY = `version: 1
findings: { repository: compliance }
controls:
  cc6.access-review-completed: { enabled: true, first_cycle: 2026-Q4 }
  cc6.revocations-applied: { enabled: true }
`;

/** One organization, one repository, no changes; its policy turns the review on; findings kept in memory. */
function reviewingHost(reviews: MemoryReviewHost, policy: string | null): CodeHost {
  const issues: FindingIssue[] = [];
  const tracker = {
    listByLabel: async () => issues,
    create: async (issue: { title: string; body: string; labels: string[] }) => {
      const created = { number: issues.length + 1, state: "open" as const, url: "", ...issue };
      issues.push(created);
      return created;
    },
    update: async () => issues[0]!,
    comment: async () => {},
  };
  const host = {
    host: "github",
    baseUrl: "https://api.github.com",
    policyLocation: {
      organizationRepository: (login: string) => `${login}/.github`,
      file: ".github/soc2.yml",
    },
    describeCredentials: async () => ({ actor: "installation:2", permissions: {} }),
    collectOrganization: async () => makeOrganization(),
    async *listRepositories() {
      yield "acme/api";
    },
    collectRepository: async () => makeRepository(),
    async *listMergedChangeRequests() {},
    async *listDirectPushes() {},
    readFile: async (repository: string) => (repository === "acme/.github" ? policy : null),
    drainUnreadable: () => [],
    issues: () => tracker,
    accessReviews: (repository: string) => {
      if (repository !== "acme/compliance") throw new Error(`reviews asked of ${repository}`);
      return reviews;
    },
  };
  return host as unknown as CodeHost;
}

describe("the scheduled audit and the access review", () => {
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending, "mocks never used").toEqual([]);
  });

  it("opens the current cycle's review once when the policy turns the review on", async () => {
    const app = await loadApp();
    const reviews = new MemoryReviewHost();
    const host = reviewingHost(reviews, POLICY);
    const audit = createScheduledAudit(app.probot, { now: () => AT, hostFor: () => host });

    await audit.runAudit({ id: 2, account: "acme" }, "weekly", AT);
    expect(reviews.requests.map((request) => request.branch)).toEqual([
      "soc2-bot/access-review/2026-Q4/organization-admins",
    ]);
    const review = parseReviewFile("f.yml", reviews.requests[0]!.text).review!;
    expect(review).toMatchObject({ cycle: "2026-Q4", organization: "acme", owner: "organization-admins" });
    expect(review.decisions.map((decision) => decision.id)).toContain("collaborator:bob:write");

    await audit.runAudit({ id: 2, account: "acme" }, "weekly", new Date(AT.getTime() + 7 * 24 * 3600 * 1000));
    expect(reviews.requests).toHaveLength(1);
  });

  it("opens none when the policy leaves the review off", async () => {
    const app = await loadApp();
    const reviews = new MemoryReviewHost();
    const audit = createScheduledAudit(app.probot, {
      now: () => AT,
      hostFor: () => reviewingHost(reviews, null),
    });
    await audit.runAudit({ id: 2, account: "acme" }, "weekly", AT);
    expect(reviews.requests).toEqual([]);
  });
});
