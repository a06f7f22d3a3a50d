/**
 * Direct delivery: each batch is encoded per sink and published; dispatch() resolves after
 * every broker acknowledged, and rejects with the first failure (nothing is retried here:
 * use durable mode for retries across restarts).
 */
import type { SinkConfig } from '../config/schema.js';
import { HeraldError } from '../errors.js';
import type { HeraldEvent } from '../events/schema.js';
import { sinkAccepts } from '../outbox/filter.js';
import { getProfile } from '../profiles/index.js';
import type { Sink } from '../sinks/types.js';
import { encodeAllForSink, encodeContext } from './encode.js';
import type { Dispatcher, DispatcherContext } from './types.js';

interface Entry {
  config: SinkConfig;
  sink: Sink;
  started: boolean;
}

/** The topic a sink's own settings name (a Kafka producer properties `topic`), if any. */
const ownTopic = (sink: Sink): string | undefined => (sink as { propertiesTopic?: string }).propertiesTopic;

/** The Dispatcher of direct mode: publish now, resolve after the brokers acknowledged. */
export class DirectDispatcher implements Dispatcher {
  readonly #entries: Entry[];
  readonly #ctx: DispatcherContext;
  #closed = false;

  constructor(ctx: DispatcherContext) {
    this.#ctx = ctx;
    this.#entries = ctx.sinks.filter((s) => s.enabled !== false).map((config) => ({ config, sink: ctx.createSink(config), started: false }));
  }

  /** The sinks this dispatcher publishes to (for status and tests). */
  get sinks(): readonly Sink[] {
    return this.#entries.map((e) => e.sink);
  }

  async #deliver(entry: Entry, events: readonly HeraldEvent[]): Promise<void> {
    const fallback = ownTopic(entry.sink);
    const messages = encodeAllForSink(entry.config, events.filter((e) => sinkAccepts(entry.config, e)), fallback);
    if (!entry.started) {
      // Profiles may announce themselves once per run (aliecs: the empty active list).
      const profile = getProfile(entry.config.profile ?? 'cloudevents');
      const start = profile.onStart?.(encodeContext(entry.config, fallback)) ?? [];
      messages.unshift(...start);
    }
    if (messages.length === 0) return;
    const outcomes = await entry.sink.publish(messages);
    entry.started = true;
    const failed = outcomes.findIndex((o) => !o.ok);
    if (failed >= 0) {
      const o = outcomes[failed] as { ok: false; error: HeraldError };
      throw new HeraldError(o.error.code, `sink ${entry.config.name}: ${o.error.message}`, { cause: o.error });
    }
  }

  async dispatch(events: readonly HeraldEvent[]): Promise<void> {
    if (this.#closed) throw new HeraldError('CLOSED', 'the publisher is closed');
    const results = await Promise.allSettled(this.#entries.map((e) => this.#deliver(e, events)));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure !== undefined) {
      const err = failure.reason;
      if (err instanceof HeraldError) throw err;
      throw new HeraldError('INTERNAL', `publishing failed: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#entries.map((e) => e.sink.close()));
  }
}
