/**
 * The GitHub Action (action.yml at the root), for teams that cannot host the app:
 *
 *   mode: audit   the command line's organization audit for a period (by default the last
 *                 `period-days` days up to now); the evidence package is written to `out`, which
 *                 the action's next step uploads as a workflow artifact.
 *   mode: check   the pull request of the workflow run (GITHUB_EVENT_PATH: a pull_request,
 *                 pull_request_target or pull_request_review event) judged as the app judges it,
 *                 reported as the "SOC 2 change management" check run, or as a commit status when
 *                 the token may not write check runs, and written to the job's summary.
 *
 * action.yml passes its inputs as SOC2_* variables (a composite action's steps get no INPUT_*);
 * the runner sets GITHUB_API_URL (GitHub Enterprise Server's API there), GITHUB_EVENT_PATH,
 * GITHUB_STEP_SUMMARY, GITHUB_SERVER_URL, GITHUB_REPOSITORY and GITHUB_RUN_ID.
 */
import { appendFile, readFile } from "node:fs/promises";
import { z } from "zod";
import { ProviderError, unreachableErrorIn, UsageError } from "../errors.js";
import { main as cli, type Io } from "../cli/main.js";
import { runChangeCheck } from "../pipeline/change-check.js";
import { gitHubApiUrl } from "../providers/github/api-origin.js";
import { publishCommitStatus } from "../providers/github/commit-status.js";
import { createGitHubClient, createGitHubHost } from "../providers/github/index.js";

type Env = Record<string, string | undefined>;

/**
 * Exit codes as the command line's: 0 pass, 1 a control fails or is unknown, 2 bad input, 3 the
 * code host unreachable.
 */
const EXIT = { ok: 0, findings: 1, usage: 2, unreachable: 3 } as const;

const DAY_MS = 24 * 60 * 60 * 1000;

/** What mode: check relies on in the event payload: the pull request and its repository. */
const PullRequestEvent = z.object({
  pull_request: z.object({
    number: z.number().int().positive(),
    head: z.object({ sha: z.string().regex(/^[0-9a-f]{40}$/) }),
  }),
  repository: z.object({
    full_name: z.string().regex(/^[^/]+\/[^/]+$/),
    owner: z.object({ login: z.string().min(1) }),
  }),
});

export async function runAction(env: Env, io: Io, now: Date = new Date()): Promise<number> {
  try {
    const mode = (env.SOC2_MODE ?? "").trim();
    if (mode === "audit") return await auditMode(env, io, now);
    if (mode === "check") return await checkMode(env, io, now);
    throw new UsageError(`mode must be "audit" or "check", not ${JSON.stringify(mode)}`);
  } catch (error) {
    const gone = unreachableErrorIn(error);
    if (gone) {
      io.stderr(`::error::soc2-bot: ${gone.message}\n`);
      return EXIT.unreachable;
    }
    if (error instanceof UsageError) {
      io.stderr(`::error::soc2-bot: ${error.message}\n`);
      return EXIT.usage;
    }
    if (error instanceof ProviderError) {
      const permission = error.details.permission;
      const needs =
        permission && !error.message.includes(permission) ? ` (the token needs ${permission})` : "";
      io.stderr(`::error::soc2-bot: ${error.message}${needs}\n`);
      return EXIT.findings;
    }
    throw error;
  }
}

/** The command line's `audit`, with the action's inputs as its options. */
async function auditMode(env: Env, io: Io, now: Date): Promise<number> {
  const organization = env.SOC2_ORGANIZATION?.trim() || env.GITHUB_REPOSITORY_OWNER?.trim();
  if (!organization) throw new UsageError("organization is not set (and GITHUB_REPOSITORY_OWNER is empty)");
  const until = env.SOC2_UNTIL?.trim() || now.toISOString();
  const days = Number(env.SOC2_PERIOD_DAYS?.trim() || "7");
  if (!Number.isInteger(days) || days < 1) throw new UsageError("period-days must be a whole number of days");
  const untilDate = new Date(/^\d{4}-\d{2}-\d{2}$/.test(until) ? `${until}T00:00:00Z` : until);
  if (Number.isNaN(untilDate.getTime())) throw new UsageError(`until: "${until}" is not a date`);
  const since = env.SOC2_SINCE?.trim() || new Date(untilDate.getTime() - days * DAY_MS).toISOString();
  const policies = (env.SOC2_POLICY ?? "")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  const args = [
    "audit",
    "--org",
    organization,
    "--since",
    since,
    "--until",
    until,
    "--out",
    env.SOC2_OUT?.trim() || "soc2-evidence",
    ...policies.flatMap((policy) => ["--policy", policy]),
    ...(env.SOC2_SKIP_FINDINGS === "true" ? ["--skip-findings"] : []),
    // A runner's disk is gone after the job: without DATABASE_URL there is no ledger to keep.
    ...(env.DATABASE_URL ? [] : ["--skip-ledger"]),
  ];
  io.stdout(`soc2-bot ${args.join(" ")}\n`);
  return cli(args, io);
}

