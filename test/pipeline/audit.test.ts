import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/engine/index.js";
import { ProviderError } from "../../src/errors.js";
import type { Snapshot } from "../../src/model/index.js";
import { collectAudit } from "../../src/pipeline/audit.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import type { CodeHost } from "../../src/providers/types.js";
import { isProductionBranch } from "../../src/policy/index.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";

/** A code host answering from a snapshot, with chosen failures: the audit's own logic under test. */
function hostFrom(
  snapshot: Snapshot,
  failures: { repository?: string; organization?: boolean; policy?: string } = {},
): CodeHost {
  const fail = (what: string) =>
    new ProviderError(`403 Resource not accessible by integration (${what})`, {
      host: "github",
      status: 403,
      permission: "administration:read",
    });
  return {
    host: "github",
    baseUrl: "https://api.github.com",
    policyLocation: { organizationRepository: (login) => `${login}/.github`, file: ".github/soc2.yml" },
    describeCredentials: async () => ({ actor: "test", permissions: {} }),
    collectOrganization: async () => {
      if (failures.organization) throw fail("organization");
      return snapshot.organization!;
    },
    async *listRepositories() {
      for (const repository of snapshot.repositories) yield repository.fullName;
    },
    collectRepository: async (fullName) => {
      if (fullName === failures.repository) throw fail(fullName);
      return snapshot.repositories.find((r) => r.fullName === fullName)!;
    },
    collectChangeRequest: async () => {
      throw new Error("not used by an audit");
    },
    collectChangeContext: async () => {
      throw new Error("not used by an audit");
    },
    changeRequestsForCommit: async () => [],
    async *listMergedChangeRequests(repository, isSelectedBase, period) {
      for (const cr of snapshot.changeRequests) {
        const merged = cr.mergedAt ? new Date(cr.mergedAt) : null;
        if (
          cr.repository === repository &&
          isSelectedBase(cr.baseBranch) &&
          merged &&
          merged >= period.since &&
          merged <= period.until
        ) {
          yield cr;
        }
      }
    },
    async *listDirectPushes(repository, branch) {
      for (const push of snapshot.directPushes)
        if (push.repository === repository && push.branch === branch) yield push;
    },
    readFile: async (repository, path) =>
      repository.endsWith("/.github") && path === ".github/soc2.yml"
        ? (failures.policy ?? snapshot.policyFiles[0]?.content ?? null)
        : null,
    drainUnreadable: () => [],
    publishChangeCheck: async () => {},
    issues: () => {
      throw new Error("not used by collection");
    },
  };
}

const sample = generateSampleOrganization({ repositories: 6, pullRequestsPerRepository: 8 });
const period = {
  since: new Date(sample.snapshot.period!.since),
  until: new Date(sample.snapshot.period!.until),
};
const audit = (host: CodeHost) =>
  collectAudit({ host, organization: "acme-demo", ...period, now: () => sample.at });

