/**
 * The inline SVG bar chart of report.html: production merges per month, failing and undecided ones
 * stacked on top of the clean ones. Inline SVG (no xmlns needed in HTML) keeps the page offline.
 */
import type { Result } from "../../controls/types.js";
import type { EvaluationReport } from "../../engine/types.js";
import type { ChangeRequest, Snapshot } from "../../model/index.js";
import { htmlText } from "../../text/escape.js";
import { changeRequestResults, productionMerges } from "./common.js";

export interface MonthBar {
  /** "YYYY-MM", UTC. */
  month: string;
  ok: number;
  unknown: number;
  fail: number;
}

export function mergesPerMonth(snapshot: Snapshot, report: EvaluationReport): MonthBar[] {
  const bars = new Map<string, MonthBar>();
  countMerges(bars, productionMerges(snapshot, changeRequestResults(report)));
  return monthBars(bars, report.snapshot.period);
}

/** Adds production merges to the bars by month: an audit streamed to disk counts one repository at a time. */
export function countMerges(
  bars: Map<string, MonthBar>,
  merges: Iterable<{ changeRequest: Pick<ChangeRequest, "mergedAt">; results: readonly Result[] }>,
): void {
  for (const { changeRequest, results } of merges) {
    if (!changeRequest.mergedAt) continue;
    const target = barOf(bars, monthOf(changeRequest.mergedAt));
    if (results.some((result) => result.outcome === "fail")) target.fail += 1;
    else if (results.some((result) => result.outcome === "unknown")) target.unknown += 1;
    else target.ok += 1;
  }
}

/** The bars counted, with the period's first and last months and every month between. */
export function monthBars(
  counted: ReadonlyMap<string, MonthBar>,
  period: { since: string; until: string } | null,
): MonthBar[] {
  const bars = new Map<string, MonthBar>();
  for (const [month, bar] of counted) bars.set(month, { ...bar });
  if (period) {
    barOf(bars, monthOf(period.since));
    // an audit "until 2026-11-01T00:00:00Z" ends with October: no empty November bar
    const until = new Date(Date.parse(period.until) - 1).toISOString();
    if (Date.parse(period.until) > Date.parse(period.since)) barOf(bars, monthOf(until));
  }
  const months = [...bars.keys()].sort();
  const first = months[0];
  const last = months[months.length - 1];
  if (first === undefined || last === undefined) return [];
  for (let month = first; month < last; month = nextMonth(month)) barOf(bars, month);
  return [...bars.values()].sort((a, b) => (a.month < b.month ? -1 : 1));
}

function barOf(bars: Map<string, MonthBar>, month: string): MonthBar {
  let found = bars.get(month);
  if (!found) bars.set(month, (found = { month, ok: 0, unknown: 0, fail: 0 }));
  return found;
}

export function renderMonthlyChart(bars: MonthBar[]): string {
  if (bars.length === 0) return "<p>No merged production changes in the snapshot.</p>";
  const height = 220;
  const top = 16;
  const bottom = 40;
  const left = 40;
  const slot = 56;
  // wide enough for the legend even with one or two months
  const width = Math.max(left + bars.length * slot + 16, left + 3 * 110);
  const plot = height - top - bottom;
  const max = Math.max(1, ...bars.map((b) => b.ok + b.unknown + b.fail));
  const step = niceStep(max);
  const ceiling = Math.ceil(max / step) * step;
  const y = (value: number): number => top + plot - (value / ceiling) * plot;
  const parts: string[] = [];
  for (let tick = 0; tick <= ceiling; tick += step) {
    parts.push(
      `<line class="grid" x1="${left}" x2="${width - 8}" y1="${y(tick)}" y2="${y(tick)}"></line>`,
      `<text x="${left - 6}" y="${y(tick) + 4}" text-anchor="end">${tick}</text>`,
    );
  }
  bars.forEach((b, i) => {
    const x = left + i * slot + 10;
    const barWidth = slot - 20;
    let base = 0;
    for (const [kind, count] of [
      ["ok", b.ok],
      ["unknown", b.unknown],
      ["fail", b.fail],
    ] as const) {
      if (count === 0) continue;
      parts.push(
        `<rect class="bar-${kind}" x="${x}" y="${y(base + count)}" width="${barWidth}" height="${y(base) - y(base + count)}">` +
          `<title>${htmlText(b.month)}: ${count} ${kind === "ok" ? "without findings" : kind}</title></rect>`,
      );
      base += count;
    }
    const total = b.ok + b.unknown + b.fail;
    parts.push(
      `<text x="${x + barWidth / 2}" y="${y(total) - 4}" text-anchor="middle">${total}</text>`,
      `<text x="${x + barWidth / 2}" y="${height - bottom + 16}" text-anchor="middle">${htmlText(b.month)}</text>`,
    );
  });
  parts.push(`<line class="axis" x1="${left}" x2="${width - 8}" y1="${y(0)}" y2="${y(0)}"></line>`);
  const legend = [
    ["ok", "no finding"],
    ["unknown", "unknown"],
    ["fail", "failing"],
  ].map(
    ([kind, label], i) =>
      `<rect class="bar-${kind}" x="${left + i * 110}" y="${height - 14}" width="10" height="10"></rect>` +
      `<text x="${left + i * 110 + 14}" y="${height - 5}">${label}</text>`,
  );
  const total = bars.reduce((sum, b) => sum + b.ok + b.unknown + b.fail, 0);
  const failing = bars.reduce((sum, b) => sum + b.fail, 0);
  return (
    `<svg viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" ` +
    `aria-label="${total} merged production changes, ${failing} failing">` +
    parts.join("") +
    legend.join("") +
    "</svg>"
  );
}

function monthOf(iso: string): string {
  return new Date(iso).toISOString().slice(0, 7);
}

function nextMonth(month: string): string {
  const [year = 0, mon = 1] = month.split("-").map(Number);
  return mon === 12 ? `${year + 1}-01` : `${year}-${String(mon + 1).padStart(2, "0")}`;
}

function niceStep(max: number): number {
  const rough = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(Math.max(rough, 1)));
  for (const factor of [1, 2, 5, 10]) if (factor * magnitude >= rough) return Math.max(1, factor * magnitude);
  return magnitude * 10;
}
