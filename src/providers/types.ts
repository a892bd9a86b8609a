import type {
  AccessReviewRecord,
  ChangeRequest,
  DirectPush,
  Known,
  Organization,
  Repository,
  UnreadableFact,
} from "../model/index.js";
import type { Policy } from "../policy/types.js";
import { ProviderError } from "../errors.js";

/**
 * What every code host must do. GitHub and GitLab implement it in their own folder; nothing outside
 * src/providers names octokit or gitbeaker, and no shared file asks which host it is talking to.
 */
export interface CodeHost {
  readonly host: "github" | "gitlab";
  /** API base URL, recorded in snapshots and manifests. */
  readonly baseUrl: string;
  /**
   * Where this host keeps policy files: the organization layer lives in `file` of the repository
   * `organizationRepository(login)` (GitHub: the org's `.github` repository), a repository's own layer
   * in `file` of that repository, read from the base/target branch.
   */
  readonly policyLocation: { organizationRepository(login: string): string; file: string };

  // ---- reading (collect) ----
  /** Who the credentials belong to and what they may do, for the snapshot's record. */
  describeCredentials(): Promise<{ actor: string; permissions: Record<string, string> }>;
  /** Organization (GitHub) or group (GitLab) facts. */
  collectOrganization(login: string): Promise<Organization>;
  /** Repository names (full names) of an organization or group, archived included. */
  listRepositories(login: string): AsyncIterable<string>;
  /** Repository facts; production branches are those of the policy that exist. */
  collectRepository(fullName: string, policy: Policy): Promise<Repository>;
  /**
   * Optional: read the facts of these repositories in as few requests as the host allows; the next
   * collectRepository, readFile (the policy file at the default branch) calls for them are answered
   * from what was read, once. Without it (or for anything it could not read) each call reads alone.
   * What calls before the previous one read and was not used is dropped: a caller may read the next
   * chunk ahead while it collects the current one.
   */
  prefetchRepositories?(
    fullNames: readonly string[],
    policy: Policy,
    period: { since: Date; until: Date },
  ): Promise<void>;
  /** One change request with everything the CC8 controls need. */
  collectChangeRequest(repository: string, number: number): Promise<ChangeRequest>;
  /**
   * What a change check needs, with the fewest requests: the change request, and its repository with
   * the rules of the base branch only (collaborators, teams and deploy keys are not read: they are
   * unreadable with permission "not collected for a change check").
   */
  collectChangeContext(
    repository: string,
    number: number,
  ): Promise<{ changeRequest: ChangeRequest; repository: Repository }>;
  /** Numbers of the open change requests whose head is `sha` (status events name only a commit). */
  changeRequestsForCommit(repository: string, sha: string): Promise<number[]>;
  /**
   * Change requests merged within the period into a branch `isSelectedBase` accepts (the audit
   * passes the policy's production-branch test), streamed page by page. Selected by the base
   * branch's name, not among the branches that exist today: a branch deleted after its merges keeps
   * them in the population.
   */
  listMergedChangeRequests(
    repository: string,
    isSelectedBase: (branch: string) => boolean,
    period: { since: Date; until: Date },
  ): AsyncIterable<ChangeRequest>;
  /** Commits on `branch` within the period that no merged change request brought. */
  listDirectPushes(
    repository: string,
    branch: string,
    period: { since: Date; until: Date },
    mergedShas: ReadonlySet<string>,
  ): AsyncIterable<DirectPush>;
  /** The policy file at `path` on `ref` of a repository, or null when there is none. */
  readFile(repository: string, path: string, ref?: string): Promise<string | null>;
  /** Facts that could not be read while collecting, for the snapshot's `unreadable` list. */
  drainUnreadable(): UnreadableFact[];

  // ---- writing (report) ----
  /** Create or update the one change-management check (GitHub check run, GitLab commit status). */
  publishChangeCheck(
    target: { repository: string; number: number; headSha: string },
    check: CheckReport,
  ): Promise<void>;
  /** The issue tracker where finding issues live. */
  issues(repository: string): IssueTracker;
  /**
   * Access reviews as pull requests (GitHub) or merge requests (GitLab) in the findings repository.
   * Absent on a host that cannot hold them: the access-review controls then answer unknown.
   */
  accessReviews?(repository: string): ReviewHost;
}

