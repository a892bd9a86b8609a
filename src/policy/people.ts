import type { PeopleDirectory } from "../controls/types.js";
import type { SourcePosition } from "../errors.js";
import type { LayerPerson, Person } from "./types.js";
import type { Problem } from "./yaml-source.js";

/**
 * The policy's `people:` map: which logins (per host) and commit e-mails are one person. Logins and
 * e-mails compare case-insensitively (hosts treat logins so; mail systems treat addresses so in
 * practice), so "Alice" and "alice" are one account.
 */

export type Host = "github" | "gitlab";
type AccountKind = Host | "email";

const KIND_NAMES: Record<AccountKind, string> = {
  github: "GitHub login",
  gitlab: "GitLab login",
  email: "e-mail",
};

/** Every account of a person, as "github:<login>", "gitlab:<login>", "email:<address>" (lower case). */
export function accountKeys(person: Person): string[] {
  return [
    ...person.github.map((login) => accountKey("github", login)),
    ...person.gitlab.map((login) => accountKey("gitlab", login)),
    ...person.emails.map((email) => accountKey("email", email)),
  ];
}

export function accountKey(kind: AccountKind, value: string): string {
  return `${kind}:${value.trim().toLowerCase()}`;
}

/**
 * An account claimed by two people: a problem at the later claim, naming both places. People are
 * given in layering order; the same person (same id) listing an account again is no conflict.
 */
export function peopleConflicts(people: readonly LayerPerson[]): Problem[] {
  const owners = new Map<string, { id: string; place: SourcePosition | undefined }>();
  const problems: Problem[] = [];
  for (const person of people) {
    for (const key of new Set(accountKeys(person))) {
      const place = person.places[key];
      const owner = owners.get(key);
      if (!owner) {
        owners.set(key, { id: person.id, place });
        continue;
      }
      if (owner.id === person.id || !place) continue;
      const [kind = "", value = ""] = splitKey(key);
      const where = owner.place ? ` (${owner.place.file}:${owner.place.line}:${owner.place.column})` : "";
      problems.push({
        ...place,
        message:
          `${KIND_NAMES[kind as AccountKind] ?? kind} \`${value}\` is claimed by \`${person.id}\` here ` +
          `and by \`${owner.id}\`${where}: an account belongs to one person`,
      });
    }
  }
  return problems;
}

/**
 * The people of layered files, by id: a later layer may add accounts to a person or set the name and
 * last day, never remove an account. First-declared order, so the policy reads as written.
 */
export function mergePeople(layers: ReadonlyArray<readonly LayerPerson[] | undefined>): Person[] {
  const byId = new Map<string, Person>();
  for (const people of layers) {
    for (const { places: _places, ...person } of people ?? []) {
      const known = byId.get(person.id);
      if (!known) {
        byId.set(person.id, {
          ...person,
          github: unique(person.github),
          gitlab: unique(person.gitlab),
          emails: unique(person.emails),
        });
        continue;
      }
      byId.set(person.id, {
        id: person.id,
        ...((person.name ?? known.name) !== undefined && { name: person.name ?? known.name }),
        github: unique([...known.github, ...person.github]),
        gitlab: unique([...known.gitlab, ...person.gitlab]),
        emails: unique([...known.emails, ...person.emails]),
        ...((person.leftOn ?? known.leftOn) !== undefined && { leftOn: person.leftOn ?? known.leftOn }),
      });
    }
  }
  return [...byId.values()];
}

/**
 * Who is who on one host: a login of that host (the other host's logins are other accounts) or a
 * commit e-mail (any host) resolves to "person:<id>" when the policy names its owner. GitHub's
 * no-reply commit e-mails (`12345+login@users.noreply.github.com`, `login@users.noreply.github.com`)
 * and GitLab's (`12345-login@users.noreply.gitlab.com`) stand for that login on that host.
 *
 * When a login and an e-mail are both given and either names a person, that person is the answer:
 * the host linked the e-mail to the account, so the account is theirs. Resolving to the person can
 * only make fewer approvals independent, never more.
 */
export function peopleDirectory(people: readonly Person[], host: Host): PeopleDirectory {
  const byLogin = new Map<string, string>();
  const byEmail = new Map<string, string>();
  for (const person of people) {
    for (const login of host === "github" ? person.github : person.gitlab) {
      byLogin.set(normalize(login), person.id);
    }
    for (const email of person.emails) byEmail.set(normalize(email), person.id);
  }
  const ids = new Set(people.map((person) => person.id));

  return {
    personOf({ login, email }) {
      const account = login ? normalize(login) : "";
      const address = email ? normalize(email) : "";
      const noreply = address ? noreplyLogin(address, host) : undefined;
      const id =
        (account ? byLogin.get(account) : undefined) ??
        (address ? byEmail.get(address) : undefined) ??
        (noreply ? byLogin.get(noreply) : undefined);
      if (id !== undefined) return `person:${id}`;
      if (account) return `login:${account}`;
      if (noreply) return `login:${noreply}`;
      if (address) return `email:${address}`;
      return null;
    },
    describe(key) {
      const [kind, value] = splitKey(key);
      if (kind === "person" && value !== undefined && ids.has(value)) return value;
      if ((kind === "login" || kind === "email") && value !== undefined) return value;
      return key;
    },
    persons: people.map((person) => ({
      key: `person:${person.id}`,
      ...(person.leftOn !== undefined && { leftOn: person.leftOn }),
    })),
  };
}

const GITHUB_NOREPLY = /^(?:\d+\+)?([a-z0-9][a-z0-9-]*(?:\[bot\])?)@users\.noreply\.github\.com$/;
const GITLAB_NOREPLY = /^\d+-([a-z0-9][a-z0-9._-]*)@users\.noreply\.gitlab\.com$/;

/** The login a host's no-reply commit e-mail stands for, on that host only. */
export function noreplyLogin(email: string, host: Host): string | undefined {
  const match = (host === "github" ? GITHUB_NOREPLY : GITLAB_NOREPLY).exec(normalize(email));
  return match?.[1];
}

function normalize(value: string): string {
  return value.trim().toLowerCase();
}

function unique(values: readonly string[]): string[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const key = normalize(value);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function splitKey(key: string): [string, string | undefined] {
  const at = key.indexOf(":");
  return at < 0 ? [key, undefined] : [key.slice(0, at), key.slice(at + 1)];
}
