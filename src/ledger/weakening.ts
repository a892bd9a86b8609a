/**
 * Configuration changes that weaken a control (CC7.1/CC8.1), read from the ledger's observation
 * streams: branch protection removed or weakened (a ruleset disabled, a bypass actor added), a
 * repository made public, a repository admin or an organization owner added, the organization's 2FA
 * requirement turned off. Each weakening opens a window that lasts until an observation shows the
 * weakened aspect at least as strong as it was just before, on every field: stronger in other ways
 * does not cure it. The app turns windows into finding issues; the period export lists them.
 *
 * Aspects, the stable ids of what was weakened (also the finding's subject id):
 * - "<owner/repo>:branch:<branch>": the effective rule of one production branch. Removal, weakening
 *   and bypass actors added all belong to it (one rule, one finding), the kind naming the worst.
 * - "<owner/repo>:visibility": private or internal to public, and private to internal (kind
 *   "made-public", the details say which).
 * - "<owner/repo>:admin:<login or team:slug>": an administrator of the repository added.
 * - "<org>:owner:<login>": an owner of the organization added (a new member or a promotion).
 * - "<org>:two-factor-requirement": the requirement turned off.
 *
 * Windows of one aspect: a further weakening while one is open opens its own window (with its own
 * who and when); each closes when the aspect is back to at least what it was before that window. A
 * field brought back to where it stood before an open window (approvals 2 -> 0 -> 3 -> 2, a check's
 * pin moved back to its app) is part of the restoration, not a new weakening.
 *
 * Pure, apart from weakeningWindowsOf which reads the ledger. Unreadable facts are neither a
 * weakening nor a restoration: a window stays open through them, and a weakening hidden behind an
 * unreadable observation is found against the last readable one.
 */
import { unprotectedBranchRule, type BranchRule } from "../model/index.js";
import { canonicalJson, type Json } from "./chain.js";
import {
  observationStream,
  replayObservations,
  type ObservationLedger,
  type ObservationSource,
  type ObservedBranchRule,
  type ObservedFacts,
  type ReplayedObservation,
  type RepositoryFacts,
} from "./observations.js";

export type WeakeningKind =
  | "protection-removed"
  | "protection-weakened"
  | "bypass-actor-added"
  | "made-public"
  | "owner-added"
  | "admin-added"
  | "two-factor-requirement-off";

export interface ConfigurationWeakening {
  /** Stable id of what was weakened, also the finding's subject id (see the scheme above). */
  aspect: string;
  /** The repository full name or organization login the aspect belongs to. */
  subject: string;
  kind: WeakeningKind;
  /** What changed, readable, one line each: "required approvals lowered from 2 to 1". */
  details: string[];
}

export interface ObservationPoint {
  sequence: number;
  observedAt: string;
  source: ObservationSource;
}

export interface WeakeningWindow extends ConfigurationWeakening {
  stream: string;
  weakened: ObservationPoint;
  /**
   * The first later observation in which the aspect is no longer weaker than it was just before
   * `weakened`, or null while the weakening lasts. An unreadable aspect never restores.
   */
  restored: ObservationPoint | null;
}

/** What an aspect id names inside the facts of its subject. */
type AspectKey =
  | { group: "branch"; branch: string }
  | { group: "visibility" }
  | { group: "admin"; login: string }
  | { group: "owner"; login: string }
  | { group: "two-factor" };

/** How an aspect compares: not weaker, weaker (with what changed), or not comparable (unreadable). */
type Comparison =
  | { weaker: false }
  | { weaker: true; kind: WeakeningKind; details: string[]; fields: string[] }
  | { unreadable: true };

const NOT_WEAKER: Comparison = { weaker: false };
const UNREADABLE: Comparison = { unreadable: true };

function subjectOf(facts: ObservedFacts): string {
  return facts.kind === "repository" ? facts.fullName : facts.login;
}

