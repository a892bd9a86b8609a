import { isDeepStrictEqual } from "node:util";
import { PolicyError, ProviderError, unreachableErrorIn } from "../errors.js";
import {
  SNAPSHOT_SCHEMA_VERSION,
  uncollectedRepository,
  unreadable,
  type ChangeRequest,
  type DirectPush,
  type Organization,
  type PolicyFile,
  type Repository,
  type Snapshot,
  type UnreadableFact,
} from "../model/index.js";
import { globMatch, isProductionBranch } from "../policy/index.js";
import type { Policy } from "../policy/types.js";
import type { CodeHost } from "../providers/types.js";
import { TOOL_VERSION } from "../version.js";
import { mapLimit } from "./concurrency.js";
import { policyOf } from "./policies.js";
import { accessReviewsPart } from "./access-reviews.js";

/** Repositories whose facts a host may read ahead together (prefetchRepositories). */
const REPOSITORY_CHUNK = 50;

/**
 * Merged changes of one repository handed on at once, when the visitor takes them in chunks
 * (AuditVisitor.changes): a repository with thousands is judged and written a chunk at a time.
 */
export const CHANGE_CHUNK = 500;

export interface AuditProgress {
  phase: "organization" | "repositories" | "repository" | "done";
  done: number;
  total: number;
  repository?: string;
  changeRequests: number;
}

export interface AuditOptions {
  host: CodeHost;
  organization: string;
  since: Date;
  until: Date;
  /** Policy files given on the command line: they join the organization layer. */
  policyFiles?: { file: string; text: string }[];
  /** Repositories collected at once: bounded so the API quota is spent evenly. */
  concurrency?: number;
  /** When given, the collection time recorded in the snapshot (tests); otherwise the clock. */
  now?: () => Date;
  /** Merged changes handed on at once within a repository (AuditVisitor.changes); CHANGE_CHUNK. */
  changeChunk?: number;
  onProgress?: (progress: AuditProgress) => void;
}

/**
 * Collects everything an audit of one organization needs, for one period, into a snapshot. A
 * repository that fails to collect is recorded with its error (its controls are unknown) and the
 * audit goes on; a broken policy stops the audit with the policy error. The whole organization is
 * held at once: an audit that must stay small uses collectAuditStream.
 */
export async function collectAudit(options: AuditOptions): Promise<Snapshot> {
  const collected: CollectedRepository[] = [];
  const header = await collectAuditStream(options, {
    repository(repository, index) {
      collected[index] = repository;
    },
  });
  return {
    ...header.snapshot,
    repositories: collected.map((c) => c.repository),
    changeRequests: collected.flatMap((c) => c.changeRequests),
    directPushes: collected.flatMap((c) => c.directPushes),
    policyFiles: [...header.policyFiles, ...collected.flatMap((c) => c.policyFiles)],
  };
}

/** What an audit knows before its first repository: the organization, its policy, the repositories. */
export interface AuditStart {
  collector: Snapshot["collector"];
  organization: Organization;
  /** The organization's policy files (the repositories' own come with each repository). */
  policyFiles: PolicyFile[];
  policy: Policy;
  /** The repositories audited, in the snapshot's order (by name). */
  repositories: string[];
}

/** The snapshot without its per-repository parts, known once every repository was collected. */
export interface AuditHeader {
  snapshot: Omit<Snapshot, "repositories" | "changeRequests" | "directPushes" | "policyFiles" | "asOfMerge">;
  /** The organization's policy files: the snapshot's policyFiles start with these. */
  policyFiles: PolicyFile[];
}

export interface AuditVisitor {
  /** Called once, after the organization and the list of repositories were read. */
  start?(start: AuditStart): Promise<void> | void;
  /**
   * Called for each repository as soon as it is collected, at most `concurrency` at once, in any
   * order (index is its place in the snapshot); the next repository is collected when it returns, so
   * the audit holds only the repositories being collected or visited.
   */
  repository(collected: CollectedRepository, index: number): Promise<void> | void;
  /**
   * When given, a repository's merged changes come here as they are read, `changeChunk` at a time,
   * with its facts and own policy files (what they are judged by); `repository` then brings the
   * rest of them, its direct pushes and its facts. The audit holds a chunk, not the repository.
   */
  changes?(chunk: ChangeChunk, index: number): Promise<void> | void;
  /**
   * The chunks given to `changes` for this repository do not count: its collection failed after
   * them (half a population is worse than none), and `repository` brings it with its error.
   */
  discard?(index: number): Promise<void> | void;
}

