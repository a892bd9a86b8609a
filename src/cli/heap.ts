import { setFlagsFromString } from "node:v8";

/**
 * A command that reads a year of the ledger (export, coverage) keeps little alive (tens of MB) but
 * reads hundreds of thousands of records through it, and by default V8 lets the old generation grow
 * to several times what is alive before collecting it: most of such a command's peak memory was
 * garbage. Collecting once the heap has grown by a fifth keeps the peak near what is alive. It is
 * not a limit: a larger organization's export still gets all the heap it needs, only collected more
 * often (for a one-shot command only; the app's long-running process keeps V8's defaults).
 */
export function collectGarbageEarly(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

const HEAP_GROWING_PERCENT = 20;
