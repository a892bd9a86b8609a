/**
 * Wire schemas of the REST answers an access review is read from (pull requests of the findings
 * repository, their reviews, commits and files, a branch's ref): each names the fields read, as
 * @octokit/openapi describes them, and lets everything else through.
 */
import { z } from "zod";

const Login = z.object({ login: z.string() });

/** One item of GET /repos/{owner}/{repo}/pulls ("pull-request-simple"), and POST …/pulls' answer. */
export const ReviewPullAnswer = z.object({
  number: z.number(),
  html_url: z.string(),
  state: z.string(),
  created_at: z.string(),
  merged_at: z.string().nullable(),
  user: Login.nullable(),
  head: z.object({
    ref: z.string(),
    sha: z.string(),
    // null when the head repository (a fork) was deleted.
    repo: z.object({ full_name: z.string() }).nullable(),
  }),
});
export type ReviewPullAnswer = z.infer<typeof ReviewPullAnswer>;

/** GET /repos/{owner}/{repo}/pulls/{pull_number} ("pull-request"): who merged it. */
export const MergedPullAnswer = z.object({
  merged_at: z.string().nullable(),
  merged_by: Login.nullable(),
  head: z.object({ sha: z.string() }),
});

/** One item of GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews ("pull-request-review"). */
export const PullReviewAnswer = z.object({
  user: Login.nullable(),
  state: z.string(),
  submitted_at: z.string().optional(),
  commit_id: z.string().nullable(),
});

/** One item of GET /repos/{owner}/{repo}/pulls/{pull_number}/commits ("commit"). */
export const PullCommitAnswer = z.object({
  sha: z.string(),
  // GitHub sends null, or an empty object, when the commit's e-mail is linked to no account.
  author: z.object({ login: z.string().optional() }).nullable(),
  committer: z.object({ login: z.string().optional() }).nullable(),
  commit: z.object({
    author: z.object({ name: z.string().optional(), email: z.string().optional() }).nullable(),
  }),
});

/** One item of GET /repos/{owner}/{repo}/pulls/{pull_number}/files ("diff-entry"). */
export const PullFileAnswer = z.object({ filename: z.string(), status: z.string() });

/** GET /repos/{owner}/{repo}/git/ref/{ref} ("git-ref"). */
export const GitRefAnswer = z.object({ object: z.object({ sha: z.string() }) });
