/**
 * The simulated GitLab: the REST v4 endpoints src/providers/gitlab calls (listed in README.md),
 * served from a Snapshot on 127.0.0.1 with GitLab's offset pagination (x-next-page and Link), its
 * 401/403/404 answers ({"message": "404 Project Not Found"}) and the PRIVATE-TOKEN header.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Snapshot } from "../../model/index.js";
import { characterLength, GITLAB_LIMITS } from "../../text/limits.js";
import {
  buildWorld,
  type GitLabWorld,
  type SimIssue,
  type SimMember,
  type SimProject,
  type Wire,
} from "./world.js";
import {
  RawFile,
  reviewRoute,
  type ReviewReply,
  type ReviewRouteRequest,
  type SimActor,
} from "./review-routes.js";

export interface SimulatedGitLabOptions {
  snapshot: Snapshot;
  /** The token the sim accepts in PRIVATE-TOKEN. */
  token?: string;
  /**
   * More users' tokens (token → username): a write sent with one is made by that user (a reviewer's
   * commit, approval or merge), and GET /user answers that user, as GitLab does per token.
   */
  users?: Record<string, string>;
  /** The clock of what users do through the API (commits, merge requests, approvals, merges); real time by default. */
  now?: () => Date;
  /** Served as .gitlab/soc2.yml of `<group>/gitlab-profile` (the group policy layer). */
  groupPolicy?: string;
  /** Put a symlink or a submodule at that path instead of the file. */
  groupPolicyAs?: "symlink" | "submodule";
  /** Extra empty projects in the group, e.g. ["compliance"] for finding issues. */
  extraProjects?: string[];
  /** Largest page the sim serves (GitLab's is 100); smaller pages exercise pagination. */
  maxPerPage?: number;
  /** Whether the token is an instance administrator's (members show two_factor_enabled). */
  admin?: boolean;
  /**
   * The GitLab edition: "free" (Free/CE) has no approval rules, so it answers 404 to the project's
   * /approvals and /approval_rules and the MR's /approval_state (the MR's /approvals exists); "premium"
   * by default.
   */
  edition?: "free" | "premium";
  /**
   * Fault injection: return an answer (e.g. a 500 or a 429) for a request instead of serving it.
   * `path` is under /api/v4, still URL-encoded as sent.
   */
  fault?: (request: { method: string; path: string }) => { status: number; body: unknown } | undefined;
}

export interface SimulatedGitLabStats {
  requests: number;
  byRoute: Record<string, number>;
  writes: number;
}

export interface SimulatedGitLab {
  /** The instance URL (GITLAB_URL); the API is under /api/v4. */
  url: string;
  token: string;
  world: GitLabWorld;
  stats: SimulatedGitLabStats;
  close(): Promise<void>;
}

export const SIMULATED_TOKEN = "glpat-simulated-0123456789abcdef";

class Answer extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`${status}`);
  }
}

const notFound = (what: string) => new Answer(404, { message: `404 ${what} Not Found` });
/** What GitLab answers for a route it does not have (Grape's 404), e.g. Premium routes on Free. */
const noRoute = () => new Answer(404, { error: "404 Not Found" });
const forbidden = () => new Answer(403, { message: "403 Forbidden" });

/** A route's request and reply: the same as the review routes'. */
type Request = ReviewRouteRequest;
type Reply = ReviewReply;

