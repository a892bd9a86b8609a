/**
 * What an audit collected, as coverage reads it: per repository its production branches, why it was
 * not collected and the permissions that were missing, and the merges the audit covered. Read from a
 * snapshot (whole, or streamed a part at a time from the file store), and kept in the audit run's
 * record as a compact summary, so coverage need not read a year of snapshots back. One fold serves
 * both, so the summary says exactly what the snapshot says.
 */
import type { Snapshot } from "../model/index.js";

/** The pieces of a snapshot coverage reads, in any order (a streamed snapshot.json yields them one by one). */
export interface SnapshotPart {
  collector?: { host?: string };
  period?: { since: string; until: string } | null;
  unreadable?: { subject: string; permission: string; reason: string }[];
  repository?: Snapshot["repositories"][number];
  changeRequest?: Snapshot["changeRequests"][number];
}

export interface RepositoryFacts {
  branches: string[];
  /** Why it was not collected (null: collected). */
  error: string | null;
  permissions: string[];
}

export interface AuditMerge {
  repository: string;
  number: number;
  baseBranch: string;
  mergedAt: string;
}

/** What one audit collected (held only while that audit is read). */
export interface CollectedAudit {
  label: string;
  host: string;
  since: number;
  until: number;
  repositories: Map<string, RepositoryFacts>;
  merges: AuditMerge[];
}

/**
 * The summary an audit run's record carries: arrays, not objects with named fields, so a day's audit
 * of 1,000 repositories and hundreds of merges adds tens of KB to its record, not the snapshot's MB.
 */
export interface CollectedSummary {
  /** [full name, production branches, collection error (null: collected), permissions missing] */
  repositories: [string, string[], string | null, string[]][];
  /** [repository, number, base branch, merged at] of each merged change request */
  merges: [string, number, string, string][];
}

interface Fold {
  host: string;
  since: number;
  until: number;
  repositories: Map<string, RepositoryFacts>;
  merges: AuditMerge[];
  unreadable: Map<string, string[]>;
}

function emptyFold(): Fold {
  return { host: "", since: NaN, until: NaN, repositories: new Map(), merges: [], unreadable: new Map() };
}

function foldPart(facts: Fold, part: SnapshotPart): void {
  if (part.collector?.host) facts.host = part.collector.host;
  if (part.period) {
    facts.since = Date.parse(part.period.since);
    facts.until = Date.parse(part.period.until);
  }
  for (const fact of part.unreadable ?? []) {
    const list = facts.unreadable.get(fact.subject) ?? [];
    if (!list.includes(fact.permission)) list.push(fact.permission);
    facts.unreadable.set(fact.subject, list);
  }
  const repository = part.repository;
  if (repository) {
    const permissions: string[] = [];
    if (repository.collectionError !== null && !repository.branchRules.known) {
      permissions.push(repository.branchRules.permission);
    }
    facts.repositories.set(repository.fullName, {
      branches: repository.productionBranches,
      error: repository.collectionError,
      permissions,
    });
  }
  const cr = part.changeRequest;
  if (cr && cr.state === "merged" && cr.mergedAt) {
    facts.merges.push({
      repository: cr.repository,
      number: cr.number,
      baseBranch: cr.baseBranch,
      mergedAt: cr.mergedAt,
    });
  }
}

/** A repository not collected also misses what the snapshot's unreadable facts name for it. */
function finishFold(facts: Fold): void {
  for (const [name, repository] of facts.repositories) {
    if (repository.error === null) continue;
    for (const permission of facts.unreadable.get(name) ?? []) {
      if (!repository.permissions.includes(permission)) repository.permissions.push(permission);
    }
  }
}

function audited(facts: Pick<CollectedAudit, "host" | "since" | "until">): void {
  if (!facts.host || Number.isNaN(facts.since) || Number.isNaN(facts.until)) {
    throw new Error("it names no host or period");
  }
}

