import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main, reportError } from "../../src/cli/main.js";
import { makeChangeRequest, makeSnapshot } from "../fixtures/build.js";
import { memoryIo } from "../fixtures/memory-io.js";

async function tempFile(name: string, content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "soc2-cli-"));
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

describe("soc2-bot evaluate", () => {
  it("exits 0 when every control passes", async () => {
    const io = memoryIo();
    const snapshot = await tempFile("snapshot.json", JSON.stringify(makeSnapshot()));
    expect(await main(["evaluate", "--snapshot", snapshot], io)).toBe(0);
    expect(io.out).toContain("cc8.independent-approval");
  });

  it("exits 1 when a control fails, and names the failing change", async () => {
    const io = memoryIo();
    const failing = makeSnapshot({ changeRequests: [makeChangeRequest({ reviews: [] })] });
    const snapshot = await tempFile("snapshot.json", JSON.stringify(failing));
    expect(await main(["evaluate", "--snapshot", snapshot], io)).toBe(1);
    expect(io.out).toContain("acme/api#12");
  });

  it("exits 2 naming the field when the snapshot is not a snapshot", async () => {
    const io = memoryIo();
    const broken = { ...makeSnapshot(), repositories: [{ fullName: 42 }] };
    const snapshot = await tempFile("snapshot.json", JSON.stringify(broken));
    expect(await main(["evaluate", "--snapshot", snapshot], io)).toBe(2);
    expect(io.err).toMatch(/repositories\.0\./);
  });

  it("exits 2 on unreadable JSON, a missing option, an unknown option or an unknown command", async () => {
    const notJson = await tempFile("snapshot.json", "{ not json");
    for (const argv of [
      ["evaluate", "--snapshot", notJson],
      ["evaluate"],
      ["evaluate", "--snapshot", notJson, "--bogus"],
      ["evaluate", "--snapshot", notJson, "--format", "xml"],
      ["frobnicate"],
    ]) {
      const io = memoryIo();
      expect(await main(argv, io)).toBe(2);
      expect(io.err.length).toBeGreaterThan(0);
    }
  });

  it("layers --policy over the default and records it, so the saved snapshot re-evaluates alike", async () => {
    const failing = makeSnapshot({ changeRequests: [makeChangeRequest({ reviews: [] })] });
    const snapshot = await tempFile("snapshot.json", JSON.stringify(failing));
    const policy = await tempFile(
      "org.yml",
      "version: 1\ncontrols:\n  cc8.independent-approval:\n    enabled: false\n  cc8.approval-covers-final-code:\n    enabled: false\n  cc8.no-bypass:\n    enabled: false\n" +
        // bob, who wrote nothing in it, would fail as inactive write access
        "  cc6.inactive-access:\n    enabled: false\n",
    );
    const out = await mkdtemp(join(tmpdir(), "soc2-out-"));
    const io = memoryIo();
    expect(
      await main(
        ["evaluate", "--snapshot", snapshot, "--policy", policy, "--out", out, "--format", "json"],
        io,
      ),
    ).toBe(0);
    const again = memoryIo();
    expect(
      await main(["evaluate", "--snapshot", join(out, "snapshot.json"), "--format", "json"], again),
    ).toBe(0);
    expect(again.out).toBe(await readFile(join(out, "results.json"), "utf8"));
  });

  it("exits 2 with file, line and column when --policy is broken", async () => {
    const snapshot = await tempFile("snapshot.json", JSON.stringify(makeSnapshot()));
    const policy = await tempFile("org.yml", "version: 1\ncontrols:\n  cc8.independant-approval: {}\n");
    const io = memoryIo();
    expect(await main(["evaluate", "--snapshot", snapshot, "--policy", policy], io)).toBe(2);
    expect(io.err).toMatch(/org\.yml:3:3/);
    expect(io.err).toMatch(/did you mean/i);
  });
});

describe("soc2-bot policy check", () => {
  it("accepts the shipped default and rejects a broken file with its position", async () => {
    const ok = memoryIo();
    expect(await main(["policy", "check", "policies/soc2.yml"], ok)).toBe(0);
    const broken = await tempFile("bad.yml", "version: 1\nproduction_branches:\n  paterns: [main]\n");
    const io = memoryIo();
    expect(await main(["policy", "check", broken], io)).toBe(2);
    expect(io.err).toMatch(/bad\.yml:3:3/);
  });
});

describe("soc2-bot demo", () => {
  it("evaluates the sample organization, finds every planted violation and writes the package", async () => {
    const out = await mkdtemp(join(tmpdir(), "soc2-demo-"));
    const io = memoryIo();
    expect(await main(["demo", "--out", out], io)).toBe(0);
    expect(io.out).toMatch(/planted violations found: (\d+) of \1/);
    const manifest = JSON.parse(await readFile(join(out, "manifest.json"), "utf8")) as {
      files: { name: string }[];
    };
    expect(manifest.files.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        "population.csv",
        "report.html",
        "results.json",
        "snapshot.json",
        "summary.md",
      ]),
    );
  });

  it("runs the same audit on a simulated GitLab group with --gitlab", async () => {
    const out = await mkdtemp(join(tmpdir(), "soc2-demo-gitlab-"));
    const io = memoryIo();
    expect(await main(["demo", "--gitlab", "--out", out], io)).toBe(0);
    expect(io.out).toMatch(/found: (\d+) of \1/);
    expect(JSON.parse(await readFile(join(out, "manifest.json"), "utf8"))).toMatchObject({ host: "gitlab" });
  });
});

