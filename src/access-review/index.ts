/**
 * Access reviews (SOC 2 CC6.2, CC6.3): the API the hosts, the controls, the CLI and the evidence
 * build on. One pull request (merge request) per cycle and owner in the findings repository holds a
 * review file; its independently approved merge is the sign-off.
 */
export {
  ACCESS_REVIEW_BRANCH_PREFIX,
  ACCESS_REVIEW_LABEL,
  deployKeyId,
  ORGANIZATION_ADMINS,
  parseReviewBranch,
  reviewBranch,
  reviewPath,
  reviewReference,
  reviewTitle,
} from "./names.js";
export { cycleBefore, cycleOf, dueAt, everyOf, parseCycle, type Cycle, type Every } from "./cycles.js";
export {
  ACCESS_REVIEW_CONTROL,
  ACCESS_REVIEW_CONTROLS,
  accessReviewParams,
  accessReviewSettings,
  REVOCATION_CONTROL,
  revocationParams,
  type AccessReviewParams,
  type RevocationParams,
} from "./params.js";
export {
  GRANT_KINDS,
  parseReviewFile,
  renderReviewFile,
  type GrantKind,
  type ParsedReview,
  type RenderReviewInput,
  type ReviewDecision,
  type ReviewGrant,
  type ReviewProblem,
  type TwoFactor,
} from "./review-file.js";
export { grantId, ownerOf, reviewGrants, UNKNOWN_PERSON, type OwnerGrants } from "./grants.js";
export { signOffOf, type SignOff } from "./sign-off.js";
export { grantStillPresent, type Presence } from "./revocations.js";
export {
  openDueReviews,
  type OpenedOwnerReview,
  type OpenReviewsInput,
  type OpenReviewsOutcome,
} from "./open.js";
export { applyRemovals, plannedRemovals, type ApplyOutcome, type PlannedRemoval } from "./apply.js";
