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
  evidence:
    "Commits on production branches that no change request merged into that branch, with who pushed them and when (the host's push record, or the commit date when it has none).",
  unknownWhen:
    "Never: each direct push found fails (or is excepted); a push the host did not record is said to be found by its commit date.",
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
    // The push time is the host's record; the commit date is set by the client and only stands in
    // for it, saying so.
    const when = push.pushedAt ? `at ${push.pushedAt}` : `(push time not recorded; commit dated ${push.at})`;
    const how = push.forced ? "Force-pushed" : "Pushed";
    const evidence: Evidence[] = [
      { label: "commit", value: push.sha, url: push.url, at: push.at },
      { label: "branch", value: push.branch },
      { label: "pushed by", value: push.pushedBy ?? "not recorded by the host" },
      push.pushedAt
        ? { label: "pushed at", value: push.pushedAt, at: push.pushedAt }
        : { label: "pushed at", value: `push time not recorded (commit date shown: ${push.at})` },
      ...(push.forced ? [{ label: "force push", value: "yes: the push replaced the branch's history" }] : []),
      { label: "author", value: push.authorLogin ?? "unknown" },
      { label: "committer", value: push.committerLogin ?? "unknown" },
      { label: "message", value: push.message },
    ];
    return [
      {
        subject,
        outcome: "fail",
        reason: `${how} directly to ${push.branch} ${who} ${when} without a change request: ${shortSha(push.sha)} "${summary(push.message)}".`,
        evidence,
      },
    ];
  },
});

function summary(message: string): string {
  const firstLine = message.split(/\r?\n/, 1)[0]?.trim() ?? "";
  return firstLine.length > SUMMARY_LENGTH ? `${firstLine.slice(0, SUMMARY_LENGTH - 1)}…` : firstLine;
}
