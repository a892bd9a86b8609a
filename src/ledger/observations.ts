/**
 * Configuration observations: what the code host said, at one time, about one repository (its
 * branch rules, collaborators, teams, admins, deploy keys, visibility) or one organization (2FA
 * requirement, base permission, members with role and 2FA, outside collaborators). The code hosts
 * keep no history of these, so the ledger does: one stream per subject
 * ("observation:github/acme/api", "observation:github/acme"), one record per observation so every
 * day observed is provable, each stored as a change against the previous observation of its stream
 * (the first whole, then a diff, or "unchanged since record N"), so a year of daily observations
 * stays small. A fact the collector could not read is recorded as unreadable with the permission it
 * lacked, never as empty.
 */
import { createHash } from "node:crypto";
import { describeAge } from "../engine/age.js";
import type {
  BranchRule,
  Known,
  Organization,
  PolicyFile,
  PolicyFileRef,
  Repository,
} from "../model/index.js";
import { canonicalJson, type ChainedRecord, type Json } from "./chain.js";
import type { RecordedEntry } from "./ledger.js";

export const OBSERVATION = "observation";

export function observationStream(host: string, subject: string): string {
  return `observation:${host}/${subject}`;
}

/** A branch rule as observed: the model's BranchRule, kept as the host said it. */
export type ObservedBranchRule = BranchRule;

export interface RepositoryFacts {
  kind: "repository";
  fullName: string;
  visibility: Repository["visibility"];
  archived: boolean;
  defaultBranch: string;
  productionBranches: string[];
  /** By branch name: the arrays of the model become maps so a change to one branch is a small diff. */
  branchRules: Known<Record<string, ObservedBranchRule>>;
  /** login -> permission and whether an outside collaborator. */
  collaborators: Known<Record<string, { permission: string; outside: boolean }>>;
  /** team slug -> permission. */
  teams: Known<Record<string, string>>;
  /** Who administers the repository: collaborators ("alice") and teams ("team:ops") with admin. */
  admins: Known<string[]>;
  deployKeys: Known<Record<string, { title: string; readOnly: boolean; addedBy: string | null }>>;
  collectionError: string | null;
  /**
   * The policy files that governed the repository when observed: the organization's layers in the
   * order they apply, then the repository's own; [] when only the shipped default applied. Absent in
   * records written before policies were observed, and when the observer did not read them.
   */
  policyFiles?: ObservedPolicyFile[];
}

/** A policy file as observed: where it was read, its layer, and its text (with its SHA-256). */
export interface ObservedPolicyFile {
  path: string;
  layer: PolicyFile["layer"];
  sha256: string;
  content: string;
}

export interface OrganizationFacts {
  kind: "organization";
  login: string;
  twoFactorRequired: Known<boolean>;
  basePermission: Known<string>;
  /** login -> role and two-factor state (null when the host did not say). */
  members: Known<Record<string, { role: string; twoFactor: boolean | null }>>;
  outsideCollaborators: Known<string[]>;
}

export type ObservedFacts = RepositoryFacts | OrganizationFacts;

/** Why the facts were read: an audit (CLI or scheduled), or a webhook that changed them. */
export interface ObservationSource {
  trigger: "cli" | "demo" | "schedule" | "webhook";
  /** The webhook event and action, e.g. "branch_protection_rule.edited". */
  event?: string;
  deliveryId?: string;
  /** Who made the change, as the webhook's payload names them. */
  actor?: string | null;
}

/** One path into the facts and its new value, or its removal. */
export type FactChange = { path: string[]; value: Json } | { path: string[]; removed: true };

export interface ObservationContent {
  subject: string;
  host: string;
  observedAt: string;
  source: ObservationSource;
  /** The first observation of a stream, and any after a change of the kind of subject. */
  whole?: ObservedFacts;
  /** The changes since the previous observation. */
  changes?: FactChange[];
  /** Nothing changed: the sequence of the record that last changed something. */
  unchangedSince?: number;
}

/**
 * The facts of a repository; with `policyFiles` (a snapshot's, or the files the observer read), the
 * ones that govern this repository are recorded with them.
 */
