import { describe, expect, it } from "vitest";
import { CONTROLS } from "../../src/controls/index.js";
import { loadPolicy } from "../../src/policy/index.js";
import {
  accessReviewsPart,
  collectAccessReviews,
  openReviewsAfterAudit,
} from "../../src/pipeline/access-reviews.js";
import type { CodeHost } from "../../src/providers/types.js";
import { unknownOf } from "../fixtures/build.js";
import { MemoryReviewHost } from "./fake-host.js";
import { makeRecord } from "./records.js";

const ON = `version: 1
findings: { repository: compliance }
controls:
  cc6.access-review-completed: { enabled: true, first_cycle: 2026-Q4 }
  cc6.revocations-applied: { enabled: true }
`;
const policyOf = (text: string) => loadPolicy([{ file: "org.yml", text }], CONTROLS);

/**
 * A code host that holds reviews and nothing else: any other call fails the test, so these show the
 * audit and the app ask only for the reviews (the access is collected only when a review is opened).
 */
function hostWith(reviews: MemoryReviewHost | null, asked: string[] = []): CodeHost {
  const host = {
    host: "github",
    ...(reviews && {
      accessReviews: (repository: string) => {
        asked.push(repository);
        return reviews;
      },
    }),
  };
  return new Proxy(host, {
    get(target, key) {
      if (key in target || key === "then" || key === "accessReviews")
        return (target as Record<string | symbol, unknown>)[key];
      throw new Error(`the host was asked for ${String(key)}`);
    },
  }) as unknown as CodeHost;
}

describe("collecting the access reviews", () => {
  it("lists every review under the prefix in the organization's findings repository", async () => {
    const reviews = new MemoryReviewHost();
    reviews.records.push(makeRecord());
    const asked: string[] = [];
    const listed = await collectAccessReviews(hostWith(reviews, asked), "acme", policyOf(ON));
    expect(listed).toEqual({ known: true, value: [makeRecord()] });
    expect(asked).toEqual(["acme/compliance"]);
  });

  it("is unreadable, never empty, on a host without reviews or a list it would not give", async () => {
    expect(await collectAccessReviews(hostWith(null), "acme", policyOf(ON))).toEqual({
      known: false,
      permission: "access reviews",
      reason: "this host does not hold access reviews",
    });
    const refusing = new MemoryReviewHost();
    refusing.listAnswer = unknownOf("pull_requests:read");
    expect(await collectAccessReviews(hostWith(refusing), "acme", policyOf(ON))).toEqual(
      unknownOf("pull_requests:read"),
    );
    const failing = new MemoryReviewHost();
    failing.listReviews = () => Promise.reject(new Error("GitHub answered 502"));
    expect(await collectAccessReviews(hostWith(failing), "acme", policyOf(ON))).toEqual({
      known: false,
      permission: "read access to the pull requests of acme/compliance",
      reason: "GitHub answered 502",
    });
  });

  it("is asked of the host only when a policy judges the reviews", async () => {
    const asked: string[] = [];
    expect(
      await accessReviewsPart(hostWith(new MemoryReviewHost(), asked), "acme", policyOf("version: 1\n")),
    ).toEqual({});
    expect(asked).toEqual([]);
    expect(await accessReviewsPart(hostWith(new MemoryReviewHost(), asked), "acme", policyOf(ON))).toEqual({
      accessReviews: { known: true, value: [] },
    });
  });
});

describe("the app's opening after a scheduled audit", () => {
  const at = new Date("2026-11-30T10:00:00Z");

  it("does nothing when the policy does not judge reviews, the cycle is before first_cycle, or the cycle's reviews were opened", async () => {
    const reviews = new MemoryReviewHost();
    const host = hostWith(reviews);
    expect(
      await openReviewsAfterAudit({ host, organization: "acme", policy: policyOf("version: 1\n"), at }),
    ).toBeNull();
    const later = ON.replace("first_cycle: 2026-Q4", "first_cycle: 2027-Q1");
    expect(
      await openReviewsAfterAudit({ host, organization: "acme", policy: policyOf(later), at }),
    ).toBeNull();
    reviews.records.push(makeRecord({ owner: "platform" }));
    expect(await openReviewsAfterAudit({ host, organization: "acme", policy: policyOf(ON), at })).toBeNull();
    expect(reviews.requests).toEqual([]);
  });
});
