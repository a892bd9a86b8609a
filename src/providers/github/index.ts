/** GitHub behind the CodeHost interface. */
import { z } from "zod";
import type { UnreadableFact } from "../../model/index.js";
import type { CodeHost } from "../types.js";
import { DEFAULT_BASE_URL, type GitHubClient } from "./client.js";
import {
  describeFailure,
  POLICY_FILE,
  POLICY_REPOSITORY,
  providerError,
  splitFullName,
  type GitHubContext,
  type GitHubLog,
} from "./http.js";
import { collectOrganization, listRepositories } from "./organization.js";
import {
  changeRequestsForCommit,
  collectChangeContext,
  collectChangeRequest,
  listMergedChangeRequests,
  takeChangeCheckFile,
} from "./pull-requests.js";
import {
  listDirectPushes,
  takeBranchHead,
  type MergedChange,
  type PushRecordSource,
} from "./direct-pushes.js";
import { collectRepository } from "./repository.js";
import { prefetchRepositories, takePrefetchedFile } from "./repository-batch.js";
import { parseAnswer } from "./schema.js";
import { ContentAnswer } from "./rest-schema.js";
import { ProviderError, unreachableErrorIn } from "../../errors.js";
import { issueTracker, publishChangeCheck } from "./writing.js";
import { accessReviews } from "./access-reviews.js";

export {
  createGitHubClient,
  graphqlUrl,
  type ClientStats,
  type GitHubClient,
  type GitHubClientOptions,
} from "./client.js";
export { deriveBypassedProtection } from "./bypass.js";
export { createConditionalCache, useConditionalRequests, type ConditionalCache } from "./conditional.js";
export { mergeRuleSources } from "./branch-rules.js";
export type { PushCheckpoint, PushRecordSource, RecordedPush, RecordedPushCommit } from "./direct-pushes.js";

export interface GitHubHostOptions {
  octokit: GitHubClient;
  /** REST base URL the client talks to (recorded in snapshots); api.github.com by default. */
  baseUrl?: string;
  log?: GitHubLog;
  /** This app's id: check runs of other apps with the same name are then left alone. */
  appId?: number;
  /**
   * The app's record of push webhooks (the ledger's): a branch it proves complete for the period
   * needs no read of GitHub's activity record.
   */
  pushRecord?: PushRecordSource;
}

/** Repositories whose merges are kept for their direct pushes: a few more than an audit collects at once. */
const MERGES_KEPT = 64;
const pushRecords = new WeakMap<CodeHost, (source: PushRecordSource) => void>();

/** Gives a host made by createGitHubHost (e.g. from the environment) the push record to use. */
export function usePushRecord(host: CodeHost, source: PushRecordSource): void {
  pushRecords.get(host)?.(source);
}

const SILENT: GitHubLog = { debug: () => {}, info: () => {}, warn: () => {} };

const InstallationAuth = z.object({
  tokenType: z.literal("installation"),
  installationId: z.number(),
  permissions: z.record(z.string(), z.string()),
});

export function createGitHubHost(options: GitHubHostOptions): CodeHost {
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/$/, "");
  const ctx: GitHubContext = {
    octokit: options.octokit,
    log: options.log ?? SILENT,
    baseUrl,
    unreadable: [],
    branchRules: new Map(),
    listedRepositories: new Map(),
    outsideCollaborators: new Map(),
    bypassRecords: new Map(),
    prefetched: new Map(),
    organizationTeams: new Map(),
  };
  let pushRecord = options.pushRecord;
  // The period's merges of each repository by merge commit, as its listing streamed them: the push
  // record tells a merge's push from a direct push by them. The oldest repositories' are dropped.
  const merges = new Map<string, Map<string, MergedChange>>();
  async function* listMerged(
    repository: string,
    isSelectedBase: (branch: string) => boolean,
    period: { since: Date; until: Date },
  ) {
    const key = repository.toLowerCase();
    const own = new Map<string, MergedChange>();
    merges.delete(key);
    merges.set(key, own);
    for (const old of merges.keys()) {
      if (merges.size <= MERGES_KEPT) break;
      merges.delete(old);
    }
    for await (const change of listMergedChangeRequests(ctx, repository, isSelectedBase, period)) {
      if (pushRecord && change.mergeCommitSha)
        own.set(change.mergeCommitSha, {
          baseBranch: change.baseBranch,
          commits: new Set([change.headSha, ...change.commits.map((c) => c.sha)]),
        });
      yield change;
    }
  }
  const host: CodeHost = {
    host: "github",
    baseUrl,
    // Probot's config convention: the organization's layer lives in its `.github` repository.
    policyLocation: {
      organizationRepository: (login) => `${login}/${POLICY_REPOSITORY}`,
      file: POLICY_FILE,
    },
    describeCredentials: () => describeCredentials(ctx),
    collectOrganization: (login) => collectOrganization(ctx, login),
    listRepositories: (login) => listRepositories(ctx, login),
    prefetchRepositories: (fullNames, policy, period) =>
      prefetchRepositories(ctx, fullNames, policy, period, POLICY_FILE),
    collectRepository: (fullName, policy) => collectRepository(ctx, fullName, policy),
    collectChangeRequest: (repository, number) => collectChangeRequest(ctx, repository, number),
    collectChangeContext: (repository, number) => collectChangeContext(ctx, repository, number),
    changeRequestsForCommit: (repository, sha) => changeRequestsForCommit(ctx, repository, sha),
    listMergedChangeRequests: (repository, branches, period) => listMerged(repository, branches, period),
    listDirectPushes: (repository, branch, period, mergedShas) => {
      const head = takeBranchHead(ctx, repository, branch);
      return listDirectPushes(
        ctx,
        repository,
        branch,
        period,
        mergedShas,
        pushRecord && {
          source: pushRecord,
          head,
          merges: merges.get(repository.toLowerCase()) ?? new Map(),
        },
      );
    },
    readFile: (repository, path, ref) => readFile(ctx, repository, path, ref),
    drainUnreadable(): UnreadableFact[] {
      return ctx.unreadable.splice(0, ctx.unreadable.length);
    },
    publishChangeCheck: (target, check) => publishChangeCheck(ctx, target, check, options.appId),
    issues: (repository) => issueTracker(ctx, repository),
    accessReviews: (repository) => accessReviews(ctx, repository),
  };
  pushRecords.set(host, (source) => {
    pushRecord = source;
  });
  return host;
}

