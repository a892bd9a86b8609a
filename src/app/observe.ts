/**
 * Configuration observed at once when it changes: the webhooks that change branch rules, access,
 * visibility, deploy keys or organization settings make the app read the affected facts again
 * through the provider and record them in the ledger as an observation, naming the event, its
 * delivery and who made the change. GitHub keeps no history of these facts: what the ledger does not
 * record when they change is lost. A change that weakens a control becomes a finding issue at once,
 * and the change that restores it closes the issue (src/app/alerts.ts). Without a ledger there is
 * neither observation nor alert.
 */
import type { Context, Probot } from "probot";
import {
  organizationFacts,
  recordObservation,
  repositoryFacts,
  type Ledger,
  type ObservationSource,
  type ObservedFacts,
} from "../ledger/index.js";
import type { PolicyFile } from "../model/index.js";
import { policyOfOffThread } from "../pipeline/policies.js";
import type { Policy } from "../policy/types.js";
import type { CodeHost } from "../providers/types.js";
import { alertOnWeakening } from "../pipeline/alerts.js";
import { ConfigurationEvent, parsePayload } from "./payloads.js";
import { redactText } from "./redact.js";

/** The events, and what each one changes. */
export const CONFIGURATION_EVENTS = [
  "branch_protection_rule", // classic branch protection created, edited or deleted
  "repository_ruleset", // a ruleset of a repository or of the organization
  "member", // a collaborator added, removed or given another permission on a repository
  "membership", // someone added to or removed from a team
  "organization", // a member added, removed or invited; the organization renamed
  "repository", // visibility (publicized, privatized), archived, renamed, transferred
  "team", // a team's repository access, or the team itself
  "deploy_key", // a deploy key added or removed
] as const;

export function observeConfigurationChanges(
  app: Probot,
  options: { ledger: Ledger | undefined; now: () => Date; hostOf: (context: Context) => CodeHost },
): void {
  if (!options.ledger) {
    // Said once: without the ledger nothing remembers the configuration, so nothing can be weaker.
    app.log.info("no ledger: configuration changes are not observed, and weakening changes raise no alerts");
  }
  app.on([...CONFIGURATION_EVENTS], async (context) => {
    const payload = parsePayload(ConfigurationEvent, context.payload, context.log, context.name);
    const { ledger } = options;
    if (!payload || !ledger) return;
    const source: ObservationSource = {
      trigger: "webhook",
      event: payload.action ? `${context.name}.${payload.action}` : context.name,
      deliveryId: context.id,
      actor: payload.sender?.login ?? null,
    };
    const organization = payload.organization?.login ?? payload.repository?.owner.login;
    if (!organization) return;
    const host = options.hostOf(context);
    const log = { event: source.event, delivery: context.id, ledger: ledger.location };
    let observed: {
      subject: string;
      recorded: Awaited<ReturnType<typeof recordObservation>>;
      /** The organization's policy layer when this webhook already read it (alerts need no second read). */
      organizationLayer: PolicyFile[] | null;
    } | null = null;
    try {
      let subject: string;
      let facts: ObservedFacts;
      let organizationLayer: PolicyFile[] | null = null;
      if (payload.repository && !(context.name === "repository" && payload.action === "deleted")) {
        subject = payload.repository.full_name;
        const files = await policyFiles(host, organization, subject, payload.repository.default_branch);
        // recorded with the facts: the policy in force at a later merge is read from the observations
        facts = repositoryFacts(await host.collectRepository(subject, await policyOfOffThread(files)), files);
        organizationLayer = files.filter((file) => file.layer === "organization");
      } else if (!payload.repository) {
        // Organization-level: its settings and members. An organization ruleset or a team applies to
        // repositories too: those are observed again at the next audit (named in the log).
        subject = organization;
        facts = organizationFacts(await host.collectOrganization(organization));
      } else {
        return;
      }
      const recorded = await recordObservation(ledger, {
        host: host.host,
        facts,
        observedAt: options.now(),
        source,
      });
      observed = { subject, recorded, organizationLayer };
      context.log.info({ ...log, [facts.kind]: subject }, "configuration observed");
    } catch (error) {
      // A fact the host refused, a broken policy or the ledger down: logged, and the gap shows in
      // the observation stream (no record for this delivery); the next audit observes again.
      context.log.error(
        { ...log, err: error instanceof Error ? error.message : String(error) },
        "configuration change not observed",
      );
    }
    if (!observed) return;
    const { subject, recorded, organizationLayer } = observed;
    try {
      const alerts = await alertOnWeakening({
        ledger,
        host,
        organization,
        subject,
        recorded,
        organizationPolicy: () =>
          organizationLayer ? policyOfOffThread(organizationLayer) : organizationPolicy(host, organization),
        now: options.now(),
      });
      if (alerts.findings) {
        context.log.info(
          {
            ...log,
            subject,
            weakened: alerts.opened.map((w) => w.aspect),
            restored: alerts.restored.map((w) => w.aspect),
            created: alerts.findings.created,
            updated: alerts.findings.updated,
            reopened: alerts.findings.reopened,
            closed: alerts.findings.closed,
          },
          "weakening findings synced",
        );
      }
    } catch (error) {
      // The ledger unreadable, the policy broken or the findings repository missing: the observation
      // is recorded, so the weakening is in the ledger (and the period export's timeline) anyway.
      context.log.error(
        { ...log, subject, err: redactText(error instanceof Error ? error.message : String(error)) },
        "weakening findings not synced",
      );
    }
  });
}

/**
 * The organization's policy alone (its findings repository): a repository's own policy file, which
 * its writers may edit, must not divert alerts about that repository.
 */
export async function organizationPolicy(host: CodeHost, organization: string): Promise<Policy> {
  return policyOfOffThread(
    await policyFiles(
      host,
      organization,
      host.policyLocation.organizationRepository(organization),
      undefined,
    ),
  );
}

/** The policy that selects production branches: the organization's layer and the repository's own. */
async function policyFiles(
  host: CodeHost,
  organization: string,
  repository: string,
  defaultBranch: string | undefined,
): Promise<PolicyFile[]> {
  const { file } = host.policyLocation;
  const organizationRepository = host.policyLocation.organizationRepository(organization);
  const files: PolicyFile[] = [];
  const organizationText = await host.readFile(organizationRepository, file);
  if (organizationText !== null) {
    files.push({
      layer: "organization",
      repository: null,
      path: `${organizationRepository}:${file}`,
      content: organizationText,
    });
  }
  if (repository !== organizationRepository && defaultBranch) {
    const text = await host.readFile(repository, file, defaultBranch);
    if (text !== null) {
      files.push({
        layer: "repository",
        repository,
        path: `${repository}:${file}@${defaultBranch}`,
        content: text,
      });
    }
  }
  return files;
}