/** A chunk of one repository's merged changes, in the host's order, with what they are judged by. */
export interface ChangeChunk {
  repository: Repository;
  policyFiles: PolicyFile[];
  changeRequests: ChangeRequest[];
}

/**
 * collectAudit one repository at a time: each repository's facts, changes and direct pushes are
 * handed to the visitor as soon as they are collected and are not kept; what is left is the header.
 */
export async function collectAuditStream(options: AuditOptions, visitor: AuditVisitor): Promise<AuditHeader> {
  const { host, organization: login } = options;
  const now = options.now ?? (() => new Date());
  const credentials = await host.describeCredentials();
  const policyFiles = await readOrganizationPolicy(host, login, options.policyFiles ?? []);
  const policy = policyOf(policyFiles);
  const notes = policyFiles.length === 0 ? [defaultPolicyApplied(host, login)] : [];

  const progress: AuditProgress = { phase: "organization", done: 0, total: 0, changeRequests: 0 };
  options.onProgress?.(progress);
  const organization = await collectOrganizationSafely(host, login);

  const names: string[] = [];
  for await (const fullName of host.listRepositories(login)) {
    if (selected(policy, fullName)) names.push(fullName);
  }
  names.sort();
  Object.assign(progress, { phase: "repositories", total: names.length });
  options.onProgress?.(progress);
  const collector: Snapshot["collector"] = {
    tool: "soc2-bot",
    version: TOOL_VERSION,
    host: host.host,
    baseUrl: host.baseUrl,
    actor: credentials.actor,
    permissions: credentials.permissions,
  };
  await visitor.start?.({ collector, organization, policyFiles, policy, repositories: names });

  const period = { since: options.since, until: options.until };
  // A host that reads many repositories' facts in one request (prefetchRepositories) does so a
  // chunk at a time, when the first repository of the chunk is reached: no barrier between chunks
  // (one long repository does not hold the others back), and the host holds at most two chunks.
  const chunks = new Map<number, Promise<void>>();
  const readAhead = (index: number): Promise<void> => {
    const chunk = Math.floor(index / REPOSITORY_CHUNK);
    let read = chunks.get(chunk);
    if (!read) {
      const start = chunk * REPOSITORY_CHUNK;
      read =
        host.prefetchRepositories?.(names.slice(start, start + REPOSITORY_CHUNK), policy, period) ??
        Promise.resolve();
      chunks.set(chunk, read);
    }
    return read;
  };
  const chunkSize = Math.max(1, options.changeChunk ?? CHANGE_CHUNK);
  await mapLimit(names, options.concurrency ?? 4, async (fullName, index) => {
    await readAhead(index);
    let streamed = 0;
    const changes = visitor.changes?.bind(visitor);
    const chunks: ChunkSink | undefined = changes && {
      size: chunkSize,
      async take(chunk) {
        await changes(chunk, index);
        streamed += chunk.changeRequests.length;
      },
      async discard() {
        streamed = 0;
        await visitor.discard?.(index);
      },
    };
    const organizationPolicy = { policy, files: policyFiles };
    const result = await collectOneRepository(host, fullName, organizationPolicy, period, login, chunks);
    await visitor.repository(result, index);
    progress.done += 1;
    progress.changeRequests += streamed + result.changeRequests.length;
    options.onProgress?.({ ...progress, phase: "repository", repository: fullName });
  });

  options.onProgress?.({ ...progress, phase: "done" });
  return {
    snapshot: {
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      collector,
      collectedAt: now().toISOString(),
      period: { since: options.since.toISOString(), until: options.until.toISOString() },
      unreadable: [...notes, ...host.drainUnreadable()],
      organization,
      // The access reviews in the findings repository, when the policy judges them.
      ...(await accessReviewsPart(host, login, policy)),
    },
    policyFiles,
  };
}