describe("collectAudit", () => {
  it("collects the whole population: every repository, merged change and direct push of the period", async () => {
    const snapshot = await audit(hostFrom(sample.snapshot));
    expect(snapshot.repositories.map((r) => r.fullName)).toEqual(
      sample.snapshot.repositories.map((r) => r.fullName).sort(),
    );
    expect(snapshot.changeRequests).toHaveLength(sample.snapshot.changeRequests.length);
    expect(snapshot.directPushes).toHaveLength(sample.snapshot.directPushes.length);
    expect(snapshot.policyFiles.map((f) => f.path)).toEqual(["acme-demo/.github:.github/soc2.yml"]);
    const report = evaluate(snapshot, policySetFor(snapshot), sample.at);
    const found = report.results.filter((r) => r.outcome !== "pass" && r.outcome !== "not-applicable");
    expect(found).toHaveLength(sample.expected.length);
  });

  it("records a repository that cannot be read as unknown and audits the others", async () => {
    const snapshot = await audit(hostFrom(sample.snapshot, { repository: "acme-demo/web" }));
    const web = snapshot.repositories.find((r) => r.fullName === "acme-demo/web");
    expect(web?.collectionError).toMatch(/403/);
    expect(snapshot.changeRequests.some((cr) => cr.repository === "acme-demo/web")).toBe(false);
    expect(snapshot.changeRequests.some((cr) => cr.repository === "acme-demo/api")).toBe(true);
    const report = evaluate(snapshot, policySetFor(snapshot), sample.at);
    const onWeb = report.results.filter((r) => r.subject.repository === "acme-demo/web");
    expect(onWeb.length).toBeGreaterThan(0);
    expect(onWeb.every((r) => r.outcome === "unknown")).toBe(true);
  });

  it("makes every organization control unknown, never pass, when the organization cannot be read", async () => {
    const snapshot = await audit(hostFrom(sample.snapshot, { organization: true }));
    const report = evaluate(snapshot, policySetFor(snapshot), sample.at);
    const organizationResults = report.results.filter(
      (r) => r.control.startsWith("cc6.") && !r.subject.repository,
    );
    expect(organizationResults.length).toBeGreaterThan(0);
    expect(organizationResults.every((r) => r.outcome === "unknown")).toBe(true);
    expect(organizationResults[0]?.reason).toMatch(/administration:read/);
  });

  it("stops with the policy error when the organization's policy is broken", async () => {
    await expect(
      audit(hostFrom(sample.snapshot, { policy: "version: 1\ncontrols:\n  cc8.nope: {}\n" })),
    ).rejects.toThrow(/acme-demo\/\.github:\.github\/soc2\.yml:3:3/);
  });

  it("says the shipped default was applied because the organization's policy file was not found (or is hidden)", async () => {
    // GitHub and GitLab answer 404 alike for no file and for a repository the credentials cannot see.
    const snapshot = await audit({ ...hostFrom(sample.snapshot), readFile: async () => null });
    expect(snapshot.policyFiles).toEqual([]);
    expect(snapshot.unreadable).toContainEqual(
      expect.objectContaining({ subject: "acme-demo/.github", what: "organization policy .github/soc2.yml" }),
    );
  });

  it("leaves out repositories the policy excludes", async () => {
    const policy = "version: 1\naudit:\n  exclude: [docs, 'data-*']\n";
    const snapshot = await audit(hostFrom(sample.snapshot, { policy }));
    expect(snapshot.repositories.map((r) => r.fullName)).not.toContain("acme-demo/docs");
    expect(snapshot.repositories.map((r) => r.fullName)).not.toContain("acme-demo/data-pipeline");
    expect(snapshot.repositories.map((r) => r.fullName)).toContain("acme-demo/api");
  });

  it("collects the direct pushes and protection of the branches a repository's own layer makes production", async () => {
    const base = hostFrom(sample.snapshot);
    const target = "acme-demo/api";
    const branches = ["main", "hotfix/db-1"];
    const hotfixPush = {
      ...sample.snapshot.directPushes[0]!,
      repository: target,
      branch: "hotfix/db-1",
      sha: "f".repeat(40),
    };
    const host: CodeHost = {
      ...base,
      // As a provider does: the production branches are the existing branches the given policy selects.
      collectRepository: async (fullName, policy) => {
        const repository = await base.collectRepository(fullName, policy);
        if (fullName !== target) return repository;
        const productionBranches = branches.filter((b) => isProductionBranch(policy, "main", b));
        return {
          ...repository,
          defaultBranch: "main",
          productionBranches,
          branchRules: { known: true, value: [] },
        };
      },
      readFile: async (repository, path) =>
        repository === target && path === ".github/soc2.yml"
          ? "version: 1\nproduction_branches:\n  patterns: ['hotfix/*']\n"
          : base.readFile(repository, path),
      async *listDirectPushes(repository, branch, p, shas) {
        if (repository === target && branch === hotfixPush.branch) yield hotfixPush;
        else yield* base.listDirectPushes(repository, branch, p, shas);
      },
    };
    const snapshot = await audit(host);
    expect(snapshot.directPushes.map((p) => p.sha)).toContain(hotfixPush.sha);
    const report = evaluate(snapshot, policySetFor(snapshot), sample.at);
    const pushResult = report.results.find(
      (r) => r.control === "cc8.no-direct-push" && r.subject.commit === hotfixPush.sha,
    );
    expect(pushResult?.outcome).toBe("fail");
    const protection = report.results.find(
      (r) => r.control === "cc8.branch-protection" && r.subject.id.includes("hotfix/db-1"),
    );
    expect(protection?.outcome).toBe("fail");
  });
});
