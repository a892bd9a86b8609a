/**
 * The audit reads repositories' facts ahead in chunks (CodeHost.prefetchRepositories): every
 * repository's chunk is read before it is collected, each chunk once, and one slow repository does
 * not hold the next chunk back.
 */
import { describe, expect, it } from "vitest";
import type { Snapshot } from "../../src/model/index.js";
import { collectAudit } from "../../src/pipeline/audit.js";
import type { CodeHost } from "../../src/providers/types.js";
import { generateSampleOrganization } from "../../src/sample/generate.js";

function hostWithPrefetch(snapshot: Snapshot, slow: string) {
  const events: string[] = [];
  const ready = new Set<string>();
  let release: () => void = () => {};
  const slowDone = new Promise<void>((resolve) => (release = resolve));
  const host: CodeHost = {
    host: "github",
    baseUrl: "https://api.github.com",
    policyLocation: { organizationRepository: (login) => `${login}/.github`, file: ".github/soc2.yml" },
    describeCredentials: async () => ({ actor: "test", permissions: {} }),
    collectOrganization: async () => snapshot.organization!,
    async *listRepositories() {
      for (const repository of snapshot.repositories) yield repository.fullName;
    },
    async prefetchRepositories(fullNames) {
      events.push(`prefetch ${fullNames[0]} (${fullNames.length})`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      for (const name of fullNames) ready.add(name);
    },
    collectRepository: async (fullName) => {
      events.push(`collect ${fullName}${ready.has(fullName) ? "" : " (not read ahead)"}`);
      return snapshot.repositories.find((r) => r.fullName === fullName)!;
    },
    collectChangeRequest: async () => {
      throw new Error("not used by an audit");
    },
    collectChangeContext: async () => {
      throw new Error("not used by an audit");
    },
    changeRequestsForCommit: async () => [],
    async *listMergedChangeRequests(repository) {
      // The slow repository finishes only once the last chunk was read ahead.
      if (repository === slow) await slowDone;
      yield* snapshot.changeRequests.filter((cr) => cr.repository === repository && cr.state === "merged");
    },
    async *listDirectPushes() {
      yield* [];
    },
    readFile: async () => null,
    drainUnreadable: () => [],
    publishChangeCheck: async () => {},
    issues: () => {
      throw new Error("not used by an audit");
    },
  };
  return { host, events, release };
}

describe("the audit reads repositories' facts ahead in chunks", () => {
  it("reads each repository's chunk once, before collecting it, without waiting for a slow repository", async () => {
    const { snapshot, at } = generateSampleOrganization({ repositories: 120, pullRequestsPerRepository: 1 });
    const names = snapshot.repositories.map((r) => r.fullName).sort();
    const { host, events, release } = hostWithPrefetch(snapshot, names[1] ?? "");
    const audit = collectAudit({
      host,
      organization: snapshot.organization?.login ?? "acme-demo",
      since: new Date(snapshot.period?.since ?? 0),
      until: at,
      now: () => at,
    });
    // Released once the third chunk was read: with a barrier between chunks it never would be.
    const watch = setInterval(() => {
      if (events.some((e) => e.startsWith(`prefetch ${names[100]}`))) release();
    }, 1);
    const collected = await audit.finally(() => clearInterval(watch));
    expect(collected.repositories).toHaveLength(120);
    expect(events.filter((e) => e.startsWith("prefetch"))).toEqual([
      `prefetch ${names[0]} (50)`,
      `prefetch ${names[50]} (50)`,
      `prefetch ${names[100]} (20)`,
    ]);
    expect(events.filter((e) => e.endsWith("(not read ahead)"))).toEqual([]);
    expect(events.filter((e) => e.startsWith("collect"))).toHaveLength(120);
  });
});
