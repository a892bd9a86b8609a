import { parseReviewBranch } from "../../src/access-review/index.js";
import type { AccessReviewRecord, Known } from "../../src/model/index.js";
import type {
  AccessRemoval,
  OpenReviewRequest,
  OpenedReview,
  ReviewHost,
} from "../../src/providers/types.js";

/**
 * A ReviewHost held in memory, behaving as the contract says: openReview is idempotent per branch
 * (a pull request for the branch in any state is returned as it is), listReviews lists every review
 * under the prefix, removeAccess records what it was asked to remove.
 */
export class MemoryReviewHost implements ReviewHost {
  readonly records: AccessReviewRecord[] = [];
  readonly requests: OpenReviewRequest[] = [];
  readonly removed: AccessRemoval[] = [];
  listAnswer: Known<AccessReviewRecord[]> | null = null;
  failRemoval: ((removal: AccessRemoval) => boolean) | null = null;

  constructor(private readonly repository = "acme/compliance") {}

  async openReview(request: OpenReviewRequest): Promise<OpenedReview> {
    const known = this.records.find((record) => record.branch === request.branch);
    if (known) return { number: known.number, url: known.url, created: false };
    this.requests.push(request);
    const names = parseReviewBranch(request.branch);
    if (!names) throw new Error(`not a review branch: ${request.branch}`);
    const number = this.records.length + 1;
    const url = `https://github.com/${this.repository}/pull/${number}`;
    this.records.push({
      ...names,
      repository: this.repository,
      number,
      url,
      branch: request.branch,
      openedBy: "soc2-bot[bot]",
      openedAt: "2026-11-30T10:00:00Z",
      state: "open",
      mergedAt: null,
      mergedBy: null,
      headSha: "c".repeat(40),
      approvals: [],
      committers: ["soc2-bot[bot]"],
      file: { path: request.path, text: request.text },
      openedText: request.text,
    });
    return { number, url, created: true };
  }

  async listReviews(prefix: string): Promise<Known<AccessReviewRecord[]>> {
    if (this.listAnswer) return this.listAnswer;
    return { known: true, value: this.records.filter((record) => record.branch.startsWith(prefix)) };
  }

  async removeAccess(removal: AccessRemoval): Promise<void> {
    if (this.failRemoval?.(removal)) throw new Error("403 Must have admin rights to Repository.");
    this.removed.push(removal);
  }
}
