/** Bounding an operation in time: every sink uses this so no broker call can hang a relay. */
import { HeraldError } from '../errors.js';

export interface DeadlineOptions {
  /** Message of the TIMEOUT error when the time is up. */
  timeoutMessage: string;
  /** Message of the TIMEOUT error when the signal aborts. */
  abortMessage: string;
  /** Called when the time is up (e.g. to drop a connection that stopped answering). */
  onTimeout?: () => void;
  signal?: AbortSignal;
}

/**
 * Resolves or rejects as `op` does, unless `ms` pass or the signal aborts first (then rejects
 * with HeraldError TIMEOUT). A late rejection of `op` is swallowed, never unhandled.
 */
export async function raceDeadline<T>(op: Promise<T>, ms: number, o: DeadlineOptions): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let abortListener: (() => void) | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      o.onTimeout?.();
      reject(new HeraldError('TIMEOUT', o.timeoutMessage));
    }, ms);
    if (o.signal !== undefined) {
      const signal = o.signal;
      abortListener = () => reject(new HeraldError('TIMEOUT', o.abortMessage, { cause: signal.reason }));
      if (signal.aborted) abortListener();
      else signal.addEventListener('abort', abortListener, { once: true });
    }
  });
  try {
    return await Promise.race([op, deadline]);
  } finally {
    clearTimeout(timer);
    if (abortListener !== undefined) o.signal?.removeEventListener('abort', abortListener);
    op.catch(() => undefined);
  }
}
