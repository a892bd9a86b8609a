import {
  changeRequestSubject,
  collaboratorSubject,
  deployKeySubject,
  directPushSubject,
  invitationSubject,
  memberSubject,
  organizationSubject,
  repositorySubject,
} from "../controls/subjects.js";
import {
  SNAPSHOT_SCHEMA_VERSION,
  type BranchRule,
  type ChangeRequest,
  type Check,
  type Collaborator,
  type Commit,
  type DeployKey,
  type DirectPush,
  type Member,
  type Push,
  type Repository,
  type Review,
  type Snapshot,
} from "../model/index.js";
import { seededRandom, type Random } from "./random.js";

/**
 * The built-in sample organization: realistic, seeded, and with every kind of violation planted on
 * purpose. It declares the findings it planted (`expected`) independently of the controls, so tests,
 * the demo and the benchmark can check that exactly those, and nothing else, are found.
 */
export interface SampleOptions {
  seed?: number;
  organization?: string;
  repositories?: number;
  pullRequestsPerRepository?: number;
  members?: number;
  /**
   * Merged pull requests of each repository (by position), overriding pullRequestsPerRepository:
   * an organization whose repositories differ in activity, e.g. longTailCounts().
   */
  pullRequestCounts?: readonly number[];
  /** Share of pull requests with a planted CC8 violation. */
  violationRate?: number;
  /** Host the sample pretends to come from (URLs in the facts). */
  webUrl?: string;
  apiUrl?: string;
}

export interface ExpectedFinding {
  control: string;
  subject: string;
  outcome: "fail" | "unknown" | "excepted";
}

export interface SampleOrganization {
  snapshot: Snapshot;
  expected: ExpectedFinding[];
  /** The organization policy shipped with the sample (it holds the sample's exceptions). */
  organizationPolicy: string;
  /** The evaluation time the sample is meant for (end of the period). */
  at: Date;
}

const REPOSITORY_NAMES = [
  "api",
  "web",
  "billing",
  "auth",
  "infra",
  "mobile",
  "data-pipeline",
  "docs",
  "payments",
  "search",
  "notifications",
  "admin-portal",
];
const PEOPLE = [
  "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
  "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yolanda", "zoe", "arthur", "beth",
  "chen", "dmitri",
]; // prettier-ignore
const TITLES = [
  "Add rate limiting to public endpoints",
  "Fix pagination off-by-one",
  "Upgrade dependencies",
  "Refactor session handling",
  "Add audit logging",
  "Improve error messages",
  "Cache feature flags",
  "Remove unused endpoints",
];
const REQUIRED_CHECK = "ci/test";
/** GitHub Actions, the app that reports the sample's check runs. */
const ACTIONS_APP = { appId: 15368, appSlug: "github-actions" } as const;
/** The sample's commit e-mails: the organization's domain, which the hosts link to each account. */
const EMAIL_DOMAIN = "acme-demo.example";
const PERIOD = { since: "2026-05-01T00:00:00Z", until: "2026-11-01T00:00:00Z" };

/** Roles the sample gives its special repositories (by position in REPOSITORY_NAMES). */
const UNPROTECTED = "docs";
const WEAK_PROTECTION = "infra";
const UNREADABLE_RULES = "mobile";
const MANY_ADMINS = "payments";
const OUTSIDE_WRITER_REPO = "web";
const EXCEPTED_PUSH_REPO = "infra";
/** A public repository: anyone can review its pull requests, with or without write access. */
const PUBLIC_REPO = "web";

type Violation =
  | "no-approval"
  | "committer-approval"
  | "stale-approval"
  | "failed-check"
  | "bot-approval"
  | "co-author-approval"
  | "drive-by-approval"
  | "unattributed-commit";
/** Kinds the generator plants at random; the others are planted where they make sense (PLANTED). */
const VIOLATIONS: readonly Violation[] = [
  "no-approval",
  "committer-approval",
  "stale-approval",
  "failed-check",
];

