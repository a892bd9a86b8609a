import { describe, expect, it } from "vitest";
import {
  coAuthorsOf,
  coAuthorTrailers,
  mentionsCoAuthor,
  noReplyLogin,
} from "../../../src/providers/github/co-authors.js";

describe("coAuthorTrailers", () => {
  it("reads the trailer block GitHub writes when a suggestion is committed in the web UI", () => {
    const message =
      "Apply suggestions from code review\n\nCo-authored-by: Bob Stone <5129+bob@users.noreply.github.com>";
    expect(coAuthorTrailers(message)).toEqual([
      { name: "Bob Stone", email: "5129+bob@users.noreply.github.com" },
    ]);
  });

  it("matches the key in any case, among other trailers, with CRLF line ends and trailing blank lines", () => {
    const message =
      "Fix the limiter (#12)\r\n\r\n* first\r\n* second\r\n\r\nSigned-off-by: Alice <alice@acme.example>\r\n" +
      "co-authored-BY:   Carol King <carol@acme.example>  \r\nCo-Authored-By: Dan <dan@acme.example>\r\n\r\n";
    expect(coAuthorTrailers(message)).toEqual([
      { name: "Carol King", email: "carol@acme.example" },
      { name: "Dan", email: "dan@acme.example" },
    ]);
  });

  it("credits a Co-authored-by line wherever it stands, as the GitLab provider does: one credit too many never passes a reviewer", () => {
    expect(coAuthorTrailers("Co-authored-by: Bob <bob@acme.example>")).toEqual([
      { name: "Bob", email: "bob@acme.example" },
    ]);
    expect(
      coAuthorTrailers("Subject\n\nCo-authored-by: Bob <bob@acme.example>\nand then some prose.\n"),
    ).toEqual([{ name: "Bob", email: "bob@acme.example" }]);
    expect(
      coAuthorTrailers("Subject\n\n  Co-authored-by : Bob <bob@acme.example>\n\nA closing remark."),
    ).toEqual([{ name: "Bob", email: "bob@acme.example" }]);
    // Only the key at the start of a line is a credit, as mentionsCoAuthor reads it.
    expect(coAuthorTrailers("Subject\n\nNo credit here: co-authored-by nobody")).toEqual([]);
  });

  it("keeps a trailer without an address, or with an address alone", () => {
    expect(
      coAuthorTrailers("Subject\n\nCo-authored-by: Bob\nCo-authored-by: pat@contractor.example"),
    ).toEqual([
      { name: "Bob", email: null },
      { name: "", email: "pat@contractor.example" },
    ]);
  });
});

describe("mentionsCoAuthor", () => {
  it("is looser than the parser: any line starting with the key, so GitHub's own credit is read", () => {
    expect(mentionsCoAuthor("Subject\n\nCo-authored-by: Bob <b@x>\n\nA closing remark.")).toBe(true);
    expect(mentionsCoAuthor("Subject\n\nNo credit here: co-authored-by nobody")).toBe(false);
  });
});

describe("noReplyLogin", () => {
  it("reads the login of GitHub's no-reply addresses, old and new, on github.com and GHES", () => {
    expect(noReplyLogin("5129+bob@users.noreply.github.com")).toBe("bob");
    expect(noReplyLogin("bob@users.noreply.github.com")).toBe("bob");
    expect(noReplyLogin("49699333+dependabot[bot]@users.noreply.github.com")).toBe("dependabot[bot]");
    expect(noReplyLogin("12+Carol-K@users.noreply.ghe.acme.example")).toBe("Carol-K");
    expect(noReplyLogin("bob@acme.example")).toBeNull();
    expect(noReplyLogin(null)).toBeNull();
  });
});

describe("coAuthorsOf", () => {
  const author = { name: "Alice", email: "alice@acme.example", user: { login: "alice" } };

  it("links a trailer's e-mail to the account GitHub's authors list gives it, and keeps GitHub's other credits", () => {
    const message =
      "Subject\n\nCo-authored-by: Carol <carol@acme.example>\nCo-authored-by: Pat <pat@x.example>";
    const authors = [
      author,
      { name: "Carol", email: "carol@acme.example", user: { login: "carol" } },
      { name: "Pat", email: "pat@x.example", user: null },
      { name: "Erin", email: "erin@acme.example", user: { login: "erin" } },
    ];
    expect(coAuthorsOf({ message, author, authors })).toEqual([
      { login: "carol", name: "Carol", email: "carol@acme.example", kind: "user", source: "trailer" },
      { login: null, name: "Pat", email: "pat@x.example", kind: "unknown", source: "trailer" },
      { login: "erin", name: "Erin", email: "erin@acme.example", kind: "user", source: "host" },
    ]);
  });

  it("gives a trailer's login from a no-reply address, a bot's as a bot, and never the author as their own co-author", () => {
    const message =
      "Subject\n\nCo-authored-by: Alice <ALICE@acme.example>\n" +
      "Co-authored-by: bob <5129+bob@users.noreply.github.com>\n" +
      "Co-authored-by: renovate <29139614+renovate[bot]@users.noreply.github.com>";
    expect(coAuthorsOf({ message, author, authors: null })).toEqual([
      {
        login: "bob",
        name: "bob",
        email: "5129+bob@users.noreply.github.com",
        kind: "user",
        source: "trailer",
      },
      {
        login: "renovate[bot]",
        name: "renovate",
        email: "29139614+renovate[bot]@users.noreply.github.com",
        kind: "bot",
        source: "trailer",
      },
    ]);
  });
});