function aspectId(subject: string, key: AspectKey): string {
  switch (key.group) {
    case "branch":
      return `${subject}:branch:${key.branch}`;
    case "visibility":
      return `${subject}:visibility`;
    case "admin":
      return `${subject}:admin:${key.login}`;
    case "owner":
      return `${subject}:owner:${key.login}`;
    case "two-factor":
      return `${subject}:two-factor-requirement`;
  }
}

/** The aspects either side of a change may have weakened, in a stable order. */
function aspectsOf(before: ObservedFacts, after: ObservedFacts): AspectKey[] {
  if (before.kind === "repository" && after.kind === "repository") {
    const branches = new Set<string>();
    for (const rules of [before.branchRules, after.branchRules]) {
      if (rules.known) for (const branch of Object.keys(rules.value)) branches.add(branch);
    }
    const admins = new Set<string>(after.admins.known ? after.admins.value : []);
    return [
      ...[...branches].sort().map((branch) => ({ group: "branch" as const, branch })),
      { group: "visibility" },
      ...[...admins].sort().map((login) => ({ group: "admin" as const, login })),
    ];
  }
  if (before.kind === "organization" && after.kind === "organization") {
    const owners = after.members.known
      ? Object.entries(after.members.value)
          .filter(([, member]) => member.role === "owner")
          .map(([login]) => login)
          .sort()
      : [];
    return [{ group: "two-factor" }, ...owners.map((login) => ({ group: "owner" as const, login }))];
  }
  return [];
}

/** The weakenings that turn `before` into `after` (facts of one subject). */
export function weakeningsBetween(before: ObservedFacts, after: ObservedFacts): ConfigurationWeakening[] {
  if (before.kind !== after.kind || subjectOf(before) !== subjectOf(after)) return [];
  const subject = subjectOf(after);
  const out: ConfigurationWeakening[] = [];
  for (const key of aspectsOf(before, after)) {
    const comparison = compareAspect(before, after, key);
    if ("weaker" in comparison && comparison.weaker) {
      out.push({
        aspect: aspectId(subject, key),
        subject,
        kind: comparison.kind,
        details: comparison.details,
      });
    }
  }
  return out;
}

/** One field on which an aspect is weaker, and the line that says how. */
interface WeakerField {
  field: string;
  detail: string;
}

/** A comparison without the `ignore`d fields (see weakeningWindows): not weaker when none is left. */
function weakerOn(kind: WeakeningKind, found: WeakerField[], ignore: ReadonlySet<string>): Comparison {
  const kept = found.filter((f) => !ignore.has(f.field));
  if (kept.length === 0) return NOT_WEAKER;
  return { weaker: true, kind, details: kept.map((f) => f.detail), fields: kept.map((f) => f.field) };
}

const NOTHING: ReadonlySet<string> = new Set<string>();

/** Whether `after` is weaker than `before` on one aspect. */
function compareAspect(
  before: ObservedFacts,
  after: ObservedFacts,
  key: AspectKey,
  ignore: ReadonlySet<string> = NOTHING,
): Comparison {
  if (before.kind === "repository" && after.kind === "repository") {
    // An uncollected repository carries placeholder values (visibility "private"): nothing is readable.
    if (before.collectionError !== null || after.collectionError !== null) return UNREADABLE;
    switch (key.group) {
      case "branch":
        return compareBranch(before, after, key.branch, ignore);
      case "visibility":
        return compareVisibility(before.visibility, after.visibility, ignore);
      case "admin": {
        if (!before.admins.known || !after.admins.known) return UNREADABLE;
        const was = before.admins.value.includes(key.login);
        const is = after.admins.value.includes(key.login);
        if (!is || was) return NOT_WEAKER;
        const detail = key.login.startsWith("team:")
          ? `repository admin added: team ${key.login.slice("team:".length)}`
          : `repository admin added: ${key.login}`;
        return weakerOn("admin-added", [{ field: "admin", detail }], ignore);
      }
      default:
        return NOT_WEAKER;
    }
  }
  if (before.kind === "organization" && after.kind === "organization") {
    switch (key.group) {
      case "two-factor": {
        if (!before.twoFactorRequired.known || !after.twoFactorRequired.known) return UNREADABLE;
        if (!before.twoFactorRequired.value || after.twoFactorRequired.value) return NOT_WEAKER;
        const detail = "two-factor authentication no longer required of members";
        return weakerOn("two-factor-requirement-off", [{ field: "twoFactorRequired", detail }], ignore);
      }
      case "owner": {
        if (!before.members.known || !after.members.known) return UNREADABLE;
        const was = before.members.value[key.login];
        const is = after.members.value[key.login];
        if (is?.role !== "owner" || was?.role === "owner") return NOT_WEAKER;
        const detail = was
          ? `organization owner added: ${key.login} (was ${was.role})`
          : `organization owner added: ${key.login} (new member)`;
        return weakerOn("owner-added", [{ field: "role", detail }], ignore);
      }
      default:
        return NOT_WEAKER;
    }
  }
  return UNREADABLE;
}

