import { z } from "zod";
import { patternProblem } from "./branches.js";

/**
 * The policy file as people write it (snake_case YAML). Strict everywhere: an unknown key is more
 * likely a typo that silently weakens a control than a setting from a newer version.
 * `controls` is only checked to be a mapping here: each control's settings are validated by that
 * control's own parameter schema in ./parse.ts.
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** YYYY-MM-DD naming a real calendar day (2026-02-30 is rejected, not rolled over to March). */
export function isCalendarDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const CalendarDate = z
  .string({
    error: (issue) =>
      issue.input === undefined ? undefined : "must be a date written YYYY-MM-DD, e.g. 2026-12-31",
  })
  .refine(isCalendarDate, { error: "must be a real date written YYYY-MM-DD, e.g. 2026-12-31" });

const Text = z.string().trim().min(1);

/** A branch or repository name pattern in GitHub's syntax (./branches.ts), rejected when it could mislead. */
const Glob = z
  .string()
  .min(1)
  .max(255)
  .superRefine((pattern, context) => {
    const problem = patternProblem(pattern);
    if (problem !== undefined) context.addIssue({ code: "custom", message: problem, input: pattern });
  });

const ExceptionSubjectSchema = z
  .strictObject({
    repository: Text.optional(),
    change_request: z.number().int().positive().optional(),
    user: Text.optional(),
    commit: z
      .string({
        error: 'must be a quoted commit SHA, e.g. "1a2b3c4d" (unquoted digits are read as a number)',
      })
      .regex(/^[0-9a-fA-F]{7,40}$/, { error: "must be a commit SHA or its first 7 to 40 hex characters" })
      .optional(),
  })
  .refine((subject) => Object.values(subject).some((value) => value !== undefined), {
    error:
      "names nothing: give at least one of repository, change_request, user, commit " +
      "(an exception must say what it covers)",
  })
  // Without a repository, `change_request: 11` would excuse #11 in every repository.
  .refine((subject) => subject.change_request === undefined || subject.repository !== undefined, {
    path: ["change_request"],
    error:
      "needs `repository`: every repository has its own change request numbers, so name the one it is in " +
      "(e.g. `{ repository: acme/api, change_request: 11 }`)",
  })
  // A SHA prefix may name commits in several repositories (forks and mirrors share history).
  .refine((subject) => subject.commit === undefined || subject.repository !== undefined, {
    path: ["commit"],
    error:
      "needs `repository`: the same commit can be in several repositories (forks, mirrors), so name the one it is in",
  });

const ExceptionSchema = z.strictObject({
  control: Text,
  subject: ExceptionSubjectSchema,
  reason: Text,
  approved_by: Text,
  expires: CalendarDate,
});

/**
 * A login as the host spells it: GitHub's letters, digits and "-"; GitLab's also "_" and "."; a
 * GitHub App's bot account ends in "[bot]". Written without "@".
 */
const Login = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\[bot\])?$/, {
    error: "must be a login as the host shows it, e.g. `alice` (letters, digits, `-`, `_`, `.`; no `@`)",
  });

const Email = z
  .string()
  .trim()
  .regex(/^[^\s@]+@[^\s@]+$/, { error: "must be an e-mail address, e.g. alice@example.com" });

/** One person of `people:`; the id is the mapping key, checked in ./parse.ts with its position. */
const PersonSchema = z
  .strictObject({
    name: Text.optional(),
    github: z.array(Login).nullable().optional(),
    gitlab: z.array(Login).nullable().optional(),
    emails: z.array(Email).nullable().optional(),
    left_on: CalendarDate.optional(),
  })
  .refine((person) => [person.github, person.gitlab, person.emails].some((list) => (list ?? []).length > 0), {
    error: "names no account: give at least one of github, gitlab, emails",
  });

export const PolicyFileSchema = z.strictObject({
  version: z.literal(1),
  // Probot's config convention; what soc2-bot supports of it is checked in parse.ts (extendsProblems)
  _extends: z.string().optional(),
  production_branches: z
    .strictObject({
      default_branch: z.boolean().optional(),
      patterns: z.array(Glob).nullable().optional(),
    })
    .nullable()
    .optional(),
  controls: z.record(z.string(), z.unknown()).nullable().optional(),
  exceptions: z.array(ExceptionSchema).nullable().optional(),
  people: z.record(z.string(), PersonSchema).nullable().optional(),
  findings: z
    .strictObject({
      repository: Text.optional(),
      labels: z.array(Text).nullable().optional(),
      // by_repository: one issue per control and repository listing its failing changes (bounded);
      // per_change_request: one issue per failing change
      group_change_requests: z.enum(["by_repository", "per_change_request"]).optional(),
    })
    .nullable()
    .optional(),
  audit: z
    .strictObject({
      schedule: z.enum(["daily", "weekly", "monthly", "off"]).optional(),
      include: z.array(Glob).nullable().optional(),
      exclude: z.array(Glob).nullable().optional(),
    })
    .nullable()
    .optional(),
  ledger: z
    .strictObject({
      // coverage: a merge the app judged later than this after merging is listed as not judged in time
      judged_within_minutes: z
        .number({ error: "must be a whole number of minutes, e.g. 15" })
        .int({ error: "must be a whole number of minutes, e.g. 15" })
        .min(1, { error: "must be at least 1 minute" })
        .max(10080, { error: "must be at most 10080 minutes (a week)" })
        .optional(),
      // export: the points at which the period's export lists who had access (each day's end, UTC)
      access_snapshots: z
        .union([z.enum(["quarter-ends", "month-ends"]), z.array(CalendarDate).min(1)], {
          error: 'must be "quarter-ends", "month-ends" or a list of dates YYYY-MM-DD',
        })
        .optional(),
    })
    .nullable()
    .optional(),
});

export type PolicyFile = z.infer<typeof PolicyFileSchema>;
