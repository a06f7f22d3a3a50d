/**
 * Replay: re-publish stored events to a sink through the outbox, so a replay has the same
 * guarantees as live delivery (acks, retries, per-key order) and keeps the original ids
 * (consumers de-duplicate by id). Stored events went through ingest's redaction when they
 * were accepted; the redaction is applied again with today's keys (an operator may have added
 * one since), and a stored event it changes is rewritten first, so nothing the current
 * configuration calls secret leaves through a replay either.
 */
import type { HeraldEvent } from '../events/schema.js';
import type { Outbox } from '../outbox/outbox.js';
import type { EventQuery, EventStore } from '../store/types.js';

export type ReplayFilter = Omit<EventQuery, 'limit' | 'offset' | 'order'>;

export interface ReplayOptions {
  store: EventStore;
  outbox: Pick<Outbox, 'requeue'>;
  /** The redaction of the ingest (Ingest.redact). */
  redact: (event: HeraldEvent) => HeraldEvent;
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
 * events stored meanwhile neither shift pages nor get skipped. Returns the events queued and
 * how many stored events were re-redacted.
 */
export async function enqueueReplay(o: ReplayOptions): Promise<{ total: number; queued: number; redacted: number }> {
  const total = await countMatching(o.store, o.filter);
  const batch = o.batchSize ?? 1000;
  let after = 0;
  let queued = 0;
  let redacted = 0;
  for (;;) {
    if (o.signal?.aborted) break;
    const rows = await o.store.tail(o.filter, after, batch);
    if (rows.length === 0) break;
    const current = rows.map((r) => ({ seq: r.seq, event: o.redact(r.event) }));
    const changed = current.filter((r, i) => JSON.stringify(r.event) !== JSON.stringify(rows[i]!.event));
    if (changed.length > 0) redacted += await o.store.rewrite(changed);
    await o.outbox.requeue(o.sink, current);
    queued += rows.length;
    after = rows[rows.length - 1]!.seq;
    o.onProgress?.(queued, total);
    if (rows.length < batch) break;
  }
  return { total, queued, redacted };
}
