/**
 * Wire schemas of the GitHub answers this provider relies on. They name only the fields we use and
 * let everything else through, so GitHub adding a field never breaks a collection.
 */
import { z } from "zod";
import { ProviderError } from "../../errors.js";

const Login = z.object({ login: z.string() });
/** An Actor with its type: User, Bot, Mannequin, Organization, EnterpriseUserAccount. */
const Actor = z.object({ __typename: z.string().optional(), login: z.string() });
const GitActor = z.object({
  user: Login.nullable(),
  name: z.string().nullable().optional(),
  email: z.string().nullable().optional(),
  date: z.string().nullable().optional(),
});
export type GitActor = z.infer<typeof GitActor>;

const PageInfo = z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() });
export type PageInfo = z.infer<typeof PageInfo>;

const CheckRunContext = z.object({
  __typename: z.literal("CheckRun"),
  name: z.string(),
  conclusion: z.string().nullable(),
  status: z.string(),
  detailsUrl: z.string().nullable(),
  completedAt: z.string().nullable(),
  checkSuite: z
    .object({ app: z.object({ databaseId: z.number().nullable(), slug: z.string() }).nullable() })
    .nullable()
    .optional(),
});
const StatusContext = z.object({
  __typename: z.literal("StatusContext"),
  context: z.string(),
  state: z.string(),
  targetUrl: z.string().nullable(),
  createdAt: z.string(),
  creator: Login.nullable().optional(),
});
export const RollupContext = z.discriminatedUnion("__typename", [CheckRunContext, StatusContext]);
export type RollupContext = z.infer<typeof RollupContext>;

export const ContextConnection = z.object({
  totalCount: z.number(),
  pageInfo: PageInfo,
  nodes: z.array(RollupContext),
});
export type ContextConnection = z.infer<typeof ContextConnection>;
const Rollup = z.object({ contexts: ContextConnection }).nullable();

const TimelineItem = z.discriminatedUnion("__typename", [
  z.object({
    __typename: z.literal("HeadRefForcePushedEvent"),
    actor: Login.nullable(),
    createdAt: z.string(),
    afterCommit: z.object({ oid: z.string() }).nullable(),
  }),
  z.object({
    __typename: z.literal("PullRequestCommit"),
    commit: z.object({
      oid: z.string(),
      committedDate: z.string(),
      author: z.object({ user: Login.nullable() }).nullable(),
      committer: z.object({ user: Login.nullable() }).nullable(),
    }),
  }),
  z.object({ __typename: z.literal("AddedToMergeQueueEvent"), createdAt: z.string() }),
  z.object({ __typename: z.literal("RemovedFromMergeQueueEvent"), createdAt: z.string() }),
]);

export const CommitConnection = z.object({
  totalCount: z.number(),
  pageInfo: PageInfo,
  nodes: z.array(
    z.object({
      commit: z.object({
        oid: z.string(),
        message: z.string(),
        author: GitActor.nullable(),
        committer: GitActor.nullable(),
      }),
    }),
  ),
});
export const ReviewConnection = z.object({
  totalCount: z.number(),
  pageInfo: PageInfo,
  nodes: z.array(
    z.object({
      author: Actor.nullable(),
      /** Absent only from answers to queries that did not ask: then the host did not say. */
      authorCanPushToRepository: z.boolean().optional(),
      state: z.enum(["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"]),
      submittedAt: z.string().nullable(),
      commit: z.object({ oid: z.string() }).nullable(),
    }),
  ),
});
export const TimelineConnection = z.object({ pageInfo: PageInfo, nodes: z.array(TimelineItem) });

export const PullRequestNode = z.object({
  number: z.number(),
  title: z.string(),
  url: z.string(),
  author: Actor.nullable(),
  state: z.enum(["OPEN", "CLOSED", "MERGED"]),
  isDraft: z.boolean(),
  baseRefName: z.string(),
  headRefName: z.string(),
  headRefOid: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  mergedAt: z.string().nullable(),
  mergedBy: Login.nullable(),
  mergeCommit: z.object({ oid: z.string(), statusCheckRollup: Rollup }).nullable(),
  commits: CommitConnection,
  headCommit: z.object({
    nodes: z.array(z.object({ commit: z.object({ oid: z.string(), statusCheckRollup: Rollup }) })),
  }),
  reviews: ReviewConnection,
  timelineItems: TimelineConnection,
});
export type PullRequestNode = z.infer<typeof PullRequestNode>;

