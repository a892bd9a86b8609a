/** The writes reporters ask for: the change-management check run and finding issues. */
import { clipBytes, GITHUB_LIMITS } from "../../text/limits.js";
import { WriteError, type CheckReport, type FindingIssue, type IssueTracker } from "../types.js";
import { describeFailure, providerError, splitFullName, type GitHubContext } from "./http.js";
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
  const lookUp = (): Promise<{ id: number } | undefined> =>
    existingCheckRun(ctx, target, check.name, what, appId).catch((error: unknown) =>
      Promise.reject(providerError(error, what, "checks:write")),
    );
  let run = await lookUp();
  const body = {
    status: "completed" as const,
    conclusion: check.conclusion,
    completed_at: new Date().toISOString(),
    output: { ...checkRunOutput(check), ...checkRunAnnotations(check) },
    ...(check.detailsUrl === undefined ? {} : { details_url: check.detailsUrl }),
  };
  for (let attempt = 1; ; attempt++) {
    try {
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
          // Not re-sent blindly: a create whose answer was lost may have been applied (below).
          request: { retries: 0 },
        });
      }
      return;
    } catch (error) {
      const failure = writeError(error, run ? `${what} (update)` : what, "checks:write");
      if (failure.write.applied === "no" || attempt >= WRITE_ATTEMPTS) throw failure;
      // The answer was lost: GitHub's list of the head's runs says whether the create was applied,
      // and an update of the run it lists replaces a second create.
      run ??= await lookUp();
    }
  }
}

/** How often a write whose answer was lost is tried, looking before each new try. */
const WRITE_ATTEMPTS = 3;

/**
 * A failed write, as what it is: refused by GitHub (4xx: nothing was written; a 422 names the field
 * and why, e.g. "title is too long (maximum is 256 characters)"), or of unknown outcome (5xx, a
 * timeout, a dropped connection: it may have been applied). Only a 403 or 404 that is no rate limit
 * says the app may not write, and names the permission.
 */
export function writeError(error: unknown, what: string, permission: string): WriteError {
  if (error instanceof WriteError) return error;
  const { status, message, headers } = describeFailure(error);
  const fields = fieldErrors(error);
  const rateLimited =
    (status === 403 || status === 429) &&
    (headers["x-ratelimit-remaining"] === "0" ||
      headers["retry-after"] !== undefined ||
      /rate limit/i.test(message));
  const refused = status !== undefined && status >= 400 && status < 500 && status !== 408;
  const forbidden = !rateLimited && (status === 403 || status === 404);
  const said = [message, ...fields.map((f) => (f.field ? `${f.field}: ${f.message}` : f.message))]
    .filter(Boolean)
    .join("; ");
  const hostMessage = fields.length > 0 ? fields.map((f) => f.message).join("; ") : message;
  const text = refused
    ? `GitHub refused to write ${what}: ${status} ${said}`
    : `GitHub's answer to writing ${what} was lost (${status ?? "no answer"} ${message}): it may have been applied`;
  return new WriteError(text.replace(/ {2,}/g, " ").trim(), {
    host: "github",
    ...(status === undefined ? {} : { status }),
    applied: refused ? "no" : "unknown",
    hostMessage,
    fields: fields.flatMap((f) => (f.field ? [f.field] : [])),
    ...(forbidden ? { permission } : {}),
    cause: error,
  });
}

/** The `errors` of a 422 answer: `{ resource, code, field, message }` objects (or plain strings). */
function fieldErrors(error: unknown): Array<{ field?: string; message: string }> {
  const data = (error as { response?: { data?: unknown } } | null)?.response?.data;
  const errors = (data as { errors?: unknown } | null | undefined)?.errors;
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((entry: unknown) => {
    if (typeof entry === "string") return [{ message: entry }];
    if (typeof entry !== "object" || entry === null) return [];
    const { field, message, code } = entry as { field?: unknown; message?: unknown; code?: unknown };
    const text = typeof message === "string" ? message : typeof code === "string" ? code : "";
    return [{ ...(typeof field === "string" ? { field } : {}), message: text }];
  });
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

/** GitHub takes at most 50 annotations per request; the summary lists every problem anyway. */
const ANNOTATIONS_PER_REQUEST = 50;

interface CheckRunAnnotation {
  path: string;
  start_line: number;
  end_line: number;
  start_column: number;
  end_column: number;
  annotation_level: "failure";
  message: string;
}

function checkRunAnnotations(check: Pick<CheckReport, "annotations">): {
  annotations?: CheckRunAnnotation[];
} {
  if (!check.annotations || check.annotations.length === 0) return {};
  return {
    annotations: check.annotations.slice(0, ANNOTATIONS_PER_REQUEST).map((a) => ({
      path: a.path,
      start_line: a.line,
      end_line: a.line,
      // GitHub takes columns only on a one-line annotation.
      start_column: a.column,
      end_column: a.column,
      annotation_level: "failure" as const,
      message: clipBytes(a.message, GITHUB_LIMITS.checkRunSummaryBytes),
    })),
  };
}

export function issueTracker(ctx: GitHubContext, repository: string): IssueTracker {
  const { owner, repo } = splitFullName(repository);
  const toIssue = (data: unknown, what: string): FindingIssue =>
    mapIssue(parseAnswer(IssueAnswer, data, what));
  return {
    limits: {
      titleCharacters: GITHUB_LIMITS.issueTitleCharacters,
      bodyCharacters: GITHUB_LIMITS.issueBodyCharacters,
      commentCharacters: GITHUB_LIMITS.commentBodyCharacters,
      // GitHub's documented content-creation limits: about 80 a minute and 500 an hour. A client
      // built with its rate limits off (createGitHubClient's throttle: false, for the simulated
      // GitHub of the demo and the tests) is not paced either; Probot's and production clients are.
      ...(ctx.octokit.stats !== undefined && ctx.octokit.stats.rateLimits === undefined
        ? {}
        : { writesPerMinute: 80, writesPerHour: 500 }),
    },
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
        // Not re-sent blindly: the findings lifecycle looks for the issue before creating it again.
        .request("POST /repos/{owner}/{repo}/issues", { owner, repo, ...issue, request: { retries: 0 } })
        .catch((error: unknown) =>
          Promise.reject(writeError(error, `a new issue in ${repository}`, "issues:write")),
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
          Promise.reject(writeError(error, `issue ${repository}#${number}`, "issues:write")),
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
          // A comment whose answer was lost is not sent twice (everyone would be notified twice).
          request: { retries: 0 },
        })
        .catch((error: unknown) =>
          Promise.reject(writeError(error, `a comment on issue ${repository}#${number}`, "issues:write")),
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
