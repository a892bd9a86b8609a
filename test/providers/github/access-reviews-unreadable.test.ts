/**
 * Access reviews GitHub will not show (nock, GitHub's documented answers): a 403 on the pull
 * requests or on the review file makes the whole list unreadable, naming the permission, never a
 * shorter list; a fork's pull request from a branch of the same name is no review.
 */
import { describe, expect, it } from "vitest";
import { ACCESS_REVIEW_BRANCH_PREFIX } from "../../../src/access-review/index.js";
import { documentedExample } from "../../fixtures/app/github-app.js";
import { github, testHost, useHttpMock } from "./mock.js";

const REPO = "/repos/acme/compliance";
const BRANCH = `${ACCESS_REVIEW_BRANCH_PREFIX}2026-Q4/organization-admins`;
const PATH = "access-reviews/2026-Q4/organization-admins.yml";
const FORBIDDEN = {
  message: "Resource not accessible by integration",
  documentation_url: "https://docs.github.com/rest",
  status: "403",
};

/** GitHub's documented pull request list item, as a review pull request of `repository`. */
function reviewPull(number: number, repository = "acme/compliance") {
  const [pull] = documentedExample<Array<Record<string, unknown>>>("pull-request-simple-items");
  const head = pull!.head as Record<string, unknown> & { repo: Record<string, unknown> };
  return {
    ...pull,
    number,
    merged_at: null,
    state: "open",
    head: { ...head, ref: BRANCH, sha: "a".repeat(40), repo: { ...head.repo, full_name: repository } },
  };
}

function reviews() {
  return testHost().accessReviews!("acme/compliance");
}

describe("access reviews GitHub will not show", () => {
  useHttpMock();

  it("a 403 on the pull requests: unreadable, needing pull_requests:read", async () => {
    github().get(`${REPO}/pulls`).query({ state: "all", per_page: 100 }).reply(403, FORBIDDEN);
    expect(await reviews().listReviews(ACCESS_REVIEW_BRANCH_PREFIX)).toEqual({
      known: false,
      permission: "pull_requests:read",
      reason: "403 Resource not accessible by integration",
    });
  });

  it("a 403 on the review file: the whole list unreadable, needing contents:read", async () => {
    const [commit] = documentedExample<Array<Record<string, unknown>>>("commit-items");
    const [file] = documentedExample<Array<Record<string, unknown>>>("diff-entry-items");
    github()
      .get(`${REPO}/pulls`)
      .query({ state: "all", per_page: 100 })
      .reply(200, [reviewPull(7)])
      .get(`${REPO}/pulls/7/reviews`)
      .query({ per_page: 100 })
      .reply(200, [])
      .get(`${REPO}/pulls/7/commits`)
      .query({ per_page: 100 })
      .reply(200, [commit])
      .get(`${REPO}/pulls/7/files`)
      .query({ per_page: 100 })
      .reply(200, [{ ...file, filename: PATH, status: "added" }])
      .get(`${REPO}/contents/${encodeURIComponent(PATH)}`)
      .query(true)
      .times(2)
      .reply(403, FORBIDDEN);
    expect(await reviews().listReviews(ACCESS_REVIEW_BRANCH_PREFIX)).toEqual({
      known: false,
      permission: "contents:read",
      reason: "403 Resource not accessible by integration",
    });
  });

  it("a fork's pull request from a branch named like a review is no review", async () => {
    github()
      .get(`${REPO}/pulls`)
      .query({ state: "all", per_page: 100 })
      .reply(200, [reviewPull(8, "mallory/compliance")]);
    expect(await reviews().listReviews(ACCESS_REVIEW_BRANCH_PREFIX)).toEqual({ known: true, value: [] });
  });
});
