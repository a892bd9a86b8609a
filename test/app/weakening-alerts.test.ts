/**
 * Alerts on weakening changes, end to end: GitHub's example webhook payloads
 * (@octokit/webhooks-examples) drive the real Probot app with a ledger; the app reads the changed
 * configuration from a simulated GitHub (the real provider over HTTP on 127.0.0.1), records the
 * observation, and opens a finding issue in the organization's findings repository naming who
 * changed what; the restoring webhook closes it. A replayed delivery opens nothing new.
 */
import { performance } from "node:perf_hooks";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { FINDINGS_REPOSITORY, githubHostFor, serveSample, type ServedSample } from "../../src/sim/harness.js";
import type { SimIssue, SimRepository } from "../../src/sim/github/world.js";
import { WEAKENING_CONTROL } from "../../src/pipeline/alerts.js";
import { createScheduledAudit } from "../../src/app/index.js";
import { openLedger, type Ledger } from "../../src/ledger/index.js";
import { markdownText } from "../../src/text/escape.js";
import type { BranchRule } from "../../src/model/index.js";
import { examplePayload, loadApp, type TestApp } from "../fixtures/app/github-app.js";
import { BACKENDS, testBackend } from "../ledger/backends.js";

const SIZE = { repositories: 2, pullRequestsPerRepository: 2 };
const ZWSP = "\u200B";

/** An example payload pointed at a repository (or organization) of the served sample, sent by `actor`. */
function payload<T extends object>(
  example: T,
  target: { repository?: string; organization: string },
  actor: string,
): T {
  const p = example as {
    repository?: Record<string, unknown>;
    organization?: Record<string, unknown>;
    sender?: Record<string, unknown>;
  };
  if (target.repository && p.repository) {
    const [owner, name] = target.repository.split("/") as [string, string];
    Object.assign(p.repository, {
      name,
      full_name: target.repository,
      default_branch: "main",
      owner: { ...(p.repository.owner as object), login: owner },
    });
  }
  if (p.organization) Object.assign(p.organization, { login: target.organization });
  else if (!target.repository) p.organization = { login: target.organization };
  Object.assign(p.sender ?? {}, { login: actor });
  return example;
}

