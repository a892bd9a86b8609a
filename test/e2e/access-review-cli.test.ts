/**
 * soc2-bot access-review open and apply through the real GitHub provider against the simulated
 * GitHub: the bot opens the quarter's review, a reviewer with their own token decides and approves,
 * someone else merges, and `apply` (with apply: true) removes what was revoked.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cycleOf } from "../../src/access-review/index.js";
import { main } from "../../src/cli/main.js";
import {
  merge,
  readText,
  review,
  revokeInText,
  commitText,
  type SimPerson,
} from "../../src/sim/github/reviewer.js";
import { startSimulatedGitHub, type SimulatedGitHub } from "../../src/sim/github/server.js";
import { createWorld, type World } from "../../src/sim/github/world.js";
import { makeRepository, makeSnapshot } from "../fixtures/build.js";
import { memoryIo } from "../fixtures/memory-io.js";

const FINDINGS = "acme/compliance";
const SAVED = ["GITHUB_TOKEN", "GITHUB_API_URL"] as const;
const POLICY = `version: 1
findings: { repository: compliance }
controls:
  cc6.access-review-completed: { enabled: true }
  cc6.revocations-applied: { enabled: true, apply: true, grace_days: 0 }
`;

let sim: SimulatedGitHub | undefined;
let dir: string;
let world: World;
const saved = new Map<string, string | undefined>();

beforeEach(async () => {
  for (const name of SAVED) saved.set(name, process.env[name]);
  dir = await mkdtemp(join(tmpdir(), "soc2-access-review-sim-"));
  await writeFile(join(dir, "policy.yml"), POLICY);
  world = createWorld(
    makeSnapshot({
      repositories: [
        makeRepository(),
        makeRepository({ fullName: FINDINGS, url: "https://github.com/acme/compliance" }),
      ],
      changeRequests: [],
    }),
  );
  world.tokens = new Map([
    ["carol-token", "carol"],
    ["alice-token", "alice"],
  ]);
  sim = await startSimulatedGitHub({ world, rateLimits: false });
  process.env.GITHUB_TOKEN = "bot-token";
  process.env.GITHUB_API_URL = sim.url;
});

afterEach(async () => {
  await sim?.close();
  sim = undefined;
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await rm(dir, { recursive: true, force: true });
});

describe("soc2-bot access-review open and apply on the simulated GitHub", () => {
  it("opens the cycle's review once, and removes what the signed-off review revoked", async () => {
    const args = ["--org", "acme", "--policy", join(dir, "policy.yml")];
    const cycle = cycleOf("quarter", new Date()).id;
    const opened = memoryIo();
    expect(await main(["access-review", "open", ...args], opened)).toBe(0);
    expect(opened.out).toMatch(
      new RegExp(
        `^opened   ${cycle} organization-admins: \\d+ grant\\(s\\) in access-reviews/${cycle}/organization-admins\\.yml https?://\\S+/1\\n$`,
      ),
    );
    const again = memoryIo();
    expect(await main(["access-review", "open", ...args], again)).toBe(0);
    expect(again.out).toMatch(new RegExp(`^exists   ${cycle} organization-admins: `));

    // nothing is removed before a sign-off: the revoke is only a proposal
    const branch = `soc2-bot/access-review/${cycle}/organization-admins`;
    const path = `access-reviews/${cycle}/organization-admins.yml`;
    const carol: SimPerson = { api: sim!.url, token: "carol-token" };
    const alice: SimPerson = { api: sim!.url, token: "alice-token" };
    const text = revokeInText(
      await readText(carol, FINDINGS, path, branch),
      "collaborator:bob:write",
      "moved to sales",
    );
    await commitText(carol, FINDINGS, branch, path, text, "Access review: revoke bob");
    const early = memoryIo();
    expect(await main(["access-review", "apply", ...args, "--dry-run"], early)).toBe(0);
    expect(early.out).toBe(
      "nothing to remove: every grant a signed-off review revoked is gone (or cannot be read)\n",
    );

    await review(alice, FINDINGS, 1, "APPROVE", "checked");
    await merge(alice, FINDINGS, 1);
    const applied = memoryIo();
    expect(await main(["access-review", "apply", ...args], applied)).toBe(0);
    expect(applied.out).toBe(
      // bob writes to both repositories: the grant reviewed names both, and both are removed
      `removed  collaborator bob on acme/api (${cycle}:organization-admins: collaborator:bob:write)\n` +
        `removed  collaborator bob on acme/compliance (${cycle}:organization-admins: collaborator:bob:write)\n`,
    );
    const after = memoryIo();
    expect(await main(["access-review", "apply", ...args], after)).toBe(0);
    expect(after.out).toContain("nothing to remove");
  });
});
