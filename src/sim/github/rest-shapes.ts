/**
 * GitHub's REST JSON for the world's objects, with every field GitHub's OpenAPI description marks
 * required (test/sim/honesty.test.ts validates them against it), so a client cannot come to rely on
 * a field the real API would not send.
 */
import type { Permission } from "../../model/index.js";
import {
  syntheticSha,
  userId,
  type SimCheckRun,
  type SimCommit,
  type SimIssue,
  type SimPull,
  type SimRepository,
  type SimStatus,
  type World,
} from "./world.js";

export type Json = Record<string, unknown>;

function nodeId(kind: string, id: number | string): string {
  return Buffer.from(`${kind}:${id}`).toString("base64");
}

export function userJson(
  world: World,
  api: string,
  login: string,
  type: "User" | "Bot" | "Organization" = "User",
): Json {
  const id = userId(world, login);
  const url = `${api}/users/${encodeURIComponent(login)}`;
  return {
    login,
    id,
    node_id: nodeId("User", id),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: "",
    url,
    html_url: `${world.webUrl}/${encodeURIComponent(login)}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type,
    site_admin: false,
  };
}

const REPO_URLS: Record<string, string> = {
  archive_url: "/{archive_format}{/ref}",
  assignees_url: "/assignees{/user}",
  blobs_url: "/git/blobs{/sha}",
  branches_url: "/branches{/branch}",
  collaborators_url: "/collaborators{/collaborator}",
  comments_url: "/comments{/number}",
  commits_url: "/commits{/sha}",
  compare_url: "/compare/{base}...{head}",
  contents_url: "/contents/{+path}",
  contributors_url: "/contributors",
  deployments_url: "/deployments",
  downloads_url: "/downloads",
  events_url: "/events",
  forks_url: "/forks",
  git_commits_url: "/git/commits{/sha}",
  git_refs_url: "/git/refs{/sha}",
  git_tags_url: "/git/tags{/sha}",
  hooks_url: "/hooks",
  issue_comment_url: "/issues/comments{/number}",
  issue_events_url: "/issues/events{/number}",
  issues_url: "/issues{/number}",
  keys_url: "/keys{/key_id}",
  labels_url: "/labels{/name}",
  languages_url: "/languages",
  merges_url: "/merges",
  milestones_url: "/milestones{/number}",
  notifications_url: "/notifications{?since,all,participating}",
  pulls_url: "/pulls{/number}",
  releases_url: "/releases{/id}",
  stargazers_url: "/stargazers",
  statuses_url: "/statuses/{sha}",
  subscribers_url: "/subscribers",
  subscription_url: "/subscription",
  tags_url: "/tags",
  teams_url: "/teams",
  trees_url: "/git/trees{/sha}",
};

export function minimalRepositoryJson(world: World, api: string, repo: SimRepository): Json {
  const url = `${api}/repos/${repo.owner}/${repo.name}`;
  const urls = Object.fromEntries(Object.entries(REPO_URLS).map(([k, v]) => [k, url + v]));
  return {
    id: repo.id,
    node_id: nodeId("Repository", repo.id),
    name: repo.name,
    full_name: repo.facts.fullName,
    owner: userJson(world, api, repo.owner, "Organization"),
    private: repo.facts.visibility !== "public",
    visibility: repo.facts.visibility,
    html_url: `${world.webUrl}/${repo.facts.fullName}`,
    description: null,
    fork: false,
    url,
    ...urls,
    archived: repo.facts.archived,
    disabled: false,
    default_branch: repo.facts.defaultBranch,
  };
}

export function fullRepositoryJson(world: World, api: string, repo: SimRepository): Json {
  const at = world.snapshot.collectedAt;
  return {
    ...minimalRepositoryJson(world, api, repo),
    clone_url: `${world.webUrl}/${repo.facts.fullName}.git`,
    git_url: `git://github.com/${repo.facts.fullName}.git`,
    ssh_url: `git@github.com:${repo.facts.fullName}.git`,
    svn_url: `${world.webUrl}/${repo.facts.fullName}`,
    mirror_url: null,
    homepage: null,
    language: "TypeScript",
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    size: 1024,
    open_issues: 0,
    open_issues_count: 0,
    has_issues: true,
    has_projects: false,
    has_wiki: false,
    has_pages: false,
    has_discussions: false,
    has_downloads: false,
    license: null,
    pushed_at: at,
    created_at: "2020-01-01T00:00:00Z",
    updated_at: at,
    network_count: 0,
    subscribers_count: 0,
  };
}

