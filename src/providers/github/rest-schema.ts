/**
 * Wire schemas of the REST answers behind branch rules, bypasses, direct pushes and the policy file:
 * each names the fields we read, as @octokit/openapi describes them, and lets everything else
 * through. Kept apart from schema.ts so the GraphQL shapes and these can change independently.
 */
import { z } from "zod";

const Login = z.object({ login: z.string() });
const Enabled = z.object({ enabled: z.boolean() });

/** GET /repos/{owner}/{repo}/branches/{branch}/protection ("branch-protection"). */
export const ProtectionAnswer = z.object({
  required_pull_request_reviews: z
    .object({
      required_approving_review_count: z.number().optional(),
      dismiss_stale_reviews: z.boolean().optional(),
      require_code_owner_reviews: z.boolean().optional(),
      require_last_push_approval: z.boolean().optional(),
      bypass_pull_request_allowances: z
        .object({
          users: z.array(Login).optional(),
          teams: z.array(z.object({ slug: z.string() })).optional(),
          apps: z.array(z.object({ slug: z.string() })).optional(),
        })
        .optional(),
    })
    .optional(),
  required_status_checks: z
    .object({
      /** "Require branches to be up to date before merging". */
      strict: z.boolean().optional(),
      contexts: z.array(z.string()).optional(),
      // app_id null: any source may report the check (GitHub's "any source").
      checks: z.array(z.object({ context: z.string(), app_id: z.number().nullable().optional() })).optional(),
    })
    .nullable()
    .optional(),
  enforce_admins: Enabled.optional(),
  allow_force_pushes: Enabled.optional(),
  allow_deletions: Enabled.optional(),
  required_signatures: Enabled.optional(),
  required_linear_history: Enabled.optional(),
  required_conversation_resolution: Enabled.optional(),
  lock_branch: Enabled.optional(),
  // Who may push (and so merge); absent or null when anyone with write access may.
  restrictions: z
    .object({
      // GitHub documents login and slug as optional here: an entry without one is someone unnamed.
      users: z.array(z.object({ login: z.string().optional() })).optional(),
      teams: z.array(z.object({ slug: z.string() })).optional(),
      apps: z.array(z.object({ slug: z.string().optional() })).optional(),
    })
    .nullable()
    .optional(),
});
export type ProtectionAnswer = z.infer<typeof ProtectionAnswer>;

/** One item of GET /repos/{owner}/{repo}/rules/branches/{branch} ("repository-rule-detailed"). */
export const RuleAnswer = z.object({
  type: z.string(),
  ruleset_id: z.number(),
  parameters: z.record(z.string(), z.unknown()).optional(),
});
export type RuleAnswer = z.infer<typeof RuleAnswer>;

export const PullRequestRuleParameters = z.object({
  required_approving_review_count: z.number(),
  dismiss_stale_reviews_on_push: z.boolean(),
  require_code_owner_review: z.boolean(),
  require_last_push_approval: z.boolean(),
  required_review_thread_resolution: z.boolean().optional(),
  /** Reviewers required for files matching patterns (a newer rule parameter). */
  required_reviewers: z.array(z.unknown()).optional(),
});
export const StatusChecksRuleParameters = z.object({
  required_status_checks: z.array(
    z.object({ context: z.string(), integration_id: z.number().nullable().optional() }),
  ),
  strict_required_status_checks_policy: z.boolean().optional(),
});

/** GET /repos/{owner}/{repo}/rulesets/{ruleset_id}: bypass_actors only for who may edit the ruleset. */
export const RulesetAnswer = z.object({
  id: z.number(),
  bypass_actors: z
    .array(
      z.object({
        actor_id: z.number().nullable().optional(),
        actor_type: z.string(),
        bypass_mode: z.string().optional(),
      }),
    )
    .optional(),
});
export type RulesetAnswer = z.infer<typeof RulesetAnswer>;

