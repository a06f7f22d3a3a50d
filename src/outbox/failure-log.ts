/**
 * Logging of a sink's health without flooding: one warning when the sink starts failing, a
 * summary at most every `summaryEveryMs` while it keeps failing, one info line when it
 * recovers. A broker outage of an hour thus costs ~120 lines, not one per retry.
 */
import type { Logger } from '../log.js';

export interface FailureLogOptions {
  /** Interval between "still failing" summaries (default 30 s). */
  summaryEveryMs?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

/** Renders a duration for humans: 45s, 2m, 1h05m. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60 === 0 ? '' : `${String(s % 60).padStart(2, '0')}s`}`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

/** Tracks one sink's failing/healthy state and decides which lines to log. */
export class FailureLog {
  private failingSince: number | undefined;
  private lastSummary = 0;
  private failures = 0;
  private lastError = '';
  private readonly every: number;
  private readonly now: () => number;

  constructor(
    private readonly sink: string,
    private readonly logger: Logger,
    options: FailureLogOptions = {},
  ) {
    this.every = options.summaryEveryMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** True between the first failure and the next success. */
  get failing(): boolean {
    return this.failingSince !== undefined;
  }

  /** How long the sink has been failing, in ms (0 when healthy). */
  get failingForMs(): number {
    return this.failingSince === undefined ? 0 : this.now() - this.failingSince;
  }

  /**
   * Records a failed attempt. `pending` is the current backlog, for the summary line; it is a
   * function so the count is only looked up when a line is actually written.
   */
  async failure(error: string, pending: () => Promise<number> | number): Promise<void> {
    const t = this.now();
    this.failures += 1;
    this.lastError = error;
    if (this.failingSince === undefined) {
      this.failingSince = t;
      this.lastSummary = t;
      this.failures = 1;
      this.logger.warn({ sink: this.sink, err: error }, `sink ${this.sink} is failing: ${error}; events stay in the outbox and are retried`);
      return;
    }
    if (t - this.lastSummary >= this.every) {
      this.lastSummary = t;
      let count: number | string;
      try {
        count = await pending();
      } catch {
        count = 'unknown';
      }
      this.logger.warn(
        { sink: this.sink, failingForMs: t - this.failingSince, pending: count, attempts: this.failures, err: error },
        `sink ${this.sink} still failing for ${formatDuration(t - this.failingSince)}, ${count} pending, ${this.failures} failed attempts, last error: ${error}`,
      );
    }
  }

  /** Records a success; logs the recovery once if the sink was failing. */
  success(): void {
    if (this.failingSince === undefined) return;
    const took = this.now() - this.failingSince;
    this.logger.info(
      { sink: this.sink, failedForMs: took, attempts: this.failures },
      `sink ${this.sink} recovered after ${formatDuration(took)} (${this.failures} failed attempts); delivering the backlog`,
    );
    this.failingSince = undefined;
    this.failures = 0;
    this.lastError = '';
  }

  /** The last error message while failing (empty when healthy). */
  get error(): string {
    return this.lastError;
  }
}
