/**
 * The commands an operator and an auditor type: `soc2-bot audit` records its run in the ledger
 * (opened before collecting), `soc2-bot ledger verify` and `soc2-bot export` read it back, and the
 * demo records into its own embedded ledger and says how to verify and export it.
 */
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { period, serveSample, type ServedSample } from "../../src/sim/harness.js";
import { main } from "../../src/cli/main.js";
import type { LedgerOptions } from "../../src/ledger/index.js";
import { BACKENDS, testBackend } from "./backends.js";
import { memoryIo } from "../fixtures/memory-io.js";

const SAVED = ["GITHUB_TOKEN", "GITHUB_API_URL", "DATABASE_URL", "SOC2_LEDGER_SCHEMA", "SOC2_LEDGER_DIR"];

describe.each(BACKENDS)("soc2-bot audit, ledger verify and export on %s", (name) => {
  const backend = testBackend(name);
  const saved = Object.fromEntries(SAVED.map((key) => [key, process.env[key]]));
  let served: ServedSample;
  let options: LedgerOptions;

  beforeAll(async () => {
    served = await serveSample({ repositories: 3, pullRequestsPerRepository: 4 });
    options = await backend.fresh();
  });
  afterEach(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
  afterAll(async () => {
    await served?.sim.close();
    await backend.stop();
  });

  function environment() {
    process.env.GITHUB_TOKEN = "demo";
    process.env.GITHUB_API_URL = served.sim.url;
    delete process.env.DATABASE_URL;
    if (options.databaseUrl) process.env.DATABASE_URL = options.databaseUrl;
    if (options.schema) process.env.SOC2_LEDGER_SCHEMA = options.schema;
    return options.dir ? ["--ledger", options.dir] : [];
  }

  it("records the audit, verifies the chain and exports the package byte for byte", async () => {
    const ledgerArgs = environment();
    const { since, until } = period(served.sample);
    const out = await mkdtemp(join(tmpdir(), "soc2-cli-audit-"));
    const dates = ["--since", since.toISOString(), "--until", until.toISOString()];
    const audited = memoryIo();
    await main(
      ["audit", "--org", "acme-demo", ...dates, "--out", out, "--skip-findings", ...ledgerArgs],
      audited,
    );
    expect(audited.err).toMatch(
      /recorded in the ledger \((PGlite|PostgreSQL) at .+\): audit:github\/acme-demo record 1/,
    );

    const verified = memoryIo();
    expect(await main(["ledger", "verify", ...ledgerArgs], verified)).toBe(0);
    // the audit's run, and its observations of the organization and each repository
    expect(verified.out).toMatch(/ok {5}audit:github\/acme-demo: 1 record,/);
    expect(verified.out).toMatch(/chains intact: \d+ streams, \d+ records, 13 package files checked/);

    const exportDir = join(out, "export");
    const exported = memoryIo();
    expect(await main(["export", ...ledgerArgs, ...dates, "--out", exportDir, "--packages"], exported)).toBe(
      0,
    );
    expect(exported.out).toMatch(/exported 1 audit run and \d+ period files \(/);
    expect(exported.out).toContain("configuration-timeline.md");
    const [organization] = await readdir(exportDir, { withFileTypes: true }).then((entries) =>
      entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name),
    );
    const [run] = await readdir(join(exportDir, organization!));
    expect(await readFile(join(exportDir, organization!, run!, "results.json"))).toEqual(
      await readFile(join(out, "results.json")),
    );

    // an export into the same (now not empty) folder is refused: evidence is never mixed
    const again = memoryIo();
    expect(await main(["export", ...ledgerArgs, ...dates, "--out", exportDir], again)).toBe(2);
    expect(again.err).toContain("is not empty: export into a new or empty folder");
  });
});

describe("soc2-bot audit with a ledger that cannot be used", () => {
  const saved = Object.fromEntries(SAVED.map((key) => [key, process.env[key]]));
  let served: ServedSample;
  beforeAll(async () => {
    served = await serveSample({ repositories: 2, pullRequestsPerRepository: 2 });
  });
  afterAll(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await served?.sim.close();
  });

  it("stops before collecting, naming the ledger without its password", async () => {
    process.env.GITHUB_TOKEN = "demo";
    process.env.GITHUB_API_URL = served.sim.url;
    process.env.DATABASE_URL = "postgres://soc2:hunter2@127.0.0.1:1/none";
    const { since, until } = period(served.sample);
    const io = memoryIo();
    const args = ["--since", since.toISOString(), "--until", until.toISOString(), "--skip-findings"];
    const out = await mkdtemp(join(tmpdir(), "soc2-cli-audit-"));
    expect(await main(["audit", "--org", "acme-demo", ...args, "--out", out], io)).toBe(2);
    expect(io.err).toMatch(
      /^soc2-bot: the ledger \(PostgreSQL at postgres:\/\/soc2@127\.0\.0\.1:1\/none\) cannot be used: connect ECONNREFUSED/,
    );
    expect(io.err).not.toContain("collecting");
    expect(io.err).not.toContain("hunter2");
    expect(await readdir(out)).toEqual([]);
  });
});

describe("soc2-bot ledger verify and export read only an existing ledger", () => {
  it("says there is no ledger in a folder that holds none, and creates nothing there", async () => {
    const empty = await mkdtemp(join(tmpdir(), "soc2-no-ledger-"));
    const missing = join(empty, "typo");
    const io = memoryIo();
    expect(await main(["ledger", "verify", "--ledger", missing], io)).toBe(2);
    expect(io.err).toBe(`soc2-bot: there is no ledger at ${missing}\n`);
    const exported = memoryIo();
    const args = ["--since", "2026-01-01", "--until", "2026-02-01", "--out", join(empty, "out")];
    expect(await main(["export", "--ledger", missing, ...args], exported)).toBe(2);
    expect(exported.err).toBe(`soc2-bot: there is no ledger at ${missing}\n`);
    expect(await readdir(empty)).toEqual([]);
  });
});

describe("npm run demo", () => {
  it("records into the embedded ledger in its out folder and says how to verify and export it", async () => {
    const out = await mkdtemp(join(tmpdir(), "soc2-demo-ledger-"));
    const io = memoryIo();
    expect(await main(["demo", "--out", out], io)).toBe(0);
    const ledgerDir = join(out, "ledger");
    expect(io.out).toContain(`ledger (embedded PGlite): ${ledgerDir} (`);
    expect(io.out).toContain(`npx soc2-bot ledger verify --ledger ${ledgerDir}`);
    const exportLine = /npx soc2-bot (export --ledger \S+ --since \S+ --until \S+) --out \S+/.exec(io.out);
    expect(exportLine).not.toBeNull();

    const exportDir = join(out, "exported");
    const exported = memoryIo();
    expect(
      await main(
        [...exportLine![1]!.split(" ").slice(0), "--out", exportDir, "--packages"].slice(0),
        exported,
      ),
    ).toBe(0);
    const manifest = JSON.parse(await readFile(join(exportDir, "export-manifest.json"), "utf8")) as {
      runs: { files: { name: string; path: string | null }[] }[];
    };
    const results = manifest.runs[0]!.files.find((f) => f.name === "results.json")!;
    expect(await readFile(join(exportDir, results.path!))).toEqual(await readFile(join(out, "results.json")));
    // the demo runs a quarter's access review before its audit: past the default 30 s on a busy machine
  }, 120_000);
});
