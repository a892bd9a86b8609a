/**
 * Grouped findings through the real GitHub provider and the simulated GitHub, which refuses titles,
 * bodies and comments over GitHub's documented limits with GitHub's own 422: a list too long for one
 * issue would fail here, not in production.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FINDINGS_REPOSITORY, githubHostFor, serveSample, type ServedSample } from "../../src/sim/harness.js";
import type { Result } from "../../src/controls/types.js";
import { readChangesMarker } from "../../src/reporters/findings/fingerprint.js";
import { syncFindings, type SyncOptions } from "../../src/reporters/findings/lifecycle.js";
import { characterLength, GITHUB_LIMITS } from "../../src/text/limits.js";
import { approvalResult } from "./fake-tracker.js";

const AT = new Date("2026-11-01T00:00:00Z");

function failingChange(number: number): Result {
  return approvalResult({
    subject: {
      kind: "change-request",
      id: `acme-demo/api#${number}`,
      repository: "acme-demo/api",
      number,
      user: "alice",
      url: `https://github.com/acme-demo/api/pull/${number}`,
    },
    // long enough that a thousand lines cannot fit one body
    reason: `0 independent approvals, 1 required: approved only by @alice, who wrote commits of it (${"x".repeat(120)})`,
  });
}

describe("grouped findings on the simulated GitHub", () => {
  let served: ServedSample;
  beforeAll(async () => {
    served = await serveSample({ repositories: 1, pullRequestsPerRepository: 1 });
  });
  afterAll(async () => {
    await served.sim.close();
  });

  it("files 1,000 failing changes of one repository as one issue GitHub accepts, and writes nothing more on a second run", async () => {
    const repository = `${served.served.organization?.login ?? "acme-demo"}/${FINDINGS_REPOSITORY}`;
    const tracker = githubHostFor(served.sim).host.issues(repository);
    const results = Array.from({ length: 1000 }, (_, i) => failingChange(100 + i));
    const options: SyncOptions = { evaluatedAt: AT, scope: "audit", label: "soc2-sim-groups" };

    const first = await syncFindings(tracker, results, options);

    expect(first.failed).toEqual([]);
    expect(first.created).toHaveLength(1);
    const issues = [...(served.world.repositories.get(repository)?.issues.values() ?? [])].filter((issue) =>
      issue.labels.includes("soc2-sim-groups"),
    );
    expect(issues).toHaveLength(1);
    const [issue] = issues;
    expect(characterLength(issue!.body)).toBeLessThanOrEqual(GITHUB_LIMITS.issueBodyCharacters);
    expect(characterLength(issue!.title)).toBeLessThanOrEqual(GITHUB_LIMITS.issueTitleCharacters);
    expect(issue!.body).toMatch(/_… and \d+ more failing change requests not shown here/);
    expect(readChangesMarker(issue!.body)?.failing).toHaveLength(1000);

    const second = await syncFindings(tracker, results, {
      ...options,
      evaluatedAt: new Date("2026-11-02T00:00:00Z"),
    });
    expect([second.created, second.updated, second.failed]).toEqual([[], [], []]);
    expect(second.unchanged).toEqual(first.created);
  });
});