export async function startSimulatedGitLab(options: SimulatedGitLabOptions): Promise<SimulatedGitLab> {
  const token = options.token ?? SIMULATED_TOKEN;
  const maxPerPage = options.maxPerPage ?? 100;
  const admin = options.admin ?? true;
  const premium = (options.edition ?? "premium") === "premium";
  const stats: SimulatedGitLabStats = { requests: 0, byRoute: {}, writes: 0 };

  const server = createServer((req, res) => void handle(req, res));
  // As for the simulated GitHub: idle connections are kept a minute, not Node's 5 seconds.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const built = buildWorld(options.snapshot, {
    webUrl: url,
    ...(options.groupPolicy !== undefined ? { groupPolicy: options.groupPolicy } : {}),
    ...(options.extraProjects ? { extraProjects: options.extraProjects } : {}),
    ...(options.groupPolicyAs ? { groupPolicyAs: options.groupPolicyAs } : {}),
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    stats.requests++;
    const target = new URL(req.url ?? "/", url);
    try {
      if (!target.pathname.startsWith("/api/v4/")) throw notFound("");
      const actor = actorOf(req.headers["private-token"]);
      if (!actor) throw new Answer(401, { message: "401 Unauthorized" });
      const fault = options.fault?.({
        method: req.method ?? "GET",
        path: target.pathname.slice("/api/v4".length),
      });
      if (fault) throw new Answer(fault.status, fault.body);
      const text = await readBody(req);
      let body: Record<string, unknown> = {};
      if (text) {
        try {
          body = JSON.parse(text) as Record<string, unknown>;
        } catch {
          throw new Answer(400, { error: "body is not valid JSON" });
        }
      }
      // Keep %2F inside a segment: a project id is its URL-encoded full path.
      const segments = target.pathname.slice("/api/v4/".length).split("/").map(decodeURIComponent);
      const request: Request = {
        method: req.method ?? "GET",
        segments,
        query: target.searchParams,
        body,
        actor,
        now: () => (options.now?.() ?? new Date()).toISOString(),
      };
      const reply = route(built, request);
      if (reply.status === 204) {
        stats.writes++;
        res.writeHead(204).end();
        return;
      }
      if (request.method !== "GET") stats.writes++;
      if (reply.list && Array.isArray(reply.body)) return sendPage(res, target, reply.body);
      send(res, reply.status ?? 200, reply.body);
    } catch (error) {
      if (error instanceof Answer) return send(res, error.status, error.body);
      send(res, 500, { message: "500 Internal Server Error" });
    }
  }

  function route(w: GitLabWorld, request: Request): Reply {
    const { method, segments: s } = request;
    const key = routeKey(s);
    stats.byRoute[`${method} ${key}`] = (stats.byRoute[`${method} ${key}`] ?? 0) + 1;
    if (method === "GET" && key === "user")
      return { body: { id: request.actor.id, username: request.actor.username } };
    // Branches, files, merge request writes and removals (access reviews): see review-routes.ts.
    const review = reviewRoute(w, request);
    if (review) {
      if (review.status !== undefined && review.status >= 400) throw new Answer(review.status, review.body);
      return review.body instanceof RawFile ? { ...review, body: new RawText(review.body.text) } : review;
    }
    if (method === "GET" && key === "personal_access_tokens/self") {
      return { body: { id: 1, name: "soc2-bot", scopes: admin ? ["api", "sudo"] : ["api"], active: true } };
    }
    if (method === "GET" && s[0] === "users" && s.length === 2) {
      const user = [...w.users.values()].find((u) => String(u.id) === s[1]);
      if (!user) throw notFound("User");
      return {
        body: {
          id: user.id,
          username: user.username,
          name: user.name,
          state: user.state,
          web_url: user.web_url,
          bot: w.bots.has(user.username),
          public_email: null,
        },
      };
    }
    if (s[0] === "groups") return groupRoute(w, request);
    if (s[0] === "projects") return projectRoute(w, request);
    throw notFound("");
  }

  /** The bot for the sim's own token; another user for a token in `users`; null for any other. */
  function actorOf(header: string | string[] | undefined): SimActor | null {
    if (header === token) return built.bot;
    const username = typeof header === "string" ? options.users?.[header] : undefined;
    if (!username) return null;
    let user = built.users.get(username);
    if (!user) {
      user = {
        id: built.nextId(),
        username,
        name: username,
        state: "active",
        access_level: 0,
        two_factor_enabled: true,
        web_url: `${url}/${username}`,
      };
      built.users.set(username, user);
    }
    return { id: user.id, username: user.username };
  }

  function groupRoute(w: GitLabWorld, { method, query, segments: s }: Request): Reply {
    const { group } = w;
    const shared = group.sharedGroups.get(s[1] ?? "");
    if (method === "GET" && shared && s.slice(2).join("/") === "members/all") {
      return { body: shared.map(memberWire), list: true };
    }
    if (method !== "GET" || (s[1] !== group.wire.full_path && s[1] !== String(group.wire.id))) {
      throw notFound("Group");
    }
    const rest = s.slice(2).join("/");
    if (rest === "") return { body: group.wire };
    if (rest === "members/all") return { body: group.members.map(memberWire), list: true };
    if (rest === "invitations") return { body: group.invitations, list: true };
    if (rest === "projects") {
      const projects = group.projects.map((p) => ({
        id: p.wire.id,
        name: p.wire.name,
        path_with_namespace: p.path,
        web_url: p.wire.web_url,
        archived: p.wire.archived,
      }));
      return { body: query.get("sort") === "desc" ? projects.reverse() : projects, list: true };
    }
    throw notFound("");
  }

  function memberWire(member: SimMember): Wire {
    const { two_factor_enabled, ...rest } = member;
    return admin ? { ...rest, two_factor_enabled } : rest;
  }

  function projectRoute(w: GitLabWorld, request: Request): Reply {
    const { method, query, body, segments: s } = request;
    const project = w.group.projects.find((p) => p.path === s[1] || String(p.wire.id) === s[1]);
    if (!project) throw notFound("Project");
    const rest = s.slice(2).join("/");
    const get = method === "GET";
    if (get && rest === "") return { body: project.wire };
    if (get && rest === "members/all") return { body: allMembers(w, project).map(memberWire), list: true };
    if (get && rest === "members") return { body: project.members.map(memberWire), list: true };
    if (get && rest === "repository/branches") {
      return {
        body: project.branches.map((name) => ({ name, protected: isProtected(project, name) })),
        list: true,
      };
    }
    if (get && rest === "protected_branches")
      return { body: readable(project.protectedBranches), list: true };
    if (get && (rest === "approvals" || rest === "approval_rules") && !premium) throw noRoute();
    if (get && rest === "approvals") return { body: readable(project.approvalSettings) };
    if (get && rest === "approval_rules") return { body: readable(project.approvalRules), list: true };
    if (get && rest === "events") return { body: pushEventsOf(project, query), list: true };
    if (get && rest === "deploy_keys") return { body: project.deployKeys, list: true };
    if (get && s[2] === "repository" && s[3] === "files" && s[5] === "raw" && s.length === 6) {
      const file = project.files.get(s[4] ?? "");
      // A submodule is no blob: GitLab's raw endpoint has no file there.
      if (file === undefined || project.fileModes.get(s[4] ?? "") === "160000") throw notFound("File");
      return { body: new RawText(file) };
    }
    if (get && rest === "repository/tree")
      return { body: treeOf(project, query.get("path") ?? ""), list: true };
    if (get && rest === "repository/commits") return { body: commitsOf(project, query), list: true };
    if (get && s[2] === "repository" && s[3] === "commits" && s[5] === "merge_requests" && s.length === 6) {
      const sha = s[4] ?? "";
      return {
        body: project.mergeRequests.filter((mr) => mr.shas.has(sha)).map((mr) => mr.wire),
        list: true,
      };
    }
    if (get && s[2] === "repository" && s[3] === "commits" && s.length === 5) {
      const commit = [...project.history.values()].flat().find((c) => c.id === s[4]);
      if (!commit) throw notFound("Commit");
      return { body: commit };
    }
    if (get && rest === "pipelines") return { body: pipelinesOf(project, query), list: true };
    if (method === "POST" && s[2] === "statuses" && s.length === 4) {
      const status = {
        id: w.nextId(),
        sha: s[3],
        status: String(body.state),
        name: body.name,
        description: body.description ?? null,
        target_url: body.target_url ?? null,
        created_at: new Date().toISOString(),
      };
      project.statuses.push(status);
      return { status: 201, body: status };
    }
    if (get && rest === "merge_requests") return { body: mergeRequestsOf(project, query), list: true };
    if (s[2] === "merge_requests" && s[3]) return mergeRequestRoute(w, project, request);
    if (s[2] === "issues") return issueRoute(w, project, request);
    throw notFound("");
  }

  function mergeRequestRoute(
    w: GitLabWorld,
    project: SimProject,
    { method, body, segments: s, query }: Request,
  ): Reply {
    const mr = project.mergeRequests.find((m) => String(m.wire.iid) === s[3]);
    if (!mr) throw notFound("Merge Request");
    const rest = s.slice(4).join("/");
    if (method === "GET") {
      if (rest === "") return { body: mr.wire };
      if (rest === "commits") return { body: mr.commits, list: true };
      if (rest === "versions") return { body: mr.versions, list: true };
      if (rest === "approvals") return { body: mr.approvals };
      if (rest === "approval_state" && !premium) throw noRoute();
      if (rest === "approval_state") return { body: readable(mr.approvalState) };
      if (rest === "notes") {
        const asc = query.get("sort") === "asc";
        const notes = [...mr.notes].sort(
          (a, b) => String(a.created_at).localeCompare(String(b.created_at)) || Number(a.id) - Number(b.id),
        );
        return { body: asc ? notes : notes.reverse(), list: true };
      }
    }
    if (method === "POST" && rest === "notes") {
      const note = botNote(w, body.body);
      mr.notes.push(note);
      return { status: 201, body: note };
    }
    if (method === "PUT" && s[4] === "notes" && s[5]) {
      const note = mr.notes.find((n) => String(n.id) === s[5]);
      if (!note) throw notFound("Note");
      if ((note.author as { username: string }).username !== w.bot.username) throw forbidden();
      refuseNoteOverLimit(body.body);
      note.body = String(body.body ?? note.body);
      return { body: note };
    }
    throw notFound("");
  }

  function issueRoute(
    w: GitLabWorld,
    project: SimProject,
    { method, body, segments: s, query }: Request,
  ): Reply {
    if (s.length === 3 && method === "GET") {
      const labels = (query.get("labels") ?? "").split(",").filter(Boolean);
      const state = query.get("state") ?? "all";
      const list = project.issues
        .filter((issue) => labels.every((label) => issue.labels.includes(label)))
        .filter((issue) => state === "all" || issue.state === state)
        .sort((a, b) => b.iid - a.iid)
        .map((issue) => issueWire(project, issue));
      return { body: list, list: true };
    }
    if (s.length === 3 && method === "POST") {
      if (typeof body.title !== "string" || body.title === "")
        throw new Answer(400, { message: { title: ["can't be blank"] } });
      refuseIssueOverLimits(body);
      const issue: SimIssue = {
        iid: project.issues.length + 1,
        title: body.title,
        description: String(body.description ?? ""),
        state: "opened",
        labels: labelsOf(body.labels),
        notes: [],
      };
      project.issues.push(issue);
      return { status: 201, body: issueWire(project, issue) };
    }
    const issue = project.issues.find((i) => String(i.iid) === s[3]);
    if (!issue) throw notFound("Issue");
    if (s.length === 4 && method === "PUT") {
      refuseIssueOverLimits(body);
      if (typeof body.title === "string") issue.title = body.title;
      if (typeof body.description === "string") issue.description = body.description;
      if (body.labels !== undefined) issue.labels = labelsOf(body.labels);
      if (body.state_event === "close") issue.state = "closed";
      if (body.state_event === "reopen") issue.state = "opened";
      return { body: issueWire(project, issue) };
    }
    if (s.length === 5 && s[4] === "notes" && method === "POST") {
      const note = botNote(w, body.body);
      issue.notes.push(note);
      return { status: 201, body: note };
    }
    throw notFound("");
  }

  function botNote(w: GitLabWorld, text: unknown): Wire {
    if (typeof text !== "string" || text === "")
      throw new Answer(400, { message: { note: ["can't be blank"] } });
    refuseNoteOverLimit(text);
    const now = new Date().toISOString();
    return {
      id: w.nextId(),
      type: null,
      body: text,
      author: { id: w.bot.id, username: w.bot.username, name: "soc2-bot" },
      created_at: now,
      updated_at: now,
      system: false,
    };
  }

  function sendPage(res: ServerResponse, target: URL, list: unknown[]): void {
    const perPage = Math.min(
      Math.max(Number(target.searchParams.get("per_page") ?? 20) || 20, 1),
      maxPerPage,
    );
    const page = Math.max(Number(target.searchParams.get("page") ?? 1) || 1, 1);
    const totalPages = Math.max(Math.ceil(list.length / perPage), 1);
    const headers: Record<string, string> = {
      "x-page": String(page),
      "x-per-page": String(perPage),
      "x-total": String(list.length),
      "x-total-pages": String(totalPages),
      "x-next-page": page < totalPages ? String(page + 1) : "",
      "x-prev-page": page > 1 ? String(page - 1) : "",
    };
    const link = (n: number, rel: string) => {
      const next = new URL(target);
      next.searchParams.set("page", String(n));
      next.searchParams.set("per_page", String(perPage));
      return `<${next.toString()}>; rel="${rel}"`;
    };
    const links = [
      ...(page > 1 ? [link(page - 1, "prev")] : []),
      ...(page < totalPages ? [link(page + 1, "next")] : []),
      link(1, "first"),
      link(totalPages, "last"),
    ];
    headers.link = links.join(", ");
    send(res, 200, list.slice((page - 1) * perPage, page * perPage), headers);
  }

  return {
    url,
    token,
    world: built,
    stats,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A raw file answer (text/plain), as /repository/files/:path/raw gives. */
class RawText {
  constructor(readonly text: string) {}
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (body instanceof RawText) {
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers }).end(body.text);
    return;
  }
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
}

