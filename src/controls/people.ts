import type { PeopleDirectory } from "./types.js";

/**
 * The people directory of a policy that names nobody: every account and every e-mail is its own
 * person, keyed as PeopleDirectory says ("login:<lower>", "email:<lower>").
 */
export const accountsOnly: PeopleDirectory = {
  personOf({ login, email }) {
    if (login) return `login:${login.toLowerCase()}`;
    if (email) return `email:${email.toLowerCase()}`;
    return null;
  },
  describe(key) {
    return key.slice(key.indexOf(":") + 1);
  },
};
