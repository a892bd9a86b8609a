#!/usr/bin/env -S node --max-semi-space-size=2
// V8's young generation is capped at 2 MB a semi-space: commands that stream a year of the ledger
// (export, coverage) allocate short-lived records fast, and the default 16 MB semi-spaces (three of
// them) alone were a sixth of their peak memory. It is a size, not a limit on what a command may keep.
// Runs the TypeScript CLI through tsx's loader, so the tool needs no build step.
import { register } from "tsx/esm/api";

register();
// Settings kept in .env (as the app's manifest flow writes them) apply; the environment wins.
const { loadEnvFile } = await import("../src/env-file.ts");
loadEnvFile();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