/** GitLab answers 403 for settings the token's role cannot read; the snapshot said it could not. */
function readable<T>(value: T | null): T {
  if (value === null) throw forbidden();
  return value;
}

function isProtected(project: SimProject, branch: string): boolean {
  return (project.protectedBranches ?? []).some((entry) => entry.name === branch);
}

/** Group members inherit their role; a direct membership on the project counts when it is higher. */
function allMembers(w: GitLabWorld, project: SimProject): SimMember[] {
  const byName = new Map(w.group.members.map((m) => [m.username, m]));
  for (const member of project.members) {
    const inherited = byName.get(member.username);
    if (!inherited || inherited.access_level < member.access_level) byName.set(member.username, member);
  }
  return [...byName.values()];
}

function commitsOf(project: SimProject, query: URLSearchParams): Wire[] {
  const branch = query.get("ref_name") ?? String(project.wire.default_branch);
  if (!project.branches.includes(branch) && !project.history.has(branch)) throw notFound("Branch");
  const since = query.get("since");
  const until = query.get("until");
  return (project.history.get(branch) ?? []).filter((commit) => {
    const at = Date.parse(String(commit.committed_date));
    return (!since || at >= Date.parse(since)) && (!until || at <= Date.parse(until));
  });
}

/** The entries of one directory of the project's files, as GET /repository/tree lists them. */
function treeOf(project: SimProject, directory: string): Wire[] {
  const prefix = directory ? `${directory.replace(/\/+$/, "")}/` : "";
  const entries = new Map<string, Wire>();
  for (const path of project.files.keys()) {
    if (!path.startsWith(prefix)) continue;
    const [name = "", ...deeper] = path.slice(prefix.length).split("/");
    const mode = deeper.length > 0 ? "040000" : (project.fileModes.get(path) ?? "100644");
    const type = mode === "040000" ? "tree" : mode === "160000" ? "commit" : "blob";
    entries.set(name, { id: "0".repeat(40), name, type, path: `${prefix}${name}`, mode });
  }
  if (entries.size === 0 && directory) throw notFound("Tree");
  return [...entries.values()];
}

