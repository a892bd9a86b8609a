/**
 * Access reviews on GitHub (issue 15): one pull request per cycle and owner in the findings
 * repository, on a branch `<prefix><cycle>/<owner>` holding the review file. Opening is idempotent
 * (each write looks before it is made again after a lost answer); reading lists every such pull
 * request to its end with its reviews, commits and the file as opened and as merged, or answers
 * unreadable naming the permission, never a partial list.
 */
import { parseReviewBranch } from "../../access-review/names.js";
import { known, type AccessReviewApproval, type AccessReviewRecord, type Known } from "../../model/index.js";
import type { AccessRemoval, OpenedReview, OpenReviewRequest, ReviewHost } from "../types.js";
import {
  describeFailure,
  isForbidden,
  providerError,
  recordUnreadable,
  splitFullName,
  type GitHubContext,
} from "./http.js";
import { list } from "./repository.js";
import { ContentAnswer } from "./rest-schema.js";
import {
  GitRefAnswer,
  MergedPullAnswer,
  PullCommitAnswer,
  PullFileAnswer,
  PullReviewAnswer,
  ReviewPullAnswer,
  type ReviewPullAnswer as ReviewPullAnswerType,
} from "./review-schema.js";
import { parseAnswer, RepositoryAnswer } from "./schema.js";
import { writeError } from "./writing.js";

const PULLS_READ = "pull_requests:read";
const CONTENTS_READ = "contents:read";
/**
 * GitHub lists at most 250 commits of a pull request: a branch with that many may have more, and
 * the committers would then be partial.
 */
const PULL_COMMITS_LISTED = 250;
/** How often a write whose answer was lost is tried, looking before each new try (as writing.ts). */
const WRITE_ATTEMPTS = 3;

export function accessReviews(ctx: GitHubContext, repository: string): ReviewHost {
  return {
    openReview: (request) => openReview(ctx, repository, request),
    listReviews: (prefix) => listReviews(ctx, repository, prefix),
    removeAccess: (removal) => removeAccess(ctx, repository, removal),
  };
}

async function openReview(
  ctx: GitHubContext,
  repository: string,
  request: OpenReviewRequest,
): Promise<OpenedReview> {
  const { owner, repo } = splitFullName(repository);
  const where = `${repository}:${request.branch}`;
  const existing = await findPull(ctx, repository, request.branch);
  if (existing) return { number: existing.number, url: existing.html_url, created: false };

  const settings = await ctx.octokit
    .request("GET /repos/{owner}/{repo}", { owner, repo })
    .then((answer) => parseAnswer(RepositoryAnswer, answer.data, `GET /repos/${repository}`))
    .catch((error: unknown) =>
      Promise.reject(providerError(error, `repository ${repository}`, "metadata:read")),
    );
  const base = settings.default_branch;
  const baseSha = await branchSha(ctx, repository, base);
  if (baseSha === null)
    throw providerError(new Error(`no branch ${base}`), `the default branch of ${repository}`, CONTENTS_READ);

  await writeLooking(
    `branch ${where}`,
    "contents:write",
    async () => {
      try {
        await ctx.octokit.request("POST /repos/{owner}/{repo}/git/refs", {
          owner,
          repo,
          ref: `refs/heads/${request.branch}`,
          sha: baseSha,
          request: { retries: 0 },
        });
      } catch (error) {
        // Opened before (a run that stopped before its pull request): the branch is reused.
        const { status, message } = describeFailure(error);
        if (status === 422 && /reference already exists/i.test(message)) return true;
        throw error;
      }
      return true;
    },
    async () => ((await branchSha(ctx, repository, request.branch)) === null ? undefined : true),
  );

  const lookFile = async (): Promise<{ sha: string; text: string } | null> => {
    try {
      const answer = await ctx.octokit.request("GET /repos/{owner}/{repo}/contents/{path}", {
        owner,
        repo,
        path: request.path,
        ref: request.branch,
      });
      const content = parseAnswer(ContentAnswer, answer.data, `contents of ${where}:${request.path}`);
      if (Array.isArray(content) || !("content" in content)) return null;
      const sha = (answer.data as { sha?: unknown }).sha;
      return {
        sha: typeof sha === "string" ? sha : "",
        text: Buffer.from(content.content, content.encoding === "base64" ? "base64" : "utf8").toString(
          "utf8",
        ),
      };
    } catch (error) {
      if (describeFailure(error).status === 404 && !isForbidden404RateLimit(error)) return null;
      throw providerError(error, `${where}:${request.path}`, CONTENTS_READ);
    }
  };
  await writeLooking(
    `file ${request.path} on ${where}`,
    "contents:write",
    async () => {
      const current = await lookFile();
      if (current?.text === request.text) return true;
      await ctx.octokit.request("PUT /repos/{owner}/{repo}/contents/{path}", {
        owner,
        repo,
        path: request.path,
        branch: request.branch,
        message: request.title,
        content: Buffer.from(request.text, "utf8").toString("base64"),
        ...(current ? { sha: current.sha } : {}),
        request: { retries: 0 },
      });
      return true;
    },
    async () => ((await lookFile())?.text === request.text ? true : undefined),
  );

  const pull = await writeLooking(
    `a pull request for ${where}`,
    "pull_requests:write",
    async () => {
      try {
        const answer = await ctx.octokit.request("POST /repos/{owner}/{repo}/pulls", {
          owner,
          repo,
          title: request.title,
          body: request.body,
          head: request.branch,
          base,
          // Not re-sent blindly: a create whose answer was lost may have been applied (looked for below).
          request: { retries: 0 },
        });
        return parseAnswer(ReviewPullAnswer, answer.data, `POST /repos/${repository}/pulls`);
      } catch (error) {
        // Another run opened it between our look and our write.
        const failure = writeError(error, `a pull request for ${where}`, "pull_requests:write");
        if (failure.write.status === 422 && /already exists/i.test(failure.write.hostMessage)) {
          const found = await findPull(ctx, repository, request.branch);
          if (found) return found;
        }
        throw failure;
      }
    },
    () => findPull(ctx, repository, request.branch),
  );

  if (request.labels.length > 0) {
    // Adding a label it already has changes nothing: after a lost answer it is simply sent again.
    await writeLooking(
      `labels of ${repository}#${pull.number}`,
      "pull_requests:write",
      async () => {
        await ctx.octokit.request("POST /repos/{owner}/{repo}/issues/{issue_number}/labels", {
          owner,
          repo,
          issue_number: pull.number,
          labels: request.labels,
          request: { retries: 0 },
        });
        return true;
      },
      async () => undefined,
    );
  }
  return { number: pull.number, url: pull.html_url, created: true };
}

