/**
 * The repository batch against the simulated GitHub at an organization's scale: more repositories
 * than one query and one page of a team's repositories hold, collected through REST and through
 * the batch alike, for a few GraphQL points.
 */
import { afterEach, describe, expect, it } from "vitest";
import { parse, validate } from "graphql";
import { githubHostFor, period, serveSample, type ServedSample } from "../../src/sim/harness.js";
import { githubSchema, queryCost } from "../../src/sim/github/graphql.js";
import { collectAudit } from "../../src/pipeline/audit.js";
import {
  moreQuery,
  moreTeamRepositoriesQuery,
  ORGANIZATION_TEAMS_QUERY,
  repositoryFactsQuery,
  REPOSITORIES_PER_QUERY,
} from "../../src/providers/github/repository-queries.js";

const served: ServedSample[] = [];
afterEach(async () => {
  await Promise.all(served.splice(0).map((s) => s.sim.close()));
});

async function audit(batch: boolean) {
  // 104 repositories and the findings repository: three batch queries, and the "engineering"
  // team's repositories on two pages.
  const sample = await serveSample({ repositories: 104, pullRequestsPerRepository: 2 });
  served.push(sample);
  const { host } = githubHostFor(sample.sim);
  const { since, until } = period(sample.sample);
  const snapshot = await collectAudit({
    host: batch ? host : { ...host, prefetchRepositories: undefined },
    organization: sample.sample.snapshot.organization?.login ?? "acme-demo",
    since,
    until,
    now: () => sample.sample.at,
  });
  return { snapshot, stats: sample.sim.stats };
}

describe("repository facts in batches at an organization's scale", () => {
  it("collects what the REST reads collect, in far fewer requests", async () => {
    const rest = await audit(false);
    const batch = await audit(true);
    expect(batch.snapshot.repositories).toHaveLength(105);
    expect(batch.snapshot.repositories).toEqual(rest.snapshot.repositories);
    expect(batch.snapshot.policyFiles).toEqual(rest.snapshot.policyFiles);
    expect(batch.snapshot.directPushes).toEqual(rest.snapshot.directPushes);
    expect(batch.snapshot.changeRequests).toEqual(rest.snapshot.changeRequests);
    for (const route of ["collaborators", "teams", "branches"])
      expect(batch.stats.byRoute[`GET /repos/{owner}/{repo}/${route}`] ?? 0).toBe(0);
    expect(rest.stats.byRoute["GET /repos/{owner}/{repo}/teams"]).toBe(105);
    expect(batch.stats.requests).toBeLessThan(rest.stats.requests / 2);
  }, 120_000);

  it("costs a few GraphQL points per page of repositories, as GitHub counts them", () => {
    const facts = queryCost(parse(repositoryFactsQuery(REPOSITORIES_PER_QUERY)), {});
    // Six connections per repository (two allowance lists, rules, collaborators, branch names,
    // deploy keys): 300 requests' worth, 3 points; and the first six merged pull requests with
    // their four nested connections each (merged-first-page.test.ts): 1,250 more, 16 in all.
    expect(facts).toBe(16);
    expect(queryCost(parse(moreQuery(Array(REPOSITORIES_PER_QUERY).fill("collaborators"))), {})).toBe(1);
  });

  it("asks only what GitHub's published schema has", () => {
    for (const query of [
      repositoryFactsQuery(3),
      moreQuery(["collaborators", "refs"]),
      ORGANIZATION_TEAMS_QUERY,
      moreTeamRepositoriesQuery(2),
    ])
      expect(validate(githubSchema(), parse(query)).map((e) => e.message)).toEqual([]);
  });
});