/** Push events as GitLab lists them: `after`/`before` are dates and exclude the day itself. */
function pushEventsOf(project: SimProject, query: URLSearchParams): Wire[] {
  if (query.get("action") !== "pushed") return [];
  const day = (value: string) => value.slice(0, 10);
  const after = query.get("after");
  const before = query.get("before");
  const list = project.pushEvents
    .filter(
      (event) => (!after || day(event.created_at) > after) && (!before || day(event.created_at) < before),
    )
    .map((event) => ({
      id: event.id,
      project_id: project.wire.id,
      action_name: "pushed to",
      target_type: null,
      author_username: event.author_username,
      created_at: event.created_at,
      push_data: {
        commit_count: event.commit_count,
        action: "pushed",
        ref_type: "branch",
        commit_from: event.commit_from,
        commit_to: event.commit_to,
        ref: event.ref,
        commit_title: null,
      },
    }));
  return query.get("sort") === "asc" ? list : list.reverse();
}

function pipelinesOf(project: SimProject, query: URLSearchParams): Wire[] {
  const sha = query.get("sha");
  const list = project.pipelines.filter((pipeline) => !sha || pipeline.sha === sha);
  const sorted = [...list].sort((a, b) => Number(a.id) - Number(b.id));
  return query.get("sort") === "asc" ? sorted : sorted.reverse();
}

