import { encodePath, GitLabHttpError, type GitLabClient } from "./client.js";
import type { UnreadableLog } from "./map.js";
import type { ActorKind } from "../../model/index.js";
import { GroupProjectWire, MemberWire, ProjectWire, UserWire } from "./schema.js";
import type { MemberWire as Member, ProjectWire as Project } from "./schema.js";

/** What every GitLab collector shares within one host: the client, the unreadable log, caches. */
export interface GitLabContext {
  client: GitLabClient;
  unreadable: UnreadableLog;
  project(path: string): Promise<Project>;
  /** Every member with access to the project, inherited ones included; null when not readable. */
  projectMembers(path: string): Promise<Member[] | null>;
  /** Lower-cased public e-mail → login, from the project's members (empty when none are shown). */
  emailLogins(path: string): Promise<Map<string, string>>;
  groupMembers(groupPath: string): Promise<Member[]>;
  /** The group's members, or null when GitLab hides the group from the token (403/404). */
  groupMembersIfReadable(groupPath: string): Promise<Member[] | null>;
  /**
   * The account's type from the Users API (`bot`: project and group access tokens, service
   * accounts); "unknown" when there is no id, the user cannot be read, or GitLab does not say.
   */
  userKind(id: number | null | undefined): Promise<ActorKind>;
  groupProjects(groupPath: string): AsyncGenerator<string>;
  /**
   * "project@sha" -> the branches merged change requests brought that commit into (their head and
   * merge commit), as listMergedChangeRequests collected them: a direct push is judged per branch.
   */
  mergedInto: Map<string, Set<string>>;
}

/** Reads that several collectors need are made once per host, not once per change request. */
export function createContext(client: GitLabClient, unreadable: UnreadableLog): GitLabContext {
  const projects = new Map<string, Promise<Project>>();
  const members = new Map<string, Promise<Member[] | null>>();
  const groups = new Map<string, Promise<Member[]>>();
  const kinds = new Map<string, Promise<ActorKind>>();
  const hiddenOrMembers = new Map<string, Promise<Member[] | null>>();

  function once<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    let value = cache.get(key);
    if (!value) {
      value = load();
      // A failed read is not cached: the next caller tries again and sees the error itself.
      value.catch(() => cache.delete(key));
      cache.set(key, value);
    }
    return value;
  }

  async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
    const all: T[] = [];
    for await (const item of items) all.push(item);
    return all;
  }

  const context: GitLabContext = {
    client,
    unreadable,
    mergedInto: new Map(),
    project: (path) =>
      once(projects, path, () =>
        client.get(`/projects/${encodePath(path)}`, ProjectWire, { statistics: false }),
      ),
    projectMembers: (path) =>
      once(members, path, async () => {
        try {
          return await collect(client.pages(`/projects/${encodePath(path)}/members/all`, MemberWire));
        } catch (error) {
          if (isForbidden(error)) return null;
          throw error;
        }
      }),
    async emailLogins(path) {
      const list = (await context.projectMembers(path)) ?? [];
      const map = new Map<string, string>();
      for (const member of list) {
        for (const email of [member.public_email, member.email]) {
          if (email) map.set(email.toLowerCase(), member.username);
        }
      }
      return map;
    },
    groupMembers: (groupPath) =>
      once(groups, groupPath, () =>
        collect(client.pages(`/groups/${encodePath(groupPath)}/members/all`, MemberWire)),
      ),
    groupMembersIfReadable: (groupPath) =>
      // Cached with its "hidden" answer too: a hidden group is asked about once per host.
      once(hiddenOrMembers, groupPath, async () => {
        try {
          return await context.groupMembers(groupPath);
        } catch (error) {
          if (isForbidden(error) || isNotFound(error)) return null;
          throw error;
        }
      }),
    async userKind(id) {
      if (id === null || id === undefined) return "unknown";
      return once(kinds, String(id), async () => {
        try {
          const user = await client.get(`/users/${id}`, UserWire);
          // A deleted account's work is re-attributed to GitLab's "Ghost User": nobody in particular.
          if (/^ghost\d*$/.test(user.username) && user.name === "Ghost User") return "unknown";
          if (user.bot === undefined) return "unknown";
          return user.bot ? "bot" : "user";
        } catch (error) {
          // A deleted (404) or hidden (403) account is not a person we can vouch for.
          if (isForbidden(error) || isNotFound(error)) return "unknown";
          throw error;
        }
      });
    },
    async *groupProjects(groupPath) {
      const pages = client.pages(`/groups/${encodePath(groupPath)}/projects`, GroupProjectWire, {
        include_subgroups: true,
        order_by: "id",
        sort: "asc",
        with_shared: false,
      });
      for await (const project of pages) yield project.path_with_namespace;
    },
  };
  return context;
}

/** GitLab itself answered 401 or 403 (not any error that happens to carry a status). */
export function isForbidden(error: unknown): boolean {
  return error instanceof GitLabHttpError && (error.status === 401 || error.status === 403);
}

/** GitLab itself answered 404. */
export function isNotFound(error: unknown): boolean {
  return error instanceof GitLabHttpError && error.status === 404;
}
