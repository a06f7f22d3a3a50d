/**
 * The durable outbox: pending entries in the store's database, written in the same
 * transaction as their events (enqueue), and one relay per enabled sink binding that delivers
 * them, surviving broker outages and restarts. It also runs the one retention of the store
 * (batched, housekeeping.ts), which keeps events an entry still points to.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Registry } from 'prom-client';
import type { SinkBinding } from '../delivery/binding.js';
import { partitionKey } from '../events/event.js';
import { HeraldError } from '../errors.js';
import type { Logger } from '../log.js';
import type { EventStore, StoreTransaction, StoredEvent } from '../store/types.js';
import type { Sink, SinkDeps, SinkStatus } from '../transports/types.js';
import type { BackoffOptions } from './backoff.js';
import { startHousekeeping, type Housekeeping } from './housekeeping.js';
import { OutboxMetrics } from './metrics.js';
import { SinkRelay } from './relay.js';
import type { OutboxDb, OutboxTables } from './schema.js';
import { insertEntries, insertEntriesReturning, listParked, outboxDb, pendingCount, requeueParked, sinkCounts, type ParkedEntry, type WrittenEntry } from './sql.js';

/** Entries written in a transaction, for the hand-off to the relays once it committed. */
export interface StagedEntries {
  readonly entries: readonly WrittenEntry[];
}

export interface OutboxOptions {
  /** A store migrated with the outbox's schema (store.migrate([outboxSchema])). */
  store: EventStore;
  /** Every configured sink; entries are written for the enabled ones whose filter matches. */
  bindings: readonly SinkBinding[];
  /** The feature flag for all sinks: false stores events without entries (and starts no relay). */
  streaming: boolean;
  logger: Logger;
  /** Where the metrics go (default: a registry of its own). */
  registry?: Registry;
  /** What sinks get besides their options (a stdout sink's stream, the environment). */
  sinkDeps?: Omit<SinkDeps, 'logger'>;
  /** Builds a binding's sink (tests pass scripted sinks); default: the binding's transport. */
  createSink?: (binding: SinkBinding, deps: SinkDeps) => Promise<Sink> | Sink;
  /** Relay tuning, mostly for tests. */
  relay?: { idleMs?: number; backoff?: BackoffOptions; summaryEveryMs?: number; leaseRefreshMs?: number; maxHanded?: number };
  /** Retention in days; undefined: none (the library's durable publisher keeps what it sends only until delivered). */
  retentionDays?: number;
  /**
   * false: write entries but relay nothing here (another process relays: `herald replay
   * --no-wait` next to a running serve); default true.
   */
  startRelays?: boolean;
}

export interface Outbox {
  /** The bindings an event is relayed to: enabled, filter matching, streaming on. */
  targets(event: StoredEvent['event']): SinkBinding[];
  /**
   * Writes one pending entry per stored event and each sink `sinksOf` names (default: its
   * targets), inside the store's transaction.
   */
  enqueue(tx: StoreTransaction, stored: readonly StoredEvent[], sinksOf?: (s: StoredEvent) => readonly string[]): Promise<number>;
  /**
   * enqueue, keeping what it wrote: once the transaction has committed, `handOff` gives the
   * entries to their relays in memory, so a relay does not read back what it was just handed.
   */
  stage(tx: StoreTransaction, stored: readonly StoredEvent[], sinksOf?: (s: StoredEvent) => readonly string[]): Promise<StagedEntries>;
  /** After the commit of staged entries: hands them to their relays (in order per key) and wakes them. */
  handOff(staged: StagedEntries): void;
  /** Queues already stored events for one sink again (replay); returns the entries written. */
  requeue(sink: string, stored: ReadonlyArray<Pick<StoredEvent, 'seq' | 'event'>>): Promise<number>;
  /** Entries were written without a hand-off (another path or process): the relays read the table now instead of at their next poll. */
  notify(): void;
  /** Every configured sink with its backlog, counters and live state. */
  status(): Promise<SinkStatus[]>;
  /** Parked entries of one sink (rejected permanently), oldest first, with their errors. */
  parked(sink: string, limit?: number): Promise<ParkedEntry[]>;
  /** Queues a sink's parked entries again (after fixing the cause); returns how many. */
  requeueParked(sink: string): Promise<number>;
  /**
   * Waits until no pending entry is left for the relayed sinks (parked ones do not count).
   * Rejects with TIMEOUT, saying how many are left, when `timeoutMs` passes first.
   */
  drain(timeoutMs: number): Promise<void>;
  /** Deletes events older than the retention now (batched); resolves with how many. */
  retain(): Promise<number>;
  /** Stops the relays (a publish in flight finishes or times out), gives slots back, closes sinks. Idempotent. */
  close(): Promise<void>;
  readonly registry: Registry;
}