/** A 404 that is really an exhausted rate limit says nothing about the file. */
function isForbidden404RateLimit(error: unknown): boolean {
  return describeFailure(error).headers["x-ratelimit-remaining"] === "0";
}

/**
 * Runs a write; when its answer was lost (it may have been applied), looks whether it was before
 * trying again, so a retry never writes twice. A refused write (4xx) fails at once.
 */
async function writeLooking<T>(
  what: string,
  permission: string,
  write: () => Promise<T>,
  look: () => Promise<T | undefined>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      const failure = writeError(error, what, permission);
      if (failure.write.applied === "no" || attempt >= WRITE_ATTEMPTS) throw failure;
      const found = await look().catch(() => undefined);
      if (found !== undefined) return found;
    }
  }
}

/** The head sha of a branch; null when it does not exist. */
async function branchSha(ctx: GitHubContext, repository: string, branch: string): Promise<string | null> {
  const { owner, repo } = splitFullName(repository);
  try {
    const answer = await ctx.octokit.request("GET /repos/{owner}/{repo}/git/ref/{ref}", {
      owner,
      repo,
      ref: `heads/${branch}`,
    });
    return parseAnswer(GitRefAnswer, answer.data, `ref heads/${branch} of ${repository}`).object.sha;
  } catch (error) {
    if (describeFailure(error).status === 404 && !isForbidden404RateLimit(error)) return null;
    throw providerError(error, `branch ${branch} of ${repository}`, CONTENTS_READ);
  }
}

/** The pull request of a branch of this repository, in any state (the newest when several). */
async function findPull(
  ctx: GitHubContext,
  repository: string,
  branch: string,
): Promise<ReviewPullAnswerType | undefined> {
  const { owner, repo } = splitFullName(repository);
  const pulls = await list(
    ctx,
    "GET /repos/{owner}/{repo}/pulls",
    { owner, repo, head: `${owner}:${branch}`, state: "all" },
    ReviewPullAnswer,
  ).catch((error: unknown) =>
    Promise.reject(providerError(error, `pull requests of ${repository}:${branch}`, PULLS_READ)),
  );
  return pulls
    .filter((p) => p.head.ref === branch && sameRepository(p.head.repo?.full_name, repository))
    .sort((a, b) => b.number - a.number)[0];
}