/** Who can see the repository: public > internal > private. */
const EXPOSURE: Partial<Record<string, number>> = { private: 0, internal: 1, public: 2 };

function compareVisibility(before: string, after: string, ignore: ReadonlySet<string>): Comparison {
  const was = EXPOSURE[before];
  const is = EXPOSURE[after];
  let detail: string;
  if (was === undefined || is === undefined) {
    // A value this module does not know cannot be ordered: any change of it counts as a weakening.
    if (before === after) return NOT_WEAKER;
    detail = `visibility changed from ${before} to ${after}`;
  } else if (is <= was) {
    return NOT_WEAKER;
  } else {
    detail =
      after === "public"
        ? `repository made public (was ${before})`
        : `visibility widened from ${before} to ${after} (visible to every member of the enterprise)`;
  }
  return weakerOn("made-public", [{ field: "visibility", detail }], ignore);
}

function isProtected(rule: ObservedBranchRule | undefined): boolean {
  return rule !== undefined && rule.sources.length > 0;
}

function compareBranch(
  before: RepositoryFacts,
  after: RepositoryFacts,
  branch: string,
  ignore: ReadonlySet<string>,
): Comparison {
  if (!before.branchRules.known || !after.branchRules.known) return UNREADABLE;
  const was = before.branchRules.value[branch];
  const is = after.branchRules.value[branch];
  // A branch first observed now has nothing to be weaker than.
  if (!was) return NOT_WEAKER;
  // A branch no longer observed (no longer a production branch, or deleted) has lost its rule as far
  // as anyone can prove: treated as unprotected, never as "not weaker".
  const effective = is ?? unprotectedBranchRule(branch);
  const found = weakerFields(was, effective).filter((f) => !ignore.has(f.field));
  if (found.length === 0) return NOT_WEAKER;
  const details = found.map((f) => f.detail);
  const kind: WeakeningKind =
    isProtected(was) && !isProtected(effective)
      ? "protection-removed"
      : found.every((f) => f.field === "bypassActors")
        ? "bypass-actor-added"
        : "protection-weakened";
  if (!is) {
    details.unshift(
      `branch ${branch} no longer observed with a rule (deleted, or no longer a production branch)`,
    );
  } else if (kind === "protection-removed") {
    details.unshift(`protection removed from ${branch}`);
  }
  const lostSources = was.sources.filter((source) => !effective.sources.includes(source));
  if (lostSources.length > 0 && effective.sources.length > 0) {
    details.push(`no longer enforced by: ${lostSources.join(", ")}`);
  }
  return { weaker: true, kind, details, fields: found.map((f) => f.field) };
}

const turnedOff = (field: keyof BranchRule, what: string) => ({ field, what });