/** Starts the relays of the enabled sinks (none when streaming is off) and retention. */
export async function createOutbox(options: OutboxOptions): Promise<Outbox> {
  const { store, bindings, logger } = options;
  const registry = options.registry ?? new Registry();
  const db = store.db.withTables<OutboxTables>() as unknown as OutboxDb;
  const member = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const relayed = options.streaming ? bindings.filter((b) => b.enabled) : [];

  let relays: SinkRelay[] = [];
  /** The relays' sinks by name, for what a sink reports itself (a webhook's endpoint figures). */
  const sinkByName = new Map<string, Sink>();
  const statusOf = async (): Promise<SinkStatus[]> => {
    const counts = await sinkCounts(db);
    const now = Date.now();
    return bindings.map((b) => {
      const c = counts.get(b.name);
      const relay = relays.find((r) => r.name === b.name);
      const live = relay?.liveStatus();
      const stored = c?.lastError ? { message: c.lastError, at: c.lastErrorMs ?? 0 } : undefined;
      const last = live?.failing && live.lastError ? live.lastError : stored ?? live?.lastError;
      return {
        name: b.name,
        type: b.config.type,
        profile: b.profile.name,
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
        ...(relay !== undefined && sinkByName.get(b.name)?.endpoint !== undefined && { endpoint: sinkByName.get(b.name)!.endpoint!() }),
      };
    });
  };
  const metrics = new OutboxMetrics(registry, statusOf);

  if (options.startRelays === false) {
    logger.debug({ sinks: relayed.map((b) => b.name) }, 'outbox entries are written here; another process relays them');
  } else if (!options.streaming) {
    logger.info({ streaming: false }, 'streaming is off (streaming: false / HERALD_STREAMING=false): events are stored and served by the API, but not published to any sink');
  } else {
    const build = options.createSink ?? ((b: SinkBinding, deps: SinkDeps) => b.createSink(deps));
    const sinks: Sink[] = [];
    try {
      for (const b of relayed) sinks.push(await build(b, { ...options.sinkDeps, logger: logger.child({ sink: b.name }) }));
    } catch (err) {
      await Promise.allSettled(sinks.map((s) => s.close()));
      throw err;
    }
    relays = relayed.map((binding, i) => new SinkRelay({
      db,
      ...(store.functions.hashText !== undefined && { hashText: store.functions.hashText }),
      binding,
      sink: sinks[i]!,
      logger,
      metrics,
      member,
      ...(options.relay?.idleMs !== undefined && { idleMs: options.relay.idleMs }),
      ...(options.relay?.backoff !== undefined && { backoff: options.relay.backoff }),
      ...(options.relay?.summaryEveryMs !== undefined && { summaryEveryMs: options.relay.summaryEveryMs }),
      ...(options.relay?.leaseRefreshMs !== undefined && { leaseRefreshMs: options.relay.leaseRefreshMs }),
      ...(options.relay?.maxHanded !== undefined && { maxHanded: options.relay.maxHanded }),
    }));
    relayed.forEach((b, i) => sinkByName.set(b.name, sinks[i]!));
    for (const r of relays) r.start();
    // Entries of a sink that is no longer configured (or disabled) would wait forever: say so once.
    const names = new Set(relays.map((r) => r.name));
    for (const [name, c] of await sinkCounts(db)) {
      if (!names.has(name) && c.pending > 0) {
        logger.warn({ sink: name, pending: c.pending }, `${c.pending} outbox entries wait for sink "${name}", which is not configured or disabled; they are kept until it relays again`);
      }
    }
    const disabled = bindings.filter((b) => !b.enabled).map((b) => b.name);
    logger.info({ sinks: relays.map((r) => r.name), disabled }, relays.length > 0
      ? `outbox relaying to ${relays.map((r) => r.name).join(', ')}${disabled.length > 0 ? ` (disabled: ${disabled.join(', ')})` : ''}`
      : 'streaming is on but no sink is configured: events are stored only');
  }

  // Where the dialect plans from statistics (PostgreSQL), a backlog that grew faster than
  // autovacuum's analyze would be planned as a one-row table (nested loops over every entry).
  const analyze = store.functions.analyze;
  const analyzer = analyze !== undefined && relays.length > 0
    ? setInterval(() => {
      void analyze(store.db, 'herald_outbox').catch((err: unknown) => logger.debug({ err: String(err) }, 'analyze herald_outbox failed'));
    }, 60_000)
    : undefined;
  analyzer?.unref();

  const housekeeping: Housekeeping | undefined = options.retentionDays === undefined
    ? undefined
    : startHousekeeping({ store, retentionDays: options.retentionDays, logger });

  const targets = (event: StoredEvent['event']): SinkBinding[] => relayed.filter((b) => b.accepts(event));
  const notify = (): void => {
    for (const r of relays) r.notify();
  };
  const relayOf = new Map<string, SinkRelay>();
  for (const r of relays) relayOf.set(r.name, r);
  let closing: Promise<void> | undefined;
  return {
    registry,
    targets,
    enqueue(tx, stored, sinksOf = (s) => targets(s.event).map((b) => b.name)) {
      return insertEntries(outboxDb(tx), tx.abilities.maxParameters, stored, sinksOf, tx.now.getTime(), partitionKey);
    },
    async stage(tx, stored, sinksOf = (s) => targets(s.event).map((b) => b.name)) {
      // Without a relay here, nothing takes a hand-off: write as enqueue does.
      if (relays.length === 0) {
        await insertEntries(outboxDb(tx), tx.abilities.maxParameters, stored, sinksOf, tx.now.getTime(), partitionKey);
        return { entries: [] };
      }
      return { entries: await insertEntriesReturning(outboxDb(tx), tx.abilities.maxParameters, stored, sinksOf, tx.now.getTime(), partitionKey) };
    },
    handOff(staged) {
      if (relays.length === 0) return;
      const bySink = new Map<string, WrittenEntry[]>();
      for (const e of staged.entries) {
        let list = bySink.get(e.sink);
        if (list === undefined) bySink.set(e.sink, (list = []));
        list.push(e);
      }
      for (const [sink, list] of bySink) relayOf.get(sink)?.handOff(list);
    },
    async requeue(sink, stored) {
      if (stored.length === 0) return 0;
      const n = await store.db.transaction().execute((trx) => insertEntries(outboxDb({ db: trx, abilities: store.abilities, now: new Date() }), store.abilities.maxParameters, stored, () => [sink], Date.now(), partitionKey));
      notify();
      return n;
    },
    notify,
    status: statusOf,
    parked: (sink, limit = 100) => listParked(db, sink, limit),
    async requeueParked(sink) {
      const n = await requeueParked(db, sink, Date.now());
      notify();
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
        for (const r of relays) r.wake();
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    retain: () => housekeeping?.runOnce() ?? Promise.resolve(0),
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
