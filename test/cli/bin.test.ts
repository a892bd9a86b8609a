import { execFile } from "node:child_process";
import { dirname, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);

describe("bin/soc2-bot.js", () => {
  // as npx runs it: by its shebang (env -S, the malloc setting and Node's flags), not as `node bin/…`
  it("starts through its shebang", async () => {
    const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}` };
    const help = await run(resolve("bin/soc2-bot.js"), ["--help"], { env });
    expect(help.stdout).toContain("soc2-bot export --since DATE --until DATE");
  }, 60_000);
});
