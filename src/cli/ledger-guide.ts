import { readdir, stat } from "node:fs/promises";
import { join, relative, resolve } from "node:path";

/**
 * Where the demo's embedded ledger is and the commands an auditor would run on it (both demos print
 * it): verify its chains, export the period, read the coverage report.
 */
export async function ledgerGuide(
  ledgerDir: string,
  outDir: string,
  since: Date,
  until: Date,
): Promise<string> {
  const shown = shorter(ledgerDir);
  const day = (date: Date) => date.toISOString().slice(0, 10);
  const dayAfter = (date: Date) => day(new Date(date.getTime() + 24 * 60 * 60 * 1000 - 1));
  const period = `--since ${day(since)} --until ${dayAfter(until)}`;
  return (
    `\nledger (embedded PGlite): ${ledgerDir} (${((await folderBytes(ledgerDir)) / 1e6).toFixed(1)} MB)\n` +
    `  verify its chains:   npx soc2-bot ledger verify --ledger ${shown}\n` +
    `  export the period:   npx soc2-bot export --ledger ${shown} ${period} --out ${shorter(outDir)}-export` +
    `  (population, configuration timeline, access snapshots, coverage; --packages: the package byte for byte)\n` +
    `  coverage report:     ${resolve(outDir, "coverage.md")} (again: npx soc2-bot coverage --ledger ${shown} ${period})\n`
  );
}

/** A path relative to the working directory when it lies under it, absolute otherwise. */
function shorter(path: string): string {
  const under = relative(process.cwd(), path);
  return under && !under.startsWith("..") ? under : path;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await folderBytes(path) : (await stat(path)).size;
  }
  return total;
}
