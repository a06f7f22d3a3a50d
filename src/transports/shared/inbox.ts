/** Plumbing shared by the push-based sources (NATS, AMQP): a queue read by one iterator, an abortable sleep. */
import type { ReceivedMessage, Source } from '../types.js';

/** Resolves after `ms`, or at once when the signal aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** An unbounded push queue read by one async iterator; end(err) makes the reader throw. */
export class Inbox<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private error: unknown;

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.wake?.();
  }

  end(err?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.error = err;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.ended) {
        if (this.error !== undefined) throw this.error;
        return;
      }
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}

/** Opens once: a source's "consuming now" signal for start(), or the error that ended it first. */
export class Latch {
  readonly promise: Promise<void>;
  #open!: () => void;
  #fail!: (err: unknown) => void;
  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.#open = resolve;
      this.#fail = reject;
    });
    // Nobody may wait for it: an unobserved failure must not become an unhandled rejection.
    this.promise.catch(() => undefined);
  }
  open(): void {
    this.#open();
  }
  fail(err: unknown): void {
    this.#fail(err);
  }
}

/**
 * What the push-based sources (NATS, AMQP) share: the inbox their callbacks fill, the "now
 * consuming" latch, the stop signal, and messages()/start() around the subclass's run().
 */
export abstract class PushSource implements Source {
  protected readonly inbox = new Inbox<ReceivedMessage>();
  protected readonly ready = new Latch();
  protected readonly stop = new AbortController();
  protected closed = false;
  #started = false;

  /** Connects and fills the inbox until closed; a rejection ends the iteration with that error. */
  protected abstract run(): Promise<void>;

  messages(): AsyncIterable<ReceivedMessage> {
    if (!this.#started) {
      this.#started = true;
      this.run().catch((err: unknown) => {
        this.ready.fail(err);
        this.inbox.end(err);
      });
    }
    return this.inbox;
  }

  /** Resolves once the source consumes: messages published from then on arrive. */
  start(): Promise<void> {
    this.messages();
    return this.ready.promise;
  }

  abstract close(): Promise<void>;
}
