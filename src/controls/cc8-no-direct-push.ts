import { z } from "zod";
import { shortSha } from "./approvals.js";
import { directPushSubject } from "./subjects.js";
import { defineControl, type Evidence } from "./types.js";

const params = z.object({}).strict();

/** Long enough to recognise the commit, short enough for a one-line reason. */
const SUMMARY_LENGTH = 72;

export const noDirectPush = defineControl({
  id: "cc8.no-direct-push",
  criterion: "CC8.1",
  title: "No change lands on a production branch without a change request",
  appliesTo: "direct-push",
  params,
  passes: "Every commit on a production branch came through a merged change request.",
  fails: "A commit was pushed straight to a production branch, unreviewed.",
  remediation:
    "Protect the production branch so that changes require a pull/merge request (admins included), and review the pushed commit after the fact.",
  evaluate(push, context) {
    const subject = directPushSubject(push);
    const repository = context.snapshot.repositories.find((entry) => entry.fullName === push.repository);
    if (!context.isProductionBranch(repository, push.repository, push.branch)) {
      return [
        {
          subject,
          outcome: "not-applicable",
          reason: `The branch ${push.branch} is not a production branch.`,
          evidence: [{ label: "branch", value: push.branch }],
        },
      ];
    }
    const who = push.pushedBy
      ? `by ${push.pushedBy}`
      : `by an unrecorded pusher (author ${push.authorLogin ?? "unknown"}, committer ${push.committerLogin ?? "unknown"})`;
    const evidence: Evidence[] = [
      { label: "commit", value: push.sha, url: push.url, at: push.at },
      { label: "branch", value: push.branch },
      { label: "pushed by", value: push.pushedBy ?? "not recorded by the host" },
      { label: "author", value: push.authorLogin ?? "unknown" },
      { label: "committer", value: push.committerLogin ?? "unknown" },
      { label: "message", value: push.message },
    ];
    return [
      {
        subject,
        outcome: "fail",
        reason: `Pushed directly to ${push.branch} ${who} at ${push.at} without a change request: ${shortSha(push.sha)} "${summary(push.message)}".`,
        evidence,
      },
    ];
  },
});

function summary(message: string): string {
  const firstLine = message.split(/\r?\n/, 1)[0]?.trim() ?? "";
  return firstLine.length > SUMMARY_LENGTH ? `${firstLine.slice(0, SUMMARY_LENGTH - 1)}…` : firstLine;
}
