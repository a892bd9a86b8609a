import {
  known,
  Repository,
  unprotectedBranchRule,
  unreadable as unreadableOf,
  type BranchRule,
  type Collaborator,
  type DeployKey,
  type Known,
  type TeamAccess,
} from "../../model/index.js";
import type { Policy } from "../../policy/types.js";
import { encodePath } from "./client.js";
import type { GitLabContext } from "./context.js";
import { isProductionBranch } from "../../policy/branches.js";
import { isoTime, permissionOf, protectedBranchMatches, ROLE } from "./map.js";
import {
  ApprovalRuleWire,
  BranchWire,
  DeployKeyWire,
  ProjectApprovalsWire,
  ProtectedBranchWire,
  type AccessLevelEntry,
  type ApprovalRuleWire as ApprovalRule,
  type ProjectApprovalsWire as ProjectApprovals,
  type ProtectedBranchWire as ProtectedBranch,
} from "./schema.js";

/**
 * Repository facts. With `onlyBranch` (a change check) only that branch's rules are read, and
 * people and keys are left out: unreadable with permission "not collected for a change check".
 */
export async function collectRepository(
  context: GitLabContext,
  projectPath: string,
  policy: Policy | { onlyBranch: string },
): Promise<Repository> {
  const { client, unreadable } = context;
  const id = encodePath(projectPath);
  const project = await context.project(projectPath);
  const defaultBranch = project.default_branch ?? "main";
  const productionBranches =
    "onlyBranch" in policy
      ? [policy.onlyBranch]
      : await productionBranchesOf(context, projectPath, defaultBranch, policy);

  // Protected branches and approval settings need the Maintainer role on the project. Approval
  // settings and rules are GitLab Premium: Free/CE answers 404, and without them how many approvals
  // a branch requires is unknown, so its rules are (never guessed as "none required").
  const protectedBranches = await unreadable.read(projectPath, "protected branches", ROLE.maintainer, () =>
    collect(client.pages(`/projects/${id}/protected_branches`, ProtectedBranchWire)),
  );
  const approvalSettings = protectedBranches.known
    ? await unreadable.read(
        projectPath,
        "merge request approval settings",
        ROLE.maintainer,
        () =>
          Promise.all([
            client.get(`/projects/${id}/approvals`, ProjectApprovalsWire),
            collect(client.pages(`/projects/${id}/approval_rules`, ApprovalRuleWire)),
          ]),
        { edition: "approval_settings" },
      )
    : protectedBranches;
  let branchRules: Known<BranchRule[]>;
  if (!protectedBranches.known) branchRules = protectedBranches;
  else if (!approvalSettings.known) branchRules = approvalSettings;
  else {
    const [approvals, rules] = approvalSettings.value;
    branchRules = known(
      productionBranches.map((branch) =>
        branchRuleOf(
          branch,
          protectedBranches.value,
          approvals,
          rules,
          project.only_allow_merge_if_pipeline_succeeds,
        ),
      ),
    );
  }

  if ("onlyBranch" in policy) {
    const skipped = unreadableOf("not collected for a change check", "only the branch rules are read");
    return Repository.parse({
      fullName: project.path_with_namespace,
      url: project.web_url,
      visibility: project.visibility,
      archived: project.archived,
      defaultBranch,
      productionBranches,
      branchRules,
      collaborators: skipped,
      teams: skipped,
      deployKeys: skipped,
      collectionError: null,
    } satisfies Repository);
  }

  const collaborators = await collaboratorsOf(context, projectPath);
  const teams: Known<TeamAccess[]> = {
    known: true,
    value: (project.shared_with_groups ?? []).map((group) => ({
      slug: group.group_full_path,
      permission: permissionOf(group.group_access_level),
    })),
  };
  const keyList = await unreadable.read(projectPath, "deploy keys", ROLE.maintainer, () =>
    collect(client.pages(`/projects/${id}/deploy_keys`, DeployKeyWire)),
  );
  // Older GitLab answers without can_push: such a key may well push, so the keys are unknown, not
  // read-only (the model has no "unknown" per key, and one unknown key makes the list unjudgeable).
  const silent = keyList.known ? keyList.value.filter((key) => key.can_push === undefined) : [];
  const deployKeys: Known<DeployKey[]> = !keyList.known
    ? keyList
    : silent.length > 0
      ? unreadable.add(
          projectPath,
          "deploy keys",
          "a GitLab version that shows can_push",
          `GitLab did not say whether ${silent.map((key) => `"${key.title}"`).join(", ")} can push (no can_push in the answer)`,
        )
      : known(
          keyList.value.map((key) => ({
            id: String(key.id),
            title: key.title,
            readOnly: key.can_push === false,
            createdAt: key.created_at ? isoTime(key.created_at) : null,
            // GitLab does not say who added a deploy key.
            addedBy: null,
          })),
        );

  return Repository.parse({
    fullName: project.path_with_namespace,
    url: project.web_url,
    visibility: project.visibility,
    archived: project.archived,
    defaultBranch,
    productionBranches,
    branchRules,
    collaborators,
    teams,
    deployKeys,
    collectionError: null,
  } satisfies Repository);
}

async function productionBranchesOf(
  context: GitLabContext,
  projectPath: string,
  defaultBranch: string,
  policy: Policy,
): Promise<string[]> {
  const selected = new Set<string>();
  if (policy.productionBranches.defaultBranch) selected.add(defaultBranch);
  const patterns = policy.productionBranches.patterns;
  if (patterns.length > 0) {
    const branches = context.client.pages(
      `/projects/${encodePath(projectPath)}/repository/branches`,
      BranchWire,
    );
    for await (const branch of branches) {
      if (isProductionBranch(policy, defaultBranch, branch.name)) selected.add(branch.name);
    }
  }
  return [...selected].sort();
}

