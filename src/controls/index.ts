import type { AnyControl } from "./types.js";
import { independentApproval } from "./cc8-independent-approval.js";
import { approvalCoversFinalCode } from "./cc8-approval-covers-final-code.js";
import { requiredChecks } from "./cc8-required-checks.js";
import { noBypass } from "./cc8-no-bypass.js";
import { noDirectPush } from "./cc8-no-direct-push.js";
import { branchProtection } from "./cc8-branch-protection.js";
import { orgTwoFactorRequired } from "./cc6-org-2fa-required.js";
import { memberTwoFactor } from "./cc6-member-2fa.js";
import { ownerCount } from "./cc6-owner-count.js";
import { basePermission } from "./cc6-base-permission.js";
import { outsideCollaboratorAccess } from "./cc6-outside-collaborator-access.js";
import { deployKeyWrite } from "./cc6-deploy-key-write.js";
import { repoAdminCount } from "./cc6-repo-admin-count.js";
import { staleInvitations } from "./cc6-stale-invitations.js";
import { inactiveAccess } from "./cc6-inactive-access.js";
import { leavers } from "./cc6-leavers.js";
import { accessReviewCompleted } from "./cc6-access-review-completed.js";
import { revocationsApplied } from "./cc6-revocations-applied.js";

/** Every control soc2-bot knows, in report order. Adding a control: one file, one line here. */
export const CONTROLS: readonly AnyControl[] = [
  independentApproval,
  approvalCoversFinalCode,
  requiredChecks,
  noBypass,
  noDirectPush,
  branchProtection,
  orgTwoFactorRequired,
  memberTwoFactor,
  ownerCount,
  basePermission,
  outsideCollaboratorAccess,
  deployKeyWrite,
  repoAdminCount,
  staleInvitations,
  inactiveAccess,
  leavers,
  accessReviewCompleted,
  revocationsApplied,
];

export function findControl(id: string): AnyControl | undefined {
  return CONTROLS.find((control) => control.id === id);
}
