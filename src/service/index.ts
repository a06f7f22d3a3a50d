/**
 * Assembly of the service `herald serve` runs: open and migrate the store, attach the outbox
 * (when a factory is given), build the API and listen. Tests and other commands start the
 * same service programmatically.
 */
import type { FastifyInstance } from 'fastify';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { buildApp } from '../api/app.js';
import type { SinkRouting } from '../api/context.js';
import type { HeraldConfig } from '../config/schema.js';
import { HeraldError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { openStore } from '../store/index.js';
import type { EventStore } from '../store/types.js';

/** What the outbox relay hands back to the service: routing/status for the API, and close(). */
export interface OutboxHandle {
  sinks: SinkRouting;
  close(): Promise<void>;
}

/**
 * The seam where the outbox relay attaches: given the migrated store, the config and a
 * logger (and the metrics registry), it starts relaying and returns its routing and status.
 */
export type OutboxFactory = (store: EventStore, config: HeraldConfig, logger: Logger, registry: Registry) => Promise<OutboxHandle>;

export interface ServiceOptions {
  logger?: Logger;
  outbox?: OutboxFactory;
  /** Store options (a PostgreSQL schema of its own, e.g. in tests). */
  storeSchema?: string;
  /** Listen (default true); false builds everything but does not bind a port. */
  listen?: boolean;
}

export interface Service {
  app: FastifyInstance;
  store: EventStore;
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

const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

/** Deletes events older than `days` now and then every hour (events still in the outbox stay). */
export function startRetention(store: EventStore, days: number, logger: Logger): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const sweepOnce = async () => {
    try {
      const before = new Date(Date.now() - days * 86_400_000).toISOString();
      const deleted = await store.deleteEventsBefore(before);
      if (deleted > 0) logger.info({ deleted, before }, `retention: deleted ${deleted} events older than ${days} days`);
    } catch (err) {
      logger.warn({ err }, 'retention sweep failed; it runs again in an hour');
    }
  };
  const sweep = () => {
    running = running.then(sweepOnce);
  };
  sweep();
  const timer = setInterval(sweep, RETENTION_INTERVAL_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/** Starts the service: store (migrated), outbox (optional), API; listens unless told not to. */
export async function startService(config: HeraldConfig, options: ServiceOptions = {}): Promise<Service> {
  const logger = options.logger ?? silentLogger;
  const store = await openStore(config.store.url, { logger, ...(options.storeSchema !== undefined && { schema: options.storeSchema }) });
  let outbox: OutboxHandle | undefined;
  let app: FastifyInstance | undefined;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  try {
    await store.migrate();
    if (options.outbox !== undefined) outbox = await options.outbox(store, config, logger, registry);
    else logger.info('no outbox attached: events are stored but not streamed to sinks');
    app = await buildApp({ store, config, logger, metrics: registry, ...(outbox !== undefined && { sinks: outbox.sinks }) });
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
      logger.info({ address, store: store.dialect }, `herald serving on ${address}`);
    }
    const retention = startRetention(store, config.retention.days, logger);
    let closing: Promise<void> | undefined;
    const started = app;
    const startedOutbox = outbox;
    return {
      app: started,
      store,
      registry,
      address,
      close() {
        closing ??= (async () => {
          await retention.stop();
          await started.close().catch((err: unknown) => logger.warn({ err }, 'closing the HTTP server failed'));
          await startedOutbox?.close().catch((err: unknown) => logger.warn({ err }, 'closing the outbox failed'));
          await store.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await app?.close().catch(() => undefined);
    await outbox?.close().catch(() => undefined);
    await store.close();
    throw err;
  }
}
