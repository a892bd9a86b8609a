import { z } from "zod";
import { everyOf } from "./cycles.js";
import { ORGANIZATION_ADMINS } from "./names.js";
import { globMatch } from "../policy/branches.js";
import type { Policy } from "../policy/types.js";

/** A team slug or "organization-admins": one path segment of the branch and file names. */
const OWNER = /^[a-z0-9][a-z0-9._-]*$/i;

export const accessReviewParams = z
  .object({
    every: z.enum(["quarter", "month", "half-year", "year"]).default("quarter"),
    /** The review of a cycle must be merged, independently approved, this many days after the cycle's first day. */
    due_within_days: z.number().int().min(1).default(30),
    /** Cycles before this one are not judged: when reviewing with the bot began. */
    first_cycle: z
      .string()
      .refine((id) => everyOf(id) !== null, {
        message: 'a cycle id: "2026-Q4", "2026-11", "2026-H2" or "2026"',
      })
      .optional(),
    owners: z
      .array(
        z
          .object({
            owner: z
              .string()
              .regex(OWNER, "a team slug (letters, digits, '.', '_', '-')")
              .refine((owner) => owner !== ORGANIZATION_ADMINS, {
                message: `"${ORGANIZATION_ADMINS}" is the owner of everything no team claims; name a team`,
              }),
            repositories: z
              .array(
                z
                  .string()
                  .min(1)
                  .refine((pattern) => validPattern(pattern), {
                    message: "a repository name pattern (`*` within a path segment, `**` across segments)",
                  }),
              )
              .min(1),
          })
          .strict(),
      )
      .default([]),
    folder: z
      .string()
      .min(1)
      .refine((folder) => !folder.split("/").includes(".."), { message: "a folder inside the repository" })
      .default("access-reviews"),
  })
  .strict();
export type AccessReviewParams = z.infer<typeof accessReviewParams>;

export const revocationParams = z
  .object({
    /** Days after the review's merge a revoked grant may still be present. */
    grace_days: z.number().int().min(0).default(7),
    /** Lets `soc2-bot access-review apply` (and the app after a merge) remove revoked grants itself. */
    apply: z.boolean().default(false),
  })
  .strict();
export type RevocationParams = z.infer<typeof revocationParams>;

/** A pattern globMatch can use (it throws on one it cannot compile). */
function validPattern(pattern: string): boolean {
  try {
    globMatch(pattern, "x");
    return true;
  } catch {
    return false;
  }
}

export const ACCESS_REVIEW_CONTROL = "cc6.access-review-completed";
export const REVOCATION_CONTROL = "cc6.revocations-applied";
/** The controls that judge the access reviews: the audit reads them only when one is on. */
export const ACCESS_REVIEW_CONTROLS = [ACCESS_REVIEW_CONTROL, REVOCATION_CONTROL] as const;

/** The two controls' parameters in the policy (validated with it; defaults when it does not set them). */
export function accessReviewSettings(policy: Pick<Policy, "controls">): {
  enabled: boolean;
  review: AccessReviewParams;
  revocation: RevocationParams;
} {
  const review = policy.controls[ACCESS_REVIEW_CONTROL];
  return {
    enabled: review?.enabled === true,
    review: accessReviewParams.parse(review?.params ?? {}),
    revocation: revocationParams.parse(policy.controls[REVOCATION_CONTROL]?.params ?? {}),
  };
}
