/**
 * The demo's quarter of access review (issue 15), end to end: the bot opens the review through the
 * simulated GitHub, a lead decides two revocations, someone else approves and merges, an
 * administrator removes one of the two accesses; the audit then shows the sign-off (pass), one
 * verified revocation (pass) and one revocation not applied (fail, with its finding issue), and the
 * demo still finds exactly the planted violations.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import type { EvaluationReport } from "../../src/engine/index.js";
import { memoryIo } from "../fixtures/memory-io.js";

const REVIEW = "2026-Q4:organization-admins";

describe("npm run demo: the access review", () => {
  it("signs off the review, verifies one revocation and finds the one not applied", async () => {
    const out = await mkdtemp(join(tmpdir(), "soc2-demo-access-review-"));
    const io = memoryIo();
    expect(await main(["demo", "--out", out], io)).toBe(0);

    const report = JSON.parse(await readFile(join(out, "results.json"), "utf8")) as EvaluationReport;
    const outcomes = report.results
      .filter((r) => r.control === "cc6.access-review-completed" || r.control === "cc6.revocations-applied")
      .map((r) => [r.control, r.subject.id, r.outcome])
      .sort();
    expect(outcomes).toEqual([
      ["cc6.access-review-completed", `access-review:${REVIEW}`, "pass"],
      ["cc6.revocations-applied", `revocation:${REVIEW}:collaborator:zoe:write`, "fail"],
      ["cc6.revocations-applied", `revocation:${REVIEW}:outside-collaborator:auditor-lee:read`, "pass"],
    ]);
    const signOff = report.results.find((r) => r.control === "cc6.access-review-completed");
    expect(signOff?.reason).toMatch(/signed off by @alice on 2026-10-29/);

    expect(io.out).toMatch(/opened acme-demo\/compliance#\d+ for organization-admins/);
    expect(io.out).toMatch(/access review finding: acme-demo\/compliance#\d+ /);
    expect(io.out).toMatch(/planted violations found: (\d+) of \1\n/);
    expect(io.out).not.toMatch(/missing \(planted|unexpected \(found/);
  }, 180_000);
});