/**
 * Violations planted on a given pull request of a given repository, among the first repositories
 * and pull requests so that small samples (the end-to-end tests) have them too.
 */
const PLANTED: Readonly<Record<string, Readonly<Record<number, Violation>>>> = {
  // Someone without write access approves a pull request of the public repository.
  [PUBLIC_REPO]: { 3: "drive-by-approval" },
  // Only Renovate approved.
  billing: { 4: "bot-approval", 6: "unattributed-commit" },
  // The reviewer's suggestion was committed in the web UI, crediting them as co-author.
  auth: { 2: "co-author-approval" },
};

export function generateSampleOrganization(options: SampleOptions = {}): SampleOrganization {
  const random = seededRandom(options.seed ?? 42);
  const org = options.organization ?? "acme-demo";
  const webUrl = options.webUrl ?? "https://github.com";
  const repoCount = options.repositories ?? REPOSITORY_NAMES.length;
  const prsPerRepo = options.pullRequestsPerRepository ?? 30;
  const violationRate = options.violationRate ?? 0.12;
  const expected: ExpectedFinding[] = [];
  const expect = (control: string, subject: string, outcome: ExpectedFinding["outcome"] = "fail") =>
    expected.push({ control, subject, outcome });

  // ---- organization ----
  const logins = Array.from({ length: Math.max(options.members ?? PEOPLE.length, 8) }, (_, i) =>
    i < PEOPLE.length ? PEOPLE[i]! : `dev-${i}`,
  );
  const owners = logins.slice(0, 5); // five owners: more than the default maximum of 3
  const members: Member[] = logins.map((login) => ({
    login,
    role: owners.includes(login) ? "owner" : "member",
  }));
  const engineers = logins.slice(5);
  const withoutTwoFactor = [logins[logins.length - 1]!, logins[logins.length - 2]!];
  const outsider = "contractor-kim";
  const readingOutsider = "auditor-lee";
  expect("cc6.org-2fa-required", organizationSubject(org).id);
  for (const login of withoutTwoFactor) expect("cc6.member-2fa", memberSubject(org, login).id);
  expect("cc6.owner-count", organizationSubject(org).id);
  expect("cc6.base-permission", organizationSubject(org).id);
  const staleInvite = {
    login: "new-hire-sam",
    email: null,
    role: "direct_member",
    invitedAt: "2026-08-20T10:00:00Z",
    inviter: "alice",
  };
  const freshInvite = {
    login: null,
    email: "pat@example.com",
    role: "direct_member",
    invitedAt: "2026-10-28T10:00:00Z",
    inviter: "bob",
  };
  expect("cc6.stale-invitations", invitationSubject(org, staleInvite).id);

  const organization = {
    login: org,
    url: `${webUrl}/${org}`,
    twoFactorRequired: { known: true as const, value: false },
    basePermission: { known: true as const, value: "write" as const },
    members: { known: true as const, value: members },
    membersWithoutTwoFactor: { known: true as const, value: withoutTwoFactor },
    invitations: { known: true as const, value: [staleInvite, freshInvite] },
    outsideCollaborators: { known: true as const, value: [outsider, readingOutsider] },
  };

  // ---- repositories, change requests, direct pushes ----
  const repositories: Repository[] = [];
  const changeRequests: ChangeRequest[] = [];
  const directPushes: DirectPush[] = [];
  const since = Date.parse(PERIOD.since);
  const span = Date.parse(PERIOD.until) - since;

  for (let r = 0; r < repoCount; r++) {
    const repoPullRequests = options.pullRequestCounts?.[r] ?? prsPerRepo;
    const name = r < REPOSITORY_NAMES.length ? REPOSITORY_NAMES[r]! : `service-${r}`;
    const fullName = `${org}/${name}`;
    const repoUrl = `${webUrl}/${fullName}`;
    const releaseBranch = name === "api" ? "release/2026.10" : null;
    const productionBranches = releaseBranch ? ["main", releaseBranch] : ["main"];
    const rule = (branch: string): BranchRule => ({
      branch,
      sources: ["branch-protection"],
      requirePullRequest: true,
      requiredApprovals: 1,
      dismissStaleApprovals: name !== WEAK_PROTECTION,
      requireCodeOwnerReview: false,
      requireLastPushApproval: false,
      requiredStatusChecks: [REQUIRED_CHECK],
      enforceAdmins: name !== WEAK_PROTECTION,
      allowForcePushes: false,
      allowDeletions: false,
      bypassActors: [],
      bypassActorsVisible: true,
      requiredCheckApps: {},
      otherRequirements: [],
    });
    const rulesKnown = name !== UNREADABLE_RULES;
    const rules = name === UNPROTECTED ? [] : productionBranches.map(rule);
    for (const branch of productionBranches) {
      const subject = repositorySubject({ fullName, url: repoUrl }, branch).id;
      if (!rulesKnown) expect("cc8.branch-protection", subject, "unknown");
      else if (name === UNPROTECTED || name === WEAK_PROTECTION) expect("cc8.branch-protection", subject);
    }

    const repoAdmins = name === MANY_ADMINS ? engineers.slice(0, 4) : [engineers[r % engineers.length]!];
    const collaborators: Collaborator[] = [
      ...owners.map((login) => ({ login, permission: "admin" as const, outside: false })),
      ...repoAdmins.map((login) => ({ login, permission: "admin" as const, outside: false })),
      ...engineers
        .filter((login) => !repoAdmins.includes(login))
        .map((login) => ({ login, permission: "write" as const, outside: false })),
    ];
    if (name === OUTSIDE_WRITER_REPO) {
      collaborators.push({ login: outsider, permission: "write", outside: true });
      expect("cc6.outside-collaborator-access", collaboratorSubject(fullName, outsider).id);
    }
    if (name === UNPROTECTED)
      collaborators.push({ login: readingOutsider, permission: "read", outside: true });
    if (name === MANY_ADMINS)
      expect("cc6.repo-admin-count", repositorySubject({ fullName, url: repoUrl }).id);

    const deployKeys: DeployKey[] = [];
    if (name === "api") {
      deployKeys.push({
        id: "9001",
        title: "docs-mirror (read)",
        readOnly: true,
        createdAt: "2026-01-10T00:00:00Z",
        addedBy: "alice",
      });
    }
    if (name === WEAK_PROTECTION) {
      deployKeys.push({
        id: "9002",
        title: "ci-deploy",
        readOnly: false,
        createdAt: "2026-06-01T00:00:00Z",
        addedBy: "bob",
      });
      expect("cc6.deploy-key-write", deployKeySubject(fullName, "9002").id);
    }

    repositories.push({
      fullName,
      url: repoUrl,
      visibility: name === PUBLIC_REPO ? "public" : "private",
      archived: false,
      defaultBranch: "main",
      productionBranches,
      branchRules: rulesKnown
        ? { known: true, value: rules }
        : {
            known: false,
            permission: "administration:read",
            reason: "403 Resource not accessible by integration",
          },
      collaborators: { known: true, value: collaborators },
      teams: { known: true, value: [{ slug: "engineering", permission: "write" }] },
      deployKeys: { known: true, value: deployKeys },
      collectionError: null,
    });

    const mergedShas = new Set<string>();
    for (let n = 1; n <= repoPullRequests; n++) {
      const createdAt =
        since + Math.floor(((n - 0.5) / repoPullRequests) * span * 0.98) + random.int(0, 3_600_000);
      const base = releaseBranch && n % 5 === 0 ? releaseBranch : "main";
      const drawn = random.chance(violationRate) ? random.pick(VIOLATIONS) : null;
      const violation = PLANTED[name]?.[n] ?? drawn;
      const cr = buildChangeRequest(random, {
        fullName, repoUrl, number: n, base, createdAt, engineers, violation,
        requiredCheck: REQUIRED_CHECK,
      }); // prettier-ignore
      mergedShas.add(cr.headSha);
      if (cr.mergeCommitSha) mergedShas.add(cr.mergeCommitSha);

      const requiresApproval = name !== UNPROTECTED;
      const subject = changeRequestSubject(cr).id;
      if (
        violation === "no-approval" ||
        violation === "committer-approval" ||
        violation === "bot-approval" ||
        violation === "co-author-approval" ||
        violation === "drive-by-approval"
      ) {
        expect("cc8.independent-approval", subject);
      }
      if (violation === "unattributed-commit") {
        // Who wrote the commit is unknown, so whether the approver is independent is unknown too.
        expect("cc8.independent-approval", subject, "unknown");
        expect("cc8.approval-covers-final-code", subject, "unknown");
      }
      if (violation === "stale-approval") expect("cc8.approval-covers-final-code", subject);
      if (!rulesKnown) {
        expect("cc8.required-checks", subject, "unknown");
        expect("cc8.no-bypass", subject, "unknown");
      } else {
        if (name === UNPROTECTED || violation === "failed-check") expect("cc8.required-checks", subject);
        if (bypassed(requiresApproval, name !== WEAK_PROTECTION, violation)) expect("cc8.no-bypass", subject);
      }
      // The merge is bypass exactly when the branch's requirements were unmet, as GitHub enforces them.
      cr.bypassedProtection = rulesKnown
        ? { known: true, value: bypassed(requiresApproval, name !== WEAK_PROTECTION, violation) }
        : {
            known: false,
            permission: "administration:read",
            reason: "403 Resource not accessible by integration",
          };
      changeRequests.push(cr);
    }

    const pushes = name === "api" ? 2 : name === EXCEPTED_PUSH_REPO ? 1 : 0;
    for (let p = 0; p < pushes; p++) {
      const sha = random.hex(40);
      const pusher = p === 0 ? owners[1]! : engineers[0]!;
      const committed = since + span * (0.3 + 0.4 * p) + 7_200_000;
      const push: DirectPush = {
        repository: fullName,
        branch: "main",
        sha,
        message: p === 0 ? "Hotfix: raise connection pool size" : "Update config directly on main",
        authorLogin: pusher,
        committerLogin: pusher,
        // The host's record of the push (GitHub's repository activity): who, and when, a little
        // after the commit was made.
        pushedBy: pusher,
        at: new Date(committed).toISOString(),
        pushedAt: new Date(committed + 180_000).toISOString(),
        forced: false,
        url: `${repoUrl}/commit/${sha}`,
      };
      directPushes.push(push);
      expect(
        "cc8.no-direct-push",
        directPushSubject(push).id,
        name === EXCEPTED_PUSH_REPO ? "excepted" : "fail",
      );
    }
  }

  // ---- access: who uses their write access, who left ----
  // The owners only administer (they open, review and merge nothing) and the contractor's work
  // ended: idle write access. The engineers' activity is drawn at random above, so whether each was
  // active in the last 90 days follows from the records generated.
  const lastActive = lastActivityOf(changeRequests, directPushes);
  const recentFrom = Date.parse(PERIOD.until) - 90 * 24 * 60 * 60 * 1000;
  const writers = [
    ...logins,
    ...(repositories.some((repo) => repo.fullName === `${org}/${OUTSIDE_WRITER_REPO}`) ? [outsider] : []),
  ];
  for (const login of writers) {
    if ((lastActive.get(login) ?? 0) < recentFrom) expect("cc6.inactive-access", `${org}:@${login}`);
  }
  for (const repository of repositories) {
    if (!repository.deployKeys.known) continue;
    for (const key of repository.deployKeys.value) {
      // GitHub's deploy key last_used is not collected: whether a key that can push was used is unknown
      if (!key.readOnly)
        expect("cc6.inactive-access", deployKeySubject(repository.fullName, key.id).id, "unknown");
    }
  }
  // Erin (an owner) left on 2026-09-30 and still holds admin; the contractor is in nobody's people.
  expect("cc6.leavers", memberSubject(org, LEAVER).id);
  if (writers.includes(outsider)) expect("cc6.leavers", `${org}:@${outsider}`, "unknown");

  const exceptedPush = directPushes.find((push) => push.repository === `${org}/${EXCEPTED_PUSH_REPO}`);
  const organizationPolicy = samplePolicy(org, exceptedPush, logins);
  const snapshot: Snapshot = {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    collector: {
      tool: "soc2-bot",
      version: "sample",
      host: "github",
      baseUrl: options.apiUrl ?? "https://api.github.com",
      actor: "sample",
      permissions: {
        administration: "read",
        members: "read",
        contents: "read",
        pull_requests: "read",
        checks: "read",
      },
    },
    collectedAt: PERIOD.until,
    period: PERIOD,
    unreadable: repositories
      .filter((repository) => !repository.branchRules.known)
      .map((repository) => ({
        subject: repository.fullName,
        what: "branch protection of main",
        permission: "administration:read",
        reason: "403 Resource not accessible by integration",
      })),
    organization,
    repositories,
    changeRequests,
    directPushes,
    policyFiles: [
      {
        layer: "organization",
        repository: null,
        path: `${org}/.github:.github/soc2.yml`,
        content: organizationPolicy,
      },
    ],
  };
  return { snapshot, expected, organizationPolicy, at: new Date(PERIOD.until) };
}

