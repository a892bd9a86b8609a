/**
 * results.json: the whole evaluation report, machine-readable. Keys are sorted at every level so the
 * same report always gives the same bytes, whatever order its objects were built in: an auditor can
 * re-run the evaluation on snapshot.json and compare hashes.
 */
import type { EvaluationReport } from "../../engine/types.js";

export function renderResultsJson(report: EvaluationReport): string {
  return stableJson(report);
}

/** results.json piece by piece, one result at a time: the same bytes as renderResultsJson. */
export function resultsJsonChunks(report: EvaluationReport): Generator<string> {
  return jsonChunks(report, { sorted: true, streamed: ["results"] });
}

/** Pretty JSON (2 spaces, trailing newline) with sorted keys: equal values give equal bytes. */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

/** A copy with object keys in code-point order; arrays keep their order (it is meaningful). */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const sorted: Record<string, unknown> = {};
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, item] of entries) if (item !== undefined) sorted[key] = sortKeys(item);
    return sorted;
  }
  return value;
}

/**
 * Pretty JSON (2 spaces, trailing newline) of a top-level object, produced piece by piece: the large
 * arrays named in `streamed` are serialized one element at a time, so writing 100,000 change requests
 * never holds the whole text (hundreds of MB at that size) in memory. The bytes are exactly those of
 * `JSON.stringify(value, null, 2) + "\n"` (with sortKeys first when `sorted`), so a streamed file and a
 * rendered one hash the same.
 */

export interface JsonChunkOptions {
  /** Sort object keys at every level (results.json), or keep insertion order (snapshot.json). */
  sorted: boolean;
  /** Top-level keys whose array value is written one element at a time. */
  streamed: readonly string[];
}

export function* jsonChunks(value: object, options: JsonChunkOptions): Generator<string> {
  const entries = Object.entries(value).filter(([, item]) => serializable(item));
  if (options.sorted) entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) {
    yield "{}\n";
    return;
  }
  const prepare = options.sorted ? sortKeys : (item: unknown): unknown => item;
  yield "{\n";
  for (let i = 0; i < entries.length; i += 1) {
    const [key, item] = entries[i]!;
    const after = i < entries.length - 1 ? ",\n" : "\n";
    yield `  ${JSON.stringify(key)}: `;
    if (options.streamed.includes(key) && Array.isArray(item) && item.length > 0) {
      yield "[\n";
      for (let j = 0; j < item.length; j += 1) {
        // JSON.stringify writes an undefined array element as null
        const text = JSON.stringify(prepare(item[j]), null, 2) ?? "null";
        yield `    ${indent(text, "    ")}${j < item.length - 1 ? "," : ""}\n`;
      }
      yield `  ]${after}`;
    } else yield `${indent(JSON.stringify(prepare(item), null, 2), "  ")}${after}`;
  }
  yield "}\n";
}

/** JSON.stringify leaves out object members that are undefined, functions or symbols. */
function serializable(item: unknown): boolean {
  return item !== undefined && typeof item !== "function" && typeof item !== "symbol";
}

/** Nests a pretty-printed value: its newlines are structural (string contents escape them as \n). */
function indent(text: string, by: string): string {
  return text.replace(/\n/g, `\n${by}`);
}
