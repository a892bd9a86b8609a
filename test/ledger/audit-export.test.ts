/**
 * An audit recorded and exported again: a demo-size audit through the real GitHub provider against
 * the simulated GitHub (as test/e2e/audit-roundtrip.test.ts runs it), recorded in the ledger with its
 * evidence package; `soc2-bot export` rebuilds that package byte for byte from the ledger alone,
 * refuses a broken chain or a changed file unless forced, and nothing secret was ever stored.
 */
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { period, serveSample, type ServedSample } from "../../src/sim/harness.js";
import { runAudit } from "../../src/cli/audit.js";
import { main } from "../../src/cli/main.js";
import {
  exportPeriod,
  EXPORT_MANIFEST,
  LedgerBrokenError,
  openLedger,
  type AuditRunContent,
  type Ledger,
  type LedgerOptions,
} from "../../src/ledger/index.js";
import { createGitHubClient, createGitHubHost } from "../../src/providers/github/index.js";
import { BACKENDS, testBackend } from "./backends.js";
import { memoryIo } from "../fixtures/memory-io.js";

const SIZE = { repositories: 4, pullRequestsPerRepository: 6 };
/** A token shaped like an installation token: it must be found nowhere in the ledger. */
const TOKEN = "ghs_LedgerMustNeverStoreThis0123456789abc";

