/**
 * The routes an access review goes through (issue 15): a branch from the default branch's head, the
 * review file committed to it through the contents API, a pull request with labels, reviews, the
 * merge, and the removals an administrator (or the bot, with `apply: true`) makes afterwards. Each
 * write comes from the login of its token (world.tokens; otherwise the app's bot), so approvals and
 * commits carry the real actor, and a removal changes what the next audit reads (REST and GraphQL
 * read the same facts).
 */
import type { Commit, Known, Review } from "../../model/index.js";
import {
  list,
  orgOf,
  pullOf,
  repoOf,
  RouteError,
  text,
  type Route,
  type RouteAnswer,
  type RouteRequest,
} from "./rest-common.js";
import { reviewJson } from "./rest-protection.js";
import { pullJson, userJson, type Json } from "./rest-shapes.js";
import {
  BOT_LOGIN,
  branchHead,
  branchNames,
  loginOfToken,
  syntheticSha,
  userId,
  type SimCommit,
  type SimPull,
  type SimRepository,
  type World,
} from "./world.js";

const DOCS = "https://docs.github.com/rest";

/** A 422 "Validation Failed" with GitHub's `errors` list (what writeError reads the field from). */
function validationFailed(errors: unknown[]): RouteAnswer {
  return {
    status: 422,
    body: { message: "Validation Failed", errors, documentation_url: DOCS, status: "422" },
  };
}

