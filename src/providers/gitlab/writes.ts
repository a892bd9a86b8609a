import { markdownText } from "../../text/escape.js";
import { clipCharacters, GITLAB_LIMITS } from "../../text/limits.js";
import { WriteError, type CheckReport, type FindingIssue, type IssueTracker } from "../types.js";
import { encodePath, GitLabHttpError } from "./client.js";
import type { GitLabContext } from "./context.js";
import { CommitStatusWire, IssueWire, NoteWire, type IssueWire as Issue } from "./schema.js";

/** The commit status soc2-bot sets on a merge request's head (GitLab statuses are named by context). */
export const GITLAB_STATUS_NAME = "soc2-bot/change-management";

/**
 * The status an access review's merge request gets instead (issue 15): the same name as the GitHub
 * check run, so both hosts show "soc2-bot access review".
 */
export const GITLAB_REVIEW_STATUS_NAME = "soc2-bot access review";

/** The hidden marker that finds our one MR note again on later runs. */
export const NOTE_MARKER = "<!-- soc2-bot:change-management -->";
const REVIEW_NOTE_MARKER = "<!-- soc2-bot:access-review -->";
const DESCRIPTION_LIMIT = 255;

/**
 * GitLab commit status states for our conclusions. "neutral" (nothing to judge, e.g. controls not
 * applicable) becomes "skipped": it neither fails the pipeline nor leaves it pending forever, as
 * "pending" would when "pipelines must succeed" is on.
 */
export function statusStateOf(conclusion: CheckReport["conclusion"]): "success" | "failed" | "skipped" {
  if (conclusion === "success") return "success";
  if (conclusion === "failure") return "failed";
  return "skipped";
}

/** GitLab shows the description as plain text on one line: no control characters, 255 at most. */
export function statusDescription(title: string): string {
  // eslint-disable-next-line no-control-regex
  const line = title.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  // counted in characters (code points) as GitLab counts them, never cutting a character in half
  return clipCharacters(line, DESCRIPTION_LIMIT, "…");
}

export async function publishChangeCheck(
  context: GitLabContext,
  actor: () => Promise<string>,
  target: { repository: string; number: number; headSha: string },
  check: CheckReport,
): Promise<void> {
  const { client } = context;
  const project = encodePath(target.repository);
  const review = check.name === GITLAB_REVIEW_STATUS_NAME;
  const marker = review ? REVIEW_NOTE_MARKER : NOTE_MARKER;
  await client.send(
    "POST",
    `/projects/${project}/statuses/${encodeURIComponent(target.headSha)}`,
    CommitStatusWire,
    {
      state: statusStateOf(check.conclusion),
      name: review ? GITLAB_REVIEW_STATUS_NAME : GITLAB_STATUS_NAME,
      description: statusDescription(check.title),
      ...(check.detailsUrl ? { target_url: check.detailsUrl } : {}),
    },
  );

  const notesPath = `/projects/${project}/merge_requests/${target.number}/notes`;
  const body = `${marker}\n### ${markdownText(check.name)}: ${markdownText(check.title)}\n\n${check.summary}`;
  const me = await actor();
  // Only our own note counts: anyone can paste the marker into a comment, and we must neither
  // overwrite theirs (GitLab would refuse) nor stop updating ours because of it.
  let existing: number | undefined;
  for await (const note of client.pages(notesPath, NoteWire, { sort: "asc", order_by: "created_at" })) {
    if (!note.system && note.author.username === me && note.body.startsWith(marker)) {
      existing = note.id;
      break;
    }
  }
  if (existing === undefined) await client.send("POST", notesPath, NoteWire, { body });
  else await client.send("PUT", `${notesPath}/${existing}`, NoteWire, { body });
}

function findingOf(issue: Issue): FindingIssue {
  return {
    number: issue.iid,
    title: issue.title,
    body: issue.description ?? "",
    state: issue.state === "opened" ? "open" : "closed",
    url: issue.web_url,
    labels: issue.labels,
  };
}

