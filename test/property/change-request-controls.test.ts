/**
 * Property tests of the change-request controls: over generated change requests (reviewers who are
 * bots, deleted accounts, drive-by or unconfirmed; commits by other accounts of the author, by
 * co-authors, by nobody the host can name; pushes after approvals; checks of every conclusion from
 * every source on every commit; truncated connections), no change whose facts violate independence,
 * coverage of the final code or required checks ever evaluates to "pass".
 *
 * The oracles below are written from the rules, not from the controls' code: each says, as plainly
 * as possible, when the facts demonstrably meet the requirement. A control may be stricter (fail or
 * unknown where the oracle is satisfied); it must never pass where the oracle is not.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { approvalCoversFinalCode } from "../../src/controls/cc8-approval-covers-final-code.js";
import { independentApproval } from "../../src/controls/cc8-independent-approval.js";
import { requiredChecks } from "../../src/controls/cc8-required-checks.js";
import {
  ChangeRequest,
  type ActorKind,
  type Check,
  type CoAuthor,
  type Commit,
  type Push,
  type Repository,
  type Review,
} from "../../src/model/index.js";
import { peopleDirectory } from "../../src/policy/people.js";
import { cleanBranchRule, makeContext, makeRepository, type TestPerson } from "../fixtures/build.js";

/** The policy's people: alice has a second account and a home e-mail; bob commits from work. */
const PEOPLE: Record<string, Required<Pick<TestPerson, "github" | "emails">>> = {
  alice: { github: ["alice", "Alice-Work"], emails: ["alice@home.example"] },
  bob: { github: ["bob"], emails: ["bob@acme.example"] },
};
/** The directory the engine builds from the policy's people (GitHub's no-reply addresses included). */
const PEOPLE_DIRECTORY = peopleDirectory(
  Object.entries(PEOPLE).map(([id, person]) => ({ id, ...person, gitlab: [] })),
  "github",
);

const ACCOUNTS = ["alice", "alice-work", "ALICE", "bob", "carol", "dave"];
const REVIEWERS = [...ACCOUNTS, "renovate[bot]", "ghost", "stranger"];
const EMAILS = [
  "alice@home.example",
  "bob@acme.example",
  "carol@acme.example",
  "root@build.local",
  // GitHub's no-reply addresses stand for their account, in any case.
  "5129+Carol@users.noreply.github.com",
  "dave@users.noreply.github.com",
];
const HEAD = "h".repeat(40);
const OLDER = "a".repeat(40);
const MERGE = "m".repeat(40);
const OTHER = "o".repeat(40);
const START = Date.parse("2026-10-01T00:00:00Z");
/** Minutes after START; the change is merged at MERGED_AT and some reviews come after it. */
const MERGED_AT = 600;
const CHECK_NAMES = ["ci/test", "ci/lint"];
const ACTIONS = 15368;

const at = (minutes: number) => new Date(START + minutes * 60_000).toISOString();
/** Mostly the author's side writes the change and someone else reviews it, as in life; not always. */
const writer = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("alice", "alice-work", "ALICE", "bob") },
  { weight: 1, arbitrary: fc.constantFrom(...ACCOUNTS) },
);
const reviewer = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom("carol", "dave") },
  { weight: 2, arbitrary: fc.constantFrom(...REVIEWERS) },
);
const email = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom("alice@home.example", "bob@acme.example") },
  { weight: 1, arbitrary: fc.constantFrom(...EMAILS) },
);
const kind = fc.constantFrom<ActorKind>("user", "user", "user", "bot", "unknown");
/** Null (the host did not say) one time in `freq`. */
const nullable = <T>(arbitrary: fc.Arbitrary<T>, freq = 6) => fc.option(arbitrary, { nil: null, freq });

const coAuthor: fc.Arbitrary<CoAuthor> = fc.record({
  login: nullable(writer),
  name: fc.constantFrom("Alice", "Bob", "Someone"),
  email: nullable(email),
  kind,
  source: fc.constantFrom("host" as const, "trailer" as const),
});

const commit: fc.Arbitrary<Commit> = fc.record({
  sha: fc.constantFrom(HEAD, OLDER, OTHER),
  authorLogin: nullable(writer),
  authorName: fc.constantFrom("Alice", "Bob", "build-agent"),
  authorEmail: nullable(email),
  authorKind: kind,
  committerLogin: nullable(fc.oneof(writer, fc.constantFrom("web-flow", "GitHub"))),
  committerKind: kind,
  coAuthors: fc.oneof(
    { weight: 3, arbitrary: fc.constant<CoAuthor[]>([]) },
    { weight: 1, arbitrary: fc.array(coAuthor, { maxLength: 2 }) },
  ),
  authoredAt: fc.integer({ min: 0, max: MERGED_AT }).map(at),
  committedAt: fc.integer({ min: 0, max: MERGED_AT }).map(at),
});

