import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FINDINGS_REPOSITORY, period, serveSample, type ServedSample } from "../../src/sim/harness.js";
import { withCliReference } from "../../src/cli/help-reference.js";
import { main } from "../../src/cli/main.js";
import { allCommands, buildProgram } from "../../src/cli/program.js";
import { TOOL_VERSION } from "../../src/version.js";
import { makeChangeRequest, makeSnapshot } from "../fixtures/build.js";
import { memoryIo } from "../fixtures/memory-io.js";

async function tempFile(name: string, content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "soc2-program-"));
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

/** Every command's words ("policy check"), as the parser declares them. */
function commandPaths(): string[][] {
  const never = () => Promise.reject(new Error("not run"));
  const program = buildProgram(
    memoryIo(),
    {
      evaluate: never,
      policyCheck: never,
      audit: never,
      demo: never,
      doctor: never,
      ledgerVerify: never,
      export: never,
      coverage: never,
    },
    () => {},
  );
  return allCommands(program).map(({ path }) => path.split(" ").slice(1));
}

describe("soc2-bot --version and --help", () => {
  it("prints the tool's version, exit 0", async () => {
    for (const flag of ["--version", "-V"]) {
      const io = memoryIo();
      expect(await main([flag], io)).toBe(0);
      expect(io.out).toBe(`${TOOL_VERSION}\n`);
    }
  });

  it("answers --help on every command and subcommand, within 80 columns, exit 0, running nothing", async () => {
    const paths = commandPaths();
    expect(paths.map((p) => p.join(" "))).toEqual(
      expect.arrayContaining([
        "",
        "evaluate",
        "policy",
        "policy check",
        "audit",
        "ledger verify",
        "coverage",
      ]),
    );
    for (const words of paths) {
      const io = memoryIo();
      expect({ words, exit: await main([...words, "--help"], io) }).toEqual({ words, exit: 0 });
      expect(io.out).toContain(`Usage: ${["soc2-bot", ...words].join(" ")}`);
      expect(io.err).toBe("");
      for (const line of io.out.split("\n"))
        expect({ words, line, width: line.length <= 80 }).toMatchObject({ width: true });
    }
  });

  it("lists every option the audit takes, --skip-findings and --concurrency included", async () => {
    const io = memoryIo();
    expect(await main(["audit", "--help"], io)).toBe(0);
    for (const option of [
      "--org",
      "--gitlab-group",
      "--since",
      "--until",
      "--policy",
      "--out",
      "--skip-findings",
      "--concurrency",
      "--ledger",
      "--skip-ledger",
    ]) {
      expect(io.out).toContain(option);
    }
  });

  it("says the exit codes, 3 included, in the top-level help", async () => {
    const io = memoryIo();
    expect(await main(["--help"], io)).toBe(0);
    expect(io.out).toMatch(/^ {2}3 {2}the code host is unreachable or refused the request$/m);
    expect(io.out).toContain("soc2-bot export --since DATE --until DATE");
  });

  it("policy check --help is help, not a file named --help", async () => {
    const io = memoryIo();
    expect(await main(["policy", "check", "--help"], io)).toBe(0);
    expect(io.out).toContain("Usage: soc2-bot policy check [FILE...] [--org FILE] [--repo FILE]");
    expect(io.err).not.toContain("cannot read");
  });

  it("exits 2 naming an unknown option, a missing command or a value out of its choices", async () => {
    for (const [argv, message] of [
      [["audit", "--bogus"], "soc2-bot: unknown option '--bogus'"],
      [["policy", "check"], "soc2-bot: policy check needs FILE... or --org FILE / --repo FILE"],
      [["evaluate", "--format", "xml"], "soc2-bot: option '--format <format>' argument 'xml' is invalid"],
      [["audit", "--ledger", "x", "--skip-ledger"], "cannot be used with option"],
    ] as const) {
      const io = memoryIo();
      expect({ argv, exit: await main([...argv], io) }).toEqual({ argv, exit: 2 });
      expect(io.err).toContain(message);
    }
  });

  it("the README's command-line reference is the parser's own help (npm run docs)", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    expect(withCliReference(readme)).toBe(readme);
    expect(readme).toContain("$ soc2-bot audit --help");
  });
});

