import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import {
  fingerprint,
  marker,
  readMarker,
  readScopeMarker,
  scopeMarker,
} from "../../src/reporters/findings/fingerprint.js";
import { comparableBody, renderFindingIssue } from "../../src/reporters/findings/render.js";
import { approvalResult } from "./fake-tracker.js";

const AT = new Date("2026-11-01T00:00:00Z");
const HOSTILE = "@org/admins <img src=x onerror=alert(1)> [x](http://evil)";

/** The YAML between the fences of the exception snippet. */
function snippetOf(body: string): unknown {
  const match = /```yaml\n([\s\S]*?)\n```/.exec(body);
  return parse(match?.[1] ?? "");
}

describe("fingerprint", () => {
  it("is 16 hex characters, stable, and differs by control and by subject", () => {
    const fp = fingerprint(approvalResult());
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint(approvalResult({ reason: "other words", outcome: "pass" }))).toBe(fp);
    expect(fingerprint(approvalResult({ control: "cc8.no-bypass" }))).not.toBe(fp);
    expect(fingerprint(approvalResult({ subject: { kind: "change-request", id: "acme/api#13" } }))).not.toBe(
      fp,
    );
  });

  it("reads back the marker and the scope hidden in a body", () => {
    const result = approvalResult({
      subject: { kind: "repository", id: "acme/a--b>c", repository: "acme/a--b>c" },
    });
    const body = `text\n${marker(fingerprint(result))}\n${scopeMarker(result)}\n`;
    expect(readMarker(body)).toBe(fingerprint(result));
    expect(readScopeMarker(body)).toEqual({
      control: "cc8.independent-approval",
      scope: "repository:acme/a--b>c",
    });
    // "--" inside an HTML comment could end it early
    expect(scopeMarker(result).slice("<!--".length, -"-->".length)).not.toContain("--");
    expect(readMarker("a hand-written issue")).toBeUndefined();
  });
});

describe("renderFindingIssue", () => {
  it("renders title, labels and a body with the criterion, subject link, reason, evidence and fix", () => {
    const { title, body, labels } = renderFindingIssue(approvalResult(), { evaluatedAt: AT });
    expect(title).toBe(
      "[soc2] cc8.independent-approval: acme/api#12 — Merged without an approval by someone other than the author (alice)",
    );
    expect(labels).toEqual(["soc2", "CC8.1", "cc8.independent-approval"]);
    expect(body).toContain("| Criterion | CC8\\.1 |");
    // "#12" kept from linking by a zero-width space (a backslash does not stop GitHub's autolinker)
    expect(body).toContain("[acme/api\\#\u200B12](https://github.com/acme/api/pull/12)");
    expect(body).toContain("| merged by | alice | 2026-10-02 15:00 UTC |");
    expect(body).toContain("### How to fix");
    expect(body).toContain("Require one approving review");
    expect(body).toContain(marker(fingerprint(approvalResult())));
    expect(body).toContain("Last evaluated 2026-11-01 00:00 UTC");
  });

  it("offers an exception snippet that parses, with the subject's keys and an expiry 90 days out", () => {
    const { body } = renderFindingIssue(approvalResult(), { evaluatedAt: AT });
    expect(snippetOf(body)).toEqual({
      exceptions: [
        {
          control: "cc8.independent-approval",
          subject: { repository: "acme/api", change_request: 12, user: "alice" },
          reason: "<why this risk is accepted>",
          approved_by: "<who accepts it>",
          expires: "2027-01-30",
        },
      ],
    });
  });

  it("offers no exception snippet for a result of no policy control (a weakening alert): pasted, it would break the policy", () => {
    const alert = approvalResult({ control: "cc7.configuration-weakened", criterion: "CC7.1" });
    const { body } = renderFindingIssue(alert, { evaluatedAt: AT });
    expect(body).toContain("### How to fix");
    expect(body).not.toContain("### Or accept the risk");
    expect(body).not.toContain("```yaml");
  });

  it("links a subject without a URL of its own through the host URL", () => {
    const result = approvalResult({
      control: "cc6.deploy-key-write",
      subject: { kind: "deploy-key", id: "acme/api:key:42", repository: "acme/api" },
    });
    const { body } = renderFindingIssue(result, {
      evaluatedAt: AT,
      hostUrl: "https://github.com",
      label: "compliance",
    });
    expect(body).toContain("](https://github.com/acme/api)");
    expect(renderFindingIssue(result, { evaluatedAt: AT, label: "compliance" }).labels[0]).toBe("compliance");
  });

  it("keeps hostile text inert in the title and the body", () => {
    const result = approvalResult({
      reason: `Merged without approval: ${HOSTILE}`,
      subject: { kind: "collaborator", id: `acme/api:${HOSTILE}`, repository: "acme/api", user: HOSTILE },
      evidence: [{ label: HOSTILE, value: HOSTILE, url: "javascript:alert(1)" }],
    });
    const { title, body } = renderFindingIssue(result, { evaluatedAt: AT });
    // the exception snippet is a fenced code block, where GitHub renders no link and no tag
    const [beforeSnippet = "", snippetAndAfter = ""] = body.split("```yaml\n");
    const [snippet = "", afterSnippet = ""] = snippetAndAfter.split("\n```\n");
    expect(snippet).not.toContain("```");
    for (const text of [title, beforeSnippet, afterSnippet]) {
      expect(text).not.toMatch(/@[a-z]/i);
      expect(text).not.toContain("<img");
      expect(text).not.toContain("](");
      expect(text).not.toContain("](http://evil");
      expect(text).not.toContain("javascript:");
    }
    expect(body).not.toMatch(/@[a-z]/i);
    expect(body).not.toContain("<img");
    // the snippet still names the real subject once parsed
    expect(snippetOf(body)).toMatchObject({ exceptions: [{ subject: { user: HOSTILE } }] });
    // exactly one marker: nothing hostile can forge a second
    expect(body.match(/soc2-bot:finding:/g)).toHaveLength(1);
  });

  it("compares bodies without the parts that only depend on the evaluation time", () => {
    const first = renderFindingIssue(approvalResult(), { evaluatedAt: AT }).body;
    const later = renderFindingIssue(approvalResult(), {
      evaluatedAt: new Date("2026-12-05T08:00:00Z"),
    }).body;
    expect(later).not.toBe(first);
    expect(comparableBody(later)).toBe(comparableBody(first));
    const changed = renderFindingIssue(approvalResult({ reason: "Approved only by the author." }), {
      evaluatedAt: AT,
    });
    expect(comparableBody(changed.body)).not.toBe(comparableBody(first));
  });

  it("keeps a finding with very many evidence items under GitHub's body limit and says so", () => {
    const evidence = Array.from({ length: 5000 }, (_, i) => ({
      label: `member ${i}`,
      value: "x".repeat(200),
    }));
    const { body } = renderFindingIssue(approvalResult({ evidence }), { evaluatedAt: AT });
    expect(body.length).toBeLessThan(65_536);
    expect(body).toMatch(/Evidence truncated: \d+ more items not shown/);
    expect(body).toContain(marker(fingerprint(approvalResult())));
  });
});