/**
 * A long-tail organization's merged pull requests per repository: most repositories merge 0 to 5 in
 * the period, a few (1 in 100, at least 3, spread over the list, the first repository among them)
 * merge the rest, in Zipf proportions (the busiest about twice the second), so that the total is
 * `totalPullRequests` (or the light repositories' sum, when that is already more).
 */
export function longTailCounts(repositories: number, totalPullRequests: number, seed = 42): number[] {
  const random = seededRandom(seed);
  const heavy = Math.min(repositories, Math.max(3, Math.round(repositories / 100)));
  const stride = Math.max(1, Math.floor(repositories / heavy));
  const heavyAt = new Set(Array.from({ length: heavy }, (_, k) => k * stride));
  const counts = Array.from({ length: repositories }, (_, r) => (heavyAt.has(r) ? 0 : random.int(0, 5)));
  let remaining = Math.max(0, totalPullRequests - counts.reduce((a, b) => a + b, 0));
  const weights = [...heavyAt].map((_, k) => 1 / (k + 1));
  const sum = weights.reduce((a, b) => a + b, 0);
  // Shares of what the light repositories leave, the last heavy repository taking the rounding.
  const total = remaining;
  [...heavyAt].forEach((r, k) => {
    const share = k === heavy - 1 ? remaining : Math.round((total * (weights[k] ?? 0)) / sum);
    counts[r] = share;
    remaining -= share;
  });
  return counts;
}

