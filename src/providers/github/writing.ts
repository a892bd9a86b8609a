/** The writes reporters ask for: the change-management check run and finding issues. */
import { clipBytes, GITHUB_LIMITS } from "../../reporters/limits.js";
import type { CheckReport, FindingIssue, IssueTracker } from "../types.js";
import { providerError, splitFullName, type GitHubContext } from "./http.js";
import { list } from "./repository.js";
import { CheckRunsAnswer, IssueAnswer, parseAnswer, type IssueAnswer as IssueAnswerType } from "./schema.js";

/** A check run on a head commit, as the pull request's query read it from the commit's rollup. */
export interface HeadCheckRun {
  id: number;
  name: string;
  appId: number | null;
}

/**
 * The check runs of head commits as the change check's own query read them (every context of the
 * head's rollup, to its end), by "owner/repo@sha", for one host: the write that follows then knows
 * whether to update a run or create one without asking GitHub again. Taken once: a later write
 * asks GitHub.
 */
const headCheckRuns = new WeakMap<GitHubContext, Map<string, readonly HeadCheckRun[]>>();

export function rememberHeadCheckRuns(
  ctx: GitHubContext,
  repository: string,
  headSha: string,
  runs: readonly HeadCheckRun[],
): void {
  let runsOf = headCheckRuns.get(ctx);
  if (!runsOf) headCheckRuns.set(ctx, (runsOf = new Map()));
  runsOf.set(`${repository}@${headSha}`, runs);
}

function takeHeadCheckRuns(
  ctx: GitHubContext,
  repository: string,
  headSha: string,
): readonly HeadCheckRun[] | undefined {
  const runsOf = headCheckRuns.get(ctx);
  const key = `${repository}@${headSha}`;
  const runs = runsOf?.get(key);
  runsOf?.delete(key);
  return runs;
}

/**
 * This app's run named `name` on the head: from what the pull request's query read when it read the
 * head's checks to their end, else from GitHub's list of the head's runs (one more request).
 */
async function existingCheckRun(
  ctx: GitHubContext,
  target: { repository: string; headSha: string },
  name: string,
  what: string,
  appId: number | undefined,
): Promise<{ id: number } | undefined> {
  const read = takeHeadCheckRuns(ctx, target.repository, target.headSha);
  if (read) {
    const ours = read.filter((r) => r.name === name && (appId === undefined || r.appId === appId));
    // Of several (a race of two events), the newest, as filter=latest would give.
    return ours.reduce<HeadCheckRun | undefined>((a, b) => (a && a.id > b.id ? a : b), undefined);
  }
  const { owner, repo } = splitFullName(target.repository);
  const existing = await ctx.octokit.request("GET /repos/{owner}/{repo}/commits/{ref}/check-runs", {
    owner,
    repo,
    ref: target.headSha,
    check_name: name,
    filter: "latest",
    per_page: 100,
    ...(appId === undefined ? {} : { app_id: appId }),
  });
  return parseAnswer(CheckRunsAnswer, existing.data, what).check_runs.find((r) => r.name === name);
}

export async function publishChangeCheck(
  ctx: GitHubContext,
  target: { repository: string; number: number; headSha: string },
  check: CheckReport,
  appId?: number,
): Promise<void> {
  const { owner, repo } = splitFullName(target.repository);
  const what = `check run "${check.name}" on ${target.repository}@${target.headSha}`;
  try {
    const run = await existingCheckRun(ctx, target, check.name, what, appId);
    const body = {
      status: "completed" as const,
      conclusion: check.conclusion,
      completed_at: new Date().toISOString(),
      output: checkRunOutput(check),
      ...(check.detailsUrl === undefined ? {} : { details_url: check.detailsUrl }),
    };
    // A re-delivered event must update the run it created before, never add a second one.
    if (run) {
      await ctx.octokit.request("PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}", {
        owner,
        repo,
        check_run_id: run.id,
        ...body,
      });
    } else {
      await ctx.octokit.request("POST /repos/{owner}/{repo}/check-runs", {
        owner,
        repo,
        name: check.name,
        head_sha: target.headSha,
        ...body,
      });
    }
  } catch (error) {
    throw providerError(error, what, "checks:write");
  }
}

/**
 * GitHub refuses the whole check run (422 "summary exceeds a maximum bytesize of 65535") when its
 * output is over the limit, and the pull request would then show no verdict at all: the report is
 * built within the limit, and clipped here, in UTF-8 bytes and visibly, whatever produced it.
 */
export function checkRunOutput(check: Pick<CheckReport, "title" | "summary">): {
  title: string;
  summary: string;
} {
  return {
    title: clipBytes(check.title, GITHUB_LIMITS.checkRunTitleBytes),
    summary: clipBytes(
      check.summary,
      GITHUB_LIMITS.checkRunSummaryBytes,
      (n) => `\n\n… (clipped: ${n} more characters)`,
    ),
  };
}

export function issueTracker(ctx: GitHubContext, repository: string): IssueTracker {
  const { owner, repo } = splitFullName(repository);
  const toIssue = (data: unknown, what: string): FindingIssue =>
    mapIssue(parseAnswer(IssueAnswer, data, what));
  return {
    async listByLabel(label) {
      const issues = await list(
        ctx,
        "GET /repos/{owner}/{repo}/issues",
        { owner, repo, labels: label, state: "all" },
        IssueAnswer,
      ).catch((error: unknown) =>
        Promise.reject(providerError(error, `issues of ${repository}`, "issues:read")),
      );
      // The issues API lists pull requests too; findings are never pull requests.
      return issues.filter((i) => i.pull_request === undefined || i.pull_request === null).map(mapIssue);
    },
    async create(issue) {
      const answer = await ctx.octokit
        .request("POST /repos/{owner}/{repo}/issues", { owner, repo, ...issue })
        .catch((error: unknown) =>
          Promise.reject(providerError(error, `a new issue in ${repository}`, "issues:write")),
        );
      return toIssue(answer.data, `POST /repos/${repository}/issues`);
    },
    async update(number, change) {
      const answer = await ctx.octokit
        .request("PATCH /repos/{owner}/{repo}/issues/{issue_number}", {
          owner,
          repo,
          issue_number: number,
          ...change,
        })
        .catch((error: unknown) =>
          Promise.reject(providerError(error, `issue ${repository}#${number}`, "issues:write")),
        );
      return toIssue(answer.data, `PATCH /repos/${repository}/issues/${number}`);
    },
    async comment(number, body) {
      await ctx.octokit
        .request("POST /repos/{owner}/{repo}/issues/{issue_number}/comments", {
          owner,
          repo,
          issue_number: number,
          body,
        })
        .catch((error: unknown) =>
          Promise.reject(providerError(error, `comments of issue ${repository}#${number}`, "issues:write")),
        );
    },
  };
}

function mapIssue(issue: IssueAnswerType): FindingIssue {
  return {
    number: issue.number,
    title: issue.title,
    body: issue.body ?? "",
    state: issue.state,
    url: issue.html_url,
    labels: issue.labels.flatMap((l) => (typeof l === "string" ? [l] : l.name ? [l.name] : [])),
  };
}
