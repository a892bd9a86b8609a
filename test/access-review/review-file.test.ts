import { describe, expect, it } from "vitest";
import { parseReviewFile, renderReviewFile, type ReviewGrant } from "../../src/access-review/index.js";
import { GRANTS, openedText, revoke } from "./records.js";

const FILE = "access-reviews/2026-Q4/organization-admins.yml";

/** Problems as a person reads them: file:line:column message. */
function problemsOf(text: string, opened?: string | null): string[] {
  const parsed = parseReviewFile(FILE, text, opened);
  expect(parsed.review).toBeNull();
  return parsed.problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`);
}

/** The text with line `line` (1-based) replaced. */
function withLine(text: string, line: number, replacement: string): string {
  const lines = text.split("\n");
  lines[line - 1] = replacement;
  return lines.join("\n");
}

describe("the review file", () => {
  it("reads back every grant it was rendered with, each kept and on its line", () => {
    const text = openedText();
    const parsed = parseReviewFile(FILE, text, text);
    expect(parsed.problems).toEqual([]);
    expect(parsed.review).toEqual({
      cycle: "2026-Q4",
      organization: "acme",
      owner: "organization-admins",
      openedAt: "2026-10-02T09:00:00Z",
      decisions: GRANTS.map((grant, index) => ({
        ...grant,
        decision: "keep",
        reason: "",
        line: [10, 21][index],
      })),
    });
  });

  it("keeps names YAML would read as something else (yes, numbers, '#', quotes, new lines) as text", () => {
    const awkward: ReviewGrant = {
      id: 'deploy-key:acme/api#42 yes: "deploy"\nkey:write',
      kind: "deploy-key",
      account: 'acme/api#42 yes: "deploy"\nkey',
      person: "n/a",
      repositories: ["acme/2026", "acme/null"],
      role: "write",
      twoFactor: "n/a",
      lastActivity: "unknown: the host does not record a deploy key's last use",
      since: "2026-01-02T03:04:05Z",
    };
    const text = renderReviewFile({
      cycle: "2026",
      organization: "007",
      owner: "true",
      openedAt: new Date("2026-11-30T10:00:00Z"),
      grants: [awkward],
      graceDays: 0,
    });
    const parsed = parseReviewFile(FILE, text, text);
    expect(parsed.problems).toEqual([]);
    expect(parsed.review).toMatchObject({ cycle: "2026", organization: "007", owner: "true" });
    expect(parsed.review?.decisions[0]).toMatchObject({ ...awkward, decision: "keep" });
    // the comment header stays one comment whatever an owner's name holds
    expect(
      text
        .split("\n")
        .slice(0, 4)
        .every((line) => line.startsWith("#")),
    ).toBe(true);
  });

  it("takes a revoke with its reason", () => {
    const opened = openedText();
    const decided = revoke(opened, "collaborator:bob:write", "left the api team in September");
    const parsed = parseReviewFile(FILE, decided, opened);
    expect(parsed.problems).toEqual([]);
    expect(parsed.review?.decisions.map((d) => [d.id, d.decision, d.reason])).toEqual([
      ["collaborator:bob:write", "revoke", "left the api team in September"],
      ["member:carol:member (base read)", "keep", ""],
    ]);
  });

  it("refuses a revoke without a reason, at the reason", () => {
    const opened = openedText();
    const decided = withLine(opened, 19, "    decision: revoke");
    expect(problemsOf(decided, opened)).toEqual([
      `${FILE}:20:13 grant \`collaborator:bob:write\` is revoked without a reason: write why in \`reason\``,
    ]);
  });

  it("refuses a decision that is neither keep nor revoke, and a missing one, where they are", () => {
    const opened = openedText();
    expect(problemsOf(withLine(opened, 30, "    decision: remove"), opened)).toEqual([
      `${FILE}:30:15 \`decision\` of grant \`member:carol:member (base read)\` must be keep or revoke`,
    ]);
    expect(problemsOf(withLine(opened, 19, "    # decided later"), opened)).toEqual([
      `${FILE}:10:5 \`decision\` is missing from grant \`collaborator:bob:write\`: write keep or revoke`,
    ]);
  });

  it("names file, line and column of a YAML syntax error and of a wrong shape", () => {
    const opened = openedText();
    expect(problemsOf(withLine(opened, 15, "    role: [write"))[0]).toMatch(
      new RegExp(`^${FILE}:1[56]:\\d+ YAML syntax error: `),
    );
    expect(problemsOf("- just\n- a list\n")).toEqual([
      `${FILE}:1:1 a review file is a mapping with \`review\`, \`organization\`, \`owner\`, \`opened_at\`, \`grants\``,
    ]);
    const header = opened.split("\n").slice(0, 8).join("\n");
    expect(problemsOf(`${header}\ngrants: everyone\n`)).toEqual([
      `${FILE}:9:9 \`grants\` must be a list of grants`,
    ]);
    expect(problemsOf(withLine(opened, 14, "    repositories: acme/api"))).toEqual([
      `${FILE}:14:19 \`repositories\` must be a list of repository names`,
    ]);
    expect(problemsOf(withLine(opened, 16, "    two_factor: maybe"))).toEqual([
      `${FILE}:16:17 \`two_factor\` must be one of "yes", "no", "unknown", "n/a"`,
    ]);
    expect(problemsOf(withLine(opened, 20, '    comment: "ok"'), opened)).toEqual([
      `${FILE}:20:5 unknown key \`comment\` in a grant: change only decision and reason`,
    ]);
  });

  it("refuses a decision naming a grant that was not opened for review", () => {
    const opened = openedText();
    const invented = withLine(opened, 10, "  - id: collaborator:mallory:admin");
    expect(problemsOf(invented, opened)).toEqual([
      `${FILE}:9:1 grant \`collaborator:bob:write\` was removed from the review: keep every grant and decide it (keep or revoke)`,
      `${FILE}:10:9 grant \`collaborator:mallory:admin\` was not in the review as opened: a decision may only name a grant listed for review`,
    ]);
  });

  it("refuses a changed field other than decision and reason, and a grant listed twice", () => {
    const opened = openedText();
    expect(problemsOf(withLine(opened, 15, "    role: read"), opened)).toEqual([
      `${FILE}:15:11 \`role\` of grant \`collaborator:bob:write\` was changed (opened as "write"): change only decision and reason`,
    ]);
    expect(problemsOf(withLine(opened, 7, "owner: platform"), opened)).toEqual([
      `${FILE}:7:8 \`owner\` was "organization-admins" when opened: change only decision and reason`,
    ]);
    const lines = opened.split("\n");
    const twice = [...lines.slice(0, 31), ...lines.slice(9, 20), ...lines.slice(31)].join("\n");
    expect(problemsOf(twice, opened)).toEqual([
      `${FILE}:32:9 grant \`collaborator:bob:write\` is listed twice (first on line 10): decide each grant once`,
    ]);
  });

  it("without the file as opened checks the shape only", () => {
    const opened = openedText();
    const invented = withLine(opened, 10, "  - id: collaborator:mallory:admin");
    expect(parseReviewFile(FILE, invented).problems).toEqual([]);
    expect(parseReviewFile(FILE, invented, null).problems).toEqual([]);
  });
});
