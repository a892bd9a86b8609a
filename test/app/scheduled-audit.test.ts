/**
 * The scheduled audit and merges still waiting for their merge commit's checks: it reaches back by
 * the wait, so a merge the previous audit held (and whose re-judgement in the app's process was lost
 * to a restart) is judged, its wait over.
 */
import nock from "nock";
import { afterEach, describe, expect, it } from "vitest";
import { createScheduledAudit } from "../../src/app/index.js";
import type { ChangeRequest } from "../../src/model/index.js";
import { MERGE_COMMIT_CHECKS_WAIT_MS } from "../../src/pipeline/change-check.js";
import type { CodeHost, FindingIssue } from "../../src/providers/types.js";
import { makeChangeRequest, makeOrganization, makeRepository } from "../fixtures/build.js";
import { loadApp } from "../fixtures/app/github-app.js";

const AT = new Date("2026-10-03T03:00:00Z");
const DAY = 24 * 60 * 60 * 1000;
const HEAD = "h".repeat(40);
const MERGE = "m".repeat(40);

/** Merged the evening before the previous daily audit; ci/test never completed on its merge commit. */
function heldMerge(): ChangeRequest {
  return makeChangeRequest({
    number: 12,
    mergedAt: new Date(AT.getTime() - DAY - 3 * 60 * 60 * 1000).toISOString(),
    checks: [
      {
        name: "ci/test",
        kind: "check-run",
        conclusion: "success",
        on: "head",
        sha: HEAD,
        url: null,
        completedAt: "2026-10-01T09:10:00Z",
      },
      {
        name: "ci/test",
        kind: "check-run",
        conclusion: "pending",
        on: "merge",
        sha: MERGE,
        url: null,
        completedAt: null,
      },
    ],
  });
}

/** A code host of one organization with one repository and one merged change, recording what is asked. */
function fakeHost(change: ChangeRequest) {
  const periods: { since: Date; until: Date }[] = [];
  const created: { title: string; body: string }[] = [];
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
    async *listMergedChangeRequests(
      _repository: string,
      _bases: unknown,
      period: { since: Date; until: Date },
    ) {
      periods.push(period);
      const mergedAt = Date.parse(change.mergedAt!);
      if (mergedAt >= period.since.getTime() && mergedAt <= period.until.getTime()) yield change;
    },
    async *listDirectPushes() {},
    readFile: async () => null,
    drainUnreadable: () => [],
    issues: () => ({
      listByLabel: async (): Promise<FindingIssue[]> =>
        created.map((issue, i) => ({ number: 7 + i, state: "open", labels: ["soc2"], url: "", ...issue })),
      create: async (issue: { title: string; body: string }) => {
        created.push(issue);
        return { number: 6 + created.length, state: "open", labels: ["soc2"], url: "", ...issue };
      },
      update: async () => {
        throw new Error("nothing to update");
      },
      comment: async () => {},
    }),
  };
  return { host: host as unknown as CodeHost, periods, created };
}

describe("the scheduled audit", () => {
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending, "mocks never used").toEqual([]);
  });

  it("reaches back by the merge-commit wait and judges a merge the previous audit held", async () => {
    const app = await loadApp();
    const fake = fakeHost(heldMerge());
    const audit = createScheduledAudit(app.probot, { now: () => AT, hostFor: () => fake.host });

    await audit.runAudit({ id: 2, account: "acme" }, "daily", AT);

    expect(fake.periods.map((p) => [p.since.toISOString(), p.until.toISOString()])).toEqual([
      [new Date(AT.getTime() - DAY - MERGE_COMMIT_CHECKS_WAIT_MS).toISOString(), AT.toISOString()],
    ]);
    const requiredChecks = fake.created.filter((issue) => issue.title.includes("cc8.required-checks"));
    // one issue per control and repository lists its failing merges (the policy's default grouping)
    expect(requiredChecks.map((issue) => issue.title)).toEqual([
      "[soc2] cc8.required-checks: acme/api — 1 merged change request fails",
    ]);
    expect(requiredChecks[0]?.body).toContain(
      "— Required checks never completed on the merge commit mmmmmmm within 6 hours of the merge: ci/test",
    );
  });

  it("holds a merge of the last hours, as the app does: no finding while its checks may still complete", async () => {
    const app = await loadApp();
    // Merged an hour ago; ci/test has reported nothing yet, on the head or the merge commit.
    const recent = {
      ...heldMerge(),
      mergedAt: new Date(AT.getTime() - 60 * 60 * 1000).toISOString(),
      checks: [],
    };
    const fake = fakeHost(recent);
    const audit = createScheduledAudit(app.probot, { now: () => AT, hostFor: () => fake.host });

    await audit.runAudit({ id: 2, account: "acme" }, "daily", AT);

    expect(fake.periods).toHaveLength(1);
    expect(fake.created.filter((issue) => issue.title.includes("cc8.required-checks"))).toEqual([]);
  });
});