/** Fields where true is the stronger value, and what losing it means. */
const STRONGER_WHEN_TRUE = [
  turnedOff("requirePullRequest", "pull request no longer required before merging"),
  turnedOff("dismissStaleApprovals", "stale approvals no longer dismissed when new commits are pushed"),
  turnedOff("requireCodeOwnerReview", "code owner review no longer required"),
  turnedOff("requireLastPushApproval", "approval of the most recent push no longer required"),
  turnedOff("enforceAdmins", "administrators no longer bound by the rule"),
] as const;

/** Fields where false is the stronger value, and what gaining them means. */
const STRONGER_WHEN_FALSE = [
  turnedOff("allowForcePushes", "force pushes allowed"),
  turnedOff("allowDeletions", "branch deletion allowed"),
] as const;

/** Fields ordered below; every other field is compared whole (a difference weakens). */
const ORDERED = new Set<string>([
  "branch",
  "sources",
  "requiredApprovals",
  "requiredStatusChecks",
  "requiredCheckApps",
  "bypassActors",
  "bypassActorsVisible",
  "otherRequirements",
  "restrictedTo",
  ...STRONGER_WHEN_TRUE.map((f) => f.field),
  ...STRONGER_WHEN_FALSE.map((f) => f.field),
]);

/**
 * Every field on which `after` is weaker than `before`, one readable line each. `sources` is where
 * the rule comes from, not a requirement: losing a ruleset weakens only through the requirements the
 * effective rule loses.
 */
function weakerFields(before: ObservedBranchRule, after: ObservedBranchRule): WeakerField[] {
  const found: WeakerField[] = [];
  const add = (field: string, detail: string) => found.push({ field, detail });
  for (const { field, what } of STRONGER_WHEN_TRUE) {
    if (before[field] === true && after[field] !== true) add(field, what);
  }
  if (after.requiredApprovals < before.requiredApprovals) {
    add(
      "requiredApprovals",
      `required approvals lowered from ${before.requiredApprovals} to ${after.requiredApprovals}`,
    );
  }
  const checksRemoved = missing(before.requiredStatusChecks, after.requiredStatusChecks);
  if (checksRemoved.length > 0) {
    add("requiredStatusChecks", `required status checks removed: ${checksRemoved.join(", ")}`);
  }
  const beforeApps = before.requiredCheckApps ?? {};
  const afterApps = after.requiredCheckApps ?? {};
  for (const check of Object.keys(beforeApps).sort()) {
    // A check no longer required is reported above; a check still required may lose its pin.
    if (!after.requiredStatusChecks.includes(check)) continue;
    const app = afterApps[check];
    const field = `requiredCheckApps/${check}`;
    // Pins to two apps cannot be ordered: another app is a weakening.
    if (app === undefined) add(field, `required check ${check} no longer pinned to app ${beforeApps[check]}`);
    else if (app !== beforeApps[check]) {
      add(field, `required check ${check} pinned to app ${app} instead of app ${beforeApps[check]}`);
    }
  }
  for (const { field, what } of STRONGER_WHEN_FALSE) {
    if (before[field] !== true && after[field] === true) add(field, what);
  }
  // Hidden bypass actors cannot be compared: neither a weakening nor a restoration (see restores).
  if ((before.bypassActorsVisible ?? true) && (after.bypassActorsVisible ?? true)) {
    for (const actor of missing(after.bypassActors, before.bypassActors)) {
      add("bypassActors", `bypass actor added: ${actor}`);
    }
  }
  const requirementsRemoved = missing(before.otherRequirements ?? [], after.otherRequirements ?? []);
  if (requirementsRemoved.length > 0) {
    add("otherRequirements", `requirements removed: ${requirementsRemoved.join(", ")}`);
  }
  if (before.restrictedTo !== undefined) {
    if (after.restrictedTo === undefined) {
      add("restrictedTo", "push restrictions removed: anyone with write access may push");
    } else {
      const pushers = missing(after.restrictedTo, before.restrictedTo);
      if (pushers.length > 0) add("restrictedTo", `may now push: ${pushers.join(", ")}`);
    }
  }
  // Fields this module does not order (added to the model later): a change of them weakens.
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const field of [...keys].sort()) {
    if (ORDERED.has(field)) continue;
    const was = (before as Record<string, unknown>)[field];
    const is = (after as Record<string, unknown>)[field];
    if (canonicalJson((was ?? null) as Json) !== canonicalJson((is ?? null) as Json)) {
      add(field, `${field} changed from ${describe(was)} to ${describe(is)}`);
    }
  }
  return found;
}

