import { readYaml, sortProblems, type Problem, type YamlSource } from "../policy/yaml-source.js";

/**
 * The review file: one YAML file per cycle and owner, listing every grant the owner answers for.
 * Reviewers change only `decision` and `reason`; everything else is checked against the file as the
 * bot opened it, so a decision can only be about a grant that was shown for review.
 */

export type GrantKind = "member" | "owner" | "outside-collaborator" | "collaborator" | "team" | "deploy-key";
export const GRANT_KINDS: readonly GrantKind[] = [
  "member",
  "owner",
  "outside-collaborator",
  "collaborator",
  "team",
  "deploy-key",
];
export type TwoFactor = "yes" | "no" | "unknown" | "n/a";
const TWO_FACTOR: readonly TwoFactor[] = ["yes", "no", "unknown", "n/a"];

export interface ReviewGrant {
  /** Stable across cycles: `<kind>:<account>:<role>`. */
  id: string;
  kind: GrantKind;
  /** Login, team slug, or for a deploy key "<repo>#<key id> <title>". */
  account: string;
  /** The person id of the policy's people, or "unknown person". */
  person: string;
  /** Repository full names; [] for organization-wide grants. */
  repositories: string[];
  role: string;
  twoFactor: TwoFactor;
  /** "2026-11-02 merged acme/api#12", "none since 2026-09-01" or "unknown: <why>". */
  lastActivity: string;
  /** First observed (ledger), or "unknown". */
  since: string;
}

export interface ReviewDecision extends ReviewGrant {
  decision: "keep" | "revoke";
  reason: string;
  /** Line of the grant in the file. */
  line: number;
}

export interface ParsedReview {
  cycle: string;
  organization: string;
  owner: string;
  openedAt: string;
  decisions: ReviewDecision[];
}

export interface ReviewProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface RenderReviewInput {
  cycle: string;
  organization: string;
  owner: string;
  openedAt: Date;
  grants: ReviewGrant[];
  graceDays: number;
  /** Who opens it, for the header comment; "soc2-bot" unless said. */
  openedBy?: string;
}

const HEADER_KEYS = ["review", "organization", "owner", "opened_at", "grants"] as const;
/** Grant keys in file order, with the ReviewGrant field each holds. */
const GRANT_FIELDS = [
  ["id", "id"],
  ["person", "person"],
  ["account", "account"],
  ["kind", "kind"],
  ["repositories", "repositories"],
  ["role", "role"],
  ["two_factor", "twoFactor"],
  ["last_activity", "lastActivity"],
  ["since", "since"],
] as const;
const DECISION_KEYS = ["decision", "reason"] as const;
const GRANT_KEYS: readonly string[] = [...GRANT_FIELDS.map(([key]) => key), ...DECISION_KEYS];

export function renderReviewFile(input: RenderReviewInput): string {
  const day = input.openedAt.toISOString().slice(0, 10);
  const lines = [
    `# Access review ${oneLine(input.cycle)} of ${oneLine(input.organization)} for ${oneLine(input.owner)}, opened by ${oneLine(input.openedBy ?? "soc2-bot")} on ${day}.`,
    "# For each grant keep `decision: keep`, or write `decision: revoke` with a `reason`.",
    "# Change nothing else. Merge with an approval from someone who did not write the decisions:",
    `# that merge is the sign-off. Revoked access is checked again ${input.graceDays} days after the merge.`,
    `review: ${scalar(input.cycle)}`,
    `organization: ${scalar(input.organization)}`,
    `owner: ${scalar(input.owner)}`,
    `opened_at: ${scalar(input.openedAt.toISOString().replace(/\.\d{3}Z$/, "Z"))}`,
  ];
  if (input.grants.length === 0) {
    lines.push("grants: []");
  } else {
    lines.push("grants:");
    for (const grant of input.grants) {
      lines.push(`  - id: ${scalar(grant.id)}`);
      for (const [key, field] of GRANT_FIELDS.slice(1)) {
        const value = grant[field];
        lines.push(
          `    ${key}: ${Array.isArray(value) ? `[${value.map((item) => scalar(item)).join(", ")}]` : scalar(value)}`,
        );
      }
      lines.push("    decision: keep", '    reason: ""');
    }
  }
  return `${lines.join("\n")}\n`;
}

/**
 * Parses a review file. With `opened` (the file as the bot opened it), every grant must be one that
 * was opened, unchanged but for decision and reason, and none may be dropped.
 */
export function parseReviewFile(
  path: string,
  text: string,
  opened?: string | null,
): { review: ParsedReview; problems: [] } | { review: null; problems: ReviewProblem[] } {
  const { source, problems: yamlProblems } = readYaml(text, path);
  if (!source) return { review: null, problems: yamlProblems.map(plain) };
  const problems: Problem[] = [];
  // where each decision is in the file's list of grants, for the problems found comparing
  const places = new Map<ReviewDecision, number>();
  const review = shapeOf(source, problems, places);
  if (review && opened !== undefined && opened !== null) {
    compareWithOpened(source, review, opened, problems, places);
  }
  if (!review || problems.length > 0) {
    const sorted = sortProblems(problems).map(plain);
    return {
      review: null,
      problems: sorted.length > 0 ? sorted : [{ ...source.valueAt([]), message: "not a review file" }],
    };
  }
  return { review, problems: [] };
}