export const REVIEW_ROUTES: Route[] = [
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/git/ref/{ref}",
    handle: (r) => {
      const repo = repoOf(r);
      const branch = headsBranch(r.params.ref ?? "");
      if (branch === null || !branchNames(repo).includes(branch)) throw new RouteError(404, "Not Found");
      return { status: 200, body: refJson(r, repo, branch) };
    },
  },
  {
    method: "POST",
    path: "/repos/{owner}/{repo}/git/refs",
    handle: (r) => {
      const repo = repoOf(r);
      const branch = headsBranch(text(r.body.ref, "ref").replace(/^refs\//, ""));
      const sha = text(r.body.sha, "sha");
      if (branch === null) throw new RouteError(422, "Reference name must start with 'refs/'");
      if (branchNames(repo).includes(branch)) throw new RouteError(422, "Reference already exists");
      const from = branchNames(repo).find((name) => branchHead(repo, name) === sha);
      if (!from && !repo.commits.has(sha)) throw new RouteError(422, "Object does not exist");
      createBranch(r.world, repo, branch, sha, from);
      return { status: 201, body: refJson(r, repo, branch) };
    },
  },
  {
    method: "PUT",
    path: "/repos/{owner}/{repo}/contents/{path}",
    handle: (r) => {
      const repo = repoOf(r);
      const path = r.params.path ?? "";
      const branch = typeof r.body.branch === "string" ? r.body.branch : repo.facts.defaultBranch;
      const message = text(r.body.message, "message");
      const content = Buffer.from(text(r.body.content, "content"), "base64").toString("utf8");
      if (!branchNames(repo).includes(branch)) throw new RouteError(404, `Branch ${branch} not found`);
      const existing = r.world.files.get(fileKey(repo, path, branch));
      if (existing !== undefined) {
        // GitHub asks for the blob being replaced, so a write based on an old read cannot clobber a newer one.
        if (typeof r.body.sha !== "string")
          throw new RouteError(422, `Invalid request.\n\n"sha" wasn't supplied.`, DOCS);
        if (r.body.sha !== syntheticSha(existing))
          throw new RouteError(409, `${path} does not match ${r.body.sha}`, DOCS);
      }
      const actor = loginOfToken(r.world, r.token);
      const commit = commitOnBranch(r.world, repo, branch, message, actor, new Map([[path, content]]));
      const blob = syntheticSha(content);
      const url = `${r.api}/repos/${repo.facts.fullName}/contents/${path}?ref=${branch}`;
      const html = `${r.world.webUrl}/${repo.facts.fullName}/blob/${branch}/${path}`;
      const git = `${r.api}/repos/${repo.facts.fullName}/git/blobs/${blob}`;
      return {
        status: existing === undefined ? 201 : 200,
        body: {
          content: {
            name: path.split("/").at(-1),
            path,
            sha: blob,
            size: Buffer.byteLength(content),
            url,
            html_url: html,
            git_url: git,
            download_url: `https://raw.githubusercontent.com/${repo.facts.fullName}/${branch}/${path}`,
            type: "file",
            _links: { self: url, git, html },
          },
          commit: gitCommitJson(r, repo, commit),
        },
      };
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/pulls",
    handle: (r) => {
      const repo = repoOf(r);
      const state = r.query.get("state") ?? "open";
      const base = r.query.get("base");
      const head = r.query.get("head");
      let pulls = base ? (repo.pullsByBase.get(base) ?? []) : [...repo.pullsByBase.values()].flat();
      if (!base) pulls = [...pulls].sort(byCreatedDesc);
      if (state !== "all") pulls = pulls.filter((p) => (state === "open") === (p.change.state === "open"));
      if (head !== null) {
        // "user:ref-name" or "organization:ref-name"; GitHub matches the branch of that owner's repository.
        const colon = head.indexOf(":");
        const owner = colon < 0 ? repo.owner : head.slice(0, colon);
        const branch = colon < 0 ? head : head.slice(colon + 1);
        pulls = owner === repo.owner ? pulls.filter((p) => p.change.headBranch === branch) : [];
      }
      if (r.query.get("direction") === "asc") pulls = [...pulls].reverse();
      return list(pulls, (p) => withLabels(r, repo, p, pullJson(r.world, r.api, repo, p, false)));
    },
  },
  {
    method: "POST",
    path: "/repos/{owner}/{repo}/pulls",
    handle: (r) => {
      const repo = repoOf(r);
      const title = text(r.body.title, "title");
      const headParam = text(r.body.head, "head");
      const head = headParam.includes(":") ? headParam.slice(headParam.indexOf(":") + 1) : headParam;
      const base = text(r.body.base, "base");
      const branches = branchNames(repo);
      if (!branches.includes(head))
        return validationFailed([{ resource: "PullRequest", field: "head", code: "invalid" }]);
      if (!branches.includes(base))
        return validationFailed([{ resource: "PullRequest", field: "base", code: "invalid" }]);
      const open = [...repo.pulls.values()].find(
        (p) => p.change.state === "open" && p.change.headBranch === head && p.change.baseBranch === base,
      );
      if (open)
        return validationFailed([
          {
            resource: "PullRequest",
            code: "custom",
            message: `A pull request already exists for ${repo.owner}:${head}.`,
          },
        ]);
      const commits = aheadOf(repo, head, base);
      if (commits.length === 0)
        return validationFailed([
          { resource: "PullRequest", code: "custom", message: `No commits between ${base} and ${head}` },
        ]);
      const actor = loginOfToken(r.world, r.token);
      const now = r.world.now();
      const number = repo.nextNumber++;
      const html = `${r.world.webUrl}/${repo.facts.fullName}/pull/${number}`;
      const pull: SimPull = {
        id: 500_000_000 + repo.id * 100_000 + number,
        updatedAt: now,
        labels: [],
        body: typeof r.body.body === "string" ? r.body.body : null,
        change: {
          repository: repo.facts.fullName,
          number,
          title,
          url: html,
          author: actor,
          authorKind: actor === BOT_LOGIN ? "bot" : "user",
          state: "open",
          draft: r.body.draft === true,
          baseBranch: base,
          headBranch: head,
          headSha: branchHead(repo, head),
          mergeCommitSha: null,
          createdAt: now,
          mergedAt: null,
          mergedBy: null,
          commits: commits.map(modelCommit),
          commitsTruncated: false,
          pushes: [],
          reviews: [],
          checks: [],
          truncated: [],
          mergedByQueue: false,
          bypassedProtection: { known: true, value: false },
        },
      };
      for (const commit of commits) commit.pullNumbers.push(number);
      repo.pulls.set(number, pull);
      repo.pullsByBase.set(base, [pull, ...(repo.pullsByBase.get(base) ?? [])]);
      return { status: 201, body: withLabels(r, repo, pull, pullJson(r.world, r.api, repo, pull, true)) };
    },
  },
  {
    method: "POST",
    path: "/repos/{owner}/{repo}/issues/{issue_number}/labels",
    handle: (r) => {
      const repo = repoOf(r);
      const number = Number(r.params.issue_number);
      const target = repo.pulls.get(number) ?? repo.issues.get(number);
      if (!target) throw new RouteError(404, "Not Found");
      const asked = Array.isArray(r.body.labels) ? r.body.labels : [];
      const names = asked.map((l: unknown) =>
        typeof l === "string" ? l : String((l as { name?: unknown }).name),
      );
      const labels = "change" in target ? (target.labels ??= []) : target.labels;
      // GitHub creates a label the repository lacks, and adding one twice keeps one.
      for (const name of names) if (!labels.includes(name)) labels.push(name);
      return { status: 200, body: labels.map((name) => labelJson(r, repo, name)) };
    },
  },
  {
    method: "POST",
    path: "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
    handle: (r) => {
      const { repo, pull } = pullOf(r);
      const actor = loginOfToken(r.world, r.token);
      const event = typeof r.body.event === "string" ? r.body.event : null;
      const state: Review["state"] | null =
        event === "APPROVE"
          ? "approved"
          : event === "REQUEST_CHANGES"
            ? "changes_requested"
            : event === "COMMENT"
              ? "commented"
              : event === null
                ? "pending"
                : null;
      if (state === null)
        return validationFailed([{ resource: "PullRequestReview", field: "event", code: "invalid" }]);
      if (pull.change.state !== "open")
        throw new RouteError(422, "Unprocessable Entity: the pull request is closed", DOCS);
      if (actor === pull.change.author && (state === "approved" || state === "changes_requested"))
        return validationFailed([
          state === "approved"
            ? "Can not approve your own pull request"
            : "Can not request changes on your own pull request",
        ]);
      const commit = typeof r.body.commit_id === "string" ? r.body.commit_id : pull.change.headSha;
      if (!repo.commits.has(commit))
        return validationFailed([{ resource: "PullRequestReview", field: "commit_id", code: "invalid" }]);
      const review: Review = {
        reviewer: actor,
        reviewerKind: actor === BOT_LOGIN ? "bot" : "user",
        authorCanPush: true,
        state,
        submittedAt: r.world.now(),
        commitSha: commit,
      };
      pull.change = { ...pull.change, reviews: [...pull.change.reviews, review] };
      pull.updatedAt = review.submittedAt;
      const index = pull.change.reviews.length - 1;
      const body = reviewJson(r.world, r.api, repo, pull, review, index);
      return { status: 200, body: { ...body, body: typeof r.body.body === "string" ? r.body.body : "" } };
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/pulls/{pull_number}/files",
    handle: (r) => {
      const { repo, pull } = pullOf(r);
      const paths = [
        ...new Set(pull.change.commits.flatMap((c) => repo.commits.get(c.sha)?.changedFiles ?? [])),
      ].sort();
      const at = pull.change.headSha;
      return list(paths, (path) => {
        const content = r.world.files.get(fileKey(repo, path, at)) ?? "";
        const lines = content.split("\n").length;
        return {
          sha: syntheticSha(content),
          filename: path,
          status: "added",
          additions: lines,
          deletions: 0,
          changes: lines,
          blob_url: `${r.world.webUrl}/${repo.facts.fullName}/blob/${at}/${path}`,
          raw_url: `${r.world.webUrl}/${repo.facts.fullName}/raw/${at}/${path}`,
          contents_url: `${r.api}/repos/${repo.facts.fullName}/contents/${path}?ref=${at}`,
        };
      });
    },
  },
  {
    method: "PUT",
    path: "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
    handle: (r) => {
      const { repo, pull } = pullOf(r);
      const change = pull.change;
      if (change.state !== "open") throw new RouteError(405, "Pull Request is not mergeable", DOCS);
      if (typeof r.body.sha === "string" && r.body.sha !== change.headSha)
        throw new RouteError(409, "Head branch was modified. Review and try the merge again.", DOCS);
      const actor = loginOfToken(r.world, r.token);
      const now = r.world.now();
      const files = branchFiles(r.world, repo, change.headBranch);
      const title =
        typeof r.body.commit_title === "string"
          ? r.body.commit_title
          : `Merge pull request #${change.number} from ${repo.owner}/${change.headBranch}`;
      const merge = commitOnBranch(
        r.world,
        repo,
        change.baseBranch,
        `${title}\n\n${change.title}`,
        actor,
        files,
        [change.headSha],
      );
      merge.pullNumbers.push(change.number);
      pull.change = { ...change, state: "merged", mergedAt: now, mergedBy: actor, mergeCommitSha: merge.sha };
      pull.updatedAt = now;
      return {
        status: 200,
        body: { sha: merge.sha, merged: true, message: "Pull Request successfully merged" },
      };
    },
  },
  {
    method: "DELETE",
    path: "/repos/{owner}/{repo}/collaborators/{username}",
    handle: (r) => {
      const repo = repoOf(r);
      const login = (r.params.username ?? "").toLowerCase();
      repo.facts = {
        ...repo.facts,
        collaborators: without(repo.facts.collaborators, (c) => c.login.toLowerCase() === login),
      };
      // An outside collaborator removed from their last repository is no longer one of the organization.
      const org = r.world.snapshot.organization;
      const elsewhere = [...r.world.repositories.values()].some(
        (other) =>
          other.facts.collaborators.known &&
          other.facts.collaborators.value.some((c) => c.login.toLowerCase() === login),
      );
      if (org && org.login === repo.owner && !elsewhere)
        r.world.snapshot = {
          ...r.world.snapshot,
          organization: {
            ...org,
            outsideCollaborators: without(org.outsideCollaborators, (l) => l.toLowerCase() === login),
          },
        };
      return { status: 204, body: undefined };
    },
  },
  {
    method: "DELETE",
    path: "/orgs/{org}/memberships/{username}",
    handle: (r) => {
      const org = orgOf(r);
      const login = (r.params.username ?? "").toLowerCase();
      const members = org.members.known ? org.members.value : [];
      if (!members.some((m) => m.login.toLowerCase() === login)) throw new RouteError(404, "Not Found");
      r.world.snapshot = {
        ...r.world.snapshot,
        organization: {
          ...org,
          members: without(org.members, (m) => m.login.toLowerCase() === login),
          membersWithoutTwoFactor: without(org.membersWithoutTwoFactor, (m) => m.toLowerCase() === login),
        },
      };
      // A member removed from the organization loses the repository access membership gave; an
      // outside collaborator's own grants are not membership.
      for (const repo of r.world.repositories.values())
        repo.facts = {
          ...repo.facts,
          collaborators: without(
            repo.facts.collaborators,
            (c) => !c.outside && c.login.toLowerCase() === login,
          ),
        };
      return { status: 204, body: undefined };
    },
  },
  {
    method: "DELETE",
    path: "/repos/{owner}/{repo}/keys/{key_id}",
    handle: (r) => {
      const repo = repoOf(r);
      const id = r.params.key_id ?? "";
      repo.facts = {
        ...repo.facts,
        deployKeys: without(
          repo.facts.deployKeys,
          (k) => k.id === id || String(Number(k.id) || userId(r.world, `key:${k.id}`)) === id,
        ),
      };
      return { status: 204, body: undefined };
    },
  },
  {
    method: "DELETE",
    path: "/orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}",
    handle: (r) => {
      orgOf(r);
      const repo = repoOf(r);
      const slug = r.params.team_slug ?? "";
      repo.facts = { ...repo.facts, teams: without(repo.facts.teams, (t) => t.slug === slug) };
      return { status: 204, body: undefined };
    },
  },
];

/** "heads/<branch>" (the form GET …/git/ref/{ref} takes) → the branch; anything else null. */
function headsBranch(ref: string): string | null {
  return ref.startsWith("heads/") && ref.length > "heads/".length ? ref.slice("heads/".length) : null;
}

function refJson(r: RouteRequest, repo: SimRepository, branch: string): Json {
  const sha = branchHead(repo, branch);
  return {
    ref: `refs/heads/${branch}`,
    node_id: Buffer.from(`Ref:${repo.id}:${branch}`).toString("base64"),
    url: `${r.api}/repos/${repo.facts.fullName}/git/refs/heads/${branch}`,
    object: { type: "commit", sha, url: `${r.api}/repos/${repo.facts.fullName}/git/commits/${sha}` },
  };
}

function fileKey(repo: SimRepository, path: string, ref: string): string {
  return `${repo.facts.fullName}:${path}@${ref}`;
}

/** The files a ref holds, by path (the world keeps each file by "owner/repo:path@ref"). */
function branchFiles(world: World, repo: SimRepository, ref: string): Map<string, string> {
  const prefix = `${repo.facts.fullName}:`;
  const suffix = `@${ref}`;
  const files = new Map<string, string>();
  for (const [key, content] of world.files)
    if (key.startsWith(prefix) && key.endsWith(suffix))
      files.set(key.slice(prefix.length, -suffix.length), content);
  return files;
}

/** A new branch at `sha`: its history and files are those of the branch it was taken from. */
function createBranch(
  world: World,
  repo: SimRepository,
  branch: string,
  sha: string,
  from: string | undefined,
): void {
  const history = from ? (repo.branchCommits.get(from) ?? []) : [];
  const at = history.findIndex((c) => c.sha === sha);
  let commits = at >= 0 ? history.slice(at) : [];
  if (commits.length === 0) {
    // A head the world knows no history of (a synthetic default-branch head): it becomes a root commit.
    const root = repo.commits.get(sha) ?? rootCommit(sha);
    repo.commits.set(sha, root);
    commits = [root];
  }
  repo.branchCommits.set(branch, [...commits]);
  const files = from ? branchFiles(world, repo, from) : new Map<string, string>();
  for (const [path, content] of files) {
    world.files.set(fileKey(repo, path, branch), content);
    world.files.set(fileKey(repo, path, sha), content);
  }
}

function rootCommit(sha: string): SimCommit {
  // Dated before any audit period: the default branch's history began before the review.
  const at = "2020-01-01T00:00:00Z";
  return {
    sha,
    message: "Initial commit",
    authorLogin: null,
    authorName: "GitHub",
    committerLogin: null,
    authoredAt: at,
    committedAt: at,
    parents: [],
    pullNumbers: [],
  };
}

/**
 * A commit by `actor` on `branch` changing `files` (the rest of the branch's files are kept): the
 * branch's new head. An open pull request of the branch gets it as its new head, as a push does.
 */
function commitOnBranch(
  world: World,
  repo: SimRepository,
  branch: string,
  message: string,
  actor: string,
  files: ReadonlyMap<string, string>,
  otherParents: string[] = [],
): SimCommit {
  const parent = branchHead(repo, branch);
  const now = world.now();
  const sha = syntheticSha(`${repo.id}:${branch}:${parent}:${++world.nextId}`);
  const commit: SimCommit = {
    sha,
    message,
    authorLogin: actor,
    authorName: actor,
    committerLogin: actor,
    authoredAt: now,
    committedAt: now,
    parents: [parent, ...otherParents],
    pullNumbers: [],
    ...(otherParents.length === 0 ? { changedFiles: [...files.keys()] } : {}),
  };
  repo.commits.set(sha, commit);
  repo.branchCommits.set(branch, [commit, ...(repo.branchCommits.get(branch) ?? [])]);
  const tree = new Map([...branchFiles(world, repo, branch), ...files]);
  for (const [path, content] of tree) {
    world.files.set(fileKey(repo, path, branch), content);
    world.files.set(fileKey(repo, path, sha), content);
  }
  for (const pull of repo.pulls.values()) {
    if (pull.change.state !== "open" || pull.change.headBranch !== branch) continue;
    commit.pullNumbers.push(pull.change.number);
    pull.change = {
      ...pull.change,
      headSha: sha,
      commits: [...pull.change.commits, modelCommit(commit)],
      pushes: [...pull.change.pushes, { at: now, actor, headSha: sha, forced: false }],
    };
    pull.updatedAt = now;
  }
  return commit;
}

/** The commits of `head` that `base` lacks, oldest first (what a pull request of head into base holds). */
function aheadOf(repo: SimRepository, head: string, base: string): SimCommit[] {
  const onBase = new Set((repo.branchCommits.get(base) ?? []).map((c) => c.sha));
  onBase.add(branchHead(repo, base));
  const ahead: SimCommit[] = [];
  for (const commit of repo.branchCommits.get(head) ?? []) {
    if (onBase.has(commit.sha)) break;
    ahead.push(commit);
  }
  return ahead.reverse();
}

function modelCommit(commit: SimCommit): Commit {
  return {
    sha: commit.sha,
    authorLogin: commit.authorLogin,
    authorName: commit.authorName,
    authorEmail: null,
    authorKind: commit.authorLogin === BOT_LOGIN ? "bot" : "user",
    committerLogin: commit.committerLogin,
    committerKind: commit.committerLogin === BOT_LOGIN ? "bot" : "user",
    coAuthors: [],
    authoredAt: commit.authoredAt,
    committedAt: commit.committedAt,
  };
}

/** GET …/git/commits' shape, as the contents API's answer carries it ("file-commit".commit). */
function gitCommitJson(r: RouteRequest, repo: SimRepository, commit: SimCommit): Json {
  const url = `${r.api}/repos/${repo.facts.fullName}/git/commits/${commit.sha}`;
  const person = (login: string | null, date: string) => ({
    name: login ?? "GitHub",
    email: `${login ?? "noreply"}@users.noreply.github.com`,
    date,
  });
  return {
    sha: commit.sha,
    node_id: Buffer.from(`Commit:${commit.sha}`).toString("base64"),
    url,
    html_url: `${r.world.webUrl}/${repo.facts.fullName}/commit/${commit.sha}`,
    author: person(commit.authorLogin, commit.authoredAt),
    committer: person(commit.committerLogin, commit.committedAt),
    message: commit.message,
    tree: {
      sha: syntheticSha(`tree:${commit.sha}`),
      url: `${r.api}/repos/${repo.facts.fullName}/git/trees/${syntheticSha(`tree:${commit.sha}`)}`,
    },
    parents: commit.parents.map((sha) => ({
      sha,
      url: `${r.api}/repos/${repo.facts.fullName}/git/commits/${sha}`,
      html_url: `${r.world.webUrl}/${repo.facts.fullName}/commit/${sha}`,
    })),
    verification: { verified: false, reason: "unsigned", signature: null, payload: null, verified_at: null },
  };
}

function labelJson(r: RouteRequest, repo: SimRepository, name: string): Json {
  const id = userId(r.world, `label:${repo.facts.fullName}:${name}`);
  return {
    id,
    node_id: Buffer.from(`Label:${id}`).toString("base64"),
    url: `${r.api}/repos/${repo.facts.fullName}/labels/${encodeURIComponent(name)}`,
    name,
    description: null,
    color: "ededed",
    default: false,
  };
}

/** A pull request's answer with the labels and description it was opened with. */
function withLabels(r: RouteRequest, repo: SimRepository, pull: SimPull, json: Json): Json {
  return {
    ...json,
    labels: (pull.labels ?? []).map((name) => labelJson(r, repo, name)),
    body: pull.body ?? null,
    user: userJson(r.world, r.api, pull.change.author, pull.change.authorKind === "bot" ? "Bot" : "User"),
  };
}

function byCreatedDesc(a: SimPull, b: SimPull): number {
  return a.change.createdAt < b.change.createdAt
    ? 1
    : a.change.createdAt > b.change.createdAt
      ? -1
      : b.change.number - a.change.number;
}

function without<T>(fact: Known<T[]>, removed: (item: T) => boolean): Known<T[]> {
  return fact.known ? { known: true, value: fact.value.filter((item) => !removed(item)) } : fact;
}
