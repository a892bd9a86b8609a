/**
 * The change check as a commit status, for a token that may not write check runs (a personal access
 * token: only GitHub Apps write check runs; the GitHub Action's fallback). A status has no
 * "neutral": a check that waits for required checks still running is "pending", which is what it is.
 */
import type { CheckReport } from "../types.js";
import type { GitHubClient } from "./client.js";
import { writeError } from "./writing.js";

/** GitHub keeps a status description short; a longer one is refused (422). */
export const STATUS_DESCRIPTION_CHARACTERS = 140;

const STATE = { success: "success", failure: "failure", neutral: "pending" } as const;

export async function publishCommitStatus(
  octokit: GitHubClient,
  target: { repository: string; headSha: string },
  check: CheckReport,
  /** Where the whole report is (the workflow run's summary); a status holds one line. */
  targetUrl?: string,
): Promise<void> {
  const [owner = "", repo = ""] = target.repository.split("/");
  const characters = [...check.title];
  const description =
    characters.length > STATUS_DESCRIPTION_CHARACTERS
      ? `${characters.slice(0, STATUS_DESCRIPTION_CHARACTERS - 1).join("")}…`
      : check.title;
  try {
    await octokit.request("POST /repos/{owner}/{repo}/statuses/{sha}", {
      owner,
      repo,
      sha: target.headSha,
      state: STATE[check.conclusion],
      context: check.name,
      description,
      ...(targetUrl === undefined ? {} : { target_url: targetUrl }),
    });
  } catch (error) {
    throw writeError(
      error,
      `commit status "${check.name}" on ${target.repository}@${target.headSha}`,
      "statuses:write",
    );
  }
}
