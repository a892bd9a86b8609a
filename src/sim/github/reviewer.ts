/**
 * A scripted person at the simulated GitHub (the demo's reviewer, an administrator): every step is an
 * HTTP request with the person's own token, so what GitHub records (the commit's author, the review's
 * user, who merged) is that person, as it would be for someone clicking through github.com.
 */
import { assertLoopback } from "./server.js";

export interface SimPerson {
  /** The simulated GitHub's REST base URL (127.0.0.1). */
  api: string;
  /** The person's token; world.tokens maps it to their login. */
  token: string;
}

export class SimRequestError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what}: ${status} ${JSON.stringify(body)}`);
  }
}

async function call(person: SimPerson, method: string, path: string, body?: unknown): Promise<unknown> {
  assertLoopback(person.api);
  const response = await fetch(`${person.api}${path}`, {
    method,
    headers: { authorization: `token ${person.token}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  const answer: unknown = text ? JSON.parse(text) : null;
  if (!response.ok) throw new SimRequestError(response.status, answer, `${method} ${path}`);
  return answer;
}

const segment = encodeURIComponent;

/** The pull request's head branch and sha. */
export async function pullHead(
  person: SimPerson,
  repository: string,
  number: number,
): Promise<{ branch: string; sha: string }> {
  const pull = (await call(person, "GET", `/repos/${repository}/pulls/${number}`)) as {
    head: { ref: string; sha: string };
  };
  return { branch: pull.head.ref, sha: pull.head.sha };
}

/** A file's text on a branch (or at a commit). */
export async function readText(
  person: SimPerson,
  repository: string,
  path: string,
  ref: string,
): Promise<string> {
  const file = (await call(
    person,
    "GET",
    `/repos/${repository}/contents/${segment(path)}?ref=${segment(ref)}`,
  )) as { content: string };
  return Buffer.from(file.content, "base64").toString("utf8");
}

/** Commits a new text of `path` to `branch` (the contents API, as the web editor does): the new head sha. */
export async function commitText(
  person: SimPerson,
  repository: string,
  branch: string,
  path: string,
  text: string,
  message: string,
): Promise<string> {
  const current = (await call(
    person,
    "GET",
    `/repos/${repository}/contents/${segment(path)}?ref=${segment(branch)}`,
  )) as { sha: string };
  const answer = (await call(person, "PUT", `/repos/${repository}/contents/${segment(path)}`, {
    message,
    content: Buffer.from(text, "utf8").toString("base64"),
    branch,
    sha: current.sha,
  })) as { commit: { sha: string } };
  return answer.commit.sha;
}

/** Submits a review: APPROVE (of the current head unless `commit` says which), COMMENT or REQUEST_CHANGES. */
export async function review(
  person: SimPerson,
  repository: string,
  number: number,
  event: "APPROVE" | "COMMENT" | "REQUEST_CHANGES",
  body = "",
  commit?: string,
): Promise<void> {
  await call(person, "POST", `/repos/${repository}/pulls/${number}/reviews`, {
    event,
    body,
    ...(commit === undefined ? {} : { commit_id: commit }),
  });
}

/** Merges the pull request (its current head). */
export async function merge(person: SimPerson, repository: string, number: number): Promise<string> {
  const answer = (await call(person, "PUT", `/repos/${repository}/pulls/${number}/merge`, {
    merge_method: "merge",
  })) as { sha: string };
  return answer.sha;
}

/** Removes an outside or direct collaborator from a repository, as an administrator does. */
export async function removeCollaborator(
  person: SimPerson,
  repository: string,
  login: string,
): Promise<void> {
  await call(person, "DELETE", `/repos/${repository}/collaborators/${segment(login)}`);
}

/** Removes a member from the organization, as an owner does. */
export async function removeMember(person: SimPerson, organization: string, login: string): Promise<void> {
  await call(person, "DELETE", `/orgs/${segment(organization)}/memberships/${segment(login)}`);
}

/**
 * Sets the decision of grant `id` in a review file's text: `revoke` with the reason (quoted as YAML
 * double-quoted text), as a reviewer edits the file by hand.
 */
export function revokeInText(text: string, id: string, reason: string): string {
  const lines = text.split("\n");
  const idOf = (line: string) =>
    /^\s*-\s*id:\s*/.test(line)
      ? line
          .replace(/^\s*-\s*id:\s*/, "")
          .replace(/\s+#.*$/, "")
          .trim()
          .replace(/^(["'])(.*)\1$/, "$2")
      : null;
  const start = lines.findIndex((line) => idOf(line) === id);
  if (start < 0) throw new Error(`no grant ${id} in the review file`);
  for (let i = start + 1; i < lines.length && !/^\s*-\s*id:/.test(lines[i] ?? ""); i++) {
    const line = lines[i] ?? "";
    if (/^\s*decision:/.test(line)) lines[i] = line.replace(/decision:.*$/, "decision: revoke");
    if (/^\s*reason:/.test(line)) lines[i] = line.replace(/reason:.*$/, `reason: ${JSON.stringify(reason)}`);
  }
  return lines.join("\n");
}