async function checkMode(env: Env, io: Io, now: Date): Promise<number> {
  const token = env.GITHUB_TOKEN;
  if (!token)
    throw new UsageError(
      "token is empty: pass ${{ github.token }} or a token that can read the organization",
    );
  const event = await readEvent(env.GITHUB_EVENT_PATH);
  const repository = event.repository.full_name;
  const number = event.pull_request.number;
  const organization = event.repository.owner.login;
  const baseUrl = gitHubApiUrl(env);
  const octokit = createGitHubClient({ token, baseUrl, onPrimaryExhausted: "fail" });
  const host = createGitHubHost({ octokit, baseUrl });

  const outcome = await runChangeCheck(host, { repository, number }, { organization, now, publish: false });
  const { check, changeRequest } = outcome;
  const runUrl =
    env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined;
  const organizationRepository = host.policyLocation.organizationRepository(organization);
  const organizationPolicy = `${organizationRepository}:${host.policyLocation.file}`;
  const notes: string[] = [];
  if (
    outcome.policy &&
    repository !== organizationRepository &&
    !outcome.policy.sources.includes(organizationPolicy)
  ) {
    // GITHUB_TOKEN reads only the workflow's repository: the organization's .github repository then
    // answers 404, exactly as if it had no policy, and its locks would silently not apply.
    notes.push(
      `No organization policy was read from ${organizationPolicy}: if there is one, give the action a token that can read that repository (the workflow's GITHUB_TOKEN cannot).`,
    );
  }

  // The report is in the job's summary even when the token may write neither a check nor a status.
  if (env.GITHUB_STEP_SUMMARY) {
    const header = notes.map((note) => `> **Note:** ${note}\n\n`).join("");
    await appendFile(
      env.GITHUB_STEP_SUMMARY,
      `## ${check.name}: ${check.title}\n\n${header}${check.summary}\n`,
    );
  }
  const target = { repository, number, headSha: changeRequest.headSha };
  let reportedAs: string;
  try {
    await host.publishChangeCheck(target, check);
    reportedAs = `check run "${check.name}"`;
  } catch (error) {
    if (!(error instanceof ProviderError) || error.details.permission !== "checks:write") throw error;
    io.stderr(`::warning::soc2-bot: ${error.message}; reporting a commit status instead\n`);
    await publishCommitStatus(octokit, target, check, runUrl);
    reportedAs = `commit status "${check.name}"`;
  }

  for (const note of notes) io.stderr(`::warning::soc2-bot: ${note}\n`);
  io.stdout(
    `${repository}#${number} @ ${changeRequest.headSha}: ${check.conclusion}, ${check.title} (${reportedAs})\n`,
  );
  const failing = check.conclusion === "failure";
  return failing && env.SOC2_FAIL_ON_FINDINGS !== "false" ? EXIT.findings : EXIT.ok;
}

async function readEvent(path: string | undefined): Promise<z.infer<typeof PullRequestEvent>> {
  if (!path) throw new UsageError("GITHUB_EVENT_PATH is not set: mode: check runs in a workflow");
  let payload: unknown;
  try {
    payload = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new UsageError(`the event payload ${path} cannot be read: ${(error as Error).message}`);
  }
  const parsed = PullRequestEvent.safeParse(payload);
  if (!parsed.success) {
    throw new UsageError(
      "mode: check judges a pull request: run it on pull_request, pull_request_target or pull_request_review events",
    );
  }
  return parsed.data;
}
