/**
 * The organization shapes the benchmark audits: the uniform one (every repository merges the same
 * number of pull requests) and the long tail (most repositories merge 0 to 5 in the period, a few
 * thousands), both from the sample generator, so planted violations are known in both.
 */
import { longTailCounts, type SampleOptions } from "../src/sample/generate.js";

/** R repositories x P merged pull requests each (`--sizes 10x100`). */
export interface Size {
  repositories: number;
  pullRequestsPerRepository: number;
}

/** R repositories sharing T merged pull requests, long-tail (`--long-tail 1000x100000`). */
export interface LongTailSize {
  repositories: number;
  totalPullRequests: number;
}

export type OrgShape = Size | LongTailSize;

export function isLongTail(shape: OrgShape): shape is LongTailSize {
  return "totalPullRequests" in shape;
}

export function shapeName(shape: OrgShape): string {
  return isLongTail(shape)
    ? `long-tail ${shape.repositories}/${shape.totalPullRequests}`
    : `${shape.repositories}x${shape.pullRequestsPerRepository}`;
}

export function sampleOptionsFor(shape: OrgShape, seed = 42): SampleOptions {
  return isLongTail(shape)
    ? {
        seed,
        repositories: shape.repositories,
        pullRequestCounts: longTailCounts(shape.repositories, shape.totalPullRequests, seed),
      }
    : { seed, repositories: shape.repositories, pullRequestsPerRepository: shape.pullRequestsPerRepository };
}
