/**
 * Review records for tests: what a host's listReviews gives for one review pull request, built from
 * a rendered file as the bot opens it, then decided, approved and merged as a test says.
 */
import {
  renderReviewFile,
  reviewBranch,
  reviewPath,
  type ReviewGrant,
} from "../../src/access-review/index.js";
import { AccessReviewRecord } from "../../src/model/index.js";

export const HEAD = "b".repeat(40);
export const OLDER = "a".repeat(40);

export const GRANTS: ReviewGrant[] = [
  {
    id: "collaborator:bob:write",
    kind: "collaborator",
    account: "bob",
    person: "bob",
    repositories: ["acme/api"],
    role: "write",
    twoFactor: "yes",
    lastActivity: "2026-10-02 @bob merged acme/api#12",
    since: "unknown",
  },
  {
    id: "member:carol:member (base read)",
    kind: "member",
    account: "carol",
    person: "unknown person",
    repositories: [],
    role: "member (base read)",
    twoFactor: "yes",
    lastActivity: "none since 2026-08-01",
    since: "unknown",
  },
];

export function openedText(
  overrides: { cycle?: string; owner?: string; grants?: ReviewGrant[] } = {},
): string {
  return renderReviewFile({
    cycle: overrides.cycle ?? "2026-Q4",
    organization: "acme",
    owner: overrides.owner ?? "organization-admins",
    openedAt: new Date("2026-10-02T09:00:00Z"),
    grants: overrides.grants ?? GRANTS,
    graceDays: 7,
  });
}

/** The opened file with grant `id` decided revoke for `reason`, as a reviewer edits it. */
export function revoke(text: string, id: string, reason: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.includes(`- id: `) && line.includes(id));
  if (start < 0) throw new Error(`no grant ${id}`);
  const decision = lines.findIndex((line, index) => index > start && line.trim() === "decision: keep");
  lines[decision] = "    decision: revoke";
  lines[decision + 1] = `    reason: ${JSON.stringify(reason)}`;
  return lines.join("\n");
}

export function makeRecord(
  overrides: Partial<AccessReviewRecord> & { text?: string } = {},
): AccessReviewRecord {
  const cycle = overrides.cycle ?? "2026-Q4";
  const owner = overrides.owner ?? "organization-admins";
  const opened = overrides.openedText === undefined ? openedText({ cycle, owner }) : overrides.openedText;
  const { text, ...rest } = overrides;
  return AccessReviewRecord.parse({
    cycle,
    owner,
    repository: "acme/compliance",
    number: 7,
    url: "https://github.com/acme/compliance/pull/7",
    branch: reviewBranch(cycle, owner),
    openedBy: "soc2-bot[bot]",
    openedAt: "2026-10-02T09:00:00Z",
    state: "merged",
    mergedAt: "2026-10-20T15:00:00Z",
    mergedBy: "dave",
    headSha: HEAD,
    approvals: [{ login: "dave", at: "2026-10-20T14:00:00Z", commit: HEAD }],
    committers: ["soc2-bot[bot]", "erin"],
    file: { path: reviewPath("access-reviews", cycle, owner), text: opened ?? "" },
    openedText: opened,
    ...rest,
    // the decided file at the merged head, whatever record it is laid over
    ...(text !== undefined && {
      file: { path: rest.file?.path ?? reviewPath("access-reviews", cycle, owner), text },
    }),
  });
}
