/**
 * The two rows, reused by every call (the function is synchronous, so no two calls share them at
 * once): a fresh pair per comparison was most of the garbage a large file made.
 */
let rows: [Uint32Array, Uint32Array] = [new Uint32Array(64), new Uint32Array(64)];

/**
 * Levenshtein distance, two rows at a time: policy keys and control ids are short. With `atMost`,
 * stops as soon as the distance must exceed it and answers `atMost + 1`: a file of thousands of
 * unknown keys asks this for every key and every candidate, so most answers must be cheap.
 */
export function editDistance(a: string, b: string, atMost = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > atMost) return atMost + 1;
  if (rows[0].length <= b.length) rows = [new Uint32Array(b.length + 1), new Uint32Array(b.length + 1)];
  let [previous, current] = rows;
  for (let j = 0; j <= b.length; j++) previous[j] = j;
  for (let i = 1; i <= a.length; i++) {
    current[0] = i;
    let rowMinimum = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1);
      const cell = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
      current[j] = cell;
      if (cell < rowMinimum) rowMinimum = cell;
    }
    // Every later row is at least this row's minimum: the distance can only grow from here.
    if (rowMinimum > atMost) return atMost + 1;
    const finished = current;
    current = previous;
    previous = finished;
  }
  return previous[b.length]!;
}

/** The closest candidate, if close enough to be the likely intent (a typo, not a different word). */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  const limit = Math.max(2, Math.floor(word.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  const lower = word.toLowerCase();
  const lowered = lowerCased(candidates);
  for (const [index, candidate] of candidates.entries()) {
    // Only a strictly closer candidate matters, so the search can stop at one less than the best so far.
    const distance = editDistance(lower, lowered[index] ?? "", bestDistance - 1);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** The candidates in lower case, computed once per list however many words are compared with it. */
const loweredLists = new WeakMap<readonly string[], readonly string[]>();
function lowerCased(candidates: readonly string[]): readonly string[] {
  let lowered = loweredLists.get(candidates);
  if (lowered === undefined) {
    lowered = candidates.map((candidate) => candidate.toLowerCase());
    loweredLists.set(candidates, lowered);
  }
  return lowered;
}

/** "; did you mean `x`?" or, without a close candidate, the list of what is allowed when it is short. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const suggestion = closest(word, candidates);
  if (suggestion !== undefined) return `; did you mean \`${suggestion}\`?`;
  if (candidates.length === 0) return "; no keys are allowed here";
  if (candidates.length <= 8) return `; expected one of ${candidates.map((c) => `\`${c}\``).join(", ")}`;
  return "";
}
