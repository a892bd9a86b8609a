/**
 * An output folder is checked before anything is written, so a path that cannot be written is a
 * one-line error (exit 2), not a stack trace halfway through: its parent folders are created one
 * level at a time (Node's recursive mkdir never returns for a path under /proc), and a probe folder
 * is made and removed where the package will be written, which is the only test a file system
 * cannot answer wrongly (permissions, read-only mounts, /proc and /sys all refuse it).
 */
import { mkdir, mkdtemp, rmdir, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.js";

export async function checkOutputFolder(out: string, flag = "--out"): Promise<void> {
  const target = resolve(out);
  const existing = await statOf(target);
  if (existing && !existing.isDirectory()) {
    throw new UsageError(`${flag} ${out}: a file is there, not a folder`);
  }
  const parent = dirname(target);
  await createFolders(parent, flag, out);
  await probe(parent, `.${basename(target)}.probe-`, flag, out);
  if (existing) await probe(target, ".soc2-bot.probe-", flag, out);
}

/** Creates `folder` and any missing parents, one level at a time. */
async function createFolders(folder: string, flag: string, out: string): Promise<void> {
  const missing: string[] = [];
  let current = folder;
  for (;;) {
    const found = await statOf(current);
    if (found) {
      if (!found.isDirectory()) throw new UsageError(`${flag} ${out}: ${current} is a file, not a folder`);
      break;
    }
    missing.unshift(current);
    const up = dirname(current);
    if (up === current) break;
    current = up;
  }
  for (const level of missing) {
    try {
      await mkdir(level);
    } catch (error) {
      if (codeOf(error) === "EEXIST") continue;
      throw new UsageError(`${flag} ${out}: cannot create the folder ${level} (${reason(error)})`);
    }
  }
}

async function probe(folder: string, prefix: string, flag: string, out: string): Promise<void> {
  let made: string;
  try {
    made = await mkdtemp(join(folder, prefix));
  } catch (error) {
    throw new UsageError(`${flag} ${out}: cannot write in ${folder} (${reason(error)})`);
  }
  await rmdir(made);
}

async function statOf(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (error) {
    if (codeOf(error) === "ENOENT" || codeOf(error) === "ENOTDIR") return null;
    throw new UsageError(`cannot look at ${path} (${reason(error)})`);
  }
}

function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/** "permission denied, EACCES": the system's words without the path repeated. */
function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const match = /^([A-Z]+): ([^,]+)/.exec(message);
  return match ? `${match[2]}, ${match[1]}` : message;
}