export function permissionFlags(permission: Permission): Json {
  const rank = ["none", "read", "triage", "write", "maintain", "admin"].indexOf(permission);
  return { pull: rank >= 1, triage: rank >= 2, push: rank >= 3, maintain: rank >= 4, admin: rank >= 5 };
}

/** GitHub's words for the model's permission levels (teams say pull/push, roles say read/write). */
export function githubPermission(permission: Permission): string {
  return (
    {
      none: "none",
      read: "pull",
      triage: "triage",
      write: "push",
      maintain: "maintain",
      admin: "admin",
    } as const
  )[permission];
}

export function commitJson(world: World, api: string, repo: SimRepository, commit: SimCommit): Json {
  const url = `${api}/repos/${repo.facts.fullName}/commits/${commit.sha}`;
  const person = (login: string | null) => (login ? userJson(world, api, login) : null);
  return {
    url,
    sha: commit.sha,
    node_id: nodeId("Commit", commit.sha),
    html_url: `${world.webUrl}/${repo.facts.fullName}/commit/${commit.sha}`,
    comments_url: `${url}/comments`,
    commit: {
      url: `${api}/repos/${repo.facts.fullName}/git/commits/${commit.sha}`,
      author: {
        name: commit.authorName,
        email: `${commit.authorLogin ?? "unknown"}@users.noreply.github.com`,
        date: commit.authoredAt,
      },
      committer: {
        name: commit.committerLogin ?? "GitHub",
        email: "noreply@github.com",
        date: commit.committedAt,
      },
      message: commit.message,
      comment_count: 0,
      tree: {
        sha: commit.sha.split("").reverse().join(""),
        url: `${api}/repos/${repo.facts.fullName}/git/trees/${commit.sha}`,
      },
    },
    author: person(commit.authorLogin),
    committer: person(commit.committerLogin),
    parents: commit.parents.map((sha) => ({
      sha,
      url: `${api}/repos/${repo.facts.fullName}/commits/${sha}`,
      html_url: `${world.webUrl}/${repo.facts.fullName}/commit/${sha}`,
    })),
  };
}

export function pullJson(world: World, api: string, repo: SimRepository, pull: SimPull, full: boolean): Json {
  const c = pull.change;
  const url = `${api}/repos/${repo.facts.fullName}/pulls/${c.number}`;
  const issueUrl = `${api}/repos/${repo.facts.fullName}/issues/${c.number}`;
  const html = `${world.webUrl}/${repo.facts.fullName}/pull/${c.number}`;
  const closedAt = c.state === "open" ? null : (c.mergedAt ?? pull.updatedAt);
  const ref = (branch: string, sha: string) => ({
    label: `${repo.owner}:${branch}`,
    ref: branch,
    sha,
    user: userJson(world, api, repo.owner, "Organization"),
    repo: fullRepositoryJson(world, api, repo),
  });
  const base = {
    url,
    id: pull.id,
    node_id: nodeId("PullRequest", pull.id),
    html_url: c.url || html,
    diff_url: `${html}.diff`,
    patch_url: `${html}.patch`,
    issue_url: issueUrl,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    review_comment_url: `${api}/repos/${repo.facts.fullName}/pulls/comments{/number}`,
    comments_url: `${issueUrl}/comments`,
    statuses_url: `${api}/repos/${repo.facts.fullName}/statuses/${c.headSha}`,
    number: c.number,
    state: c.state === "open" ? "open" : "closed",
    locked: false,
    title: c.title,
    user: userJson(world, api, c.author),
    body: null,
    labels: [],
    milestone: null,
    active_lock_reason: null,
    created_at: c.createdAt,
    updated_at: pull.updatedAt,
    closed_at: closedAt,
    merged_at: c.mergedAt,
    merge_commit_sha: c.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: ref(c.headBranch, c.headSha),
    base: ref(c.baseBranch, syntheticSha(`${repo.id}:${c.number}:base`)),
    _links: {
      self: { href: url },
      html: { href: html },
      issue: { href: issueUrl },
      comments: { href: `${issueUrl}/comments` },
      review_comments: { href: `${url}/comments` },
      review_comment: { href: `${api}/repos/${repo.facts.fullName}/pulls/comments{/number}` },
      commits: { href: `${url}/commits` },
      statuses: { href: `${api}/repos/${repo.facts.fullName}/statuses/${c.headSha}` },
    },
    author_association: "MEMBER",
    auto_merge: null,
    draft: c.draft,
  };
  if (!full) return base;
  return {
    ...base,
    merged: c.state === "merged",
    mergeable: c.state === "open" ? true : null,
    mergeable_state: c.state === "open" ? "clean" : "unknown",
    merged_by: c.mergedBy ? userJson(world, api, c.mergedBy) : null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: false,
    // The count GitHub reports can exceed the commits it lists: that is what commitsTruncated records.
    commits: c.commits.length + (c.commitsTruncated ? 1 : 0),
    additions: 10,
    deletions: 2,
    changed_files: 1,
  };
}

