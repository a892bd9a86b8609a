import { z } from "zod";

/**
 * Access reviews (CC6.2, CC6.3) as the code host shows them: one pull request (GitHub) or merge
 * request (GitLab) per review cycle and owner in the findings repository, on a branch named
 * `<prefix><cycle>/<owner>` holding one review file. The merge of that pull request, approved by
 * someone independent of it, is the sign-off; the file at the merged head holds the decisions.
 * Parsing the file and judging the sign-off are the controls' work (src/access-review/): the
 * snapshot keeps what the host showed, so a re-evaluation of an old snapshot gives the same verdict.
 */
export const AccessReviewApproval = z.object({
  /** Login of the approver (GitHub review state APPROVED; GitLab approval). */
  login: z.string(),
  at: z.iso.datetime({ offset: true }),
  /** The head commit the approval was given on (GitHub review commit_id); null when the host does not say (GitLab). */
  commit: z.string().nullable(),
});
export type AccessReviewApproval = z.infer<typeof AccessReviewApproval>;

export const AccessReviewRecord = z.object({
  /** Review cycle, from the branch name: "2026-Q4", "2026-11", "2026-H2" or "2026". */
  cycle: z.string(),
  /** Owner, from the branch name: a team slug from the control's `owners`, or "organization-admins". */
  owner: z.string(),
  /** Findings repository (GitHub "owner/name", GitLab project path). */
  repository: z.string(),
  /** Pull request / merge request number (GitLab iid). */
  number: z.number().int(),
  url: z.string(),
  branch: z.string(),
  /** Login that opened it (the bot, normally). */
  openedBy: z.string(),
  openedAt: z.iso.datetime({ offset: true }),
  state: z.enum(["open", "merged", "closed"]),
  mergedAt: z.iso.datetime({ offset: true }).nullable(),
  mergedBy: z.string().nullable(),
  /** The head commit merged (or the current head of an open one). */
  headSha: z.string().nullable(),
  /** Every approval, complete (read to the end of the host's list). */
  approvals: z.array(AccessReviewApproval),
  /** Logins that authored or pushed commits on the branch (who wrote the decisions). */
  committers: z.array(z.string()),
  /** The review file at the merged head (or current head), as text; null when the branch has none. */
  file: z.object({ path: z.string(), text: z.string() }).nullable(),
  /**
   * The review file as the bot opened it (at the branch's first commit): the grants a decision may
   * name. Null when it cannot be found (a decision then cannot be checked against it: unknown).
   */
  openedText: z.string().nullable(),
});
export type AccessReviewRecord = z.infer<typeof AccessReviewRecord>;