describe.each(BACKENDS)("weakening alerts from webhooks on %s", (name) => {
  const backend = testBackend(name);
  const opened: Ledger[] = [];
  const served: ServedSample[] = [];
  const timings: number[] = [];
  afterEach(async () => {
    for (const ledger of opened.splice(0)) await ledger.close();
    for (const s of served.splice(0)) await s.sim.close();
  });
  afterAll(async () => {
    await backend.stop();
    console.log(`[${name}] webhook to finding issue: ${timings.map((ms) => ms.toFixed(0)).join(", ")} ms`);
  });

  /** A fresh sample organization served by the simulated GitHub, the app over it with a fresh ledger. */
  async function setup() {
    const sample = await serveSample(SIZE);
    served.push(sample);
    const ledger = openLedger(await backend.fresh());
    opened.push(ledger);
    // Opened (migrations applied) before any request: the embedded database's first start can hold
    // the event loop for seconds, long enough for the simulated server to drop idle keep-alive
    // sockets just as the client reuses one (ECONNRESET).
    await ledger.open();
    const at = sample.sample.at;
    // a host per webhook, as the app builds one per event (a shared one would answer from its cache)
    const app = await loadApp({ now: () => at, hostFor: () => githubHostFor(sample.sim).host, ledger });
    const organization = sample.served.organization!.login;
    const repository = `${organization}/web`;
    const repo = sample.world.repositories.get(repository)!;
    const strong: BranchRule = {
      ...(repo.facts.branchRules.known ? repo.facts.branchRules.value[0]! : ({} as BranchRule)),
      branch: "main",
      sources: ["branch-protection"],
      requiredApprovals: 2,
    };
    const setRules = (rules: BranchRule[], target: SimRepository = repo) => {
      target.facts = {
        ...target.facts,
        productionBranches: rules.map((r) => r.branch),
        branchRules: { known: true, value: rules },
      };
    };
    setRules([strong]);
    repo.facts = { ...repo.facts, visibility: "private" };
    const findings = () =>
      [...sample.world.repositories.get(`${organization}/${FINDINGS_REPOSITORY}`)!.issues.values()].filter(
        (issue) => issue.labels.includes(WEAKENING_CONTROL),
      );
    /** Sends a webhook and measures until the app is done with it (issue written). */
    const send = async (app: TestApp, event: Parameters<TestApp["receive"]>[0], body: object) => {
      const started = performance.now();
      await app.receive(event, body);
      return performance.now() - started;
    };
    return { sample, ledger, app, organization, repository, repo, strong, setRules, findings, send };
  }

  function expectInert(issue: SimIssue | undefined) {
    expect(issue).toBeDefined();
    // no @mention can ping, no HTML can render, in the title, the body or any comment
    for (const text of [issue!.title, issue!.body, ...issue!.comments.map((c) => c.body)]) {
      expect(text).not.toMatch(new RegExp(`@(?!${ZWSP})`));
      expect(text).not.toMatch(/<(img|b|script)/i);
    }
  }

  it("branch protection weakened opens a finding naming who and what; a replayed delivery opens nothing; restoring closes it", async () => {
    const { app, organization, repository, repo, strong, setRules, findings, send } = await setup();
    const target = { repository, organization };

    // the first observation is the baseline: nothing to be weaker than
    await app.receive(
      "branch_protection_rule",
      payload(examplePayload("branch_protection_rule", "created"), target, "alice"),
    );
    expect(findings()).toEqual([]);

    setRules([{ ...strong, requiredApprovals: 1, allowForcePushes: true }]);
    const edited = payload(examplePayload("branch_protection_rule", "edited"), target, "mallory");
    timings.push(await send(app, "branch_protection_rule", edited));

    const [issue] = findings();
    expect(findings()).toHaveLength(1);
    expect(issue).toMatchObject({ state: "open" });
    expect(issue!.title).toContain(`${repository}:branch:main`);
    expect(issue!.title).toContain("Branch protection of main in acme-demo/web weakened by mallory");
    expect(issue!.title).toContain("required approvals lowered from 2 to 1");
    expect(issue!.labels).toEqual(expect.arrayContaining(["CC7.1", WEAKENING_CONTROL]));
    expect(issue!.body).toContain("branch\\_protection\\_rule\\.edited");
    expect(issue!.body).toContain("delivery\\-2");
    expect(issue!.body).toContain("force pushes allowed");
    expect(issue!.body).toContain(markdownText(`observation:github/${repository} #2`));

    // GitHub redelivers the same delivery: observed "unchanged", no new finding, no edit
    const before = structuredClone(findings());
    await app.probot.receive({
      id: "delivery-2",
      name: "branch_protection_rule",
      payload: edited,
    } as Parameters<TestApp["probot"]["receive"]>[0]);
    expect(findings()).toEqual(before);

    // stronger in another way is not a restoration
    setRules([{ ...strong, requiredApprovals: 3, allowForcePushes: true }]);
    await app.receive(
      "branch_protection_rule",
      payload(examplePayload("branch_protection_rule", "edited"), target, "bob"),
    );
    expect(findings().map((i) => i.state)).toEqual(["open"]);

    setRules([strong]);
    await app.receive(
      "branch_protection_rule",
      payload(examplePayload("branch_protection_rule", "edited"), target, "carol"),
    );
    expect(findings()).toHaveLength(1);
    const closed = findings()[0]!;
    expect(closed.state).toBe("closed");
    expect(closed.comments.at(-1)?.body).toContain("restored by carol");
    expect(repo.facts.fullName).toBe(repository);
  });

  it("branch protection deleted is a removal; created again closes it, and a second removal reopens the same issue", async () => {
    const { app, organization, repository, strong, setRules, findings } = await setup();
    const target = { repository, organization };
    await app.receive(
      "branch_protection_rule",
      payload(examplePayload("branch_protection_rule", "created"), target, "alice"),
    );

    setRules([
      {
        ...strong,
        sources: [],
        requirePullRequest: false,
        requiredApprovals: 0,
        requiredStatusChecks: [],
        enforceAdmins: false,
        allowForcePushes: true,
        allowDeletions: true,
        dismissStaleApprovals: false,
      },
    ]);
    await app.receive(
      "branch_protection_rule",
      payload(examplePayload("branch_protection_rule", "deleted"), target, "mallory"),
    );
    expect(findings()).toHaveLength(1);
    expect(findings()[0]!.title).toContain("Branch protection of main in acme-demo/web removed by mallory");
    expect(findings()[0]!.body).toContain("branch\\_protection\\_rule\\.deleted");

    setRules([strong]);
    await app.receive(
      "branch_protection_rule",
      payload(examplePayload("branch_protection_rule", "created"), target, "alice"),
    );
    expect(findings().map((i) => i.state)).toEqual(["closed"]);

    setRules([
      {
        ...strong,
        sources: [],
        requirePullRequest: false,
        requiredApprovals: 0,
        requiredStatusChecks: [],
        enforceAdmins: false,
        allowForcePushes: true,
        allowDeletions: true,
        dismissStaleApprovals: false,
      },
    ]);
    await app.receive(
      "branch_protection_rule",
      payload(examplePayload("branch_protection_rule", "deleted"), target, "mallory"),
    );
    expect(findings().map((i) => i.state)).toEqual(["open"]);
    expect(findings()[0]!.comments.at(-1)?.body).toContain("Failing again");
  });

  it("repository.publicized opens a finding, repository.privatized closes it", async () => {
    const { app, organization, repository, repo, findings, send } = await setup();
    const target = { repository, organization };
    await app.receive("repository", payload(examplePayload("repository", "privatized"), target, "alice"));

    repo.facts = { ...repo.facts, visibility: "public" };
    timings.push(
      await send(app, "repository", payload(examplePayload("repository", "publicized"), target, "mallory")),
    );
    expect(findings()).toHaveLength(1);
    expect(findings()[0]!.title).toContain(`${repository}:visibility`);
    expect(findings()[0]!.title).toContain("by mallory");
    expect(findings()[0]!.body).toContain("repository made public \\(was private\\)");
    expect(findings()[0]!.body).toContain("repository\\.publicized");

    repo.facts = { ...repo.facts, visibility: "private" };
    await app.receive("repository", payload(examplePayload("repository", "privatized"), target, "alice"));
    expect(findings().map((i) => i.state)).toEqual(["closed"]);
  });

  it("member.added with admin opens a finding for the new admin; member.edited down to write closes it", async () => {
    const { app, organization, repository, repo, findings } = await setup();
    const target = { repository, organization };
    await app.receive("member", payload(examplePayload("member", "added"), target, "alice"));
    const collaborators = repo.facts.collaborators.known ? repo.facts.collaborators.value : [];

    repo.facts = {
      ...repo.facts,
      collaborators: {
        known: true,
        value: [...collaborators, { login: "hacktocat", permission: "admin", outside: false }],
      },
    };
    await app.receive("member", payload(examplePayload("member", "added"), target, "alice"));
    expect(findings()).toHaveLength(1);
    expect(findings()[0]!.title).toContain(`${repository}:admin:hacktocat`);
    expect(findings()[0]!.title).toContain("Administrator added to acme-demo/web by alice");
    expect(findings()[0]!.body).toContain("repository admin added: hacktocat");

    repo.facts = {
      ...repo.facts,
      collaborators: {
        known: true,
        value: [...collaborators, { login: "hacktocat", permission: "write", outside: false }],
      },
    };
    await app.receive("member", payload(examplePayload("member", "edited"), target, "bob"));
    expect(findings().map((i) => i.state)).toEqual(["closed"]);
  });

  it("organization.member_added as owner opens a finding; the owner removed closes it; 2FA turned off is found on the next organization webhook", async () => {
    const { sample, app, organization, findings, send } = await setup();
    const target = { organization };
    const org = sample.world.snapshot.organization!;
    const members = org.members.known ? org.members.value : [];
    sample.world.snapshot = {
      ...sample.world.snapshot,
      organization: { ...org, twoFactorRequired: { known: true, value: true } },
    };
    await app.receive(
      "organization",
      payload(examplePayload("organization", "member_added"), target, "alice"),
    );

    const added = payload(examplePayload("organization", "member_added"), target, "alice");
    (added as { membership: { role: string } }).membership.role = "admin";
    sample.world.snapshot = {
      ...sample.world.snapshot,
      organization: {
        ...org,
        twoFactorRequired: { known: true, value: true },
        members: { known: true, value: [...members, { login: "hacktocat", role: "owner" }] },
      },
    };
    timings.push(await send(app, "organization", added));
    expect(findings()).toHaveLength(1);
    expect(findings()[0]!.title).toContain(`${organization}:owner:hacktocat`);
    expect(findings()[0]!.title).toContain(`Owner added to organization ${organization} by alice`);
    expect(findings()[0]!.body).toContain("organization owner added: hacktocat \\(new member\\)");

    // GitHub sends no webhook when the 2FA requirement changes: the next organization webhook reads it
    sample.world.snapshot = {
      ...sample.world.snapshot,
      organization: { ...org, twoFactorRequired: { known: true, value: false } },
    };
    const removed = payload(examplePayload("organization", "member_added"), target, "bob");
    (removed as { action: string }).action = "member_removed";
    await app.receive("organization", removed);
    const byAspect = new Map(findings().map((i) => [i.title.split(" — ")[0], i]));
    expect(byAspect.get(`[soc2] ${WEAKENING_CONTROL}: ${organization}:owner:hacktocat`)?.state).toBe(
      "closed",
    );
    const twoFactor = byAspect.get(`[soc2] ${WEAKENING_CONTROL}: ${organization}:two-factor-requirement`);
    expect(twoFactor?.state).toBe("open");
    // bob removed a member; the webhook he caused found the requirement off, he did not turn it off
    expect(twoFactor?.title).toContain(`Two-factor requirement of ${organization} turned off (webhook`);
    expect(twoFactor?.title).not.toContain("by bob");
    expect(twoFactor?.body).toContain(markdownText("organization.member_removed (sent by bob)"));
    expect(twoFactor?.body).toContain("that event does not make this change");
  });

  it("a ruleset disabled (repository_ruleset, hand-built: GitHub publishes no example) loses its requirements and is found", async () => {
    const { app, organization, repository, repo, strong, setRules, findings } = await setup();
    const target = { repository, organization };
    setRules([{ ...strong, requiredApprovals: 1 }]);
    repo.rulesets = [
      {
        id: 12,
        name: "main protection",
        branch: "main",
        rule: { ...strong, sources: ["ruleset:12"], requiredApprovals: 2 },
      },
    ];
    // The shape GitHub documents for repository_ruleset: action, repository_ruleset, repository, sender.
    const ruleset = (action: string, enforcement: "active" | "disabled", actor: string) =>
      payload(
        {
          action,
          repository_ruleset: {
            id: 12,
            name: "main protection",
            enforcement,
          },
          repository: structuredClone(examplePayload("repository", "privatized").repository),
          organization: { login: organization },
          sender: { login: actor },
        },
        target,
        actor,
      );
    // The app's test harness types only the events that have examples: delivered as Probot receives it.
    let delivery = 0;
    const receive = (body: object) =>
      app.probot.receive({
        id: `ruleset-${(delivery += 1)}`,
        name: "repository_ruleset",
        payload: body,
      } as unknown as Parameters<TestApp["probot"]["receive"]>[0]);
    await receive(ruleset("created", "active", "alice"));
    expect(findings()).toEqual([]);

    const enabled = repo.rulesets;
    repo.rulesets = [];
    await receive(ruleset("edited", "disabled", "mallory"));
    expect(findings()).toHaveLength(1);
    expect(findings()[0]!.title).toContain("weakened by mallory");
    expect(findings()[0]!.body).toContain("required approvals lowered from 2 to 1");

    repo.rulesets = enabled;
    await receive(ruleset("edited", "active", "alice"));
    expect(findings().map((i) => i.state)).toEqual(["closed"]);
  });

  it("hostile branch names and logins are escaped: no mention, no markup", async () => {
    const { app, organization, repository, strong, setRules, findings } = await setup();
    const target = { repository, organization };
    const hostile = "release/@owners<img>`(x)#1";
    setRules([strong, { ...strong, branch: hostile }]);
    await app.receive(
      "branch_protection_rule",
      payload(examplePayload("branch_protection_rule", "created"), target, "alice"),
    );

    setRules([
      strong,
      { ...strong, branch: hostile, enforceAdmins: false, bypassActors: ["@acme-demo/admins <b>x</b>"] },
    ]);
    await app.receive(
      "branch_protection_rule",
      payload(
        examplePayload("branch_protection_rule", "edited"),
        target,
        "@acme-demo/owners <script>x</script>",
      ),
    );
    const [issue] = findings();
    expect(findings()).toHaveLength(1);
    expectInert(issue);
    expect(issue!.title).toContain(`@${ZWSP}acme-demo/owners`);

    setRules([strong, { ...strong, branch: hostile }]);
    await app.receive(
      "branch_protection_rule",
      payload(
        examplePayload("branch_protection_rule", "edited"),
        target,
        "@acme-demo/owners <script>x</script>",
      ),
    );
    expect(findings()[0]!.state).toBe("closed");
    expectInert(findings()[0]);
  });

  it("the findings repository missing or the ledger down: logged, the webhook handled, nothing thrown", async () => {
    const { sample, app, ledger, organization, repository, strong, setRules, findings } = await setup();
    const target = { repository, organization };
    await app.receive(
      "branch_protection_rule",
      payload(examplePayload("branch_protection_rule", "created"), target, "alice"),
    );
    // the organization's policy sends findings to a repository that does not exist
    const policyPath = `${organization}/.github:.github/soc2.yml@main`;
    const policy = sample.world.files.get(policyPath) ?? "";
    sample.world.files.set(policyPath, `${policy}\nfindings:\n  repository: no-such-repository\n`);
    setRules([{ ...strong, requiredApprovals: 0 }]);
    await app.receive(
      "branch_protection_rule",
      payload(examplePayload("branch_protection_rule", "edited"), target, "mallory"),
    );
    expect(findings()).toEqual([]);
    expect(app.logs().filter((l) => l.msg === "weakening findings not synced")).toHaveLength(1);

    opened.splice(opened.indexOf(ledger), 1);
    await ledger.close();
    setRules([strong]);
    await app.receive(
      "branch_protection_rule",
      payload(examplePayload("branch_protection_rule", "edited"), target, "alice"),
    );
    expect(app.logs().filter((l) => l.msg === "configuration change not observed")).toHaveLength(1);
    expect(findings()).toEqual([]);
  });
});