function sameRepository(a: string | undefined, b: string): boolean {
  return a !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** A read that may be refused: which permission it needs, for the unreadable answer. */
class NeedsPermission extends Error {
  constructor(
    readonly permission: string,
    readonly what: string,
    readonly error: unknown,
  ) {
    super(what);
  }
}

function needing<T>(permission: string, what: string, read: () => Promise<T>): Promise<T> {
  return read().catch((error: unknown) => Promise.reject(new NeedsPermission(permission, what, error)));
}

async function listReviews(
  ctx: GitHubContext,
  repository: string,
  prefix: string,
): Promise<Known<AccessReviewRecord[]>> {
  const { owner, repo } = splitFullName(repository);
  // One review's own branch (the app's check on its pull request): GitHub filters by head, so the
  // findings repository's other pull requests are not listed on every event.
  const exact: Record<string, string> = parseReviewBranch(prefix) ? { head: `${owner}:${prefix}` } : {};
  try {
    const pulls = await needing(PULLS_READ, "pull requests", () =>
      list(ctx, "GET /repos/{owner}/{repo}/pulls", { owner, repo, state: "all", ...exact }, ReviewPullAnswer),
    );
    // A fork's branch of the same name is someone else's pull request, not the bot's review.
    const reviews = pulls
      .filter((p) => p.head.ref.startsWith(prefix) && sameRepository(p.head.repo?.full_name, repository))
      .filter((p) => {
        // Under the prefix but naming no cycle and owner: no review the bot opened.
        if (parseReviewBranch(p.head.ref)) return true;
        ctx.log.warn(
          `${repository}#${p.number}: branch ${p.head.ref} names no review cycle and owner: skipped`,
        );
        return false;
      })
      .sort((a, b) => a.number - b.number);
    const records: AccessReviewRecord[] = [];
    for (const pull of reviews) {
      const record = await readReview(ctx, repository, pull);
      if (!record.known) return record;
      records.push(record.value);
    }
    return known(records);
  } catch (caught) {
    if (caught instanceof NeedsPermission) {
      if (isForbidden(caught.error))
        return recordUnreadable(
          ctx,
          repository,
          `access reviews (${caught.what})`,
          caught.permission,
          caught.error,
        );
      throw providerError(caught.error, `${caught.what} of ${repository}`, caught.permission);
    }
    throw caught;
  }
}

async function readReview(
  ctx: GitHubContext,
  repository: string,
  pull: ReviewPullAnswerType,
): Promise<Known<AccessReviewRecord>> {
  const { owner, repo } = splitFullName(repository);
  const n = pull.number;
  const names = parseReviewBranch(pull.head.ref) ?? { cycle: "", owner: "" };
  const [reviews, commits, files] = await Promise.all([
    needing(PULLS_READ, `reviews of #${n}`, () =>
      list(
        ctx,
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
        { owner, repo, pull_number: n },
        PullReviewAnswer,
      ),
    ),
    needing(PULLS_READ, `commits of #${n}`, () =>
      list(
        ctx,
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/commits",
        { owner, repo, pull_number: n },
        PullCommitAnswer,
      ),
    ),
    needing(PULLS_READ, `files of #${n}`, () =>
      list(
        ctx,
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/files",
        { owner, repo, pull_number: n },
        PullFileAnswer,
      ),
    ),
  ]);
  if (commits.length >= PULL_COMMITS_LISTED) {
    return recordUnreadable(
      ctx,
      repository,
      `access review #${n}'s commits`,
      PULLS_READ,
      new Error(
        `GitHub lists at most ${PULL_COMMITS_LISTED} commits of a pull request: who wrote the decisions is not complete`,
      ),
    );
  }
  let mergedBy: string | null = null;
  let headSha = pull.head.sha;
  if (pull.merged_at !== null) {
    const answer = await needing(PULLS_READ, `pull request #${n}`, () =>
      ctx.octokit.request("GET /repos/{owner}/{repo}/pulls/{pull_number}", { owner, repo, pull_number: n }),
    );
    const merged = parseAnswer(MergedPullAnswer, answer.data, `GET /repos/${repository}/pulls/${n}`);
    mergedBy = merged.merged_by?.login ?? null;
    headSha = merged.head.sha;
  }
  // The review file: the one file of `<cycle>/<owner>.yml` the branch changed.
  const suffix = `${names.cycle}/${names.owner}.yml`;
  const reviewFiles = files.filter(
    (f) => (f.filename === suffix || f.filename.endsWith(`/${suffix}`)) && f.status !== "removed",
  );
  const path = reviewFiles.length === 1 ? (reviewFiles[0]?.filename ?? null) : null;
  const first = commits[0]?.sha ?? null;
  const [text, openedText] = await Promise.all([
    path === null ? null : fileAt(ctx, repository, path, headSha),
    path === null || first === null ? null : fileAt(ctx, repository, path, first),
  ]);

  const committers = new Set<string>();
  for (const commit of commits) {
    for (const login of [commit.author?.login, commit.committer?.login]) if (login) committers.add(login);
    // A commit whose e-mail links to no account was still written by someone: named, never dropped.
    if (!commit.author?.login) committers.add(`unknown account (${commit.commit.author?.name ?? "no name"})`);
  }
  return known({
    cycle: names.cycle,
    owner: names.owner,
    repository,
    number: n,
    url: pull.html_url,
    branch: pull.head.ref,
    openedBy: pull.user?.login ?? "ghost",
    openedAt: pull.created_at,
    state: pull.merged_at !== null ? "merged" : pull.state === "open" ? "open" : "closed",
    mergedAt: pull.merged_at,
    mergedBy,
    headSha,
    approvals: approvalsOf(reviews),
    committers: [...committers].sort(),
    file: path === null || text === null ? null : { path, text },
    openedText,
  });
}

/**
 * The approvals that stand, as GitHub counts them: each reviewer's latest review that is an
 * approval, a change request or a dismissal decides; comments do not undo an approval.
 */
function approvalsOf(
  reviews: readonly {
    user: { login: string } | null;
    state: string;
    submitted_at?: string | undefined;
    commit_id: string | null;
  }[],
): AccessReviewApproval[] {
  const latest = new Map<string, AccessReviewApproval | null>();
  for (const review of reviews) {
    const login = review.user?.login;
    if (!login || review.submitted_at === undefined) continue;
    if (review.state === "APPROVED")
      latest.set(login, { login, at: review.submitted_at, commit: review.commit_id });
    else if (review.state === "CHANGES_REQUESTED" || review.state === "DISMISSED") latest.set(login, null);
  }
  return [...latest.values()].filter((a): a is AccessReviewApproval => a !== null);
}

/** A file's text at a commit; null when the commit has no such file. */
async function fileAt(
  ctx: GitHubContext,
  repository: string,
  path: string,
  ref: string,
): Promise<string | null> {
  const { owner, repo } = splitFullName(repository);
  const answer = await needing(CONTENTS_READ, `${path}@${ref.slice(0, 12)}`, () =>
    ctx.octokit.request("GET /repos/{owner}/{repo}/contents/{path}", { owner, repo, path, ref }),
  ).catch((caught: unknown) => {
    const error = caught instanceof NeedsPermission ? caught.error : caught;
    if (describeFailure(error).status === 404 && !isForbidden404RateLimit(error)) return null;
    throw caught;
  });
  if (answer === null) return null;
  const content = parseAnswer(ContentAnswer, answer.data, `contents of ${repository}:${path}@${ref}`);
  if (Array.isArray(content) || !("content" in content)) return null;
  return Buffer.from(content.content, content.encoding === "base64" ? "base64" : "utf8").toString("utf8");
}

async function removeAccess(ctx: GitHubContext, repository: string, removal: AccessRemoval): Promise<void> {
  const organization = splitFullName(repository).owner;
  const target = removal.repository === null ? null : splitFullName(removal.repository);
  const what = `${removal.kind} ${removal.account}${removal.repository ? ` of ${removal.repository}` : ` of ${organization}`}`;
  const needsRepository = () => {
    if (target === null) throw providerError(new Error("no repository named"), what);
    return target;
  };
  try {
    switch (removal.kind) {
      case "collaborator":
        await ctx.octokit.request("DELETE /repos/{owner}/{repo}/collaborators/{username}", {
          ...needsRepository(),
          username: removal.account,
        });
        return;
      case "member":
        await ctx.octokit.request("DELETE /orgs/{org}/memberships/{username}", {
          org: organization,
          username: removal.account,
        });
        return;
      case "deploy-key":
        await ctx.octokit.request("DELETE /repos/{owner}/{repo}/keys/{key_id}", {
          ...needsRepository(),
          key_id: Number(removal.account),
        });
        return;
      case "team":
        await ctx.octokit.request("DELETE /orgs/{org}/teams/{team_slug}/repos/{owner}/{repo}", {
          org: organization,
          team_slug: removal.account,
          ...needsRepository(),
        });
        return;
    }
  } catch (error) {
    throw writeError(error, what, removal.kind === "member" ? "members:write" : "administration:write");
  }
}
