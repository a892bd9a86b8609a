/**
 * soc2-bot access-review open|check|apply: the quarter's access review from the command line (the
 * app opens the reviews itself after a scheduled audit; these are for a first run, a check of a
 * file before it is pushed, and removing what a review revoked when the policy lets the bot).
 */
import { readFile } from "node:fs/promises";
import {
  ACCESS_REVIEW_BRANCH_PREFIX,
  applyRemovals,
  accessReviewSettings,
  parseReviewFile,
  plannedRemovals,
} from "../access-review/index.js";
import { UsageError } from "../errors.js";
import { peopleDirectory } from "../policy/people.js";
import {
  activityDays,
  collectAccessSnapshot,
  findingsRepository,
  openReviews,
} from "../pipeline/access-reviews.js";
import { policySetFor } from "../pipeline/policies.js";
import { hostFromEnvironment } from "../providers/index.js";
import type { CodeHost } from "../providers/types.js";
import type { Snapshot } from "../model/index.js";
import { terminalText } from "./table.js";
import { EXIT, readPolicyFiles, type Io } from "./main.js";
import type {
  AccessReviewApplyOptions,
  AccessReviewCheckOptions,
  AccessReviewOpenOptions,
} from "./program.js";
import { checkReachable } from "./reachable.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** `access-review check FILE [--opened FILE]`: 0 when the file is a valid review, 2 with each problem as file:line:column. */
export async function accessReviewCheckCommand(
  file: string,
  options: AccessReviewCheckOptions,
  io: Io,
): Promise<number> {
  const text = await readText(file);
  const opened = options.opened === undefined ? undefined : await readText(options.opened);
  const parsed = parseReviewFile(file, text, opened);
  if (parsed.review === null) {
    for (const problem of parsed.problems) {
      io.stderr(`${problem.file}:${problem.line}:${problem.column} ${terminalText(problem.message)}\n`);
    }
    return EXIT.usage;
  }
  const revoked = parsed.review.decisions.filter((decision) => decision.decision === "revoke").length;
  io.stdout(
    `ok    ${file}: review ${terminalText(parsed.review.cycle)} of ${terminalText(parsed.review.owner)}, ` +
      `${parsed.review.decisions.length} grant(s), ${revoked} revoked` +
      `${opened === undefined ? " (not compared with the file as opened: --opened FILE)" : ""}\n`,
  );
  return EXIT.ok;
}

/** `access-review open`: this cycle's review per owner, each once; exit 1 when an owner's access could not all be read. */
export async function accessReviewOpenCommand(options: AccessReviewOpenOptions, io: Io): Promise<number> {
  const { host, organization, snapshot, policy, at } = await collect(options);
  const settings = accessReviewSettings(policy);
  if (!settings.enabled) {
    io.stderr(
      "note: cc6.access-review-completed is off in the policy: the reviews are opened, but no audit judges them until it is turned on\n",
    );
  }
  const outcome = await openReviews({
    host,
    organization,
    policy,
    snapshot,
    at,
    ...(options.dryRun !== undefined && { dryRun: options.dryRun }),
  });
  if (outcome.notDue) {
    io.stdout(`nothing to open: ${terminalText(outcome.notDue)}\n`);
    return EXIT.ok;
  }
  if (outcome.listError)
    io.stderr(`note: the reviews already opened could not be listed: ${terminalText(outcome.listError)}\n`);
  let refused = 0;
  for (const review of outcome.reviews) {
    const where = review.url ? ` ${review.url}` : "";
    const what = `${outcome.cycle.id} ${terminalText(review.owner)}: ${review.grants} grant(s) in ${terminalText(review.path)}`;
    switch (review.status) {
      case "opened":
        io.stdout(`opened   ${what}${where}\n`);
        break;
      case "exists":
        io.stdout(`exists   ${what}${where}\n`);
        break;
      case "dry-run":
        io.stdout(`would open ${what} on ${terminalText(review.branch)}\n`);
        break;
      case "refused":
        refused += 1;
        io.stdout(`REFUSED  ${what}: ${terminalText(review.why ?? "")}\n`);
        break;
    }
  }
  if (outcome.reviews.length === 0)
    io.stdout(`nothing to open: no grant was found for ${outcome.cycle.id}\n`);
  return refused > 0 ? EXIT.findings : EXIT.ok;
}

