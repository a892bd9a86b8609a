import type { Policy } from "./types.js";

type Token = { kind: "literal"; char: string } | { kind: "star" } | { kind: "globstar" };

/**
 * Whether `branch` matches `pattern`: `*` matches within one path segment, `**` across segments, and
 * `**\/` also matches no segment at all ("**\/hotfix" matches "hotfix"). Every other character is
 * literal. Matched by stepping a set of pattern positions through the branch name, so the time is
 * bounded by pattern length × branch length whatever the pattern (no regular expression is built).
 */
export function globMatch(pattern: string, branch: string): boolean {
  const tokens = tokenize(pattern);
  let states = closure(tokens, [0], []);
  for (const char of branch) {
    const entered: number[] = [];
    const stayed: number[] = [];
    for (const state of states) {
      const token = tokens[state];
      if (!token) continue;
      if (token.kind === "globstar" || (token.kind === "star" && char !== "/")) stayed.push(state);
      else if (token.kind === "literal" && token.char === char) entered.push(state + 1);
    }
    states = closure(tokens, entered, stayed);
    if (states.size === 0) return false;
  }
  return states.has(tokens.length);
}

function tokenize(pattern: string): Token[] {
  const chars = [...pattern];
  const tokens: Token[] = [];
  for (let index = 0; index < chars.length; index++) {
    const char = chars[index] ?? "";
    if (char !== "*") {
      tokens.push({ kind: "literal", char });
    } else if (chars[index + 1] === "*") {
      while (chars[index + 1] === "*") index++;
      tokens.push({ kind: "globstar" });
    } else {
      tokens.push({ kind: "star" });
    }
  }
  return tokens;
}

/**
 * Adds the positions reachable without reading a character: past a star that matches nothing, and
 * past a whole `**\/` that matches no segment. The latter only on entering the `**`: once it has
 * matched characters it must end at a "/" ("**\/prod" matches "eu/prod" and "prod", not "preprod").
 */
function closure(
  tokens: readonly Token[],
  entered: readonly number[],
  stayed: readonly number[],
): Set<number> {
  const states = new Set<number>(stayed);
  const pending = [...entered, ...stayed.map((state) => state + 1)];
  const seen = new Set<number>();
  for (let state = pending.pop(); state !== undefined; state = pending.pop()) {
    if (seen.has(state)) continue;
    seen.add(state);
    states.add(state);
    const token = tokens[state];
    if (token?.kind === "star" || token?.kind === "globstar") pending.push(state + 1);
    const previous = tokens[state - 1];
    const next = tokens[state + 1];
    const startsSegment = state === 0 || (previous?.kind === "literal" && previous.char === "/");
    if (token?.kind === "globstar" && startsSegment && next?.kind === "literal" && next.char === "/") {
      pending.push(state + 2);
    }
  }
  return states;
}

/** A production branch: the default branch (when the policy says so) or one matching a pattern. */
export function isProductionBranch(policy: Policy, defaultBranch: string, branch: string): boolean {
  const { defaultBranch: includeDefault, patterns } = policy.productionBranches;
  if (includeDefault && branch === defaultBranch) return true;
  return patterns.some((pattern) => globMatch(pattern, branch));
}
