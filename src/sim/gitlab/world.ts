/**
 * The simulated GitLab group: a Snapshot turned into what GitLab stores and shows (a group with
 * members and access levels, projects with protected branches and approval settings, merge requests
 * with approvals, diff versions, system notes and pipelines, first-parent branch histories) plus the
 * stores the bot writes to (issues, MR notes, commit statuses). Objects are kept in GitLab's wire
 * shape, so the server only filters and pages them. What GitLab cannot represent is said where it
 * is lost (see README.md beside this file).
 */
import type { ChangeRequest, Permission, Snapshot } from "../../model/index.js";
import { approvalRulesOf, approvalSettingsOf, pipelineOf, protectedBranchOf } from "./settings.js";

export type Wire = Record<string, unknown>;

export interface SimMember {
  id: number;
  username: string;
  name: string;
  state: "active";
  access_level: number;
  two_factor_enabled: boolean;
  web_url: string;
}

/** A GitLab push event (GET /projects/:id/events?action=pushed). */
export interface SimPushEvent {
  id: number;
  created_at: string;
  author_username: string | null;
  ref: string;
  commit_from: string | null;
  commit_to: string;
  commit_count: number;
}

export interface SimMergeRequest {
  wire: Wire;
  commits: Wire[];
  versions: Wire[];
  notes: Wire[];
  approvals: Wire;
  /** null: the snapshot could not tell whether the merge bypassed protection (answered 403). */
  approvalState: Wire | null;
  /** Every sha the MR brought or made (commits, head, merge commit). */
  shas: Set<string>;
}

export interface SimIssue {
  iid: number;
  title: string;
  description: string;
  state: "opened" | "closed";
  labels: string[];
  notes: Wire[];
}

export interface SimProject {
  wire: Wire;
  path: string;
  /** Direct members only; /members/all adds the group's. */
  members: SimMember[];
  branches: string[];
  /** null: the snapshot could not read the rules, so GitLab answers 403 (Maintainer role needed). */
  protectedBranches: Wire[] | null;
  approvalSettings: Wire | null;
  approvalRules: Wire[] | null;
  deployKeys: Wire[];
  mergeRequests: SimMergeRequest[];
  pipelines: Wire[];
  /** First-parent history per branch, newest first. */
  history: Map<string, Wire[]>;
  files: Map<string, string>;
  /** Git modes of files that are not regular files: "120000" a symlink, "160000" a submodule. */
  fileModes: Map<string, string>;
  issues: SimIssue[];
  statuses: Wire[];
  /** Pushes to the project's branches (merges and direct pushes), oldest first. */
  pushEvents: SimPushEvent[];
}

export interface SimGroup {
  wire: Wire;
  members: SimMember[];
  /**
   * Groups projects are shared with (the snapshot's teams), by full path. The snapshot does not say
   * who is in a team, so they list no members: access through a team is what the snapshot's
   * collaborators already show.
   */
  sharedGroups: Map<string, SimMember[]>;
  invitations: Wire[];
  projects: SimProject[];
}

export interface GitLabWorld {
  webUrl: string;
  group: SimGroup;
  users: Map<string, SimMember>;
  /** Logins of bot accounts (GitLab's `bot: true`: access-token users, service accounts). */
  bots: Set<string>;
  bot: { id: number; username: string };
  nextId(): number;
}

/** GitLab access levels for the model's permissions (admin is the Owner role). */
export const ACCESS_LEVEL: Record<Permission, number> = {
  none: 0,
  read: 20,
  triage: 20,
  write: 30,
  maintain: 40,
  admin: 50,
};

export interface WorldOptions {
  webUrl: string;
  /** The group policy, served as .gitlab/soc2.yml of the group's gitlab-profile project. */
  groupPolicy?: string;
  /** Extra empty projects of the group (e.g. the findings project "compliance"). */
  extraProjects?: string[];
  /** Serve the group policy path as a symlink (its text the link target) or a submodule instead. */
  groupPolicyAs?: "symlink" | "submodule";
}

