/**
 * The audit job shared by `soc2-bot audit` (and the demo) and the app's scheduled audit: collect,
 * judge and write ONE REPOSITORY AT A TIME. Each repository is collected, its merges judged as of
 * the merge (from the ledger), evaluated, its configuration observed, and its part of the evidence
 * package spooled to disk before it is let go; the organization's controls are evaluated once. What
 * stays in memory is small: counts, each repository's collected summary for the ledger record, and
 * (for a findings sync) the results. The package is assembled at the end and replaces the old one
 * whole.
 */
import { CONTROLS } from "../controls/index.js";
import type { AnyControl, Outcome, Result } from "../controls/types.js";
import {
  evaluateOrganization,
  reportHeader,
  type EvaluationReport,
  type PolicySet,
} from "../engine/index.js";
import {
  collectedOfRepository,
  collectedSummaryOf,
  type CollectedRepositoryFacts,
  type CollectedSummary,
} from "../ledger/collected.js";
import { coverageFromLedger, DEFAULT_JUDGED_WITHIN_MINUTES } from "../ledger/coverage.js";
import type { Ledger } from "../ledger/ledger.js";
import {
  recordSnapshotObservationsSafely,
  type ObservationSource,
  type RecordedObservation,
} from "../ledger/observations.js";
import type { AuditRunFigures } from "../ledger/records.js";
import {
  evaluateRepositoryAsOfMerge,
  repositoryAsOfMemo,
  type RepositoryAsOfMemo,
  type TimelineLog,
} from "../ledger/timeline.js";
import { recordAuditAccessReviewsSafely } from "../ledger/access-reviews.js";
import { SNAPSHOT_SCHEMA_VERSION, type PolicyFile, type Snapshot } from "../model/index.js";
import { EvidencePackageStream } from "../reporters/files/index.js";
import { TOOL_VERSION } from "../version.js";
import { collectAuditStream, type AuditOptions, type AuditStart, type CollectedRepository } from "./audit.js";
import { policySetFor, policySetForOffThread } from "./policies.js";
import { accessFacts, type AccessFacts } from "./access-facts.js";

export interface AuditJob extends AuditOptions {
  /** Where the evidence package goes (replaced whole when complete). */
  outDir: string;
  /** Merges judged as of the merge and configuration observed in it; none: today's rules, nothing recorded. */
  ledger?: Ledger;
  log: TimelineLog;
  source: ObservationSource;
  /**
   * The results as reported, per repository, when they differ from the evaluation's (the app holds
   * a fresh merge's required checks as its webhook does). One result per result, in the same order.
   */
  asReported?: (snapshot: Snapshot, policies: PolicySet, results: Result[], at: Date) => Result[];
  /** Keep what a findings sync needs (AuditOutcome.findings). */
  findings?: boolean;
  controls?: readonly AnyControl[];
}

export interface AuditOutcome {
  /** The package's files, manifest last. */
  files: string[];
  /** The report without its results (they are in the package): header and totals. */
  report: EvaluationReport;
  /** The organization's policy (where findings go, how alerts are raised). */
  organizationPolicy: PolicySet["organization"];
  /** The configuration observed and recorded in the ledger (for weakening alerts). */
  observed: RecordedObservation[];
  /** Every result in report order, pass and n/a ones without evidence; empty unless asked for. */
  findings: Result[];
  /** What the ledger's audit-run record says of the run besides its files. */
  figures: AuditRunFigures;
  counts: Record<Outcome, number>;
}

