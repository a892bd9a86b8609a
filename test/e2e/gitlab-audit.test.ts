import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedOnGitLab } from "../../src/sim/gitlab/expected.js";
import { startSimulatedGitLab, type SimulatedGitLab } from "../../src/sim/gitlab/server.js";
import { runAudit } from "../../src/cli/audit.js";
import { evaluate } from "../../src/engine/index.js";
import { collectAudit } from "../../src/pipeline/audit.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { createGitLabHost } from "../../src/providers/gitlab/index.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";

/**
 * The sample organization served as a GitLab group by the simulated GitLab, audited through the
 * real GitLab host. What GitLab can represent must come back exactly; what it cannot is listed in
 * src/sim/gitlab/expected.ts (and README.md there) with what it becomes instead.
 */

// Nine repositories reach every special one of the sample (api … payments, web).
const sample = generateSampleOrganization({
  repositories: 9,
  pullRequestsPerRepository: 6,
  violationRate: 0.4,
  members: 10,
});
const GROUP = "acme-demo";
const period = {
  since: new Date(sample.snapshot.period!.since),
  until: new Date(sample.snapshot.period!.until),
};
// The group layer lives in the group's gitlab-profile project; it and the findings project are
// projects of the group, so the policy leaves them out of the audit.
const groupPolicy = `${sample.organizationPolicy}audit:\n  exclude: [gitlab-profile, compliance]\n`;

let sim: SimulatedGitLab;
let outDir: string;

beforeAll(async () => {
  sim = await startSimulatedGitLab({
    snapshot: sample.snapshot,
    groupPolicy,
    extraProjects: ["compliance"],
    // Small pages, so every list is read across several pages (x-next-page / Link).
    maxPerPage: 5,
  });
  outDir = await mkdtemp(join(tmpdir(), "soc2-gitlab-audit-"));
});

afterAll(async () => {
  await sim.close();
  await rm(outDir, { recursive: true, force: true });
});

function host() {
  return createGitLabHost({ baseUrl: sim.url, token: sim.token });
}

describe("audit of a GitLab group through the simulated GitLab", () => {
  it("finds exactly the planted violations GitLab can represent", async () => {
    const snapshot = await collectAudit({ host: host(), organization: GROUP, ...period });
    const report = evaluate(snapshot, policySetFor(snapshot), sample.at);

    const found = report.results
      .filter(
        (result) =>
          result.outcome === "fail" || result.outcome === "unknown" || result.outcome === "excepted",
      )
      .map((result) => ({ control: result.control, subject: result.subject.id, outcome: result.outcome }));
    const key = (f: { control: string; subject: string; outcome: string }) =>
      `${f.control} ${f.subject} ${f.outcome}`;
    expect(found.map(key).sort()).toEqual(expectedOnGitLab(GROUP, sample.expected).map(key).sort());

    // The population is complete: every merged change and every direct push came back.
    expect(snapshot.changeRequests.length).toBe(sample.snapshot.changeRequests.length);
    expect(snapshot.directPushes.map((push) => push.sha).sort()).toEqual(
      sample.snapshot.directPushes.map((push) => push.sha).sort(),
    );
    // The group layer was read from gitlab-profile, and what could not be read is named with the role it needs.
    expect(snapshot.policyFiles.map((file) => file.path)).toEqual([
      `${GROUP}/gitlab-profile:.gitlab/soc2.yml`,
    ]);
    expect(snapshot.unreadable.map((fact) => [fact.subject, fact.what, fact.permission])).toEqual([
      [`${GROUP}/mobile`, "protected branches", "Maintainer role"],
      ...sample.snapshot.changeRequests
        .filter((cr) => cr.repository === `${GROUP}/mobile`)
        .map((cr) => [`${GROUP}/mobile!${cr.number}`, "merge request approval state", "Reporter role"]),
    ]);
  });

  it("opens one finding issue per failure, and none again on a second run", async () => {
    const io = {
      out: "",
      stdout(text: string) {
        this.out += text;
      },
      stderr() {},
    };
    const run = () =>
      runAudit(
        {
          host: host(),
          organization: GROUP,
          ...period,
          policyFiles: [],
          outDir,
          findings: true,
          now: () => sample.at,
        },
        io,
      );

    expect(await run()).toBe(1);
    const compliance = sim.world.group.projects.find((project) => project.path === `${GROUP}/compliance`)!;
    const failing = expectedOnGitLab(GROUP, sample.expected).filter((finding) => finding.outcome === "fail");
    // One issue per failing subject, except merge requests: one per control and project lists them.
    const failures = [
      ...new Set(failing.map((f) => `${f.control} ${/^(.+)[#!]\d+$/.exec(f.subject)?.[1] ?? f.subject}`)),
    ];
    expect(failures.length).toBeLessThan(failing.length);
    expect(compliance.issues).toHaveLength(failures.length);
    expect(
      compliance.issues.every((issue) => issue.state === "opened" && issue.labels.includes("soc2")),
    ).toBe(true);
    expect(io.out).toContain(`findings in ${GROUP}/compliance: ${failures.length} opened, 0 updated`);

    io.out = "";
    expect(await run()).toBe(1);
    expect(compliance.issues).toHaveLength(failures.length);
    expect(io.out).toContain(`findings in ${GROUP}/compliance: 0 opened, 0 updated, 0 reopened, 0 closed`);
  });

  it("answers like GitLab to a wrong token and an unknown project", async () => {
    const wrong = await fetch(`${sim.url}/api/v4/projects/${encodeURIComponent(`${GROUP}/api`)}`, {
      headers: { "private-token": "glpat-wrong" },
    });
    expect([wrong.status, await wrong.json()]).toEqual([401, { message: "401 Unauthorized" }]);
    await expect(
      host().collectRepository(`${GROUP}/nope`, policySetFor(sample.snapshot).organization),
    ).rejects.toMatchObject({
      status: 404,
      message: expect.stringContaining("404 Project Not Found"),
    });
  });
});

