/**
 * The alive ticker: emits a Choria `alive` lifecycle event every interval, each with a fresh
 * id and timestamp.
 *
 * A deliberate difference: a Choria server (go-choria server/lifecycle.go publishAliveEvents
 * @ 58e80bab) makes one alive event and re-sends that same object, same id and timestamp,
 * every 30 minutes after a random 0-29 minute delay. Herald gives each tick its own event
 * because its pipeline treats an event id as one event: a repeated id is stored once and
 * JetStream drops it as a duplicate within its window. Choria's tally counts both the same
 * way (it refreshes the node's last-seen time on every alive, whatever its id).
 */
import { ValidationError } from '../../errors.js';
import type { CreateEventOptions } from '../../events/event.js';
import type { HeraldEvent } from '../../events/schema.js';
import { lifecycle } from './lifecycle.js';

export interface AliveTickerOptions extends CreateEventOptions {
  identity: string;
  component: string;
  version: string;
  /** Milliseconds between events (Choria sends one every 30 minutes). */
  intervalMs: number;
  /** Publishes one event; a rejection is reported to onError and the ticker keeps going. */
  emit: (event: HeraldEvent) => Promise<unknown>;
  /** Stops the ticker when aborted. */
  signal?: AbortSignal;
  /** Also emit once right away (default false: the first event after one interval). */
  immediate?: boolean;
  onError?: (err: unknown) => void;
}

export interface AliveTicker {
  /** Stops ticking; idempotent. An emit already under way is not cancelled. */
  stop(): void;
}

/** Starts the ticker. Throws ValidationError for bad options (checked before the first tick). */
export function startAliveTicker(options: AliveTickerOptions): AliveTicker {
  const { intervalMs, emit, signal } = options;
  if (!Number.isFinite(intervalMs) || intervalMs < 1) {
    throw new ValidationError('alive ticker: intervalMs must be a positive number of milliseconds', [{ path: 'intervalMs', message: 'must be >= 1' }], 'INVALID_REQUEST');
  }
  const make = (): HeraldEvent => lifecycle.alive(
    { identity: options.identity, component: options.component, version: options.version },
    { ...(options.now && { now: options.now }), ...(options.newId && { newId: options.newId }) },
  );
  make(); // validates identity, component and version now rather than on every tick

  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    let event: HeraldEvent;
    try {
      event = make();
    } catch (err) {
      options.onError?.(err);
      return;
    }
    emit(event).catch((err: unknown) => options.onError?.(err));
  };
  const stop = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
    signal?.removeEventListener('abort', stop);
  };
  if (signal?.aborted) return { stop };
  timer = setInterval(tick, intervalMs);
  signal?.addEventListener('abort', stop, { once: true });
  if (options.immediate) tick();
  return { stop };
}