const RateLimit = z.object({ cost: z.number() }).nullable().optional();

export const PullRequestAnswer = z.object({
  rateLimit: RateLimit,
  repository: z
    .object({
      nameWithOwner: z.string(),
      url: z.string(),
      visibility: z.enum(["PUBLIC", "PRIVATE", "INTERNAL"]),
      isArchived: z.boolean(),
      defaultBranchRef: z.object({ name: z.string() }).nullable(),
      pullRequest: PullRequestNode.nullable(),
    })
    .nullable(),
});

/** The answers to the follow-up queries on one connection of a pull request. */
function pullRequestPage<T extends z.ZodRawShape>(shape: T) {
  return z.object({
    rateLimit: RateLimit,
    repository: z.object({ pullRequest: z.object(shape).nullable() }).nullable(),
  });
}
export const PullRequestCommitsAnswer = pullRequestPage({ commits: CommitConnection });
export const PullRequestReviewsAnswer = pullRequestPage({ reviews: ReviewConnection });
export const PullRequestTimelineAnswer = pullRequestPage({ timelineItems: TimelineConnection });

export const CommitContextsAnswer = z.object({
  rateLimit: RateLimit,
  repository: z
    .object({
      object: z.object({ statusCheckRollup: Rollup.optional() }).nullable(),
    })
    .nullable(),
});

export const AuthorConnection = z.object({
  totalCount: z.number(),
  pageInfo: PageInfo,
  nodes: z.array(GitActor),
});
export type AuthorConnection = z.infer<typeof AuthorConnection>;

/** A path at a commit: a blob (a file, or a symlink by its mode), a tree, or a submodule's commit. */
const TreeEntry = z.object({
  type: z.string(),
  mode: z.number(),
  object: z
    .object({
      text: z.string().nullable().optional(),
      isBinary: z.boolean().nullable().optional(),
      isTruncated: z.boolean().optional(),
    })
    .nullable(),
});
export type TreeEntry = z.infer<typeof TreeEntry>;

/**
 * A policy file's text from its tree entry, as the REST contents read would give it: null for no
 * entry at the path, undefined when only that REST read can answer exactly (a directory, a symlink,
 * a submodule, a binary or truncated blob, or not asked), so the caller asks it.
 */
export function treeEntryText(entry: TreeEntry | null | undefined): string | null | undefined {
  if (entry === null) return null;
  if (entry === undefined) return undefined;
  const regularFile = entry.type === "blob" && (entry.mode === 0o100644 || entry.mode === 0o100755);
  const blob = entry.object;
  if (!regularFile || !blob || blob.isBinary !== false || blob.isTruncated !== false) return undefined;
  return typeof blob.text === "string" ? blob.text : undefined;
}

/** A context of the head's rollup as CHANGE_CHECK_QUERY asks it: a check run's id, name and app. */
const HeadRun = z.object({
  __typename: z.string(),
  databaseId: z.number().nullable().optional(),
  name: z.string().optional(),
  checkSuite: z
    .object({ app: z.object({ databaseId: z.number().nullable() }).nullable() })
    .nullable()
    .optional(),
});
export type HeadRun = z.infer<typeof HeadRun>;

/**
 * The answer to CHANGE_CHECK_QUERY: PULL_REQUEST_QUERY's, with the first commits' authors and the
 * policy file at the base branch's head (both absent from answers to queries that did not ask).
 */
export const ChangeCheckAnswer = z.object({
  rateLimit: RateLimit,
  policyRepository: z
    .object({
      defaultBranchRef: z
        .object({ target: z.object({ policyFile: TreeEntry.nullable().optional() }).nullable() })
        .nullable(),
    })
    .nullable()
    .optional(),
  repository: PullRequestAnswer.shape.repository
    .unwrap()
    .extend({
      pullRequest: PullRequestNode.extend({
        commitAuthors: z
          .object({
            totalCount: z.number(),
            pageInfo: PageInfo,
            nodes: z.array(z.object({ commit: z.object({ oid: z.string(), authors: AuthorConnection }) })),
          })
          .optional(),
        headRuns: z
          .object({
            nodes: z.array(
              z.object({
                commit: z.object({
                  oid: z.string(),
                  statusCheckRollup: z
                    .object({
                      contexts: z.object({
                        totalCount: z.number(),
                        pageInfo: PageInfo,
                        nodes: z.array(HeadRun),
                      }),
                    })
                    .nullable(),
                }),
              }),
            ),
          })
          .optional(),
        baseRef: z
          .object({ target: z.object({ policyFile: TreeEntry.nullable().optional() }).nullable() })
          .nullable()
          .optional(),
      }).nullable(),
    })
    .nullable(),
});

