/**
 * The benchmark's long-tail organization: 1,000 repositories, most merging 0 to 5 pull requests in
 * the period and a few thousands, 100,000 in all; its planted violations are declared as in the
 * uniform sample, and the uniform sample is unchanged by the option.
 */
import { describe, expect, it } from "vitest";
import { sampleOptionsFor, shapeName } from "../../bench/shapes.js";
import { generateSampleOrganization, longTailCounts } from "../../src/sample/generate.js";

describe("long-tail organization", () => {
  it("gives most repositories 0 to 5 merges and a few thousands, 100,000 in all", () => {
    const counts = longTailCounts(1000, 100_000);
    expect(counts).toHaveLength(1000);
    expect(counts.reduce((a, b) => a + b, 0)).toEqual(100_000);
    const light = counts.filter((n) => n <= 5);
    const heavy = counts.filter((n) => n >= 1000);
    expect(light).toHaveLength(990);
    expect(heavy).toHaveLength(10);
    expect(new Set(light)).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    // Zipf proportions: the busiest about twice the second.
    const [first = 0, second = 0] = [...heavy].sort((a, b) => b - a);
    expect(first / second).toBeCloseTo(2, 1);
    expect(longTailCounts(1000, 100_000)).toEqual(counts);
  });

  it("plants and declares violations in a long-tail sample as in the uniform one", () => {
    const shape = { repositories: 20, totalPullRequests: 300 };
    const sample = generateSampleOrganization(sampleOptionsFor(shape));
    const counts = longTailCounts(20, 300);
    expect(sample.snapshot.changeRequests).toHaveLength(300);
    for (const [r, repository] of sample.snapshot.repositories.entries())
      expect(sample.snapshot.changeRequests.filter((c) => c.repository === repository.fullName)).toHaveLength(
        counts[r] ?? -1,
      );
    // Pull request violations are declared for the pull requests that exist, and only those.
    const numbers = new Set(sample.snapshot.changeRequests.map((c) => `${c.repository}#${c.number}`));
    const ofChanges = sample.expected.filter((e) => e.control.startsWith("cc8.") && e.subject.includes("#"));
    expect(ofChanges.length).toBeGreaterThan(0);
    for (const finding of ofChanges) expect(numbers.has(finding.subject)).toEqual(true);
    expect(shapeName(shape)).toEqual("long-tail 20/300");
  });

  it("leaves the uniform sample as it was", () => {
    const uniform = generateSampleOrganization(
      sampleOptionsFor({ repositories: 4, pullRequestsPerRepository: 6 }),
    );
    const same = generateSampleOrganization({ seed: 42, repositories: 4, pullRequestsPerRepository: 6 });
    expect(uniform).toEqual(same);
    expect(uniform.snapshot.changeRequests).toHaveLength(24);
  });
});