/** Collects, judges and writes the audit one repository at a time; see the file's comment. */
export async function runAuditJob(job: AuditJob): Promise<AuditOutcome> {
  const controls = job.controls ?? CONTROLS;
  const at = job.until;
  const stream = await EvidencePackageStream.open(job.outDir, {
    controls,
    ...(job.findings ? { findings: true } : {}),
  });
  const collected: CollectedRepositoryFacts[] = [];
  const repositoryFiles: PolicyFile[][] = [];
  const observed: RecordedObservation[] = [];
  // the organization's access controls read collaborators and latest activity of every repository
  const access = accessFacts();
  // A repository whose merged changes come in chunks (thousands of them): what its chunks leave for
  // its last part, and what is joined to the audit's once its collection did not fail.
  const streaming = new Map<number, Streaming>();
  // the controls of changes, judged a chunk at a time; the repository's own once, with its last part
  const changeControls = controls.filter((control) => control.appliesTo !== "repository");
  let start: AuditStart | undefined;
  let organizationPolicies: Promise<PolicySet> | undefined;
  /** Each repository's own policies (those with a layer of their own) while its chunks are judged. */
  const repositoryPolicies = new Map<number, Promise<PolicySet>>();
  const now = job.now ?? (() => new Date());

  /**
   * One repository, or a chunk of its changes (partial), judged as of each merge and spooled. Its
   * configuration is recorded as observed once every merge is judged (below): an observation made
   * now is never read as one from before a merge.
   */
  const judgeAndSpool = async (
    repository: CollectedRepository,
    index: number,
    judgedBy: readonly AnyControl[],
    memo: RepositoryAsOfMemo,
    partial: boolean,
  ): Promise<void> => {
    const { collector, organization, policyFiles } = start!;
    const view: Snapshot = {
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      collector,
      collectedAt: now().toISOString(),
      period: { since: job.since.toISOString(), until: job.until.toISOString() },
      unreadable: [],
      organization,
      repositories: [repository.repository],
      changeRequests: repository.changeRequests,
      directPushes: repository.directPushes,
      policyFiles: [...policyFiles, ...repository.policyFiles],
    };
    // A broken repository layer stops the audit with its position, as evaluating the whole
    // snapshot did. Parsed off the event loop (an audit in the app's process must not hold its webhooks), once per
    // repository however many chunks its changes come in.
    let policies = repository.policyFiles.length === 0 ? await organizationPolicies! : undefined;
    if (!policies) {
      const parsed = repositoryPolicies.get(index) ?? policySetForOffThread(view);
      if (partial) repositoryPolicies.set(index, parsed);
      else repositoryPolicies.delete(index);
      policies = await parsed;
    }
    const judged = await evaluateRepositoryAsOfMerge(job.ledger, job.log, view, policies, at, judgedBy, memo);
    const reported = job.asReported?.(view, policies, judged.results, at);
    await stream.addRepository({
      index,
      snapshot: judged.snapshot,
      results: reported ?? judged.results,
      ...(reported ? { sortedAs: judged.results } : {}),
      ...(partial ? { partial: true } : {}),
    });
  };
  try {
    const header = await collectAuditStream(job, {
      start(started) {
        start = started;
        // the organization's layer is parsed once; a repository with its own layer adds it
        organizationPolicies = policySetForOffThread({ policyFiles: started.policyFiles });
        // awaited where used; a broken layer fails the audit there, not as an unhandled rejection
        organizationPolicies.catch(() => {});
      },
      async changes(chunk, index) {
        const part = streaming.get(index) ?? {
          memo: repositoryAsOfMemo(),
          merges: [],
          access: accessFacts(),
        };
        streaming.set(index, part);
        const collected: CollectedRepository = {
          repository: chunk.repository,
          changeRequests: chunk.changeRequests,
          directPushes: [],
          policyFiles: chunk.policyFiles,
        };
        await judgeAndSpool(collected, index, changeControls, part.memo, true);
        part.merges.push(...collectedOfRepository(chunk.repository, chunk.changeRequests).merges);
        part.access.add(null, chunk.changeRequests, []);
      },
      discard(index) {
        streaming.delete(index);
        repositoryPolicies.delete(index);
        stream.discardRepository(index);
      },
      async repository(repository, index) {
        const part = streaming.get(index);
        streaming.delete(index);
        await judgeAndSpool(repository, index, controls, part?.memo ?? repositoryAsOfMemo(), false);
        const facts = collectedOfRepository(repository.repository, repository.changeRequests);
        collected[index] = part ? { ...facts, merges: [...part.merges, ...facts.merges] } : facts;
        if (part) {
          part.access.add(repository.repository, repository.changeRequests, repository.directPushes);
          access.join(part.access);
        } else access.add(repository.repository, repository.changeRequests, repository.directPushes);
        repositoryFiles[index] = repository.policyFiles;
        // let webhooks in between repositories: an audit in the app's process never holds it long
        await new Promise<void>((resolve) => setImmediate(resolve));
      },
    });

    const policies = (await organizationPolicies) ?? policySetFor({ policyFiles: header.policyFiles });
    const snapshot: Snapshot = {
      ...header.snapshot,
      repositories: [],
      changeRequests: [],
      directPushes: [],
      policyFiles: header.policyFiles,
    };
    if (job.ledger) {
      // The organization, then each repository (read back from the package's spool, one at a time),
      // observed at the collection time, with the policy files that govern it.
      observed.push(...(await recordSnapshotObservationsSafely(job.ledger, job.log, snapshot, job.source)));
      for await (const { index, repository } of stream.repositories()) {
        const recorded = await recordSnapshotObservationsSafely(
          job.ledger,
          job.log,
          {
            collector: header.snapshot.collector,
            collectedAt: header.snapshot.collectedAt,
            organization: null,
            repositories: [repository],
            policyFiles: [...header.policyFiles, ...(repositoryFiles[index] ?? [])],
          },
          job.source,
        );
        observed.push(...recorded);
      }
    }
    const organizationResults = evaluateOrganization(
      { ...snapshot, ...access.snapshotPart() },
      policies,
      at,
      controls,
    );
    const summary = collectedSummaryOf(
      header.snapshot.unreadable,
      collected.filter((entry) => entry !== undefined),
    );
    const coverage = job.ledger
      ? await coverageFromLedger(job.ledger, {
          since: job.since,
          until: job.until,
          judgedWithinMinutes:
            policies.organization.ledger?.judgedWithinMinutes ?? DEFAULT_JUDGED_WITHIN_MINUTES,
          pending: [
            {
              label: "this audit",
              host: header.snapshot.collector.host,
              period: header.snapshot.period!,
              collected: summary,
            },
          ],
        })
      : null;
    const report = reportHeader(header.snapshot, policies, at);
    // each access review and revocation check, as it changed since the ledger last saw it
    await recordAuditAccessReviewsSafely(job.ledger, job.log, {
      snapshot: header.snapshot,
      organization: job.organization,
      policyFiles: header.policyFiles,
      results: organizationResults,
      evaluatedAt: report.evaluatedAt,
    });
    const written = await stream.finish({
      snapshot: header.snapshot,
      policyFiles: [...header.policyFiles, ...repositoryFiles.flatMap((files) => files ?? [])],
      asOfMerge: job.ledger !== undefined,
      report,
      organizationResults,
      toolVersion: TOOL_VERSION,
      coverage,
    });
    const counts = { pass: 0, fail: 0, unknown: 0, excepted: 0, "not-applicable": 0 };
    for (const row of Object.values(written.totals)) {
      for (const outcome of Object.keys(counts) as Outcome[]) counts[outcome] += row[outcome];
    }
    return {
      files: written.files,
      report: { ...report, results: [], totals: written.totals },
      organizationPolicy: policies.organization,
      observed,
      findings: written.findings,
      counts,
      figures: figuresOf(report, written.totals, written.population, summary),
    };
  } catch (error) {
    await stream.abort();
    throw error;
  }
}

function figuresOf(
  report: Omit<EvaluationReport, "results" | "totals">,
  totals: EvaluationReport["totals"],
  population: AuditRunFigures["population"],
  collected: CollectedSummary,
): AuditRunFigures {
  return {
    host: report.snapshot.host,
    baseUrl: report.snapshot.baseUrl,
    period: report.snapshot.period,
    collectedAt: report.snapshot.collectedAt,
    evaluatedAt: report.evaluatedAt,
    actor: report.snapshot.actor,
    policy: report.policy,
    totalsByControl: totals,
    population,
    collected,
  };
}

/** A repository whose changes come in chunks, between its first chunk and its last part. */
interface Streaming {
  memo: RepositoryAsOfMemo;
  merges: CollectedRepositoryFacts["merges"];
  access: AccessFacts;
}
