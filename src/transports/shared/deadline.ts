/** Bounding an operation in time: every sink uses this so no broker call can hang a relay. */
import { HeraldError, type ErrorCode } from '../../errors.js';

export interface DeadlineOptions {
  /** Message of the TIMEOUT error when the time is up. */
  timeoutMessage: string;
  /** Message of the TIMEOUT error when the signal aborts. */
  abortMessage: string;
  /** Called when the time is up (e.g. to drop a connection that stopped answering). */
  onTimeout?: () => void;
  signal?: AbortSignal;
  /** The code of the error when the time is up or the signal aborts (default TIMEOUT). */
  code?: ErrorCode;
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
      reject(new HeraldError(o.code ?? 'TIMEOUT', o.timeoutMessage));
    }, ms);
    if (o.signal !== undefined) {
      const signal = o.signal;
      abortListener = () => reject(new HeraldError(o.code ?? 'TIMEOUT', o.abortMessage, { cause: signal.reason }));
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

/** `op` within `ms` and the caller's signal: TIMEOUT errors saying what took too long. */
export function within<T>(op: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  return raceDeadline(op, ms, {
    timeoutMessage: `${what} took longer than ${ms} ms`,
    abortMessage: `${what} was aborted`,
    ...(signal !== undefined && { signal }),
  });
}

/**
 * A first connection within `timeoutMs` and the caller's signal (BROKER_UNAVAILABLE otherwise).
 * A connection that completes after the caller gave up is closed, so nothing leaks; a client
 * error is mapped by `mapError`.
 */
export async function connectWithin<C extends { close(): Promise<unknown> }>(connect: () => Promise<C>, o: { timeoutMs: number; signal?: AbortSignal; where: string; hint?: string; mapError: (err: unknown) => HeraldError }): Promise<C> {
  if (o.signal?.aborted) throw new HeraldError('BROKER_UNAVAILABLE', `connecting to ${o.where} was aborted`);
  const pending = connect();
  try {
    return await raceDeadline(pending, o.timeoutMs, {
      code: 'BROKER_UNAVAILABLE',
      timeoutMessage: `could not connect to ${o.where} within ${o.timeoutMs} ms${o.hint ?? ''}`,
      abortMessage: `connecting to ${o.where} was aborted`,
      ...(o.signal !== undefined && { signal: o.signal }),
    });
  } catch (err) {
    pending.then((c) => c.close().catch(() => undefined), () => undefined);
    if (err instanceof HeraldError) throw err;
    throw o.mapError(err);
  }
}
