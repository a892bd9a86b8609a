import picomatch from "picomatch";
import type { Policy } from "./types.js";

/**
 * Branch and repository name patterns, in the syntax GitHub documents for branch protection rules
 * and rulesets: Ruby's `File.fnmatch` with `File::FNM_PATHNAME` and no other flag.
 *
 * - `*` matches any characters except `/` (also none); `?` one character except `/`; `[...]` one
 *   character of a class (`[0-9]`, `[abc]`, negated with `[!...]` or `[^...]`).
 * - `**` as a whole segment followed by `/` matches any number of segments, none included
 *   (`release/**\/*` matches `release/1` and `release/2026/1`). Anywhere else `**` is `*`.
 * - Like GitHub (no `FNM_DOTMATCH`), a wildcard never matches a `.` that starts a segment. Git forbids
 *   branch names with a segment starting with `.`; it only matters for repository names: `*` does
 *   not match `.github`, `.*` does.
 * - Braces, extglobs, `!` negation and regular expression syntax are literal characters, as in
 *   GitHub; matching is case-sensitive.
 *
 * Each segment is matched by picomatch; `**` segments are stepped here, segment by segment, so the
 * work is bounded by (pattern segments x name segments) segment matches. A pattern GitHub would read
 * differently from what its author likely meant (a final `/**`), one that cannot match any name, and
 * one with more than two `*` in a segment (whose matching backtracks badly enough to stall an audit
 * on a long name) are rejected by patternProblem(), which policy validation calls.
 */

const GLOBSTAR = Symbol("globstar");
/** A segment pattern, and whether it starts with a literal "." (the only way to match a leading "."). */
type Segment = { regex: RegExp; dot: boolean } | typeof GLOBSTAR;
type Compiled = { segments: Segment[] } | { problem: string };

/** picomatch reading one segment with GitHub's meaning: no braces, extglobs, negation or globstar. */
const SEGMENT_OPTIONS: picomatch.PicomatchOptions = {
  dot: false,
  nobrace: true,
  noextglob: true,
  nonegate: true,
  noglobstar: true,
  posix: false,
  strictSlashes: true,
};

/** A segment's wildcards: more than this and a failing match backtracks for seconds on a long name. */
const MAX_STARS_PER_SEGMENT = 2;

const CLASS_CHARACTER = /^[A-Za-z0-9._-]$/;
const PLAIN_CHARACTER = /^[\p{L}\p{N}_-]$/u;

const cache = new Map<string, Compiled>();
const CACHE_LIMIT = 1000;

/** Why `pattern` is not accepted in a policy, or undefined when it is. */
export function patternProblem(pattern: string): string | undefined {
  const compiled = compile(pattern);
  return "problem" in compiled ? compiled.problem : undefined;
}

/**
 * Whether `name` (a branch name, or a repository's name or full name) matches `pattern`. Patterns
 * come from a validated policy; one that validation rejects is a programming error and throws.
 */
export function globMatch(pattern: string, name: string): boolean {
  const compiled = compile(pattern);
  if ("problem" in compiled)
    throw new Error(`invalid name pattern ${JSON.stringify(pattern)}: ${compiled.problem}`);
  return matchSegments(compiled.segments, name.split("/"));
}

/** A production branch: the default branch (when the policy says so) or one matching a pattern. */
export function isProductionBranch(policy: Policy, defaultBranch: string, branch: string): boolean {
  const { defaultBranch: includeDefault, patterns } = policy.productionBranches;
  if (includeDefault && branch === defaultBranch) return true;
  return patterns.some((pattern) => globMatch(pattern, branch));
}

function matchSegments(segments: readonly Segment[], names: readonly string[]): boolean {
  let states = closure(segments, [0]);
  for (const name of names) {
    const next: number[] = [];
    for (const state of states) {
      const segment = segments[state];
      if (segment === undefined) continue;
      if (segment === GLOBSTAR) {
        // GitHub's `**/` does not descend into a segment starting with "." (no FNM_DOTMATCH).
        if (!name.startsWith(".")) next.push(state);
      } else if ((!name.startsWith(".") || segment.dot) && segment.regex.test(name)) {
        // Only a literal "." matches a leading "." (no FNM_DOTMATCH): not `*`, `?`, nor even `[.]`.
        next.push(state + 1);
      }
    }
    states = closure(segments, next);
    if (states.size === 0) return false;
  }
  return states.has(segments.length);
}

