/**
 * The simulated organization: a Snapshot turned into the objects a GitHub serves (branches with their
 * commit history, rulesets with ids, pull requests indexed for listing, users with ids) plus the
 * stores the bot writes to (issues, comments, check runs, statuses). Facts the snapshot marks
 * unreadable stay unreadable: the routes answer 403 for them, so the collector must say "unknown".
 */
import { createHash } from "node:crypto";
import type { BranchRule, ChangeRequest, CoAuthor, Known, Repository, Snapshot } from "../../model/index.js";

export interface SimCommit {
  sha: string;
  message: string;
  authorLogin: string | null;
  authorName: string;
  committerLogin: string | null;
  authoredAt: string;
  committedAt: string;
  parents: string[];
  /** Pull requests this commit belongs to (merge commit or PR commit). */
  pullNumbers: number[];
  /** The author's e-mail as the commit records it; absent: the author's no-reply address. */
  authorEmail?: string | null;
  /** Co-authors: each in GraphQL's `authors` and a Co-authored-by line of the message. */
  coAuthors?: CoAuthor[];
  /** Paths the commit changed, for commits written through the contents API (a pull request's files). */
  changedFiles?: string[];
}

export interface SimPull {
  id: number;
  change: ChangeRequest;
  /** GitHub sorts pull request lists by this; the model has no updatedAt, so the last event. */
  updatedAt: string;
  /** Labels and description of a pull request opened through the REST API (the snapshot's have none). */
  labels?: string[];
  body?: string | null;
}

/** A ruleset derived from a branch rule whose sources name "ruleset:ID". */
export interface SimRuleset {
  id: number;
  name: string;
  branch: string;
  rule: BranchRule;
}

export interface SimIssue {
  id: number;
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  labels: string[];
  author: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  comments: SimComment[];
}

export interface SimComment {
  id: number;
  body: string;
  author: string;
  createdAt: string;
}

export interface SimCheckRun {
  id: number;
  headSha: string;
  name: string;
  status: "queued" | "in_progress" | "completed";
  conclusion: string | null;
  detailsUrl: string | null;
  startedAt: string;
  completedAt: string | null;
  title: string | null;
  summary: string | null;
  /** The app that wrote it: "sim-ci" for the snapshot's checks, the bot's slug for its own. */
  app: string;
  /** Annotations the bot's writes gave it (an update adds to them, as on GitHub). */
  annotations?: unknown[];
  /**
   * The app GraphQL shows for the run's check suite, from the snapshot's check (null: none shown);
   * absent for the runs the bot writes (their app is `app`).
   */
  suiteApp?: { id: number | null; slug: string } | null;
}

export interface SimStatus {
  id: number;
  sha: string;
  context: string;
  state: "success" | "failure" | "error" | "pending";
  targetUrl: string | null;
  description: string | null;
  createdAt: string;
  creator: string;
  /** Who GraphQL says posted it, from the snapshot's check (null: not shown); absent: `creator`. */
  reportedBy?: string | null;
}

export interface SimRepository {
  id: number;
  owner: string;
  name: string;
  facts: Repository;
  rulesets: SimRuleset[];
  pulls: Map<number, SimPull>;
  /** Pull requests by base branch, most recently updated first (the order GitHub lists them). */
  pullsByBase: Map<string, SimPull[]>;
  /** Commits of each branch, newest first. */
  branchCommits: Map<string, SimCommit[]>;
  commits: Map<string, SimCommit>;
  checkRuns: SimCheckRun[];
  statuses: SimStatus[];
  issues: Map<number, SimIssue>;
  nextNumber: number;
  /** Branches deleted after their merges: their pull requests remain, the branches do not. */
  deletedBranches?: Set<string>;
}

export interface World {
  /** Web base for html_url links, e.g. "https://github.com". */
  webUrl: string;
  snapshot: Snapshot;
  repositories: Map<string, SimRepository>;
  /** Stable numeric ids of every login the world mentions. */
  userIds: Map<string, number>;
  /** Policy files by "owner/repo:path@ref". */
  files: Map<string, string>;
  /** Shared id counter for everything the bot creates (issues, comments, check runs, statuses). */
  nextId: number;
  /** The clock used for what the bot writes, so tests are deterministic. */
  now: () => string;
  /**
   * Tokens of people (a reviewer, an administrator), by token: which login a write made with one
   * comes from. Any other token is the app's installation token: its writes come from BOT_LOGIN.
   */
  tokens?: Map<string, string>;
}

/** Who the app's own writes come from (pull requests, issues, check runs): its bot account. */
export const BOT_LOGIN = "soc2-bot[bot]";

/** The login a write made with `token` comes from. */
export function loginOfToken(world: World, token: string | undefined): string {
  return (token !== undefined && world.tokens?.get(token)) || BOT_LOGIN;
}

