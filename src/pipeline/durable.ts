/**
 * A durable pipeline: the store (migrated with the outbox's tables), the outbox with its
 * relays, and the Ingest in front of them. `herald serve`, `bridge` and `replay` all run one,
 * so they store, route and wake the relays the same way.
 */
import type { Registry } from 'prom-client';
import { createBindings, type SinkBinding } from '../delivery/binding.js';
import type { SinkConfig } from '../config/sinks.js';
import type { Logger } from '../log.js';
import { createOutbox, type Outbox, type OutboxOptions } from '../outbox/outbox.js';
import { outboxSchema } from '../outbox/schema.js';
import { openStore } from '../store/index.js';
import type { EventStore } from '../store/types.js';
import type { GroupCommitOptions } from './group-commit.js';
import { DurableHandover } from './durable-handover.js';
import { Ingest } from './ingest.js';

export interface DurablePipelineOptions {
  /** Where the store is: `sqlite:PATH` or a postgres:// URL; or `store`, already open (the pipeline closes it). */
  storeUrl?: string;
  store?: EventStore;
  /** PostgreSQL schema of its own (tests). */
  storeSchema?: string;
  sinks: readonly Readonly<SinkConfig>[];
  streaming: boolean;
  logger: Logger;
  redactKeys?: readonly string[];
  watchedStates?: readonly string[];
  maxBatch?: number;
  retentionDays?: number;
  registry?: Registry;
  /** Runs after each commit that stored events (the API's live streams). */
  onStored?: () => void;
  /** Relay tuning and scripted sinks, for tests. */
  relay?: OutboxOptions['relay'];
  createSink?: OutboxOptions['createSink'];
  sinkDeps?: OutboxOptions['sinkDeps'];
  /** false: write outbox entries, relay nothing (another process does). */
  startRelays?: boolean;
  /** Bounds of one group commit (events and JSON bytes per transaction). */
  groupCommit?: GroupCommitOptions;
}

export interface DurablePipeline {
  readonly store: EventStore;
  readonly outbox: Outbox;
  readonly ingest: Ingest;
  readonly bindings: readonly SinkBinding[];
  /** Stops the relays, then closes the store. Idempotent. */
  close(): Promise<void>;
}

export async function openDurablePipeline(o: DurablePipelineOptions): Promise<DurablePipeline> {
  const bindings = createBindings(o.sinks);
  const store = o.store ?? await openStore(o.storeUrl ?? '', { logger: o.logger, ...(o.storeSchema !== undefined && { schema: o.storeSchema }) });
  let outbox: Outbox;
  try {
    await store.migrate([outboxSchema]);
    outbox = await createOutbox({
      store,
      bindings,
      streaming: o.streaming,
      logger: o.logger,
      ...(o.registry !== undefined && { registry: o.registry }),
      ...(o.retentionDays !== undefined && { retentionDays: o.retentionDays }),
      ...(o.relay !== undefined && { relay: o.relay }),
      ...(o.createSink !== undefined && { createSink: o.createSink }),
      ...(o.sinkDeps !== undefined && { sinkDeps: o.sinkDeps }),
      ...(o.startRelays !== undefined && { startRelays: o.startRelays }),
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  const ingest = new Ingest({
    handover: new DurableHandover(store, outbox, {
      ...(o.onStored !== undefined && { onStored: o.onStored }),
      ...(o.groupCommit !== undefined && { groupCommit: o.groupCommit }),
    }),
    ...(o.redactKeys !== undefined && { redactKeys: o.redactKeys }),
    ...(o.watchedStates !== undefined && { watchedStates: o.watchedStates }),
    ...(o.maxBatch !== undefined && { maxBatch: o.maxBatch }),
  });
  let closing: Promise<void> | undefined;
  return {
    store,
    outbox,
    ingest,
    bindings,
    close() {
      closing ??= (async () => {
        await outbox.close();
        await store.close();
      })();
      return closing;
    },
  };
}
