/**
 * When to restart a failed connector: at once the first time, then with exponential backoff
 * while it keeps failing, and never more than `maxRestarts` times in a sliding window. The cap
 * matters: a connector that fails for a reason a restart cannot fix (bad credentials, a missing
 * table) should end up reported unhealthy, not be restarted in a tight loop forever.
 * Pure bookkeeping with the time passed in, so it is unit-tested without a worker.
 */

/** Restart limits. */
export interface RestartPolicyOptions {
  /** At most this many restarts of one connector within `windowMs`. */
  maxRestarts: number;
  windowMs: number;
  /** The wait after the first restart; it doubles after each further one. */
  backoffMs: number;
  /** The longest wait between two restarts. */
  maxBackoffMs: number;
}

/** The answer to "may this connector be restarted now?". */
export type RestartDecision =
  | { restart: true; attempt: number }
  | { restart: false; why: 'backoff' | 'limit'; attempt: number; retryAt: number };

interface Entry {
  /** Consecutive restarts since the connector was last seen healthy. */
  attempts: number;
  last: number;
  /** Times of restarts inside the window (for the cap). */
  history: number[];
}

/** Per-connector restart bookkeeping. */
export class RestartPolicy {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: RestartPolicyOptions) {}

  /** Whether `connector` may be restarted at `now`; `attempt` is the number this restart would have. */
  decide(connector: string, now: number): RestartDecision {
    const e = this.entries.get(connector);
    if (e === undefined) return { restart: true, attempt: 1 };
    const history = e.history.filter((t) => t > now - this.options.windowMs);
    e.history = history;
    if (history.length >= this.options.maxRestarts) {
      return { restart: false, why: 'limit', attempt: e.attempts + 1, retryAt: history[0]! + this.options.windowMs };
    }
    if (e.attempts > 0) {
      const retryAt = e.last + this.delayAfter(e.attempts);
      if (now < retryAt) return { restart: false, why: 'backoff', attempt: e.attempts + 1, retryAt };
    }
    return { restart: true, attempt: e.attempts + 1 };
  }

  /** The wait after the n-th consecutive restart: backoff, 2x, 4x, ... up to maxBackoffMs. */
  delayAfter(attempts: number): number {
    return Math.min(this.options.backoffMs * 2 ** Math.max(0, attempts - 1), this.options.maxBackoffMs);
  }

  /** Notes a restart made at `now`; returns its attempt number. */
  record(connector: string, now: number): number {
    const e = this.entries.get(connector) ?? { attempts: 0, last: now, history: [] };
    e.attempts += 1;
    e.last = now;
    e.history.push(now);
    this.entries.set(connector, e);
    return e.attempts;
  }

  /**
   * The connector is healthy again: the next failure starts a fresh backoff. The window's
   * history stays, so a connector that flaps between RUNNING and FAILED still meets the cap.
   */
  healthy(connector: string): void {
    const e = this.entries.get(connector);
    if (e !== undefined) e.attempts = 0;
  }

  /** Consecutive restarts so far (0 when none since it was last healthy). */
  attempts(connector: string): number {
    return this.entries.get(connector)?.attempts ?? 0;
  }
}