export function repositoryFacts(
  repository: Repository,
  policyFiles?: readonly PolicyFile[],
): RepositoryFacts {
  const map = <T, V>(fact: Known<T[]>, key: (item: T) => string, value: (item: T) => V) =>
    fact.known
      ? {
          known: true as const,
          value: Object.fromEntries(fact.value.map((item) => [key(item), value(item)])),
        }
      : fact;
  const admins: Known<string[]> = !repository.collaborators.known
    ? repository.collaborators
    : !repository.teams.known
      ? repository.teams
      : {
          known: true,
          value: [
            ...repository.collaborators.value.filter((c) => c.permission === "admin").map((c) => c.login),
            ...repository.teams.value.filter((t) => t.permission === "admin").map((t) => `team:${t.slug}`),
          ].sort(),
        };
  return {
    kind: "repository",
    fullName: repository.fullName,
    visibility: repository.visibility,
    archived: repository.archived,
    defaultBranch: repository.defaultBranch,
    productionBranches: [...repository.productionBranches].sort(),
    branchRules: map(
      repository.branchRules,
      (rule) => rule.branch,
      (rule) => rule,
    ),
    collaborators: map(
      repository.collaborators,
      (c) => c.login,
      (c) => ({ permission: c.permission, outside: c.outside }),
    ),
    teams: map(
      repository.teams,
      (t) => t.slug,
      (t) => t.permission,
    ),
    admins,
    deployKeys: map(
      repository.deployKeys,
      (k) => k.id,
      (k) => ({ title: k.title, readOnly: k.readOnly, addedBy: k.addedBy }),
    ),
    collectionError: repository.collectionError,
    ...(policyFiles ? { policyFiles: governing(policyFiles, repository.fullName) } : {}),
  };
}

/** The files that govern `repository`, in the order policySetFor applies them. */
function governing(files: readonly PolicyFile[], repository: string): ObservedPolicyFile[] {
  const observed = (file: PolicyFile): ObservedPolicyFile => ({
    path: file.path,
    layer: file.layer,
    sha256: sha256Of(file.content),
    content: file.content,
  });
  return [
    ...files.filter((file) => file.layer === "organization").map(observed),
    ...files.filter((file) => file.layer === "repository" && file.repository === repository).map(observed),
  ];
}

/**
 * Observed policy files as a snapshot's references to them, their texts added to `texts` by SHA-256
 * (computed again from the text, so a reference always names the text it gets).
 */
export function policyFileRefs(
  repository: string,
  files: readonly ObservedPolicyFile[],
  texts: Record<string, string>,
): PolicyFileRef[] {
  return files.map((file) => {
    const sha256 = sha256Of(file.content);
    texts[sha256] = file.content;
    return {
      layer: file.layer,
      repository: file.layer === "repository" ? repository : null,
      path: file.path,
      sha256,
    };
  });
}

