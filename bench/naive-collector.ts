/**
 * The collector the benchmark compares against: what a script written from the REST docs does. It
 * lists closed pull requests page by page, and for every merged one reads the pull request, its
 * reviews, its commits and the check runs of its head: four requests per pull request.
 */
import { mapLimit } from "../src/pipeline/concurrency.js";

export interface NaiveFigures {
  repositories: number;
  mergedPullRequests: number;
  requests: number;
  /** Of those, the pages listing closed pull requests (one page of 100 at least per repository). */
  listRequests: number;
}

interface PullSummary {
  number: number;
  merged_at: string | null;
  head: { sha: string };
}

function nextLink(link: string | null): string | null {
  return (
    link
      ?.split(",")
      .find((part) => part.includes('rel="next"'))
      ?.match(/<([^>]+)>/)?.[1] ?? null
  );
}

export async function collectNaively(
  baseUrl: string,
  repositories: readonly string[],
  options: { concurrency?: number; token?: string } = {},
): Promise<NaiveFigures> {
  const figures: NaiveFigures = {
    repositories: repositories.length,
    mergedPullRequests: 0,
    requests: 0,
    listRequests: 0,
  };
  const get = async (url: string, attempt = 1): Promise<{ body: unknown; link: string | null }> => {
    figures.requests += 1;
    const headers = {
      authorization: `token ${options.token ?? "naive"}`,
      accept: "application/vnd.github+json",
    };
    // A dropped loopback connection under load is retried, and counted, like any client would.
    const answer = await fetch(url, { headers }).catch((error: unknown) => {
      if (attempt >= 3) throw error;
      return null;
    });
    if (answer === null) return get(url, attempt + 1);
    if (!answer.ok) throw new Error(`naive collector: ${answer.status} on ${url}`);
    return { body: await answer.json(), link: answer.headers.get("link") };
  };
  for (const fullName of repositories) {
    const merged: PullSummary[] = [];
    let url: string | null = `${baseUrl}/repos/${fullName}/pulls?state=closed&per_page=100`;
    while (url) {
      figures.listRequests += 1;
      const page = await get(url);
      merged.push(...(page.body as PullSummary[]).filter((pull) => pull.merged_at !== null));
      url = nextLink(page.link);
    }
    figures.mergedPullRequests += merged.length;
    await mapLimit(merged, options.concurrency ?? 4, async (pull) => {
      const base = `${baseUrl}/repos/${fullName}`;
      await get(`${base}/pulls/${pull.number}`);
      await get(`${base}/pulls/${pull.number}/reviews?per_page=100`);
      await get(`${base}/pulls/${pull.number}/commits?per_page=100`);
      await get(`${base}/commits/${pull.head.sha}/check-runs?per_page=100`);
    });
  }
  return figures;
}
