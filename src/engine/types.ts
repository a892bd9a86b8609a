import type { Outcome, Result } from "../controls/types.js";

/** What evaluate() returns: every result, with what it was evaluated against. JSON-serializable. */
export interface EvaluationReport {
  /** The evaluation time (an input to evaluate(), not the clock). */
  evaluatedAt: string;
  policy: { sources: string[]; hash: string };
  snapshot: {
    host: "github" | "gitlab";
    baseUrl: string;
    collectedAt: string;
    actor: string;
    period: { since: string; until: string } | null;
  };
  /** Results in a stable order: control order of the registry, then subject id. */
  results: Result[];
  /** Per control id, how many results had each outcome. */
  totals: Record<string, Record<Outcome, number>>;
}
