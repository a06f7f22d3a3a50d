/** The REST API over a store of the test's own, wired as `herald serve` wires it (ingest, outbox). */
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/index.js';
import { createNotifier } from '../../src/api/notifier.js';
import { MAX_BATCH } from '../../src/api/schemas.js';
import type { HeraldConfig } from '../../src/config/schema.js';
import { silentLogger, type Logger } from '../../src/log.js';
import { openDurablePipeline, type DurablePipeline } from '../../src/pipeline/durable.js';
import type { EventStore } from '../../src/store/types.js';

/** An app on `store` (migrated with the outbox's tables); no relay runs unless `relays` is true. */
export async function appOn(store: EventStore, config: HeraldConfig, options: { logger?: Logger; relays?: boolean } = {}): Promise<FastifyInstance & { pipeline: DurablePipeline }> {
  const logger = options.logger ?? silentLogger;
  const notifier = createNotifier();
  const pipeline = await openDurablePipeline({
    store,
    sinks: config.sinks,
    streaming: config.streaming,
    startRelays: options.relays === true,
    logger,
    redactKeys: config.redact.keys,
    watchedStates: config.entities.watchedStates,
    maxBatch: MAX_BATCH,
    onStored: () => notifier.notify(),
  });
  const app = await buildApp({ store, ingest: pipeline.ingest, sinks: pipeline.outbox, notifier, config, logger });
  return Object.assign(app, { pipeline });
}
