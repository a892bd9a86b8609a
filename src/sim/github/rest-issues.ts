/** Issue routes: where the bot files, updates and comments on findings; tests read them back. */
import { list, repoOf, RouteError, text, type Route, type RouteRequest } from "./rest-common.js";
import { commentRefusal, issueRefusal } from "./rest-limits.js";
import { issueJson, userJson } from "./rest-shapes.js";
import type { SimIssue, SimRepository } from "./world.js";

const BOT = "soc2-bot[bot]";

function issueOf(r: RouteRequest): { repo: SimRepository; issue: SimIssue } {
  const repo = repoOf(r);
  const issue = repo.issues.get(Number(r.params.issue_number));
  if (!issue) throw new RouteError(404, "Not Found");
  return { repo, issue };
}

function labelsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map((label: unknown) =>
    typeof label === "string" ? label : String((label as { name?: unknown }).name),
  );
}

export const ISSUE_ROUTES: Route[] = [
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/issues",
    handle: (r) => {
      const repo = repoOf(r);
      const state = r.query.get("state") ?? "open";
      const wanted = (r.query.get("labels") ?? "").split(",").filter(Boolean);
      const issues = [...repo.issues.values()]
        .filter((i) => (state === "all" || i.state === state) && wanted.every((l) => i.labels.includes(l)))
        .sort((a, b) => b.number - a.number);
      return list(issues, (i) => issueJson(r.world, r.api, repo, i));
    },
  },
  {
    method: "POST",
    path: "/repos/{owner}/{repo}/issues",
    handle: (r) => {
      const repo = repoOf(r);
      const refused = issueRefusal(r.body, false);
      if (refused) return refused;
      const now = r.world.now();
      const issue: SimIssue = {
        id: ++r.world.nextId,
        number: repo.nextNumber++,
        title: text(r.body.title, "title"),
        body: typeof r.body.body === "string" ? r.body.body : "",
        state: "open",
        labels: labelsOf(r.body.labels),
        author: BOT,
        createdAt: now,
        updatedAt: now,
        closedAt: null,
        comments: [],
      };
      repo.issues.set(issue.number, issue);
      return { status: 201, body: issueJson(r.world, r.api, repo, issue) };
    },
  },
  {
    method: "PATCH",
    path: "/repos/{owner}/{repo}/issues/{issue_number}",
    handle: (r) => {
      const { repo, issue } = issueOf(r);
      const refused = issueRefusal(r.body, true);
      if (refused) return refused;
      const now = r.world.now();
      if (typeof r.body.title === "string") issue.title = r.body.title;
      if (typeof r.body.body === "string") issue.body = r.body.body;
      if (r.body.labels !== undefined) issue.labels = labelsOf(r.body.labels);
      if (r.body.state === "open" || r.body.state === "closed") {
        issue.closedAt = r.body.state === "closed" ? now : null;
        issue.state = r.body.state;
      }
      issue.updatedAt = now;
      return { status: 200, body: issueJson(r.world, r.api, repo, issue) };
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    handle: (r) => {
      const { repo, issue } = issueOf(r);
      return list(issue.comments, (c) => commentJson(r, repo, issue, c));
    },
  },
  {
    method: "POST",
    path: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
    handle: (r) => {
      const { repo, issue } = issueOf(r);
      const refused = commentRefusal(r.body.body);
      if (refused) return refused;
      const comment = {
        id: ++r.world.nextId,
        body: text(r.body.body, "body"),
        author: BOT,
        createdAt: r.world.now(),
      };
      issue.comments.push(comment);
      return { status: 201, body: commentJson(r, repo, issue, comment) };
    },
  },
];

function commentJson(r: RouteRequest, repo: SimRepository, issue: SimIssue, c: SimIssue["comments"][number]) {
  const issueUrl = `${r.api}/repos/${repo.facts.fullName}/issues/${issue.number}`;
  return {
    id: c.id,
    node_id: Buffer.from(`IssueComment:${c.id}`).toString("base64"),
    url: `${r.api}/repos/${repo.facts.fullName}/issues/comments/${c.id}`,
    html_url: `${r.world.webUrl}/${repo.facts.fullName}/issues/${issue.number}#issuecomment-${c.id}`,
    issue_url: issueUrl,
    body: c.body,
    user: userJson(r.world, r.api, c.author, "Bot"),
    created_at: c.createdAt,
    updated_at: c.createdAt,
    author_association: "NONE",
  };
}
