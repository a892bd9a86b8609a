/**
 * Review cycles: a quarter ("2026-Q4"), month ("2026-11"), half-year ("2026-H2") or year ("2026"),
 * each starting on its first day at 00:00 UTC and ending (exclusive) where the next begins.
 */
export type Every = "quarter" | "month" | "half-year" | "year";

export type Cycle = { id: string; start: Date; end: Date };

const DAY_MS = 24 * 60 * 60 * 1000;

/** Months per cycle. */
const LENGTH: Record<Every, number> = { month: 1, quarter: 3, "half-year": 6, year: 12 };

export function cycleOf(every: Every, at: Date): Cycle {
  const year = at.getUTCFullYear();
  const length = LENGTH[every];
  const index = Math.floor(at.getUTCMonth() / length);
  return cycleAt(every, year, index);
}

function cycleAt(every: Every, year: number, index: number): Cycle {
  const length = LENGTH[every];
  const start = new Date(Date.UTC(year, index * length, 1));
  const end = new Date(Date.UTC(year, (index + 1) * length, 1));
  const y = String(year).padStart(4, "0");
  const id =
    every === "year"
      ? y
      : every === "half-year"
        ? `${y}-H${index + 1}`
        : every === "quarter"
          ? `${y}-Q${index + 1}`
          : `${y}-${String(index + 1).padStart(2, "0")}`;
  return { id, start, end };
}

const PATTERNS: Array<[RegExp, Every]> = [
  [/^(\d{4})$/, "year"],
  [/^(\d{4})-H([12])$/, "half-year"],
  [/^(\d{4})-Q([1-4])$/, "quarter"],
  [/^(\d{4})-(0[1-9]|1[0-2])$/, "month"],
];

/** A cycle from its id; null when the id is none of the four shapes. */
export function parseCycle(id: string): Cycle | null {
  const kind = everyOf(id);
  if (kind === null) return null;
  const [, year = "", index = "1"] = PATTERNS.find(([, every]) => every === kind)?.[0].exec(id) ?? [];
  return cycleAt(kind, Number(year), Number(index) - 1);
}

/** Which kind of cycle an id names; null when none. */
export function everyOf(id: string): Every | null {
  for (const [pattern, every] of PATTERNS) if (pattern.test(id)) return every;
  return null;
}

/** The review of a cycle is due this many days after the cycle's first day. */
export function dueAt(cycle: Cycle, dueWithinDays: number): Date {
  return new Date(cycle.start.getTime() + dueWithinDays * DAY_MS);
}

/** Whether cycle `a` starts before cycle `b` (ids of any kinds). */
export function cycleBefore(a: Cycle, b: Cycle): boolean {
  return a.start.getTime() < b.start.getTime();
}