describe("audit of a GitLab Free group through the simulated GitLab", () => {
  it("collects what Free offers and leaves the Premium-only facts unknown, passing nothing that needs them", async () => {
    const free = await startSimulatedGitLab({
      snapshot: sample.snapshot,
      groupPolicy,
      extraProjects: ["compliance"],
      maxPerPage: 5,
      edition: "free",
    });
    try {
      const snapshot = await collectAudit({
        host: createGitLabHost({ baseUrl: free.url, token: free.token }),
        organization: GROUP,
        ...period,
      });
      // No merge request and no project was dropped: the population is whole.
      expect(snapshot.changeRequests.length).toBe(sample.snapshot.changeRequests.length);
      expect(snapshot.repositories.map((repository) => repository.collectionError)).toEqual(
        snapshot.repositories.map(() => null),
      );
      // The approvals Free shows are there; whether a merge bypassed the approval rules is not.
      expect(snapshot.changeRequests.some((cr) => cr.reviews.length > 0)).toBe(true);
      expect(snapshot.changeRequests.every((cr) => !cr.bypassedProtection.known)).toBe(true);
      const premium = snapshot.unreadable.filter((fact) => fact.permission === "GitLab Premium");
      expect(new Set(premium.map((fact) => fact.what))).toEqual(
        new Set(["merge request approval settings", "merge request approval state"]),
      );
      expect(premium.every((fact) => fact.reason.includes("not available on this GitLab edition"))).toBe(
        true,
      );
      // Once the instance said it lacks approval_state, it is not asked again for every merge request
      // (at most once per repository collected in parallel).
      expect(free.stats.byRoute["GET projects/:id/merge_requests/:n/approval_state"]).toBeLessThanOrEqual(4);

      const report = evaluate(snapshot, policySetFor(snapshot), sample.at);
      // Whether the approvals a branch requires were enforced is a Premium fact: never a pass.
      const needPremium = report.results.filter(
        (result) => result.control === "cc8.no-bypass" || result.control === "cc8.branch-protection",
      );
      expect(needPremium.length).toBeGreaterThan(0);
      expect(needPremium.filter((result) => result.outcome === "pass")).toEqual([]);
      expect(
        needPremium.filter(
          (result) => result.outcome === "unknown" && result.subject.kind === "change-request",
        ),
      ).toHaveLength(
        // Every merged change in a production branch (not-applicable ones aside).
        needPremium.filter(
          (result) => result.subject.kind === "change-request" && result.outcome !== "not-applicable",
        ).length,
      );
    } finally {
      await free.close();
    }
  });
});

