import { describe, expect, it } from "vitest";
import { findingsTracker } from "../../src/pipeline/alerts.js";
import { CONTROLS } from "../../src/controls/index.js";
import { PolicyError } from "../../src/errors.js";
import { loadPolicy } from "../../src/policy/index.js";
import type { CodeHost, IssueTracker } from "../../src/providers/types.js";

const tracker = {} as IssueTracker;
const host = { host: "github", issues: () => tracker } as unknown as CodeHost;

describe("findingsTracker", () => {
  it("groups failing change requests per control and repository unless the policy says otherwise", () => {
    expect(findingsTracker(host, "acme", { findings: { repository: "compliance", labels: [] } })).toEqual({
      repository: "acme/compliance",
      tracker,
      label: "soc2",
      lockKey: "github:acme/compliance",
      groupChangeRequests: "by_repository",
    });
    expect(
      findingsTracker(host, "acme", {
        findings: { repository: "compliance", labels: ["audit"], groupChangeRequests: "per_change_request" },
      }),
    ).toMatchObject({ label: "audit", groupChangeRequests: "per_change_request" });
  });

  it("takes the grouping from the organization's policy file, and refuses a value it does not know", () => {
    const policy = loadPolicy(
      [
        {
          file: ".github/soc2.yml",
          text: "version: 1\nfindings:\n  group_change_requests: per_change_request\n",
        },
      ],
      CONTROLS,
    );
    expect(findingsTracker(host, "acme", policy).groupChangeRequests).toBe("per_change_request");
    expect(findingsTracker(host, "acme", loadPolicy([], CONTROLS)).groupChangeRequests).toBe("by_repository");
    expect(() =>
      loadPolicy(
        [{ file: ".github/soc2.yml", text: "version: 1\nfindings:\n  group_change_requests: by_repo\n" }],
        CONTROLS,
      ),
    ).toThrow(PolicyError);
  });
});