function shapeOf(
  source: YamlSource,
  problems: Problem[],
  places: Map<ReviewDecision, number>,
): ParsedReview | null {
  const root = source.value;
  if (!isRecord(root)) {
    problems.push({
      ...source.valueAt([]),
      message: `a review file is a mapping with ${HEADER_KEYS.map((key) => `\`${key}\``).join(", ")}`,
    });
    return null;
  }
  for (const key of Object.keys(root)) {
    if (!(HEADER_KEYS as readonly string[]).includes(key)) {
      problems.push({
        ...source.keyAt([key]),
        message: `unknown key \`${key}\`: change only decision and reason`,
      });
    }
  }
  const text = (key: string): string => {
    const value = root[key];
    if (value === undefined) {
      problems.push({ ...source.valueAt([]), message: `\`${key}\` is missing` });
      return "";
    }
    if (typeof value !== "string" || value === "") {
      problems.push({ ...source.valueAt([key]), message: `\`${key}\` must be text` });
      return "";
    }
    return value;
  };
  const cycle = text("review");
  const organization = text("organization");
  const owner = text("owner");
  const openedAt = openedAtOf(root.opened_at, source, problems);
  const grants = root.grants;
  const decisions: ReviewDecision[] = [];
  if (grants === undefined) {
    problems.push({ ...source.valueAt([]), message: "`grants` is missing" });
  } else if (!Array.isArray(grants)) {
    problems.push({ ...source.valueAt(["grants"]), message: "`grants` must be a list of grants" });
  } else {
    const seen = new Map<string, number>();
    grants.forEach((grant: unknown, index) => {
      const decision = decisionOf(grant, index, source, problems);
      if (!decision) return;
      const first = seen.get(decision.id);
      if (first !== undefined) {
        problems.push({
          ...source.valueAt(["grants", index, "id"]),
          message: `grant \`${decision.id}\` is listed twice (first on line ${first}): decide each grant once`,
        });
        return;
      }
      seen.set(decision.id, decision.line);
      places.set(decision, index);
      decisions.push(decision);
    });
  }
  return { cycle, organization, owner, openedAt, decisions };
}

function openedAtOf(value: unknown, source: YamlSource, problems: Problem[]): string {
  // yaml (core schema) reads an unquoted timestamp as text; a Date only comes from a !!timestamp tag.
  const textValue = value instanceof Date ? value.toISOString() : value;
  if (value === undefined) {
    problems.push({ ...source.valueAt([]), message: "`opened_at` is missing" });
    return "";
  }
  if (typeof textValue !== "string" || Number.isNaN(Date.parse(textValue))) {
    problems.push({
      ...source.valueAt(["opened_at"]),
      message: "`opened_at` must be a time (2026-11-30T10:00:00Z)",
    });
    return "";
  }
  return textValue;
}

function decisionOf(
  grant: unknown,
  index: number,
  source: YamlSource,
  problems: Problem[],
): ReviewDecision | null {
  const path = ["grants", index];
  const line = source.valueAt(path).line;
  if (!isRecord(grant)) {
    problems.push({
      ...source.valueAt(path),
      message: "each grant is a mapping (id, person, account, ..., decision, reason)",
    });
    return null;
  }
  const before = problems.length;
  for (const key of Object.keys(grant)) {
    if (!GRANT_KEYS.includes(key)) {
      problems.push({
        ...source.keyAt([...path, key]),
        message: `unknown key \`${key}\` in a grant: change only decision and reason`,
      });
    }
  }
  const text = (key: string, allowEmpty = false): string => {
    const value = grant[key];
    if (value === undefined) {
      problems.push({ ...source.valueAt(path), message: `\`${key}\` is missing from this grant` });
      return "";
    }
    if (typeof value !== "string" || (!allowEmpty && value === "")) {
      problems.push({ ...source.valueAt([...path, key]), message: `\`${key}\` must be text` });
      return "";
    }
    return value;
  };
  const id = text("id");
  const person = text("person");
  const account = text("account");
  const kind = text("kind");
  if (kind !== "" && !(GRANT_KINDS as readonly string[]).includes(kind)) {
    problems.push({
      ...source.valueAt([...path, "kind"]),
      message: `\`kind\` must be one of ${GRANT_KINDS.join(", ")}`,
    });
  }
  const repositories = grant.repositories;
  if (!Array.isArray(repositories) || repositories.some((item) => typeof item !== "string")) {
    problems.push({
      ...(repositories === undefined ? source.valueAt(path) : source.valueAt([...path, "repositories"])),
      message:
        repositories === undefined
          ? "`repositories` is missing from this grant"
          : "`repositories` must be a list of repository names",
    });
  }
  const role = text("role");
  const twoFactor = text("two_factor");
  if (twoFactor !== "" && !(TWO_FACTOR as readonly string[]).includes(twoFactor)) {
    problems.push({
      ...source.valueAt([...path, "two_factor"]),
      message: `\`two_factor\` must be one of ${TWO_FACTOR.map((value) => `"${value}"`).join(", ")}`,
    });
  }
  const lastActivity = text("last_activity");
  const since = text("since");
  const decision = grant.decision;
  if (decision !== "keep" && decision !== "revoke") {
    problems.push({
      ...(decision === undefined ? source.valueAt(path) : source.valueAt([...path, "decision"])),
      message:
        decision === undefined
          ? `\`decision\` is missing from grant \`${id}\`: write keep or revoke`
          : `\`decision\` of grant \`${id}\` must be keep or revoke`,
    });
  }
  const reasonValue = grant.reason ?? "";
  if (typeof reasonValue !== "string") {
    problems.push({ ...source.valueAt([...path, "reason"]), message: "`reason` must be text" });
  }
  const reason = typeof reasonValue === "string" ? reasonValue.trim() : "";
  if (decision === "revoke" && reason === "") {
    problems.push({
      ...source.valueAt([...path, grant.reason === undefined ? "decision" : "reason"]),
      message: `grant \`${id}\` is revoked without a reason: write why in \`reason\``,
    });
  }
  if (problems.length > before) return null;
  return {
    id,
    kind: kind as GrantKind,
    account,
    person,
    repositories: repositories as string[],
    role,
    twoFactor: twoFactor as TwoFactor,
    lastActivity,
    since,
    decision: decision as "keep" | "revoke",
    reason,
    line,
  };
}

