import { known, unreadable, type Known, type Permission, type UnreadableFact } from "../../model/index.js";
import { ProviderError } from "../../errors.js";
import { GitLabHttpError } from "./client.js";

/** GitLab role names as the UI shows them, for "unknown" results a person can act on. */
export const ROLE = {
  reporter: "Reporter role",
  developer: "Developer role",
  maintainer: "Maintainer role",
  owner: "Owner role",
  admin: "instance administrator",
  readApi: "read_api scope",
  api: "api scope",
  premium: "GitLab Premium",
} as const;

/** What an "unknown" says when the instance answers 404 for an endpoint only paid tiers have. */
export const NOT_ON_EDITION = "not available on this GitLab edition (Premium or Ultimate only)";

/**
 * GitLab access levels onto the model's permissions: 5 minimal and 10 guest → read (guests see a
 * private project's issues, not always its code; read is the honest upper bound), 20 reporter →
 * read, 30 developer → write, 40 maintainer → maintain (settings, protected branches), 50 owner →
 * admin. 0 is "no access".
 */
export function permissionOf(accessLevel: number): Permission {
  if (accessLevel >= 50) return "admin";
  if (accessLevel >= 40) return "maintain";
  if (accessLevel >= 30) return "write";
  if (accessLevel > 0) return "read";
  return "none";
}

export function roleName(accessLevel: number): string {
  const names: Record<number, string> = {
    5: "minimal",
    10: "guest",
    20: "reporter",
    30: "developer",
    40: "maintainer",
    50: "owner",
  };
  return names[accessLevel] ?? `access-level-${accessLevel}`;
}

/**
 * Collects what could not be read while collecting. Each collector reads through `read`, which
 * turns 401/403 (and, where the caller says so, 404) into an Unreadable naming the role or scope.
 */
export class UnreadableLog {
  private facts: UnreadableFact[] = [];
  /** Premium-only endpoints this instance answered 404 for, with the reason first given. */
  private lacking = new Map<string, string>();

  async read<T>(
    subject: string,
    what: string,
    permission: string,
    load: () => Promise<T>,
    options: {
      notFoundIsUnreadable?: boolean;
      /** The Premium-only endpoint this reads ("approval_state"): a 404 means the edition lacks it. */
      edition?: string;
    } = {},
  ): Promise<Known<T>> {
    // Once the instance said it lacks an endpoint, it lacks it for every project and merge request.
    const lacking = options.edition ? this.lacking.get(options.edition) : undefined;
    if (lacking) return this.add(subject, what, ROLE.premium, lacking);
    try {
      return known(await load());
    } catch (error) {
      // GitLab Free/CE answers 404 for Premium-only endpoints: the fact is not on this edition, which
      // no role or scope would change (a 404 can also hide a resource, so the reason keeps the answer).
      if (error instanceof GitLabHttpError && error.status === 404 && options.edition) {
        const reason = `${NOT_ON_EDITION}: ${error.message}`;
        this.lacking.set(options.edition, reason);
        return this.add(subject, what, ROLE.premium, reason);
      }
      if (
        error instanceof GitLabHttpError &&
        (error.status === 401 ||
          error.status === 403 ||
          (error.status === 404 && options.notFoundIsUnreadable))
      ) {
        return this.add(subject, what, permission, `${error.status} ${error.message}`);
      }
      throw error;
    }
  }

  add(subject: string, what: string, permission: string, reason: string): Known<never> {
    this.facts.push({ subject, what, permission, reason });
    return unreadable(permission, reason);
  }

  drain(): UnreadableFact[] {
    const drained = this.facts;
    this.facts = [];
    return drained;
  }
}

/**
 * A commit carries an e-mail, not a GitLab account. We link it to a login only on evidence: the
 * no-reply address GitLab gives each user ("123-alice@users.noreply.gitlab.com") or a member's
 * public e-mail. Never by display name: a wrong author is worse than an unknown one.
 */
/**
 * The user id GitLab put in its no-reply address ("123-alice@users.noreply.gitlab.com"), so the
 * account's type can be asked for; null for any other address.
 */
export function userIdForEmail(email: string | null | undefined): number | null {
  const match = /^(\d+)-[a-z0-9_.-]+@users\.noreply\./i.exec(email ?? "");
  return match?.[1] ? Number(match[1]) : null;
}

/**
 * `Co-authored-by: Name <e-mail>` credits of a commit message (any line, key in any case, spaces
 * around the colon, as GitLab and GitHub both credit them). A credit with a name alone or an e-mail
 * alone is kept: an unnamed co-author is unattributed, never dropped. Crediting one too many keeps a
 * reviewer from being taken for independent; missing one would not.
 */
export function coAuthorTrailers(message: string | undefined): Array<{ name: string; email: string | null }> {
  const found: Array<{ name: string; email: string | null }> = [];
  for (const line of (message ?? "").split(/\r\n?|\n/)) {
    const value = /^[ \t]*co-authored-by[ \t]*:[ \t]*(.*)$/i.exec(line)?.[1]?.trim();
    if (!value) continue;
    const address = /^(.*?)\s*<([^<>]*)>$/.exec(value);
    if (address) {
      const email = (address[2] ?? "").trim();
      found.push({ name: (address[1] ?? "").trim(), email: email === "" ? null : email });
    } else found.push(value.includes("@") ? { name: "", email: value } : { name: value, email: null });
  }
  return found;
}

export function loginForEmail(
  email: string | null | undefined,
  byEmail: ReadonlyMap<string, string>,
): string | null {
  if (!email) return null;
  const lower = email.toLowerCase();
  const noreply = /^\d+-([a-z0-9_.-]+)@users\.noreply\./i.exec(lower);
  if (noreply?.[1]) return noreply[1];
  return byEmail.get(lower) ?? null;
}

/**
 * GitLab protected-branch names are exact or use `*` as a wildcard matching any characters, "/"
 * included. Matched with the classic two-pointer wildcard walk: linear-ish, no regular expression.
 */
export function protectedBranchMatches(pattern: string, branch: string): boolean {
  let p = 0;
  let b = 0;
  let star = -1;
  let resume = 0;
  while (b < branch.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === branch[b]) {
      p++;
      b++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = b;
    } else if (star >= 0) {
      p = star + 1;
      b = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/** GitLab answers times as ISO with milliseconds and an offset; normalise to what the model parses. */
export function isoTime(value: string): string {
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime()))
    throw new ProviderError(`GitLab answered a bad time: ${value}`, { host: "gitlab" });
  return parsed.toISOString();
}
