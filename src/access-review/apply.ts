import type { AccessReviewRecord, Snapshot } from "../model/index.js";
import type { PeopleDirectory } from "../controls/types.js";
import type { AccessRemoval, ReviewHost } from "../providers/types.js";
import type { AccessReviewParams } from "./params.js";
import type { ReviewDecision } from "./review-file.js";
import { signOffOf } from "./sign-off.js";
import { grantStillPresent } from "./revocations.js";
import { deployKeyId } from "./names.js";

export interface PlannedRemoval {
  review: string;
  grant: ReviewDecision;
  removals: AccessRemoval[];
  /** Set when the grant cannot be removed by the bot (an owner, an outside collaborator of unknown repositories). */
  skipped?: string;
}

/**
 * The removals a signed-off review decides: each revoked grant still present, as the host calls to
 * make. Only signed-off reviews (merged, independently approved, valid): an unapproved "revoke" is
 * no decision.
 */
export function plannedRemovals(
  records: readonly AccessReviewRecord[],
  snapshot: Snapshot,
  params: Pick<AccessReviewParams, "due_within_days">,
  people: PeopleDirectory,
): PlannedRemoval[] {
  const planned: PlannedRemoval[] = [];
  for (const record of records) {
    const signOff = signOffOf(record, params, people);
    if (!signOff.signedOff || !signOff.review) continue;
    for (const grant of signOff.review.decisions) {
      if (grant.decision !== "revoke") continue;
      const present = grantStillPresent(grant, snapshot);
      if (present.state !== "present") continue;
      const name = `${record.cycle}:${record.owner}`;
      const removal = removalsOf(grant, present.repositories);
      planned.push({ review: name, grant, ...removal });
    }
  }
  return planned;
}

function removalsOf(
  grant: ReviewDecision,
  repositories: string[],
): { removals: AccessRemoval[]; skipped?: string } {
  switch (grant.kind) {
    case "member":
      return { removals: [{ kind: "member", account: grant.account, repository: null }] };
    case "owner":
      return {
        removals: [],
        skipped: "an organization owner is not removed by the bot: an owner removes another owner",
      };
    case "collaborator":
    case "outside-collaborator":
      return {
        removals: repositories.map((repository) => ({
          kind: "collaborator",
          account: grant.account,
          repository,
        })),
      };
    case "team":
      return {
        removals: repositories.map((repository) => ({ kind: "team", account: grant.account, repository })),
      };
    case "deploy-key": {
      const id = deployKeyId(grant.account);
      return id === null
        ? { removals: [], skipped: "the deploy key's id cannot be read from the grant" }
        : { removals: repositories.map((repository) => ({ kind: "deploy-key", account: id, repository })) };
    }
  }
}

export interface ApplyOutcome {
  removal: AccessRemoval;
  review: string;
  grant: string;
  status: "removed" | "dry-run" | "failed" | "skipped";
  error?: string;
}

/** Makes the planned removals (or lists them, dry run), one at a time, each failure said and the rest still tried. */
export async function applyRemovals(
  planned: readonly PlannedRemoval[],
  host: ReviewHost,
  dryRun: boolean,
): Promise<ApplyOutcome[]> {
  const outcomes: ApplyOutcome[] = [];
  for (const plan of planned) {
    if (plan.skipped) {
      outcomes.push({
        removal: { kind: "member", account: plan.grant.account, repository: null },
        review: plan.review,
        grant: plan.grant.id,
        status: "skipped",
        error: plan.skipped,
      });
      continue;
    }
    for (const removal of plan.removals) {
      if (dryRun) {
        outcomes.push({ removal, review: plan.review, grant: plan.grant.id, status: "dry-run" });
        continue;
      }
      try {
        await host.removeAccess(removal);
        outcomes.push({ removal, review: plan.review, grant: plan.grant.id, status: "removed" });
      } catch (error) {
        outcomes.push({
          removal,
          review: plan.review,
          grant: plan.grant.id,
          status: "failed",
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }
  return outcomes;
}
