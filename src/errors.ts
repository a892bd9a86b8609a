/**
 * The few named errors of soc2-bot. They are made at the edge (policy files, code-host answers,
 * snapshots, command-line input) and turned into a check run, a finding or an exit code at the top.
 */

export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** A policy file that cannot be used. Always names where: file, line and column. */
export class PolicyError extends Error {
  override readonly name = "PolicyError";
  constructor(readonly problems: ReadonlyArray<SourcePosition & { message: string }>) {
    super(problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`).join("\n"));
  }
}

/** A code-host answer we cannot use: names the host, the HTTP status and the permission missing. */
export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    message: string,
    readonly details: { host: "github" | "gitlab"; status?: number; permission?: string; cause?: unknown },
  ) {
    super(message, { cause: details.cause });
  }
}

/** A snapshot file that does not match the schema, with the path of the first offending field. */
export class SnapshotError extends Error {
  override readonly name = "SnapshotError";
}

/** Command-line input a person has to correct (exit code 2). */
export class UsageError extends Error {
  override readonly name = "UsageError";
}