/** What `soc2-bot access-review open` asks the host to open: one review file on its own branch. */
export interface OpenReviewRequest {
  /** `<prefix><cycle>/<owner>`, e.g. "soc2-bot/access-review/2026-Q4/organization-admins". */
  branch: string;
  /** Path of the review file, e.g. "access-reviews/2026-Q4/organization-admins.yml". */
  path: string;
  text: string;
  /** Pull request title and body (already escaped and within the host's limits). */
  title: string;
  body: string;
  /** Labels to put on it (created if missing, as finding issues' labels are). */
  labels: string[];
}

export interface OpenedReview {
  number: number;
  url: string;
  /** False when a pull request for the branch already existed (open, merged or closed): nothing was written. */
  created: boolean;
}

/** A grant the policy lets the bot remove itself (cc6.revocations-applied with `apply: true`). */
export interface AccessRemoval {
  kind: "collaborator" | "member" | "deploy-key" | "team";
  /** Login, team slug, or deploy key id (as text). */
  account: string;
  /** Repository full name; null for organization membership. */
  repository: string | null;
}

export interface ReviewHost {
  /**
   * Creates the branch from the default branch, commits the file, opens the pull request. Idempotent:
   * a pull request for the branch in any state is returned as it is (a retry after a lost answer
   * finds it rather than opening a second).
   */
  openReview(request: OpenReviewRequest): Promise<OpenedReview>;
  /**
   * Every pull request whose head branch starts with `prefix`, in any state, each read to its end
   * (approvals, committers) with the review file at its head; unreadable (naming the permission)
   * rather than partial.
   */
  listReviews(prefix: string): Promise<Known<AccessReviewRecord[]>>;
  /** Removes one grant; only called when the policy opts in (apply: true). */
  removeAccess(removal: AccessRemoval): Promise<void>;
}

export type CheckConclusion = "success" | "failure" | "neutral";

export interface CheckReport {
  name: string;
  conclusion: CheckConclusion;
  /** One line, e.g. "2 of 4 controls fail". */
  title: string;
  /** Markdown: the table of controls, evidence and what to do. */
  summary: string;
  /** Where a person reads the whole report (GitLab status target_url), when there is one. */
  detailsUrl?: string;
  /** Lines of files the report is about (GitHub check run annotations; a host without them ignores them). */
  annotations?: CheckAnnotation[];
}

/** A failure at a line and column of a file of the repository (1-based). */
export interface CheckAnnotation {
  path: string;
  line: number;
  column: number;
  message: string;
}

export interface FindingIssue {
  number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  url: string;
  labels: string[];
}

/**
 * What an issue tracker accepts, in the host's own unit (characters are Unicode code points), and
 * how fast it lets content be created. A host refuses the whole write when one field is over.
 */
export interface IssueTrackerLimits {
  titleCharacters: number;
  bodyCharacters: number;
  commentCharacters: number;
  /**
   * Content-creating writes (issues, comments, edits) the host allows per minute and per hour
   * (GitHub's secondary rate limits: about 80 and 500); absent when the host documents none.
   */
  writesPerMinute?: number;
  writesPerHour?: number;
}

/**
 * A write the host refused or whose answer never came. `applied` says what is known: "no" (the host
 * refused it: 4xx, e.g. 422 with the field it names) or "unknown" (a 5xx, a timeout, a dropped
 * connection: the write may have been applied, so look before writing again).
 */
export class WriteError extends ProviderError {
  constructor(
    message: string,
    readonly write: {
      host: "github" | "gitlab";
      status?: number;
      applied: "no" | "unknown";
      /** The host's own message, e.g. "Validation Failed" or "title is too long (maximum is 256 characters)". */
      hostMessage: string;
      /** The fields the host named as refused, e.g. ["title"]. */
      fields: string[];
      /** The permission that is missing, only when the host said the credentials may not write (403/404). */
      permission?: string;
      cause?: unknown;
    },
  ) {
    super(message, {
      host: write.host,
      ...(write.status === undefined ? {} : { status: write.status }),
      ...(write.permission === undefined ? {} : { permission: write.permission }),
      cause: write.cause,
    });
  }
}

export interface IssueTracker {
  /** The host's limits; absent: GitHub's, the strictest. */
  readonly limits?: IssueTrackerLimits;
  /** Every issue, open or closed, carrying `label`. */
  listByLabel(label: string): Promise<FindingIssue[]>;
  create(issue: { title: string; body: string; labels: string[] }): Promise<FindingIssue>;
  update(
    number: number,
    change: { title?: string; body?: string; state?: "open" | "closed"; labels?: string[] },
  ): Promise<FindingIssue>;
  comment(number: number, body: string): Promise<void>;
}
