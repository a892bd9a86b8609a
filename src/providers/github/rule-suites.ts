/**
 * GitHub's own record of bypasses: the rule suites of a branch (every evaluation of its rulesets on
 * a push or merge) whose result is "bypass". A merge whose merge commit GitHub recorded as a bypass
 * is one, whatever the evidence would suggest. The record covers rulesets only (not classic branch
 * protection), at most the last month, and not actors exempt from the rules, so its silence proves
 * nothing: a merge it does not list is judged from the evidence (bypass.ts).
 */
import { known, type ChangeRequest } from "../../model/index.js";
import { describeFailure, isForbidden, providerError, splitFullName, type GitHubContext } from "./http.js";
import { list, readBranchRule } from "./repository.js";
import { RuleSuiteAnswer } from "./rest-schema.js";

/** Bypass rule suites of one branch by the commit they left (after_sha); null when unreadable. */
export type BypassRecord = ReadonlyMap<string, { actor: string | null; at: string | null }>;

/**
 * The change with GitHub's recorded bypass applied: a merge the rule suites list as a bypass is a
 * bypass. One request per branch per host instance, and only for branches a ruleset applies to.
 */
export async function observeBypass(
  ctx: GitHubContext,
  repository: string,
  change: ChangeRequest,
): Promise<ChangeRequest> {
  if (change.state !== "merged" || change.mergeCommitSha === null) return change;
  const rule = await readBranchRule(ctx, repository, change.baseBranch);
  // Rule suites record ruleset evaluations only: a branch without a ruleset has none to read.
  if (!rule.known || !rule.value.sources.some((s) => s.startsWith("ruleset:"))) return change;
  const record = await readBypassRecord(ctx, repository, change.baseBranch);
  const suite = record?.get(change.mergeCommitSha);
  if (!suite) return change;
  ctx.log.info(
    `${repository}#${change.number}: GitHub recorded the merge as a bypass by ${suite.actor ?? "an unknown actor"}`,
  );
  return { ...change, bypassedProtection: known(true) };
}

export function readBypassRecord(
  ctx: GitHubContext,
  repository: string,
  branch: string,
): Promise<BypassRecord | null> {
  const cache = (ctx.bypassRecords ??= new Map());
  const key = `${repository}\u0000${branch}`;
  let cached = cache.get(key);
  if (!cached) {
    cached = readBypassRecordUncached(ctx, repository, branch);
    cache.set(key, cached);
  }
  return cached;
}

async function readBypassRecordUncached(
  ctx: GitHubContext,
  repository: string,
  branch: string,
): Promise<BypassRecord | null> {
  const { owner, repo } = splitFullName(repository);
  const what = `rule suites of ${repository}:${branch}`;
  try {
    const suites = await list(
      ctx,
      "GET /repos/{owner}/{repo}/rulesets/rule-suites",
      {
        owner,
        repo,
        ref: `refs/heads/${branch}`,
        // The longest period GitHub offers; older bypasses are judged from the evidence alone.
        time_period: "month",
        rule_suite_result: "bypass",
      },
      RuleSuiteAnswer,
    );
    const record = new Map<string, { actor: string | null; at: string | null }>();
    for (const suite of suites) {
      if (suite.result !== "bypass" || !suite.after_sha) continue;
      record.set(suite.after_sha, { actor: suite.actor_name ?? null, at: suite.pushed_at ?? null });
    }
    return record;
  } catch (error) {
    // Not for these credentials (administration:read) or not on this host: the evidence decides.
    if (isForbidden(error)) {
      ctx.log.debug(`${what} unreadable (${describeFailure(error).message}): bypass derived from evidence`);
      return null;
    }
    throw providerError(error, what, "administration:read");
  }
}
