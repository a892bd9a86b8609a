import { CONTROLS } from "../controls/index.js";
import type { EvaluationReport } from "../engine/index.js";

/** The per-control summary table printed on a terminal (plain text; no untrusted text in it). */
export function renderTotalsTable(report: EvaluationReport): string {
  const header = ["control", "criterion", "pass", "fail", "unknown", "excepted", "n/a"];
  const rows = CONTROLS.filter((control) => report.totals[control.id]).map((control) => {
    const t = report.totals[control.id]!;
    return [control.id, control.criterion, t.pass, t.fail, t.unknown, t.excepted, t["not-applicable"]].map(
      String,
    );
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

export function countOutcomes(
  report: EvaluationReport,
): Record<"pass" | "fail" | "unknown" | "excepted", number> {
  const counts = { pass: 0, fail: 0, unknown: 0, excepted: 0 };
  for (const result of report.results) {
    if (result.outcome !== "not-applicable") counts[result.outcome] += 1;
  }
  return counts;
}