export function buildWorld(snapshot: Snapshot, options: WorldOptions): GitLabWorld {
  let counter = 1000;
  const nextId = () => ++counter;
  const webUrl = options.webUrl;
  const organization = snapshot.organization;
  const groupPath = organization?.login ?? snapshot.repositories[0]?.fullName.split("/")[0] ?? "group";

  const users = new Map<string, SimMember>();
  const withoutTwoFactor = new Set(
    organization?.membersWithoutTwoFactor.known ? organization.membersWithoutTwoFactor.value : [],
  );
  const user = (username: string, accessLevel: number): SimMember => {
    const known = users.get(username);
    const id = known?.id ?? users.size + 1;
    const member: SimMember = {
      id,
      username,
      name: username,
      state: "active",
      access_level: accessLevel,
      two_factor_enabled: !withoutTwoFactor.has(username),
      web_url: `${webUrl}/${username}`,
    };
    if (!known) users.set(username, member);
    return member;
  };
  const userRef = (username: string) => {
    const member = users.get(username) ?? user(username, 0);
    return { id: member.id, username, name: username, state: "active", web_url: member.web_url };
  };
  const email = (login: string | null, name: string) =>
    login ? `${userRef(login).id}-${login}@users.noreply.${new URL(webUrl).hostname}` : `${name}@example.com`;

  // The snapshot's actor kinds become GitLab's `bot` flag on the account.
  const bots = new Set<string>();
  for (const change of snapshot.changeRequests) {
    if (change.authorKind === "bot") bots.add(change.author);
    for (const review of change.reviews) if (review.reviewerKind === "bot") bots.add(review.reviewer);
    for (const commit of change.commits) {
      if (commit.authorKind === "bot" && commit.authorLogin) bots.add(commit.authorLogin);
      if (commit.committerKind === "bot" && commit.committerLogin) bots.add(commit.committerLogin);
    }
  }

  const members =
    organization?.members.known === true
      ? organization.members.value.map((m) => user(m.login, m.role === "owner" ? 50 : 30))
      : [];
  const insiders = new Set(members.map((m) => m.username));

  const group: SimGroup = {
    wire: {
      id: nextId(),
      name: groupPath,
      path: groupPath,
      full_path: groupPath,
      web_url: `${webUrl}/groups/${groupPath}`,
      // GitLab has no base permission: "internal" (every signed-in user reads) is the closest to a
      // GitHub base permission above "none"; the model reads it as "read".
      visibility:
        organization?.basePermission.known && organization.basePermission.value === "none"
          ? "private"
          : "internal",
      require_two_factor_authentication:
        organization?.twoFactorRequired.known === true ? organization.twoFactorRequired.value : false,
      two_factor_grace_period: 48,
    },
    members,
    sharedGroups: new Map(),
    invitations: (organization?.invitations.known ? organization.invitations.value : []).map((inv) => ({
      id: nextId(),
      // GitLab invites by e-mail only: an invitation of a user account becomes one of their address.
      invite_email: inv.email ?? `${inv.login ?? "someone"}@example.com`,
      created_at: inv.invitedAt,
      access_level: 30,
      expires_at: null,
      user_name: null,
      created_by_name: inv.inviter,
    })),
    projects: [],
  };

  const projectOf = (path: string, extra: Partial<SimProject> = {}): SimProject => {
    const id = nextId();
    return {
      wire: {
        id,
        name: path.split("/").at(-1),
        path: path.split("/").at(-1),
        path_with_namespace: path,
        web_url: `${webUrl}/${path}`,
        visibility: "private",
        archived: false,
        default_branch: "main",
        namespace: { id: group.wire.id, path: groupPath, full_path: groupPath, kind: "group" },
        only_allow_merge_if_pipeline_succeeds: false,
        allow_merge_on_skipped_pipeline: false,
        shared_with_groups: [],
      },
      path,
      members: [],
      branches: ["main"],
      protectedBranches: [],
      approvalSettings: approvalSettingsOf([]),
      approvalRules: [],
      deployKeys: [],
      mergeRequests: [],
      pipelines: [],
      history: new Map(),
      files: new Map(),
      fileModes: new Map(),
      issues: [],
      statuses: [],
      pushEvents: [],
      ...extra,
    };
  };

  for (const repository of snapshot.repositories) {
    const rules = repository.branchRules.known ? repository.branchRules.value : null;
    const project = projectOf(repository.fullName, {
      branches: [...new Set([repository.defaultBranch, ...repository.productionBranches])],
      protectedBranches: rules?.map((rule) => protectedBranchOf(rule, nextId())) ?? null,
      approvalSettings: rules ? approvalSettingsOf(rules) : null,
      approvalRules: rules ? approvalRulesOf(rules, nextId()) : null,
      deployKeys: (repository.deployKeys.known ? repository.deployKeys.value : []).map((key) => ({
        id: Number(key.id),
        title: key.title,
        key: "ssh-ed25519 AAAA…",
        created_at: key.createdAt,
        can_push: !key.readOnly,
      })),
    });
    Object.assign(project.wire, {
      visibility: repository.visibility,
      archived: repository.archived,
      default_branch: repository.defaultBranch,
      web_url: repository.url.startsWith(webUrl) ? repository.url : `${webUrl}/${repository.fullName}`,
      // A rule requiring any status check becomes "pipelines must succeed": GitLab names no checks.
      only_allow_merge_if_pipeline_succeeds: (rules ?? []).some(
        (rule) => rule.requiredStatusChecks.length > 0,
      ),
      shared_with_groups: (repository.teams.known ? repository.teams.value : []).map((team) => ({
        group_id: nextId(),
        group_name: team.slug,
        group_full_path: sharedGroup(`${groupPath}/${team.slug}`),
        group_access_level: ACCESS_LEVEL[team.permission],
      })),
    });
    // Members of the group inherit their role; only access granted on the project itself is direct.
    for (const collaborator of repository.collaborators.known ? repository.collaborators.value : []) {
      const level = ACCESS_LEVEL[collaborator.permission];
      const inherited = members.find((m) => m.username === collaborator.login)?.access_level ?? 0;
      if (insiders.has(collaborator.login) && level <= inherited) continue;
      project.members.push({ ...user(collaborator.login, level), access_level: level });
    }
    const required = Math.max(0, ...(rules ?? []).map((rule) => rule.requiredApprovals));
    for (const change of snapshot.changeRequests.filter((cr) => cr.repository === repository.fullName)) {
      project.mergeRequests.push(
        mergeRequestOf(change, required, project.approvalSettings?.reset_approvals_on_push === true),
      );
      const pipelines = change.checks.map((check) => pipelineOf(check, change, nextId()));
      project.pipelines.push(...pipelines);
      // The MR's head pipeline, with the user who ran it, as GET single MR shows it.
      const headIndex = change.checks.findLastIndex((check) => check.on === "head");
      const head = pipelines[headIndex];
      const mr = project.mergeRequests.at(-1);
      if (mr) {
        mr.wire.head_pipeline = head
          ? { ...head, user: userRef(change.checks[headIndex]?.reportedBy ?? change.author) }
          : null;
      }
      if (change.state === "merged" && change.mergeCommitSha && change.mergedAt) {
        // Merging pushes the merge commit onto the target branch: GitLab records it as a push event.
        project.pushEvents.push({
          id: nextId(),
          created_at: change.mergedAt,
          author_username: change.mergedBy,
          ref: change.baseBranch,
          commit_from: null,
          commit_to: change.mergeCommitSha,
          commit_count: 1,
        });
        historyOf(project, change.baseBranch).push({
          ...commitWire(change.mergeCommitSha, change.mergedBy, change.mergedBy ?? "GitLab", change.mergedAt),
          title: `Merge branch '${change.headBranch}' into '${change.baseBranch}'`,
          message: `Merge branch '${change.headBranch}' into '${change.baseBranch}'\n\n${change.title}\n\nSee merge request ${repository.fullName}!${change.number}`,
        });
      }
    }
    for (const push of snapshot.directPushes.filter((p) => p.repository === repository.fullName)) {
      // GitLab records who pushed and when; the snapshot knows when it says so (else at commit time).
      if (push.pushedBy || push.pushedAt) {
        project.pushEvents.push({
          id: nextId(),
          created_at: push.pushedAt ?? push.at,
          author_username: push.pushedBy,
          ref: push.branch,
          commit_from: null,
          commit_to: push.sha,
          commit_count: 1,
        });
      }
      historyOf(project, push.branch).push({
        ...commitWire(push.sha, push.authorLogin, push.authorLogin ?? "unknown", push.at),
        title: push.message.split("\n")[0],
        message: push.message,
        committer_email: email(push.committerLogin, push.committerLogin ?? "unknown"),
      });
    }
    project.pushEvents.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id);
    for (const list of project.history.values()) {
      list.sort((a, b) => String(b.committed_date).localeCompare(String(a.committed_date)));
    }
    group.projects.push(project);
  }

  if (options.groupPolicy !== undefined) {
    const profile = projectOf(`${groupPath}/gitlab-profile`);
    profile.files.set(".gitlab/soc2.yml", options.groupPolicy);
    if (options.groupPolicyAs === "symlink") {
      profile.files.set(".gitlab/soc2.yml", "../policies/soc2.yml");
      profile.fileModes.set(".gitlab/soc2.yml", "120000");
    }
    if (options.groupPolicyAs === "submodule") profile.fileModes.set(".gitlab/soc2.yml", "160000");
    group.projects.push(profile);
  }
  for (const name of options.extraProjects ?? []) group.projects.push(projectOf(`${groupPath}/${name}`));
  group.projects.sort((a, b) => Number(a.wire.id) - Number(b.wire.id));

  return { webUrl, group, users, bots, bot: { id: 9999, username: "soc2-bot" }, nextId };

  function sharedGroup(path: string): string {
    if (!group.sharedGroups.has(path)) group.sharedGroups.set(path, []);
    return path;
  }

  function historyOf(project: SimProject, branch: string): Wire[] {
    let list = project.history.get(branch);
    if (!list) project.history.set(branch, (list = []));
    return list;
  }

  function commitWire(sha: string, login: string | null, name: string, at: string): Wire {
    return {
      id: sha,
      short_id: sha.slice(0, 8),
      created_at: at,
      parent_ids: [],
      title: "",
      message: "",
      author_name: name,
      author_email: email(login, name),
      authored_date: at,
      committer_name: name,
      committer_email: email(login, name),
      committed_date: at,
      web_url: "",
    };
  }

  function mergeRequestOf(
    change: ChangeRequest,
    requiredApprovals: number,
    resetOnPush: boolean,
  ): SimMergeRequest {
    const id = nextId();
    const base = `${webUrl}/${change.repository}`;
    const wire: Wire = {
      id,
      iid: change.number,
      title: change.title,
      description: "",
      state: change.state === "open" ? "opened" : change.state,
      created_at: change.createdAt,
      updated_at: change.mergedAt ?? change.createdAt,
      merged_at: change.mergedAt,
      merged_by: change.mergedBy ? userRef(change.mergedBy) : null,
      merge_user: change.mergedBy ? userRef(change.mergedBy) : null,
      target_branch: change.baseBranch,
      source_branch: change.headBranch,
      author: userRef(change.author),
      draft: change.draft,
      work_in_progress: change.draft,
      sha: change.headSha,
      merge_commit_sha: change.mergeCommitSha,
      squash_commit_sha: null,
      web_url: `${base}/-/merge_requests/${change.number}`,
    };
    const commits = change.commits
      .map((c) => ({
        ...commitWire(c.sha, c.authorLogin, c.authorName, c.authoredAt),
        title: change.title,
        // Co-authors as the trailers GitLab shows in the message (linked ones by their no-reply address).
        message: `${change.title}\n${c.coAuthors.length > 0 ? "\n" : ""}${c.coAuthors
          .map(
            (co) =>
              `Co-authored-by: ${co.name} <${co.login ? email(co.login, co.name) : (co.email ?? co.name)}>\n`,
          )
          .join("")}`,
        committer_email: email(c.committerLogin, c.authorName),
        committed_date: c.committedAt,
        web_url: `${base}/-/commit/${c.sha}`,
      }))
      .reverse(); // GitLab lists an MR's commits newest first
    // Each push is a diff version, and GitLab writes "added N commits" as the pusher at that moment.
    // A force push is not told apart here: GitLab's note for it cannot be relied on (see README).
    const versions = change.pushes
      .map((push) => ({
        id: nextId(),
        head_commit_sha: push.headSha,
        base_commit_sha: "0".repeat(40),
        start_commit_sha: "0".repeat(40),
        created_at: push.at,
        merge_request_id: id,
        state: "collected",
      }))
      .reverse();
    const notes: Wire[] = [];
    const note = (author: string, body: string, at: string, system: boolean) =>
      notes.push({
        id: nextId(),
        type: null,
        body,
        author: userRef(author),
        created_at: at,
        updated_at: at,
        system,
        noteable_type: "MergeRequest",
        noteable_iid: change.number,
      });
    for (const push of change.pushes) {
      if (push.actor)
        note(push.actor, `added 1 commit\n\n<ul><li>${push.headSha.slice(0, 8)}</li></ul>`, push.at, true);
    }
    // GitLab records no approval commit: only who approved and when (approved_at, the system note).
    for (const review of change.reviews) {
      if (review.state === "approved" || review.state === "dismissed") {
        note(review.reviewer, "approved this merge request", review.submittedAt, true);
      } else {
        note(
          review.reviewer,
          review.state === "changes_requested" ? "Please change this." : "Looks good.",
          review.submittedAt,
          false,
        );
      }
    }
    const approvedBy = change.reviews
      .filter((review) => review.state === "approved")
      .map((review) => ({ user: userRef(review.reviewer), approved_at: review.submittedAt }));
    // The rule is satisfied by approvals GitLab still counts at merge time: with "reset approvals on
    // push", one given before the last push was removed by that push.
    const lastPush = change.pushes.reduce((latest, push) => (push.at > latest ? push.at : latest), "");
    // Only eligible approvers count: someone who cannot push (a drive-by approval) never does.
    const cannotPush = new Set(
      change.reviews.filter((review) => review.authorCanPush === false).map((review) => review.reviewer),
    );
    const counting = approvedBy.filter(
      (a) =>
        a.user.username !== change.author &&
        !cannotPush.has(a.user.username) &&
        (!resetOnPush || a.approved_at >= lastPush),
    ).length;
    const rules =
      requiredApprovals > 0
        ? [
            {
              id: 1,
              name: "Approvers",
              rule_type: "regular",
              approvals_required: requiredApprovals,
              approved: counting >= requiredApprovals,
              approved_by: approvedBy.map((a) => ({ ...a.user, approved_at: a.approved_at })),
            },
          ]
        : [];
    const shas = new Set([change.headSha, ...change.commits.map((c) => c.sha)]);
    if (change.mergeCommitSha) shas.add(change.mergeCommitSha);
    return {
      wire,
      commits,
      versions,
      notes,
      approvals: {
        id,
        iid: change.number,
        approved: rules.every((rule) => rule.approved),
        approvals_required: requiredApprovals,
        approvals_left: Math.max(0, requiredApprovals - counting),
        approved_by: approvedBy,
      },
      approvalState: change.bypassedProtection.known ? { approval_rules_overwritten: false, rules } : null,
      shas,
    };
  }
}
