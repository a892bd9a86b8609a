import { readFile } from "node:fs/promises";
import { UsageError } from "../errors.js";
import { gitHubApiUrl } from "./github/api-origin.js";
import { GitHubOctokit } from "./github/client.js";
import { createGitHubClient, createGitHubHost } from "./github/index.js";
import { createGitLabHost } from "./gitlab/index.js";
import type { CodeHost } from "./types.js";

export type { CodeHost } from "./types.js";

/**
 * Builds the code host the command line talks to, from the environment:
 * GitHub: GITHUB_TOKEN, or APP_ID + PRIVATE_KEY (or PRIVATE_KEY_PATH) [+ INSTALLATION_ID];
 *         GITHUB_API_URL for GitHub Enterprise Server (Probot's GHE_HOST is read the same way: see
 *         gitHubApiUrl, which refuses the two naming different hosts).
 * GitLab: GITLAB_TOKEN; GITLAB_URL for a self-managed instance.
 * The credentials are never printed.
 */
export async function hostFromEnvironment(
  kind: "github" | "gitlab",
  organization: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ host: CodeHost; stats: () => { requests: number; graphqlPoints?: number } }> {
  if (kind === "gitlab") {
    if (!env.GITLAB_TOKEN)
      throw new UsageError("set GITLAB_TOKEN (a token with read_api scope) to audit a GitLab group");
    const host = createGitLabHost({
      baseUrl: env.GITLAB_URL ?? "https://gitlab.com",
      token: env.GITLAB_TOKEN,
    });
    return { host, stats: () => ({ requests: host.stats.requests }) };
  }
  const baseUrl = gitHubApiUrl(env);
  if (env.GITHUB_TOKEN) {
    const octokit = createGitHubClient({ token: env.GITHUB_TOKEN, baseUrl });
    return { host: createGitHubHost({ octokit, baseUrl }), stats: () => octokit.stats };
  }
  const privateKey =
    env.PRIVATE_KEY ?? (env.PRIVATE_KEY_PATH ? await readFile(env.PRIVATE_KEY_PATH, "utf8") : undefined);
  if (env.APP_ID && privateKey) {
    const installationId = env.INSTALLATION_ID
      ? Number(env.INSTALLATION_ID)
      : await findInstallation(env.APP_ID, privateKey, baseUrl, organization);
    const octokit = createGitHubClient({ appId: env.APP_ID, privateKey, installationId, baseUrl });
    return { host: createGitHubHost({ octokit, baseUrl }), stats: () => octokit.stats };
  }
  throw new UsageError(
    "set GITHUB_TOKEN, or APP_ID with PRIVATE_KEY or PRIVATE_KEY_PATH (and optionally INSTALLATION_ID), to audit a GitHub organization",
  );
}

async function findInstallation(
  appId: string,
  privateKey: string,
  baseUrl: string,
  org: string,
): Promise<number> {
  const app = new GitHubOctokit({ auth: { appId, privateKey }, baseUrl });
  try {
    const { data } = await app.request("GET /orgs/{org}/installation", { org });
    return data.id;
  } catch {
    throw new UsageError(`the GitHub App ${appId} is not installed on "${org}" (or set INSTALLATION_ID)`);
  }
}
