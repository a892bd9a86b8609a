import { describe, expect, it } from "vitest";
import { CONTROLS } from "../../src/controls/index.js";
import {
  loadDefaultPolicyLayer,
  noreplyLogin,
  parsePolicyLayer,
  peopleDirectory,
  resolvePolicy,
} from "../../src/policy/index.js";
import type { Person } from "../../src/policy/index.js";
import { policySetFor } from "../../src/pipeline/policies.js";
import { FAKE_CONTROLS, FAKE_DEFAULT, problemsOf } from "./fake-controls.js";

const ORG = `version: 1
people:
  alice:
    name: Alice Doe
    github: [alice, Alice-Work]
    gitlab: [adoe]
    emails: [Alice@Acme.com]
    left_on: 2026-06-30
  bob:
    github: [bob]
`;

function layer(text: string, file = "org.yml", layerKind?: "organization" | "repository") {
  return parsePolicyLayer(text, file, FAKE_CONTROLS, layerKind ? { layer: layerKind } : {});
}

function resolve(...texts: Array<[file: string, text: string]>) {
  return resolvePolicy(
    [layer(FAKE_DEFAULT, "policies/soc2.yml"), ...texts.map(([file, text]) => layer(text, file))],
    FAKE_CONTROLS,
  );
}

function messages(run: () => unknown): string[] {
  return problemsOf(run).map((p) => `${p.file}:${p.line}:${p.column} ${p.message}`);
}

describe("people: parsing", () => {
  it("reads each person with their accounts and where each account is written", () => {
    expect(layer(ORG).people).toEqual([
      {
        id: "alice",
        name: "Alice Doe",
        github: ["alice", "Alice-Work"],
        gitlab: ["adoe"],
        emails: ["Alice@Acme.com"],
        leftOn: "2026-06-30",
        places: {
          "github:alice": { file: "org.yml", line: 5, column: 14 },
          "github:alice-work": { file: "org.yml", line: 5, column: 21 },
          "gitlab:adoe": { file: "org.yml", line: 6, column: 14 },
          "email:alice@acme.com": { file: "org.yml", line: 7, column: 14 },
        },
      },
      {
        id: "bob",
        github: ["bob"],
        gitlab: [],
        emails: [],
        places: { "github:bob": { file: "org.yml", line: 10, column: 14 } },
      },
    ]);
  });

  it("reports unknown keys with a suggestion, bad logins, e-mails, dates and ids, with positions", () => {
    const text = `version: 1
people:
  alice:
    githb: [alice]
    emails: [not-an-email]
    left_on: 2026-02-30
  bob:
    github: ["@bob"]
  "carol smith":
    gitlab: [carol]
  dave:
    name: Dave
`;
    // alice's other problems hide that she names no account yet (once fixed, she names none: reported then).
    expect(messages(() => layer(text))).toEqual([
      "org.yml:4:5 unknown key `githb` in `people.alice`; did you mean `github`?",
      "org.yml:5:14 `people.alice.emails[0]` must be an e-mail address, e.g. alice@example.com",
      "org.yml:6:14 `people.alice.left_on` must be a real date written YYYY-MM-DD, e.g. 2026-12-31",
      "org.yml:8:14 `people.bob.github[0]` must be a login as the host shows it, e.g. `alice` (letters, digits, `-`, `_`, `.`; no `@`)",
      "org.yml:9:3 person id `carol smith` must be letters, digits, `.`, `_` or `-`, starting with a letter or digit (evidence names people by it)",
      "org.yml:12:5 `people.dave` names no account: give at least one of github, gitlab, emails",
    ]);
  });

  it("refuses a login or e-mail claimed by two people, comparing case-insensitively, naming both places", () => {
    const text = `version: 1
people:
  alice:
    github: [alice]
    emails: [alice@acme.com]
  mallory:
    github: [ALICE]
    gitlab: [alice]
    emails: [Alice@ACME.com]
`;
    expect(messages(() => layer(text))).toEqual([
      "org.yml:7:14 GitHub login `alice` is claimed by `mallory` here and by `alice` (org.yml:4:14): an account belongs to one person",
      "org.yml:9:14 e-mail `alice@acme.com` is claimed by `mallory` here and by `alice` (org.yml:5:14): an account belongs to one person",
    ]);
  });

  it("refuses `people` in a repository's layer: who is who is the organization's to say", () => {
    expect(messages(() => layer(ORG, "acme/api:.github/soc2.yml", "repository"))).toEqual([
      "acme/api:.github/soc2.yml:2:1 `people` is declared by the organization's policy, not a repository's: move it to the organization's policy file",
    ]);
    // An organization layer (the default when the caller does not say) may.
    expect(layer(ORG, "org.yml", "organization").people).toHaveLength(2);
  });

  it("refuses a repository layer's `people` through the pipeline that layers a snapshot's policy files", () => {
    const problems = problemsOf(() =>
      policySetFor({
        policyFiles: [
          {
            layer: "repository",
            repository: "acme/api",
            path: "acme/api:.github/soc2.yml@main",
            content: "version: 1\npeople:\n  eve:\n    github: [eve, alice]\n",
          },
        ],
      }),
    );
    expect(problems.map((p) => `${p.file}:${p.line}:${p.column}`)).toEqual([
      "acme/api:.github/soc2.yml@main:2:1",
    ]);
  });
});