function compareWithOpened(
  source: YamlSource,
  review: ParsedReview,
  openedText: string,
  problems: Problem[],
  places: ReadonlyMap<ReviewDecision, number>,
): void {
  const opened = parseReviewFile(source.file, openedText);
  if (!opened.review) {
    problems.push({
      ...source.valueAt([]),
      message: `the file as opened cannot be read (${opened.problems[0]?.message ?? "invalid"}), so no decision can be checked against it`,
    });
    return;
  }
  const header: Array<[keyof ParsedReview, string]> = [
    ["cycle", "review"],
    ["organization", "organization"],
    ["owner", "owner"],
    ["openedAt", "opened_at"],
  ];
  for (const [field, key] of header) {
    if (review[field] !== opened.review[field]) {
      problems.push({
        ...source.valueAt([key]),
        message: `\`${key}\` was ${JSON.stringify(opened.review[field])} when opened: change only decision and reason`,
      });
    }
  }
  const openedById = new Map(opened.review.decisions.map((grant) => [grant.id, grant]));
  const decided = new Set<string>();
  review.decisions.forEach((decision) => {
    const index = places.get(decision) ?? 0;
    const path = ["grants", index];
    decided.add(decision.id);
    const original = openedById.get(decision.id);
    if (!original) {
      problems.push({
        ...source.valueAt([...path, "id"]),
        message: `grant \`${decision.id}\` was not in the review as opened: a decision may only name a grant listed for review`,
      });
      return;
    }
    for (const [key, field] of GRANT_FIELDS) {
      const now = decision[field];
      const then = original[field];
      const same =
        Array.isArray(now) && Array.isArray(then) ? now.join("\n") === then.join("\n") : now === then;
      if (!same) {
        problems.push({
          ...source.valueAt([...path, key]),
          message: `\`${key}\` of grant \`${decision.id}\` was changed (opened as ${JSON.stringify(then)}): change only decision and reason`,
        });
      }
    }
  });
  // A grant whose entry has other problems is still there: only an id missing from every entry was removed.
  const grants: unknown = (source.value as { grants?: unknown }).grants;
  const written = new Set(
    (Array.isArray(grants) ? grants : []).flatMap((grant: unknown) =>
      isRecord(grant) && typeof grant.id === "string" ? [grant.id] : [],
    ),
  );
  for (const grant of opened.review.decisions) {
    if (!decided.has(grant.id) && !written.has(grant.id)) {
      problems.push({
        ...source.keyAt(["grants"]),
        message: `grant \`${grant.id}\` was removed from the review: keep every grant and decide it (keep or revoke)`,
      });
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function plain(problem: Problem): ReviewProblem {
  return { file: problem.file, line: problem.line, column: problem.column, message: problem.message };
}

/** Words YAML (1.1 or 1.2) would read as something other than text when written bare. */
const RESERVED = /^(?:y|n|yes|no|true|false|on|off|null|~)$/i;
const PLAIN = /^[A-Za-z_][A-Za-z0-9_./@+:-]*$/;

/** A YAML scalar: bare when unambiguous, else double-quoted (JSON's escaping is valid YAML). */
function scalar(value: string): string {
  if (PLAIN.test(value) && !RESERVED.test(value) && !value.endsWith(":")) return value;
  return JSON.stringify(value);
}

/** Text for a comment line: a newline in a name must not end the comment. */
function oneLine(value: string): string {
  return value.replace(/[\r\n\u2028\u2029]+/g, " ");
}