export function createWorld(
  snapshot: Snapshot,
  options: {
    now?: () => string;
    /** Branches ("owner/repo:branch") deleted after their merges: listed nowhere, refs null. */
    deletedBranches?: string[];
  } = {},
): World {
  const world: World = {
    webUrl: "https://github.com",
    snapshot,
    repositories: new Map(),
    userIds: new Map(),
    files: new Map(),
    nextId: 1_000_000,
    now: options.now ?? (() => snapshot.collectedAt),
  };
  let repoId = 1000;
  for (const facts of snapshot.repositories) {
    const [owner = "", name = ""] = facts.fullName.split("/");
    world.repositories.set(facts.fullName, emptyRepository(++repoId, owner, name, facts));
  }
  for (const deleted of options.deletedBranches ?? []) {
    const [fullName = "", branch = ""] = deleted.split(":");
    const repo = world.repositories.get(fullName);
    if (repo) (repo.deletedBranches ??= new Set()).add(branch);
  }
  for (const change of snapshot.changeRequests) addPull(world, change);
  for (const repo of world.repositories.values()) {
    for (const pulls of repo.pullsByBase.values()) pulls.sort(byUpdatedDesc);
    buildBranchHistory(repo, snapshot);
  }
  // Files are served by "owner/repo:path@ref"; an organization layer's path names no ref (it is read
  // from the default branch), so it is stored under the repository's default branch.
  for (const file of snapshot.policyFiles) {
    const repository = file.path.slice(0, file.path.indexOf(":"));
    const ref = world.repositories.get(repository)?.facts.defaultBranch ?? "main";
    world.files.set(file.path.includes("@") ? file.path : `${file.path}@${ref}`, file.content);
  }
  return world;
}

export function userId(world: World, login: string): number {
  let id = world.userIds.get(login);
  if (id === undefined) {
    // Derived from the login so the same user has the same id in every world.
    id = 10_000 + (createHash("sha256").update(login).digest().readUInt32BE(0) % 90_000_000);
    world.userIds.set(login, id);
  }
  return id;
}

/** A 40-hex sha for synthetic objects (branch heads without history, merge parents). */
export function syntheticSha(seed: string): string {
  return createHash("sha1").update(seed).digest("hex");
}

export function findRepository(world: World, owner: string, name: string): SimRepository | undefined {
  return world.repositories.get(`${owner}/${name}`);
}

/** Branches a repository has: the default, the production branches and every PR's head and base. */
export function branchNames(repo: SimRepository): string[] {
  const names = new Set<string>([repo.facts.defaultBranch, ...repo.facts.productionBranches]);
  for (const name of repo.branchCommits.keys()) names.add(name);
  for (const pull of repo.pulls.values()) if (pull.change.state === "open") names.add(pull.change.headBranch);
  return [...names].filter((name) => !repo.deletedBranches?.has(name)).sort();
}

export function branchHead(repo: SimRepository, branch: string): string {
  const pull = [...repo.pulls.values()].find(
    (p) => p.change.headBranch === branch && p.change.state === "open",
  );
  return (
    repo.branchCommits.get(branch)?.[0]?.sha ?? pull?.change.headSha ?? syntheticSha(`${repo.id}:${branch}`)
  );
}

/** The effective rule of a branch when the snapshot could read it; null when the branch is unprotected. */
export function branchRule(repo: SimRepository, branch: string): Known<BranchRule | null> {
  const rules = repo.facts.branchRules;
  if (!rules.known) return rules;
  const rule = rules.value.find((r) => r.branch === branch && r.sources.length > 0);
  return { known: true, value: rule ?? null };
}

export function pullRequestOf(repo: SimRepository, number: number): SimPull | undefined {
  return repo.pulls.get(number);
}

function emptyRepository(id: number, owner: string, name: string, facts: Repository): SimRepository {
  const rulesets: SimRuleset[] = [];
  if (facts.branchRules.known) {
    for (const rule of facts.branchRules.value) {
      for (const source of rule.sources) {
        const match = /^ruleset:(\d+)$/.exec(source);
        if (match)
          rulesets.push({
            id: Number(match[1]),
            name: `${rule.branch} protection`,
            branch: rule.branch,
            rule,
          });
      }
    }
  }
  return {
    id,
    owner,
    name,
    facts,
    rulesets,
    pulls: new Map(),
    pullsByBase: new Map(),
    branchCommits: new Map(),
    commits: new Map(),
    checkRuns: [],
    statuses: [],
    issues: new Map(),
    nextNumber: 1,
  };
}