const push: fc.Arbitrary<Push> = fc.record({
  at: fc.integer({ min: 0, max: MERGED_AT }).map(at),
  actor: nullable(writer),
  headSha: fc.constantFrom(HEAD, OLDER, OTHER),
  forced: fc.boolean(),
});

/** Reviews at distinct minutes: the host's order of reviews given in the same second is not a fact. */
const reviews: fc.Arbitrary<Review[]> = fc
  .uniqueArray(fc.integer({ min: 1, max: MERGED_AT + 60 }), { maxLength: 5 })
  .chain((minutes) =>
    fc.tuple(
      ...minutes.map((minute) =>
        fc.record({
          reviewer,
          reviewerKind: kind,
          authorCanPush: fc.constantFrom<boolean | null>(true, true, true, false, null),
          state: fc.constantFrom<Review["state"]>(
            "approved",
            "approved",
            "approved",
            "changes_requested",
            "commented",
            "dismissed",
            "pending",
          ),
          submittedAt: fc.constant(at(minute)),
          commitSha: nullable(fc.constantFrom(HEAD, HEAD, OLDER)),
        }),
      ),
    ),
  );

const check: fc.Arbitrary<Check> = fc
  .record({
    name: fc.constantFrom(...CHECK_NAMES),
    kind: fc.constantFrom<Check["kind"]>("check-run", "check-run", "status"),
    conclusion: fc.constantFrom<Check["conclusion"]>(
      "success",
      "success",
      "success",
      "failure",
      "neutral",
      "skipped",
      "cancelled",
      "pending",
    ),
    on: fc.constantFrom<Check["on"]>("head", "merge"),
    elsewhere: fc.constantFrom(false, false, false, true),
    completedAt: nullable(fc.integer({ min: 0, max: MERGED_AT + 60 }).map(at)),
    appId: nullable(fc.constantFrom(ACTIONS, 999)),
  })
  .map(({ elsewhere, on, ...rest }) => ({
    ...rest,
    on,
    sha: elsewhere ? OTHER : on === "head" ? HEAD : MERGE,
    url: null,
    appSlug: null,
    reportedBy: rest.kind === "status" ? "someone" : null,
  }));

const TRUNCATABLE = ["reviews", "pushes", "checks", "co-authors"] as const;

const changeRequest: fc.Arbitrary<ChangeRequest> = fc
  .record({
    author: writer,
    commits: fc.array(commit, { minLength: 1, maxLength: 3 }),
    commitsTruncated: fc.constantFrom(false, false, false, false, false, true),
    pushes: fc.array(push, { maxLength: 3 }),
    reviews,
    checks: fc.array(check, { minLength: 1, maxLength: 5 }),
    truncated: fc.oneof(
      { weight: 5, arbitrary: fc.constant<(typeof TRUNCATABLE)[number][]>([]) },
      { weight: 1, arbitrary: fc.subarray([...TRUNCATABLE]) },
    ),
    mergedByQueue: fc.boolean(),
  })
  .map((facts) =>
    ChangeRequest.parse({
      repository: "acme/api",
      number: 1,
      title: "generated",
      url: "https://github.com/acme/api/pull/1",
      authorKind: "user",
      state: "merged",
      draft: false,
      baseBranch: "main",
      headBranch: "feature",
      headSha: HEAD,
      mergeCommitSha: MERGE,
      createdAt: at(0),
      mergedAt: at(MERGED_AT),
      mergedBy: facts.author,
      bypassedProtection: { known: true, value: false },
      ...facts,
    }),
  );

interface Rule {
  required: string[];
  pins: Record<string, number>;
  policyChecks: string[];
}

const rule: fc.Arbitrary<Rule> = fc.record({
  required: fc.subarray(CHECK_NAMES),
  pins: fc.constantFrom<Record<string, number>>({}, { "ci/test": ACTIONS }),
  policyChecks: fc.subarray(CHECK_NAMES),
});

function repositoryFor(facts: Rule): Repository {
  return makeRepository({
    branchRules: {
      known: true,
      value: [cleanBranchRule({ requiredStatusChecks: facts.required, requiredCheckApps: facts.pins })],
    },
  });
}

// ---- the oracles: plain statements of the rules, independent of the controls' code ----

/** The person behind an account: the policy's id, or the account itself (logins ignore case). */
function personOfLogin(account: string): string {
  const id = Object.keys(PEOPLE).find((key) =>
    PEOPLE[key]!.github.some((login) => login.toLowerCase() === account.toLowerCase()),
  );
  return id ?? `account ${account.toLowerCase()}`;
}