describe("people: layering", () => {
  it("unites people by id: a later layer adds accounts and sets the name, never removes an account", () => {
    const policy = resolve(
      ["org.yml", ORG],
      ["org-2.yml", "version: 1\npeople:\n  alice:\n    github: [ALICE, alice-oss]\n    name: Alice D.\n"],
    );
    expect(policy.people).toEqual([
      {
        id: "alice",
        name: "Alice D.",
        github: ["alice", "Alice-Work", "alice-oss"],
        gitlab: ["adoe"],
        emails: ["Alice@Acme.com"],
        leftOn: "2026-06-30",
      },
      { id: "bob", github: ["bob"], gitlab: [], emails: [] },
    ]);
  });

  it("refuses an account one layer gives to one person and another layer to another, naming both files", () => {
    expect(
      messages(() =>
        resolve(["org.yml", ORG], ["org-2.yml", "version: 1\npeople:\n  eve:\n    github: [bob]\n"]),
      ),
    ).toEqual([
      "org-2.yml:4:14 GitHub login `bob` is claimed by `eve` here and by `bob` (org.yml:10:14): an account belongs to one person",
    ]);
  });

  it("has no people when no layer names any, and the shipped default names none", () => {
    expect(resolve().people).toEqual([]);
    expect(resolvePolicy([loadDefaultPolicyLayer(CONTROLS)], CONTROLS).people).toEqual([]);
  });
});

describe("peopleDirectory", () => {
  const people: Person[] = [
    {
      id: "alice",
      github: ["alice", "Alice-Work"],
      gitlab: ["adoe"],
      emails: ["Alice@Acme.com"],
    },
  ];
  const github = peopleDirectory(people, "github");
  const gitlab = peopleDirectory(people, "gitlab");

  it("resolves every account of a person on the host, and their e-mails, to the person", () => {
    expect(github.personOf({ login: "alice" })).toBe("person:alice");
    expect(github.personOf({ login: "alice-work" })).toBe("person:alice");
    expect(github.personOf({ email: "alice@acme.com" })).toBe("person:alice");
    expect(github.personOf({ login: null, email: "ALICE@acme.com" })).toBe("person:alice");
    expect(gitlab.personOf({ login: "ADoe" })).toBe("person:alice");
    expect(gitlab.personOf({ email: "alice@acme.com" })).toBe("person:alice");
  });

  it("lists the people with their last day, for the leavers control", () => {
    const leaving = peopleDirectory([...people, { id: "bob", github: ["bob"], gitlab: [], emails: [], leftOn: "2026-06-30" }], "github"); // prettier-ignore
    expect(leaving.persons).toEqual([{ key: "person:alice" }, { key: "person:bob", leftOn: "2026-06-30" }]);
    expect(leaving.personOf({ login: "BOB" })).toBe("person:bob");
  });

  it("keeps the other host's logins apart: `adoe` on GitHub is someone else", () => {
    expect(github.personOf({ login: "adoe" })).toBe("login:adoe");
    expect(gitlab.personOf({ login: "alice" })).toBe("login:alice");
  });

  it("keys everyone else by lower-case login, else e-mail, else null", () => {
    expect(github.personOf({ login: "Bob" })).toBe("login:bob");
    expect(github.personOf({ email: "Carol@Example.com" })).toBe("email:carol@example.com");
    expect(github.personOf({ login: "bob", email: "bob@example.com" })).toBe("login:bob");
    expect(github.personOf({})).toBeNull();
    expect(github.personOf({ login: "", email: null })).toBeNull();
  });

  it("names the person when either the login or the e-mail of one identity is theirs", () => {
    // The host linked alice@acme.com to an account the policy does not list: still Alice.
    expect(github.personOf({ login: "alice-laptop", email: "alice@acme.com" })).toBe("person:alice");
  });

  it("reads GitHub's no-reply commit e-mails as the login they stand for, on GitHub only", () => {
    expect(github.personOf({ email: "12345+Alice-Work@users.noreply.github.com" })).toBe("person:alice");
    expect(github.personOf({ email: "alice@users.noreply.github.com" })).toBe("person:alice");
    expect(github.personOf({ email: "67890+bob@users.noreply.github.com" })).toBe("login:bob");
    expect(github.personOf({ email: "49699333+dependabot[bot]@users.noreply.github.com" })).toBe(
      "login:dependabot[bot]",
    );
    expect(gitlab.personOf({ email: "12345+alice@users.noreply.github.com" })).toBe(
      "email:12345+alice@users.noreply.github.com",
    );
    expect(noreplyLogin("alice@users.noreply.github.com.evil.example", "github")).toBeUndefined();
  });

  it("reads GitLab's private commit e-mails (id-username@users.noreply.gitlab.com) on GitLab", () => {
    expect(gitlab.personOf({ email: "4242-adoe@users.noreply.gitlab.com" })).toBe("person:alice");
    expect(noreplyLogin("4242-adoe@users.noreply.gitlab.com", "github")).toBeUndefined();
  });

  it("describes a key by the person's id, or the login or e-mail", () => {
    expect(github.describe("person:alice")).toBe("alice");
    expect(github.describe("login:bob")).toBe("bob");
    expect(github.describe("email:carol@example.com")).toBe("carol@example.com");
    expect(github.describe("something")).toBe("something");
  });

  it("makes two accounts one person, so `people:` can only merge identities, never split one", () => {
    const directory = peopleDirectory(resolve(["org.yml", ORG]).people, "github");
    expect(directory.personOf({ login: "alice" })).toBe(directory.personOf({ login: "alice-work" }));
    expect(directory.personOf({ login: "alice" })).not.toBe(directory.personOf({ login: "bob" }));
  });
});
