/**
 * `soc2-bot demo --gitlab` records its audit into the embedded ledger as `demo` does for GitHub, says
 * where it is, and `soc2-bot ledger verify` and `soc2-bot export` work on it.
 */
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { openLedger } from "../../src/ledger/index.js";
import { memoryIo } from "../fixtures/memory-io.js";

describe("soc2-bot demo --gitlab and the ledger", () => {
  it("records the GitLab audit in the embedded ledger, which verifies and exports the same package", async () => {
    const out = join(await mkdtemp(join(tmpdir(), "soc2-demo-gitlab-ledger-")), "demo");
    const io = memoryIo();
    expect(await main(["demo", "--gitlab", "--out", out], io)).toBe(0);
    // The quarter's access review: opened, decided and merged through the simulated GitLab, then
    // judged by the audit: the sign-off, one verified revocation and one not applied (a finding).
    expect(io.out).toMatch(/access review 2026-Q4: opened acme-demo\/compliance!1 for organization-admins/);
    expect(io.out).toMatch(/pass +cc6\.access-review-completed access-review:2026-Q4:organization-admins\n/);
    expect(io.out).toMatch(/pass +cc6\.revocations-applied revocation:2026-Q4:organization-admins:/);
    expect(io.out).toMatch(/fail +cc6\.revocations-applied revocation:2026-Q4:organization-admins:/);
    expect(io.out).toMatch(/access review finding: acme-demo\/compliance#\d+ .*cc6\.revocations-applied/);
    expect(io.out).toMatch(/planted violations GitLab can show, found: (\d+) of \1 /);
    const ledgerDir = join(out, "ledger");
    expect(io.out).toContain(`ledger (embedded PGlite): ${ledgerDir} (`);
    expect(io.out).toContain(`npx soc2-bot ledger verify --ledger ${ledgerDir}`);
    expect(io.err).toMatch(/recorded in the ledger \(PGlite at .+\): audit:gitlab\/acme-demo record 1/);

    const verified = memoryIo();
    expect(await main(["ledger", "verify", "--ledger", ledgerDir], verified)).toBe(0);
    expect(verified.out).toMatch(/ok {5}audit:gitlab\/acme-demo: 1 record,/);
    // and the configuration the audit read, recorded once: the group and each of its projects
    expect(verified.out).toMatch(/ok {5}observation:gitlab\/acme-demo: 1 record,/);
    expect(verified.out).toMatch(/ok {5}observation:gitlab\/acme-demo\/[^:]+: 1 record,/);
    // the review, its sign-off and its verifications, kept as their own stream
    expect(verified.out).toMatch(
      /ok {5}access-review:gitlab\/acme-demo\/2026-Q4\/organization-admins: \d+ records?,/,
    );
    expect(verified.out).toMatch(/chains intact: \d+ streams, \d+ records, \d+ package files checked/);

    const ledger = openLedger({ dir: ledgerDir, create: false });
    const runs = await ledger.auditRuns({ since: new Date(0), until: new Date("2100-01-01T00:00:00Z") });
    await ledger.close();
    expect(runs.map((r) => [r.record.stream, r.content.trigger, r.content.host])).toEqual([
      ["audit:gitlab/acme-demo", "demo", "gitlab"],
    ]);

    // The package rebuilt from the ledger by the command the demo printed is the one the demo wrote.
    const exportLine = /npx soc2-bot (export --ledger \S+ --since \S+ --until \S+) --out \S+/.exec(io.out);
    expect(exportLine).not.toBeNull();
    const exportDir = join(out, "..", "exported");
    const exported = memoryIo();
    // --packages: the package itself, byte for byte (by default the export lists its files and hashes)
    expect(await main([...exportLine![1]!.split(" "), "--out", exportDir, "--packages"], exported)).toBe(0);
    const manifest = JSON.parse(await readFile(join(exportDir, "export-manifest.json"), "utf8")) as {
      runs: { files: { name: string; path: string }[] }[];
    };
    const results = manifest.runs[0]!.files.find((f) => f.name === "results.json")!;
    expect(await readFile(join(exportDir, results.path))).toEqual(await readFile(join(out, "results.json")));
    // A whole audit of the sample group, the review played before it and the ledger's export: about
    // 25 s alone, over a minute on a loaded machine.
  }, 180_000);
});