/** Whether part of the rule cannot be compared (bypass actors hidden on either side). */
/**
 * Whether bypass actors seen before are hidden now: who may bypass cannot be shown no wider than
 * before. Hidden both times, they were no part of the weakening and cannot be compared either way.
 */
function bypassHiddenSince(before: ObservedBranchRule, after: ObservedBranchRule): boolean {
  return (before.bypassActorsVisible ?? true) && !(after.bypassActorsVisible ?? true);
}

function missing(from: readonly string[], to: readonly string[]): string[] {
  return from.filter((item) => !to.includes(item)).sort();
}

function describe(value: unknown): string {
  return value === undefined ? "absent" : canonicalJson((value ?? null) as Json);
}

/**
 * Whether an aspect is restored: readable and no longer weaker than `baseline` on any field. A
 * branch whose bypass actors are hidden now (and were visible then) cannot be shown restored.
 */
function restores(baseline: ObservedFacts, current: ObservedFacts, key: AspectKey): boolean {
  const comparison = compareAspect(baseline, current, key);
  if (!("weaker" in comparison) || comparison.weaker) return false;
  if (key.group === "branch" && baseline.kind === "repository" && current.kind === "repository") {
    const was = baseline.branchRules.known ? baseline.branchRules.value[key.branch] : undefined;
    const is = current.branchRules.known ? current.branchRules.value[key.branch] : undefined;
    if (was && is && bypassHiddenSince(was, is)) return false;
  }
  return true;
}

/**
 * The last readable state of every fact: an unreadable fact (or hidden bypass actors) keeps what
 * was last read, so a weakening made while it could not be read is found when it can be again.
 */
function remember(reference: ObservedFacts | null, current: ObservedFacts): ObservedFacts {
  if (!reference || reference.kind !== current.kind || subjectOf(reference) !== subjectOf(current)) {
    return current;
  }
  if (reference.kind === "repository" && current.kind === "repository") {
    if (current.collectionError !== null) return reference;
    let branchRules = current.branchRules.known ? current.branchRules : reference.branchRules;
    if (current.branchRules.known && reference.branchRules.known) {
      const previous = reference.branchRules.value;
      const rules: Record<string, ObservedBranchRule> = {};
      for (const [branch, rule] of Object.entries(current.branchRules.value)) {
        const was = previous[branch];
        const hiddenNow = (rule.bypassActorsVisible ?? true) !== true;
        rules[branch] =
          hiddenNow && was && (was.bypassActorsVisible ?? true)
            ? { ...rule, bypassActors: was.bypassActors, bypassActorsVisible: true }
            : rule;
      }
      branchRules = { known: true, value: rules };
    }
    return {
      ...current,
      branchRules,
      admins: current.admins.known ? current.admins : reference.admins,
    };
  }
  if (reference.kind === "organization" && current.kind === "organization") {
    return {
      ...current,
      twoFactorRequired: current.twoFactorRequired.known
        ? current.twoFactorRequired
        : reference.twoFactorRequired,
      members: current.members.known ? current.members : reference.members,
    };
  }
  return current;
}

interface OpenWindow {
  window: WeakeningWindow;
  key: AspectKey;
  /** The facts just before the weakening (last readable): what a restoration must match. */
  baseline: ObservedFacts;
}