/** `access-review apply`: removes what signed-off reviews revoked and is still present (apply: true only). */
export async function accessReviewApplyCommand(options: AccessReviewApplyOptions, io: Io): Promise<number> {
  const { host, organization, snapshot, policy } = await collect(options);
  const settings = accessReviewSettings(policy);
  if (!settings.revocation.apply && !options.dryRun) {
    throw new UsageError(
      "the policy does not let soc2-bot remove access: set `apply: true` under cc6.revocations-applied " +
        "(with write permission: GitHub administration:write and members:write; GitLab Maintainer or Owner), or use --dry-run",
    );
  }
  const reviewHost = host.accessReviews?.(findingsRepository(organization, policy));
  if (!reviewHost) throw new UsageError(`this host (${host.host}) does not hold access reviews`);
  const reviews = snapshot.accessReviews ?? (await reviewHost.listReviews(ACCESS_REVIEW_BRANCH_PREFIX));
  if (!reviews.known) {
    throw new UsageError(`cannot read the access reviews: ${reviews.permission} (${reviews.reason})`);
  }
  const planned = plannedRemovals(
    reviews.value,
    snapshot,
    settings.review,
    peopleDirectory(policy.people, host.host),
  );
  if (planned.length === 0) {
    io.stdout("nothing to remove: every grant a signed-off review revoked is gone (or cannot be read)\n");
    return EXIT.ok;
  }
  const outcomes = await applyRemovals(planned, reviewHost, options.dryRun === true);
  let failed = 0;
  for (const outcome of outcomes) {
    const target = `${outcome.removal.kind} ${terminalText(outcome.removal.account)}${outcome.removal.repository ? ` on ${terminalText(outcome.removal.repository)}` : ""}`;
    const why = `(${terminalText(outcome.review)}: ${terminalText(outcome.grant)})`;
    if (outcome.status === "failed" || outcome.status === "skipped") failed += 1;
    const word = { removed: "removed ", "dry-run": "would remove", failed: "FAILED  ", skipped: "SKIPPED " }[
      outcome.status
    ];
    io.stdout(`${word} ${target} ${why}${outcome.error ? `: ${terminalText(outcome.error)}` : ""}\n`);
  }
  return failed > 0 ? EXIT.findings : EXIT.ok;
}

interface HostOptions {
  org?: string;
  gitlabGroup?: string;
  policy?: string[];
}

async function collect(options: HostOptions): Promise<{
  host: CodeHost;
  organization: string;
  snapshot: Snapshot;
  policy: ReturnType<typeof policySetFor>["organization"];
  at: Date;
}> {
  const organization = options.org ?? options.gitlabGroup;
  if (!organization || (options.org && options.gitlabGroup)) {
    throw new UsageError(
      "access-review needs exactly one of --org NAME (GitHub) or --gitlab-group PATH (GitLab)",
    );
  }
  const kind = options.org ? "github" : "gitlab";
  await checkReachable(kind);
  const { host } = await hostFromEnvironment(kind, organization);
  const policyFiles = await readPolicyFiles(options.policy ?? []);
  const at = new Date();
  // The period only feeds each grant's last activity: as far back as cc6.inactive-access looks.
  const first = policySetFor({
    policyFiles: policyFiles.map((file) => ({
      layer: "organization" as const,
      repository: null,
      path: file.file,
      content: file.text,
    })),
  }).organization;
  const snapshot = await collectAccessSnapshot({
    host,
    organization,
    since: new Date(at.getTime() - activityDays(first) * DAY_MS),
    until: at,
    policyFiles,
  });
  return { host, organization, snapshot, policy: policySetFor(snapshot).organization, at };
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
  }
}