/** Aliases c0..cN, each a commit's authors (null when GitHub has no such object). */
export const CommitAuthorsAnswer = z.object({
  rateLimit: RateLimit,
  repository: z.record(z.string(), z.object({ authors: AuthorConnection.optional() }).nullable()).nullable(),
});

export const HistoryCommit = z.object({
  oid: z.string(),
  messageHeadline: z.string(),
  committedDate: z.string(),
  url: z.string(),
  author: z.object({ user: Login.nullable() }).nullable(),
  committer: z.object({ user: Login.nullable() }).nullable(),
  parents: z.object({ totalCount: z.number() }),
  associatedPullRequests: z.object({
    totalCount: z.number(),
    nodes: z.array(
      z.object({
        number: z.number(),
        merged: z.boolean(),
        baseRefName: z.string(),
        mergeCommit: z.object({ oid: z.string() }).nullable(),
      }),
    ),
  }),
});
export type HistoryCommit = z.infer<typeof HistoryCommit>;

export const BranchHistoryAnswer = z.object({
  rateLimit: RateLimit,
  repository: z
    .object({
      ref: z
        .object({
          target: z
            .object({
              history: z.object({ nodes: z.array(HistoryCommit), pageInfo: PageInfo }).optional(),
            })
            .nullable(),
        })
        .nullable(),
    })
    .nullable(),
});

// ---- repository batch (repository-queries.ts) ----

/** An actor of a protection allowance: a user, a team or an app (null: GitHub names none). */
const AllowanceActor = z
  .object({ __typename: z.string(), login: z.string().optional(), slug: z.string().optional() })
  .nullable();
const AllowanceConnection = z.object({
  totalCount: z.number(),
  nodes: z.array(z.object({ actor: AllowanceActor })),
});

/** Ref.branchProtectionRule: the classic rule GitHub applies to the branch. */
export const ProtectionRuleNode = z.object({
  requiresApprovingReviews: z.boolean(),
  requiredApprovingReviewCount: z.number().nullable(),
  dismissesStaleReviews: z.boolean(),
  requiresCodeOwnerReviews: z.boolean(),
  requireLastPushApproval: z.boolean(),
  requiresStatusChecks: z.boolean(),
  requiresStrictStatusChecks: z.boolean(),
  requiredStatusCheckContexts: z.array(z.string().nullable()).nullable(),
  requiredStatusChecks: z
    .array(z.object({ context: z.string(), app: z.object({ databaseId: z.number().nullable() }).nullable() }))
    .nullable(),
  isAdminEnforced: z.boolean(),
  allowsForcePushes: z.boolean(),
  allowsDeletions: z.boolean(),
  requiresCommitSignatures: z.boolean(),
  requiresLinearHistory: z.boolean(),
  requiresConversationResolution: z.boolean(),
  lockBranch: z.boolean(),
  restrictsPushes: z.boolean(),
  bypassPullRequestAllowances: AllowanceConnection,
  pushAllowances: AllowanceConnection,
});
export type ProtectionRuleNode = z.infer<typeof ProtectionRuleNode>;

const CollaboratorConnection = z.object({
  totalCount: z.number(),
  pageInfo: PageInfo,
  edges: z.array(z.object({ permission: z.string(), node: Login })),
});
export type CollaboratorConnection = z.infer<typeof CollaboratorConnection>;

const RefConnection = z.object({
  totalCount: z.number(),
  pageInfo: PageInfo,
  nodes: z.array(z.object({ name: z.string(), target: z.object({ oid: z.string() }).nullable().optional() })),
});
export type RefConnection = z.infer<typeof RefConnection>;

/**
 * One repository of the batch. Fields a token may not read come back null with an error naming
 * their path: every one that can be is nullable here, and the errors say which it was.
 */
