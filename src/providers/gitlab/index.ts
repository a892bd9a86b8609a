import type { CodeHost } from "../types.js";
import { gitLabAccessReviews } from "./access-reviews.js";
import { createGitLabClient, encodePath, type GitLabLogger } from "./client.js";
import { collectChangeRequest } from "./change-request.js";
import { createContext, isForbidden, isNotFound } from "./context.js";
import { readFile } from "./files.js";
import { listDirectPushes, listMergedChangeRequests } from "./history.js";
import { UnreadableLog } from "./map.js";
import { collectOrganization } from "./organization.js";
import { collectRepository } from "./repository.js";
import { CurrentUserWire, MergeRequestWire, TokenSelfWire } from "./schema.js";
import { gitLabIssues, publishChangeCheck } from "./writes.js";

export { GitLabHttpError } from "./client.js";
export { GITLAB_REVIEW_STATUS_NAME, GITLAB_STATUS_NAME } from "./writes.js";

export interface GitLabHostOptions {
  /** Instance URL (GITLAB_URL); https://gitlab.com by default. */
  baseUrl?: string;
  token: string;
  fetch?: typeof fetch;
  log?: GitLabLogger;
  /** Longest rate-limit wait (ms) before giving up; 60 s by default. */
  maxWaitMs?: number;
  /** For tests: how to wait between retries. */
  sleep?: (ms: number) => Promise<void>;
}

export interface GitLabHost extends CodeHost {
  readonly host: "gitlab";
  /** Requests sent, retries included: the API quota is the scarce resource. */
  readonly stats: { requests: number };
}

export function createGitLabHost(options: GitLabHostOptions): GitLabHost {
  const baseUrl = (options.baseUrl ?? "https://gitlab.com").replace(/\/+$/, "");
  const client = createGitLabClient({
    baseUrl,
    token: options.token,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.log ? { log: options.log } : {}),
    ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  });
  const unreadable = new UnreadableLog();
  const context = createContext(client, unreadable);
  let me: Promise<string> | undefined;
  const actor = (): Promise<string> => {
    me ??= client.get("/user", CurrentUserWire).then((user) => user.username);
    return me;
  };

  return {
    host: "gitlab",
    baseUrl: client.apiUrl,
    stats: client.stats,
    // A group has no files of its own: its policy lives in the group's special "gitlab-profile"
    // project (the one GitLab already uses for the group README), in the .gitlab folder.
    policyLocation: {
      organizationRepository: (group) => `${group}/gitlab-profile`,
      file: ".gitlab/soc2.yml",
    },
    async describeCredentials(): Promise<{ actor: string; permissions: Record<string, string> }> {
      const username = await actor();
      try {
        const token = await client.get("/personal_access_tokens/self", TokenSelfWire);
        return { actor: username, permissions: { scopes: token.scopes.join(",") } };
      } catch (error) {
        // Group/project access tokens and OAuth tokens cannot always describe themselves.
        if (isForbidden(error) || isNotFound(error)) {
          return { actor: username, permissions: {} };
        }
        throw error;
      }
    },
    collectOrganization: (groupPath) => collectOrganization(context, groupPath),
    listRepositories: (groupPath) => context.groupProjects(groupPath),
    collectRepository: (projectPath, policy) => collectRepository(context, projectPath, policy),
    collectChangeRequest: (projectPath, iid) => collectChangeRequest(context, projectPath, iid),
    async collectChangeContext(projectPath, iid) {
      const changeRequest = await collectChangeRequest(context, projectPath, iid);
      const repository = await collectRepository(context, projectPath, {
        onlyBranch: changeRequest.baseBranch,
      });
      return { changeRequest, repository };
    },
    async changeRequestsForCommit(projectPath, sha) {
      // Every page: a commit can be in the history of many merge requests.
      const iids: number[] = [];
      const mrs = client.pages(
        `/projects/${encodePath(projectPath)}/repository/commits/${encodeURIComponent(sha)}/merge_requests`,
        MergeRequestWire,
      );
      for await (const mr of mrs) if (mr.state === "opened" && mr.sha === sha) iids.push(mr.iid);
      return iids;
    },
    listMergedChangeRequests: (projectPath, branches, period) =>
      listMergedChangeRequests(context, projectPath, branches, period),
    listDirectPushes: (projectPath, branch, period, mergedShas) =>
      listDirectPushes(context, projectPath, branch, period, mergedShas),
    readFile: (projectPath, path, ref) => readFile(context, projectPath, path, ref),
    drainUnreadable: () => unreadable.drain(),
    publishChangeCheck: (target, check) => publishChangeCheck(context, actor, target, check),
    issues: (projectPath) => gitLabIssues(context, projectPath),
    accessReviews: (projectPath) => gitLabAccessReviews(context, projectPath),
  };
}
