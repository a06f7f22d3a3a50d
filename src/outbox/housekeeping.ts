/**
 * Retention: events older than `retention.days` are deleted in small batches with a pause
 * between them, so a large purge never holds the database (SQLite has one writer) long
 * enough to slow ingest. Events an outbox entry still points to are kept until delivered.
 * Delivered outbox entries need no housekeeping: the relay deletes them when acknowledged.
 */
import { sql } from 'kysely';
import type { Logger } from '../log.js';
import type { EventStore } from '../store/types.js';

export interface HousekeepingOptions {
  store: EventStore;
  retentionDays: number;
  logger: Logger;
  /** Between two runs (default 1 h; the first run starts after `firstRunAfterMs`). */
  intervalMs?: number;
  firstRunAfterMs?: number;
  /** Events per DELETE (default 500). */
  batchSize?: number;
  /** Pause between batches (default 50 ms). */
  pauseMs?: number;
  now?: () => number;
}

export interface Housekeeping {
  /** Deletes expired events now; resolves with how many. */
  runOnce(): Promise<number>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Deletes the events older than `beforeMs` that no outbox entry points to, `batchSize` at a
 * time with `pauseMs` between batches, until none is left or `stopped()` says so. The count
 * trigger (store migration 0002) keeps herald_event_counts exact. Resolves with how many.
 */
export async function deleteEventsBefore(store: EventStore, beforeMs: number, o: { batchSize?: number; pauseMs?: number; stopped?: () => boolean } = {}): Promise<number> {
  const batchSize = o.batchSize ?? 500;
  let total = 0;
  for (;;) {
    if (o.stopped?.() === true) break;
    const result = await sql`
      delete from herald_events where seq in (
        select e.seq from herald_events e
        where e.time_ms < ${beforeMs}
          and not exists (select 1 from herald_outbox o where o.event_seq = e.seq)
        order by e.time_ms
        limit ${batchSize})`.execute(store.db);
    const n = Number(result.numAffectedRows ?? 0);
    total += n;
    if (n < batchSize) break;
    await sleep(o.pauseMs ?? 50);
  }
  return total;
}

/** Starts periodic retention; the timer does not keep the process alive. */
export function startHousekeeping(o: HousekeepingOptions): Housekeeping {
  const batchSize = o.batchSize ?? 500;
  const pauseMs = o.pauseMs ?? 50;
  const now = o.now ?? Date.now;
  let closed = false;
  let running: Promise<number> | undefined;

  const runOnce = (): Promise<number> => {
    running ??= (async () => {
      const before = now() - o.retentionDays * 86_400_000;
      let total = 0;
      try {
        total = await deleteEventsBefore(o.store, before, { batchSize, pauseMs, stopped: () => closed });
        if (total > 0) o.logger.info({ deleted: total, retentionDays: o.retentionDays }, `retention: deleted ${total} events older than ${o.retentionDays} days`);
      } catch (err) {
        o.logger.warn({ err: (err as Error).message }, `retention run failed (retried at the next run): ${(err as Error).message}`);
      } finally {
        running = undefined;
      }
      return total;
    })();
    return running;
  };

  const first = setTimeout(() => void runOnce(), o.firstRunAfterMs ?? 1000);
  const every = setInterval(() => void runOnce(), o.intervalMs ?? 3_600_000);
  first.unref();
  every.unref();
  return {
    runOnce,
    async close() {
      closed = true;
      clearTimeout(first);
      clearInterval(every);
      await running;
    },
  };
}