async function readOrganizationPolicy(
  host: CodeHost,
  login: string,
  given: { file: string; text: string }[],
): Promise<PolicyFile[]> {
  const repository = host.policyLocation.organizationRepository(login);
  // Only "no such file" (null) means the default applies. Any other failure (a 5xx, a rate limit,
  // a refusal, a symlink or submodule at the path) stops the audit with its reason: judging a whole
  // organization by the default policy because its own could not be read would be a silent guess.
  const text = await host.readFile(repository, host.policyLocation.file);
  const files: PolicyFile[] =
    text === null
      ? []
      : [
          {
            layer: "organization",
            repository: null,
            path: `${repository}:${host.policyLocation.file}`,
            content: text,
          },
        ];
  return [
    ...files,
    ...given.map((g) => ({
      layer: "organization" as const,
      repository: null,
      path: g.file,
      content: g.text,
    })),
  ];
}

/**
 * The organization's policy file was not found. Both hosts answer 404 alike for no such file and
 * for a repository these credentials cannot see (an app not installed on it): the report says the
 * shipped default was applied, and why it may not be the organization's intent.
 */
function defaultPolicyApplied(host: CodeHost, login: string): UnreadableFact {
  const repository = host.policyLocation.organizationRepository(login);
  return {
    subject: repository,
    what: `organization policy ${host.policyLocation.file}`,
    permission: `read access to ${repository} (a missing file and a repository these credentials cannot see both answer 404)`,
    reason: "not found: the shipped default policy was applied to the organization",
  };
}

async function collectOrganizationSafely(host: CodeHost, login: string): Promise<Organization> {
  try {
    return await host.collectOrganization(login);
  } catch (error) {
    // A host gone away is no fact of the organization's: the run stops (exit 3), not reads on.
    if (!(error instanceof ProviderError) || unreachableErrorIn(error)) throw error;
    // Every organization fact becomes unknown: the controls say so instead of passing silently.
    const fact = unreadable(error.details.permission ?? "organization read access", error.message);
    return {
      login,
      url: "",
      twoFactorRequired: fact,
      basePermission: fact,
      members: fact,
      membersWithoutTwoFactor: fact,
      invitations: fact,
      outsideCollaborators: fact,
    };
  }
}

/** One repository as collected: its facts, merged changes, direct pushes and own policy file. */
export interface CollectedRepository {
  repository: Repository;
  changeRequests: ChangeRequest[];
  directPushes: DirectPush[];
  policyFiles: PolicyFile[];
}

/** Where a repository's merged changes go a chunk at a time, when the visitor takes them so. */
interface ChunkSink {
  size: number;
  take(chunk: ChangeChunk): Promise<void>;
  discard(): Promise<void>;
}

/** An error of the visitor's, not of the collection: it stops the audit, as the visitor's errors do. */
class VisitorError {
  constructor(readonly error: unknown) {}
}

