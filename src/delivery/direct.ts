/**
 * Direct delivery: messages already encoded by their bindings are published now, and
 * deliver() resolves after every broker acknowledged; it rejects with the first failure
 * (nothing is retried here: durable mode retries across restarts). Sinks are built on first
 * use, so a publisher that never emits never loads a client library.
 */
import { HeraldError } from '../errors.js';
import type { OutgoingMessage, Sink, SinkDeps } from '../transports/types.js';
import type { SinkBinding } from './binding.js';

/** What one binding must publish. */
export interface Delivery {
  binding: SinkBinding;
  messages: OutgoingMessage[];
}

interface Entry {
  sink: Promise<Sink>;
  started: boolean;
}

export class DirectDelivery {
  readonly #deps: SinkDeps;
  readonly #entries = new Map<SinkBinding, Entry>();
  #closed = false;

  constructor(deps: SinkDeps) {
    this.#deps = deps;
  }

  #entry(binding: SinkBinding): Entry {
    let e = this.#entries.get(binding);
    if (e === undefined) {
      e = { sink: binding.createSink({ ...this.#deps, logger: this.#deps.logger.child({ sink: binding.name }) }), started: false };
      // A sink that cannot even be built is retried at the next delivery.
      e.sink.catch(() => this.#entries.delete(binding));
      this.#entries.set(binding, e);
    }
    return e;
  }

  /** The sink of a binding (built if needed), e.g. to print where the last publish landed. */
  sinkOf(binding: SinkBinding): Promise<Sink> {
    return this.#entry(binding).sink;
  }

  async #deliver(d: Delivery): Promise<void> {
    const entry = this.#entry(d.binding);
    const sink = await entry.sink;
    // Profiles may announce themselves once per run (aliecs: the empty active list).
    const messages = entry.started ? d.messages : [...d.binding.startMessages(), ...d.messages];
    if (messages.length === 0) return;
    const outcomes = await sink.publish(messages);
    entry.started = true;
    const failed = outcomes.find((o): o is Extract<typeof o, { ok: false }> => !o.ok);
    if (failed !== undefined) throw new HeraldError(failed.error.code, `sink ${d.binding.name}: ${failed.error.message}`, { cause: failed.error });
  }

  /** Publishes every binding's messages in parallel; resolves when all were acknowledged. */
  async deliver(deliveries: readonly Delivery[]): Promise<void> {
    if (this.#closed) throw new HeraldError('CLOSED', 'the publisher is closed');
    const results = await Promise.allSettled(deliveries.map((d) => this.#deliver(d)));
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
    await Promise.allSettled([...this.#entries.values()].map(async (e) => (await e.sink).close()));
  }
}
