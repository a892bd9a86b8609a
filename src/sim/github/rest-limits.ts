/**
 * GitHub's content limits, refused as GitHub refuses them. The limits are GitHub's own (the same
 * numbers the app clips to, imported from one place so the two cannot drift apart silently), and the
 * answers are the 422 bodies GitHub sends, so a regression in what the app writes fails a test
 * instead of failing in production.
 */
import { characterLength, GITHUB_LIMITS, utf8Length } from "../../text/limits.js";
import type { RouteAnswer } from "./rest-common.js";

interface FieldError {
  resource: string;
  code: string;
  field: string;
  message: string;
}

const DOCS = {
  createCheckRun: "https://docs.github.com/rest/checks/runs#create-a-check-run",
  updateCheckRun: "https://docs.github.com/rest/checks/runs#update-a-check-run",
  createIssue: "https://docs.github.com/rest/issues/issues#create-an-issue",
  updateIssue: "https://docs.github.com/rest/issues/issues#update-an-issue",
  createComment: "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
} as const;

function validationFailed(errors: FieldError[], documentationUrl: string): RouteAnswer {
  return {
    status: 422,
    body: { message: "Validation Failed", errors, documentation_url: documentationUrl, status: "422" },
  };
}

/**
 * A check run's output. GitHub checks the request against its schema first (summary and text have a
 * maxLength of 65535 characters: "Invalid request. Only 65535 characters are allowed; N were
 * supplied."), then the stored size in bytes ("summary exceeds a maximum bytesize of 65535").
 * The title's limit is not documented; it is held to the same byte size.
 */
export function checkRunOutputRefusal(output: unknown, update: boolean): RouteAnswer | undefined {
  if (typeof output !== "object" || output === null) return undefined;
  const fields = output as Record<string, unknown>;
  const documentationUrl = update ? DOCS.updateCheckRun : DOCS.createCheckRun;
  const limits = {
    title: GITHUB_LIMITS.checkRunTitleBytes,
    summary: GITHUB_LIMITS.checkRunSummaryBytes,
    text: GITHUB_LIMITS.checkRunTextBytes,
  };
  for (const field of ["summary", "text"] as const) {
    const value = fields[field];
    if (typeof value !== "string") continue;
    const supplied = characterLength(value);
    if (supplied > limits[field]) {
      return {
        status: 422,
        body: {
          message: `Invalid request.\n\nOnly ${limits[field]} characters are allowed; ${supplied} were supplied.`,
          documentation_url: documentationUrl,
          status: "422",
        },
      };
    }
  }
  const errors = (["title", "summary", "text"] as const).flatMap((field): FieldError[] => {
    const value = fields[field];
    if (typeof value !== "string" || utf8Length(value) <= limits[field]) return [];
    return [
      {
        resource: "CheckRun",
        code: "custom",
        field,
        message: `${field} exceeds a maximum bytesize of ${limits[field]}`,
      },
    ];
  });
  return errors.length > 0 ? validationFailed(errors, documentationUrl) : undefined;
}

/** An issue's title (256 characters) and body (65,536 characters), as created or updated. */
export function issueRefusal(body: Record<string, unknown>, update: boolean): RouteAnswer | undefined {
  const errors: FieldError[] = [];
  const { title, body: text } = body;
  if (typeof title === "string" && characterLength(title) > GITHUB_LIMITS.issueTitleCharacters) {
    errors.push({
      resource: "Issue",
      code: "custom",
      field: "title",
      message: `title is too long (maximum is ${GITHUB_LIMITS.issueTitleCharacters} characters)`,
    });
  }
  if (typeof text === "string" && characterLength(text) > GITHUB_LIMITS.issueBodyCharacters) {
    errors.push({
      resource: "Issue",
      code: "custom",
      field: "body",
      message: `body is too long (maximum is ${GITHUB_LIMITS.issueBodyCharacters} characters)`,
    });
  }
  return errors.length > 0
    ? validationFailed(errors, update ? DOCS.updateIssue : DOCS.createIssue)
    : undefined;
}

/** An issue or pull-request comment's body (65,536 characters). */
export function commentRefusal(text: unknown): RouteAnswer | undefined {
  if (typeof text !== "string" || characterLength(text) <= GITHUB_LIMITS.commentBodyCharacters)
    return undefined;
  return validationFailed(
    [
      {
        resource: "IssueComment",
        code: "unprocessable",
        field: "data",
        message: `Body is too long (maximum is ${GITHUB_LIMITS.commentBodyCharacters} characters)`,
      },
    ],
    DOCS.createComment,
  );
}
