/**
 * Judged as of the merge, inside the pure evaluation: a merged change with an entry in the
 * snapshot's `asOfMerge` is judged with its base branch's rule and the policy in force when it
 * merged (as the evidence ledger observed them, read into the snapshot before evaluating), and each
 * of its results says which observation was used and how old it was, or that there was none that old
 * and today's rule or policy was used. The ledger is read elsewhere (src/ledger/timeline.ts); here
 * only the snapshot is read, so a package's snapshot.json evaluates to its results.json again.
 */
import type { Evidence } from "../controls/types.js";
import type { ChangeRequest, MergeAsOf, Repository } from "../model/index.js";
import { policySetFor } from "../pipeline/policies.js";
import type { Policy } from "../policy/types.js";
import { describeAge } from "./age.js";

export { describeAge };

export const RULE_AS_OF_MERGE = "branch rule as of the merge";
export const POLICY_AS_OF_MERGE = "policy as of the merge";

/** A change's id as its results name it: "acme/api#12". */
export function changeId(changeRequest: Pick<ChangeRequest, "repository" | "number">): string {
  return `${changeRequest.repository}#${changeRequest.number}`;
}

/** The repository's facts with `branch`'s rule replaced by the one observed (or unreadable then). */
export function withRuleAsOf(
  repository: Repository,
  branch: string,
  observed: NonNullable<MergeAsOf["observation"]>["rule"],
): Repository {
  if (!observed.known) return { ...repository, branchRules: observed };
  const today = repository.branchRules.known ? repository.branchRules.value : [];
  const others = today.filter((rule) => rule.branch !== branch);
  return {
    ...repository,
    productionBranches: repository.productionBranches.includes(branch)
      ? repository.productionBranches
      : [...repository.productionBranches, branch],
    branchRules: { known: true, value: [...others, observed.value] },
  };
}

export function ruleEvidence(
  entry: Pick<MergeAsOf, "branch" | "mergedAt" | "observation" | "ledgerError">,
): Evidence {
  if (entry.ledgerError !== undefined) {
    return {
      label: RULE_AS_OF_MERGE,
      value: `the ledger could not be read (${entry.ledgerError}); today's rule used`,
    };
  }
  if (!entry.observation) {
    return {
      label: RULE_AS_OF_MERGE,
      value: `the ledger holds no observation of ${entry.branch} before ${entry.mergedAt}; today's rule used`,
    };
  }
  const { observation } = entry;
  return {
    label: RULE_AS_OF_MERGE,
    value:
      `observed ${observation.observedAt} (${describeAge(observation.ageMs)} before the merge), ` +
      `${observation.stream} record ${observation.sequence}` +
      (observation.rule.known ? "" : `: unreadable then (${observation.rule.permission})`),
    at: observation.observedAt,
  };
}

/** The policy a merged change is judged by, and the evidence line saying which; null: not looked up. */
export interface PolicyAsOf {
  /** null: today's policy. */
  policy: Policy | null;
  evidence: Evidence;
}

/**
 * The policy of an entry: the recorded files resolved as policySetFor resolves a snapshot's (the
 * shipped default, the organization's layers, the repository's own). Files that no longer parse (a
 * control since renamed), or whose text the snapshot lacks, leave today's policy in force, and the
 * evidence says why.
 */
export function policyAsOf(
  entry: MergeAsOf,
  texts: Readonly<Record<string, string>>,
  resolved: Map<string, Policy | Error> = new Map(),
): PolicyAsOf | null {
  if (entry.policy === undefined) return null;
  if (entry.ledgerError !== undefined) {
    return {
      policy: null,
      evidence: {
        label: POLICY_AS_OF_MERGE,
        value: `the ledger could not be read (${entry.ledgerError}); today's policy used`,
      },
    };
  }
  if (entry.policy === null) {
    return {
      policy: null,
      evidence: {
        label: POLICY_AS_OF_MERGE,
        value: `no observation of ${entry.repository} before ${entry.mergedAt} records its policy files; today's policy used`,
      },
    };
  }
  const { files } = entry.policy;
  // Repositories share the organization's files: each distinct set is parsed once per evaluation.
  const key = JSON.stringify([entry.repository, files]);
  let policy = resolved.get(key);
  if (!policy) {
    try {
      const policyFiles = files.map(({ sha256, ...file }) => {
        const content = texts[sha256];
        if (content === undefined)
          throw new Error(`the snapshot holds no text of ${file.path} (sha256 ${sha256})`);
        return { ...file, content };
      });
      policy = policySetFor({ policyFiles }).forRepository(entry.repository);
    } catch (error) {
      policy = error instanceof Error ? error : new Error(String(error));
    }
    resolved.set(key, policy);
  }
  const where =
    `recorded ${entry.policy.observedAt} (${describeAge(entry.policy.ageMs)} before the merge), ` +
    `${entry.policy.stream} record ${entry.policy.sequence}`;
  const which =
    files.length === 0
      ? "no policy file (the shipped default)"
      : files.map((f) => `${f.path} (sha256 ${f.sha256.slice(0, 12)})`).join(", ");
  if (policy instanceof Error) {
    return {
      policy: null,
      evidence: {
        label: POLICY_AS_OF_MERGE,
        value: `${where}: ${which}, which cannot be used (${policy.message}); today's policy used`,
        at: entry.policy.observedAt,
      },
    };
  }
  return {
    policy,
    evidence: { label: POLICY_AS_OF_MERGE, value: `${where}: ${which}`, at: entry.policy.observedAt },
  };
}
