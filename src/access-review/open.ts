import type { AccessReviewRecord, Known, Snapshot } from "../model/index.js";
import type { PeopleDirectory } from "../controls/types.js";
import type { ReviewHost } from "../providers/types.js";
import { GITLAB_LIMITS } from "../text/limits.js";
import { markdownText, titleText } from "../text/escape.js";
import { cycleBefore, cycleOf, dueAt, parseCycle, type Cycle } from "./cycles.js";
import { reviewGrants } from "./grants.js";
import {
  ACCESS_REVIEW_BRANCH_PREFIX,
  ACCESS_REVIEW_LABEL,
  reviewBranch,
  reviewPath,
  reviewTitle,
} from "./names.js";
import type { AccessReviewParams } from "./params.js";
import { renderReviewFile, type ReviewGrant } from "./review-file.js";

/** What readYaml (src/policy/yaml-source.ts) reads at most. */
const MAX_REVIEW_BYTES = 1024 * 1024;

/** Titles within both hosts' limits (GitHub 256, GitLab 255 characters). */
const TITLE_CHARACTERS = GITLAB_LIMITS.issueTitleCharacters;

export interface OpenReviewsInput {
  /** Access as collected (organization and repositories). */
  snapshot: Snapshot;
  organization: string;
  params: AccessReviewParams;
  /** cc6.revocations-applied's grace_days, for the file's header. */
  graceDays: number;
  people: PeopleDirectory;
  /** Null: a dry run without a host (nothing listed, nothing written). */
  host: ReviewHost | null;
  at: Date;
  dryRun?: boolean;
  openedBy?: string;
  /** When each grant was first observed (the ledger's access history); null or absent: "unknown". */
  since?: (grant: ReviewGrant) => string | null;
}

export interface OpenedOwnerReview {
  owner: string;
  branch: string;
  path: string;
  /** "opened", "exists" (a review of this cycle and owner was already opened: nothing written), "dry-run", "refused". */
  status: "opened" | "exists" | "dry-run" | "refused";
  grants: number;
  number?: number;
  url?: string;
  /** Why it was refused: what could not be read (a review of a partial list would look complete). */
  why?: string;
  text?: string;
}

export interface OpenReviewsOutcome {
  cycle: Cycle;
  /** Set when nothing is due: the cycle is before first_cycle. */
  notDue?: string;
  reviews: OpenedOwnerReview[];
  /** The host's list of reviews could not be read (each owner's openReview still finds an existing one). */
  listError?: string;
}

/**
 * Opens the current cycle's review for every owner that has grants, once: owners with a review of
 * the cycle already (any state) are left alone, and the host's openReview is idempotent besides,
 * so a retry after a lost answer opens nothing twice. An owner whose grants cannot all be read gets
 * no review: a partial list signed off would be a false assurance.
 */
export async function openDueReviews(input: OpenReviewsInput): Promise<OpenReviewsOutcome> {
  const { params } = input;
  const cycle = cycleOf(params.every, input.at);
  const first = params.first_cycle ? parseCycle(params.first_cycle) : null;
  if (first && cycleBefore(cycle, first)) {
    return { cycle, notDue: `${cycle.id} is before first_cycle ${params.first_cycle}`, reviews: [] };
  }
  let existing: Known<AccessReviewRecord[]> | null = null;
  if (input.host && !input.dryRun) existing = await input.host.listReviews(ACCESS_REVIEW_BRANCH_PREFIX);
  const opened = new Set(
    existing?.known
      ? existing.value.filter((record) => record.cycle === cycle.id).map((record) => record.owner)
      : [],
  );
  const reviews: OpenedOwnerReview[] = [];
  for (const { owner, grants: listed, gaps } of reviewGrants(input.snapshot, params, input.people)) {
    const grants = input.since
      ? listed.map((grant) => ({ ...grant, since: input.since?.(grant) ?? grant.since }))
      : listed;
    const branch = reviewBranch(cycle.id, owner);
    const path = reviewPath(params.folder, cycle.id, owner);
    const base = { owner, branch, path, grants: grants.length };
    if (opened.has(owner)) {
      const record = existing?.known
        ? existing.value.find((r) => r.cycle === cycle.id && r.owner === owner)
        : undefined;
      reviews.push({ ...base, status: "exists", ...(record && { number: record.number, url: record.url }) });
      continue;
    }
    if (gaps.length > 0) {
      reviews.push({ ...base, status: "refused", why: `cannot read ${gaps.join("; ")}` });
      continue;
    }
    const text = renderReviewFile({
      cycle: cycle.id,
      organization: input.organization,
      owner,
      openedAt: input.at,
      grants,
      graceDays: input.graceDays,
      ...(input.openedBy !== undefined && { openedBy: input.openedBy }),
    });
    // The file is read back with the policy's YAML reader, which stops at 1 MiB: a review that large
    // could never be checked, so the owner's grants must be split (the control's `owners`) instead.
    const bytes = Buffer.byteLength(text, "utf8");
    if (bytes > MAX_REVIEW_BYTES) {
      reviews.push({
        ...base,
        status: "refused",
        why: `the review file would be ${bytes} bytes, more than the 1 MiB a review file may be: give some repositories to other owners (owners in cc6.access-review-completed)`,
      });
      continue;
    }
    if (input.dryRun || !input.host) {
      reviews.push({ ...base, status: "dry-run", text });
      continue;
    }
    const result = await input.host.openReview({
      branch,
      path,
      text,
      title: titleText(reviewTitle(cycle.id, owner, input.organization), TITLE_CHARACTERS),
      body: reviewBody(cycle, owner, path, grants.length, params.due_within_days),
      labels: [ACCESS_REVIEW_LABEL],
    });
    reviews.push({
      ...base,
      status: result.created ? "opened" : "exists",
      number: result.number,
      url: result.url,
      text,
    });
  }
  return {
    cycle,
    reviews,
    ...(existing && !existing.known && { listError: `${existing.permission} (${existing.reason})` }),
  };
}

function reviewBody(
  cycle: Cycle,
  owner: string,
  path: string,
  grants: number,
  dueWithinDays: number,
): string {
  return [
    `Access review of **${markdownText(cycle.id)}** for **${markdownText(owner)}**: ${grants} grant(s) in \`${markdownText(path)}\`.`,
    "",
    "1. For each grant keep `decision: keep`, or write `decision: revoke` with a `reason`. Change nothing else.",
    "2. Ask someone who did not write the decisions to approve the pull request.",
    `3. Merge it by ${dueAt(cycle, dueWithinDays).toISOString().slice(0, 10)}: the approved merge is the sign-off (SOC 2 CC6.2).`,
    "",
    "Revoked access is checked again after the policy's grace period (cc6.revocations-applied).",
  ].join("\n");
}