/** Adds the states reached by a `**` segment matching no segment at all. */
function closure(segments: readonly Segment[], states: readonly number[]): Set<number> {
  const result = new Set<number>();
  for (let state of states) {
    result.add(state);
    while (segments[state] === GLOBSTAR) result.add(++state);
  }
  return result;
}

function compile(pattern: string): Compiled {
  const cached = cache.get(pattern);
  if (cached) return cached;
  const compiled = compileUncached(pattern);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(pattern, compiled);
  return compiled;
}

function compileUncached(pattern: string): Compiled {
  if (pattern.includes("\\")) {
    return {
      problem:
        "contains `\\`: branch and repository names cannot contain `\\`, `*`, `?` or `[`, so nothing needs escaping",
    };
  }
  const parts = pattern.split("/");
  if (parts.some((part) => part === "")) {
    return {
      problem:
        "has an empty segment (a `/` at the start or end, or `//`): no branch or repository name has one, so it never matches",
    };
  }
  const last = parts[parts.length - 1];
  if (last === "**") {
    const head = parts.slice(0, -1).join("/");
    return {
      problem:
        head === ""
          ? "`**` alone means `*` in GitHub's syntax (names without `/`): write `*` for those, or `**/*` for every name"
          : `\`${pattern}\` means \`${head}/*\` in GitHub's syntax (one more segment only): ` +
            `write \`${head}/*\` for one segment or \`${head}/**/*\` for any number`,
    };
  }
  const segments: Segment[] = [];
  for (const part of parts) {
    if (part === "**") {
      segments.push(GLOBSTAR);
      continue;
    }
    const segment = compileSegment(part);
    if (typeof segment === "string") return { problem: segment };
    segments.push(segment);
  }
  return { segments };
}

/** One segment (no `/`) as a picomatch pattern with every character but the wildcards made literal. */
function compileSegment(part: string): Segment | string {
  const chars = [...part];
  let glob = "";
  let stars = 0;
  for (let index = 0; index < chars.length; index++) {
    const char = chars[index] ?? "";
    if (char === "*") {
      while (chars[index + 1] === "*") index++;
      stars++;
      glob += "*";
    } else if (char === "?") {
      glob += "?";
    } else if (char === "[") {
      const parsed = characterClass(chars, index + 1);
      if (typeof parsed === "string") return parsed;
      glob += parsed.glob;
      index = parsed.end;
    } else {
      glob += PLAIN_CHARACTER.test(char) ? char : `\\${char}`;
    }
  }
  if (stars > MAX_STARS_PER_SEGMENT) {
    return (
      `has ${stars} \`*\` in the segment \`${part}\`; at most ${MAX_STARS_PER_SEGMENT} are allowed in one segment ` +
      "(more make matching a long name slow enough to stall an audit)"
    );
  }
  return { regex: picomatch.makeRe(glob, SEGMENT_OPTIONS), dot: part.startsWith(".") };
}

/** The class starting after a `[` at `start`: its picomatch form and the index of its `]`. */
function characterClass(chars: readonly string[], start: number): { glob: string; end: number } | string {
  let index = start;
  const negated = chars[index] === "!" || chars[index] === "^";
  if (negated) index++;
  let members = "";
  for (; index < chars.length && chars[index] !== "]"; index++) {
    const char = chars[index] ?? "";
    if (char === "[" && chars[index + 1] === ":") {
      return "uses a POSIX class such as `[[:digit:]]`, which GitHub's syntax does not have: write `[0-9]`";
    }
    if (!CLASS_CHARACTER.test(char)) {
      return `has \`${char}\` in \`[...]\`: a class lists letters, digits, \`.\`, \`_\`, \`-\` and ranges such as \`0-9\``;
    }
    const high = chars[index + 2];
    if (chars[index + 1] === "-" && high !== undefined && high !== "]") {
      if (!CLASS_CHARACTER.test(high)) {
        return `has \`${high}\` in \`[...]\`: a class lists letters, digits, \`.\`, \`_\`, \`-\` and ranges such as \`0-9\``;
      }
      if (high < char) return `has the range \`${char}-${high}\`, which is empty: write \`${high}-${char}\``;
      members += `${char}-${high}`;
      index += 2;
    } else {
      // A "-" first or last in a class is itself; escaped so it never reads as a range.
      members += char === "-" ? "\\-" : char;
    }
  }
  if (index >= chars.length) {
    return "has a `[` without its closing `]`: GitHub reads that as a pattern matching nothing";
  }
  if (members === "") return "has an empty class `[]`, which matches no character";
  return { glob: `[${negated ? "^" : ""}${members}]`, end: index };
}
