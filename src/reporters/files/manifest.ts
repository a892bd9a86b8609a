/**
 * manifest.json: what the evidence package holds and how to check it was not altered: each file's
 * SHA-256 and size, the tool version, the policy it was evaluated against and where the facts came from.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { stableJson } from "./results-json.js";

export interface ManifestFile {
  name: string;
  sha256: string;
  bytes: number;
}

export interface ManifestInput {
  files: ManifestFile[];
  toolVersion: string;
  policy: { sources: string[]; hash: string };
  period: { since: string; until: string } | null;
  collectedAt: string;
  host: "github" | "gitlab";
  baseUrl: string;
}

export function buildManifest(input: ManifestInput): string {
  const files = [...input.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return stableJson({
    tool: "soc2-bot",
    toolVersion: input.toolVersion,
    policy: { sources: input.policy.sources, hash: input.policy.hash },
    period: input.period,
    collectedAt: input.collectedAt,
    host: input.host,
    baseUrl: input.baseUrl,
    hashAlgorithm: "sha256",
    files: files.map((file) => ({ name: file.name, sha256: file.sha256, bytes: file.bytes })),
  });
}

/** The SHA-256 (hex) and size of a file, read as a stream so large populations do not fill memory. */
export async function sha256File(path: string): Promise<ManifestFile & { path: string }> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  const { size } = await stat(path);
  return { path, name: path.split(/[\\/]/).pop() ?? path, sha256: hash.digest("hex"), bytes: size };
}
