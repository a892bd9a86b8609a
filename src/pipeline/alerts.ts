/**
 * Alerts on weakening changes (CC7.1/CC8.1): when a configuration webhook's observation weakens a
 * control (see src/ledger/weakening.ts), the weakened aspect becomes a finding issue at once, naming
 * who changed what, when, and the delivery; the observation that restores it closes the issue. The
 * ledger is the memory: the windows are computed from the subject's observation stream, so a
 * replayed delivery (observed "unchanged") opens nothing, and a restoration is judged against what the
 * aspect was before the weakening, however many webhooks ago.
 */
import type { Criterion, Evidence, Result } from "../controls/types.js";
import {
  changedBy,
  weakeningWindowsOf,
  type Ledger,
  type RecordedObservation,
  type WeakeningWindow,
} from "../ledger/index.js";
import type { Policy } from "../policy/types.js";
import type { CodeHost, IssueTracker } from "../providers/types.js";
import {
  syncFindings,
  type ChangeRequestGrouping,
  type SyncSummary,
} from "../reporters/findings/lifecycle.js";

export const WEAKENING_CONTROL = "cc7.configuration-weakened";
const CRITERION: Criterion = "CC7.1";
const TITLE = "Configuration change weakened a control";
const REMEDIATION =
  "Review the change with whoever made it. If it was not approved, restore the setting: the next " +
  "observation that shows it at least as strong as before (on every field that was weakened) closes " +
  "this issue. If it was approved, link the approval (change ticket) here and close the issue by hand; " +
  "soc2-bot reopens it if the setting is weakened again. A policy exception does not apply to these " +
  "alerts (the policy would refuse one for this control, which no audit evaluates).";

/**
 * Where finding issues go for an organization's policy: the tracker, its label, the lock syncs share
 * and how failing change requests become issues (grouped per control and repository by default).
 */
export function findingsTracker(
  host: CodeHost,
  organization: string,
  policy: Pick<Policy, "findings">,
): {
  repository: string;
  tracker: IssueTracker;
  label: string;
  lockKey: string;
  groupChangeRequests: ChangeRequestGrouping;
} {
  const repository = `${organization}/${policy.findings.repository}`;
  return {
    repository,
    tracker: host.issues(repository),
    label: policy.findings.labels[0] ?? "soc2",
    // The key the app's merge judgements use: alerts and merge findings landing at once never race.
    lockKey: `${host.host}:${repository}`,
    groupChangeRequests: policy.findings.groupChangeRequests ?? "by_repository",
  };
}

export interface WeakeningAlertInput {
  ledger: Pick<Ledger, "records">;
  host: CodeHost;
  organization: string;
  /** The repository full name or organization login just observed. */
  subject: string;
  /** The ledger record of this webhook's observation, and whether it changed anything. */
  recorded: { sequence: number; change: "whole" | "changed" | "unchanged" };
  /**
   * The organization's policy (its findings repository). Only the organization's layer: a
   * repository's own policy file, which its writers may edit, cannot divert alerts about it.
   */
  organizationPolicy: () => Promise<Pick<Policy, "findings">>;
  now: Date;
}

export interface WeakeningAlerts {
  opened: WeakeningWindow[];
  restored: WeakeningWindow[];
  findings: SyncSummary | null;
}

/**
 * The findings this record opens or closes: a "fail" for every aspect it weakened (or that stays
 * weakened), a "pass" for every aspect it restored with no other weakening of it still open.
 * Only these findings are touched (change-request scope).
 */
export async function alertOnWeakening(input: WeakeningAlertInput): Promise<WeakeningAlerts> {
  // An unchanged observation (a replayed delivery, an edit that changed nothing) can neither weaken
  // nor restore: nothing to read or write.
  if (input.recorded.change !== "changed") return { opened: [], restored: [], findings: null };
  const windows = await weakeningWindowsOf(input.ledger, input.host.host, input.subject);
  const sequence = input.recorded.sequence;
  const opened = windows.filter((w) => w.weakened.sequence === sequence);
  const restored = windows.filter((w) => w.restored?.sequence === sequence);
  const aspects = [...new Set([...opened, ...restored].map((w) => w.aspect))];
  if (aspects.length === 0) return { opened, restored, findings: null };
  const results = aspects.map((aspect) => {
    const stillOpen = windows.filter((w) => w.aspect === aspect && w.restored === null);
    return stillOpen.length > 0
      ? weakenedResult(stillOpen)
      : restoredResult(restored.filter((w) => w.aspect === aspect));
  });
  const target = findingsTracker(input.host, input.organization, await input.organizationPolicy());
  const findings = await syncFindings(target.tracker, results, {
    label: target.label,
    evaluatedAt: input.now,
    scope: "change-request",
    lockKey: target.lockKey,
    groupChangeRequests: target.groupChangeRequests,
  });
  return { opened, restored, findings };
}

/**
 * An audit's observations, alerted on as a webhook's are: each subject the audit found changed is
 * checked for weakenings and restorations. A subject whose alerts fail goes to `onError` (when
 * given) and the others are still checked. Returns how many weakenings were opened or restored.
 */
