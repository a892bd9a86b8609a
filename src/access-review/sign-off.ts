import type { AccessReviewRecord } from "../model/index.js";
import type { PeopleDirectory } from "../controls/types.js";
import { dueAt as dueOf, parseCycle } from "./cycles.js";
import type { AccessReviewParams } from "./params.js";
import { parseReviewFile, type ParsedReview, type ReviewProblem } from "./review-file.js";

/** What the host's record of one review shows as a sign-off, judged by the rule of the contract. */
export interface SignOff {
  cycle: string;
  owner: string;
  record: AccessReviewRecord;
  /** When the review was due (ISO); "" when the cycle id cannot be read. */
  dueAt: string;
  /** Merged, by the due time (false while open). */
  onTime: boolean;
  /** At least one approval of the merged head by a person who neither opened nor wrote on the branch. */
  independent: boolean;
  /** Logins of the independent approvers. */
  reviewers: string[];
  /** When the review was decided: the merge; null while not merged. */
  decidedAt: string | null;
  /** Problems of the file at the head (file, line, column), and a cycle id that cannot be read. */
  problems: ReviewProblem[];
  /** The file's decisions at the head; null when it has none or they cannot be read. */
  review: ParsedReview | null;
  /** The merge is a sign-off: merged, independently approved, file valid (timeliness aside). */
  signedOff: boolean;
  /** One line: why it is or is not a sign-off, and how late. */
  why: string;
  /** Approvals that carry no commit (GitLab): accepted as covering the merged head, said here. */
  uncommittedApprovals: string[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function signOffOf(
  record: AccessReviewRecord,
  params: Pick<AccessReviewParams, "due_within_days">,
  people: PeopleDirectory,
): SignOff {
  const problems: ReviewProblem[] = [];
  const cycle = parseCycle(record.cycle);
  const due = cycle ? dueOf(cycle, params.due_within_days).toISOString() : "";
  const where = record.file?.path ?? record.branch;
  if (!cycle) {
    problems.push({
      file: where,
      line: 1,
      column: 1,
      message: `the branch names no review cycle: "${record.cycle}"`,
    });
  }
  let review: ParsedReview | null = null;
  if (!record.file) {
    problems.push({ file: where, line: 1, column: 1, message: "the branch holds no review file" });
  } else {
    const parsed = parseReviewFile(record.file.path, record.file.text, record.openedText);
    if (parsed.review) {
      review = parsed.review;
      for (const [field, expected] of [
        ["review", record.cycle],
        ["owner", record.owner],
      ] as const) {
        const value = field === "review" ? review.cycle : review.owner;
        if (value !== expected) {
          problems.push({
            file: record.file.path,
            line: 1,
            column: 1,
            message: `\`${field}\` is "${value}" but the branch is the review of "${expected}"`,
          });
        }
      }
      if (record.openedText === null) {
        problems.push({
          file: record.file.path,
          line: 1,
          column: 1,
          message:
            "the file as opened cannot be found, so the decisions cannot be checked against the grants opened for review",
        });
      }
    } else problems.push(...parsed.problems);
  }

  const merged = record.state === "merged" && record.mergedAt !== null;
  const writers = new Set(
    // A committer the host could not link to an account is kept as its e-mail (GitLab): the
    // policy's people may still name whose it is.
    [record.openedBy, ...record.committers]
      .map((writer) => people.personOf(writer.includes("@") ? { email: writer } : { login: writer }))
      .filter((key) => key !== null),
  );
  const reviewers: string[] = [];
  const uncommitted: string[] = [];
  const refused: string[] = [];
  for (const approval of record.approvals) {
    const person = people.personOf({ login: approval.login });
    if (person === null || writers.has(person)) {
      refused.push(`@${approval.login} wrote on the branch or opened it`);
      continue;
    }
    // An approval given after the merge did not allow it: the merge is the sign-off.
    if (record.mergedAt !== null && Date.parse(approval.at) > Date.parse(record.mergedAt)) {
      refused.push(`@${approval.login} approved after the merge`);
      continue;
    }
    if (approval.commit !== null && approval.commit !== record.headSha) {
      refused.push(`@${approval.login} approved ${approval.commit.slice(0, 7)}, not the merged head`);
      continue;
    }
    if (approval.commit === null) uncommitted.push(approval.login);
    if (!reviewers.includes(approval.login)) reviewers.push(approval.login);
  }
  const independent = reviewers.length > 0;
  const decidedAt = merged ? record.mergedAt : null;
  const onTime = merged && due !== "" && Date.parse(record.mergedAt!) <= Date.parse(due);
  const signedOff = merged && independent && problems.length === 0;

  let why: string;
  if (record.state === "closed") why = "closed without merge: not a sign-off";
  else if (!merged) why = "open: not merged yet";
  else if (problems.length > 0) {
    const first = problems[0]!;
    why = `the review file is invalid at the merged head: ${first.file}:${first.line}:${first.column} ${first.message}`;
  } else if (!independent) {
    why =
      `merged without an approval of the merged head by someone who neither opened it nor wrote on it` +
      (refused.length > 0 ? ` (${refused.join("; ")})` : " (no approval)");
  } else if (!onTime) {
    const late = Date.parse(record.mergedAt!) - Date.parse(due);
    why = `signed off by ${reviewers.map((login) => `@${login}`).join(", ")} on ${record.mergedAt}, ${lateBy(late)} after it was due (${due})`;
  } else {
    why = `signed off by ${reviewers.map((login) => `@${login}`).join(", ")} on ${record.mergedAt}, due ${due}`;
  }
  return {
    cycle: record.cycle,
    owner: record.owner,
    record,
    dueAt: due,
    onTime,
    independent,
    reviewers,
    decidedAt,
    problems,
    review,
    signedOff,
    why,
    uncommittedApprovals: uncommitted,
  };
}

function lateBy(ms: number): string {
  const days = Math.floor(ms / DAY_MS);
  if (days >= 1) return `${days} day(s)`;
  const hours = Math.max(1, Math.round(ms / (60 * 60 * 1000)));
  return `${hours} hour(s)`;
}
