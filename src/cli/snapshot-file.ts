import { readFile } from "node:fs/promises";
import { SnapshotError } from "../errors.js";
import { Snapshot } from "../model/index.js";

/** Reads and validates a snapshot file; the first offending field is named in the error. */
export async function readSnapshotFile(path: string): Promise<Snapshot> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new SnapshotError(`${path}: not a readable JSON file (${(error as Error).message})`);
  }
  return parseSnapshot(raw, path);
}

export function parseSnapshot(raw: unknown, source: string): Snapshot {
  const parsed = Snapshot.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "(top level)";
    throw new SnapshotError(`${source}: not a soc2-bot snapshot: ${where}: ${issue?.message ?? "invalid"}`);
  }
  const snapshot = parsed.data;
  // A collection that read nothing (a wrong organization name, a token that sees nothing) must not
  // evaluate to "every control passes".
  if (
    snapshot.organization === null &&
    snapshot.repositories.length === 0 &&
    snapshot.changeRequests.length === 0 &&
    snapshot.directPushes.length === 0
  ) {
    throw new SnapshotError(
      `${source}: the snapshot is empty (no organization, repositories, change requests or direct pushes): there is nothing to evaluate`,
    );
  }
  return snapshot;
}