async function collectOneRepository(
  host: CodeHost,
  fullName: string,
  organization: { policy: Policy; files: readonly PolicyFile[] },
  period: { since: Date; until: Date },
  login: string,
  chunks?: ChunkSink,
): Promise<CollectedRepository> {
  const empty = { changeRequests: [], directPushes: [], policyFiles: [] };
  let repository: Repository;
  try {
    repository = await host.collectRepository(fullName, organization.policy);
  } catch (error) {
    if (unreachableErrorIn(error)) throw error;
    return { ...empty, repository: failedRepository(fullName, error) };
  }
  if (repository.collectionError !== null) return { ...empty, repository };

  let handedOn = false;
  try {
    const policyFiles = await readRepositoryPolicy(host, repository, login);
    // The engine judges the repository by its own layer: when that layer names other production
    // branches, the repository is collected again under it, so the protection of, and the direct
    // pushes to, a branch only the repository's layer makes production are not silently left out.
    const own = repositoryPolicy(organization, policyFiles);
    if (own && !isDeepStrictEqual(own.productionBranches, organization.policy.productionBranches)) {
      repository = await host.collectRepository(fullName, own);
      if (repository.collectionError !== null) return { ...empty, repository, policyFiles };
    }
    const isProduction = productionBranchTest(organization, own, repository.defaultBranch);
    // Only the SHAs of the changes are kept for the direct pushes: the changes themselves go on in
    // chunks when the visitor takes them so (a repository of thousands is never held whole).
    let changeRequests: ChangeRequest[] = [];
    const mergedShas = new Set<string>();
    for await (const cr of host.listMergedChangeRequests(fullName, isProduction, period)) {
      changeRequests.push(cr);
      mergedShas.add(cr.headSha);
      if (cr.mergeCommitSha) mergedShas.add(cr.mergeCommitSha);
      if (chunks && changeRequests.length >= chunks.size) {
        const chunk = { repository, policyFiles, changeRequests };
        changeRequests = [];
        handedOn = true;
        await chunks.take(chunk).catch((error: unknown) => {
          throw new VisitorError(error);
        });
      }
    }
    const directPushes: DirectPush[] = [];
    for (const branch of repository.productionBranches) {
      for await (const push of host.listDirectPushes(fullName, branch, period, mergedShas))
        directPushes.push(push);
    }
    return { repository, changeRequests, directPushes, policyFiles };
  } catch (error) {
    if (error instanceof VisitorError) throw error.error;
    if (unreachableErrorIn(error)) throw error;
    // Half a population is worse than none: the repository's changes are all unknown, not partial
    // (those already handed on in chunks are discarded).
    if (handedOn && chunks) await chunks.discard();
    return { ...empty, repository: { ...repository, collectionError: describe(error) } };
  }
}

/**
 * Which merged changes belong to the population: those into a production branch by name, under the
 * organization's policy or the repository's own layer (the engine judges each change by the
 * latter), whether or not the branch still exists. A repository layer that does not parse selects
 * nothing more here; evaluating the snapshot reports its error.
 */
function productionBranchTest(
  organization: { policy: Policy },
  own: Policy | null,
  defaultBranch: string,
): (branch: string) => boolean {
  const policies = own ? [organization.policy, own] : [organization.policy];
  return (branch) => policies.some((policy) => isProductionBranch(policy, defaultBranch, branch));
}

/**
 * The policy in force for a repository with its own layer, or null when it has none or the layer
 * does not parse (evaluating the snapshot reports that error).
 */
function repositoryPolicy(
  organization: { files: readonly PolicyFile[] },
  repositoryFiles: readonly PolicyFile[],
): Policy | null {
  if (repositoryFiles.length === 0) return null;
  try {
    return policyOf([...organization.files, ...repositoryFiles]);
  } catch (error) {
    if (!(error instanceof PolicyError)) throw error;
    return null;
  }
}

async function readRepositoryPolicy(
  host: CodeHost,
  repository: Repository,
  login: string,
): Promise<PolicyFile[]> {
  if (repository.fullName === host.policyLocation.organizationRepository(login)) return [];
  const text = await host.readFile(repository.fullName, host.policyLocation.file, repository.defaultBranch);
  if (text === null) return [];
  return [
    {
      layer: "repository",
      repository: repository.fullName,
      path: `${repository.fullName}:${host.policyLocation.file}@${repository.defaultBranch}`,
      content: text,
    },
  ];
}

function failedRepository(fullName: string, error: unknown): Repository {
  return uncollectedRepository(
    fullName,
    "",
    { permission: "repository read access", reason: describe(error) },
    describe(error),
  );
}

function describe(error: unknown): string {
  if (error instanceof ProviderError || error instanceof PolicyError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

function selected(policy: Policy, fullName: string): boolean {
  const name = fullName.slice(fullName.indexOf("/") + 1);
  const matches = (pattern: string) => globMatch(pattern, name) || globMatch(pattern, fullName);
  if (policy.audit.include.length > 0 && !policy.audit.include.some(matches)) return false;
  return !policy.audit.exclude.some(matches);
}