describe("soc2-bot evaluate's output", () => {
  it("is a table on a terminal and Markdown in a pipe; the totals count not-applicable", async () => {
    const failing = makeSnapshot({ changeRequests: [makeChangeRequest({ reviews: [] })] });
    const snapshot = await tempFile("snapshot.json", JSON.stringify(failing));
    const io = Object.assign(memoryIo(), { terminal: true });
    expect(await main(["evaluate", "--snapshot", snapshot], io)).toBe(1);
    expect(io.out).toMatch(/^control +criterion +pass +fail +unknown +excepted +n\/a$/m);
    expect(io.out).toMatch(
      /^\d+ results: \d+ pass, \d+ fail, \d+ unknown, \d+ excepted, \d+ not applicable$/m,
    );
    expect(io.out).toMatch(/^ {2}cc8\.independent-approval {2}change-request acme\/api#12: /m);
    expect(io.out).not.toContain("\\");

    const piped = memoryIo();
    expect(await main(["evaluate", "--snapshot", snapshot], piped)).toBe(1);
    expect(piped.out).toMatch(/^# SOC 2 evidence summary/);

    const asked = Object.assign(memoryIo(), { terminal: true });
    expect(await main(["evaluate", "--snapshot", snapshot, "--format", "md"], asked)).toBe(1);
    expect(asked.out).toBe(piped.out);
  });

  it("adds up: the totals line's parts sum to its count of results", async () => {
    const snapshot = await tempFile("snapshot.json", JSON.stringify(makeSnapshot()));
    const io = Object.assign(memoryIo(), { terminal: true });
    await main(["evaluate", "--snapshot", snapshot], io);
    const [, total, ...parts] =
      /^(\d+) results: (\d+) pass, (\d+) fail, (\d+) unknown, (\d+) excepted, (\d+) not applicable$/m
        .exec(io.out)!
        .map(Number);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
  });
});

describe("soc2-bot audit against a host that does not answer", () => {
  const saved = { token: process.env.GITHUB_TOKEN, url: process.env.GITHUB_API_URL };
  afterEach(() => {
    for (const [key, value] of [
      ["GITHUB_TOKEN", saved.token],
      ["GITHUB_API_URL", saved.url],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  /** A loopback port nothing listens on: taken, then released. */
  async function closedPort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }

  it("exits 3 within seconds naming the URL, before collecting anything", async () => {
    const url = `http://127.0.0.1:${await closedPort()}/api/v3`;
    process.env.GITHUB_TOKEN = "test-token";
    process.env.GITHUB_API_URL = url;
    const out = join(await mkdtemp(join(tmpdir(), "soc2-unreachable-")), "package");
    const io = memoryIo();
    const started = Date.now();
    const argv = ["audit", "--org", "acme", "--since", "2026-01-01", "--until", "2026-02-01"];
    expect(await main([...argv, "--skip-ledger", "--out", out], io)).toBe(3);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(io.err).toBe(
      `soc2-bot: code host unreachable: ${new URL(url).host}: ECONNREFUSED: connect ECONNREFUSED ${new URL(url).host}\n`,
    );
    expect(io.err).not.toContain("permission");
    expect(io.err).not.toContain("collecting");
  });
});

describe("soc2-bot policy check: _extends, Probot's config convention", () => {
  it("accepts `_extends: .github` (the layering it names is the one applied) and refuses other sources at their position", async () => {
    const accepted = await tempFile("repo.yml", "version: 1\n_extends: .github\n");
    const ok = memoryIo();
    expect(await main(["policy", "check", accepted], ok)).toBe(0);
    expect(ok.out).toBe(`${accepted}: ok\n`);

    const other = await tempFile("repo.yml", "version: 1\n_extends: acme/shared:policies/soc2.yml\n");
    const refused = memoryIo();
    expect(await main(["policy", "check", other], refused)).toBe(2);
    expect(refused.err).toBe(
      `${other}:2:11: \`_extends: acme/shared:policies/soc2.yml\` is not supported: only \`_extends: .github\` ` +
        "(the organization's `.github/soc2.yml`, always the layer below a repository's policy); give other layers with --policy\n",
    );
  });
});

describe("soc2-bot policy check --org --repo: the stack as the app layers it", () => {
  const org = "version: 1\ncontrols:\n  cc8.independent-approval:\n    min_approvals: 2\n    locked: true\n";

  it("reports a repository layer weakening a locked control, with both positions, exit 2", async () => {
    const orgFile = await tempFile("org.yml", org);
    const repoFile = await tempFile(
      "repo.yml",
      "version: 1\ncontrols:\n  cc8.independent-approval:\n    min_approvals: 1\n",
    );
    const io = memoryIo();
    expect(await main(["policy", "check", "--org", orgFile, "--repo", repoFile], io)).toBe(2);
    expect(io.err).toBe(
      `${repoFile}:3:3: cc8.independent-approval is locked by ${orgFile}:3:3; ${repoFile}:3:3 cannot change it ` +
        "(sets min_approvals to 1; the locked value is 2)\n" +
        `policies/soc2.yml < ${orgFile} < ${repoFile}: the stack cannot be used\n`,
    );
  });

  it("accepts a repository layer that only tightens, and refuses people declared by a repository", async () => {
    const orgFile = await tempFile("org.yml", org);
    const stricter = await tempFile(
      "repo.yml",
      "version: 1\ncontrols:\n  cc6.owner-count:\n    max_owners: 2\n",
    );
    const ok = memoryIo();
    expect(await main(["policy", "check", "--org", orgFile, "--repo", stricter], ok)).toBe(0);
    expect(ok.out).toBe(`policies/soc2.yml < ${orgFile} < ${stricter}: ok\n`);

    const people = await tempFile("repo.yml", "version: 1\npeople:\n  mallory: { github: [mallory] }\n");
    const refused = memoryIo();
    expect(await main(["policy", "check", "--repo", people], refused)).toBe(2);
    expect(refused.err).toContain("`people` is declared by the organization's policy, not a repository's");
    // checked on its own, the same file is a valid organization layer
    const alone = memoryIo();
    expect(await main(["policy", "check", people], alone)).toBe(0);
  });
});

describe("soc2-bot doctor, and audit's findings repository checked before collecting", () => {
  let served: ServedSample;
  const saved = { token: process.env.GITHUB_TOKEN, url: process.env.GITHUB_API_URL };
  beforeAll(async () => {
    served = await serveSample({ repositories: 2, pullRequestsPerRepository: 2 });
    process.env.GITHUB_TOKEN = "demo";
    process.env.GITHUB_API_URL = served.sim.url;
  });
  afterAll(async () => {
    for (const [key, value] of [
      ["GITHUB_TOKEN", saved.token],
      ["GITHUB_API_URL", saved.url],
    ] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await served?.sim.close();
  });

  it("says the host answers, whose credentials these are and that the findings repository is readable", async () => {
    const organization = served.served.organization!.login;
    const io = memoryIo();
    expect(await main(["doctor", "--org", organization], io)).toBe(0);
    expect(io.out).toContain(`ok    github answers at ${served.sim.url}\n`);
    expect(io.out).toMatch(/^ok {4}credentials of /m);
    expect(io.out).toContain(
      `ok    findings repository ${organization}/${FINDINGS_REPOSITORY}: 0 finding issues\n`,
    );
  });

  it("audit --dry-run prints the finding issues it would open and writes none", async () => {
    const organization = served.served.organization!.login;
    const { since, until } = period(served.sample);
    const out = join(await mkdtemp(join(tmpdir(), "soc2-dry-run-")), "package");
    const io = memoryIo();
    const argv = [
      "audit",
      "--org",
      organization,
      "--since",
      since.toISOString(),
      "--until",
      until.toISOString(),
    ];
    expect(await main([...argv, "--dry-run", "--out", out], io)).toBe(1);
    const planned = io.out.split("\n").filter((line) => line.startsWith("dry run: would open an issue in "));
    expect(planned.length).toBeGreaterThan(0);
    expect(planned[0]).toContain(`${organization}/${FINDINGS_REPOSITORY}: "`);
    const issues = served.world.repositories.get(`${organization}/${FINDINGS_REPOSITORY}`)?.issues;
    expect(issues?.size ?? 0).toBe(0);
    expect(io.err).not.toContain("recorded in the ledger");
  });

  it("fails a findings repository that does not exist, in doctor and before an audit collects", async () => {
    const organization = served.served.organization!.login;
    const policy = await tempFile("org.yml", "version: 1\nfindings:\n  repository: no-such-repository\n");
    const doctor = memoryIo();
    expect(await main(["doctor", "--org", organization, "--policy", policy], doctor)).toBe(2);
    expect(doctor.out).toContain("FAIL  findings repository:\n");
    expect(doctor.err).toContain(`the findings repository ${organization}/no-such-repository cannot be read`);

    const { since, until } = period(served.sample);
    const out = join(await mkdtemp(join(tmpdir(), "soc2-findings-")), "package");
    const audit = memoryIo();
    const argv = [
      "audit",
      "--org",
      organization,
      "--since",
      since.toISOString(),
      "--until",
      until.toISOString(),
    ];
    expect(await main([...argv, "--policy", policy, "--skip-ledger", "--out", out], audit)).toBe(2);
    expect(audit.err).toContain(
      `soc2-bot: the findings repository ${organization}/no-such-repository cannot be read`,
    );
    expect(audit.err).not.toContain("collecting");
  });
});
