import { resolve } from "node:path";
import { pushRecordOf, type AuditTrigger, type Ledger } from "../ledger/index.js";
import { UsageError } from "../errors.js";
import type { AuditProgress } from "../pipeline/audit.js";
import { runAuditJob } from "../pipeline/audit-run.js";
import { usePushRecord } from "../providers/github/index.js";
import { hostFromEnvironment } from "../providers/index.js";
import type { CodeHost } from "../providers/types.js";
import { alertOnObserved, findingsTracker } from "../pipeline/alerts.js";
import { syncFindings, type FindingsProgress } from "../reporters/findings/lifecycle.js";
import { checkFindingsRepository } from "./doctor.js";
import { dryRunHost } from "./dry-run.js";
import { collectGarbageEarly } from "./heap.js";
import { ledgerFor } from "./ledger.js";
import { EXIT, parseDate, readPolicyFiles, type Io } from "./main.js";
import type { AuditOptions } from "./program.js";
import { progressBar } from "./progress.js";
import { checkReachable } from "./reachable.js";
import { renderTotalsTable } from "./table.js";

export interface AuditRun {
  host: CodeHost;
  organization: string;
  since: Date;
  until: Date;
  policyFiles: { file: string; text: string }[];
  outDir: string;
  findings: boolean;
  concurrency?: number;
  now?: () => Date;
  /** Where the run and its evidence package are recorded; none: not recorded. */
  ledger?: Ledger;
  trigger?: AuditTrigger;
  /** stderr is a terminal (the progress bar is redrawn in place); default: process.stderr.isTTY. */
  stderrTerminal?: boolean;
  /** Milliseconds, for the progress bar's rate and ETA; default Date.now. */
  clock?: () => number;
}

export async function auditCommand(values: AuditOptions, io: Io): Promise<number> {
  const organization = values.org ?? values.gitlabGroup;
  if (!organization || (values.org && values.gitlabGroup)) {
    throw new UsageError("audit needs exactly one of --org NAME (GitHub) or --gitlab-group PATH (GitLab)");
  }
  const since = parseDate(values.since, "--since");
  const until = parseDate(values.until, "--until");
  if (!since || !until) throw new UsageError("audit needs --since DATE and --until DATE (the audit period)");
  if (since >= until) throw new UsageError("--since must be before --until");
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    throw new UsageError("--concurrency must be a whole number from 1 to 32");
  }
  // An unreachable host is said in seconds, before the clients' retries and before any collection.
  await checkReachable(values.org ? "github" : "gitlab");
  const connected = await hostFromEnvironment(values.org ? "github" : "gitlab", organization);
  const { stats } = connected;
  // --dry-run: read everything, write no issue (each write printed), record nothing in the ledger
  const host = values.dryRun ? dryRunHost(connected.host, io) : connected.host;
  const policyFiles = await readPolicyFiles(values.policy ?? []);
  // The findings repository is read now: one that is missing is said before the collection, not after.
  if (!values.skipFindings) await checkFindingsRepository(host, organization, policyFiles);
  const outDir = resolve(values.out ?? `out/audit-${organization.replace(/[^\w.-]+/g, "_")}`);
  // Opened before collecting: a ledger that cannot be used stops the audit now, not after an hour.
  const ledger = values.skipLedger || values.dryRun ? undefined : ledgerFor(values.ledger);
  await ledger?.open().catch(async (error: unknown) => {
    await ledger.close();
    throw error;
  });
  // Pushes the app recorded spare the audit GitHub's activity record where they are complete.
  if (ledger) usePushRecord(host, pushRecordOf(ledger));
  const code = await runAudit(
    {
      ...(ledger ? { ledger, trigger: "cli" as const } : {}),
      host,
      organization,
      since,
      until,
      policyFiles,
      outDir,
      findings: !values.skipFindings,
      concurrency,
    },
    io,
  ).finally(() => ledger?.close());
  const used = stats();
  io.stderr(
    `API requests: ${used.requests}${used.graphqlPoints ? `, GraphQL points: ${used.graphqlPoints}` : ""}\n`,
  );
  return code;
}

/**
 * collect -> evaluate -> report, for the CLI and the demo alike: one repository at a time
 * (runAuditJob), so memory stays flat however large the organization.
 */
