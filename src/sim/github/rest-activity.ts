/**
 * What GitHub records about pushes to a branch, in its REST shapes: the repository activity (every
 * push, force push and pull request or merge queue merge, with time, actor, before and after), the
 * comparison of two commits (a push's commits), and rule suites (ruleset evaluations, bypasses).
 *
 * The activity record is derived from the world: each merged pull request's merge commit is a
 * pr_merge (merge_queue_merge when the queue merged it) at its merge time; each direct push whose
 * push time the snapshot records is a push (force_push when forced). A direct push without a push
 * time is one the record no longer reaches: the record then starts after the latest of them, as
 * GitHub's does (it keeps about 90 days), so a collector must read the history for the rest.
 */
import type { DirectPush } from "../../model/index.js";
import { list, repoOf, RouteError, type Route, type RouteRequest } from "./rest-common.js";
import { commitJson, userJson, type Json } from "./rest-shapes.js";
import {
  branchHead,
  branchRule,
  syntheticSha,
  userId,
  type SimCommit,
  type SimRepository,
  type World,
} from "./world.js";

const ZERO = "0".repeat(40);
/** When a branch with a complete record was created: before every sample's period. */
const BRANCH_CREATED = "2020-01-01T00:00:00Z";

interface SimActivity {
  id: number;
  before: string;
  after: string;
  ref: string;
  timestamp: string;
  type: "push" | "force_push" | "branch_creation" | "pr_merge" | "merge_queue_merge";
  actor: string | null;
}

const PERIODS: Record<string, number> = {
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
  month: 30 * 86_400_000,
  quarter: 91 * 86_400_000,
  year: 365 * 86_400_000,
};

function directPushesOf(world: World, repo: SimRepository, branch: string): Map<string, DirectPush> {
  return new Map(
    world.snapshot.directPushes
      .filter((p) => p.repository === repo.facts.fullName && p.branch === branch)
      .map((p) => [p.sha, p]),
  );
}

/** The branch's activity, newest first. */
export function activitiesOf(world: World, repo: SimRepository, branch: string): SimActivity[] {
  const commits = repo.branchCommits.get(branch) ?? [];
  const pushes = directPushesOf(world, repo, branch);
  const ref = `refs/heads/${branch}`;
  const id = (sha: string) => userId(world, `activity:${repo.facts.fullName}:${branch}:${sha}`);
  const activities: SimActivity[] = [];
  // The record does not reach the pushes whose time it does not show: it starts after them.
  const unrecorded = [...pushes.values()].filter((p) => (p.pushedAt ?? null) === null).map((p) => p.at);
  const recordStart = unrecorded.sort().at(-1) ?? null;
  commits.forEach((commit, index) => {
    const before = commits[index + 1]?.sha ?? commit.parents[0] ?? syntheticSha(`${repo.id}:${branch}:root`);
    const push = pushes.get(commit.sha);
    if (push) {
      if (push.pushedAt)
        activities.push({
          id: id(commit.sha),
          before,
          after: commit.sha,
          ref,
          timestamp: push.pushedAt,
          type: push.forced ? "force_push" : "push",
          actor: push.pushedBy,
        });
      return;
    }
    const pull = commit.pullNumbers
      .map((n) => repo.pulls.get(n))
      .find((p) => p?.change.mergeCommitSha === commit.sha && p.change.mergedAt);
    if (pull?.change.mergedAt)
      activities.push({
        id: id(commit.sha),
        before,
        after: commit.sha,
        ref,
        timestamp: pull.change.mergedAt,
        type: pull.change.mergedByQueue ? "merge_queue_merge" : "pr_merge",
        actor: pull.change.mergedBy,
      });
  });
  if (recordStart === null) {
    const root = commits.at(-1);
    activities.push({
      id: id("creation"),
      before: ZERO,
      // A branch with no commit of the world points where the GraphQL ref says it does.
      after: root?.parents[0] ?? root?.sha ?? branchHead(repo, branch),
      ref,
      timestamp: BRANCH_CREATED,
      type: "branch_creation",
      actor: null,
    });
  }
  return activities
    .filter((a) => recordStart === null || a.timestamp > recordStart)
    .sort((a, b) => (a.timestamp < b.timestamp ? 1 : a.timestamp > b.timestamp ? -1 : b.id - a.id));
}

