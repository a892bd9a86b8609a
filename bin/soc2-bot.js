#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=2
// V8's young generation is capped at 2 MB a semi-space: commands that stream a year of the ledger
// (export, coverage) allocate short-lived records fast, and the default 16 MB semi-spaces (three of
// them) alone were a sixth of their peak memory. It is a size, not a limit on what a command may keep.
// MALLOC_MMAP_THRESHOLD_ (glibc; other C libraries ignore it) keeps every allocation of 128 KiB or
// more in its own mapping, returned to the system when freed. glibc's default raises that threshold
// to the largest block freed so far, so once a ledger query's result (PGlite copies each into a new
// buffer) or a decompressed 1 MiB piece of a stored file had been freed, the next ones came from the
// malloc heaps of whichever threads (main, zlib's thread pool) asked, and those heaps kept their high
// water mark: a year's export peaked about 35 MiB higher (bench/results.md, ledger section).
// Runs the TypeScript CLI through tsx's loader, so the tool needs no build step.
import { register } from "tsx/esm/api";

register();
// Settings kept in .env (as the app's manifest flow writes them) apply; the environment wins.
const { loadEnvFile } = await import("../src/env-file.ts");
loadEnvFile();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
