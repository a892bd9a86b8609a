/**
 * The layout rules of issue 13: product code (src/) runs from an install without dev dependencies,
 * so it may import neither the benchmarks (bench/) nor the tests (test/), and every package it
 * loads at run time must be a dependency, not a devDependency. Providers read code hosts and do
 * not depend on reporters: text helpers both need live in src/text/.
 */
import { readdir, readFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { dirname, join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../..");
const SRC = join(ROOT, "src");

interface ImportSite {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && /\.(c|m)?tsx?$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

// Static imports and re-exports (`import ... from`, `export ... from`, bare `import "x"`) and
// dynamic `import("x")`; `import type` / `export type` are erased at run time.
const STATIC = /^\s*(import|export)\s+(type\s+)?(?:[^;"']*?\sfrom\s*)?["']([^"']+)["']/gm;
const DYNAMIC = /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

function importsOf(file: string, text: string): ImportSite[] {
  const sites: ImportSite[] = [];
  for (const match of text.matchAll(STATIC)) {
    sites.push({ file, specifier: match[3]!, typeOnly: match[2] !== undefined });
  }
  for (const match of text.matchAll(DYNAMIC)) sites.push({ file, specifier: match[1]!, typeOnly: false });
  return sites;
}

async function allImports(): Promise<ImportSite[]> {
  const files = await sourceFiles(SRC);
  const sites = await Promise.all(files.map(async (file) => importsOf(file, await readFile(file, "utf8"))));
  return sites.flat();
}

function target(site: ImportSite): string {
  return relative(ROOT, resolve(dirname(site.file), site.specifier))
    .split(sep)
    .join("/");
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

function describeSite(site: ImportSite): string {
  return `${relative(ROOT, site.file).split(sep).join("/")} imports ${site.specifier}`;
}

describe("layout of src/", () => {
  it("finds the imports it checks, static and dynamic", async () => {
    const sites = await allImports();
    // Guards the scanner itself: the demo loads the GitLab demo lazily, the sim is imported statically.
    expect(sites.some((site) => site.specifier === "./demo-gitlab.js")).toBe(true);
    expect(sites.some((site) => site.specifier === "../sim/harness.js")).toBe(true);
    expect(importsOf("a.ts", 'import type { A } from "./a.js";\nexport { b } from "../b.js";')).toEqual([
      { file: "a.ts", specifier: "./a.js", typeOnly: true },
      { file: "a.ts", specifier: "../b.js", typeOnly: false },
    ]);
  });

  it("imports nothing outside src/ (no bench/, no test/)", async () => {
    const outside = (await allImports())
      .filter((site) => site.specifier.startsWith("."))
      .filter((site) => !target(site).startsWith("src/"))
      .map(describeSite);
    expect(outside).toEqual([]);
  });

  it("providers do not import reporters", async () => {
    const crossing = (await allImports())
      .filter((site) => site.specifier.startsWith("."))
      .filter((site) => relative(SRC, site.file).split(sep)[0] === "providers")
      .filter((site) => target(site).startsWith("src/reporters/"))
      .map(describeSite);
    expect(crossing).toEqual([]);
  });

  it("loads at run time only packages that `npm ci --omit=dev` installs", async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const lock = JSON.parse(await readFile(join(ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const builtins = new Set(builtinModules);
    const missing = (await allImports())
      .filter(
        (site) => !site.typeOnly && !site.specifier.startsWith(".") && !site.specifier.startsWith("node:"),
      )
      .filter((site) => !builtins.has(site.specifier))
      .filter((site) => {
        const name = packageName(site.specifier);
        // A direct dependency, or one the lock file installs for production (not marked dev).
        if (name in manifest.dependencies) return false;
        const locked = lock.packages[`node_modules/${name}`];
        return locked === undefined || locked.dev === true;
      })
      .map(describeSite);
    expect(missing).toEqual([]);
  });
});