async function describeCredentials(
  ctx: GitHubContext,
): Promise<{ actor: string; permissions: Record<string, string> }> {
  // An app installation knows its permissions from its token; asking costs no request.
  const auth = await Promise.resolve()
    .then(() => ctx.octokit.auth({ type: "installation" }))
    .catch(() => undefined);
  const installation = InstallationAuth.safeParse(auth);
  if (installation.success) {
    return {
      actor: `installation:${installation.data.installationId}`,
      permissions: installation.data.permissions,
    };
  }
  try {
    const answer = await ctx.octokit.request("GET /user");
    const user = parseAnswer(z.object({ login: z.string() }), answer.data, "GET /user");
    const scopes = String(answer.headers["x-oauth-scopes"] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    return { actor: user.login, permissions: Object.fromEntries(scopes.map((s) => [s, "granted"])) };
  } catch (error) {
    if (unreachableErrorIn(error)) throw error;
    ctx.log.warn(`could not tell who the GitHub credentials belong to: ${describeFailure(error).message}`);
    return { actor: "unknown", permissions: {} };
  }
}

/**
 * A policy file's text, or null when GitHub answers a genuine 404 (no such file, or no such
 * repository). Anything else is an error that says why, never "no policy": a directory, a symlink
 * or a submodule at the path, a 5xx, a rate limit. An audit then stops with the reason instead of
 * silently judging by the default policy.
 */
async function readFile(
  ctx: GitHubContext,
  repository: string,
  path: string,
  ref?: string,
): Promise<string | null> {
  const prefetched = takePrefetchedFile(ctx, repository, path, ref);
  if (prefetched !== undefined) return prefetched;
  // A change check's own query read the base branch's policy file moments ago.
  const checked = takeChangeCheckFile(ctx, repository, path, ref);
  if (checked !== undefined) return checked;
  const { owner, repo } = splitFullName(repository);
  const where = `${repository}:${path}${ref ? `@${ref}` : ""}`;
  let answer;
  try {
    answer = await ctx.octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
      owner,
      repo,
      path,
      ...(ref === undefined ? {} : { ref }),
    });
  } catch (error) {
    const failure = describeFailure(error);
    // A 403 of an exhausted rate limit is no "not found"; neither is any other status.
    if (failure.status === 404 && failure.headers["x-ratelimit-remaining"] !== "0") return null;
    throw providerError(error, `file ${where}`, "contents:read");
  }
  const content = parseAnswer(ContentAnswer, answer.data, `contents of ${where}`);
  const notAFile = (what: string) =>
    new ProviderError(`GitHub has ${what} at ${where}, not a policy file: put the policy file itself there`, {
      host: "github",
    });
  if (Array.isArray(content)) throw notAFile("a directory");
  if ("content" in content)
    return Buffer.from(content.content, content.encoding === "base64" ? "base64" : "utf8").toString("utf8");
  if (content.type === "symlink")
    throw notAFile(`a symlink (to ${"target" in content ? content.target : "?"})`);
  if (content.type === "submodule") throw notAFile("a submodule");
  throw notAFile(`a ${content.type}`);
}
