/** Octokit glue: errors into ProviderError or Unreadable, repository names, the host's shared state. */
import { ProviderError } from "../../errors.js";
import {
  known,
  unreadable,
  type BranchRule,
  type Known,
  type Permission,
  type Unreadable,
  type UnreadableFact,
} from "../../model/index.js";
import type { GitHubClient } from "./client.js";
import type { z } from "zod";
import type { PrefetchedMergedPage, PrefetchedRepository, RulesetWithRules } from "./repository-batch.js";

export interface GitHubLog {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
}

/** What every part of the provider shares for one host instance (no module-level state). */
/**
 * Probot's config convention, where this host keeps policy files: a repository's own layer at
 * POLICY_FILE, the organization's in its POLICY_REPOSITORY repository at the same path.
 */
export const POLICY_FILE = ".github/soc2.yml";
export const POLICY_REPOSITORY = ".github";

export interface GitHubContext {
  octokit: GitHubClient;
  log: GitHubLog;
  baseUrl: string;
  unreadable: UnreadableFact[];
  /** Effective branch rules read once per branch: a PR collection and its repository share them. */
  branchRules: Map<string, Promise<Known<BranchRule>>>;
  /**
   * Repository settings from the organization's listing, by lower-cased full name: the listing
   * already carries what GET /repos/{owner}/{repo} would, so an audit need not ask again.
   */
  listedRepositories: Map<string, ListedRepository>;
  /** Outside collaborators of each organization whose list could be read, by lower-cased login. */
  outsideCollaborators: Map<string, ReadonlySet<string>>;
  /**
   * Repository facts read ahead in batches (prefetchRepositories), by lower-cased full name: each
   * used once by collectRepository and readFile, the rest dropped by the next batch.
   */
  prefetched?: Map<string, PrefetchedRepository>;
  /**
   * The first page of each repository's merged pull requests, read with its batch (by lower-cased
   * full name): taken once by listMergedChangeRequests, or dropped with its batch's facts.
   */
  prefetchedMergedPages?: Map<string, PrefetchedMergedPage>;
  /** Policy files the change check's query read, by repository, path and ref, until readFile takes them (once). */
  changeCheckFiles?: Map<string, string | null>;
  /** Of the first pages taken so far, how many held their listing whole (whether they pay). */
  mergedPagesTaken?: { taken: number; whole: number };
  /** How many prefetch calls this host has answered (each entry says which read it). */
  prefetchGeneration?: number;
  /** Each organization's teams by repository, walked once; null when the walk could not finish. */
  organizationTeams?: Map<string, Promise<Map<string, { slug: string; permission: Permission }[]> | null>>;
  /**
   * Organization rulesets read by the repository batch, by "owner:id" (lower-cased owner): the
   * same object for every repository it applies to.
   */
  organizationRulesets?: Map<string, z.infer<typeof RulesetWithRules>>;
  /** GitHub's recorded bypasses (rule suites) read once per branch; null when unreadable. */
  bypassRecords?: Map<
    string,
    Promise<ReadonlyMap<string, { actor: string | null; at: string | null }> | null>
  >;
}

/** The settings of a repository as GET /orgs/{org}/repos and GET /repos/{owner}/{repo} both give them. */
export interface ListedRepository {
  full_name: string;
  html_url: string;
  visibility?: "public" | "private" | "internal" | undefined;
  private: boolean;
  archived: boolean;
  default_branch: string;
}

export interface FailedRequest {
  status: number | undefined;
  message: string;
  headers: Record<string, string | undefined>;
}

/** Reads what octokit's RequestError carries, without trusting its type. */
export function describeFailure(error: unknown): FailedRequest {
  if (typeof error !== "object" || error === null)
    return { status: undefined, message: String(error), headers: {} };
  const e = error as {
    status?: unknown;
    message?: unknown;
    response?: { headers?: unknown; data?: unknown };
  };
  const data = e.response?.data as { message?: unknown } | undefined;
  const message =
    typeof data?.message === "string" ? data.message : typeof e.message === "string" ? e.message : "";
  const headers = (typeof e.response?.headers === "object" && e.response.headers) || {};
  return {
    status: typeof e.status === "number" ? e.status : undefined,
    message,
    headers: headers as Record<string, string | undefined>,
  };
}

