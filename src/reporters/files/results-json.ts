/**
 * results.json: the whole evaluation report, machine-readable. Keys are sorted at every level so the
 * same report always gives the same bytes, whatever order its objects were built in: an auditor can
 * re-run the evaluation on snapshot.json and compare hashes.
 */
import type { EvaluationReport } from "../../engine/types.js";

export function renderResultsJson(report: EvaluationReport): string {
  return stableJson(report);
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
