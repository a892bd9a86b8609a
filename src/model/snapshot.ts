import { z } from "zod";
import { ChangeRequest, DirectPush } from "./change-request.js";
import { Organization } from "./organization.js";
import { knownSchema } from "./known.js";
import { BranchRule, Repository } from "./repository.js";
import { AccessReviewRecord } from "./access-review.js";

export const SNAPSHOT_SCHEMA_VERSION = 1;

/** Something the collector was not allowed (or not able) to read, for the auditor's record. */
export const UnreadableFact = z.object({
  subject: z.string(),
  what: z.string(),
  permission: z.string(),
  reason: z.string(),
});
export type UnreadableFact = z.infer<typeof UnreadableFact>;

/** A policy file read from the code host (organization or repository layer) while collecting. */
export const PolicyFile = z.object({
  layer: z.enum(["organization", "repository"]),
  /** For the repository layer: which repository it governs. */
  repository: z.string().nullable(),
  /** Where it was read, e.g. "acme/.github:.github/soc2.yml@main". */
  path: z.string(),
  content: z.string(),
});
export type PolicyFile = z.infer<typeof PolicyFile>;

/** A policy file as of a merge: its text is the snapshot's AsOfMerge.policyTexts[sha256]. */
export const PolicyFileRef = PolicyFile.omit({ content: true }).extend({
  /** SHA-256 of the file's text, hex. */
  sha256: z.string(),
});
export type PolicyFileRef = z.infer<typeof PolicyFileRef>;

/** Where a fact as of a merge was read: one record of the ledger's observation stream. */
const ObservedAt = {
  /** The ledger stream and record, e.g. "observation:github/acme/api" record 7. */
  stream: z.string(),
  sequence: z.number().int(),
  observedAt: z.iso.datetime({ offset: true }),
  /** How long before the merge the observation was made, in milliseconds. */
  ageMs: z.number(),
};

/**
 * What a merged change is judged against: its base branch's rule and the policy in force when it
 * merged, as the evidence ledger observed them (the nearest observation at or before the merge).
 * Read from the ledger before evaluating and kept in the snapshot, so evaluation stays pure and
 * `soc2-bot evaluate --snapshot snapshot.json` gives the package's results again, byte for byte.
 */
export const MergeAsOf = z.object({
  /** The change, as its results name it: "acme/api#12". */
  change: z.string(),
  repository: z.string(),
  /** The base branch the change merged into. */
  branch: z.string(),
  mergedAt: z.iso.datetime({ offset: true }),
  /**
   * The branch rule as observed (or unreadable then, with the permission); null: the ledger holds no
   * observation of the branch that old (or none of the ledger could be read), and today's rule is used.
   */
  observation: z.object({ ...ObservedAt, rule: knownSchema(BranchRule) }).nullable(),
  /**
   * The policy files that governed the repository then (organization layers, then its own), from the
   * nearest earlier observation that recorded them; their texts are in AsOfMerge.policyTexts, once
   * however many merges share them. null: no observation that old records them, and today's policy
   * is used. Absent: the policy was not looked up (the app's merge judgement, which reads the policy
   * minutes after the merge): today's policy, and nothing said about it.
   */
  policy: z
    .object({ ...ObservedAt, files: z.array(PolicyFileRef) })
    .nullable()
    .optional(),
  /** The ledger could not be read (why): today's rule and policy are used, and the evidence says so. */
  ledgerError: z.string().optional(),
});
export type MergeAsOf = z.infer<typeof MergeAsOf>;

/** The rules and policies as of each merge (see MergeAsOf), as the evidence ledger observed them. */
export const AsOfMerge = z.object({
  merges: z.array(MergeAsOf),
  /** The texts of the policy files the merges name, by SHA-256 (hex): each text once. */
  policyTexts: z.record(z.string(), z.string()).default({}),
});
export type AsOfMerge = z.infer<typeof AsOfMerge>;

export const Snapshot = z.object({
  schemaVersion: z.literal(SNAPSHOT_SCHEMA_VERSION),
  collector: z.object({
    tool: z.string(),
    version: z.string(),
    host: z.enum(["github", "gitlab"]),
    /** API base URL the facts were read from. */
    baseUrl: z.string(),
    /** Who collected: a user login, an app installation, or "sample" for built-in data. */
    actor: z.string(),
    /** Permissions or scopes the credentials had, as the host reported them. */
    permissions: z.record(z.string(), z.string()),
  }),
  collectedAt: z.iso.datetime({ offset: true }),
  /** The audit period the change requests and direct pushes cover; null for a single change. */
  period: z
    .object({ since: z.iso.datetime({ offset: true }), until: z.iso.datetime({ offset: true }) })
    .nullable(),
  unreadable: z.array(UnreadableFact),
  organization: Organization.nullable(),
  repositories: z.array(Repository),
  changeRequests: z.array(ChangeRequest),
  directPushes: z.array(DirectPush),
  policyFiles: z.array(PolicyFile).default([]),
  /**
   * Merged changes to judge by the rule and policy as of their merge (see MergeAsOf); a merged
   * change without an entry in `merges` is judged by today's facts. Absent (snapshots written before the ledger,
   * or audited without one) is the same as empty. Optional rather than defaulted, so a snapshot
   * without it is written back without it.
   */
  asOfMerge: AsOfMerge.optional(),
  /**
   * The access reviews in the findings repository (see AccessReviewRecord). Absent: not collected
   * (an older snapshot, or a host without them), which the access-review controls answer unknown.
   */
  accessReviews: knownSchema(z.array(AccessReviewRecord)).optional(),
});
export type Snapshot = z.infer<typeof Snapshot>;
