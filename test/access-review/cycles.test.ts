import { describe, expect, it } from "vitest";
import { cycleOf, dueAt, parseCycle } from "../../src/access-review/index.js";

const at = (iso: string) => new Date(iso);

describe("review cycles", () => {
  it("puts the last millisecond of a quarter in it and its first day's midnight (UTC) in the next", () => {
    expect(cycleOf("quarter", at("2026-12-31T23:59:59.999Z"))).toEqual({
      id: "2026-Q4",
      start: at("2026-10-01T00:00:00Z"),
      end: at("2027-01-01T00:00:00Z"),
    });
    expect(cycleOf("quarter", at("2027-01-01T00:00:00Z")).id).toBe("2027-Q1");
    expect(cycleOf("quarter", at("2026-06-30T23:59:59Z")).id).toBe("2026-Q2");
    expect(cycleOf("quarter", at("2026-07-01T00:00:00Z")).id).toBe("2026-Q3");
  });

  it("names months, half-years and years as the contract does, each ending where the next starts", () => {
    expect(cycleOf("month", at("2026-11-30T10:00:00Z"))).toEqual({
      id: "2026-11",
      start: at("2026-11-01T00:00:00Z"),
      end: at("2026-12-01T00:00:00Z"),
    });
    expect(cycleOf("month", at("2026-12-31T23:59:59Z")).end).toEqual(at("2027-01-01T00:00:00Z"));
    expect(cycleOf("half-year", at("2026-06-30T23:59:59Z")).id).toBe("2026-H1");
    expect(cycleOf("half-year", at("2026-07-01T00:00:00Z"))).toEqual({
      id: "2026-H2",
      start: at("2026-07-01T00:00:00Z"),
      end: at("2027-01-01T00:00:00Z"),
    });
    expect(cycleOf("year", at("2026-02-28T00:00:00Z"))).toEqual({
      id: "2026",
      start: at("2026-01-01T00:00:00Z"),
      end: at("2027-01-01T00:00:00Z"),
    });
  });

  it("reads every id it writes back to the same cycle, and nothing else", () => {
    for (const every of ["quarter", "month", "half-year", "year"] as const) {
      const cycle = cycleOf(every, at("2026-05-17T08:00:00Z"));
      expect(parseCycle(cycle.id)).toEqual(cycle);
    }
    for (const bad of [
      "2026-Q5",
      "2026-Q0",
      "2026-13",
      "2026-00",
      "2026-H3",
      "26-Q1",
      "2026-q4",
      "2026-Q4 ",
      "",
    ]) {
      expect(parseCycle(bad)).toBeNull();
    }
  });

  it("makes a review due its days after the cycle's first day", () => {
    const cycle = parseCycle("2026-Q4")!;
    expect(dueAt(cycle, 30)).toEqual(at("2026-10-31T00:00:00Z"));
    expect(dueAt(cycle, 1)).toEqual(at("2026-10-02T00:00:00Z"));
  });
});