/**
 * A failed write, as what it is: refused by GitLab (4xx: nothing was written; a 400 names the field,
 * e.g. `{"message":{"title":["is too long (maximum is 255 characters)"]}}`), or of unknown outcome
 * (5xx, no answer: it may have been applied). Only a 403 or 404 says the token may not write.
 */
export function gitLabWriteError(error: unknown, what: string): WriteError {
  if (error instanceof WriteError) return error;
  const status = error instanceof GitLabHttpError ? error.status : undefined;
  const fields = error instanceof GitLabHttpError ? gitLabFieldErrors(error.body) : [];
  const message = error instanceof Error ? error.message : String(error);
  const refused = status !== undefined && status >= 400 && status < 500 && status !== 408;
  const hostMessage = fields.length > 0 ? fields.map((f) => `${f.field} ${f.message}`).join("; ") : message;
  const text = refused
    ? `GitLab refused to write ${what}: ${status} ${hostMessage}`
    : `GitLab's answer to writing ${what} was lost (${message}): it may have been applied`;
  return new WriteError(text, {
    host: "gitlab",
    ...(status === undefined ? {} : { status }),
    applied: refused ? "no" : "unknown",
    hostMessage,
    fields: fields.map((f) => f.field),
    ...(status === 403 || status === 404 ? { permission: "api (Reporter role or more on the project)" } : {}),
    cause: error,
  });
}

/** GitLab's validation answer: `message` maps each refused field to its messages. */
function gitLabFieldErrors(body: string): Array<{ field: string; message: string }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const message = (parsed as { message?: unknown } | null)?.message;
  if (typeof message !== "object" || message === null || Array.isArray(message)) return [];
  return Object.entries(message as Record<string, unknown>).flatMap(([field, messages]) =>
    (Array.isArray(messages) ? messages : [messages])
      .filter((m): m is string => typeof m === "string")
      .map((m) => ({ field, message: m })),
  );
}

/** Finding issues in a GitLab project: labels are comma-joined, closing is a state_event. */
export function gitLabIssues(context: GitLabContext, projectPath: string): IssueTracker {
  const { client } = context;
  const base = `/projects/${encodePath(projectPath)}/issues`;
  const write = <T>(what: string, send: () => Promise<T>): Promise<T> =>
    send().catch((error: unknown) => Promise.reject(gitLabWriteError(error, what)));
  return {
    limits: {
      titleCharacters: GITLAB_LIMITS.issueTitleCharacters,
      bodyCharacters: GITLAB_LIMITS.issueDescriptionCharacters,
      commentCharacters: GITLAB_LIMITS.noteBodyCharacters,
    },
    async listByLabel(label) {
      const issues: FindingIssue[] = [];
      for await (const issue of client.pages(base, IssueWire, { labels: label, state: "all" })) {
        issues.push(findingOf(issue));
      }
      return issues;
    },
    async create(issue) {
      const created = await write(`a new issue in ${projectPath}`, () =>
        client.send("POST", base, IssueWire, {
          title: issue.title,
          description: issue.body,
          labels: issue.labels.join(","),
        }),
      );
      return findingOf(created);
    },
    async update(number, change) {
      const updated = await write(`issue ${projectPath}#${number}`, () =>
        client.send("PUT", `${base}/${number}`, IssueWire, {
          ...(change.title !== undefined ? { title: change.title } : {}),
          ...(change.body !== undefined ? { description: change.body } : {}),
          ...(change.labels !== undefined ? { labels: change.labels.join(",") } : {}),
          ...(change.state !== undefined
            ? { state_event: change.state === "closed" ? "close" : "reopen" }
            : {}),
        }),
      );
      return findingOf(updated);
    },
    async comment(number, body) {
      await write(`a comment on issue ${projectPath}#${number}`, () =>
        client.send("POST", `${base}/${number}/notes`, NoteWire, { body }),
      );
    },
  };
}
