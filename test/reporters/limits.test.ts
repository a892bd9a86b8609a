import { describe, expect, it } from "vitest";
import {
  GITHUB_LIMITS,
  GITLAB_LIMITS,
  characterLength,
  clipBytes,
  clipCharacters,
  utf8Length,
} from "../../src/text/limits.js";

/** No lone surrogate anywhere: a split pair is what GitHub stores as U+FFFD. */
function wellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

describe("the hosts' limits", () => {
  it("are the documented ones, in the hosts' units", () => {
    expect(GITHUB_LIMITS.issueTitleCharacters).toBe(256);
    expect(GITHUB_LIMITS.issueBodyCharacters).toBe(65_536);
    expect(GITHUB_LIMITS.commentBodyCharacters).toBe(65_536);
    expect(GITHUB_LIMITS.checkRunSummaryBytes).toBe(65_535);
    expect(GITHUB_LIMITS.checkRunTextBytes).toBe(65_535);
    expect(GITLAB_LIMITS.issueTitleCharacters).toBe(255);
    expect(GITLAB_LIMITS.issueDescriptionCharacters).toBe(1_048_576);
    expect(GITLAB_LIMITS.noteBodyCharacters).toBe(1_000_000);
  });
});

describe("characterLength and utf8Length", () => {
  it("count code points and UTF-8 bytes, not UTF-16 units", () => {
    expect(characterLength("a😀é")).toBe(3);
    expect("a😀é".length).toBe(4);
    expect(utf8Length("a😀é")).toBe(1 + 4 + 2);
  });
});

describe("clipCharacters", () => {
  it("leaves text within the limit untouched", () => {
    expect(clipCharacters("x".repeat(256), 256)).toBe("x".repeat(256));
  });

  it("clips to the limit, marker included, and says how much was cut", () => {
    const out = clipCharacters("a".repeat(300), 256);
    expect(characterLength(out)).toBeLessThanOrEqual(256);
    const match = /clipped: (\d+) more characters\)$/.exec(out);
    expect(match).not.toBeNull();
    const kept = out.slice(0, out.indexOf(" … (clipped")).length;
    expect(kept + Number(match?.[1])).toBe(300);
  });

  it("never splits a surrogate pair or an emoji sequence", () => {
    const family = "👨‍👩‍👧‍👦"; // 7 code points, one grapheme
    for (let max = 40; max < 60; max++) {
      const out = clipCharacters(`${"😀".repeat(10)}${family.repeat(10)}`, max);
      expect(characterLength(out)).toBeLessThanOrEqual(max);
      expect(wellFormed(out)).toBe(true);
      const kept = out.slice(0, out.indexOf(" … (clipped"));
      expect(kept.replace(/😀/g, "").split(family).join("")).toBe("");
    }
  });

  it("cuts an abusive grapheme cluster between code points instead of dropping everything", () => {
    const zalgo = `a${"\u0301".repeat(5000)}`;
    const out = clipCharacters(zalgo, 100);
    expect(characterLength(out)).toBeLessThanOrEqual(100);
    expect(out.startsWith("a\u0301")).toBe(true);
  });

  it("takes a caller's marker", () => {
    expect(clipCharacters("abcdefghij", 6, "…")).toBe("abcde…");
    // the room is reserved for the widest count ("+10"), so the real one may leave a character unused
    expect(clipCharacters("abcdefghij", 8, (n) => `+${n}`)).toBe("abcde+5");
  });

  it("stays within a limit smaller than the marker", () => {
    expect(characterLength(clipCharacters("abcdefghij", 3))).toBeLessThanOrEqual(3);
  });
});

describe("clipBytes", () => {
  it("clips multi-byte text to the UTF-8 budget a character budget would overshoot", () => {
    // 60,000 characters of CJK: within a 65,535-character budget, 180,000 bytes
    const text = "変".repeat(60_000);
    const out = clipBytes(text, GITHUB_LIMITS.checkRunSummaryBytes);
    expect(utf8Length(out)).toBeLessThanOrEqual(65_535);
    expect(utf8Length(out)).toBeGreaterThan(65_535 - 64);
    expect(out).toMatch(/clipped: \d+ more characters\)$/);
    expect(wellFormed(out)).toBe(true);
  });

  it("never ends on part of a 4-byte character", () => {
    for (let max = 50; max < 60; max++) {
      const out = clipBytes("😀".repeat(40), max, "");
      expect(utf8Length(out)).toBeLessThanOrEqual(max);
      expect(utf8Length(out) % 4).toBe(0);
      expect(wellFormed(out)).toBe(true);
    }
  });

  it("leaves text within the budget untouched", () => {
    expect(clipBytes("é".repeat(10), 20)).toBe("é".repeat(10));
  });
});