/**
 * Whether GitHub could only have merged by bypassing the branch's rules: no approval, a failed
 * required check, or (when stale approvals are dismissed) an approval of an older commit, which
 * GitHub dismisses on the next push.
 */
function bypassed(
  requiresApproval: boolean,
  dismissStaleApprovals: boolean,
  violation: Violation | null,
): boolean {
  if (!requiresApproval) return false;
  if (violation === "stale-approval") return dismissStaleApprovals;
  // GitHub counts only approvals by people with write access; a bot with write access, a co-author
  // or an unattributed commit does not stop the merge.
  return violation === "no-approval" || violation === "failed-check" || violation === "drive-by-approval";
}

interface ChangeRequestPlan {
  fullName: string;
  repoUrl: string;
  number: number;
  base: string;
  createdAt: number;
  engineers: readonly string[];
  violation: Violation | null;
  requiredCheck: string;
}

function buildChangeRequest(random: Random, plan: ChangeRequestPlan): ChangeRequest {
  const author = random.pick(plan.engineers);
  let reviewer = random.pick(plan.engineers);
  while (reviewer === author) reviewer = random.pick(plan.engineers);
  const time = (offsetMinutes: number) => new Date(plan.createdAt + offsetMinutes * 60_000).toISOString();

  const first = random.hex(40);
  const commits: Commit[] = [commit(first, author, time(0))];
  let head = first;
  const pushes: Push[] = [{ at: time(0), actor: author, headSha: first, forced: false }];
  let reviews: Review[] = [approval(reviewer, "approved", time(120), first)];

  switch (plan.violation) {
    case "no-approval":
      reviews = [approval(reviewer, "commented", time(120), first)];
      break;
    case "committer-approval": {
      // The reviewer pushed a commit to the change and then approved it: not independent.
      const fix = random.hex(40);
      commits.push(commit(fix, reviewer, time(60)));
      pushes.push({ at: time(60), actor: reviewer, headSha: fix, forced: false });
      head = fix;
      reviews = [approval(reviewer, "approved", time(120), fix)];
      break;
    }
    case "stale-approval": {
      // Approved, then the author pushed more code and merged without a new review.
      const later = random.hex(40);
      commits.push(commit(later, author, time(180)));
      pushes.push({ at: time(180), actor: author, headSha: later, forced: false });
      head = later;
      break;
    }
    case "bot-approval":
      // Renovate's approval (a GitHub App with write access): nobody independent looked at it.
      reviews = [{ ...approval("renovate[bot]", "approved", time(120), first), reviewerKind: "bot" }];
      break;
    case "co-author-approval": {
      // The reviewer suggested a change; the author committed it in the web UI, which credits the
      // reviewer as co-author (Co-authored-by), then the reviewer approved the result.
      const suggestion = random.hex(40);
      commits.push({
        ...commit(suggestion, author, time(60)),
        committerLogin: "web-flow",
        coAuthors: [
          {
            login: reviewer,
            name: reviewer,
            email: `${reviewer}@${EMAIL_DOMAIN}`,
            kind: "user",
            source: "trailer",
          },
        ],
      });
      pushes.push({ at: time(60), actor: author, headSha: suggestion, forced: false });
      head = suggestion;
      reviews = [approval(reviewer, "approved", time(120), suggestion)];
      break;
    }
    case "drive-by-approval":
      // On a public repository anyone can approve; this reviewer cannot push to it.
      reviews = [{ ...approval("drive-by-dana", "approved", time(120), first), authorCanPush: false }];
      break;
    case "unattributed-commit": {
      // A commit from a build machine whose e-mail no account has: nobody can tell who wrote it.
      const generated = random.hex(40);
      commits.push({
        ...commit(generated, author, time(60)),
        authorLogin: null,
        authorName: "build-agent",
        authorEmail: "jenkins@build-7.internal",
        authorKind: "unknown",
        committerLogin: null,
        committerKind: "unknown",
      });
      // GitHub shows who pushed a plain commit only through its linked committer: here, nobody.
      pushes.push({ at: time(60), actor: null, headSha: generated, forced: false });
      head = generated;
      reviews = [approval(reviewer, "approved", time(120), generated)];
      break;
    }
    default:
      break;
  }
  const checks: Check[] = [
    {
      name: plan.requiredCheck,
      kind: "check-run",
      conclusion: plan.violation === "failed-check" ? "failure" : "success",
      on: "head",
      sha: head,
      url: `${plan.repoUrl}/runs/${plan.number}`,
      completedAt: time(200),
      ...ACTIONS_APP,
      reportedBy: null,
    },
  ];
  const mergeCommitSha = random.hex(40);
  return {
    repository: plan.fullName,
    number: plan.number,
    title: random.pick(TITLES),
    url: `${plan.repoUrl}/pull/${plan.number}`,
    author,
    authorKind: "user",
    state: "merged",
    draft: false,
    baseBranch: plan.base,
    headBranch: `feature/${plan.number}`,
    headSha: head,
    mergeCommitSha,
    createdAt: time(0),
    mergedAt: time(240),
    // Without a counting approval only the author (an admin overriding the rule) merges.
    mergedBy:
      plan.violation === "no-approval" ||
      plan.violation === "drive-by-approval" ||
      plan.violation === "bot-approval"
        ? author
        : random.pick([author, reviewer]),
    commits,
    commitsTruncated: false,
    pushes,
    reviews,
    checks,
    truncated: [],
    mergedByQueue: false,
    bypassedProtection: { known: true, value: false },
  };
}