function mergeRequestsOf(project: SimProject, query: URLSearchParams): Wire[] {
  const state = query.get("state") ?? "all";
  const target = query.get("target_branch");
  const source = query.get("source_branch");
  const updatedAfter = query.get("updated_after");
  const list = project.mergeRequests
    .map((mr) => mr.wire)
    .filter((mr) => state === "all" || mr.state === state)
    .filter((mr) => !target || mr.target_branch === target)
    .filter((mr) => !source || mr.source_branch === source)
    .filter((mr) => !updatedAfter || Date.parse(String(mr.updated_at)) >= Date.parse(updatedAfter));
  const field = query.get("order_by") === "updated_at" ? "updated_at" : "created_at";
  list.sort((a, b) => String(a[field]).localeCompare(String(b[field])));
  return query.get("sort") === "asc" ? list : list.reverse();
}

function issueWire(project: SimProject, issue: SimIssue): Wire {
  return {
    id: issue.iid + 100_000,
    iid: issue.iid,
    project_id: project.wire.id,
    title: issue.title,
    description: issue.description,
    state: issue.state,
    labels: issue.labels,
    web_url: `${String(project.wire.web_url)}/-/issues/${issue.iid}`,
  };
}

/**
 * GitLab's issuable limits (title 255 characters, description 1,048,576), refused as its API
 * refuses an invalid issue: 400 with the model's validation messages by attribute.
 */
