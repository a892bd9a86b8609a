/**
 * The evidence package is replaced whole: it is written into a temporary folder beside the target
 * (same file system, so renames are atomic), manifest last, and moved into place only when complete.
 * A crash while writing leaves the old package as it was; the folder left behind is named so it is
 * never taken for a package (a leading dot and ".writing-").
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** The files of an evidence package, manifest last: what may be replaced in a folder. */
export const PACKAGE_FILES = [
  "population.csv",
  "direct-pushes.csv",
  "access.csv",
  "access-reviews.csv",
  "results.json",
  "results.csv",
  "snapshot.json",
  "summary.md",
  "coverage.md",
  "report.html",
  "results.sarif",
  "assessment-results.oscal.json",
  "manifest.json",
] as const;

/** A fresh folder beside `outDir` for a package being written (created, with its parents). */
export async function temporarySibling(outDir: string, purpose: "writing" | "spool"): Promise<string> {
  const parent = dirname(outDir);
  await mkdir(parent, { recursive: true });
  await restoreInterrupted(outDir);
  const dir = join(
    parent,
    `.${basename(outDir)}.${purpose}-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  await mkdir(dir);
  return dir;
}

/**
 * Moves the complete package in `written` to `outDir`. A folder holding nothing but a package (or
 * nothing, or no folder) is swapped whole: renamed aside, the new one renamed in, the old removed.
 * A folder that holds other things too (the demo keeps its ledger there) keeps them: its manifest
 * is removed first, each file is renamed over the old one, and the manifest comes last, so at no
 * time does a manifest describe files it does not match.
 */
export async function replacePackage(written: string, outDir: string): Promise<void> {
  const existing = await entriesOf(outDir);
  if (existing === null) {
    await rename(written, outDir);
    return;
  }
  const foreign = existing.filter((name) => !(PACKAGE_FILES as readonly string[]).includes(name));
  if (foreign.length === 0) {
    const aside = `${join(dirname(outDir), `.${basename(outDir)}.previous`)}-${randomBytes(4).toString("hex")}`;
    await rename(outDir, aside);
    await rename(written, outDir);
    await rm(aside, { recursive: true, force: true });
    return;
  }
  const manifest = "manifest.json";
  await rm(join(outDir, manifest), { force: true });
  for (const name of PACKAGE_FILES) {
    if (name === manifest) continue;
    if ((await entriesOf(join(written, name), true)) !== null)
      await rename(join(written, name), join(outDir, name));
  }
  await rename(join(written, manifest), join(outDir, manifest));
  await rm(written, { recursive: true, force: true });
}

/**
 * A crash between the two renames of a whole swap leaves no package folder, and the old one
 * beside it: it is put back before anything else is written.
 */
async function restoreInterrupted(outDir: string): Promise<void> {
  if ((await entriesOf(outDir)) !== null) return;
  const prefix = `.${basename(outDir)}.previous-`;
  const aside = (await readdir(dirname(outDir))).filter((name) => name.startsWith(prefix)).sort();
  const last = aside[aside.length - 1];
  if (last !== undefined) await rename(join(dirname(outDir), last), outDir);
}

/** The names in a folder, null when there is none (or, with `file`, [] for an existing file). */
async function entriesOf(path: string, file = false): Promise<string[] | null> {
  try {
    if (file) {
      await stat(path);
      return [];
    }
    return await readdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}
