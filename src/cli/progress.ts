import { visibleBidi } from "../text/escape.js";
import { terminalText } from "./table.js";

/**
 * A progress bar with done/total, rate and ETA on stderr, for the audit's collection and its finding
 * issue writes. A small renderer of our own rather than cli-progress: that one writes to a stream
 * itself (the CLI writes through Io, which tests hold in memory), reads the wall clock (the ETA is
 * tested with an injected one), and its latest release (3.12.0) is from June 2024.
 *
 * On a terminal the line is redrawn in place; otherwise (CI logs) a plain line is written every tenth
 * of the way or every 30 s, so a log shows the audit is alive without a line per repository.
 */
export interface ProgressOptions {
  /** What is counted, e.g. "repositories" or "writes". */
  unit: string;
  /** Put before the line, e.g. "findings". */
  label?: string;
  write: (text: string) => void;
  /** stderr is a terminal: redraw in place. */
  tty: boolean;
  /** Milliseconds; injected by tests. */
  now?: () => number;
  /** Without a terminal, the longest silence between two lines. */
  intervalMs?: number;
}

export interface ProgressBar {
  /** `detail` is untrusted text (a repository name): control characters are taken out. */
  update(done: number, total: number, detail?: string): void;
  /** A line of its own (a wait, a phase), kept above the bar on a terminal. */
  note(text: string): void;
  /** Ends the bar's line on a terminal. */
  finish(): void;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;
const DETAIL_CHARACTERS = 40;

/** Seconds left at the average rate so far; undefined until something is done. */
export function etaSeconds(done: number, total: number, elapsedMs: number): number | undefined {
  if (done <= 0 || elapsedMs <= 0) return undefined;
  if (done >= total) return 0;
  return Math.ceil(((total - done) * elapsedMs) / done / 1000);
}

/** 42s, 3m05s, 2h07m: short enough for a progress line. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** C0 and C1 control characters (ESC, CSI, BEL, newlines...) out, bidi controls shown, one short line. */
export function terminalSafe(text: string, maxCharacters = DETAIL_CHARACTERS): string {
  const clean = visibleBidi(terminalText(text));
  const characters = [...clean];
  return characters.length <= maxCharacters ? clean : `${characters.slice(0, maxCharacters - 1).join("")}…`;
}

/** The line itself: label, bar (terminal only), done/total, rate, ETA, detail. */
export function progressLine(
  state: { done: number; total: number; elapsedMs: number; detail?: string },
  options: { unit: string; label?: string; bar: boolean },
): string {
  const { done, total, elapsedMs } = state;
  const share = total <= 0 ? 1 : Math.min(1, done / total);
  const parts: string[] = [];
  if (options.label) parts.push(`${options.label}:`);
  if (options.bar) {
    const filled = Math.round(share * BAR_WIDTH);
    parts.push(`[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}]`);
  }
  parts.push(`${done}/${total} ${options.unit} (${Math.floor(share * 100)}%)`);
  if (elapsedMs > 0 && done > 0) {
    const perSecond = (done * 1000) / elapsedMs;
    parts.push(perSecond >= 1 ? `${perSecond.toFixed(1)}/s` : `${(perSecond * 60).toFixed(1)}/min`);
  }
  const eta = etaSeconds(done, total, elapsedMs);
  parts.push(
    done >= total
      ? `in ${formatDuration(elapsedMs / 1000)}`
      : `ETA ${eta === undefined ? "?" : formatDuration(eta)}`,
  );
  if (state.detail) parts.push(terminalSafe(state.detail));
  return parts.join(" ");
}

export function progressBar(options: ProgressOptions): ProgressBar {
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 30_000;
  const started = now();
  let drawn = false; // a terminal line is on screen, not ended
  let lastDraw = -Infinity;
  let lastTenth = -1;
  let lastTotal = 0;
  let lastLine = started;
  let last: { done: number; total: number; detail?: string } | undefined;

  const render = (bar: boolean) =>
    last ? progressLine({ ...last, elapsedMs: now() - started }, { ...options, bar }) : "";
  // \r and erase-line: the shorter line does not leave the end of the longer one behind
  const draw = () => {
    options.write(`\r\u001b[K${render(true)}`);
    drawn = true;
    lastDraw = now();
  };

  return {
    update(done, total, detail) {
      last = { done, total, ...(detail === undefined ? {} : { detail }) };
      const complete = done >= total;
      if (options.tty) {
        if (complete || now() - lastDraw >= REDRAW_MS) draw();
        return;
      }
      const tenth = total <= 0 ? 10 : Math.floor((done / total) * 10);
      // more planned than was (a retried write): the tenths go on from where the new total puts them
      if (total !== lastTotal) lastTenth = Math.min(lastTenth, tenth);
      lastTotal = total;
      if (tenth > lastTenth || now() - lastLine >= intervalMs) {
        lastTenth = Math.max(lastTenth, tenth);
        lastLine = now();
        options.write(`${render(false)}\n`);
      }
    },
    note(text) {
      if (options.tty && drawn) {
        options.write(`\r\u001b[K${text}\n`);
        draw();
        return;
      }
      options.write(`${text}\n`);
    },
    finish() {
      if (options.tty && drawn) {
        draw();
        options.write("\n");
        drawn = false;
      }
    },
  };
}