export const RepositoryFactsNode = z.object({
  nameWithOwner: z.string(),
  url: z.string(),
  visibility: z.enum(["PUBLIC", "PRIVATE", "INTERNAL"]),
  isArchived: z.boolean(),
  isPrivate: z.boolean(),
  /** ADMIN: an absent protection rule or deploy key is truly absent, not hidden from the viewer. */
  viewerPermission: z.string().nullable(),
  defaultBranchRef: z
    .object({
      name: z.string(),
      target: z
        .object({ __typename: z.string(), oid: z.string().optional(), file: TreeEntry.nullable().optional() })
        .nullable(),
      branchProtectionRule: ProtectionRuleNode.nullable(),
      rules: z
        .object({
          totalCount: z.number(),
          nodes: z.array(
            z.object({
              type: z.string(),
              repositoryRuleset: z
                .object({ databaseId: z.number().nullable(), enforcement: z.string() })
                .nullable(),
            }),
          ),
        })
        .nullable(),
    })
    .nullable(),
  collaborators: CollaboratorConnection.nullable(),
  refs: RefConnection.nullable().optional(),
});
export type RepositoryFactsNode = z.infer<typeof RepositoryFactsNode>;

/** The deploy keys of one repository of the batch, under their own alias. */
export const DeployKeyCountNode = z.object({ deployKeys: z.object({ totalCount: z.number() }) });

export const MoreRepositoryFactsNode = z.object({
  collaborators: CollaboratorConnection.nullable().optional(),
  refs: RefConnection.nullable().optional(),
});

const TeamRepositoryConnection = z.object({
  pageInfo: PageInfo,
  edges: z.array(z.object({ permission: z.string(), node: z.object({ nameWithOwner: z.string() }) })),
});
export type TeamRepositoryConnection = z.infer<typeof TeamRepositoryConnection>;

export const OrganizationTeamsAnswer = z.object({
  rateLimit: z.object({ cost: z.number() }).nullable().optional(),
  organization: z
    .object({
      teams: z.object({
        pageInfo: PageInfo,
        nodes: z.array(z.object({ slug: z.string(), repositories: TeamRepositoryConnection })),
      }),
    })
    .nullable(),
});

export const TeamRepositoriesNode = z.object({ repositories: TeamRepositoryConnection }).nullable();

// ---- REST ----

export const RepositoryAnswer = z.object({
  full_name: z.string(),
  html_url: z.string(),
  visibility: z.enum(["public", "private", "internal"]).optional(),
  private: z.boolean(),
  archived: z.boolean(),
  default_branch: z.string(),
});

export const BranchAnswer = z.object({ name: z.string() });

export const CollaboratorAnswer = z.object({
  login: z.string(),
  role_name: z.string().optional(),
  permissions: z
    .object({
      admin: z.boolean().optional(),
      maintain: z.boolean().optional(),
      push: z.boolean().optional(),
      triage: z.boolean().optional(),
      pull: z.boolean().optional(),
    })
    .optional(),
});
export type CollaboratorAnswer = z.infer<typeof CollaboratorAnswer>;

export const TeamAnswer = z.object({ slug: z.string(), permission: z.string() });

export const DeployKeyAnswer = z.object({
  id: z.number(),
  title: z.string(),
  read_only: z.boolean(),
  created_at: z.string().nullable().optional(),
  added_by: z.string().nullable().optional(),
});

export const OrganizationAnswer = z.object({
  login: z.string(),
  html_url: z.string(),
  two_factor_requirement_enabled: z.boolean().nullable().optional(),
  default_repository_permission: z.string().nullable().optional(),
});

export const InvitationAnswer = z.object({
  login: z.string().nullable(),
  email: z.string().nullable(),
  role: z.string(),
  created_at: z.string(),
  inviter: Login.nullable().optional(),
});

export const ContentAnswer = z.object({ content: z.string(), encoding: z.string() });

export const CommitPullAnswer = z.object({
  number: z.number(),
  state: z.string(),
  head: z.object({ sha: z.string() }),
});

export const CheckRunAnswer = z.object({ id: z.number(), name: z.string() });
export const CheckRunsAnswer = z.object({ check_runs: z.array(CheckRunAnswer) });

export const IssueAnswer = z.object({
  number: z.number(),
  title: z.string(),
  body: z.string().nullable().optional(),
  state: z.enum(["open", "closed"]),
  html_url: z.string(),
  labels: z.array(z.union([z.string(), z.object({ name: z.string().optional() })])),
  pull_request: z.unknown().optional(),
});
export type IssueAnswer = z.infer<typeof IssueAnswer>;

/** Validates an answer; an unexpected shape names the first offending field path. */
export function parseAnswer<T extends z.ZodType>(schema: T, data: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : "(root)";
  throw new ProviderError(
    `GitHub answered ${what} with an unexpected shape at ${path}: ${issue?.message ?? ""}`,
    {
      host: "github",
      cause: result.error,
    },
  );
}