describe.each(BACKENDS)("weakening alerts from the scheduled audit on %s", (name) => {
  const backend = testBackend(name);
  afterAll(async () => {
    await backend.stop();
  });

  it("a weakening no webhook announced (the 2FA requirement) is found by the next audit's observation and alerted", async () => {
    const sample = await serveSample(SIZE);
    const ledger = openLedger(await backend.fresh());
    try {
      await ledger.open();
      const at = sample.sample.at;
      const app = await loadApp();
      const audit = createScheduledAudit(app.probot, {
        now: () => at,
        hostFor: () => githubHostFor(sample.sim).host,
        ledger,
      });
      const organization = sample.served.organization!.login;
      const installation = { id: 2, account: organization };
      const org = sample.world.snapshot.organization!;
      const setTwoFactor = (value: boolean) => {
        sample.world.snapshot = {
          ...sample.world.snapshot,
          organization: { ...org, twoFactorRequired: { known: true, value } },
        };
      };
      const alerts = () =>
        [...sample.world.repositories.get(`${organization}/${FINDINGS_REPOSITORY}`)!.issues.values()].filter(
          (issue) => issue.labels.includes(WEAKENING_CONTROL),
        );
      const day = 86_400_000;

      setTwoFactor(true);
      await audit.runAudit(installation, "daily", at);
      expect(alerts()).toEqual([]);

      setTwoFactor(false);
      await audit.runAudit(installation, "daily", new Date(at.getTime() + day));
      expect(alerts()).toHaveLength(1);
      expect(alerts()[0]!.state).toBe("open");
      expect(alerts()[0]!.title).toContain(`Two-factor requirement of ${organization} turned off`);
      expect(alerts()[0]!.body).toContain(markdownText("found by an audit's observation (schedule)"));

      // the audit's own findings sync (audit scope) leaves the alert alone; restoring closes it
      await audit.runAudit(installation, "daily", new Date(at.getTime() + 2 * day));
      expect(alerts()[0]!.state).toBe("open");
      setTwoFactor(true);
      await audit.runAudit(installation, "daily", new Date(at.getTime() + 3 * day));
      expect(alerts().map((issue) => issue.state)).toEqual(["closed"]);
    } finally {
      await ledger.close();
      await sample.sim.close();
    }
  });
});

describe("weakening alerts without a ledger", () => {
  it("say once at start that nothing is observed, and open no finding", async () => {
    const sample = await serveSample(SIZE);
    try {
      const app = await loadApp({
        now: () => sample.sample.at,
        hostFor: () => githubHostFor(sample.sim).host,
      });
      const organization = sample.served.organization!.login;
      const repository = `${organization}/web`;
      const repo = sample.world.repositories.get(repository)!;
      const target = { repository, organization };
      const edited = () => payload(examplePayload("branch_protection_rule", "edited"), target, "mallory");
      await app.receive("branch_protection_rule", edited());
      repo.facts = { ...repo.facts, branchRules: { known: true, value: [] }, productionBranches: [] };
      await app.receive("branch_protection_rule", edited());
      const compliance = sample.world.repositories.get(`${organization}/${FINDINGS_REPOSITORY}`)!;
      expect([...compliance.issues.values()].filter((i) => i.labels.includes(WEAKENING_CONTROL))).toEqual([]);
      expect(app.logs().filter((l) => String(l.msg).startsWith("no ledger:"))).toHaveLength(1);
    } finally {
      await sample.sim.close();
    }
  });
});