function sha256Of(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export function organizationFacts(organization: Organization): OrganizationFacts {
  const without = organization.membersWithoutTwoFactor;
  const members: OrganizationFacts["members"] = organization.members.known
    ? {
        known: true,
        value: Object.fromEntries(
          organization.members.value.map((m) => [
            m.login,
            // 2FA state is only known when the host let us read who lacks it (GitHub: owners only)
            { role: m.role, twoFactor: without.known ? !without.value.includes(m.login) : null },
          ]),
        ),
      }
    : organization.members;
  return {
    kind: "organization",
    login: organization.login,
    twoFactorRequired: organization.twoFactorRequired,
    basePermission: organization.basePermission,
    members,
    outsideCollaborators: organization.outsideCollaborators.known
      ? { known: true, value: [...organization.outsideCollaborators.value].sort() }
      : organization.outsideCollaborators,
  };
}

/** The changes that turn `before` into `after`: objects compared key by key, anything else whole. */
export function diffFacts(before: Json, after: Json, path: string[] = []): FactChange[] {
  // A fact that became (un)readable is replaced whole: an unreadable one is never half a value.
  if (isObject(before) && isObject(after) && before.known === after.known) {
    const changes: FactChange[] = [];
    for (const key of Object.keys(before).sort()) {
      if (!(key in after)) changes.push({ path: [...path, key], removed: true });
    }
    for (const key of Object.keys(after).sort()) {
      const next = after[key] as Json;
      if (!(key in before)) changes.push({ path: [...path, key], value: next });
      else changes.push(...diffFacts(before[key] as Json, next, [...path, key]));
    }
    return changes;
  }
  return canonicalJson(before) === canonicalJson(after) ? [] : [{ path, value: after }];
}

export function applyChanges(facts: Json, changes: readonly FactChange[]): Json {
  let root = structuredClone(facts);
  for (const change of changes) {
    if (change.path.length === 0) {
      if ("removed" in change) throw new Error("an observation cannot remove its whole subject");
      root = structuredClone(change.value);
      continue;
    }
    let node = root as { [key: string]: Json };
    for (const key of change.path.slice(0, -1)) {
      if (!isObject(node[key] ?? null)) node[key] = {};
      node = node[key] as { [key: string]: Json };
    }
    const last = change.path[change.path.length - 1]!;
    if ("removed" in change) delete node[last];
    else node[last] = structuredClone(change.value);
  }
  return root;
}

function isObject(value: Json): value is { [key: string]: Json } {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The facts after each record of an observation stream, replayed from its first record. */
export interface ReplayedObservation {
  sequence: number;
  observedAt: string;
  source: ObservationSource;
  facts: ObservedFacts;
  /** The record that last changed the facts (this one, or an earlier one when unchanged). */
  changedAt: number;
}

export async function* replayObservations(
  records: AsyncIterable<ChainedRecord>,
): AsyncGenerator<ReplayedObservation> {
  let facts: Json | null = null;
  let changedAt = 0;
  for await (const record of records) {
    if (record.kind !== OBSERVATION) continue;
    const content = JSON.parse(record.content) as ObservationContent;
    if (content.whole) {
      facts = content.whole as unknown as Json;
      changedAt = record.sequence;
    } else if (content.changes) {
      if (facts === null)
        throw new Error(
          `${record.stream} record ${record.sequence} changes an observation never recorded whole`,
        );
      facts = applyChanges(facts, content.changes);
      changedAt = record.sequence;
    } else if (facts === null) {
      throw new Error(
        `${record.stream} record ${record.sequence} repeats an observation never recorded whole`,
      );
    }
    yield {
      sequence: record.sequence,
      observedAt: content.observedAt,
      source: content.source,
      facts: facts as unknown as ObservedFacts,
      changedAt,
    };
  }
}

/** The ledger operations observations need (the Ledger interface has them). */
export interface ObservationLedger {
  append(stream: string, kind: string, content: unknown): Promise<RecordedEntry>;
  records(stream: string): AsyncGenerator<ChainedRecord>;
  /** The stream's last record (null: none); with it, recordObservation need not replay the stream. */
  streamHead?(stream: string): Promise<RecordedEntry | null>;
}

/**
 * Records one observation of a subject as a change against the stream's last observation. Two
 * writers of one stream at once may both diff against the same last observation; the chain never
 * forks (append locks the stream's head) and both diffs replay correctly unless the two observations
 * disagree, when the later one's changes are the ones that hold.
 */
export async function recordObservation(
  ledger: ObservationLedger,
  input: { host: string; facts: ObservedFacts; observedAt: Date; source: ObservationSource },
): Promise<RecordedEntry & { change: "whole" | "changed" | "unchanged" }> {
  const subject = input.facts.kind === "repository" ? input.facts.fullName : input.facts.login;
  const stream = observationStream(input.host, subject);
  const last = await lastObservation(ledger, stream);
  const base = {
    subject,
    host: input.host,
    observedAt: input.observedAt.toISOString(),
    source: input.source,
  };
  // canonical JSON drops undefined fields as the stored record will
  const facts = JSON.parse(canonicalJson(input.facts)) as Json;
  if (!last || last.facts.kind !== input.facts.kind) {
    const content: ObservationContent = { ...base, whole: facts as unknown as ObservedFacts };
    const entry = await ledger.append(stream, OBSERVATION, content);
    rememberHead(ledger, entry, { facts, changedAt: entry.sequence });
    return { ...entry, change: "whole" };
  }
  const changes = diffFacts(last.facts as unknown as Json, facts);
  const content: ObservationContent =
    changes.length === 0 ? { ...base, unchangedSince: last.changedAt } : { ...base, changes };
  const entry = await ledger.append(stream, OBSERVATION, content);
  rememberHead(ledger, entry, {
    facts: changes.length === 0 ? (last.facts as unknown as Json) : facts,
    changedAt: changes.length === 0 ? last.changedAt : entry.sequence,
  });
  return { ...entry, change: changes.length === 0 ? "unchanged" : "changed" };
}

/** The facts after a stream's last record, as this process last wrote them, and that record. */
interface KnownHead {
  sequence: number;
  hash: string;
  facts: Json;
  changedAt: number;
}

/** Streams whose head facts are kept per ledger: a daily audit of a few thousand subjects fits. */
const KNOWN_HEADS_PER_LEDGER = 20_000;
const knownHeads = new WeakMap<object, Map<string, KnownHead>>();

function rememberHead(
  ledger: ObservationLedger,
  entry: RecordedEntry,
  state: { facts: Json; changedAt: number },
): void {
  if (!ledger.streamHead) return;
  let heads = knownHeads.get(ledger);
  if (!heads) knownHeads.set(ledger, (heads = new Map()));
  heads.delete(entry.stream);
  heads.set(entry.stream, { sequence: entry.sequence, hash: entry.hash, ...state });
  // the least recently written stream goes first
  if (heads.size > KNOWN_HEADS_PER_LEDGER) heads.delete(heads.keys().next().value!);
}

/**
 * The stream's last observation: the facts this process wrote after it when the stream's head is
 * still that record (one indexed read, not a replay of a year of records), else replayed from its
 * first record. Another writer's append moves the head, so its record is never skipped.
 */
async function lastObservation(
  ledger: ObservationLedger,
  stream: string,
): Promise<Pick<ReplayedObservation, "facts" | "changedAt"> | null> {
  const known = knownHeads.get(ledger)?.get(stream);
  if (known && ledger.streamHead) {
    const head = await ledger.streamHead(stream);
    if (head && head.sequence === known.sequence && head.hash === known.hash) {
      return { facts: known.facts as unknown as ObservedFacts, changedAt: known.changedAt };
    }
  }
  let last: ReplayedObservation | null = null;
  for await (const observed of replayObservations(ledger.records(stream))) last = observed;
  return last;
}

/** One subject's observation as recorded: the record, and whether it changed anything. */
export interface RecordedObservation {
  subject: string;
  sequence: number;
  change: "whole" | "changed" | "unchanged";
}

/** Records the organization and every repository of an audit's snapshot, in that order. */
export async function recordSnapshotObservations(
  ledger: ObservationLedger,
  snapshot: {
    collector: { host: string };
    collectedAt: string;
    organization: Organization | null;
    repositories: readonly Repository[];
    /** The policy files read with the snapshot: each repository's governing ones are recorded. */
    policyFiles?: readonly PolicyFile[];
  },
  source: ObservationSource,
): Promise<RecordedObservation[]> {
  const observedAt = new Date(snapshot.collectedAt);
  const host = snapshot.collector.host;
  const recorded: RecordedObservation[] = [];
  if (snapshot.organization) {
    const { sequence, change } = await recordObservation(ledger, {
      host,
      facts: organizationFacts(snapshot.organization),
      observedAt,
      source,
    });
    recorded.push({ subject: snapshot.organization.login, sequence, change });
  }
  for (const repository of snapshot.repositories) {
    const { sequence, change } = await recordObservation(ledger, {
      host,
      facts: repositoryFacts(repository, snapshot.policyFiles),
      observedAt,
      source,
    });
    recorded.push({ subject: repository.fullName, sequence, change });
  }
  return recorded;
}

/** The branch rule the ledger last observed at or before a time. */
export interface RuleAsOf {
  /** The rule as observed, or unreadable (with the permission) when it could not be read then. */
  rule: Known<ObservedBranchRule>;
  stream: string;
  sequence: number;
  observedAt: string;
  /** How long before `at` the observation was made, in milliseconds. */
  ageMs: number;
  source: ObservationSource;
}

/** A repository's branch rules after each observation of it, oldest first. */
export interface RuleTimeline {
  stream: string;
  steps: {
    sequence: number;
    observedAt: string;
    source: ObservationSource;
    rules: RepositoryFacts["branchRules"];
    /** Absent: this observation did not record the policy files. */
    policyFiles?: ObservedPolicyFile[];
  }[];
}

/** Replays a repository's observation stream once; ruleIn answers any number of times from it. */
export async function ruleTimeline(
  ledger: Pick<ObservationLedger, "records">,
  host: string,
  repository: string,
): Promise<RuleTimeline> {
  const stream = observationStream(host, repository);
  const steps: RuleTimeline["steps"] = [];
  for await (const observed of replayObservations(ledger.records(stream))) {
    if (observed.facts.kind !== "repository") continue;
    // each replayed state is a fresh copy (applyChanges clones), so keeping a reference is safe
    steps.push({
      sequence: observed.sequence,
      observedAt: observed.observedAt,
      source: observed.source,
      rules: observed.facts.branchRules,
      ...(observed.facts.policyFiles ? { policyFiles: observed.facts.policyFiles } : {}),
    });
  }
  return { stream, steps };
}

/**
 * The rule in force on `branch` at `at`: from the nearest observation at or before it; null when
 * the timeline holds no observation that old, or the observation did not include the branch (it was
 * not a production branch then, or did not exist).
 */
export function ruleIn(timeline: RuleTimeline, branch: string, at: Date): RuleAsOf | null {
  let nearest: RuleTimeline["steps"][number] | undefined;
  // Observations are recorded in the order they were made; one made later than `at` ends the search.
  for (const step of timeline.steps) {
    if (Date.parse(step.observedAt) > at.getTime()) break;
    nearest = step;
  }
  if (!nearest) return null;
  let rule: Known<ObservedBranchRule>;
  if (!nearest.rules.known) rule = nearest.rules;
  else {
    const found = nearest.rules.value[branch];
    if (!found) return null;
    rule = { known: true, value: found };
  }
  return {
    rule,
    stream: timeline.stream,
    sequence: nearest.sequence,
    observedAt: nearest.observedAt,
    ageMs: at.getTime() - Date.parse(nearest.observedAt),
    source: nearest.source,
  };
}

/** The rule in force on `branch` of `repository` at `at` (see ruleIn). */
export async function ruleAsOf(
  ledger: Pick<ObservationLedger, "records">,
  host: string,
  repository: string,
  branch: string,
  at: Date,
): Promise<RuleAsOf | null> {
  return ruleIn(await ruleTimeline(ledger, host, repository), branch, at);
}

/** "3 days 4 hours", "12 minutes" (kept here for the modules that import it from the ledger). */
export { describeAge };

/** The policy files in force at `at`: the nearest observation at or before it that recorded them. */
export interface PolicyAsOf {
  files: ObservedPolicyFile[];
  stream: string;
  sequence: number;
  observedAt: string;
  ageMs: number;
}

/**
 * The policy files in force at `at`, from the nearest observation at or before it that recorded
 * them (one that did not, such as an older record, is passed over); null when none that old did.
 */
export function policyIn(timeline: RuleTimeline, at: Date): PolicyAsOf | null {
  let nearest: RuleTimeline["steps"][number] | undefined;
  for (const step of timeline.steps) {
    if (Date.parse(step.observedAt) > at.getTime()) break;
    if (step.policyFiles) nearest = step;
  }
  if (!nearest?.policyFiles) return null;
  return {
    files: nearest.policyFiles,
    stream: timeline.stream,
    sequence: nearest.sequence,
    observedAt: nearest.observedAt,
    ageMs: at.getTime() - Date.parse(nearest.observedAt),
  };
}

/**
 * recordSnapshotObservations for the app and the CLI: the ledger being down must not stop an audit;
 * the failure is logged and the days not observed show as gaps in the observation streams.
 */
export async function recordSnapshotObservationsSafely(
  ledger: (ObservationLedger & { location?: string }) | undefined,
  log: { error(object: object, message: string): void },
  snapshot: Parameters<typeof recordSnapshotObservations>[1],
  source: ObservationSource,
): Promise<RecordedObservation[]> {
  if (!ledger) return [];
  try {
    return await recordSnapshotObservations(ledger, snapshot, source);
  } catch (error) {
    log.error(
      { ledger: ledger.location, err: error instanceof Error ? error.message : String(error) },
      "configuration observations not recorded in the ledger",
    );
    return [];
  }
}