/** Every weakening of one observation stream, oldest first, with when (and by whom) it was restored. */
export async function weakeningWindows(
  stream: string,
  observations: AsyncIterable<ReplayedObservation> | Iterable<ReplayedObservation>,
): Promise<WeakeningWindow[]> {
  const windows: WeakeningWindow[] = [];
  let open: OpenWindow[] = [];
  let reference: ObservedFacts | null = null;
  for await (const observed of observations) {
    const point: ObservationPoint = {
      sequence: observed.sequence,
      observedAt: observed.observedAt,
      source: observed.source,
    };
    const current = observed.facts;
    const openBefore = open;
    open = open.filter((entry) => {
      if (!restores(entry.baseline, current, entry.key)) return true;
      entry.window.restored = point;
      return false;
    });
    if (reference) {
      const subject = subjectOf(current);
      for (const key of aspectsOf(reference, current)) {
        const aspect = aspectId(subject, key);
        let comparison = compareAspect(reference, current, key);
        if (!("weaker" in comparison) || !comparison.weaker) continue;
        // A field brought back to where it was before an open weakening of the aspect is part of
        // restoring it, not a new weakening (approvals 2 -> 0 -> 3 -> 2, a pin moved back).
        const earlier = openBefore.filter((entry) => entry.window.aspect === aspect);
        const back = new Set(
          comparison.fields.filter((field) =>
            earlier.some((entry) => {
              const since = compareAspect(entry.baseline, current, key);
              return "weaker" in since && !(since.weaker && since.fields.includes(field));
            }),
          ),
        );
        if (back.size > 0) comparison = compareAspect(reference, current, key, back);
        if (!("weaker" in comparison) || !comparison.weaker) continue;
        const window: WeakeningWindow = {
          aspect,
          subject,
          kind: comparison.kind,
          details: comparison.details,
          stream,
          weakened: point,
          restored: null,
        };
        windows.push(window);
        open.push({ window, key, baseline: reference });
      }
    }
    reference = remember(reference, current);
  }
  return windows;
}

/** Reads the subject's stream from the ledger and returns its windows. */
export async function weakeningWindowsOf(
  ledger: Pick<ObservationLedger, "records">,
  host: string,
  subject: string,
): Promise<WeakeningWindow[]> {
  const stream = observationStream(host, subject);
  return weakeningWindows(stream, replayObservations(ledger.records(stream)));
}

/**
 * Which aspect groups each configuration webhook can change: its sender changed those, and nothing
 * else the same observation happens to find (a 2FA requirement turned off is found by whatever
 * webhook reads the organization next; its sender did not turn it off).
 */
const EVENT_CHANGES: Readonly<Record<string, readonly AspectKey["group"][]>> = {
  branch_protection_rule: ["branch"],
  repository_ruleset: ["branch"],
  repository: ["visibility"],
  member: ["admin"],
  membership: ["admin"],
  team: ["admin"],
  organization: ["owner"],
};

/** "acme/api:branch:main" → "branch"; the group names the scheme's second part. */
function groupOf(aspect: string, subject: string): AspectKey["group"] | null {
  const rest = aspect.startsWith(`${subject}:`) ? aspect.slice(subject.length + 1) : "";
  const group = rest === "two-factor-requirement" ? "two-factor" : rest.split(":")[0];
  return group === "branch" ||
    group === "visibility" ||
    group === "admin" ||
    group === "owner" ||
    group === "two-factor"
    ? group
    : null;
}

/**
 * Who made the change at an observation point, when the record says so: the webhook's sender, and
 * only for an aspect its event can change. null: not known (an audit's observation, a webhook that
 * named nobody, or a change the event did not make). The host's audit log names who.
 */
export function changedBy(
  point: ObservationPoint,
  window: Pick<ConfigurationWeakening, "aspect" | "subject">,
): string | null {
  const { source } = point;
  if (source.trigger !== "webhook" || !source.actor || !source.event) return null;
  const event = source.event.split(".")[0] ?? "";
  const group = groupOf(window.aspect, window.subject);
  return group !== null && (EVENT_CHANGES[event] ?? []).includes(group) ? source.actor : null;
}
