/**
 * The durable outbox: one relay per enabled sink over the store's herald_outbox table. The
 * store writes an entry per event and sink in the event's own transaction (store.append);
 * this module delivers them. `createOutbox` is the factory `startService` takes.
 */
import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Registry } from 'prom-client';
import type { HeraldConfig, SinkConfig } from '../config/schema.js';
import { ConfigError, HeraldError } from '../errors.js';
import type { HeraldEvent } from '../events/schema.js';
import type { Logger } from '../log.js';
import { getProfile } from '../profiles/index.js';
import type { Profile } from '../profiles/types.js';
import { createSink as defaultCreateSink } from '../sinks/index.js';
import type { Sink, SinkStatus } from '../sinks/types.js';
import type { EventStore } from '../store/types.js';
import type { BackoffOptions } from './backoff.js';
import { sinkNamesFor } from './filter.js';
import { startHousekeeping, type Housekeeping } from './housekeeping.js';
import { OutboxMetrics } from './metrics.js';
import { ensureOutboxSchema } from './migrations.js';
import { SinkRelay } from './relay.js';
import { listParked, pendingCount, requeueParked, sinkCounts, type OutboxDb, type ParkedEntry } from './sql.js';

/** Builds a sink from its config (the default is src/sinks createSink). */
export type SinkFactory = (config: SinkConfig, deps: { logger: Logger }) => Sink;

/** The parts of the configuration the outbox reads. */
export type OutboxConfig = Pick<HeraldConfig, 'streaming' | 'sinks'> & { retention?: { days: number } };

export interface OutboxOptions {
  store: EventStore;
  config: OutboxConfig;
  logger: Logger;
  /** Where the metrics go (default: a registry of its own). */
  registry?: Registry;
  /** Sink construction (tests and embedders may pass their own). */
  createSink?: SinkFactory;
  /** Relay tuning, mostly for tests. */
  relay?: { idleMs?: number; backoff?: BackoffOptions; summaryEveryMs?: number; leaseRefreshMs?: number };
  /** Run retention (default true; the library's durable dispatcher turns it off). */
  housekeeping?: boolean;
}

/** What `startService` and the durable dispatcher use. */
export interface Outbox {
  sinks: {
    /** Every configured sink with its backlog, counters and live state. */
    status(): Promise<SinkStatus[]>;
    /** The sinks that must deliver `event` (enabled, filter matches, streaming on). */
    sinkNames(event: HeraldEvent): string[];
  };
  /** New entries were appended: wake the relays now instead of at their next poll. */
  notify(): void;
  /** Parked entries of one sink (rejected permanently), oldest first, with their errors. */
  parked(sink: string, limit?: number): Promise<ParkedEntry[]>;
  /** Queues a sink's parked entries again (after fixing the cause); returns how many. */
  requeueParked(sink: string): Promise<number>;
  /**
   * Waits until no pending entry is left for the relayed sinks (parked ones do not count).
   * Rejects with TIMEOUT, saying how many are left, when `timeoutMs` passes first.
   */
  drain(timeoutMs: number): Promise<void>;
  /** Stops the relays (a publish in flight finishes or times out), gives slots back, closes sinks. Idempotent. */
  close(): Promise<void>;
  readonly registry: Registry;
}

interface Prepared {
  config: Readonly<SinkConfig>;
  profile: Profile;
  sink?: Sink;
}

/**
 * Builds every enabled sink and its profile up front, so invalid sink settings stop the
 * process at start (ConfigError naming `sinks[i].<key>`, exit 2) rather than at first use.
 */
function prepare(config: OutboxConfig, factory: SinkFactory, logger: Logger): Prepared[] {
  const out: Prepared[] = [];
  const built: Sink[] = [];
  try {
    config.sinks.forEach((s, i) => {
      let profile: Profile;
      try {
        profile = getProfile(s.profile ?? 'cloudevents', `sinks[${i}].profile`);
      } catch (err) {
        throw new ConfigError(`invalid sink "${s.name}": ${(err as Error).message}`, [{ path: `sinks[${i}].profile`, message: (err as Error).message }]);
      }
      if (!config.streaming || s.enabled === false) {
        out.push({ config: s, profile });
        return;
      }
      let sink: Sink;
      try {
        sink = factory(s, { logger: logger.child({ sink: s.name }) });
      } catch (err) {
        if (err instanceof HeraldError && err.code === 'CONFIG') {
          const details = err.details.length > 0
            ? err.details.map((d) => ({ path: d.path.startsWith('sinks[') ? d.path : `sinks[${i}]${d.path ? `.${d.path}` : ''}`, message: d.message }))
            : [{ path: `sinks[${i}]`, message: err.message }];
          throw new ConfigError(`invalid sink "${s.name}" (sinks[${i}]): ${err.message}`, details);
        }
        throw new ConfigError(`invalid sink "${s.name}" (sinks[${i}]): ${(err as Error).message}`, [{ path: `sinks[${i}]`, message: (err as Error).message }]);
      }
      built.push(sink);
      out.push({ config: s, profile, sink });
    });
  } catch (err) {
    for (const s of built) void s.close().catch(() => undefined);
    throw err;
  }
  return out;
}