export async function runAudit(run: AuditRun, io: Io): Promise<number> {
  // A one-shot command: most of an audit's peak memory was garbage of pages already read and
  // repositories already written (what is alive stays ~30 MB); collected early, the peak stays near it.
  collectGarbageEarly();
  // With a ledger, merges are judged by the rule and policy in force when they merged, as the ledger
  // observed them (kept in the snapshot written, so it evaluates to results.json again); then the
  // configuration read now is recorded as today's observation, as the app's scheduled audit does.
  const collecting = progressReporter(io, progressOptions(run));
  const audit = await runAuditJob({
    host: run.host,
    organization: run.organization,
    since: run.since,
    until: run.until,
    policyFiles: run.policyFiles,
    concurrency: run.concurrency,
    now: run.now,
    onProgress: collecting.onProgress,
    outDir: run.outDir,
    ...(run.ledger ? { ledger: run.ledger } : {}),
    log: { error: (object, message) => io.stderr(`soc2-bot: ${message}: ${JSON.stringify(object)}\n`) },
    source: { trigger: run.trigger ?? "cli" },
    findings: run.findings,
  }).finally(() => collecting.finish()); // an error's message starts on a line of its own, not after the bar
  if (run.ledger) {
    // recorded from the package just written: its files, and the figures counted while writing it
    const entry = await run.ledger.recordAuditRun({
      trigger: run.trigger ?? "cli",
      organization: run.organization,
      packageDir: run.outDir,
      written: audit.figures,
    });
    io.stderr(`recorded in the ledger (${run.ledger.location}): ${entry.stream} record ${entry.sequence}\n`);
  }
  const { counts } = audit;
  const results = counts.pass + counts.fail + counts.unknown + counts.excepted + counts["not-applicable"];
  io.stdout(`${renderTotalsTable(audit.report)}\n\n`);
  io.stdout(
    `${results} results: ${counts.pass} pass, ${counts.fail} fail, ${counts.unknown} unknown, ${counts.excepted} excepted\n`,
  );
  if (run.findings) {
    const target = findingsTracker(run.host, run.organization, audit.organizationPolicy);
    const writing = findingsProgressReporter(io, progressOptions(run));
    const summary = await syncFindings(target.tracker, audit.findings, {
      label: target.label,
      evaluatedAt: run.until,
      scope: "audit",
      lockKey: target.lockKey,
      groupChangeRequests: target.groupChangeRequests,
      onProgress: writing.onProgress,
    }).finally(() => writing.finish());
    io.stdout(
      `findings in ${target.repository}: ${summary.created.length} opened, ${summary.updated.length} updated, ` +
        `${summary.reopened.length} reopened, ${summary.closed.length} closed` +
        (summary.folded.length > 0 ? `, ${summary.folded.length} folded into their repository's issue` : "") +
        (summary.failed.length > 0
          ? `, ${summary.failed.length} writes failed (retried by the next sync)`
          : "") +
        "\n",
    );
    // A write the host refused is not a missing permission: its own words say what it refused.
    for (const failed of summary.failed) {
      const what = failed.issue === undefined ? failed.finding : `#${failed.issue} ${failed.finding}`;
      const why =
        failed.applied === "no"
          ? `refused (${[failed.status, failed.fields.join(", ")].filter(Boolean).join(", ")}): ${failed.message}`
          : `answer lost, may have been applied: ${failed.message}`;
      io.stderr(`findings: ${failed.action} of ${what}: ${why}\n`);
    }
    // A configuration weakened (or restored) since the ledger's last observation, as the app's
    // scheduled audit alerts on it: the command line run from a schedule is how many teams audit.
    const alerted = run.ledger
      ? await alertOnObserved({
          ledger: run.ledger,
          host: run.host,
          organization: run.organization,
          observed: audit.observed,
          organizationPolicy: audit.organizationPolicy,
          now: run.until,
        })
      : 0;
    if (alerted > 0) io.stdout(`configuration weakened or restored since the last observation: ${alerted}\n`);
  }
  io.stdout(
    `\nevidence package (${audit.files.length} files): ${run.outDir}\nopen ${resolve(run.outDir, "report.html")}\n`,
  );
  return counts.fail > 0 || counts.unknown > 0 ? EXIT.findings : EXIT.ok;
}

function progressOptions(run: AuditRun): { tty: boolean; now?: () => number } {
  return {
    tty: run.stderrTerminal ?? process.stderr.isTTY === true,
    ...(run.clock ? { now: run.clock } : {}),
  };
}

/** The findings writes with rate and ETA, and each wait for the host's content-creation limit. */
function findingsProgressReporter(
  io: Io,
  options: { tty: boolean; now?: () => number },
): { onProgress: (progress: FindingsProgress) => void; finish: () => void } {
  const bar = progressBar({
    ...options,
    label: "findings",
    unit: "writes",
    write: (text) => io.stderr(text),
  });
  const onProgress = (progress: FindingsProgress): void => {
    if (progress.waitingSeconds !== undefined) {
      bar.note(
        `findings: ${progress.done}/${progress.total} writes; waiting ${progress.waitingSeconds} s for the host's content-creation limit`,
      );
      return;
    }
    // a handful of writes is over before a bar would say anything
    if (progress.total >= 20) bar.update(progress.done, progress.total);
  };
  return { onProgress, finish: () => bar.finish() };
}

/** Collection: a bar redrawn on a terminal, plain lines (every tenth or 30 s) otherwise. */
function progressReporter(
  io: Io,
  options: { tty: boolean; now?: () => number },
): { onProgress: (progress: AuditProgress) => void; finish: () => void } {
  const bar = progressBar({ ...options, unit: "repositories", write: (text) => io.stderr(text) });
  const onProgress = (progress: AuditProgress): void => {
    if (progress.phase === "organization") return io.stderr("collecting the organization...\n");
    if (progress.phase === "repositories") return io.stderr(`collecting ${progress.total} repositories...\n`);
    if (progress.phase === "done") {
      bar.finish();
      return io.stderr(
        `collected ${progress.total} repositories, ${progress.changeRequests} merged changes\n`,
      );
    }
    bar.update(
      progress.done,
      progress.total,
      `${progress.changeRequests} changes${progress.repository ? `, ${progress.repository}` : ""}`,
    );
  };
  return { onProgress, finish: () => bar.finish() };
}
