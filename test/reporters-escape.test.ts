import { describe, expect, it } from "vitest";
import {
  csvCell,
  csvRow,
  htmlText,
  markdownCode,
  markdownText,
  markdownUser,
} from "../src/reporters/escape.js";

describe("markdownText", () => {
  it("neutralises mentions, links and markup in a hostile title", () => {
    const out = markdownText("@org/admins see [x](javascript:alert(1)) <img src=x onerror=alert(1)>\n# H");
    expect(out).not.toMatch(/@[a-z]/i);
    expect(out).not.toContain("<img");
    expect(out).not.toContain("](");
    expect(out).not.toContain("\n");
    expect(out).toContain("\\# H");
  });
  it("stops autolinks", () => {
    expect(markdownText("https://evil.example www.evil.example")).not.toMatch(/https:\/\/|www\./);
  });
});

describe("markdownCode and markdownUser", () => {
  it("keeps backticks from closing the span and drops the @", () => {
    expect(markdownCode("a`b")).toBe("`aˋb`");
    expect(markdownUser("@alice")).toBe("`alice`");
  });
});

describe("htmlText", () => {
  it("escapes tags, quotes and ampersands", () => {
    expect(htmlText(`<img src=x onerror="alert(1)">&'`)).toBe(
      "&#60;img src=x onerror=&#34;alert(1)&#34;&#62;&#38;&#39;",
    );
  });
});

describe("csvCell", () => {
  it.each([
    ["=HYPERLINK(1)", "'=HYPERLINK(1)"],
    ["+1", "'+1"],
    ["-2+3", "'-2+3"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\t=1", "'\t=1"],
    ["\r=1", `"'\r=1"`],
    ["  =1", "'  =1"],
  ])("neutralises formula %j", (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });
  it("quotes commas, quotes and newlines, leaves numbers alone", () => {
    expect(csvCell('a,"b"\nc')).toBe('"a,""b""\nc"');
    expect(csvCell(-3)).toBe("-3");
    expect(csvCell(null)).toBe("");
    expect(csvRow(["a", true, 2])).toBe("a,true,2\r\n");
  });
});