function refuseIssueOverLimits(body: Record<string, unknown>): void {
  const message: Record<string, string[]> = {};
  if (typeof body.title === "string" && characterLength(body.title) > GITLAB_LIMITS.issueTitleCharacters)
    message.title = [`is too long (maximum is ${GITLAB_LIMITS.issueTitleCharacters} characters)`];
  if (
    typeof body.description === "string" &&
    characterLength(body.description) > GITLAB_LIMITS.issueDescriptionCharacters
  )
    message.description = [`is too long (maximum is ${GITLAB_LIMITS.issueDescriptionCharacters} characters)`];
  if (Object.keys(message).length > 0) throw new Answer(400, { message });
}

/**
 * A note over 1,000,000 characters: the Notes API answers 400 with the note's errors as one
 * sentence ("400 Bad request - Note {:note=>[...]}").
 */
function refuseNoteOverLimit(text: unknown): void {
  if (typeof text !== "string" || characterLength(text) <= GITLAB_LIMITS.noteBodyCharacters) return;
  throw new Answer(400, {
    message: `400 Bad request - Note {:note=>["is too long (maximum is ${GITLAB_LIMITS.noteBodyCharacters} characters)"]}`,
  });
}

function labelsOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === "string"
    ? value
        .split(",")
        .map((label) => label.trim())
        .filter(Boolean)
    : [];
}

/** "projects/:id/merge_requests/:n" style keys for the stats. */
function routeKey(segments: string[]): string {
  return segments
    .map((segment, i) =>
      i === 1 && (segments[0] === "projects" || segments[0] === "groups")
        ? ":id"
        : /^(\d+|[0-9a-f]{40})$/.test(segment)
          ? ":n"
          : segment,
    )
    .join("/");
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    // A cap for the sim's own sake, above the largest body GitLab accepts (a 1,048,576-character
    // description of 4-byte characters, JSON-encoded): the sim must not refuse what GitLab stores.
    if (size > 16 * 1024 * 1024) throw new Answer(413, { message: "413 Request Entity Too Large" });
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
