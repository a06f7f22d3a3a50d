/**
 * Progress of long work on stderr: on a terminal, one line rewritten in place (count of total,
 * rate, ETA); piped or redirected, a plain `label done/total` line per report, stable for
 * scripts and logs.
 */

export interface ProgressOptions {
  /** What is counted, e.g. `queued` or `delivered to sink x`. */
  label: string;
  stream?: NodeJS.WriteStream;
  /** Overrides the terminal check (tests). */
  tty?: boolean;
  now?: () => number;
}

function eta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** The text of one report: `queued 500/2000 (25%) 1200/s ETA 1s`. */
export function progressText(label: string, done: number, total: number | undefined, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const of = total !== undefined ? `/${total}${total > 0 ? ` (${Math.floor((done * 100) / total)}%)` : ''}` : '';
  const left = total !== undefined && rate > 0 ? ` ETA ${eta((total - done) / rate)}` : '';
  return `${label} ${done}${of} ${Math.round(rate)}/s${left}`;
}

export class Progress {
  readonly #o: Required<Pick<ProgressOptions, 'label'>> & { stream: NodeJS.WriteStream; tty: boolean; now: () => number };
  readonly #started: number;
  #drawn = false;

  constructor(options: ProgressOptions) {
    const stream = options.stream ?? process.stderr;
    this.#o = { label: options.label, stream, tty: options.tty ?? stream.isTTY === true, now: options.now ?? (() => performance.now()) };
    this.#started = this.#o.now();
  }

  update(done: number, total?: number): void {
    if (this.#o.tty) {
      this.#o.stream.write(`\r\x1b[2K${progressText(this.#o.label, done, total, this.#o.now() - this.#started)}`);
      this.#drawn = true;
    } else {
      this.#o.stream.write(`${this.#o.label} ${done}${total !== undefined ? `/${total}` : ''}\n`);
    }
  }

  /** Ends the updating line (a newline on a terminal); nothing when piped. */
  done(): void {
    if (this.#o.tty && this.#drawn) this.#o.stream.write('\n');
    this.#drawn = false;
  }
}
