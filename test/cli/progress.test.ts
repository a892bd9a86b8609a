import { describe, expect, it } from "vitest";
import {
  etaSeconds,
  formatDuration,
  progressBar,
  progressLine,
  terminalSafe,
} from "../../src/cli/progress.js";

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe("ETA", () => {
  it("is the rest at the average rate so far, and unknown before anything is done", () => {
    expect(etaSeconds(0, 100, 5_000)).toBeUndefined();
    expect(etaSeconds(10, 100, 0)).toBeUndefined();
    // 10 in 20 s: 2 s each, 90 left
    expect(etaSeconds(10, 100, 20_000)).toBe(180);
    // rounded up: never says done before it is
    expect(etaSeconds(3, 4, 1_000)).toBe(1);
    expect(etaSeconds(4, 4, 9_000)).toBe(0);
  });

  it("is written short", () => {
    expect(formatDuration(42)).toBe("42s");
    expect(formatDuration(185)).toBe("3m05s");
    expect(formatDuration(2 * 3600 + 7 * 60 + 30)).toBe("2h07m");
  });

  it("follows an injected clock through the bar: rate and ETA from the time elapsed", () => {
    const clock = manualClock();
    const lines: string[] = [];
    const bar = progressBar({
      unit: "repositories",
      tty: false,
      now: clock.now,
      write: (t) => lines.push(t),
    });
    clock.advance(30_000);
    bar.update(25, 100);
    clock.advance(30_000);
    bar.update(50, 100);
    clock.advance(60_000);
    bar.update(100, 100);
    expect(lines).toEqual([
      "25/100 repositories (25%) 50.0/min ETA 1m30s\n",
      "50/100 repositories (50%) 50.0/min ETA 1m00s\n",
      "100/100 repositories (100%) 50.0/min in 2m00s\n",
    ]);
  });
});

describe("progress bar without a terminal (CI logs)", () => {
  it("writes a plain line every tenth of the way, not one per item, and no cursor movement", () => {
    const clock = manualClock();
    const lines: string[] = [];
    const bar = progressBar({
      unit: "writes",
      label: "findings",
      tty: false,
      now: clock.now,
      write: (t) => lines.push(t),
    });
    for (let done = 1; done <= 200; done += 1) {
      clock.advance(100);
      bar.update(done, 200);
    }
    bar.finish();
    // the first (the bar has started), then one at each tenth
    expect(lines).toHaveLength(11);
    expect(
      lines.every((line) => /^findings: \d+\/200 writes \(\d+%\) [\d.]+\/s (ETA \S+|in 20s)\n$/.test(line)),
    ).toBe(true);
    expect(lines.at(-1)).toBe("findings: 200/200 writes (100%) 10.0/s in 20s\n");
    // eslint-disable-next-line no-control-regex -- the control characters are what is checked
    expect(lines.join("")).not.toMatch(/[\r\u001b]/);
  });

  it("writes a line after 30 s of silence even within a tenth", () => {
    const clock = manualClock();
    const lines: string[] = [];
    const bar = progressBar({
      unit: "repositories",
      tty: false,
      now: clock.now,
      write: (t) => lines.push(t),
    });
    bar.update(1, 1000);
    clock.advance(10_000);
    bar.update(2, 1000);
    expect(lines).toHaveLength(1);
    clock.advance(25_000);
    bar.update(3, 1000);
    expect(lines).toEqual([
      "1/1000 repositories (0%) ETA ?\n",
      "3/1000 repositories (0%) 5.1/min ETA 3h13m\n",
    ]);
  });

  it("goes on by tenths when more is planned after the total was reached (a retried write)", () => {
    const clock = manualClock();
    const lines: string[] = [];
    const bar = progressBar({ unit: "writes", tty: false, now: clock.now, write: (t) => lines.push(t) });
    for (let done = 1; done <= 20; done += 1) bar.update(done, 20);
    lines.length = 0;
    bar.update(20, 25);
    bar.update(21, 25);
    bar.update(23, 25);
    bar.update(25, 25);
    expect(lines.map((line) => line.split(" ")[0])).toEqual(["23/25", "25/25"]);
  });
});

describe("progress bar on a terminal", () => {
  it("redraws one line in place, keeps notes above it, and ends the line when finished", () => {
    const clock = manualClock();
    let screen = "";
    const bar = progressBar({ unit: "writes", tty: true, now: clock.now, write: (t) => void (screen += t) });
    clock.advance(1_000);
    bar.update(1, 4);
    clock.advance(1_000);
    bar.note("waiting 60 s for the host's content-creation limit");
    clock.advance(1_000);
    bar.update(4, 4);
    bar.finish();
    expect(screen).toBe(
      "\r\u001b[K[######..................] 1/4 writes (25%) 1.0/s ETA 3s" +
        "\r\u001b[Kwaiting 60 s for the host's content-creation limit\n" +
        "\r\u001b[K[######..................] 1/4 writes (25%) 30.0/min ETA 6s" +
        "\r\u001b[K[########################] 4/4 writes (100%) 1.3/s in 3s" +
        "\r\u001b[K[########################] 4/4 writes (100%) 1.3/s in 3s\n",
    );
  });

  it("takes control characters out of a repository name: it cannot move the cursor or recolour", () => {
    const line = progressLine(
      { done: 1, total: 2, elapsedMs: 1_000, detail: "acme/\u001b[2J\u001b]0;pwned\u0007evil\r\nrepo\u202e" },
      { unit: "repositories", bar: true },
    );
    // eslint-disable-next-line no-control-regex -- the control characters are what is checked
    expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(line).toContain("acme/ [2J ]0;pwned evil repo‹U+202E›");
    expect(terminalSafe("x".repeat(100))).toHaveLength(40);
  });
});
