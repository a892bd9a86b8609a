import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONTROLS } from "../src/controls/index.js";
import { withControlsTable } from "../src/reporters/controls-table.js";

const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("starts with the two commands a newcomer needs", () => {
    expect(readme).toMatch(/```sh\nnpm ci && npm run demo[^\n]*\nnpm test[^\n]*\n```/);
  });

  it("documents every control as the code defines it, with its evidence and when it is unknown (npm run docs)", () => {
    expect(withControlsTable(readme)).toBe(readme);
    for (const control of CONTROLS) {
      expect(readme).toContain(`| \`${control.id}\` |`);
      expect(control.evidence.length).toBeGreaterThan(10);
      expect(control.unknownWhen.length).toBeGreaterThan(10);
    }
  });
});
