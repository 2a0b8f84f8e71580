/**
 * A one-line progress bar on stderr for long file operations: bytes done,
 * percentage, rate and ETA. It appears only when stderr is a terminal, not
 * with `--quiet`, and only once the work has taken a moment (short jobs
 * print nothing), and it redraws at most ten times a second.
 *
 * @module
 */

/** How long work must run before the bar appears (ms). */
const SHOW_AFTER_MS = 500;
/** Minimum time between redraws (ms). */
const REDRAW_MS = 100;

/** Where the bar is drawn and whether it may be. */
export interface ProgressSink {
  /** Writes text to stderr. */
  printErr(text: string): void;
  /** False when stderr is not a terminal or `--quiet` was given. */
  enabled: boolean;
  /** Clock in ms (for tests). @default performance.now */
  now?: () => number;
}

/** Human-readable byte count with binary prefixes: `512 B`, `1.5 MiB`. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return "--";
  const t = Math.round(s);
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${String(t % 60).padStart(2, "0")}s`;
  return `${Math.floor(t / 3600)}h${String(Math.floor(t / 60) % 60).padStart(2, "0")}m`;
}

/** A progress bar for one file. */
export class Progress {
  readonly #sink: ProgressSink;
  readonly #label: string;
  readonly #total: number | undefined;
  readonly #now: () => number;
  readonly #start: number;
  #lastDraw = -Infinity;
  #drawn = false;

  /**
   * @param label what is being done, e.g. `encrypting sales.csv`
   * @param total expected bytes, when known (files), for the percentage and ETA
   */
  constructor(sink: ProgressSink, label: string, total?: number) {
    this.#sink = sink;
    this.#label = label;
    this.#total = total;
    this.#now = sink.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /** Report `done` bytes processed so far. */
  update(done: number): void {
    if (!this.#sink.enabled) return;
    const t = this.#now();
    if (t - this.#start < SHOW_AFTER_MS || t - this.#lastDraw < REDRAW_MS) return;
    this.#lastDraw = t;
    this.#drawn = true;
    this.#sink.printErr("\r\x1b[2K" + this.line(done, t));
  }

  /** The text of the bar (without terminal control codes). */
  line(done: number, t: number = this.#now()): string {
    const seconds = Math.max((t - this.#start) / 1000, 1e-3);
    const rate = done / seconds;
    let text = `${this.#label}  ${formatBytes(done)}`;
    if (this.#total !== undefined && this.#total > 0) {
      const fraction = Math.min(done / this.#total, 1);
      const width = 20;
      const filled = Math.round(fraction * width);
      text = `${this.#label}  [${"#".repeat(filled)}${"-".repeat(width - filled)}] ` +
        `${(fraction * 100).toFixed(0).padStart(3)}%  ${formatBytes(done)} / ` +
        formatBytes(this.#total);
      const eta = rate > 0 ? (this.#total - done) / rate : Infinity;
      text += `  ${formatBytes(rate)}/s  ETA ${formatSeconds(eta)}`;
    } else {
      text += `  ${formatBytes(rate)}/s`;
    }
    return text;
  }

  /** Erase the bar (call on success and on failure). */
  done(): void {
    if (this.#drawn) this.#sink.printErr("\r\x1b[2K");
    this.#drawn = false;
  }
}
