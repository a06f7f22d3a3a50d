/**
 * Replay: re-publish stored events to a sink through the outbox, so a replay has the same
 * guarantees as live delivery (acks, retries, per-key order) and keeps the original ids
 * (consumers de-duplicate by id).
 */
import type { EventQuery, EventStore } from '../store/types.js';

export type ReplayFilter = Omit<EventQuery, 'limit' | 'offset' | 'order'>;

export interface ReplayOptions {
  store: EventStore;
  /** The configured sink to deliver to. */
  sink: string;
  filter: ReplayFilter;
  /** Events queued per transaction (default 1000). */
  batchSize?: number;
  /** Called after every batch with the events queued so far and the total matching. */
  onProgress?: (queued: number, total: number) => void;
  signal?: AbortSignal;
}

/** How many stored events match the filter. */
export async function countMatching(store: EventStore, filter: ReplayFilter): Promise<number> {
  const page = await store.query({ ...filter, limit: 1, offset: 0, order: 'ascending' });
  return page.total;
}

/**
 * Queues every matching event (in insertion order) for the sink. Paging is by `seq`, so
 * events stored meanwhile neither shift pages nor get skipped. Returns the events queued.
 */
export async function enqueueReplay(o: ReplayOptions): Promise<{ total: number; queued: number }> {
  const total = await countMatching(o.store, o.filter);
  const batch = o.batchSize ?? 1000;
  let after = 0;
  let queued = 0;
  for (;;) {
    if (o.signal?.aborted) break;
    const rows = await o.store.tail(o.filter, after, batch);
    if (rows.length === 0) break;
    await o.store.enqueue(rows, [o.sink]);
    queued += rows.length;
    after = rows[rows.length - 1]!.seq;
    o.onProgress?.(queued, total);
    if (rows.length < batch) break;
  }
  return { total, queued };
}
