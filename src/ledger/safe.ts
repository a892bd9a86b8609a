import type { JudgementInput, Ledger } from "./ledger.js";

export interface LedgerLog {
  error(object: object, message: string): void;
}

/**
 * Records a judgement the app has already published. The ledger being down must never cost a pull
 * request its check run or the app its process: the failure is logged (the gap it leaves shows in
 * coverage later) and the app goes on.
 */
export async function recordJudgementSafely(
  ledger: Ledger | undefined,
  log: LedgerLog,
  input: JudgementInput,
): Promise<void> {
  if (!ledger) return;
  try {
    await ledger.recordJudgement(input);
  } catch (error) {
    log.error(
      {
        ledger: ledger.location,
        change: `${input.outcome.changeRequest.repository}#${input.outcome.changeRequest.number}`,
        trigger: input.trigger,
        err: error instanceof Error ? error.message : String(error),
      },
      "judgement not recorded in the ledger",
    );
  }
}