function addPull(world: World, change: ChangeRequest): void {
  const repo = world.repositories.get(change.repository);
  if (!repo) return;
  const updatedAt = change.mergedAt ?? lastEvent(change);
  const pull: SimPull = { id: 500_000_000 + repo.id * 100_000 + change.number, change, updatedAt };
  repo.pulls.set(change.number, pull);
  repo.nextNumber = Math.max(repo.nextNumber, change.number + 1);
  const list = repo.pullsByBase.get(change.baseBranch) ?? [];
  list.push(pull);
  repo.pullsByBase.set(change.baseBranch, list);
  let parent: string[] = [];
  for (const commit of change.commits) {
    const existing = repo.commits.get(commit.sha);
    const sim: SimCommit = existing ?? {
      ...commit,
      message: commitMessage(commit.sha, commit.coAuthors),
      parents: parent,
      pullNumbers: [],
    };
    sim.pullNumbers.push(change.number);
    repo.commits.set(commit.sha, sim);
    parent = [commit.sha];
  }
  for (const check of change.checks) {
    if (check.kind === "status") {
      repo.statuses.push({
        id: ++world.nextId,
        sha: check.sha,
        context: check.name,
        state: statusState(check.conclusion),
        targetUrl: check.url,
        description: null,
        createdAt: check.completedAt ?? change.createdAt,
        creator: "sim-ci",
        reportedBy: check.reportedBy,
      });
    } else {
      const pending = check.conclusion === "pending";
      repo.checkRuns.push({
        id: ++world.nextId,
        headSha: check.sha,
        name: check.name,
        status: pending ? "in_progress" : "completed",
        conclusion: pending ? null : check.conclusion,
        detailsUrl: check.url,
        startedAt: change.createdAt,
        completedAt: pending ? null : check.completedAt,
        title: null,
        summary: null,
        app: "sim-ci",
        suiteApp:
          check.appId === null && check.appSlug === null
            ? null
            : { id: check.appId, slug: check.appSlug ?? "" },
      });
    }
  }
}

/**
 * A commit's message: its "trailer" co-authors as the closing Co-authored-by trailers. Its "host"
 * co-authors (GitHub listed them in `authors`, the message names them in no Co-authored-by line the
 * provider reads) are in the GraphQL `authors` only.
 */
function commitMessage(sha: string, coAuthors: readonly CoAuthor[] = []): string {
  const line = (c: CoAuthor) =>
    `Co-authored-by: ${c.name}${c.email === null ? "" : ` <${c.email}>`}`.trimEnd();
  const trailers = coAuthors.filter((c) => c.source === "trailer").map(line);
  return [`Commit ${sha.slice(0, 7)}`, ...(trailers.length > 0 ? [trailers.join("\n")] : [])].join("\n\n");
}

function statusState(conclusion: string): SimStatus["state"] {
  if (conclusion === "success" || conclusion === "failure" || conclusion === "error") return conclusion;
  return "pending";
}

function lastEvent(change: ChangeRequest): string {
  const times = [
    change.createdAt,
    ...change.reviews.map((r) => r.submittedAt),
    ...change.pushes.map((p) => p.at),
  ];
  return times.sort().at(-1) ?? change.createdAt;
}

function byUpdatedDesc(a: SimPull, b: SimPull): number {
  return a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : b.change.number - a.change.number;
}

/**
 * The history of each branch that merged PRs or direct pushes touched: merge commits of merged
 * PRs and the direct pushes, newest first, each the parent of the one before.
 */
function buildBranchHistory(repo: SimRepository, snapshot: Snapshot): void {
  const byBranch = new Map<string, SimCommit[]>();
  const add = (branch: string, commit: SimCommit) => {
    const list = byBranch.get(branch) ?? [];
    list.push(commit);
    byBranch.set(branch, list);
  };
  for (const pull of repo.pulls.values()) {
    const change = pull.change;
    if (change.state !== "merged" || !change.mergeCommitSha || !change.mergedAt) continue;
    add(change.baseBranch, {
      sha: change.mergeCommitSha,
      message: `Merge pull request #${change.number} from ${change.headBranch}\n\n${change.title}`,
      authorLogin: change.mergedBy,
      authorName: change.mergedBy ?? "GitHub",
      committerLogin: change.mergedBy,
      authoredAt: change.mergedAt,
      committedAt: change.mergedAt,
      parents: [],
      pullNumbers: [change.number],
    });
  }
  for (const push of snapshot.directPushes) {
    if (push.repository !== repo.facts.fullName) continue;
    add(push.branch, {
      sha: push.sha,
      message: push.message,
      authorLogin: push.authorLogin,
      authorName: push.authorLogin ?? "unknown",
      committerLogin: push.committerLogin,
      authoredAt: push.at,
      committedAt: push.at,
      parents: [],
      pullNumbers: [],
    });
  }
  for (const [branch, commits] of byBranch) {
    commits.sort((a, b) => (a.committedAt < b.committedAt ? 1 : a.committedAt > b.committedAt ? -1 : 0));
    commits.forEach((commit, index) => {
      const parent = commits[index + 1];
      commit.parents = [parent ? parent.sha : syntheticSha(`${repo.id}:${branch}:root`)];
      repo.commits.set(commit.sha, commit);
    });
    repo.branchCommits.set(branch, commits);
  }
}
