import { describe, expect, it } from "vitest";
import { CONTROLS } from "../../src/controls/index.js";
import { evaluate } from "../../src/engine/index.js";
import { Snapshot } from "../../src/model/index.js";
import { loadPolicy } from "../../src/policy/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";
import { AT, makeChangeRequest, makeDirectPush, makeRepository, makeSnapshot } from "../fixtures/build.js";

const policy = loadPolicy([], CONTROLS);

/** The shipped default with an organization layer of the given lines (after `version: 1`). */
function policyWithOrg(...lines: string[]) {
  return loadPolicy([{ file: "org.yml", text: ["version: 1", ...lines, ""].join("\n") }], CONTROLS);
}

describe("evaluate", () => {
  it("gives identical results for a snapshot written to JSON and read back", () => {
    const sample = generateSampleOrganization({ repositories: 6, pullRequestsPerRepository: 10 });
    const policies = policySetFor(sample.snapshot);
    const live = evaluate(sample.snapshot, policies, sample.at);
    const roundTripped = Snapshot.parse(JSON.parse(JSON.stringify(sample.snapshot)));
    const again = evaluate(roundTripped, policySetFor(roundTripped), sample.at);
    expect(JSON.stringify(again)).toBe(JSON.stringify(live));
  });

  it("is deterministic: the same input gives the same report, whatever the input order", () => {
    const snapshot = makeSnapshot({
      changeRequests: [makeChangeRequest({ number: 2 }), makeChangeRequest({ number: 1 })],
    });
    const reversed = { ...snapshot, changeRequests: [...snapshot.changeRequests].reverse() };
    expect(evaluate(reversed, policy, AT)).toEqual(evaluate(snapshot, policy, AT));
  });

  it("passes a clean organization on every control that applies", () => {
    const report = evaluate(makeSnapshot(), policy, AT);
    const notPassing = report.results.filter((r) => r.outcome !== "pass" && r.outcome !== "not-applicable");
    expect(notPassing).toEqual([]);
    expect(Object.keys(report.totals)).toEqual(CONTROLS.map((c) => c.id));
  });

  it("leaves out a control the policy disables", () => {
    const lenient = loadPolicy(
      [{ file: "org.yml", text: "version: 1\ncontrols:\n  cc8.independent-approval:\n    enabled: false\n" }],
      CONTROLS,
    );
    const snapshot = makeSnapshot({ changeRequests: [makeChangeRequest({ reviews: [] })] });
    expect(evaluate(snapshot, policy, AT).results.some((r) => r.control === "cc8.independent-approval")).toBe(
      true,
    );
    expect(
      evaluate(snapshot, lenient, AT).results.some((r) => r.control === "cc8.independent-approval"),
    ).toBe(false);
  });

  it("turns a failure covered by an exception into 'excepted', and keeps a merge made in force excepted after it expires", () => {
    const withException = policyWithOrg(
      "exceptions:",
      "  - control: cc8.independent-approval",
      "    subject: { repository: acme/api, change_request: 12 }",
      '    reason: "Emergency fix, reviewed after the fact"',
      "    approved_by: carol",
      "    expires: 2026-11-30",
    );
    const outcome = (mergedAt: string, at: Date) =>
      evaluate(
        makeSnapshot({ changeRequests: [makeChangeRequest({ reviews: [], mergedAt })] }),
        withException,
        at,
      ).results.find((r) => r.control === "cc8.independent-approval");
    const during = outcome("2026-10-02T15:00:00Z", AT);
    expect(during?.outcome).toBe("excepted");
    expect(during?.exception).toMatchObject({
      approvedBy: "carol",
      expires: "2026-11-30",
      source: "org.yml:3",
    });
    // Audited in December, a merge of October 2nd was made while the exception was in force.
    expect(outcome("2026-10-02T15:00:00Z", new Date("2027-01-15T00:00:00Z"))?.outcome).toBe("excepted");
    // Merged on the exception's last day (UTC) still counts; the day after does not.
    expect(outcome("2026-11-30T23:59:59Z", new Date("2027-01-15T00:00:00Z"))?.outcome).toBe("excepted");
    const after = outcome("2026-12-01T00:00:00Z", new Date("2027-01-15T00:00:00Z"));
    expect(after?.outcome).toBe("fail");
    expect(after?.remediation).toBeTruthy();
  });

  it("judges a direct push's exception by when it was pushed, else by its commit date", () => {
    const withException = policyWithOrg(
      "exceptions:",
      "  - control: cc8.no-direct-push",
      '    subject: { repository: acme/api, commit: "dddddddd" }',
      '    reason: "Incident INC-42 hotfix"',
      "    approved_by: carol",
      "    expires: 2026-10-31",
    );
    const outcome = (push: Parameters<typeof makeDirectPush>[0]) =>
      evaluate(
        makeSnapshot({ directPushes: [makeDirectPush(push)] }),
        withException,
        new Date("2027-01-15T00:00:00Z"),
      ).results.find((r) => r.control === "cc8.no-direct-push")?.outcome;
    expect(outcome({ at: "2026-10-05T12:00:00Z", pushedAt: "2026-10-05T12:00:00Z" })).toBe("excepted");
    // The commit is dated inside the exception, but it was pushed after it ended.
    expect(outcome({ at: "2026-10-05T12:00:00Z", pushedAt: "2026-11-02T08:00:00Z" })).toBe("fail");
    // No push time recorded: the commit date is the only time there is.
    expect(outcome({ at: "2026-10-05T12:00:00Z", pushedAt: null })).toBe("excepted");
    expect(outcome({ at: "2026-11-05T12:00:00Z", pushedAt: null })).toBe("fail");
  });

  it("judges access facts at evaluation time: an expired exception no longer excuses them", () => {
    const withException = policyWithOrg(
      "controls:",
      "  cc6.repo-admin-count: { max_admins: 0 }",
      "exceptions:",
      "  - control: cc6.repo-admin-count",
      "    subject: { repository: acme/api }",
      '    reason: "Admin rotation in progress"',
      "    approved_by: carol",
      "    expires: 2026-11-30",
    );
    const snapshot = makeSnapshot({
      repositories: [
        makeRepository({
          collaborators: { known: true, value: [{ login: "dave", permission: "admin", outside: false }] },
        }),
      ],
    });
    const outcome = (at: string) =>
      evaluate(snapshot, withException, new Date(at)).results.find(
        (r) => r.control === "cc6.repo-admin-count" && r.subject.repository === "acme/api",
      )?.outcome;
    expect(outcome("2026-11-30T12:00:00Z")).toBe("excepted");
    expect(outcome("2026-12-01T00:00:00Z")).toBe("fail");
  });

  it("judges a change as production when the repository's facts are missing, never waves it through", () => {
    const snapshot = makeSnapshot({ repositories: [], changeRequests: [makeChangeRequest({ reviews: [] })] });
    const result = evaluate(snapshot, policy, AT).results.find(
      (r) => r.control === "cc8.independent-approval",
    );
    expect(result?.outcome).toBe("fail");
  });

  it("uses a repository's own policy layer for that repository only", () => {
    const snapshot = makeSnapshot({
      repositories: [
        makeRepository(),
        makeRepository({ fullName: "acme/web", url: "https://github.com/acme/web" }),
      ],
      changeRequests: [
        makeChangeRequest({ reviews: [] }),
        makeChangeRequest({
          repository: "acme/web",
          reviews: [],
          url: "https://github.com/acme/web/pull/12",
        }),
      ],
      policyFiles: [
        {
          layer: "repository",
          repository: "acme/web",
          path: "acme/web:.github/soc2.yml@main",
          content: "version: 1\ncontrols:\n  cc8.independent-approval:\n    enabled: false\n",
        },
      ],
    });
    const results = evaluate(snapshot, policySetFor(snapshot), AT).results.filter(
      (r) => r.control === "cc8.independent-approval",
    );
    expect(results.map((r) => r.subject.id)).toEqual(["acme/api#12"]);
  });

  describe("people: one person, several accounts", () => {
    const PEOPLE = [
      "people:",
      "  alice:",
      "    github: [alice, alice-work]",
      "    gitlab: [adoe, adoe-work]",
      "  carol:",
      "    github: [carol]",
      "    emails: [carol@acme.example]",
    ];
    const independence = (
      snapshot: ReturnType<typeof makeSnapshot>,
      policies: Parameters<typeof evaluate>[1] = policyWithOrg(...PEOPLE),
    ) => evaluate(snapshot, policies, AT).results.find((r) => r.control === "cc8.independent-approval");
    const approvedBy = (reviewer: string) => ({
      reviewer,
      state: "approved" as const,
      submittedAt: "2026-10-02T10:00:00Z",
      commitSha: "h".repeat(40),
    });

    // Depends on cc8.independent-approval resolving reviewers and authors through context.people.
    it("does not count an approval by the author's second account", () => {
      const snapshot = makeSnapshot({
        changeRequests: [makeChangeRequest({ reviews: [approvedBy("alice-work")] })],
      });
      expect(independence(snapshot, policy)?.outcome).toBe("pass");
      const result = independence(snapshot);
      expect(result?.outcome).toBe("fail");
      expect(JSON.stringify(result?.evidence)).toContain("alice-work");
    });

    it("resolves a commit author known only by e-mail to the person, who then cannot approve", () => {
      const snapshot = makeSnapshot({
        changeRequests: [
          makeChangeRequest({
            reviews: [approvedBy("carol")],
            commits: [
              {
                sha: "h".repeat(40),
                authorLogin: null,
                authorName: "Carol",
                authorEmail: "Carol@acme.example",
                committerLogin: "alice",
                authoredAt: "2026-10-01T09:00:00Z",
                committedAt: "2026-10-01T09:00:00Z",
              },
            ],
          }),
        ],
      });
      // Without the people map the commit is linked to nobody: independence cannot be decided.
      expect(independence(snapshot, policy)?.outcome).toBe("unknown");
      expect(independence(snapshot)?.outcome).toBe("fail");
    });

    it("reads a GitHub no-reply commit e-mail as the account it stands for", () => {
      const snapshot = makeSnapshot({
        changeRequests: [
          makeChangeRequest({
            author: "bob",
            reviews: [approvedBy("alice")],
            commits: [
              {
                sha: "h".repeat(40),
                authorLogin: null,
                authorName: "Alice",
                authorEmail: "1234567+alice-work@users.noreply.github.com",
                committerLogin: "bob",
                authoredAt: "2026-10-01T09:00:00Z",
                committedAt: "2026-10-01T09:00:00Z",
              },
            ],
          }),
        ],
      });
      expect(independence(snapshot)?.outcome).toBe("fail");
    });

    it("reads the logins of the host the snapshot was collected from", () => {
      const onHost = (host: "github" | "gitlab") =>
        makeSnapshot({
          collector: { ...makeSnapshot().collector, host },
          changeRequests: [makeChangeRequest({ author: "adoe", reviews: [approvedBy("adoe-work")] })],
        });
      // On GitLab adoe and adoe-work are both Alice's; on GitHub they are two other accounts.
      expect(independence(onHost("gitlab"))?.outcome).toBe("fail");
      expect(independence(onHost("github"))?.outcome).not.toBe("fail");
    });

    it("uses the people of the policy in force for the subject's repository", () => {
      const snapshot = makeSnapshot({
        changeRequests: [makeChangeRequest({ reviews: [approvedBy("alice-work")] })],
        policyFiles: [
          {
            layer: "organization",
            repository: null,
            path: "acme/.github:.github/soc2.yml@main",
            content: ["version: 1", ...PEOPLE, ""].join("\n"),
          },
          {
            layer: "repository",
            repository: "acme/api",
            path: "acme/api:.github/soc2.yml@main",
            content: "version: 1\ncontrols:\n  cc8.independent-approval: { min_approvals: 1 }\n",
          },
        ],
      });
      expect(independence(snapshot, policySetFor(snapshot))?.outcome).toBe("fail");
    });
  });
});
