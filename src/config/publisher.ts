/**
 * The library publisher's options, validated once when the publisher is created: its sinks
 * like any configured sink (config/sinks.ts) and its durable options.
 */
import type { Logger } from '../log.js';
import { ConfigError } from '../errors.js';
import { validateSinks, type SinkConfig } from './sinks.js';

export interface DurableOptions {
  /** `sqlite:PATH` or a postgres:// URL. */
  store: string;
  /** How long close() waits for pending entries to be delivered (default 10 s). Undelivered ones stay stored for the next start. */
  drainTimeoutMs?: number;
  /** PostgreSQL schema (default: the URL's `?schema=` or public). */
  schema?: string;
  /** Prometheus registry (prom-client) for the relay metrics. */
  registry?: unknown;
  /**
   * How often the relay looks for entries it was not told about (another process on the same
   * store), in ms; default 100. Its own emit() calls wake it at once.
   */
  pollMs?: number;
}

export interface PublisherOptions {
  /** The sinks, in the config file's form (`type`, `brokers`, `profile`, `topic`, ...). */
  sinks: SinkConfig[];
  logger?: Logger;
  /**
   * Durable mode: events are first written to this store's outbox, and a relay publishes them
   * (`{ store: 'sqlite:./herald.db' }` or a postgres:// URL). Without it, emit() resolves after
   * the brokers acknowledged.
   */
  durable?: DurableOptions;
  /** Key names to redact besides the built-in ones. */
  redact?: { keys?: string[] };
  /** Where stdout sinks write (default process.stdout). */
  stdout?: NodeJS.WritableStream;
  /** Environment for the transports' variables (HERALD_KAFKA_*, NATS_*); default process.env. */
  env?: NodeJS.ProcessEnv;
}

const STORE_URL = /^(sqlite:.+|postgres(ql)?:\/\/.+)$/;

/** Checks the options; ConfigError naming the key (`sinks[0].brokers`, `durable.store`). */
export function validatePublisherOptions(o: PublisherOptions): PublisherOptions {
  if (!Array.isArray(o?.sinks) || o.sinks.length === 0) {
    throw new ConfigError('createPublisher needs at least one sink (options.sinks)', [{ path: 'sinks', message: 'must hold at least one sink' }]);
  }
  validateSinks(o.sinks, 'publisher options');
  const d = o.durable;
  if (d !== undefined) {
    if (typeof d.store !== 'string' || !STORE_URL.test(d.store)) {
      throw new ConfigError('durable.store must be sqlite:PATH or a postgres:// URL', [{ path: 'durable.store', message: 'must be sqlite:PATH or postgres://user@host/db' }]);
    }
    if (d.drainTimeoutMs !== undefined && (typeof d.drainTimeoutMs !== 'number' || !(d.drainTimeoutMs >= 0))) {
      throw new ConfigError('durable.drainTimeoutMs must be a number of milliseconds >= 0', [{ path: 'durable.drainTimeoutMs', message: 'must be a number >= 0' }]);
    }
    if (d.pollMs !== undefined && (typeof d.pollMs !== 'number' || !(d.pollMs >= 1))) {
      throw new ConfigError('durable.pollMs must be a number of milliseconds >= 1', [{ path: 'durable.pollMs', message: 'must be a number >= 1' }]);
    }
    if (d.schema !== undefined && typeof d.schema !== 'string') throw new ConfigError('durable.schema must be a PostgreSQL schema name', [{ path: 'durable.schema', message: 'must be a string' }]);
  }
  if (o.redact?.keys !== undefined && (!Array.isArray(o.redact.keys) || o.redact.keys.some((k) => typeof k !== 'string' || k === ''))) {
    throw new ConfigError('redact.keys must be a list of key names', [{ path: 'redact.keys', message: 'must be a list of non-empty strings' }]);
  }
  return o;
}