/**
 * The person the policy names for an e-mail, or the account a GitHub no-reply address stands for;
 * null when it names nobody.
 */
function personOfEmail(email: string): string | null {
  const noreply = /^(?:\d+\+)?([^@+]+)@users\.noreply\.github\.com$/i.exec(email);
  if (noreply) return personOfLogin(noreply[1]!);
  return (
    Object.keys(PEOPLE).find((key) =>
      PEOPLE[key]!.emails.some((known) => known.toLowerCase() === email.toLowerCase()),
    ) ?? null
  );
}

/**
 * Everyone who took part in writing the change, or null when the facts cannot say who did: a
 * connection was cut short, or a commit, co-author, committer or push is nobody we can name.
 */
function peopleInvolved(cr: ChangeRequest): Set<string> | null {
  if (cr.commitsTruncated || cr.truncated.some((connection) => connection !== "checks")) return null;
  const involved = new Set([personOfLogin(cr.author)]);
  for (const c of cr.commits) {
    const authors = [
      { login: c.authorLogin, email: c.authorEmail, kind: c.authorKind },
      ...c.coAuthors.map((a) => ({ login: a.login, email: a.email, kind: a.kind })),
    ];
    for (const author of authors) {
      const named = author.email === null ? null : personOfEmail(author.email);
      if (author.login !== null) involved.add(personOfLogin(author.login));
      if (named !== null) involved.add(named);
      if (author.login === null && named === null && author.kind !== "bot") return null;
    }
    if (c.committerLogin === null) {
      if (c.committerKind !== "bot") return null;
    } else if (!["web-flow", "github"].includes(c.committerLogin.toLowerCase())) {
      involved.add(personOfLogin(c.committerLogin));
    }
  }
  for (const p of cr.pushes) {
    if (p.actor === null) return null;
    involved.add(personOfLogin(p.actor));
  }
  return involved;
}

/**
 * Approvals that authorized the merge and come from an independent person: a user (not a bot, not a
 * deleted account) who could push, involved in nothing, approving before the merge, and not taking
 * it back (changes requested or dismissed) before the merge.
 */
function independentApprovals(cr: ChangeRequest): Review[] {
  const involved = peopleInvolved(cr);
  if (involved === null) return [];
  const merged = Date.parse(cr.mergedAt!);
  return cr.reviews.filter(
    (r) =>
      r.state === "approved" &&
      Date.parse(r.submittedAt) <= merged &&
      r.reviewerKind === "user" &&
      !r.reviewer.toLowerCase().endsWith("[bot]") &&
      r.reviewer.toLowerCase() !== "ghost" &&
      r.authorCanPush === true &&
      !involved.has(personOfLogin(r.reviewer)) &&
      !cr.reviews.some(
        (other) =>
          other.reviewer.toLowerCase() === r.reviewer.toLowerCase() &&
          (other.state === "changes_requested" || other.state === "dismissed") &&
          Date.parse(other.submittedAt) > Date.parse(r.submittedAt) &&
          Date.parse(other.submittedAt) <= merged,
      ),
  );
}

function distinctPeople(approvals: Review[]): number {
  return new Set(approvals.map((r) => personOfLogin(r.reviewer))).size;
}

function independentlyApproved(cr: ChangeRequest, minApprovals: number): boolean {
  return distinctPeople(independentApprovals(cr)) >= minApprovals;
}

/**
 * The final code was approved: the approval names the final head, or (the host recorded no
 * commit) was given after the last push in a complete record of pushes.
 */
function finalCodeApproved(cr: ChangeRequest, minApprovals: number): boolean {
  const pushTimes = cr.pushes.map((p) => Date.parse(p.at));
  const covering = independentApprovals(cr).filter((r) =>
    r.commitSha !== null
      ? r.commitSha === cr.headSha
      : pushTimes.length > 0 && Date.parse(r.submittedAt) >= Math.max(...pushTimes),
  );
  return distinctPeople(covering) >= minApprovals;
}

/**
 * Every required check (the rule's and the policy's, at least one) succeeded: on each of the final
 * head and the merge commit, the latest completed result of every source the rule accepts (each
 * app's check runs, the commit statuses: GitHub requires each source of a required name) is a
 * success or there is none, and at least one of them is a success. All results must be listed.
 */
