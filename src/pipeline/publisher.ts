/**
 * `createPublisher`: the library entry point for services that publish events.
 *
 * ```ts
 * const publisher = createPublisher({ sinks: [{ name: 'main', type: 'kafka', brokers: ['127.0.0.1:9092'] }] });
 * const event = await publisher.emit({ source: 'my-service', type: 'com.example.cluster.ready', entity: { kind: 'cluster', id: 'c1' } });
 * await publisher.close();
 * ```
 *
 * Direct mode publishes through the sinks' bindings and resolves after the brokers
 * acknowledged; durable mode (`durable: { store }`) stores the events with their outbox
 * entries and resolves once they are committed, an in-process relay delivering them (what is
 * left at close is delivered by the next publisher on the same store). Both go through the
 * same Ingest as `herald serve`: the same validation, redaction, topics and limits.
 */
import type { Registry } from 'prom-client';
import { validatePublisherOptions, type DurableOptions, type PublisherOptions } from '../config/publisher.js';
import { createBindings, type SinkBinding } from '../delivery/binding.js';
import { DirectDelivery } from '../delivery/direct.js';
import { HeraldError } from '../errors.js';
import type { EventInput, HeraldEvent } from '../events/schema.js';
import { silentLogger, type Logger } from '../log.js';
import { openDurablePipeline } from './durable.js';
import { DirectHandover } from './direct-handover.js';
import { Ingest } from './ingest.js';

export type { PublisherOptions, DurableOptions } from '../config/publisher.js';

export interface Publisher {
  /** Validates, delivers and returns the canonical event (with its id and time, secrets redacted). */
  emit(input: EventInput | HeraldEvent): Promise<HeraldEvent>;
  /** Validates all first (nothing is sent when one is invalid), then delivers them in order. */
  emitMany(inputs: readonly (EventInput | HeraldEvent)[]): Promise<HeraldEvent[]>;
  /** Durable mode: waits until every pending entry is delivered (TIMEOUT when `timeoutMs` passes first); direct mode: resolves at once. */
  drain(timeoutMs: number): Promise<void>;
  /** Flushes and disconnects (durable mode: drains first, up to drainTimeoutMs). Idempotent; emit() after close() rejects with CLOSED. */
  close(): Promise<void>;
}

interface Pipeline {
  ingest: Ingest;
  drain(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

function direct(bindings: SinkBinding[], logger: Logger, o: PublisherOptions): Pipeline {
  const delivery = new DirectDelivery({ logger, ...(o.stdout !== undefined && { stream: o.stdout }), ...(o.env !== undefined && { env: o.env }) });
  return {
    ingest: new Ingest({ handover: new DirectHandover(bindings, delivery), ...(o.redact?.keys !== undefined && { redactKeys: o.redact.keys }) }),
    drain: async () => undefined,
    close: () => delivery.close(),
  };
}

async function durable(logger: Logger, o: PublisherOptions, d: DurableOptions): Promise<Pipeline> {
  const p = await openDurablePipeline({
    storeUrl: d.store,
    ...(d.schema !== undefined && { storeSchema: d.schema }),
    sinks: o.sinks,
    streaming: true,
    logger,
    ...(o.redact?.keys !== undefined && { redactKeys: o.redact.keys }),
    ...(d.registry !== undefined && { registry: d.registry as Registry }),
    ...(d.pollMs !== undefined && { relay: { idleMs: d.pollMs } }),
    sinkDeps: { ...(o.stdout !== undefined && { stream: o.stdout }), ...(o.env !== undefined && { env: o.env }) },
  });
  return {
    ingest: p.ingest,
    drain: (timeoutMs) => p.outbox.drain(timeoutMs),
    async close() {
      try {
        await p.outbox.drain(d.drainTimeoutMs ?? 10_000).catch((err: unknown) => {
          logger.warn({ err: (err as Error).message }, `durable publisher closing: ${(err as Error).message}`);
        });
      } finally {
        await p.close();
      }
    },
  };
}

/** Creates a publisher; its options are validated now (ConfigError naming the key). Nothing connects until the first emit(). */
export function createPublisher(options: PublisherOptions): Publisher {
  const o = validatePublisherOptions(options);
  const logger = o.logger ?? silentLogger;
  const bindings = createBindings(o.sinks, { ...(o.env !== undefined && { env: o.env }) });
  let pipeline: Promise<Pipeline> | undefined;
  const get = (): Promise<Pipeline> => {
    pipeline ??= o.durable !== undefined ? durable(logger, o, o.durable) : Promise.resolve(direct(bindings, logger, o));
    // A durable store that could not be opened is tried again at the next emit.
    pipeline.catch(() => (pipeline = undefined));
    return pipeline;
  };
  let closed = false;
  const ingest = async (inputs: unknown): Promise<HeraldEvent[]> => {
    if (closed) throw new HeraldError('CLOSED', 'the publisher is closed');
    return (await (await get()).ingest.events(inputs)).events;
  };
  return {
    emit: async (input) => (await ingest(input))[0]!,
    emitMany: async (inputs) => (inputs.length === 0 ? [] : ingest([...inputs])),
    drain: async (timeoutMs) => (pipeline === undefined ? undefined : (await pipeline).drain(timeoutMs)),
    async close() {
      if (closed) return;
      closed = true;
      if (pipeline !== undefined) await (await pipeline.catch(() => undefined))?.close();
    },
  };
}
