/**
 * Exponential backoff with jitter for relay retries. Jitter spreads the retries of several
 * replicas (and of many keys) so a recovering broker is not hit by all of them at once.
 */

export interface BackoffOptions {
  /** Delay of the first retry before jitter (default 250 ms). */
  baseMs?: number;
  /** Upper bound of any delay (default 10 s: a retry against a down broker is one cheap connection attempt, and a recovered broker is used again within seconds). */
  maxMs?: number;
  /** Random source in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

export const DEFAULT_BACKOFF = { baseMs: 250, maxMs: 10_000 } as const;

/**
 * The delay before retry number `attempt` (1 = first retry): `base * 2^(attempt-1)` capped at
 * `max`, then "equal jitter" — between half and the whole of that value. Half is kept fixed so
 * the delay still grows with the attempts (full jitter can pick ~0 and hammer a broken broker).
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? DEFAULT_BACKOFF.baseMs;
  const max = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const random = options.random ?? Math.random;
  const n = Math.max(1, Math.floor(attempt));
  // 2^n overflows to Infinity for large n; min() keeps the cap exact.
  const ceiling = Math.min(max, base * 2 ** Math.min(n - 1, 52));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