function requiredChecksPassed(cr: ChangeRequest, facts: Rule): boolean {
  const required = [...new Set([...facts.required, ...facts.policyChecks])];
  if (required.length === 0 || cr.truncated.includes("checks")) return false;
  return required.every((name) => {
    const pinned = facts.pins[name];
    const resultOn = (on: Check["on"], sha: string): "success" | "not success" | "none" => {
      const runs = cr.checks.filter(
        (c) =>
          c.name === name &&
          c.on === on &&
          c.sha === sha &&
          c.completedAt !== null &&
          c.conclusion !== "pending" &&
          (pinned === undefined || (c.kind === "check-run" && c.appId === pinned)),
      );
      if (runs.length === 0) return "none";
      const sources = new Set(runs.map((c) => (c.kind === "status" ? "status" : `app ${c.appId}`)));
      const everyLatestGreen = [...sources].every((source) => {
        const own = runs.filter((c) => (c.kind === "status" ? "status" : `app ${c.appId}`) === source);
        const last = Math.max(...own.map((c) => Date.parse(c.completedAt!)));
        return own
          .filter((c) => Date.parse(c.completedAt!) === last)
          .every((c) => c.conclusion === "success");
      });
      return everyLatestGreen ? "success" : "not success";
    };
    const head = resultOn("head", cr.headSha);
    const merge = resultOn("merge", cr.mergeCommitSha!);
    return head !== "not success" && merge !== "not success" && (head === "success" || merge === "success");
  });
}

// ---- the properties ----

const RUNS = Number(process.env.PROPERTY_RUNS ?? 3000);
const minApprovals = fc.constantFrom(1, 1, 2);

function outcomeOfIndependence(cr: ChangeRequest, min: number) {
  const context = makeContext(independentApproval.params.parse({ min_approvals: min }), {
    people: PEOPLE_DIRECTORY,
  });
  return independentApproval.evaluate({ changeRequest: cr, repository: makeRepository() }, context)[0]!;
}

function outcomeOfCoverage(cr: ChangeRequest, min: number) {
  const context = makeContext(approvalCoversFinalCode.params.parse({ min_approvals: min }), {
    people: PEOPLE_DIRECTORY,
  });
  return approvalCoversFinalCode.evaluate({ changeRequest: cr, repository: makeRepository() }, context)[0]!;
}

function outcomeOfChecks(cr: ChangeRequest, facts: Rule) {
  const context = makeContext(requiredChecks.params.parse({ checks: facts.policyChecks }), {
    people: PEOPLE_DIRECTORY,
  });
  return requiredChecks.evaluate({ changeRequest: cr, repository: repositoryFor(facts) }, context)[0]!;
}

describe("no generated change that violates the rules evaluates to pass", () => {
  it("cc8.independent-approval passes only changes approved by enough independent people", () => {
    fc.assert(
      fc.property(changeRequest, minApprovals, (cr, min) => {
        const result = outcomeOfIndependence(cr, min);
        if (result.outcome === "pass") expect(independentlyApproved(cr, min), result.reason).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it("cc8.approval-covers-final-code passes only changes whose final code enough independent people approved", () => {
    fc.assert(
      fc.property(changeRequest, minApprovals, (cr, min) => {
        const result = outcomeOfCoverage(cr, min);
        if (result.outcome === "pass") expect(finalCodeApproved(cr, min), result.reason).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it("cc8.required-checks passes only changes whose every required check succeeded from its source", () => {
    fc.assert(
      fc.property(changeRequest, rule, (cr, facts) => {
        const result = outcomeOfChecks(cr, facts);
        if (result.outcome === "pass") expect(requiredChecksPassed(cr, facts), result.reason).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it("the generator is not vacuous: it makes passes and violations of every control", () => {
    // Fixed seed: the counts are the same on every run.
    const samples = fc.sample(fc.tuple(changeRequest, rule), { seed: 10, numRuns: 2000 });
    const tally = (outcomes: string[]) => ({
      pass: outcomes.filter((o) => o === "pass").length,
      fail: outcomes.filter((o) => o === "fail").length,
      unknown: outcomes.filter((o) => o === "unknown").length,
    });
    const independence = tally(samples.map(([cr]) => outcomeOfIndependence(cr, 1).outcome));
    const coverage = tally(samples.map(([cr]) => outcomeOfCoverage(cr, 1).outcome));
    const checks = tally(samples.map(([cr, facts]) => outcomeOfChecks(cr, facts).outcome));
    for (const counts of [independence, coverage, checks]) {
      expect(counts.pass).toBeGreaterThan(20);
      expect(counts.fail).toBeGreaterThan(20);
      expect(counts.unknown).toBeGreaterThan(20);
    }
    // And the oracles agree the passes are real: some changes do meet each rule.
    expect(samples.filter(([cr]) => independentlyApproved(cr, 1)).length).toBeGreaterThan(20);
    expect(samples.filter(([cr, facts]) => requiredChecksPassed(cr, facts)).length).toBeGreaterThan(20);
  });
});
