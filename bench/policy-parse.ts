/**
 * What the largest policy file the parser accepts (1 MiB) costs, in the shapes a hostile branch can
 * give it: thousands of unknown keys at the top, unknown control ids, unknown settings of a control,
 * a people directory, exceptions, long lists. Each file is parsed three times in one process (the
 * first includes the JIT warming up); the last wall and CPU times are printed. The parse is
 * synchronous, so its wall time is how long it holds the app's event loop.
 *
 * Run: npx tsx bench/policy-parse.ts
 */
import { CONTROLS } from "../src/controls/index.js";
import { PolicyError } from "../src/errors.js";
import { parsePolicyLayer } from "../src/policy/index.js";

const MIB = 1024 * 1024;

/** `head`, then `line(i)` for i = 0, 1, … while the file stays within 1 MiB. */
function fileOf(head: string, line: (index: number) => string): { text: string; lines: number } {
  const parts = [head];
  let bytes = Buffer.byteLength(head);
  for (let index = 0; ; index++) {
    const next = line(index);
    if (bytes + Buffer.byteLength(next) > MIB) return { text: parts.join(""), lines: index };
    parts.push(next);
    bytes += Buffer.byteLength(next);
  }
}

const SHAPES: Record<string, { text: string; lines: number }> = {
  "unknown top-level keys": fileOf("version: 1\n", (i) => `unknown_key_number_${i}: 1\n`),
  "unknown control ids": fileOf("version: 1\ncontrols:\n", (i) => `  cc8.unknown-${i}: { enabled: true }\n`),
  "unknown settings of a control": fileOf(
    "version: 1\ncontrols:\n  cc8.approved:\n",
    (i) => `    setting_${i}: 1\n`,
  ),
  "people directory": fileOf("version: 1\npeople:\n", (i) => `  p${i}: { github: [u${i}] }\n`),
  "exceptions for unknown controls": fileOf(
    "version: 1\nexceptions:\n",
    (i) =>
      `  - { control: cc8.nope${i}, subject: { user: u${i} }, reason: r, approved_by: a, expires: 2026-01-01 }\n`,
  ),
  "branch patterns": fileOf(
    "version: 1\nproduction_branches:\n  patterns:\n",
    (i) => `    - "release/${i}/**"\n`,
  ),
  "one person's logins": fileOf(
    "version: 1\npeople:\n  alice:\n    github:\n",
    (i) => `      - login-${i}\n`,
  ),
};

for (const [name, { text, lines }] of Object.entries(SHAPES)) {
  let wall = 0;
  let cpu = 0;
  let problems = 0;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    const usage = process.cpuUsage();
    try {
      parsePolicyLayer(text, "policy.yml", CONTROLS, { layer: "organization" });
      problems = 0;
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      problems = error.problems.length;
    }
    const used = process.cpuUsage(usage);
    wall = performance.now() - started;
    cpu = (used.user + used.system) / 1000;
  }
  console.log(
    `${name.padEnd(32)} ${String(Buffer.byteLength(text)).padStart(8)} bytes ${String(lines).padStart(6)} entries ` +
      `${wall.toFixed(0).padStart(5)} ms wall ${cpu.toFixed(0).padStart(5)} ms cpu  ${problems} problems`,
  );
}
