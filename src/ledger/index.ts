/**
 * The evidence ledger: an append-only, hash-chained record of what soc2-bot judged and audited, in
 * PostgreSQL (DATABASE_URL) or an embedded PGlite folder. Other folders import only this file.
 */
export {
  openLedger,
  ledgerOptionsFromEnvironment,
  DEFAULT_LEDGER_DIR,
  type Ledger,
  type LedgerOptions,
  type RecordedEntry,
  type AuditRunRecord,
  type VerificationReport,
  type JudgementInput,
} from "./ledger.js";
export {
  exportPeriod,
  describeBreak,
  LedgerBrokenError,
  ExportTargetError,
  EXPORT_MANIFEST,
} from "./export.js";
export type { ExportOptions, ExportSummary, ExportedRun } from "./export.js";
export { LedgerUnavailableError, DEFAULT_SCHEMA, LOCK_FILE, type Backend } from "./database.js";
export { canonicalJson, recordHash, GENESIS, type ChainBreak, type ChainedRecord } from "./chain.js";
export { MIGRATIONS } from "./migrations.js";
export {
  AUDIT_RUN,
  JUDGEMENT,
  auditStream,
  judgementStream,
  type AuditRunContent,
  type AuditRunInput,
  type AuditTrigger,
  type JudgementContent,
  type JudgementTrigger,
} from "./records.js";
export { recordJudgementSafely } from "./safe.js";
export {
  DELIVERY_LEASE_MS,
  ledgerChangeEvaluations,
  ledgerDeliveryClaims,
  memoryChangeEvaluations,
  memoryDeliveryClaims,
  type ChangeEvaluations,
  type DeliveryClaims,
} from "./deliveries.js";
export { coverageFromLedger, DEFAULT_JUDGED_WITHIN_MINUTES, type CoverageOptions } from "./coverage.js";
export * from "./schedule.js";
export {
  OBSERVATION,
  observationStream,
  organizationFacts,
  recordObservation,
  recordSnapshotObservations,
  recordSnapshotObservationsSafely,
  type RecordedObservation,
  repositoryFacts,
  ruleAsOf,
  type ObservationContent,
  type ObservationSource,
  type ObservedFacts,
  type RuleAsOf,
} from "./observations.js";
export {
  changeAsOfMerge,
  evaluateAsOfMerge,
  evaluateAsOfMergeSafely,
  RULE_AS_OF_MERGE,
  type MergeRuleUsed,
} from "./timeline.js";
export {
  judgeAndObserve,
  mergesAsOf,
  POLICY_AS_OF_MERGE,
  type AsOfMergeOptions,
  type JudgedAsOfMerge,
} from "./timeline.js";
export { policyIn, type ObservedPolicyFile, type PolicyAsOf } from "./observations.js";
export {
  weakeningsBetween,
  weakeningWindows,
  weakeningWindowsOf,
  changedBy,
  type ConfigurationWeakening,
  type ObservationPoint,
  type WeakeningKind,
  type WeakeningWindow,
} from "./weakening.js";
export {
  accessPoints,
  accessFileName,
  accessRowsOf,
  writePeriodFiles,
  TIMELINE_FILES,
  type PeriodFile,
  type PeriodFilesOptions,
  type PeriodFilesSummary,
} from "./period.js";
export type { ExportedFile } from "./export.js";
export { PUSH, PushContent, pushStream, recordPush, recordedPushes, pushRecordOf } from "./pushes.js";
export {
  ACCESS_REVIEW,
  ACCESS_REVIEW_FILES,
  REVOCATION_VERIFICATION,
  accessReviewStream,
  recordAccessReviews,
  recordAuditAccessReviews,
  recordAuditAccessReviewsSafely,
  writeAccessReviewFiles,
  type AccessReviewContent,
  type AccessReviewExportSummary,
  type AccessReviewsInput,
  type RecordedAccessReviews,
  type RevocationVerificationContent,
} from "./access-reviews.js";