/** What an audit collected, from its snapshot's parts. */
export async function collectedOf(
  label: string,
  parts: AsyncIterable<SnapshotPart> | Iterable<SnapshotPart>,
): Promise<CollectedAudit> {
  const facts = emptyFold();
  for await (const part of parts) foldPart(facts, part);
  finishFold(facts);
  audited(facts);
  const { host, since, until, repositories, merges } = facts;
  return { label, host, since, until, repositories, merges };
}

/** A snapshot held whole, as the parts a stored one is read in. */
export function* snapshotParts(snapshot: Snapshot): Generator<SnapshotPart> {
  yield { collector: snapshot.collector, period: snapshot.period, unreadable: snapshot.unreadable };
  for (const repository of snapshot.repositories) yield { repository };
  for (const changeRequest of snapshot.changeRequests) yield { changeRequest };
}

/** The summary an audit run's record carries of its snapshot. */
export function collectedSummary(snapshot: Snapshot): CollectedSummary {
  const facts = emptyFold();
  for (const part of snapshotParts(snapshot)) foldPart(facts, part);
  finishFold(facts);
  return {
    repositories: [...facts.repositories].map(([name, r]) => [name, r.branches, r.error, r.permissions]),
    merges: facts.merges.map((m) => [m.repository, m.number, m.baseBranch, m.mergedAt]),
  };
}

/** What an audit collected, from the summary its record carries (its host and period are the record's). */
export function collectedFromSummary(
  label: string,
  host: string,
  period: { since: string; until: string },
  summary: CollectedSummary,
): CollectedAudit {
  const facts = { host, since: Date.parse(period.since), until: Date.parse(period.until) };
  audited(facts);
  const repositories = new Map<string, RepositoryFacts>();
  for (const [name, branches, error, permissions] of summary.repositories) {
    repositories.set(name, { branches, error, permissions });
  }
  const merges = summary.merges.map(([repository, number, baseBranch, mergedAt]) => ({
    repository,
    number,
    baseBranch,
    mergedAt,
  }));
  return { label, ...facts, repositories, merges };
}

/** What an audit collected of one repository: kept per repository by an audit streamed to disk. */
export interface CollectedRepositoryFacts {
  name: string;
  facts: RepositoryFacts;
  /**
   * Its merges as the summary carries them: one small array per merge, kept until the audit ends
   * and then put into the summary as they are (100,000 merges: no second copy, no object each).
   */
  merges: CollectedSummary["merges"];
}

/** One repository's part of collectedSummary, folded as soon as it is collected. */
export function collectedOfRepository(
  repository: Snapshot["repositories"][number],
  changeRequests: Iterable<Snapshot["changeRequests"][number]>,
): CollectedRepositoryFacts {
  const facts = emptyFold();
  foldPart(facts, { repository });
  for (const changeRequest of changeRequests) foldPart(facts, { changeRequest });
  return {
    name: repository.fullName,
    facts: facts.repositories.get(repository.fullName)!,
    merges: facts.merges.map((m) => [m.repository, m.number, m.baseBranch, m.mergedAt]),
  };
}

/**
 * collectedSummary of a snapshot streamed to disk: its unreadable facts, then each repository's
 * part in the snapshot's order. The same summary as collectedSummary of the whole snapshot.
 */
export function collectedSummaryOf(
  unreadable: NonNullable<SnapshotPart["unreadable"]>,
  repositories: Iterable<CollectedRepositoryFacts>,
): CollectedSummary {
  const facts = emptyFold();
  foldPart(facts, { unreadable });
  const merges: CollectedSummary["merges"] = [];
  for (const repository of repositories) {
    facts.repositories.set(repository.name, {
      branches: repository.facts.branches,
      error: repository.facts.error,
      permissions: [...repository.facts.permissions],
    });
    for (const merge of repository.merges) merges.push(merge);
  }
  finishFold(facts);
  return {
    repositories: [...facts.repositories].map(([name, r]) => [name, r.branches, r.error, r.permissions]),
    merges,
  };
}