describe.each(BACKENDS)("audit runs recorded and exported on %s", (name) => {
  const backend = testBackend(name);
  let served: ServedSample;
  let options: LedgerOptions;
  let ledger: Ledger;
  let packageDir: string;
  let since: Date;
  let until: Date;

  beforeAll(async () => {
    served = await serveSample(SIZE);
    ({ since, until } = period(served.sample));
    options = await backend.fresh();
    ledger = openLedger(options);
    packageDir = await mkdtemp(join(tmpdir(), "soc2-ledger-audit-"));
    const octokit = createGitHubClient({ token: TOKEN, baseUrl: served.sim.url, throttle: false });
    const host = createGitHubHost({ octokit, baseUrl: served.sim.url });
    await runAudit(
      {
        host,
        organization: "acme-demo",
        since,
        until,
        policyFiles: [],
        outDir: packageDir,
        findings: false,
        ledger,
        trigger: "cli",
      },
      memoryIo(),
    );
  });
  afterAll(async () => {
    await ledger?.close();
    await served?.sim.close();
    await backend.stop();
  });

  it("records the run: period, host, organization, policy hash, tool version, totals and every package file", async () => {
    const runs = await ledger.auditRuns({ since, until });
    expect(runs).toHaveLength(1);
    const [run] = runs;
    const manifest = JSON.parse(await readFile(join(packageDir, "manifest.json"), "utf8")) as {
      policy: { hash: string };
      toolVersion: string;
      files: { name: string; sha256: string; bytes: number }[];
    };
    const results = JSON.parse(await readFile(join(packageDir, "results.json"), "utf8")) as {
      results: unknown[];
    };
    expect(run?.record.stream).toBe("audit:github/acme-demo");
    expect(run?.content).toMatchObject<Partial<AuditRunContent>>({
      trigger: "cli",
      host: "github",
      organization: "acme-demo",
      period: { since: since.toISOString(), until: until.toISOString() },
      policy: expect.objectContaining({ hash: manifest.policy.hash }) as AuditRunContent["policy"],
      toolVersion: manifest.toolVersion,
      population: expect.objectContaining({
        changeRequests: SIZE.repositories * SIZE.pullRequestsPerRepository,
      }) as AuditRunContent["population"],
    });
    expect(run?.content.totals.results).toBe(results.results.length);
    expect(run?.content.package.files.map((f) => f.name)).toEqual([
      ...manifest.files.map((f) => f.name),
      "manifest.json",
    ]);
    expect(run?.content.package.files.slice(0, -1)).toEqual(manifest.files);
  });

  it("exports the period's package byte for byte, with a manifest of what was exported", async () => {
    const out = join(await mkdtemp(join(tmpdir(), "soc2-ledger-export-")), "export");
    const summary = await exportPeriod(ledger, { since, until, outDir: out, packages: true });
    expect(summary.runs).toHaveLength(1);
    const run = summary.runs[0]!;
    const directory = run.directory!;
    const exported = await readdir(join(out, directory));
    expect(exported.sort()).toEqual((await readdir(packageDir)).sort());
    for (const file of exported) {
      const original = await readFile(join(packageDir, file));
      expect(await readFile(join(out, directory, file)), file).toEqual(original);
    }
    // the auditor's file: results.json, byte for byte
    expect(await readFile(join(out, directory, "results.json"), "utf8")).toBe(
      await readFile(join(packageDir, "results.json"), "utf8"),
    );
    const manifest = JSON.parse(await readFile(join(out, EXPORT_MANIFEST), "utf8")) as {
      chains: { intact: boolean };
      runs: { stream: string; files: { path: string; sha256: string }[] }[];
    };
    expect(manifest.chains.intact).toBe(true);
    expect(manifest.runs[0]?.files.map((f) => f.path)).toEqual(run.files.map((f) => f.path));
    expect(manifest.runs[0]?.files.every((f) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
  });

  it("an export outside every recorded period finds nothing", async () => {
    const out = join(await mkdtemp(join(tmpdir(), "soc2-ledger-export-")), "export");
    const summary = await exportPeriod(ledger, {
      since: new Date("2020-01-01T00:00:00Z"),
      until: new Date("2020-02-01T00:00:00Z"),
      outDir: out,
    });
    expect(summary.runs).toEqual([]);
  });

  it("stores no token: not in any record, nor in any file of the package", async () => {
    const db = await ledger.database();
    const rows = await db.query<{ content: string }>(`SELECT content FROM records`);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.content).not.toContain(TOKEN);
    const out = join(await mkdtemp(join(tmpdir(), "soc2-ledger-export-")), "export");
    const summary = await exportPeriod(ledger, { since, until, outDir: out, packages: true });
    for (const file of summary.runs.flatMap((r) => r.files)) {
      expect(await readFile(join(out, file.path!), "utf8"), file.name).not.toContain(TOKEN);
    }
    for (const file of summary.files) {
      expect(await readFile(join(out, file.path), "utf8"), file.path).not.toContain(TOKEN);
    }
    // and the raw stored bytes hold it in no column either
    const dump = await db.query<{ text: string }>(
      `SELECT string_agg(stream || content || hash, '') AS text FROM records`,
    );
    expect(dump[0]?.text).not.toContain(TOKEN);
  });

  it("soc2-bot ledger verify and export work on this ledger; a changed package file is refused unless --force", async () => {
    // the CLI opens its own connection: PGlite serves one process, so this ledger lets go first
    await ledger.close();
    const ledgerArgs = options.dir ? ["--ledger", options.dir] : [];
    const env = process.env.DATABASE_URL;
    const schema = process.env.SOC2_LEDGER_SCHEMA;
    if (options.databaseUrl) process.env.DATABASE_URL = options.databaseUrl;
    if (options.schema) process.env.SOC2_LEDGER_SCHEMA = options.schema;
    try {
      const verified = memoryIo();
      expect(await main(["ledger", "verify", ...ledgerArgs], verified)).toBe(0);
      expect(verified.out).toMatch(/ok {5}audit:github\/acme-demo: 1 record,/);
      // the audit's record, and its observation of the organization and of each repository
      const streams = 2 + served.served.repositories.length;
      expect(verified.out).toMatch(/ok {5}observation:github\/acme-demo: 1 record,/);
      expect(verified.out).toContain(
        `chains intact: ${streams} streams, ${streams} records, 13 package files checked`,
      );

      // results.json's first piece in the file store is replaced by other (valid gzip) bytes
      const tamper = openLedger(options);
      const db = await tamper.database();
      const [results] = (await tamper.auditRuns({ since, until }))[0]!.content.package.files.filter(
        (f) => f.name === "results.json",
      );
      const { gzipSync } = await import("node:zlib");
      await db.query(`UPDATE file_chunks SET data = $1 WHERE sha256 = $2 AND chunk = 0`, [
        gzipSync(Buffer.from('{"results":[]}')),
        results!.sha256,
      ]);
      await tamper.close();

      const broken = memoryIo();
      expect(await main(["ledger", "verify", ...ledgerArgs], broken)).toBe(1);
      expect(broken.err).toContain(
        "audit:github/acme-demo, record 1: the file results.json of record 1 was changed",
      );
      expect(broken.err).toContain(`expected: ${results!.sha256}`);

      const out = join(await mkdtemp(join(tmpdir(), "soc2-ledger-export-")), "export");
      const day = (d: Date) => d.toISOString();
      const refused = memoryIo();
      expect(
        await main(
          ["export", ...ledgerArgs, "--since", day(since), "--until", day(until), "--out", out, "--packages"],
          refused,
        ),
      ).toBe(1);
      expect(refused.err).toContain("the file results.json was changed in the file store");

      const forcedOut = join(await mkdtemp(join(tmpdir(), "soc2-ledger-export-")), "export");
      const forced = memoryIo();
      expect(
        await main(
          [
            "export",
            ...ledgerArgs,
            "--since",
            day(since),
            "--until",
            day(until),
            "--out",
            forcedOut,
            "--packages",
            "--force",
          ],
          forced,
        ),
      ).toBe(1);
      expect(forced.err).toMatch(
        /changed in the ledger: audit:github\/acme-demo record 1: results\.json came out as/,
      );
      const manifest = JSON.parse(await readFile(join(forcedOut, EXPORT_MANIFEST), "utf8")) as {
        mismatches: string[];
      };
      expect(manifest.mismatches).toHaveLength(1);
    } finally {
      if (env === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = env;
      if (schema === undefined) delete process.env.SOC2_LEDGER_SCHEMA;
      else process.env.SOC2_LEDGER_SCHEMA = schema;
    }
  });

  it("export refuses a ledger whose chain is broken, saying where, and exports with force", async () => {
    const again = openLedger(options);
    try {
      const db = await again.database();
      await db.exec(
        `UPDATE records SET content = replace(content, '"trigger":"cli"', '"trigger":"demo"') WHERE stream = 'audit:github/acme-demo'`,
      );
      const out = join(await mkdtemp(join(tmpdir(), "soc2-ledger-export-")), "export");
      const error = await exportPeriod(again, { since, until, outDir: out }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(LedgerBrokenError);
      expect((error as LedgerBrokenError).breaks).toEqual([
        expect.objectContaining({
          stream: "audit:github/acme-demo",
          sequence: 1,
          problem: "record 1's content does not match its hash (the record was changed)",
        }),
      ]);
      await expect(readdir(out)).rejects.toThrow(/ENOENT/);

      const forced = await exportPeriod(again, { since, until, outDir: out, force: true, packages: true });
      expect(forced.runs).toHaveLength(1);
      const manifest = JSON.parse(await readFile(join(out, EXPORT_MANIFEST), "utf8")) as {
        chains: { intact: boolean; breaks: { stream: string; sequence: number }[] };
      };
      expect(manifest.chains.intact).toBe(false);
      expect(manifest.chains.breaks).toEqual([
        expect.objectContaining({ stream: "audit:github/acme-demo", sequence: 1 }),
      ]);
    } finally {
      await again.close();
    }
  });
});