describe("soc2-bot evaluate: output paths and empty snapshots", () => {
  /** The command's exit code, failing the test instead of waiting when the command never returns. */
  async function exitOf(argv: string[], io: ReturnType<typeof memoryIo>): Promise<number | "no answer"> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"no answer">((resolve) => {
      timer = setTimeout(() => resolve("no answer"), 15_000);
    });
    try {
      return await Promise.race([main(argv, io), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  it("exits 2 with one line, no stack trace, for an --out it cannot write, /proc included", async () => {
    const snapshot = await tempFile("snapshot.json", JSON.stringify(makeSnapshot()));
    const aFile = await tempFile("not-a-folder", "x");
    for (const [out, message] of [
      ["/proc/x", "--out /proc/x: cannot write in /proc (no such file or directory, ENOENT)"],
      [
        "/proc/deeper/package",
        "--out /proc/deeper/package: cannot create the folder /proc/deeper (no such file or directory, ENOENT)",
      ],
      [join(aFile, "package"), `--out ${join(aFile, "package")}: ${aFile} is a file, not a folder`],
      [aFile, `--out ${aFile}: a file is there, not a folder`],
    ] as const) {
      const io = memoryIo();
      expect({ out, exit: await exitOf(["evaluate", "--snapshot", snapshot, "--out", out], io) }).toEqual({
        out,
        exit: 2,
      });
      expect(io.err).toBe(`soc2-bot: ${message}\n`);
      expect(io.out).toBe("");
    }
  });

  it("checks --out before any work for every command that writes a folder", async () => {
    for (const argv of [
      ["audit", "--org", "acme", "--since", "2026-01-01", "--until", "2026-02-01", "--out", "/proc/a/b"],
      ["export", "--since", "2026-01-01", "--until", "2026-02-01", "--out=/proc/a/b"],
      ["coverage", "--since", "2026-01-01", "--until", "2026-02-01", "--out", "/proc/a/b"],
      ["demo", "--out", "/proc/a/b"],
    ]) {
      const io = memoryIo();
      expect({ argv, exit: await exitOf(argv, io) }).toEqual({ argv, exit: 2 });
      expect(io.err).toBe(
        "soc2-bot: --out /proc/a/b: cannot create the folder /proc/a (no such file or directory, ENOENT)\n",
      );
    }
  });

  it("creates missing parent folders of --out and writes the package there", async () => {
    const snapshot = await tempFile("snapshot.json", JSON.stringify(makeSnapshot()));
    const out = join(await mkdtemp(join(tmpdir(), "soc2-out-")), "a", "b", "package");
    const io = memoryIo();
    expect(await main(["evaluate", "--snapshot", snapshot, "--out", out], io)).toBe(0);
    expect(JSON.parse(await readFile(join(out, "manifest.json"), "utf8"))).toBeTruthy();
  });

  it("exits 2 on a snapshot with nothing in it instead of passing", async () => {
    const empty = makeSnapshot({
      organization: null,
      repositories: [],
      changeRequests: [],
      directPushes: [],
    });
    const snapshot = await tempFile("snapshot.json", JSON.stringify(empty));
    const io = memoryIo();
    expect(await main(["evaluate", "--snapshot", snapshot], io)).toBe(2);
    expect(io.err).toBe(
      `soc2-bot: ${snapshot}: the snapshot is empty (no organization, repositories, change requests or direct pushes): there is nothing to evaluate\n`,
    );
    expect(io.out).toBe("");
  });

  it("exits 2 when the policy leaves no control to evaluate: no result is no pass", async () => {
    const snapshot = await tempFile("snapshot.json", JSON.stringify(makeSnapshot()));
    const off = (await import("../../src/controls/index.js")).CONTROLS.map(
      (control) => `  ${control.id}:\n    enabled: false\n`,
    ).join("");
    const policy = await tempFile("org.yml", `version: 1\ncontrols:\n${off}`);
    const io = memoryIo();
    expect(await main(["evaluate", "--snapshot", snapshot, "--policy", policy], io)).toBe(2);
    expect(io.err).toBe(
      `soc2-bot: ${snapshot}: no control applies to anything in this snapshot: nothing was evaluated\n`,
    );
  });
});

describe("reportError", () => {
  it("reports a path the file system refused on one line, exit 2, for every command", async () => {
    const refused = await mkdir(join("/proc", "soc2-bot-test", "ledger")).catch((error: unknown) => error);
    const io = memoryIo();
    expect(reportError(refused, io)).toBe(2);
    expect(io.err).toBe("soc2-bot: ENOENT: no such file or directory, mkdir '/proc/soc2-bot-test/ledger'\n");
  });
});
