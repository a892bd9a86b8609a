/**
 * Who else wrote a commit: GitHub's `Commit.authors` (the git author first, then the people of the
 * message's Co-authored-by trailers GitHub recognised) and the trailers themselves. Pure.
 */
import type { ActorKind, CoAuthor } from "../../model/index.js";
import type { GitActor } from "./schema.js";

/**
 * Whether a message may name a co-author anywhere: deliberately looser than the trailer parser, so
 * that every commit GitHub could credit a co-author on has its `authors` read.
 */
export function mentionsCoAuthor(message: string): boolean {
  return /^[ \t]*co-authored-by[ \t]*:/im.test(message);
}

const CO_AUTHOR_LINE = /^[ \t]*co-authored-by[ \t]*:[ \t]*(.*)$/i;

/**
 * The Co-authored-by credits of a message: every line that starts with the key (any case, spaces
 * around the colon), wherever it stands. Git and GitHub read only the closing trailer block, and
 * GitHub's own credit comes from `Commit.authors`; a credit elsewhere in the message is still the
 * change's own claim that someone co-wrote it, and crediting one too many keeps a reviewer from
 * being taken for independent, where missing one would not. The value is `Name <email>` (an e-mail
 * alone, or a name alone, is kept as it is).
 */
export function coAuthorTrailers(message: string): { name: string; email: string | null }[] {
  const found: { name: string; email: string | null }[] = [];
  for (const line of message.split(/\r\n?|\n/)) {
    const match = CO_AUTHOR_LINE.exec(line);
    if (!match) continue;
    const value = (match[1] ?? "").trim();
    const address = /^(.*?)\s*<([^<>]*)>\s*$/.exec(value);
    if (address) {
      const email = (address[2] ?? "").trim();
      found.push({ name: (address[1] ?? "").trim(), email: email === "" ? null : email });
    } else if (value !== "") {
      found.push(value.includes("@") ? { name: "", email: value } : { name: value, email: null });
    }
  }
  return found;
}

/**
 * The login a GitHub no-reply address stands for: `ID+login@users.noreply.github.com` (or the
 * older `login@users.noreply.github.com`; GHES uses `users.noreply.<host>`). null for any other.
 */
export function noReplyLogin(email: string | null): string | null {
  if (!email) return null;
  const match =
    /^(?:\d+\+)?([A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?)@users\.noreply\.[^@\s]+$/i.exec(
      email.trim(),
    );
  return match?.[1] ?? null;
}

function kindOfLogin(login: string | null): ActorKind {
  if (login === null) return "unknown";
  return login.endsWith("[bot]") ? "bot" : "user";
}

const key = (email: string | null, name: string) =>
  email ? `email:${email.trim().toLowerCase()}` : `name:${name.trim().toLowerCase()}`;

/**
 * A commit's co-authors: each Co-authored-by trailer of its message (its login from a no-reply
 * address, or from the account GitHub's `authors` links to that e-mail), then every other entry of
 * `authors` after the first (the git author), which GitHub recognised where our trailer parser did
 * not. One entry per person (by e-mail, else by name); the primary author is never their own
 * co-author.
 */
export function coAuthorsOf(commit: {
  message: string;
  author: GitActor | null;
  /** The commit's whole `authors` list, or null when it was not read (no trailer in the message). */
  authors: readonly GitActor[] | null;
}): CoAuthor[] {
  const hostEntries = (commit.authors ?? []).slice(1);
  const linked = new Map<string, string>();
  for (const actor of hostEntries) {
    if (actor.user) linked.set(key(actor.email ?? null, actor.name ?? ""), actor.user.login);
  }
  const seen = new Set<string>();
  if (commit.author) seen.add(key(commit.author.email ?? null, commit.author.name ?? ""));
  const result: CoAuthor[] = [];
  for (const trailer of coAuthorTrailers(commit.message)) {
    const id = key(trailer.email, trailer.name);
    if (seen.has(id)) continue;
    seen.add(id);
    const login = noReplyLogin(trailer.email) ?? (trailer.email ? (linked.get(id) ?? null) : null);
    result.push({
      login,
      name: trailer.name,
      email: trailer.email,
      kind: kindOfLogin(login),
      source: "trailer",
    });
  }
  for (const actor of hostEntries) {
    const email = actor.email ?? null;
    const name = actor.name ?? "";
    const id = key(email, name);
    if (seen.has(id)) continue;
    seen.add(id);
    const login = actor.user?.login ?? noReplyLogin(email);
    result.push({ login, name, email, kind: kindOfLogin(login), source: "host" });
  }
  return result;
}