/** A review by a member with write access, as the host reports it. */
function approval(reviewer: string, state: Review["state"], submittedAt: string, commitSha: string): Review {
  return { reviewer, reviewerKind: "user", authorCanPush: true, state, submittedAt, commitSha };
}

function commit(sha: string, login: string, at: string): Commit {
  return {
    sha,
    authorLogin: login,
    authorName: login,
    authorEmail: `${login}@${EMAIL_DOMAIN}`,
    authorKind: "user",
    committerLogin: login,
    committerKind: "user",
    coAuthors: [],
    authoredAt: at,
    committedAt: at,
  };
}

/** The sample's own record of when each login last did something: opened, committed, pushed, reviewed, merged. */
function lastActivityOf(changeRequests: ChangeRequest[], directPushes: DirectPush[]): Map<string, number> {
  const last = new Map<string, number>();
  const saw = (login: string | null, time: string | null): void => {
    if (!login || !time) return;
    last.set(login, Math.max(last.get(login) ?? 0, Date.parse(time)));
  };
  for (const cr of changeRequests) {
    saw(cr.author, cr.createdAt);
    saw(cr.mergedBy, cr.mergedAt);
    for (const commit of cr.commits) {
      saw(commit.authorLogin, commit.authoredAt);
      saw(commit.committerLogin, commit.committedAt);
    }
    for (const push of cr.pushes) saw(push.actor, push.at);
    for (const review of cr.reviews) saw(review.reviewer, review.submittedAt);
  }
  for (const push of directPushes) {
    saw(push.pushedBy, push.pushedAt ?? push.at);
    saw(push.authorLogin, push.at);
    saw(push.committerLogin, push.at);
  }
  return last;
}

/** The member of the sample who left, still holding access. */
const LEAVER = "erin";

function samplePolicy(org: string, exceptedPush: DirectPush | undefined, logins: readonly string[]): string {
  const exception = exceptedPush
    ? `  - control: cc8.no-direct-push
    subject: { repository: ${exceptedPush.repository}, commit: ${exceptedPush.sha.slice(0, 12)} }
    reason: "Emergency fix during incident INC-2041; reviewed after the fact in PR #1"
    approved_by: alice
    expires: 2027-01-31
`
    : "";
  return `# ${org}'s organization policy, layered over soc2-bot's shipped default.
version: 1
production_branches:
  default_branch: true
  patterns: ["release/*"]
exceptions:
${exception}  - control: cc6.outside-collaborator-access
    subject: { repository: ${org}/web, user: contractor-kim }
    reason: "Contract ended; this exception expired and no longer applies"
    approved_by: alice
    expires: 2026-06-30
people:
${logins
  .map(
    (login) =>
      `  ${login}: { github: [${login}], gitlab: [${login}]${login === LEAVER ? ", left_on: 2026-09-30" : ""} }`,
  )
  .join("\n")}
`;
}