/** Starts the outbox relays (none when streaming is off) and retention. */
export async function createOutbox(options: OutboxOptions): Promise<Outbox> {
  const { store, config, logger } = options;
  const registry = options.registry ?? new Registry();
  const prepared = prepare(config, options.createSink ?? defaultCreateSink, logger);
  const db = store.db as unknown as OutboxDb;
  const member = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

  let relays: SinkRelay[] = [];
  const statusOf = async (): Promise<SinkStatus[]> => {
    const counts = await sinkCounts(db);
    const now = Date.now();
    return prepared.map((p) => {
      const c = counts.get(p.config.name);
      const relay = relays.find((r) => r.name === p.config.name);
      const live = relay?.liveStatus();
      const stored = c?.lastError ? { message: c.lastError, at: c.lastErrorMs ?? 0 } : undefined;
      const last = live?.failing && live.lastError ? live.lastError : stored ?? live?.lastError;
      return {
        name: p.config.name,
        type: p.config.type,
        profile: p.profile.name,
        enabled: relay !== undefined,
        connected: live?.connected ?? false,
        pending: c?.pending ?? 0,
        parked: c?.parked ?? 0,
        delivered: c?.delivered ?? 0,
        failed: c?.failed ?? 0,
        retries: c?.retries ?? 0,
        oldestPendingAgeSeconds: c?.oldestPendingMs != null ? Math.max(0, (now - c.oldestPendingMs) / 1000) : null,
        lastError: last?.message ?? null,
        lastErrorAt: last !== undefined && last.at > 0 ? new Date(last.at).toISOString() : null,
      };
    });
  };
  const metrics = new OutboxMetrics(registry, statusOf);

  if (!config.streaming) {
    logger.info({ streaming: false }, 'streaming is off (streaming: false / HERALD_STREAMING=false): events are stored and served by the API, but not published to any sink');
  } else {
    await ensureOutboxSchema(store.db as never, store.dialect);
    relays = prepared.filter((p) => p.sink !== undefined).map((p) => new SinkRelay({
      db,
      dialect: store.dialect,
      config: p.config,
      sink: p.sink!,
      profile: p.profile,
      logger,
      metrics,
      member,
      ...(options.relay?.idleMs !== undefined && { idleMs: options.relay.idleMs }),
      ...(options.relay?.backoff !== undefined && { backoff: options.relay.backoff }),
      ...(options.relay?.summaryEveryMs !== undefined && { summaryEveryMs: options.relay.summaryEveryMs }),
      ...(options.relay?.leaseRefreshMs !== undefined && { leaseRefreshMs: options.relay.leaseRefreshMs }),
    }));
    for (const r of relays) r.start();
    // Entries of a sink that is no longer configured (or disabled) would wait forever: say so once.
    const relayed = new Set(relays.map((r) => r.name));
    for (const [name, c] of await sinkCounts(db)) {
      if (!relayed.has(name) && c.pending > 0) {
        logger.warn({ sink: name, pending: c.pending }, `${c.pending} outbox entries wait for sink "${name}", which is not configured or disabled; they are kept until it relays again`);
      }
    }
    const disabled = prepared.filter((p) => p.sink === undefined).map((p) => p.config.name);
    logger.info({ sinks: relays.map((r) => r.name), disabled }, relays.length > 0
      ? `outbox relaying to ${relays.map((r) => r.name).join(', ')}${disabled.length > 0 ? ` (disabled: ${disabled.join(', ')})` : ''}`
      : 'streaming is on but no sink is configured: events are stored only');
  }

  // PostgreSQL plans the claim query from table statistics; a backlog that grew faster than
  // autovacuum's analyze would be planned as a one-row table (nested loops over every entry).
  const analyzer = store.dialect === 'postgres' && relays.length > 0
    ? setInterval(() => {
      void sql`analyze herald_outbox`.execute(db).catch((err: unknown) => logger.debug({ err: String(err) }, 'analyze herald_outbox failed'));
    }, 60_000)
    : undefined;
  analyzer?.unref();

  const housekeeping: Housekeeping | undefined = options.housekeeping === false || config.retention === undefined
    ? undefined
    : startHousekeeping({ store, retentionDays: config.retention.days, logger });

  let closing: Promise<void> | undefined;
  return {
    registry,
    sinks: {
      status: statusOf,
      sinkNames: (event) => sinkNamesFor(prepared.filter((p) => p.sink !== undefined).map((p) => p.config), config.streaming, event),
    },
    notify() {
      for (const r of relays) r.notify();
    },
    parked: (sink, limit = 100) => listParked(db, sink, limit),
    async requeueParked(sink) {
      const n = await requeueParked(db, sink, Date.now());
      for (const r of relays) r.notify();
      return n;
    },
    async drain(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        let left = 0;
        for (const r of relays) left += await pendingCount(db, r.name);
        if (left === 0) return;
        if (Date.now() >= deadline) {
          throw new HeraldError('TIMEOUT', `outbox not drained within ${timeoutMs} ms: ${left} events still pending (they stay stored and are delivered later)`);
        }
        for (const r of relays) r.notify();
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    close() {
      closing ??= (async () => {
        clearInterval(analyzer);
        await housekeeping?.close();
        await Promise.all(relays.map((r) => r.close()));
      })();
      return closing;
    },
  };
}

/** The `outbox` factory of `startService(config, { outbox })`: createOutbox with positional arguments. */
export function serviceOutbox(store: EventStore, config: OutboxConfig, logger: Logger, registry?: Registry): Promise<Outbox> {
  return createOutbox({ store, config, logger, ...(registry !== undefined && { registry }) });
}

/** The name `herald serve` looks up (src/cli/serve.ts loads `outboxFactory` from this module). */
export const outboxFactory = serviceOutbox;