function activityJson(world: World, api: string, activity: SimActivity): Json {
  return {
    id: activity.id,
    node_id: Buffer.from(`Activity:${activity.id}`).toString("base64"),
    before: activity.before,
    after: activity.after,
    ref: activity.ref,
    timestamp: activity.timestamp,
    activity_type: activity.type,
    actor: activity.actor === null ? null : userJson(world, api, activity.actor),
  };
}

function branchOfRef(ref: string | null, repo: SimRepository): string {
  if (!ref) return repo.facts.defaultBranch;
  return ref.replace(/^refs\/heads\//, "");
}

function since(request: RouteRequest, fallback?: string): number | null {
  const period = request.query.get("time_period") ?? fallback;
  if (!period) return null;
  const span = PERIODS[period];
  if (span === undefined) throw new RouteError(422, `Invalid time_period: ${period}`);
  return Date.parse(request.world.now()) - span;
}

/** Commits reachable from `head` and not from `base` on the one branch that holds both. */
function compareCommits(repo: SimRepository, base: string, head: string): SimCommit[] {
  for (const commits of repo.branchCommits.values()) {
    const to = commits.findIndex((c) => c.sha === head);
    if (to === -1) continue;
    const from = commits.findIndex((c) => c.sha === base);
    // Oldest first, as GitHub lists a comparison.
    return commits.slice(to, from === -1 ? commits.length : from).reverse();
  }
  throw new RouteError(404, "Not Found");
}

export const ACTIVITY_ROUTES: Route[] = [
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/activity",
    handle: (r) => {
      const repo = repoOf(r);
      const branch = branchOfRef(r.query.get("ref"), repo);
      const from = since(r);
      const type = r.query.get("activity_type");
      const actor = r.query.get("actor");
      let activities = activitiesOf(r.world, repo, branch).filter(
        (a) =>
          (from === null || Date.parse(a.timestamp) >= from) &&
          (!type || a.type === type) &&
          (!actor || a.actor === actor),
      );
      if (r.query.get("direction") === "asc") activities = activities.reverse();
      return list(activities, (a) => activityJson(r.world, r.api, a));
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/compare/{basehead}",
    handle: (r) => {
      const repo = repoOf(r);
      const [base = "", head = ""] = (r.params.basehead ?? "").split("...");
      if (!base || !head) throw new RouteError(404, "Not Found");
      const commits = compareCommits(repo, base, head);
      const sim = (sha: string): SimCommit =>
        repo.commits.get(sha) ?? {
          sha,
          message: "",
          authorLogin: null,
          authorName: "unknown",
          committerLogin: null,
          authoredAt: "2020-01-01T00:00:00Z",
          committedAt: "2020-01-01T00:00:00Z",
          parents: [],
          pullNumbers: [],
        };
      const url = `${r.api}/repos/${repo.facts.fullName}/compare/${base}...${head}`;
      const html = `${r.world.webUrl}/${repo.facts.fullName}/compare/${base}...${head}`;
      const baseCommit = commitJson(r.world, r.api, repo, sim(base));
      return {
        status: 200,
        items: commits,
        render: (c) => commitJson(r.world, r.api, repo, c as SimCommit),
        envelope: (page) => ({
          url,
          html_url: html,
          permalink_url: html,
          diff_url: `${html}.diff`,
          patch_url: `${html}.patch`,
          base_commit: baseCommit,
          merge_base_commit: baseCommit,
          status: commits.length > 0 ? "ahead" : "identical",
          ahead_by: commits.length,
          behind_by: 0,
          total_commits: commits.length,
          commits: page,
          files: [],
        }),
      };
    },
  },
  {
    method: "GET",
    path: "/repos/{owner}/{repo}/rulesets/rule-suites",
    handle: (r) => {
      const repo = repoOf(r);
      const branch = r.query.get("ref") ? branchOfRef(r.query.get("ref"), repo) : null;
      const from = since(r, "day");
      const wanted = r.query.get("rule_suite_result") ?? "all";
      // Rule suites are ruleset evaluations: shown to who may read the rules' administration.
      if (!repo.facts.branchRules.known) throw new RouteError(403, "Resource not accessible by integration");
      const suites = [...repo.pulls.values()].flatMap((pull) => {
        const c = pull.change;
        if (c.state !== "merged" || !c.mergeCommitSha || !c.mergedAt) return [];
        if (branch !== null && c.baseBranch !== branch) return [];
        const rule = branchRule(repo, c.baseBranch);
        if (!rule.known || !rule.value?.sources.some((s) => s.startsWith("ruleset:"))) return [];
        const result = c.bypassedProtection.known && c.bypassedProtection.value ? "bypass" : "pass";
        if (wanted !== "all" && wanted !== result) return [];
        if (from !== null && Date.parse(c.mergedAt) < from) return [];
        return [{ change: c, result, id: userId(r.world, `rule-suite:${repo.facts.fullName}:${c.number}`) }];
      });
      return list(suites, ({ change, result, id }) => {
        const commits = repo.branchCommits.get(change.baseBranch) ?? [];
        const index = commits.findIndex((c) => c.sha === change.mergeCommitSha);
        return {
          id,
          actor_id: userId(r.world, change.mergedBy ?? "ghost"),
          actor_name: change.mergedBy ?? "ghost",
          before_sha: commits[index + 1]?.sha ?? ZERO,
          after_sha: change.mergeCommitSha,
          ref: `refs/heads/${change.baseBranch}`,
          repository_id: repo.id,
          repository_name: repo.name,
          pushed_at: change.mergedAt,
          result,
          evaluation_result: result,
        };
      });
    },
  },
];

/** A push webhook as GitHub delivers it, and when it arrived (the push's time). */
export interface SimPushDelivery {
  id: string;
  receivedAt: string;
  payload: Json;
}

/**
 * The push webhooks of a branch, oldest first, as an app subscribed since before the branch was
 * created received them: one per activity (the creation, each push and force push, each pull request
 * or merge queue merge, whose push is made by whoever merged), each listing the commits of its
 * comparison, in the documented `push` payload shape. Delivered at the activity's time.
 */
export function pushDeliveriesOf(world: World, repo: SimRepository, branch: string): SimPushDelivery[] {
  const fullName = repo.facts.fullName;
  const [owner = "", name = ""] = fullName.split("/");
  const person = (login: string | null, fallback: string) => ({
    name: login ?? fallback,
    email: `${login ?? "unknown"}@users.noreply.github.com`,
    ...(login ? { username: login } : {}),
  });
  return activitiesOf(world, repo, branch)
    .reverse()
    .map((activity) => {
      const creation = activity.type === "branch_creation";
      const commits = creation ? [] : pushedCommitsOf(repo, activity.before, activity.after);
      const head = repo.commits.get(activity.after);
      const commitJson = (commit: SimCommit) => ({
        id: commit.sha,
        tree_id: syntheticSha(`tree:${commit.sha}`),
        distinct: true,
        message: commit.message,
        timestamp: commit.committedAt,
        url: `${world.webUrl}/${fullName}/commit/${commit.sha}`,
        author: person(commit.authorLogin, commit.authorName),
        committer: person(commit.committerLogin, commit.authorName),
        added: [],
        removed: [],
        modified: [],
      });
      const actor = activity.actor ?? "ghost";
      const pushedAt = Math.floor(Date.parse(activity.timestamp) / 1000);
      return {
        id: `push-${activity.id}`,
        receivedAt: activity.timestamp,
        payload: {
          ref: activity.ref,
          before: activity.before,
          after: activity.after,
          repository: {
            id: repo.id,
            node_id: Buffer.from(`Repository:${repo.id}`).toString("base64"),
            name,
            full_name: fullName,
            private: repo.facts.visibility !== "public",
            owner: { name: owner, login: owner },
            html_url: `${world.webUrl}/${fullName}`,
            default_branch: repo.facts.defaultBranch,
            pushed_at: pushedAt,
          },
          pusher: { name: actor, email: `${actor}@users.noreply.github.com` },
          sender: { login: actor, id: userId(world, actor), type: "User" },
          created: creation,
          deleted: false,
          forced: activity.type === "force_push",
          base_ref: null,
          compare: `${world.webUrl}/${fullName}/compare/${activity.before.slice(0, 12)}...${activity.after.slice(0, 12)}`,
          commits: commits.map(commitJson),
          head_commit: head ? commitJson(head) : null,
        },
      };
    });
}

/** What a push webhook lists: the comparison of before and after, oldest first (none when unknown). */
function pushedCommitsOf(repo: SimRepository, before: string, after: string): SimCommit[] {
  try {
    return compareCommits(repo, before, after);
  } catch {
    return [];
  }
}