export function failureReason(error: unknown): string {
  const { status, message } = describeFailure(error);
  return status === undefined ? message : `${status} ${message}`.trim();
}

/** 403 or 404: GitHub's way of saying the credentials may not read this. */
export function isForbidden(error: unknown): boolean {
  const { status, headers, message } = describeFailure(error);
  // A rate limit is no missing permission: it must fail loudly, not turn facts into "unknown".
  if (headers["x-ratelimit-remaining"] === "0" || /rate limit/i.test(message)) return false;
  return status === 403 || status === 404;
}

/** Wraps any failure of a request as a ProviderError that says what was being read. */
export function providerError(error: unknown, what: string, permission?: string): ProviderError {
  if (error instanceof ProviderError) return error;
  const { status, message, headers } = describeFailure(error);
  if ((status === 403 || status === 429) && headers["x-ratelimit-remaining"] === "0") {
    const reset = Number(headers["x-ratelimit-reset"]);
    const until = Number.isFinite(reset) && reset > 0 ? new Date(reset * 1000).toISOString() : "the reset";
    return new ProviderError(`GitHub API rate limit exhausted while reading ${what}; it resets at ${until}`, {
      host: "github",
      status,
      cause: error,
    });
  }
  return new ProviderError(
    `GitHub could not read ${what}: ${status ?? ""} ${message}`.replace(/ {2,}/g, " "),
    {
      host: "github",
      status,
      permission,
      cause: error,
    },
  );
}

/** Records a fact the credentials could not read, and returns it as the fact's value. */
/**
 * Reads a fact that the token may not be allowed to see: 403/404 (and any extra status GitHub uses
 * for "not for you", like the 422 of the 2FA filter for non-owners) make it unreadable, naming the
 * permission; anything else fails as a ProviderError saying what was being read.
 */
export async function readKnown<T>(
  ctx: GitHubContext,
  subject: string,
  what: string,
  permission: string,
  read: () => Promise<T>,
  unreadableStatuses: readonly number[] = [],
): Promise<Known<T>> {
  try {
    return known(await read());
  } catch (error) {
    const status = (error as { status?: unknown } | null)?.status;
    if (isForbidden(error) || (typeof status === "number" && unreadableStatuses.includes(status))) {
      return recordUnreadable(ctx, subject, what, permission, error);
    }
    throw providerError(error, `${what} of ${subject}`, permission);
  }
}

export function recordUnreadable(
  ctx: GitHubContext,
  subject: string,
  what: string,
  permission: string,
  error: unknown,
): Unreadable {
  const fact = unreadable(permission, failureReason(error));
  ctx.unreadable.push({ subject, what, permission, reason: fact.reason });
  ctx.log.debug(`${subject}: ${what} unreadable (${fact.reason}); needs ${permission}`);
  return fact;
}

export function splitFullName(fullName: string): { owner: string; repo: string } {
  const [owner, repo, ...rest] = fullName.split("/");
  if (!owner || !repo || rest.length > 0) {
    throw new ProviderError(`"${fullName}" is not a GitHub repository name (owner/name)`, { host: "github" });
  }
  return { owner, repo };
}

/** The web address matching an API base URL (api.github.com → github.com, GHES …/api/v3 → …). */
export function webUrl(baseUrl: string): string {
  if (/^https:\/\/api\.github\.com\/?$/.test(baseUrl)) return "https://github.com";
  return baseUrl.replace(/\/api\/v3\/?$/, "").replace(/\/$/, "");
}

/** Adds the GraphQL cost an answer reported to the client's counters, when it keeps them. */
export function countGraphqlCost(ctx: GitHubContext, rateLimit: { cost: number } | null | undefined): void {
  if (ctx.octokit.stats && rateLimit) {
    ctx.octokit.stats.graphqlPoints = (ctx.octokit.stats.graphqlPoints ?? 0) + rateLimit.cost;
  }
}