/**
 * One item of GET /repos/{owner}/{repo}/activity ("activity"). The OpenAPI schema names timestamp,
 * activity_type and actor; its published example still shows the older pushed_at, push_type and
 * pusher, so both spellings are read.
 */
export const ActivityAnswer = z
  .object({
    id: z.number(),
    before: z.string(),
    after: z.string(),
    ref: z.string(),
    timestamp: z.string().optional(),
    pushed_at: z.string().optional(),
    activity_type: z.string().optional(),
    push_type: z.string().optional(),
    actor: Login.nullable().optional(),
    pusher: Login.nullable().optional(),
  })
  .transform((a, context) => {
    const timestamp = a.timestamp ?? a.pushed_at;
    const type =
      a.activity_type ?? (a.push_type === "force" ? "force_push" : a.push_type ? "push" : undefined);
    if (timestamp === undefined || type === undefined) {
      context.addIssue({ code: "custom", message: "an activity without timestamp or activity_type" });
      return z.NEVER;
    }
    return {
      id: a.id,
      before: a.before,
      after: a.after,
      ref: a.ref,
      timestamp,
      type,
      actor: (a.actor ?? a.pusher)?.login ?? null,
    };
  });
export type Activity = z.output<typeof ActivityAnswer>;

const GitUser = z.object({ name: z.string().nullable().optional(), date: z.string().optional() }).nullable();

/** One commit of a comparison ("commit"). */
export const ComparedCommit = z.object({
  sha: z.string(),
  html_url: z.string(),
  commit: z.object({ message: z.string(), author: GitUser, committer: GitUser }),
  author: Login.nullable().optional(),
  committer: Login.nullable().optional(),
  parents: z.array(z.object({ sha: z.string() })).optional(),
});
export type ComparedCommit = z.infer<typeof ComparedCommit>;

/** GET /repos/{owner}/{repo}/compare/{basehead} ("commit-comparison"). */
export const ComparisonAnswer = z.object({
  total_commits: z.number(),
  commits: z.array(ComparedCommit),
  /** Commits `base` has that `head` has not: what a force push removed from the branch. */
  behind_by: z.number().optional(),
  merge_base_commit: ComparedCommit.optional(),
});

/** One item of GET /repos/{owner}/{repo}/rulesets/rule-suites ("rule-suites"). */
export const RuleSuiteAnswer = z.object({
  id: z.number(),
  actor_name: z.string().nullable().optional(),
  after_sha: z.string().optional(),
  ref: z.string().optional(),
  pushed_at: z.string().optional(),
  result: z.enum(["pass", "fail", "bypass"]).optional(),
});
export type RuleSuiteAnswer = z.infer<typeof RuleSuiteAnswer>;

/** A pull request as GET /repos/{owner}/{repo}/commits/{sha}/pulls lists it ("pull-request-simple"). */
export const CommitPullRequest = z.object({
  number: z.number(),
  merged_at: z.string().nullable(),
  merge_commit_sha: z.string().nullable().optional(),
  base: z.object({ ref: z.string() }),
  head: z.object({ sha: z.string() }),
});

/**
 * GET /repos/{owner}/{repo}/contents/{path}: a file ("content-file"), or what is not one: a
 * directory (an array), a symlink whose target is not a file, a submodule.
 */
export const ContentAnswer = z.union([
  z.array(z.unknown()),
  z.object({ type: z.literal("file").optional(), content: z.string(), encoding: z.string() }),
  z.object({ type: z.literal("symlink"), target: z.string() }),
  z.object({ type: z.literal("submodule"), submodule_git_url: z.string().optional() }),
  z.object({ type: z.string() }),
]);

/** One item of GET /repos/{owner}/{repo}/teams ("team"): a custom role's base access is in `permissions`. */
export const TeamAnswer = z.object({
  slug: z.string(),
  permission: z.string(),
  permissions: z
    .object({
      admin: z.boolean().optional(),
      maintain: z.boolean().optional(),
      push: z.boolean().optional(),
      triage: z.boolean().optional(),
      pull: z.boolean().optional(),
    })
    .optional(),
});
