/**
 * The effective policy: the shipped default, layered under the organization's policy and then the
 * repository's. Built by resolvePolicy() in ./resolve.ts from parsed layers; never hand-made outside
 * tests.
 */

export interface ControlSetting {
  enabled: boolean;
  /** Set by a layer to stop lower layers (organization < repository) from changing this control. */
  locked: boolean;
  /** Parameters after validation by the control's schema, defaults filled in. */
  params: Record<string, unknown>;
  /** The file that last set this control (for error messages and evidence). */
  source: string;
}

export interface ProductionBranches {
  /** The repository's default branch is a production branch. */
  defaultBranch: boolean;
  /** Glob patterns (`*` within a path segment, `**` across segments), e.g. "release/*". */
  patterns: string[];
}

/** Which subject an exception covers: every key given must match the result's subject. */
export interface ExceptionSubject {
  repository?: string;
  changeRequest?: number;
  user?: string;
  commit?: string;
}

export interface PolicyException {
  control: string;
  subject: ExceptionSubject;
  reason: string;
  approvedBy: string;
  /** Last day the exception applies (YYYY-MM-DD, inclusive, UTC). */
  expires: string;
  /** "file:line" where the exception is written. */
  source: string;
}

/**
 * One person and their accounts on each host and commit e-mails (the policy's `people:` map, keyed
 * by `id`). Accounts of one person are one person when judging independence.
 */
export interface Person {
  id: string;
  name?: string;
  github: string[];
  gitlab: string[];
  emails: string[];
  /** Last day of employment (YYYY-MM-DD), for access reviews. */
  leftOn?: string;
}

/** Where a layer declares a person's accounts, for problems found when layering people. */
export interface LayerPerson extends Person {
  /** Position of each account, keyed "github:<login>", "gitlab:<login>", "email:<address>" (lower case). */
  places: Record<string, { file: string; line: number; column: number }>;
}

export type AuditSchedule = "daily" | "weekly" | "monthly" | "off";

export interface Policy {
  /** Files layered into this policy, lowest layer first. */
  sources: string[];
  /** SHA-256 over the layered files' texts, in order: names the policy in evidence manifests. */
  hash: string;
  productionBranches: ProductionBranches;
  controls: Record<string, ControlSetting>;
  exceptions: PolicyException[];
  /** People and their accounts, from the shipped default and organization layers (union by id). */
  people: Person[];
  findings: {
    /** Repository (GitHub: name in the org; GitLab: project path) where finding issues live. */
    repository: string;
    labels: string[];
    /**
     * How failing change requests become issues: one per control and repository listing them
     * (default, bounded for a large organization), or one per change request.
     */
    groupChangeRequests?: "by_repository" | "per_change_request";
  };
  audit: {
    schedule: AuditSchedule;
    /** Repository name globs to audit (empty: all) and to leave out. */
    include: string[];
    exclude: string[];
  };
  /** What the ledger's coverage holds the app to (absent only on policies built by hand in tests). */
  ledger?: { judgedWithinMinutes: number; accessSnapshots: AccessSnapshotPoints };
}

/** When the period's export lists who had access: each quarter's or month's last day, or given days (UTC). */
export type AccessSnapshotPoints = "quarter-ends" | "month-ends" | string[];

/** One parsed policy file, before layering. Keys absent from the file are absent here. */
export interface PolicyLayer {
  file: string;
  text: string;
  productionBranches?: Partial<ProductionBranches>;
  controls: Record<
    string,
    { enabled?: boolean; locked?: boolean; params: Record<string, unknown>; line: number; column: number }
  >;
  exceptions: PolicyException[];
  /** Only the shipped default and organization layers: a repository's layer may not say who is who. */
  people?: LayerPerson[];
  findings?: Partial<Policy["findings"]>;
  audit?: Partial<Policy["audit"]>;
  ledger?: { judgedWithinMinutes?: number; accessSnapshots?: AccessSnapshotPoints };
}