export async function alertOnObserved(
  input: Omit<WeakeningAlertInput, "subject" | "recorded" | "organizationPolicy"> & {
    observed: readonly RecordedObservation[];
    organizationPolicy: Pick<Policy, "findings">;
    onError?: (subject: string, error: unknown) => void;
  },
): Promise<number> {
  const { observed, organizationPolicy, onError, ...common } = input;
  let count = 0;
  for (const recorded of observed) {
    if (recorded.change !== "changed") continue;
    try {
      const alerts = await alertOnWeakening({
        ...common,
        subject: recorded.subject,
        recorded,
        organizationPolicy: () => Promise.resolve(organizationPolicy),
      });
      count += alerts.opened.length + alerts.restored.length;
    } catch (error) {
      if (!onError) throw error;
      onError(recorded.subject, error);
    }
  }
  return count;
}

/** The subject of an aspect's finding: the repository or organization it belongs to. */
function subjectOf(window: WeakeningWindow): Result["subject"] {
  const repository = window.subject.includes("/");
  return repository
    ? { kind: "repository", id: window.aspect, repository: window.subject }
    : { kind: "organization", id: window.aspect };
}

/** "Branch protection of main in acme/api weakened": what happened, without who or how. */
function headline(window: WeakeningWindow): string {
  const branch = window.aspect.slice(`${window.subject}:branch:`.length);
  switch (window.kind) {
    case "protection-removed":
      return `Branch protection of ${branch} in ${window.subject} removed`;
    case "protection-weakened":
      return `Branch protection of ${branch} in ${window.subject} weakened`;
    case "bypass-actor-added":
      return `Bypass actor added to the rule of ${branch} in ${window.subject}`;
    case "made-public":
      return `${window.subject} made visible to more people`;
    case "admin-added":
      return `Administrator added to ${window.subject}`;
    case "owner-added":
      return `Owner added to organization ${window.subject}`;
    case "two-factor-requirement-off":
      return `Two-factor requirement of ${window.subject} turned off`;
  }
}

/** " by alice" when the record says who made the change, "" otherwise (the evidence says why). */
function by(point: WeakeningWindow["weakened"], window: WeakeningWindow): string {
  const actor = changedBy(point, window);
  return actor ? ` by ${actor}` : "";
}

function who(point: WeakeningWindow["weakened"], window: WeakeningWindow): string {
  const actor = changedBy(point, window);
  if (actor) return actor;
  const { source } = point;
  if (source.trigger !== "webhook") {
    return `not known: found by an audit's observation (${source.trigger}); the host's audit log names who`;
  }
  return source.actor
    ? `not known: found when ${source.event ?? "a webhook"} (sent by ${source.actor}) made soc2-bot read the configuration again; that event does not make this change, the host's audit log names who`
    : "not known: the webhook named nobody";
}

function how(point: WeakeningWindow["weakened"]): string {
  const { source } = point;
  const via =
    source.trigger === "webhook"
      ? `webhook ${source.event ?? "?"}, delivery ${source.deliveryId ?? "?"}`
      : `observed by ${source.trigger}`;
  return `${via}, ${point.observedAt}`;
}

function windowEvidence(window: WeakeningWindow): Evidence[] {
  const at = window.weakened.observedAt;
  return [
    { label: "Changed by", value: who(window.weakened, window), at },
    {
      label: "Webhook",
      value:
        window.weakened.source.trigger === "webhook"
          ? `${window.weakened.source.event ?? "?"} (delivery ${window.weakened.source.deliveryId ?? "?"})`
          : `none: found by a ${window.weakened.source.trigger} observation`,
      at,
    },
    ...window.details.map((detail) => ({ label: "Change", value: detail, at })),
    { label: "Ledger record", value: `${window.stream} #${window.weakened.sequence}`, at },
  ];
}

/** A weakened aspect: the newest weakening names the finding, every open one is evidence. */
function weakenedResult(open: WeakeningWindow[]): Result {
  const newest = open[open.length - 1]!;
  const earlier = open.length > 1 ? ` (and ${open.length - 1} earlier weakening(s) not yet restored)` : "";
  return {
    control: WEAKENING_CONTROL,
    criterion: CRITERION,
    title: TITLE,
    outcome: "fail",
    subject: subjectOf(newest),
    reason:
      `${headline(newest)}${by(newest.weakened, newest)} (${how(newest.weakened)}): ` +
      `${newest.details.join("; ")}${earlier}`,
    evidence: [...open].reverse().flatMap(windowEvidence),
    remediation: REMEDIATION,
  };
}

/** A restored aspect: who restored it, and the weakenings it ends. */
function restoredResult(ended: WeakeningWindow[]): Result {
  const last = ended[ended.length - 1]!;
  const restored = last.restored!;
  return {
    control: WEAKENING_CONTROL,
    criterion: CRITERION,
    title: TITLE,
    outcome: "pass",
    subject: subjectOf(last),
    reason:
      `restored${by(restored, last)} (${how(restored)}): ${last.aspect} is again at least as strong ` +
      `as before it was weakened`,
    evidence: [
      { label: "Restored by", value: who(restored, last), at: restored.observedAt },
      { label: "Ledger record", value: `${last.stream} #${restored.sequence}`, at: restored.observedAt },
      ...ended.flatMap(windowEvidence),
    ],
  };
}
