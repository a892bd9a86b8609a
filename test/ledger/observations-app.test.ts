/**
 * The app observes configuration: at once on the webhooks that change it (real-shaped payloads from
 * @octokit/webhooks-examples, the facts read again from a simulated GitHub), and at each scheduled
 * audit. Each observation names its event, delivery and the actor the payload names.
 */
import nock from "nock";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { githubHostFor, serveSample, type ServedSample } from "../../src/sim/harness.js";
import { createScheduledAudit } from "../../src/app/index.js";
import {
  openLedger,
  repositoryFacts,
  organizationFacts,
  type Ledger,
  type ObservationContent,
} from "../../src/ledger/index.js";
import { examplePayload, loadApp } from "../fixtures/app/github-app.js";
import { BACKENDS, testBackend } from "./backends.js";

const SIZE = { repositories: 2, pullRequestsPerRepository: 2 };

async function observations(ledger: Ledger, stream: string): Promise<ObservationContent[]> {
  const out: ObservationContent[] = [];
  for await (const record of ledger.records(stream))
    out.push(JSON.parse(record.content) as ObservationContent);
  return out;
}

/** An example payload pointed at a repository of the served organization. */
function atRepository<T extends object>(payload: T, fullName: string): T {
  const [owner, name] = fullName.split("/") as [string, string];
  const p = payload as { repository?: Record<string, unknown>; organization?: Record<string, unknown> };
  Object.assign(p.repository ?? {}, {
    name,
    full_name: fullName,
    owner: { ...(p.repository?.owner as object), login: owner },
  });
  if (p.organization) Object.assign(p.organization, { login: owner });
  return payload;
}

describe.each(BACKENDS)("the app's configuration observations on %s", (name) => {
  const backend = testBackend(name);
  let served: ServedSample | undefined;
  const opened: Ledger[] = [];
  afterEach(() => {
    const pending = nock.pendingMocks();
    nock.cleanAll();
    expect(pending, "mocks never used").toEqual([]);
  });
  afterAll(async () => {
    for (const ledger of opened) await ledger.close();
    await served?.sim.close();
    await backend.stop();
  });

  it("records the rules read again on branch_protection_rule, and the organization on organization, naming event, delivery and actor", async () => {
    served ??= await serveSample(SIZE);
    const at = served.sample.at;
    const ledger = openLedger(await backend.fresh());
    opened.push(ledger);
    // PGlite's first start blocks the event loop for seconds: done before the first webhook, so the
    // simulated GitHub's idle keep-alive sockets are not dropped under a request (ECONNRESET)
    await ledger.open();
    const simulated = githubHostFor(served.sim).host;
    const app = await loadApp({ now: () => at, hostFor: () => simulated, ledger });
    const repository = served.sample.snapshot.repositories[0]!.fullName;
    const organization = repository.split("/")[0]!;

    await app.receive(
      "branch_protection_rule",
      atRepository(examplePayload("branch_protection_rule", "edited"), repository),
    );
    await app.receive(
      "organization",
      atRepository(examplePayload("organization", "member_added"), repository),
    );

    const [rules] = await observations(ledger, `observation:github/${repository}`);
    expect(rules).toMatchObject({
      subject: repository,
      observedAt: at.toISOString(),
      source: {
        trigger: "webhook",
        event: "branch_protection_rule.edited",
        deliveryId: "delivery-1",
        actor: "Codertocat",
      },
    });
    // the facts as GitHub serves them, production branches selected by the organization's policy,
    // which is recorded with them (the policy in force at a later merge is read from it)
    const expected = repositoryFacts(
      served.served.repositories.find((r) => r.fullName === repository)!,
      served.served.policyFiles,
    );
    expect(expected.policyFiles).toEqual([
      expect.objectContaining({ layer: "organization", path: "acme-demo/.github:.github/soc2.yml" }),
    ]);
    expect(rules?.whole).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(rules?.whole).toMatchObject({ branchRules: { known: true } });

    const [settings] = await observations(ledger, `observation:github/${organization}`);
    expect(settings?.source).toEqual({
      trigger: "webhook",
      event: "organization.member_added",
      deliveryId: "delivery-2",
      actor: "Codertocat",
    });
    expect(settings?.whole).toEqual(
      JSON.parse(JSON.stringify(organizationFacts(await simulated.collectOrganization(organization)))),
    );
    expect(app.logs().filter((l) => l.msg === "configuration observed")).toHaveLength(2);
    expect((await ledger.verify()).breaks).toEqual([]);
  });

  it("records the organization and every repository at each scheduled audit, unchanged ones as 'unchanged since'", async () => {
    served ??= await serveSample(SIZE);
    const at = served.sample.at;
    const ledger = openLedger(await backend.fresh());
    opened.push(ledger);
    // PGlite's first start blocks the event loop for seconds: done before the first webhook, so the
    // simulated GitHub's idle keep-alive sockets are not dropped under a request (ECONNRESET)
    await ledger.open();
    const app = await loadApp();
    const simulated = githubHostFor(served.sim).host;
    const audit = createScheduledAudit(app.probot, { now: () => at, hostFor: () => simulated, ledger });
    const installation = { id: 2, account: served.sample.snapshot.organization!.login };

    await audit.runAudit(installation, "monthly", at);
    await audit.runAudit(installation, "monthly", new Date(at.getTime() + 86_400_000));

    const repositories = served.served.repositories.map((r) => r.fullName);
    for (const fullName of [installation.account, ...repositories]) {
      const recorded = await observations(ledger, `observation:github/${fullName}`);
      expect(recorded.map((r) => [r.source.trigger, r.whole ? "whole" : r.unchangedSince])).toEqual([
        ["schedule", "whole"],
        ["schedule", 1],
      ]);
    }
  });
});
