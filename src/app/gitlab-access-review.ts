/**
 * The commit status of an access review's merge request on GitLab (issue 15): a merge request of a
 * review branch in the group's findings project is no production change. It gets the status
 * "soc2-bot access review" (failed, naming file:line:column of the first problem in its one-line
 * description, every problem in the bot's note) instead of the change-management check, and its
 * merge is not judged as a change: the audit judges the review.
 */
import { ACCESS_REVIEW_BRANCH_PREFIX } from "../access-review/index.js";
import type { CodeHost } from "../providers/types.js";
import { checkAccessReview } from "./access-review-check.js";
import type { GitLabMergeRequestEvent, GitLabWebhookLogger } from "./gitlab-webhook.js";
import { redactText } from "./redact.js";

/** Events after which the file at the head may differ: the status is published again. */
const PUBLISHED_ACTIONS: ReadonlySet<string> = new Set(["open", "reopen", "update"]);

/**
 * True when the event is an access review's (its status published, or nothing to publish): the
 * change check must then leave it alone. False for any other merge request.
 */
export async function gitLabAccessReview(
  host: CodeHost,
  event: GitLabMergeRequestEvent,
  organization: string,
  log: GitLabWebhookLogger,
): Promise<boolean> {
  if (!event.sourceBranch.startsWith(ACCESS_REVIEW_BRANCH_PREFIX)) return false;
  const publish =
    event.state === "opened" &&
    event.headSha !== null &&
    (event.action === null || PUBLISHED_ACTIONS.has(event.action));
  try {
    const handled = await checkAccessReview(
      host,
      {
        organization,
        repository: event.project,
        number: event.iid,
        headSha: event.headSha ?? "",
        branch: event.sourceBranch,
      },
      publish,
    );
    if (handled && publish)
      log.info({ project: event.project, iid: event.iid }, "access review status published");
    return handled;
  } catch (error) {
    // Not known to be a review (the policy or the review could not be read): the change check runs
    // as for any merge request, so naming a production branch like a review never escapes it.
    log.error(
      { project: event.project, iid: event.iid, err: redactText(String(error)) },
      "access review status not published",
    );
    return false;
  }
}
