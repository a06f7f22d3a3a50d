/**
 * Durable mode for the library publisher: `createPublisher({ sinks, durable: { store:
 * 'sqlite:./outbox.db' } })`. emit() resolves once the event and its outbox entries are
 * committed to the store; an in-process relay delivers them, surviving broker outages and
 * process restarts (the next start delivers what is left). close() drains with a timeout.
 */
import type { Registry } from 'prom-client';
import { HeraldError } from '../errors.js';
import type { HeraldEvent } from '../events/schema.js';
import type { Dispatcher, DispatcherContext, PublisherOptions } from '../publisher/types.js';
import { openStore } from '../store/index.js';
import type { EventStore } from '../store/types.js';
import { createOutbox, type Outbox } from './outbox.js';

/** Options of `durable` beyond `store`. */
export interface DurableOptions {
  /** `sqlite:PATH` or a postgres:// URL. */
  store: string;
  /** How long close() waits for pending entries to be delivered (default 10 s). Undelivered ones stay stored for the next start. */
  drainTimeoutMs?: number;
  /** PostgreSQL schema (default: the URL's `?schema=` or public). */
  schema?: string;
  /** Prometheus registry for the relay metrics. */
  registry?: Registry;
}

/** A Dispatcher that stores events with their outbox entries, plus the outbox it runs. */
export interface DurableDispatcher extends Dispatcher {
  readonly outbox: Outbox;
  readonly store: EventStore;
  /** Waits until every pending entry is delivered; TIMEOUT when `timeoutMs` passes first. */
  drain(timeoutMs: number): Promise<void>;
}

function durableOptions(d: NonNullable<PublisherOptions['durable']>): DurableOptions {
  if (typeof d.store !== 'string' || !/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(d.store)) {
    throw new HeraldError('CONFIG', 'durable.store must be sqlite:PATH or a postgres:// URL', { details: [{ path: 'durable.store', message: 'must be sqlite:PATH or postgres://user@host/db' }] });
  }
  const timeout = d['drainTimeoutMs'];
  if (timeout !== undefined && (typeof timeout !== 'number' || !(timeout >= 0))) {
    throw new HeraldError('CONFIG', 'durable.drainTimeoutMs must be a number of milliseconds >= 0', { details: [{ path: 'durable.drainTimeoutMs', message: 'must be a number >= 0' }] });
  }
  return {
    store: d.store,
    ...(timeout !== undefined && { drainTimeoutMs: timeout as number }),
    ...(typeof d['schema'] === 'string' && { schema: d['schema'] }),
    ...(d['registry'] !== undefined && { registry: d['registry'] as Registry }),
  };
}

/** The factory `createPublisher` loads for durable mode (see src/publisher/types.ts). */
export async function createDurableDispatcher(ctx: DispatcherContext & { durable: NonNullable<PublisherOptions['durable']> }): Promise<DurableDispatcher> {
  const o = durableOptions(ctx.durable);
  const store = await openStore(o.store, { logger: ctx.logger, ...(o.schema !== undefined && { schema: o.schema }) });
  let outbox: Outbox;
  try {
    await store.migrate();
    outbox = await createOutbox({
      store,
      config: { streaming: true, sinks: ctx.sinks },
      logger: ctx.logger,
      createSink: (config) => ctx.createSink(config),
      housekeeping: false,
      ...(o.registry !== undefined && { registry: o.registry }),
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  let closing: Promise<void> | undefined;
  return {
    outbox,
    store,
    async dispatch(events: readonly HeraldEvent[]) {
      if (closing !== undefined) throw new HeraldError('CLOSED', 'the durable publisher is closed');
      await store.append(events, { sinks: (e) => outbox.sinks.sinkNames(e) });
      outbox.notify();
    },
    drain: (timeoutMs) => outbox.drain(timeoutMs),
    close() {
      closing ??= (async () => {
        try {
          await outbox.drain(o.drainTimeoutMs ?? 10_000).catch((err: unknown) => {
            ctx.logger.warn({ err: (err as Error).message }, `durable publisher closing: ${(err as Error).message}`);
          });
        } finally {
          await outbox.close();
          await store.close();
        }
      })();
      return closing;
    },
  };
}

/**
 * The same dispatcher from plain options, for code that does not go through createPublisher:
 * `createDurableDispatcher` with `{ storeUrl, sinks, logger }`.
 */
export async function openDurableDispatcher(options: { storeUrl: string; sinks: DispatcherContext['sinks']; logger: DispatcherContext['logger']; createSink: DispatcherContext['createSink']; drainTimeoutMs?: number; registry?: Registry }): Promise<DurableDispatcher> {
  return createDurableDispatcher({
    sinks: options.sinks,
    logger: options.logger,
    createSink: options.createSink,
    durable: {
      store: options.storeUrl,
      ...(options.drainTimeoutMs !== undefined && { drainTimeoutMs: options.drainTimeoutMs }),
      ...(options.registry !== undefined && { registry: options.registry }),
    },
  });
}
