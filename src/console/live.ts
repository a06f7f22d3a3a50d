/**
 * The console's live feed: one server-sent-events stream with what the board and the sinks
 * panel need, so they update without polling from the browser. Events themselves come from
 * GET /v2/events/stream (the public, resumable stream); this feed only carries:
 *   event: entities       the whole board, once, when the stream opens
 *   event: entity         one entity after a state change (from the stored enter notifications)
 *   event: sinks-history  the recent samples of every sink, once, so the charts start filled
 *   event: sinks          every sink's status, when the stream opens and at each sample
 * and SSE comments as heartbeats, so proxies and the browser see the connection is alive.
 */
import type { EntityState, EntityTransitionData, HeraldEvent } from '../events/index.js';
import { ENTITY_EVENT_TYPES } from '../events/index.js';
import type { SinkStatus } from '../transports/types.js';
import type { EventStore } from '../store/types.js';
import { SseStalled } from '../shared/sse.js';

/** Something that says every sink's status (the outbox's SinkRouting fits). */
export interface SinkStatusSource {
  status(): Promise<SinkStatus[]>;
}

/** Wakes the feed early when this process stored events (the API's notifier fits). */
export interface Wakeup {
  wait(ms: number): Promise<void>;
}

/** Timing of the live feed; tests shorten it. */
export interface LiveTiming {
  /** How often the store is polled for state changes (other writers do not wake us). Default 1000. */
  pollMs: number;
  /** How often the sinks' status is sampled and sent. Default 2000. */
  sinksMs: number;
  /** Heartbeat comment after this long without a message. Default 15000. */
  heartbeatMs: number;
}

export const DEFAULT_LIVE_TIMING: LiveTiming = { pollMs: 1000, sinksMs: 2000, heartbeatMs: 15_000 };

const BATCH = 500;

/** One sample of a sink for the charts: delivered (a counter) and pending (the lag). */
export interface SinkSample {
  /** Milliseconds since the epoch. */
  t: number;
  delivered: number;
  pending: number;
}

/** Samples kept per sink: five minutes at the default two-second pace. */
export const SINK_HISTORY = 150;

/**
 * Samples the sinks' status for every viewer at once: however many consoles are open, the
 * outbox is asked once per interval. Runs only while someone watches, and keeps the samples
 * of the last minutes so a console opened later starts with filled charts.
 */
export class SinkSampler {
  private readonly history = new Map<string, SinkSample[]>();
  private readonly listeners = new Set<(status: SinkStatus[] | Error) => void>();
  private timer: NodeJS.Timeout | undefined;
  private latest: SinkStatus[] | undefined;
  private sampling: Promise<void> | undefined;

  constructor(private readonly source: SinkStatusSource | undefined, private readonly intervalMs: number) {}

  /** The recent samples per sink, oldest first. */
  samples(): Record<string, SinkSample[]> {
    return Object.fromEntries([...this.history].map(([name, list]) => [name, list.slice()]));
  }

  /** The newest status (sampling now when there is none yet). */
  async current(): Promise<SinkStatus[]> {
    if (this.latest === undefined) await this.sample();
    return this.latest ?? [];
  }

  /** Calls `listener` at every sample until the returned function is called. */
  subscribe(listener: (status: SinkStatus[] | Error) => void): () => void {
    this.listeners.add(listener);
    if (this.timer === undefined) {
      this.timer = setInterval(() => { void this.sample(); }, this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private sample(): Promise<void> {
    // One query in flight at a time: a slow outbox must not pile up status calls.
    this.sampling ??= (async () => {
      let result: SinkStatus[] | Error;
      try {
        result = this.source === undefined ? [] : await this.source.status();
        const t = Date.now();
        for (const s of result) {
          const list = this.history.get(s.name) ?? [];
          list.push({ t, delivered: s.delivered, pending: s.pending });
          if (list.length > SINK_HISTORY) list.splice(0, list.length - SINK_HISTORY);
          this.history.set(s.name, list);
        }
        this.latest = result;
      } catch (err) {
        result = err as Error;
      }
      for (const l of this.listeners) l(result);
    })().finally(() => { this.sampling = undefined; });
    return this.sampling;
  }
}

/** Builds the board entry from an enter notification: it carries the whole new state. */
export function entityFromEnter(event: HeraldEvent): EntityState | undefined {
  const d = event.data as Partial<EntityTransitionData> | undefined;
  if (d === undefined || d === null || typeof d.kind !== 'string' || typeof d.id !== 'string' || typeof d.state !== 'string') return undefined;
  return {
    kind: d.kind,
    id: d.id,
    state: d.state,
    previous: d.previous ?? null,
    enteredAt: typeof d.enteredAt === 'string' ? d.enteredAt : event.time,
    updatedAt: event.time,
    attributes: d.attributes !== null && typeof d.attributes === 'object' ? d.attributes : {},
  };
}

/** One SSE message; data is JSON on a single line, so no framing can break. */
export const sseMessage = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * Runs the feed until `isOpen()` turns false: writes to `write`. The position in the store is
 * taken before the board snapshot, so a change made while the snapshot is read is sent again
 * (applying it twice is harmless) rather than lost.
 */
export async function runLiveFeed(deps: {
  store: EventStore;
  sampler: SinkSampler;
  wakeup: Wakeup;
  timing: LiveTiming;
  /** Resolves when the next chunk may be written (back-pressure); may reject to stop the feed. */
  write: (chunk: string) => void | Promise<void>;
  isOpen: () => boolean;
}): Promise<void> {
  const { store, sampler, wakeup, timing, write, isOpen } = deps;
  let seq = await store.lastSeq();
  await write(sseMessage('entities', await store.listEntities()));
  let lastWrite = Date.now();
  const sinksMessage = (status: SinkStatus[] | Error) =>
    status instanceof Error ? sseMessage('sinks-error', { error: status.message }) : sseMessage('sinks', status);
  // The current status and history first, then every later sample.
  const now = await sampler.current().catch((err: unknown) => err as Error);
  await write(sseMessage('sinks-history', sampler.samples()));
  await write(sinksMessage(now));
  // Samples arrive on the sampler's clock; a client still busy with the previous chunk skips one.
  let busy = false;
  const unsubscribe = sampler.subscribe((status) => {
    if (busy) return;
    busy = true;
    Promise.resolve(write(sinksMessage(status))).catch(() => undefined).finally(() => { busy = false; });
    lastWrite = Date.now();
  });
  try {
    await follow();
  } finally {
    unsubscribe();
  }

  async function follow(): Promise<void> {
    while (isOpen()) {
      try {
        const batch = await store.tail({ types: [ENTITY_EVENT_TYPES.enter] }, seq, BATCH);
        for (const row of batch) {
          seq = row.seq;
          const entity = entityFromEnter(row.event);
          if (entity !== undefined) await write(sseMessage('entity', entity));
          lastWrite = Date.now();
        }
        if (batch.length === BATCH) continue;
      } catch (err) {
        // The store may be restarting (PostgreSQL failover): say so and keep trying.
        if (err instanceof SseStalled) throw err;
        await write(sseMessage('store-error', { error: (err as Error).message }));
        lastWrite = Date.now();
      }
      if (Date.now() - lastWrite >= timing.heartbeatMs) {
        await write(': heartbeat\n\n');
        lastWrite = Date.now();
      }
      if (!isOpen()) break;
      await wakeup.wait(timing.pollMs);
    }
  }
}
