/**
 * audit --dry-run: the code host is read as usual, and every write it would take (finding issues
 * opened, updated, reopened, closed, commented on) is printed instead of sent.
 */
import type { CodeHost, FindingIssue, IssueTracker } from "../providers/types.js";
import type { Io } from "./main.js";

export function dryRunHost(host: CodeHost, io: Io): CodeHost {
  return { ...host, issues: (repository) => dryRunTracker(host.issues(repository), repository, io) };
}

function dryRunTracker(tracker: IssueTracker, repository: string, io: Io): IssueTracker {
  const known = new Map<number, FindingIssue>();
  let planned = 0;
  const say = (text: string) => io.stdout(`dry run: would ${text}\n`);
  return {
    ...(tracker.limits && { limits: tracker.limits }),
    async listByLabel(label) {
      const issues = await tracker.listByLabel(label);
      for (const issue of issues) known.set(issue.number, issue);
      return issues;
    },
    create(issue) {
      planned += 1;
      say(`open an issue in ${repository}: ${JSON.stringify(issue.title)} (${issue.body.length} characters)`);
      // numbers no real issue has, so nothing downstream mistakes one for an issue of the host
      const created: FindingIssue = { ...issue, number: -planned, state: "open", url: "(dry run)" };
      known.set(created.number, created);
      return Promise.resolve(created);
    },
    update(number, change) {
      const before = known.get(number);
      const what = [
        change.state && change.state !== before?.state
          ? change.state === "closed"
            ? "close"
            : "reopen"
          : undefined,
        change.title !== undefined && change.title !== before?.title ? "retitle" : undefined,
        change.body !== undefined && change.body !== before?.body ? "rewrite the body of" : undefined,
        change.labels ? "relabel" : undefined,
      ].filter(Boolean);
      say(
        `${what.join(", ") || "update"} ${repository}#${number}${before ? `: ${JSON.stringify(before.title)}` : ""}`,
      );
      const after: FindingIssue = {
        number,
        title: change.title ?? before?.title ?? "",
        body: change.body ?? before?.body ?? "",
        state: change.state ?? before?.state ?? "open",
        url: before?.url ?? "(dry run)",
        labels: change.labels ?? before?.labels ?? [],
      };
      known.set(number, after);
      return Promise.resolve(after);
    },
    comment(number, body) {
      say(`comment on ${repository}#${number} (${body.length} characters)`);
      return Promise.resolve();
    },
  };
}
