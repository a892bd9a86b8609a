/**
 * Access reviews through the real GitHub provider against the simulated GitHub: opening is
 * idempotent (twice, or after a lost answer, still one pull request), reading goes past the first
 * page of reviews and commits, every write carries its token's login, and the sign-off rule (A's
 * signOffOf) refuses an approval by a writer or of an older head.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  ACCESS_REVIEW_BRANCH_PREFIX,
  renderReviewFile,
  signOffOf,
} from "../../../src/access-review/index.js";
import type { AccessReviewRecord } from "../../../src/model/index.js";
import { createGitHubClient, createGitHubHost } from "../../../src/providers/github/index.js";
import type { OpenReviewRequest, ReviewHost } from "../../../src/providers/types.js";
import {
  commitText,
  merge,
  readText,
  review,
  revokeInText,
  SimRequestError,
  type SimPerson,
} from "../../../src/sim/github/reviewer.js";
import {
  startSimulatedGitHub,
  type SimulatedGitHub,
  type SimulatedGitHubOptions,
} from "../../../src/sim/github/server.js";
import { createWorld, type World } from "../../../src/sim/github/world.js";
import { makeRepository, makeSnapshot, peopleDirectory } from "../../fixtures/build.js";

const FINDINGS = "acme/compliance";
const BRANCH = `${ACCESS_REVIEW_BRANCH_PREFIX}2026-Q4/organization-admins`;
const PATH = "access-reviews/2026-Q4/organization-admins.yml";
const TEXT = renderReviewFile({
  cycle: "2026-Q4",
  organization: "acme",
  owner: "organization-admins",
  openedAt: new Date("2026-11-01T00:00:00Z"),
  graceDays: 0,
  grants: [
    {
      id: "collaborator:bob:write",
      kind: "collaborator",
      account: "bob",
      person: "bob",
      repositories: ["acme/api"],
      role: "write",
      twoFactor: "yes",
      lastActivity: "none since 2026-08-01",
      since: "unknown",
    },
    {
      id: "member:carol:member",
      kind: "member",
      account: "carol",
      person: "carol",
      repositories: [],
      role: "member",
      twoFactor: "yes",
      lastActivity: "none since 2026-08-01",
      since: "unknown",
    },
  ],
});
const REQUEST: OpenReviewRequest = {
  branch: BRANCH,
  path: PATH,
  text: TEXT,
  title: "Access review 2026-Q4: organization-admins (acme)",
  body: "Review every grant.",
  labels: ["soc2-access-review"],
};
const PEOPLE = peopleDirectory({
  carol: { github: ["carol"] },
  dave: { github: ["dave"] },
  erin: { github: ["erin"] },
});
const DUE = { due_within_days: 365 };

let sim: SimulatedGitHub | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function serve(options: Omit<SimulatedGitHubOptions, "world"> = {}): Promise<{
  world: World;
  reviews: ReviewHost;
  carol: SimPerson;
  dave: SimPerson;
  bot: SimPerson;
}> {
  const snapshot = makeSnapshot({
    repositories: [
      makeRepository(),
      makeRepository({ fullName: FINDINGS, url: "https://github.com/acme/compliance" }),
    ],
    changeRequests: [],
  });
  const world = createWorld(snapshot);
  world.tokens = new Map([
    ["carol-token", "carol"],
    ["dave-token", "dave"],
  ]);
  sim = await startSimulatedGitHub({ world, rateLimits: false, ...options });
  const octokit = createGitHubClient({ token: "bot-token", baseUrl: sim.url, throttle: false });
  const host = createGitHubHost({ octokit, baseUrl: sim.url });
  const reviews = host.accessReviews?.(FINDINGS);
  if (!reviews) throw new Error("the GitHub host holds no access reviews");
  return {
    world,
    reviews,
    carol: { api: sim.url, token: "carol-token" },
    dave: { api: sim.url, token: "dave-token" },
    bot: { api: sim.url, token: "bot-token" },
  };
}

function reviewPulls(world: World) {
  return [...(world.repositories.get(FINDINGS)?.pulls.values() ?? [])].filter((p) =>
    p.change.headBranch.startsWith(ACCESS_REVIEW_BRANCH_PREFIX),
  );
}

async function onlyReview(reviews: ReviewHost): Promise<AccessReviewRecord> {
  const listed = await reviews.listReviews(ACCESS_REVIEW_BRANCH_PREFIX);
  if (!listed.known) throw new Error(`unreadable: ${listed.reason}`);
  expect(listed.value).toHaveLength(1);
  return listed.value[0]!;
}

describe("access reviews on GitHub (simulated)", () => {
  it("opens one pull request, with the file and labels, and opening again finds it", async () => {
    const { world, reviews, carol } = await serve();
    const first = await reviews.openReview(REQUEST);
    const second = await reviews.openReview(REQUEST);

    expect(first.created).toBe(true);
    expect(second).toEqual({ number: first.number, url: first.url, created: false });
    const pulls = reviewPulls(world);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]?.change.author).toBe("soc2-bot[bot]");
    expect(pulls[0]?.labels).toEqual(["soc2-access-review"]);
    expect(await readText(carol, FINDINGS, PATH, BRANCH)).toBe(TEXT);

    const record = await onlyReview(reviews);
    expect(record).toMatchObject({
      cycle: "2026-Q4",
      owner: "organization-admins",
      repository: FINDINGS,
      number: first.number,
      branch: BRANCH,
      openedBy: "soc2-bot[bot]",
      state: "open",
      mergedAt: null,
      approvals: [],
      committers: ["soc2-bot[bot]"],
      file: { path: PATH, text: TEXT },
      openedText: TEXT,
    });
  });

  it("after the pull request's creation lost its answer, looks and finds it: one pull request", async () => {
    const lost: string[] = [];
    const { world, reviews } = await serve({
      faults: {
        lostAnswers: {
          rate: 1,
          routes: ["POST /repos/{owner}/{repo}/pulls"],
          onLost: (answer) => lost.push(answer.route),
        },
      },
    });
    const opened = await reviews.openReview(REQUEST);

    expect(lost).toEqual(["POST /repos/{owner}/{repo}/pulls"]);
    expect(opened.created).toBe(true);
    expect(reviewPulls(world).map((p) => p.change.number)).toEqual([opened.number]);
    // The labels still went on: the look found the pull request and opening went on from there.
    expect(reviewPulls(world)[0]?.labels).toEqual(["soc2-access-review"]);
  });

  it("with every answer of its writes lost, creates each thing once (looked for, not sent again); the labels, sent again, fail after three tries", async () => {
    const lost: string[] = [];
    let sent = 0;
    const { world, reviews } = await serve({
      faults: {
        lostAnswers: {
          rate: 1,
          routes: [
            "POST /repos/{owner}/{repo}/git/refs",
            "PUT /repos/{owner}/{repo}/contents/{path}",
            "POST /repos/{owner}/{repo}/pulls",
            "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
          ],
          onLost: (answer) => {
            lost.push(answer.route);
            sent += 1;
          },
        },
      },
    });
    // Every answer of these routes is lost: the labels (the one write sent again) cannot be confirmed.
    await expect(reviews.openReview(REQUEST)).rejects.toThrow(/labels of acme\/compliance#\d+/);

    expect(lost.filter((route) => !route.includes("labels"))).toEqual([
      "POST /repos/{owner}/{repo}/git/refs",
      "PUT /repos/{owner}/{repo}/contents/{path}",
      "POST /repos/{owner}/{repo}/pulls",
    ]);
    expect(sent).toBe(6);
    const repo = world.repositories.get(FINDINGS)!;
    expect(repo.branchCommits.get(BRANCH)?.filter((c) => c.authorLogin === "soc2-bot[bot]")).toHaveLength(1);
    expect(reviewPulls(world)).toHaveLength(1);
    // The labels were applied each time (an answer lost after the write): still one label.
    expect(reviewPulls(world)[0]?.labels).toEqual(["soc2-access-review"]);
  });

  it("reads past the first page of reviews and commits; each carries the login of its token", async () => {
    const { reviews, carol, dave } = await serve();
    const { number } = await reviews.openReview(REQUEST);
    let text = TEXT;
    // 104 commits by carol and 101 comments by dave: more than one page (100) of each.
    for (let i = 0; i < 104; i++) {
      text = `${text}# note ${i}\n`;
      await commitText(carol, FINDINGS, BRANCH, PATH, text, `note ${i}`);
    }
    for (let i = 0; i < 101; i++) await review(dave, FINDINGS, number, "COMMENT", `looked ${i}`);
    await review(dave, FINDINGS, number, "APPROVE", "all checked");

    const record = await onlyReview(reviews);
    expect(record.committers).toEqual(["carol", "soc2-bot[bot]"]);
    // The approval is the 102nd review: on the second page.
    expect(record.approvals).toEqual([{ login: "dave", at: expect.any(String), commit: record.headSha }]);
    expect(record.file?.text).toBe(text);
    // The file as opened is the bot's first commit's, not the head's.
    expect(record.openedText).toBe(TEXT);
  });

  it("signs off an independent approval of the merged head; the bot cannot approve its own pull request", async () => {
    const { reviews, carol, dave, bot } = await serve();
    const { number } = await reviews.openReview(REQUEST);
    await commitText(
      carol,
      FINDINGS,
      BRANCH,
      PATH,
      revokeInText(TEXT, "collaborator:bob:write", "left the api team"),
      "Decide",
    );
    // GitHub refuses an approval by the pull request's author.
    const refused = await review(bot, FINDINGS, number, "APPROVE").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SimRequestError);
    expect((refused as SimRequestError).status).toBe(422);
    await review(dave, FINDINGS, number, "APPROVE");
    await merge(dave, FINDINGS, number);

    const record = await onlyReview(reviews);
    expect(record).toMatchObject({
      state: "merged",
      mergedBy: "dave",
      committers: ["carol", "soc2-bot[bot]"],
    });
    expect(record.file?.text).toContain("decision: revoke");
    const signOff = signOffOf(record, DUE, PEOPLE);
    expect(signOff.reviewers).toEqual(["dave"]);
    expect(signOff.independent).toBe(true);
    expect(signOff.problems).toEqual([]);
  });

  it("does not count an approval of an older head, nor one by who wrote the decisions", async () => {
    const { reviews, carol, dave } = await serve();
    const { number } = await reviews.openReview(REQUEST);
    const decided = revokeInText(TEXT, "collaborator:bob:write", "left the api team");
    await commitText(carol, FINDINGS, BRANCH, PATH, decided, "Decide");
    await review(dave, FINDINGS, number, "APPROVE");
    // carol writes a second decision after dave's approval, approves nothing herself but merges.
    await commitText(
      carol,
      FINDINGS,
      BRANCH,
      PATH,
      revokeInText(decided, "member:carol:member", "moved"),
      "More",
    );
    await merge(carol, FINDINGS, number);

    const record = await onlyReview(reviews);
    expect(record.approvals).toHaveLength(1);
    expect(record.approvals[0]?.commit).not.toBe(record.headSha);
    const stale = signOffOf(record, DUE, PEOPLE);
    expect(stale.independent).toBe(false);
    expect(stale.why).toMatch(/not the merged head/);

    // The same record approved at the head, but by carol, who wrote the decisions: not independent.
    // Nor one by the bot that opened it (GitHub refuses it; a record that had one still would not count).
    const byOpener = signOffOf(
      { ...record, approvals: [{ login: "soc2-bot[bot]", at: record.mergedAt!, commit: record.headSha }] },
      DUE,
      PEOPLE,
    );
    expect(byOpener.independent).toBe(false);

    const byWriter = signOffOf(
      { ...record, approvals: [{ login: "carol", at: record.mergedAt!, commit: record.headSha }] },
      DUE,
      PEOPLE,
    );
    expect(byWriter.independent).toBe(false);
    expect(byWriter.why).toMatch(/wrote on the branch/);
  });

  it("removes a collaborator, a member, a team's access and a deploy key: the next reads no longer list them", async () => {
    const { world, reviews, carol } = await serve();
    const api = world.repositories.get("acme/api")!;
    api.facts = {
      ...api.facts,
      deployKeys: {
        known: true,
        value: [
          { id: "7", title: "ci", readOnly: false, createdAt: "2026-01-01T00:00:00Z", addedBy: "alice" },
        ],
      },
    };
    await reviews.removeAccess({ kind: "deploy-key", account: "7", repository: "acme/api" });
    await reviews.removeAccess({ kind: "collaborator", account: "bob", repository: "acme/api" });
    await reviews.removeAccess({ kind: "member", account: "carol", repository: null });
    await reviews.removeAccess({ kind: "team", account: "engineering", repository: "acme/api" });

    const collaborators = (await (
      await fetch(`${carol.api}/repos/acme/api/collaborators?affiliation=all`, {
        headers: { authorization: "token bot-token" },
      })
    ).json()) as Array<{ login: string }>;
    expect(collaborators.map((c) => c.login)).toEqual(["alice"]);
    const members = (await (
      await fetch(`${carol.api}/orgs/acme/members`, { headers: { authorization: "token bot-token" } })
    ).json()) as Array<{ login: string }>;
    expect(members.map((m) => m.login)).toEqual(["alice", "bob"]);
    const graphql = (await (
      await fetch(`${carol.api}/graphql`, {
        method: "POST",
        headers: { authorization: "token bot-token" },
        body: JSON.stringify({
          query:
            '{ repository(owner: "acme", name: "api") { collaborators(first: 10) { nodes { login } } } }',
        }),
      })
    ).json()) as { data: { repository: { collaborators: { nodes: Array<{ login: string }> } } } };
    expect(graphql.data.repository.collaborators.nodes.map((n) => n.login)).toEqual(["alice"]);
    expect(world.repositories.get("acme/api")?.facts.teams).toEqual({ known: true, value: [] });
    const keys = (await (
      await fetch(`${carol.api}/repos/acme/api/keys`, { headers: { authorization: "token bot-token" } })
    ).json()) as unknown[];
    expect(keys).toEqual([]);
  });
});
