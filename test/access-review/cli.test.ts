import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { memoryIo } from "../fixtures/memory-io.js";
import { openedText, revoke } from "./records.js";

describe("soc2-bot access-review check", () => {
  let dir: string;
  const path = (name: string) => join(dir, name);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "soc2-access-review-cli-"));
    const opened = openedText();
    await writeFile(path("opened.yml"), opened);
    await writeFile(path("decided.yml"), revoke(opened, "collaborator:bob:write", "moved to sales"));
    await writeFile(path("no-reason.yml"), opened.replace("    decision: keep", "    decision: revoke"));
    await writeFile(
      path("invented.yml"),
      opened.replace("  - id: collaborator:bob:write", "  - id: collaborator:eve:admin"),
    );
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("exits 0 on a valid review and says what it holds", async () => {
    const io = memoryIo();
    expect(
      await main(["access-review", "check", path("decided.yml"), "--opened", path("opened.yml")], io),
    ).toBe(0);
    expect(io.out).toBe(
      `ok    ${path("decided.yml")}: review 2026-Q4 of organization-admins, 2 grant(s), 1 revoked\n`,
    );
    expect(io.err).toBe("");
  });

  it("exits 2 with each problem as file:line:column", async () => {
    const io = memoryIo();
    expect(await main(["access-review", "check", path("no-reason.yml")], io)).toBe(2);
    expect(io.err).toBe(
      `${path("no-reason.yml")}:20:13 grant \`collaborator:bob:write\` is revoked without a reason: write why in \`reason\`\n`,
    );
    const invented = memoryIo();
    expect(
      await main(["access-review", "check", path("invented.yml"), "--opened", path("opened.yml")], invented),
    ).toBe(2);
    expect(invented.err).toContain(
      `${path("invented.yml")}:10:9 grant \`collaborator:eve:admin\` was not in the review as opened`,
    );
  });

  it("exits 2 when the file cannot be read or no file is given", async () => {
    const io = memoryIo();
    expect(await main(["access-review", "check", path("missing.yml")], io)).toBe(2);
    expect(io.err).toMatch(/^soc2-bot: cannot read .*missing\.yml: ENOENT/);
    expect(await main(["access-review", "check"], memoryIo())).toBe(2);
  });

  it("refuses open and apply without exactly one organization, before reaching any host", async () => {
    const io = memoryIo();
    expect(await main(["access-review", "open", "--dry-run"], io)).toBe(2);
    expect(io.err).toBe(
      "soc2-bot: access-review needs exactly one of --org NAME (GitHub) or --gitlab-group PATH (GitLab)\n",
    );
    expect(await main(["access-review", "apply", "--org", "a", "--gitlab-group", "b"], memoryIo())).toBe(2);
  });
});
