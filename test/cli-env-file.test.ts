/**
 * `soc2-bot` (bin/soc2-bot.js, as npx runs it) reads .env from the working directory, and a variable
 * set in the environment wins over the file. The settings used are invalid on purpose, so the command
 * stops before any request: the error names the value that was read.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../bin/soc2-bot.js", import.meta.url));

function run(cwd: string, env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(GITHUB_|GHE_|APP_ID|PRIVATE_KEY|INSTALLATION_ID)/.test(name),
    ),
  );
  const args = ["audit", "--org", "acme", "--since", "2026-01-01", "--until", "2026-01-02", "--skip-ledger"];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args, "--out", join(cwd, "out")],
      { cwd, env: { ...clean, ...env }, timeout: 60_000 },
      (error, _stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stderr }),
    );
  });
}

describe("the command line's .env", () => {
  const dir = mkdtempSync(join(tmpdir(), "soc2-cli-env-"));
  writeFileSync(join(dir, ".env"), "GITHUB_TOKEN=from-file\nGITHUB_API_URL=ftp://file.example/api/v3\n");

  it("is read from the working directory", async () => {
    const { code, stderr } = await run(dir, {});
    expect(stderr).toContain('GITHUB_API_URL must be an http(s) URL, not "ftp://file.example/api/v3"');
    expect(code).toBe(2);
  });

  it("loses to the environment", async () => {
    const { code, stderr } = await run(dir, { GITHUB_API_URL: "gopher://environment.example" });
    expect(stderr).toContain('not "gopher://environment.example"');
    expect(code).toBe(2);
  });
});
