/**
 * The check run of an access review's pull request (issue 15): a pull request of a review branch in
 * the organization's findings repository is no production change; it gets "soc2-bot access review",
 * which says whether the review file is valid (every problem with file, line and column), instead of
 * the change-management check.
 */
import { z } from "zod";
import { ACCESS_REVIEW_BRANCH_PREFIX, parseReviewFile, type ReviewProblem } from "../access-review/index.js";
import type { CodeHost, CheckReport } from "../providers/types.js";
import { markdownCode, markdownText } from "../text/escape.js";
import { GITHUB_LIMITS, utf8Length } from "../text/limits.js";
import { organizationPolicy } from "./observe.js";

export const ACCESS_REVIEW_CHECK_NAME = "soc2-bot access review";

/** The webhook's head branch (the app's payload schema keeps only what the change check reads). */
const HeadRef = z.object({ pull_request: z.object({ head: z.object({ ref: z.string() }) }) });

/** The head branch of a pull_request event, when it is an access review's; otherwise null. */
export function accessReviewBranchOf(payload: unknown): string | null {
  const parsed = HeadRef.safeParse(payload);
  if (!parsed.success) return null;
  const ref = parsed.data.pull_request.head.ref;
  return ref.startsWith(ACCESS_REVIEW_BRANCH_PREFIX) ? ref : null;
}

export interface ReviewPullTarget {
  /** "owner/name". */
  repository: string;
  number: number;
  headSha: string;
  branch: string;
}

/** Whether `repository` ("owner/name") is the organization's findings repository, where reviews live. */
export async function inFindingsRepository(
  host: CodeHost,
  organization: string,
  repository: string,
): Promise<boolean> {
  if (!host.accessReviews) return false;
  const policy = await organizationPolicy(host, organization);
  return `${organization}/${policy.findings.repository}`.toLowerCase() === repository.toLowerCase();
}

/**
 * Publishes the review check when the pull request is a review in the organization's findings
 * repository (with `publish`) and says it is one (true): the change check must then leave it alone.
 * False for any other pull request, which the change check judges.
 */
export async function checkAccessReview(
  host: CodeHost,
  target: ReviewPullTarget & { organization: string },
  publish: boolean,
): Promise<boolean> {
  if (!target.branch.startsWith(ACCESS_REVIEW_BRANCH_PREFIX)) return false;
  if (!(await inFindingsRepository(host, target.organization, target.repository))) return false;
  if (publish) await publishAccessReviewCheck(host, target);
  return true;
}

/** Publishes "soc2-bot access review" on the review pull request's head. */
export async function publishAccessReviewCheck(host: CodeHost, target: ReviewPullTarget): Promise<void> {
  const reviews = host.accessReviews?.(target.repository);
  if (!reviews) return;
  const listed = await reviews.listReviews(target.branch);
  let report: CheckReport;
  if (!listed.known) {
    report = {
      name: ACCESS_REVIEW_CHECK_NAME,
      conclusion: "neutral",
      title: "The review cannot be read",
      summary:
        `soc2-bot could not read this review, so it cannot say whether the file is valid: ` +
        `${markdownText(listed.reason)} (needs ${markdownCode(listed.permission)}).`,
    };
  } else {
    const record = listed.value.find((r) => r.number === target.number);
    const problems: ReviewProblem[] = !record?.file
      ? [{ file: target.branch, line: 1, column: 1, message: "the branch holds no review file" }]
      : parseReviewFile(record.file.path, record.file.text, record.openedText).problems;
    report =
      problems.length > 0
        ? failed(problems, record?.file?.path ?? null)
        : passed(record?.file?.path ?? target.branch, record);
  }
  await host.publishChangeCheck(
    { repository: target.repository, number: target.number, headSha: target.headSha },
    report,
  );
}

function place(problem: ReviewProblem): string {
  return `${problem.file}:${problem.line}:${problem.column}`;
}

function failed(problems: readonly ReviewProblem[], path: string | null): CheckReport {
  const first = problems[0]!;
  const header = `The review file is not valid: merging it would not be a sign-off. Fix ${problems.length === 1 ? "this" : `these ${problems.length}`}:\n\n`;
  // Within GitHub's summary limit: whole lines only, and the rest counted.
  const budget = GITHUB_LIMITS.checkRunSummaryBytes - 200;
  let summary = header;
  let shown = 0;
  for (const problem of problems) {
    const line = `- ${markdownCode(place(problem))} ${markdownText(problem.message)}\n`;
    if (utf8Length(summary) + utf8Length(line) > budget) break;
    summary += line;
    shown += 1;
  }
  if (shown < problems.length) summary += `\n… and ${problems.length - shown} more problem(s).\n`;
  return {
    name: ACCESS_REVIEW_CHECK_NAME,
    conclusion: "failure",
    title: `${place(first)} ${first.message}`,
    summary,
    // On the file's lines in the pull request's "Files changed" (only problems of the file itself).
    annotations: problems
      .filter((p) => p.file === path)
      .map((p) => ({ path: p.file, line: p.line, column: p.column, message: p.message })),
  };
}

function passed(
  path: string,
  record: { file: { text: string } | null; openedText: string | null } | undefined,
): CheckReport {
  const parsed = record?.file ? parseReviewFile(path, record.file.text, record.openedText) : null;
  const decisions = parsed?.review?.decisions ?? [];
  const revoked = decisions.filter((d) => d.decision === "revoke");
  const lines = revoked.map(
    (d) => `- revoke ${markdownCode(d.id)} (${markdownCode(`${path}:${d.line}`)}): ${markdownText(d.reason)}`,
  );
  return {
    name: ACCESS_REVIEW_CHECK_NAME,
    conclusion: "success",
    title: `Review file valid: ${decisions.length} grant(s), ${revoked.length} to revoke`,
    summary:
      `${markdownCode(path)} is valid. Its merge, approved by someone who did not write the decisions, is the sign-off.\n\n` +
      (lines.length > 0 ? `${lines.join("\n")}\n` : "Every grant is kept.\n"),
  };
}
