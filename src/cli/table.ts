import { CONTROLS } from "../controls/index.js";
import type { EvaluationReport } from "../engine/index.js";

type Outcome = "pass" | "fail" | "unknown" | "excepted" | "not-applicable";

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
): Record<"pass" | "fail" | "unknown" | "excepted" | "not-applicable", number> {
  const counts = { pass: 0, fail: 0, unknown: 0, excepted: 0, "not-applicable": 0 };
  for (const result of report.results) counts[result.outcome] += 1;
  return counts;
}

/** The totals in one line; every outcome is named, so the parts add up to the count of results. */
export function totalsLine(counts: Record<Outcome, number>): string {
  const results = counts.pass + counts.fail + counts.unknown + counts.excepted + counts["not-applicable"];
  return (
    `${results} results: ${counts.pass} pass, ${counts.fail} fail, ${counts.unknown} unknown, ` +
    `${counts.excepted} excepted, ${counts["not-applicable"]} not applicable`
  );
}

/**
 * evaluate's answer on a terminal: the totals table, then each failing and unknown subject on a
 * line with its reason. Text from the code host is printed with its control characters removed,
 * so a branch or title cannot move the cursor or recolour the terminal.
 */
export function renderTerminalReport(report: EvaluationReport): string {
  const lines = [renderTotalsTable(report), "", totalsLine(countOutcomes(report))];
  for (const outcome of ["fail", "unknown"] as const) {
    const matching = report.results.filter((result) => result.outcome === outcome);
    if (matching.length === 0) continue;
    lines.push("", `${outcome}: ${matching.length}`);
    for (const result of matching) {
      lines.push(
        `  ${result.control}  ${terminalText(result.subject.kind)} ${terminalText(result.subject.id)}: ${terminalText(result.reason)}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}

/** C0 and C1 control characters (ESC, CSI, BEL, newlines...) out of untrusted text. */
export function terminalText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ");
}
