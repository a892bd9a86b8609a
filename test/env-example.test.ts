import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;
const example = readFileSync(join(root, ".env.example"), "utf8");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

/** Set by the Actions runner or by action.yml from its inputs, not by people in .env. */
const ACTION_ONLY =
  /^(SOC2_(MODE|ORGANIZATION|PERIOD_DAYS|SINCE|UNTIL|POLICY|OUT|SKIP_FINDINGS|FAIL_ON_FINDINGS)|GITHUB_(EVENT_PATH|REPOSITORY|REPOSITORY_OWNER|RUN_ID|SERVER_URL|STEP_SUMMARY))$/;

describe(".env.example", () => {
  it("lists every variable the app and the command line read", () => {
    const read = new Set(
      sources(join(root, "src")).flatMap((file) =>
        [...readFileSync(file, "utf8").matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)].map((match) => match[1]!),
      ),
    );
    const missing = [...read].filter(
      (name) => !ACTION_ONLY.test(name) && !new RegExp(`^#? ?${name}=`, "m").test(example),
    );
    expect(read.size).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });

  it("documents smee and GH_ORG for the manifest flow, and leaves every secret empty", () => {
    expect(example).toMatch(/^# WEBHOOK_PROXY_URL=https:\/\/smee\.io\//m);
    expect(example).toMatch(/^# GH_ORG=/m);
    for (const secret of ["PRIVATE_KEY", "WEBHOOK_SECRET", "GITHUB_TOKEN", "GITLAB_TOKEN", "SENTRY_DSN"]) {
      expect(example).toMatch(new RegExp(`^#? ?${secret}=\\s*(#.*)?$`, "m"));
    }
  });
});
