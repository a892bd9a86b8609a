import { z } from "zod";
import { ChangeRequest, DirectPush } from "./change-request.js";
import { Organization } from "./organization.js";
import { Repository } from "./repository.js";

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
});
export type Snapshot = z.infer<typeof Snapshot>;