export function checkRunJson(world: World, api: string, repo: SimRepository, run: SimCheckRun): Json {
  const url = `${api}/repos/${repo.facts.fullName}/check-runs/${run.id}`;
  const app = {
    id: userId(world, `app:${run.app}`),
    slug: run.app,
    node_id: nodeId("App", run.app),
    owner: userJson(world, api, repo.owner, "Organization"),
    name: run.app,
    description: null,
    external_url: world.webUrl,
    html_url: `${world.webUrl}/apps/${run.app}`,
    created_at: "2020-01-01T00:00:00Z",
    updated_at: "2020-01-01T00:00:00Z",
    permissions: {},
    events: [],
  };
  return {
    id: run.id,
    node_id: nodeId("CheckRun", run.id),
    head_sha: run.headSha,
    external_id: "",
    url,
    html_url: `${world.webUrl}/${repo.facts.fullName}/runs/${run.id}`,
    details_url: run.detailsUrl,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    output: {
      title: run.title,
      summary: run.summary,
      text: null,
      annotations_count: 0,
      annotations_url: `${url}/annotations`,
    },
    name: run.name,
    check_suite: { id: run.id + 1 },
    app,
    pull_requests: [],
  };
}

export function statusJson(world: World, api: string, repo: SimRepository, status: SimStatus): Json {
  return {
    url: `${api}/repos/${repo.facts.fullName}/statuses/${status.sha}`,
    avatar_url: null,
    id: status.id,
    node_id: nodeId("StatusContext", status.id),
    state: status.state,
    description: status.description,
    target_url: status.targetUrl,
    context: status.context,
    created_at: status.createdAt,
    updated_at: status.createdAt,
    creator: userJson(world, api, status.creator),
  };
}

export function issueJson(world: World, api: string, repo: SimRepository, issue: SimIssue): Json {
  const url = `${api}/repos/${repo.facts.fullName}/issues/${issue.number}`;
  return {
    id: issue.id,
    node_id: nodeId("Issue", issue.id),
    url,
    repository_url: `${api}/repos/${repo.facts.fullName}`,
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: `${world.webUrl}/${repo.facts.fullName}/issues/${issue.number}`,
    number: issue.number,
    state: issue.state,
    title: issue.title,
    body: issue.body,
    user: userJson(world, api, issue.author, "Bot"),
    labels: issue.labels.map((name) => ({
      id: userId(world, `label:${name}`),
      node_id: nodeId("Label", name),
      url: `${api}/repos/${repo.facts.fullName}/labels/${encodeURIComponent(name)}`,
      name,
      description: null,
      color: "ededed",
      default: false,
    })),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments: issue.comments.length,
    closed_at: issue.closedAt,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    author_association: "NONE",
  };
}
