import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ACCESS_REVIEW_BRANCH_PREFIX } from "../../../src/access-review/index.js";
import { API, gitlab, strictNock, testHost } from "./helpers.js";

/**
 * Fidelity: a review merge request read from GitLab's own documented answers
 * (/work/shared/fixtures/gitlab-docs: the single MR, its commits, its approvals). The only change
 * to a documented example is the MR's source branch, set to a review branch (the example's "test1"
 * would not be a review). Answers GitLab documents no example of (diffs, notes of an MR, members)
 * are the smallest that say what the test needs, and say so.
 */

strictNock();

const DOCS = "/work/shared/fixtures/gitlab-docs";
function documented<T = object>(name: string): T {
  return JSON.parse(readFileSync(`${DOCS}/${name}.json`, "utf8")) as T;
}

const PROJECT = `${API}/projects/my-group%2Fcompliance`;
const MR = `${PROJECT}/merge_requests/1`;
const BRANCH = `${ACCESS_REVIEW_BRANCH_PREFIX}2026-Q4/organization-admins`;
const PATH = "access-reviews/2026-Q4/organization-admins.yml";
const HEAD = "8888888888888888888888888888888888888888";
// mr-commits lists newest first: its last commit is the branch's first.
const FIRST = "6104942438c14ec7bd21c6cd5bd995272b3faff6";

function mockReview(notes: unknown[]): void {
  gitlab()
    .get(`${PROJECT}/merge_requests`)
    .query(true)
    .reply(200, [{ ...documented<Record<string, unknown>>("mr-single"), source_branch: BRANCH }])
    .get(`${MR}/notes`)
    .query(true)
    .reply(200, notes)
    .get(`${MR}/approvals`)
    .reply(200, documented("mr-approvals"));
}

function mockRest(): void {
  gitlab()
    .get(`${MR}/commits`)
    .query(true)
    .reply(200, documented("mr-commits"))
    // No documented example: members the token cannot read (so no public e-mail links a commit).
    .get(`${PROJECT}/members/all`)
    .query(true)
    .reply(403, { message: "403 Forbidden" })
    // No documented example of an MR's diffs: the review file, added.
    .get(`${MR}/diffs`)
    .query(true)
    .reply(200, [
      { old_path: PATH, new_path: PATH, new_file: true, renamed_file: false, deleted_file: false },
    ])
    .get(`${PROJECT}/repository/files/${encodeURIComponent(PATH)}/raw`)
    .query({ ref: HEAD })
    .reply(200, "review: 2026-Q4\n# decided\n")
    .get(`${PROJECT}/repository/files/${encodeURIComponent(PATH)}/raw`)
    .query({ ref: FIRST })
    .reply(200, "review: 2026-Q4\n# opened\n");
}

describe("GitLab's documented merge request answers read as an access review", () => {
  it("reads mr-single, mr-commits and mr-approvals (dated by GitLab's approval note) into the record", async () => {
    // No documented example of an MR's approval note: GitLab writes it as the approver, as a system note.
    mockReview([
      {
        id: 1,
        body: "approved this merge request",
        system: true,
        author: { id: 1, username: "root" },
        created_at: "2018-09-07T11:00:00.000Z",
      },
    ]);
    mockRest();
    const { host } = testHost();
    const list = await host.accessReviews!("my-group/compliance").listReviews(ACCESS_REVIEW_BRANCH_PREFIX);
    if (!list.known) throw new Error(list.reason);
    expect(list.value).toEqual([
      {
        cycle: "2026-Q4",
        owner: "organization-admins",
        repository: "my-group/compliance",
        number: 1,
        url: "http://gitlab.example.com/my-group/my-project/merge_requests/1",
        branch: BRANCH,
        openedBy: "admin",
        openedAt: "2017-04-29T08:46:00.000Z",
        state: "merged",
        mergedAt: "2018-09-07T11:16:17.520Z",
        // merge_user is null in the example: the older merged_by names who merged.
        mergedBy: "DouweM",
        headSha: HEAD,
        // GitLab records no commit for an approval.
        approvals: [{ login: "root", at: "2018-09-07T11:00:00.000Z", commit: null }],
        // The example's author e-mail links to no account: kept as the e-mail, never dropped.
        committers: ["user@example.com"],
        file: { path: PATH, text: "review: 2026-Q4\n# decided\n" },
        openedText: "review: 2026-Q4\n# opened\n",
      },
    ]);
  });

  it("an approval GitLab gives no time for (mr-approvals has no approved_at, and no note) is unknown, saying why", async () => {
    mockReview([]);
    const { host } = testHost();
    const list = await host.accessReviews!("my-group/compliance").listReviews(ACCESS_REVIEW_BRANCH_PREFIX);
    expect(list).toMatchObject({ known: false, permission: expect.stringMatching(/approved_at/) });
    if (!list.known) expect(list.reason).toMatch(/no time for root's approval/);
  });

  it("an instance without the merge request approvals API (404) gives unknown, naming the edition, never 'no approval'", async () => {
    gitlab()
      .get(`${PROJECT}/merge_requests`)
      .query(true)
      .reply(200, [{ ...documented<Record<string, unknown>>("mr-single"), source_branch: BRANCH }])
      .get(`${MR}/notes`)
      .query(true)
      .reply(200, [])
      .get(`${MR}/approvals`)
      .reply(404, { error: "404 Not Found" });
    const { host } = testHost();
    const list = await host.accessReviews!("my-group/compliance").listReviews(ACCESS_REVIEW_BRANCH_PREFIX);
    expect(list).toMatchObject({ known: false, permission: "GitLab Premium" });
    if (!list.known) expect(list.reason).toMatch(/not available on this GitLab edition/);
  });
});
