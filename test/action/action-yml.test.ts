import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = new URL("../../", import.meta.url);
const action = parse(readFileSync(new URL("action.yml", root), "utf8")) as {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>;
  runs: {
    using: string;
    steps: {
      name?: string;
      uses?: string;
      run?: string;
      if?: string;
      env?: Record<string, string>;
      with?: Record<string, unknown>;
    }[];
  };
};
const entry = readFileSync(new URL("src/action/run.ts", root), "utf8");

describe("action.yml", () => {
  const run = action.runs.steps.find((step) => step.run?.includes("bin/soc2-bot-action.js"))!;

  it("is a composite action whose entry point gets every input, and reads only what it is given", () => {
    expect(action.runs.using).toBe("composite");
    expect(run).toBeDefined();
    const passed = Object.values(run.env ?? {}).join("\n");
    for (const [name, input] of Object.entries(action.inputs)) {
      expect(input.description.length).toBeGreaterThan(10);
      if (name === "artifact-name" || name === "retention-days") continue; // the upload step's
      expect(passed).toContain(`\${{ inputs.${name} }}`);
    }
    const read = new Set([...entry.matchAll(/\benv\.(SOC2_[A-Z_]+)/g)].map((match) => match[1]!));
    expect([...read].filter((name) => !(name in (run.env ?? {})))).toEqual([]);
  });

  it("uploads the audit's package as an artifact, also when controls fail", () => {
    const upload = action.runs.steps.find((step) => step.uses?.startsWith("actions/upload-artifact@"))!;
    expect(upload.if).toContain("always()");
    expect(upload.if).toContain("inputs.mode == 'audit'");
    expect(upload.with).toMatchObject({ path: "${{ inputs.out }}", name: "${{ inputs.artifact-name }}" });
  });
});

describe(".github", () => {
  it("runs .ci/run on Node 20 for every push to main and pull request", () => {
    const ci = parse(readFileSync(new URL(".github/workflows/ci.yml", root), "utf8")) as {
      on: Record<string, unknown>;
      jobs: Record<string, { steps: { run?: string; uses?: string; with?: Record<string, unknown> }[] }>;
    };
    expect(Object.keys(ci.on)).toEqual(expect.arrayContaining(["push", "pull_request"]));
    const steps = Object.values(ci.jobs).flatMap((job) => job.steps);
    expect(steps.some((step) => step.run === "bash .ci/run")).toBe(true);
    expect(steps.find((step) => step.uses?.startsWith("actions/setup-node@"))?.with?.["node-version"]).toBe(
      20,
    );
  });

  it("asks dependabot for npm and GitHub Actions updates", () => {
    const dependabot = parse(readFileSync(new URL(".github/dependabot.yml", root), "utf8")) as {
      updates: { "package-ecosystem": string }[];
    };
    expect(dependabot.updates.map((update) => update["package-ecosystem"]).sort()).toEqual([
      "github-actions",
      "npm",
    ]);
  });
});
