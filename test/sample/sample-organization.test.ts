import { describe, expect, it } from "vitest";
import { evaluate } from "../../src/engine/index.js";
import { Snapshot } from "../../src/model/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";

describe("the built-in sample organization", () => {
  const sample = generateSampleOrganization();
  const report = evaluate(sample.snapshot, policySetFor(sample.snapshot), sample.at);
  const key = (r: { control: string; subject: string; outcome: string }) =>
    `${r.outcome} ${r.control} ${r.subject}`;

  it("is a valid snapshot of a realistic organization", () => {
    expect(() => Snapshot.parse(sample.snapshot)).not.toThrow();
    expect(sample.snapshot.repositories).toHaveLength(12);
    expect(sample.snapshot.changeRequests.length).toBeGreaterThanOrEqual(300);
  });

  it("plants every kind of violation", () => {
    const controls = new Set(sample.expected.map((e) => e.control));
    expect([...controls].sort()).toEqual([
      "cc6.base-permission",
      "cc6.deploy-key-write",
      "cc6.inactive-access",
      "cc6.leavers",
      "cc6.member-2fa",
      "cc6.org-2fa-required",
      "cc6.outside-collaborator-access",
      "cc6.owner-count",
      "cc6.repo-admin-count",
      "cc6.stale-invitations",
      "cc8.approval-covers-final-code",
      "cc8.branch-protection",
      "cc8.independent-approval",
      "cc8.no-bypass",
      "cc8.no-direct-push",
      "cc8.required-checks",
    ]);
  });

  it("is judged to have exactly the planted findings: every one named, no clean change flagged", () => {
    const found = report.results
      .filter((r) => r.outcome === "fail" || r.outcome === "unknown" || r.outcome === "excepted")
      .map((r) => key({ control: r.control, subject: r.subject.id, outcome: r.outcome }))
      .sort();
    expect(found).toEqual(sample.expected.map(key).sort());
  });

  it("plants approvals that are not independent people: a bot, a co-author, a drive-by, an unknown author", () => {
    const change = (repository: string, number: number) =>
      sample.snapshot.changeRequests.find(
        (cr) => cr.repository === `acme-demo/${repository}` && cr.number === number,
      )!;
    const outcome = (control: string, repository: string, number: number) =>
      report.results.find(
        (r) => r.control === control && r.subject.id === `acme-demo/${repository}#${number}`,
      )?.outcome;

    const bot = change("billing", 4);
    expect(bot.reviews).toEqual([
      expect.objectContaining({ reviewer: "renovate[bot]", reviewerKind: "bot" }),
    ]);
    expect(outcome("cc8.independent-approval", "billing", 4)).toBe("fail");

    const coAuthored = change("auth", 2);
    const credited = coAuthored.commits.flatMap((commit) => commit.coAuthors.map((person) => person.login));
    expect(credited).toEqual([coAuthored.reviews[0]!.reviewer]);
    expect(outcome("cc8.independent-approval", "auth", 2)).toBe("fail");

    const driveBy = change("web", 3);
    expect(sample.snapshot.repositories.find((r) => r.fullName === "acme-demo/web")?.visibility).toBe(
      "public",
    );
    expect(driveBy.reviews).toEqual([expect.objectContaining({ authorCanPush: false })]);
    expect(outcome("cc8.independent-approval", "web", 3)).toBe("fail");
    expect(outcome("cc8.no-bypass", "web", 3)).toBe("fail");

    const unattributed = change("billing", 6);
    expect(unattributed.commits.some((commit) => commit.authorLogin === null)).toBe(true);
    expect(outcome("cc8.independent-approval", "billing", 6)).toBe("unknown");
    expect(outcome("cc8.approval-covers-final-code", "billing", 6)).toBe("unknown");
    for (const kind of ["billing#4", "auth#2", "web#3", "billing#6"]) {
      expect(sample.expected.some((e) => e.subject === `acme-demo/${kind}`)).toBe(true);
    }
  });

  it("sets every fact the host reports explicitly, never leaving it to the model's defaults", () => {
    const parsed = Snapshot.parse(sample.snapshot);
    expect(parsed).toEqual(sample.snapshot);
    for (const cr of sample.snapshot.changeRequests) {
      for (const review of cr.reviews) expect(review.authorCanPush).not.toBeNull();
      for (const check of cr.checks) expect(check.appId).toBe(15368);
    }
  });

  it("applies the unexpired exception and ignores the expired one", () => {
    const excepted = report.results.filter((r) => r.outcome === "excepted");
    expect(excepted).toHaveLength(1);
    expect(excepted[0]?.control).toBe("cc8.no-direct-push");
    expect(excepted[0]?.exception?.approvedBy).toBe("alice");
    const outsider = report.results.find(
      (r) => r.control === "cc6.outside-collaborator-access" && r.subject.user === "contractor-kim",
    );
    expect(outsider?.outcome).toBe("fail");
  });

  it("is the same for the same seed and different for another", () => {
    expect(generateSampleOrganization().snapshot).toEqual(sample.snapshot);
    expect(generateSampleOrganization({ seed: 7 }).snapshot.changeRequests[0]?.headSha).not.toBe(
      sample.snapshot.changeRequests[0]?.headSha,
    );
  });

  it("scales to a larger organization with the same planted kinds", () => {
    const large = generateSampleOrganization({ repositories: 40, pullRequestsPerRepository: 25 });
    const largeReport = evaluate(large.snapshot, policySetFor(large.snapshot), large.at);
    const found = largeReport.results.filter((r) => r.outcome !== "pass" && r.outcome !== "not-applicable");
    expect(found.length).toBe(large.expected.length);
  });
});
