import { describe, expect, it } from "vitest";
import { buildChangeCheck } from "../src/reporters/check.js";
import {
  csvCell,
  csvRow,
  htmlText,
  jsonText,
  markdownCode,
  markdownText,
  markdownUser,
  titleText,
} from "../src/text/escape.js";
import { characterLength, GITHUB_LIMITS, GITLAB_LIMITS } from "../src/text/limits.js";
import { examplePayload } from "./fixtures/app/github-app.js";
import { makeChangeRequest } from "./fixtures/build.js";

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

/**
 * The reference forms GitHub documents as autolinked ("Autolinked references and URLs": an issue URL,
 * #26, GH-26, owner/repo#26) and GitLab's merge-request reference: each would link, and put a
 * "mentioned this" event on the referenced issue. A backslash before "#" does not stop GitHub.
 */
const REFERENCES =
  "Fixes #26, GH-26, gh-7, jlord/sheetsee.js#26, !12 and https://github.com/jlord/sheetsee.js/issues/26";

/** Unicode bidirectional controls: embeddings, overrides, isolates and marks. */
const BIDI = [
  "\u202A",
  "\u202B",
  "\u202C",
  "\u202D",
  "\u202E",
  "\u2066",
  "\u2067",
  "\u2068",
  "\u2069",
  "\u200E",
  "\u200F",
  "\u061C",
];
const HAS_BIDI = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/;

describe("issue and pull-request references", () => {
  it("neither link nor notify in Markdown text", () => {
    const out = markdownText(REFERENCES);
    expect(out).not.toMatch(/#\d|GH-\d|!\d|https?:\/\//i);
    // each sign is kept apart from its number by a zero-width space, not by a backslash alone
    expect(out).toContain("\\#\u200B26");
    expect(out).toContain("GH\\-\u200B26");
    expect(out).toContain("jlord/sheetsee\\.js\\#\u200B26");
    expect(out).toContain("\\!\u200B12");
    expect(markdownText("epic &7")).toBe("epic &amp;\u200B7");
    // a person still reads the same text
    expect(out.replace(/[\u200B\\]/g, "")).toBe(REFERENCES);
  });

  it("neither link nor notify in titles", () => {
    const out = titleText(REFERENCES, 256);
    expect(out).not.toMatch(/#\d|GH-\d|!\d|https?:\/\//i);
    expect(out.replace(/\u200B/g, "")).toBe(REFERENCES);
  });

  it("leaves a number sign that is not a reference alone", () => {
    expect(markdownText("C# and F#")).toBe("C\\# and F\\#");
  });
});

describe("bidirectional controls", () => {
  const hostile = `main${BIDI.join("x")}exe.txt`;

  it("are shown, never obeyed, in every Markdown, HTML, CSV and title output", () => {
    const outputs = {
      markdownText: markdownText(hostile),
      markdownCode: markdownCode(hostile),
      markdownUser: markdownUser(hostile),
      htmlText: htmlText(hostile),
      csvCell: csvCell(hostile),
      csvRow: csvRow([hostile]),
      titleText: titleText(hostile, 256),
    };
    for (const [name, out] of Object.entries(outputs)) {
      expect(out, name).not.toMatch(HAS_BIDI);
      expect(out.replace(/\\/g, ""), name).toContain("‹U+202E›");
    }
    expect(markdownCode("a\u202Eb")).toBe("`a‹U+202E›b`");
    expect(htmlText("\u2067x")).toBe("‹U+2067›x");
    expect(csvCell("\u061C=1")).toBe("‹U+061C›=1");
  });

  it("are written as \\u escapes in JSON, the parsed text unchanged", () => {
    const json = jsonText(JSON.stringify({ title: hostile }));
    expect(json).not.toMatch(HAS_BIDI);
    expect(json).toContain("\\u202e");
    expect((JSON.parse(json) as { title: string }).title).toBe(hostile);
  });
});

describe("titleText", () => {
  it("keeps a title naming 40 owners within GitHub's 256 characters after escaping", () => {
    const owners = Array.from({ length: 40 }, (_, i) => `@owner${String(i).padStart(2, "0")}`).join(" ");
    const raw = `[soc2] cc6.owner-count: acme — 40 owners: ${owners}`;
    const title = titleText(raw, GITHUB_LIMITS.issueTitleCharacters);
    expect(characterLength(title)).toBeLessThanOrEqual(256);
    expect(title).not.toMatch(/@[a-z0-9]/i);
    expect(title.endsWith("…")).toBe(true);
    // GitLab's limit is one less, and held the same way
    expect(characterLength(titleText(raw, GITLAB_LIMITS.issueTitleCharacters))).toBeLessThanOrEqual(255);
  });

  it("is one line without tags, links or control characters", () => {
    expect(titleText("a\r\n<b>x</b>\u0007 [y](https://evil) www.evil.test", 256)).toBe(
      "a ‹b›x‹/b› [y]\u200B(https:\u200B//evil) www\u200B.evil.test",
    );
  });
});

describe("a hostile pull-request title from GitHub's pull_request payload", () => {
  it("reaches the change check inert: no mention, reference, link, markup or bidi control", () => {
    const payload = examplePayload("pull_request", "opened");
    payload.pull_request.title =
      "@acme/admins fixes #1 GH-2 octo/repo#3 !4 \u202Etxt.exe <img src=x onerror=alert(1)> [x](https://evil.test) www.evil.test";
    const changeRequest = makeChangeRequest({
      title: payload.pull_request.title,
      author: payload.pull_request.user.login,
      headBranch: `${payload.pull_request.head.ref}\u202E`,
    });
    const { summary, title } = buildChangeCheck({ changeRequest, results: [], policySources: [] });
    for (const text of [summary, title]) {
      expect(text).not.toMatch(/@[a-z]/i);
      expect(text).not.toMatch(/(?<![\\\u200B])#\d|\\#\d|GH-\d|!\d/);
      expect(text).not.toMatch(/https?:\/\/evil|www\.evil/);
      expect(text).not.toContain("<img");
      expect(text).not.toMatch(HAS_BIDI);
    }
    expect(summary).toContain("‹U\\+202E›txt\\.exe");
  });
});
