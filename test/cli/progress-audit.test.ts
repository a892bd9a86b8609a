import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAudit } from "../../src/cli/audit.js";
import { githubHostFor, period, serveSample, type ServedSample } from "../../src/sim/harness.js";
import { memoryIo } from "../fixtures/memory-io.js";

describe("audit progress on stderr without a terminal (CI logs)", () => {
  let served: ServedSample;
  beforeAll(async () => {
    served = await serveSample({ repositories: 12, pullRequestsPerRepository: 2 });
  });
  afterAll(async () => {
    await served.sim.close();
  });

  it("writes plain lines with done/total, rate and ETA while collecting and writing findings, none on stdout", async () => {
    const io = memoryIo();
    // each reading of the clock is one second later: rate and ETA are those of a slow host
    let t = 0;
    const organization = served.served.organization!.login;
    const { since, until } = period(served.sample);
    await runAudit(
      {
        host: githubHostFor(served.sim).host,
        organization,
        since,
        until,
        policyFiles: [],
        outDir: await mkdtemp(join(tmpdir(), "soc2-progress-")),
        findings: true,
        stderrTerminal: false,
        clock: () => (t += 1_000),
      },
      io,
    );
    const repositories = served.served.repositories.length;
    const lines = io.err.split("\n");
    const collecting = lines.filter((line) => line.includes(` repositories (`));
    // one line per tenth of the way at most (and the first), not one per repository
    expect(collecting.length).toBeGreaterThanOrEqual(2);
    expect(collecting.length).toBeLessThanOrEqual(Math.min(repositories, 11));
    for (const line of collecting) {
      expect(line).toMatch(
        new RegExp(
          `^\\d+/${repositories} repositories \\(\\d+%\\) [\\d.]+/(s|min) (ETA \\d+[smh]\\S*|in \\S+) \\d+ changes, ${organization}/\\S+$`,
        ),
      );
    }
    expect(collecting.at(-1)).toMatch(
      new RegExp(`^${repositories}/${repositories} repositories \\(100%\\) .* in \\S+ `),
    );
    expect(io.err).toContain(`collected ${repositories} repositories`);

    const writes = lines.filter((line) => /^findings: \d+\/\d+ writes \(/.test(line));
    expect(writes.length).toBeGreaterThanOrEqual(2);
    for (const line of writes)
      expect(line).toMatch(/^findings: \d+\/\d+ writes \(\d+%\) [\d.]+\/(s|min) (ETA|in) \S+$/);
    expect(writes.at(-1)).toMatch(/^findings: (\d+)\/\1 writes \(100%\)/);

    // a log, not a terminal: no carriage return, no escape sequence; and nothing of it on stdout
    // eslint-disable-next-line no-control-regex -- the control characters are what is checked
    expect(io.err).not.toMatch(/[\r\u001b]/);
    expect(io.out).not.toMatch(/repositories \(|writes \(/);
  });
});