describe("the group policy file of a GitLab audit", () => {
  async function auditWith(fault: { status: number; body: unknown }) {
    const faulty = await startSimulatedGitLab({
      snapshot: sample.snapshot,
      groupPolicy,
      extraProjects: ["compliance"],
      fault: ({ path }) =>
        path ===
        `/projects/${encodeURIComponent(`${GROUP}/gitlab-profile`)}/repository/files/.gitlab%2Fsoc2.yml/raw`
          ? fault
          : undefined,
    });
    try {
      return await collectAudit({
        // Retries after a 429 do not sleep in the test.
        host: createGitLabHost({ baseUrl: faulty.url, token: faulty.token, sleep: async () => {} }),
        organization: GROUP,
        ...period,
      });
    } finally {
      await faulty.close();
    }
  }

  it.each([
    ["a 5xx", { status: 502, body: { message: "502 Bad Gateway" } }, /answered 502/],
    ["a rate limit", { status: 429, body: { message: "Retry later" } }, /answered 429/],
  ])("stops the audit on %s instead of falling back to the default policy", async (_case, fault, reason) => {
    await expect(auditWith(fault)).rejects.toThrow(reason);
  });

  it.each([
    ["symlink", "a symbolic link"],
    ["submodule", "a submodule"],
  ] as const)("stops the audit when the group policy path is a %s, naming it", async (as, what) => {
    const odd = await startSimulatedGitLab({ snapshot: sample.snapshot, groupPolicy, groupPolicyAs: as });
    try {
      await expect(
        collectAudit({
          host: createGitLabHost({ baseUrl: odd.url, token: odd.token }),
          organization: GROUP,
          ...period,
        }),
      ).rejects.toThrow(`${GROUP}/gitlab-profile:.gitlab/soc2.yml is ${what}, not a file`);
    } finally {
      await odd.close();
    }
  });

  it("reads a missing policy file (404) as no organization layer", async () => {
    const snapshot = await auditWith({ status: 404, body: { message: "404 File Not Found" } });
    expect(snapshot.policyFiles.filter((file) => file.layer === "organization")).toEqual([]);
  });
});

describe("complete evidence from the simulated GitLab", () => {
  it("reads an MR's commits, diff versions and notes past GitLab's 100 per page", async () => {
    const snapshot = structuredClone(sample.snapshot);
    const change = snapshot.changeRequests.find((cr) => cr.state === "merged")!;
    const base = Date.parse(change.createdAt);
    const at = (i: number) => new Date(base + i * 1000).toISOString();
    const sha = (i: number) => i.toString(16).padStart(40, "c");
    change.commits = Array.from({ length: 150 }, (_, i) => ({
      ...change.commits[0]!,
      sha: sha(i),
      authoredAt: at(i),
      committedAt: at(i),
    }));
    change.pushes = change.commits.map((commit, i) => ({
      at: at(i),
      actor: change.author,
      headSha: commit.sha,
      forced: false,
    }));
    const big = await startSimulatedGitLab({ snapshot });
    try {
      const host = createGitLabHost({ baseUrl: big.url, token: big.token });
      const collected = await host.collectChangeRequest(change.repository, change.number);
      expect(collected.commits.map((commit) => commit.sha).sort()).toEqual(
        change.commits.map((c) => c.sha).sort(),
      );
      // Every diff version is a push, each with the pusher from its "added 1 commit" note.
      expect(collected.pushes).toHaveLength(150);
      expect(collected.pushes.every((push) => push.actor === change.author)).toBe(true);
      expect(collected.commitsTruncated).toBe(false);
      expect(collected.truncated).toEqual([]);
      expect(big.stats.byRoute["GET projects/:id/merge_requests/:n/commits"]).toBe(2);
      expect(big.stats.byRoute["GET projects/:id/merge_requests/:n/versions"]).toBe(2);
      expect(big.stats.byRoute["GET projects/:id/merge_requests/:n/notes"]).toBeGreaterThanOrEqual(2);
    } finally {
      await big.close();
    }
  });
});
