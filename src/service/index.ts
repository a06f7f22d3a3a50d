/**
 * Assembly of the service `herald serve` runs: the durable pipeline (store, outbox with its
 * relays and retention, ingest), the API in front of it, and listen. Tests and other commands
 * start the same service programmatically.
 */
import type { FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { buildApp } from '../api/app.js';
import { createNotifier } from '../api/notifier.js';
import { MAX_BATCH } from '../api/schemas.js';
import { checkServeConfig } from '../config/load.js';
import type { HeraldConfig } from '../config/schema.js';
import { HeraldError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { openDurablePipeline, type DurablePipeline, type DurablePipelineOptions } from '../pipeline/durable.js';
import type { EventStore } from '../store/types.js';

export interface ServiceOptions {
  logger?: Logger;
  /** Store options (a PostgreSQL schema of its own, e.g. in tests). */
  storeSchema?: string;
  /** Relay tuning and scripted sinks, for tests. */
  relay?: DurablePipelineOptions['relay'];
  createSink?: DurablePipelineOptions['createSink'];
  /** Listen (default true); false builds everything but does not bind a port. */
  listen?: boolean;
}

export interface Service {
  app: FastifyInstance;
  store: EventStore;
  /** The store, outbox and ingest behind the API. */
  pipeline: DurablePipeline;
  registry: Registry;
  /** `http://host:port` the server listens on (the real port when config.server.port is 0). */
  address: string;
  /** Stops accepting requests, finishes those in flight, stops the outbox and closes the store. Idempotent. */
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|\[::1\])$/i;

/** True when a host binds beyond this machine (0.0.0.0, ::, a LAN address). */
export function isNonLoopback(host: string): boolean {
  return !LOOPBACK.test(host);
}

/** Starts the service: store (migrated), outbox and retention, ingest, API; listens unless told not to. */
export async function startService(config: HeraldConfig, options: ServiceOptions = {}): Promise<Service> {
  // Before the store is opened: a refused start leaves nothing behind (HERALD_REQUIRE_TOKENS).
  checkServeConfig(config);
  const logger = options.logger ?? silentLogger;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const notifier = createNotifier();
  const pipeline = await openDurablePipeline({
    storeUrl: config.store.url,
    ...(options.storeSchema !== undefined && { storeSchema: options.storeSchema }),
    sinks: config.sinks,
    streaming: config.streaming,
    logger,
    registry,
    redactKeys: config.redact.keys,
    watchedStates: config.entities.watchedStates,
    maxBatch: MAX_BATCH,
    retentionDays: config.retention.days,
    onStored: () => notifier.notify(),
    ...(options.relay !== undefined && { relay: options.relay }),
    ...(options.createSink !== undefined && { createSink: options.createSink }),
  });
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp({ store: pipeline.store, ingest: pipeline.ingest, sinks: pipeline.outbox, notifier, config, logger, metrics: registry });
    if (isNonLoopback(config.server.host) && config.auth.apiTokens.length === 0) {
      logger.warn({ host: config.server.host }, `listening on ${config.server.host} without API tokens: anyone who can reach this port can write events; set auth.apiTokens or HERALD_API_TOKENS`);
    }
    let address = '';
    if (options.listen !== false) {
      try {
        address = await app.listen({ host: config.server.host, port: config.server.port });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        throw new HeraldError('INTERNAL', code === 'EADDRINUSE'
          ? `cannot listen on ${config.server.host}:${config.server.port}: the port is in use; choose another with --port or HERALD_PORT`
          : `cannot listen on ${config.server.host}:${config.server.port}: ${(err as Error).message}`, { cause: err });
      }
      logger.info({ address, store: pipeline.store.dialect }, `herald serving on ${address}`);
    }
    let closing: Promise<void> | undefined;
    const started = app;
    return {
      app: started,
      store: pipeline.store,
      pipeline,
      registry,
      address,
      close() {
        closing ??= (async () => {
          await started.close().catch((err: unknown) => logger.warn({ err }, 'closing the HTTP server failed'));
          await pipeline.close().catch((err: unknown) => logger.warn({ err }, 'closing the outbox and store failed'));
        })();
        return closing;
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await pipeline.close();
    throw err;
  }
}
