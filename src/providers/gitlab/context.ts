import type { GitLabClient } from "./client.js";
import { encodePath } from "./client.js";
import type { UnreadableLog } from "./map.js";
import { GroupProjectWire, MemberWire, ProjectWire } from "./schema.js";
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
  groupProjects(groupPath: string): AsyncGenerator<string>;
}

/** Reads that several collectors need are made once per host, not once per change request. */
export function createContext(client: GitLabClient, unreadable: UnreadableLog): GitLabContext {
  const projects = new Map<string, Promise<Project>>();
  const members = new Map<string, Promise<Member[] | null>>();
  const groups = new Map<string, Promise<Member[]>>();

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

export function isForbidden(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "status" in error &&
    (error.status === 401 || error.status === 403)
  );
}
