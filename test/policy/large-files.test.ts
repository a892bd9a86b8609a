import { describe, expect, it } from "vitest";
import { CONTROLS } from "../../src/controls/index.js";
import { parsePolicyLayer } from "../../src/policy/index.js";
import { problemsOf } from "./fake-controls.js";

/**
 * A policy is read from a pull request's base branch, which anyone who can push a branch can shape:
 * the largest file the parser accepts (1 MiB) must cost about as much as any other megabyte. Before,
 * each key was compared with every earlier key of its mapping (yaml's duplicate check) and looked up
 * by a search through its mapping for its position: 25,000 keys took 125 s and stalled the app.
 */
const MIB = 1024 * 1024;

/** `line(i)` repeated until the file would pass 1 MiB. */
function fileOf(head: string, line: (index: number) => string): { text: string; count: number } {
  const lines = [head];
  let bytes = Buffer.byteLength(head);
  for (let index = 0; ; index++) {
    const next = line(index);
    if (bytes + Buffer.byteLength(next) > MIB) return { text: lines.join(""), count: index };
    lines.push(next);
    bytes += Buffer.byteLength(next);
  }
}

/** CPU time of this process (the test runs in its own fork): what the parse costs, not the machine's load. */
function cpuSeconds<T>(work: () => T): { seconds: number; value: T } {
  const before = process.cpuUsage();
  const value = work();
  const used = process.cpuUsage(before);
  return { seconds: (used.user + used.system) / 1e6, value };
}

// One second is the target on an idle machine; the bound leaves room for a busy one, and the
// quadratic parse this guards against took minutes.
const BOUND_SECONDS = 3;

describe("a policy file of 1 MiB of keys", () => {
  it("reports every unknown control, each at its own line, in linear time", () => {
    const { text, count } = fileOf(
      "version: 1\ncontrols:\n",
      (i) => `  cc8.unknown-control-${i}: { enabled: true }\n`,
    );
    expect(count).toBeGreaterThan(20_000);
    const { seconds, value: problems } = cpuSeconds(() =>
      problemsOf(() => parsePolicyLayer(text, "big.yml", CONTROLS)),
    );
    expect(problems).toHaveLength(count);
    expect(problems[0]).toMatchObject({
      line: 3,
      column: 3,
      message: "unknown control `cc8.unknown-control-0`",
    });
    expect(problems.at(-1)).toMatchObject({
      line: count + 2,
      column: 3,
      message: `unknown control \`cc8.unknown-control-${count - 1}\``,
    });
    expect(seconds).toBeLessThan(BOUND_SECONDS);
  });

  it("reports every unknown top-level key with its suggestion in linear time", () => {
    const { text, count } = fileOf("version: 1\n", (i) => `exception_${i}: 1\n`);
    const { seconds, value: problems } = cpuSeconds(() =>
      problemsOf(() => parsePolicyLayer(text, "big.yml", CONTROLS)),
    );
    expect(problems).toHaveLength(count);
    expect(problems.at(-1)).toMatchObject({ line: count + 1, column: 1 });
    expect(problems[0]?.message).toMatch(/^unknown key `exception_0`; did you mean `exceptions`\?/);
    expect(seconds).toBeLessThan(BOUND_SECONDS);
  });

  it("finds a duplicate key at the end of a large mapping, at its position", () => {
    const { text, count } = fileOf(
      "version: 1\npeople:\n",
      (i) => `  person-${i}: { github: [login-${i}] }\n`,
    );
    const duplicated = `${text.slice(0, text.length - 40)}\n  person-7: { github: [again] }\n`;
    const { seconds, value: problems } = cpuSeconds(() =>
      problemsOf(() => parsePolicyLayer(duplicated, "big.yml", CONTROLS)),
    );
    const line = duplicated.split("\n").length - 1;
    expect(count).toBeGreaterThan(20_000);
    expect(problems).toEqual([
      {
        file: "big.yml",
        line,
        column: 3,
        message: "duplicate key `person-7`: each key may appear only once in a mapping",
      },
    ]);
    expect(seconds).toBeLessThan(BOUND_SECONDS);
  });

  it("reads a large valid people directory whole, in linear time", () => {
    const { text, count } = fileOf(
      "version: 1\npeople:\n",
      (i) => `  person-${i}: { github: [login-${i}] }\n`,
    );
    const { seconds, value: layer } = cpuSeconds(() => parsePolicyLayer(text, "big.yml", CONTROLS));
    expect(layer.people).toHaveLength(count);
    expect(layer.people?.at(-1)).toMatchObject({ id: `person-${count - 1}`, github: [`login-${count - 1}`] });
    expect(seconds).toBeLessThan(BOUND_SECONDS);
  });
});

describe("duplicate keys", () => {
  it('counts keys that the parsed policy would merge (`1` and `"1"`) as the same key', () => {
    const text = 'version: 1\npeople:\n  1234: { github: [a] }\n  "1234": { github: [b] }\n';
    expect(problemsOf(() => parsePolicyLayer(text, "dup.yml", CONTROLS))).toEqual([
      {
        file: "dup.yml",
        line: 4,
        column: 3,
        message: 'duplicate key `"1234"`: each key may appear only once in a mapping',
      },
    ]);
  });
});