const NO_ONE = 0;

function allowsNoOne(levels: AccessLevelEntry[]): boolean {
  return (
    levels.length > 0 &&
    levels.every(
      (level) => level.access_level === NO_ONE && !level.user_id && !level.group_id && !level.deploy_key_id,
    )
  );
}

/** Who a push or merge access level lets through, as a named actor for evidence. */
function actorsOf(levels: AccessLevelEntry[]): string[] {
  return levels.flatMap((level) => {
    if (level.user_id) return [`user:${level.user_id}`];
    if (level.group_id) return [`group:${level.group_id}`];
    if (level.deploy_key_id) return [`deploy-key:${level.deploy_key_id}`];
    if (level.access_level && level.access_level > NO_ONE) {
      return [`role:${level.access_level_description ?? level.access_level}`];
    }
    return [];
  });
}

/**
 * The effective rules on one branch, GitLab style:
 * - requirePullRequest: nobody may push (every push access level is "No one"), so every change
 *   goes through a merge request;
 * - requiredApprovals: the larger of the legacy approvals_before_merge and every approval rule
 *   that applies to this branch (GitLab requires each rule, so the largest is a floor);
 * - dismissStaleApprovals: reset_approvals_on_push;
 * - requireLastPushApproval: merge_requests_disable_committers_approval (committers, hence the
 *   last pusher's commits' authors, cannot approve; the closest GitLab setting);
 * - requiredStatusChecks: ["pipeline"] when "pipelines must succeed" is on (GitLab has no named
 *   required checks; the change request's pipeline checks are named "pipeline" to match);
 * - enforceAdmins: true only when push is "No one": then no role, owners included, can push; when a
 *   role may push, that role (and everyone above it) bypasses the merge request;
 * - allowDeletions: false: GitLab never lets a push delete a protected branch (only unprotecting it
 *   first, a Maintainer action recorded in the audit events);
 * - bypassActors: whoever the push access levels let through.
 * Several protected-branch entries can match one branch (exact and wildcard): GitLab applies the
 * most permissive push rule of them, so we do too.
 */
export function branchRuleOf(
  branch: string,
  protectedBranches: ProtectedBranch[],
  approvals: ProjectApprovals,
  rules: ApprovalRule[],
  pipelinesMustSucceed: boolean | undefined,
): BranchRule {
  const matching = protectedBranches.filter((entry) => protectedBranchMatches(entry.name, branch));
  if (matching.length === 0) return unprotectedBranchRule(branch);
  const applying = rules.filter(
    (rule) =>
      rule.applies_to_all_protected_branches !== false ||
      rule.protected_branches.some((entry) => protectedBranchMatches(entry.name, branch)),
  );
  const pushLevels = matching.flatMap((entry) => entry.push_access_levels);
  const nobodyPushes = matching.every((entry) => allowsNoOne(entry.push_access_levels));
  return {
    branch,
    sources: [
      ...matching.map((entry) => `protected-branch:${entry.name}`),
      "approval-settings",
      ...applying.map((rule) => `approval-rule:${rule.id}`),
    ],
    requirePullRequest: nobodyPushes,
    requiredApprovals: Math.max(
      approvals.approvals_before_merge,
      ...applying.map((rule) => rule.approvals_required),
    ),
    dismissStaleApprovals: approvals.reset_approvals_on_push,
    requireCodeOwnerReview: matching.some((entry) => entry.code_owner_approval_required),
    requireLastPushApproval: approvals.merge_requests_disable_committers_approval === true,
    requiredStatusChecks: pipelinesMustSucceed ? ["pipeline"] : [],
    enforceAdmins: nobodyPushes,
    allowForcePushes: matching.some((entry) => entry.allow_force_push),
    allowDeletions: false,
    bypassActors: [...new Set(actorsOf(pushLevels))],
    // GitLab shows who may push to every caller that can read protected branches.
    bypassActorsVisible: true,
    // GitLab's required pipeline is the project's, never pinned to an app.
    requiredCheckApps: {},
    // GitLab's other merge checks (resolved threads, fast-forward only) apply to every merge and
    // have no per-merge override; the ways around protection (an unsatisfied approval rule, a
    // failed pipeline, a direct push) are each checked by their own control.
    otherRequirements: [],
  };
}

/**
 * Project members with their effective access (inherited included). A member is outside when
 * they are not a member of the project's top-level group: access granted on the project alone.
 */
async function collaboratorsOf(context: GitLabContext, projectPath: string): Promise<Known<Collaborator[]>> {
  const members = await context.projectMembers(projectPath);
  if (members === null) {
    return context.unreadable.add(projectPath, "project members", ROLE.reporter, "403 Forbidden");
  }
  const topGroup = projectPath.split("/")[0] ?? projectPath;
  // A project in a personal namespace has no group (404): who is "outside" is then not decidable.
  const group = await context.unreadable.read(
    projectPath,
    "group members",
    ROLE.reporter,
    () => context.groupMembers(topGroup),
    { notFoundIsUnreadable: true },
  );
  if (!group.known) return group;
  const insiders = new Set(group.value.map((member) => member.username));
  return {
    known: true,
    value: members
      .filter((member) => member.state !== "blocked")
      .map((member) => ({
        login: member.username,
        permission: permissionOf(member.access_level),
        outside: !insiders.has(member.username),
      })),
  };
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}
