import { readFileSync } from "node:fs";

/** The tool version recorded in snapshots and evidence manifests: package.json's version. */
export const TOOL_VERSION: string = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;
