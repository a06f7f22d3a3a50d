/**
 * Group commit of durable hand-overs: the batches of every caller (emit(), an API request, a
 * bridged message) that arrive while a transaction is being written are stored together in
 * the next one — one transaction per tick, bounded by count and bytes — and each caller is
 * resolved only once the transaction holding its events has committed.
 *
 * When a shared transaction fails because of the data (the store refused it, or an unexpected
 * error), the callers are retried one by one, so only those whose events fail are rejected;
 * when the store itself is unavailable or full, every caller of that transaction gets the
 * error. A caller is never resolved unless its transaction committed.
 */
import { HeraldError } from '../errors.js';
import type { Batch } from './ingest.js';

export interface GroupCommitOptions {
  /** Most events in one transaction (a caller's batch is never split; default 5,000). */
  maxEvents?: number;
  /** Most bytes of event JSON in one transaction (default 8 MiB). */
  maxBytes?: number;
}

/** Writes one transaction of several callers' batches; resolves with the new events per batch. */
export type CommitGroup = (batches: readonly Batch[]) => Promise<number[]>;

interface Waiting {
  batch: Batch;
  bytes: number;
  resolve(inserted: number): void;
  reject(err: unknown): void;
}

/** Errors that say the data (or a bug) failed the transaction, not the store: worth retrying each caller alone. */
const isolatable = (err: unknown): boolean =>
  !(err instanceof HeraldError) || err.code === 'INVALID_EVENT' || err.code === 'INTERNAL';

export class GroupCommit {
  readonly #commit: CommitGroup;
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  #queue: Waiting[] = [];
  #writing = false;
  #scheduled = false;

  constructor(commit: CommitGroup, options: GroupCommitOptions = {}) {
    this.#commit = commit;
    this.#maxEvents = options.maxEvents ?? 5000;
    this.#maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  }

  /** Queues a batch for the next transaction; resolves with its new events once that committed. */
  submit(batch: Batch): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const bytes = batch.docs?.reduce((sum, d) => sum + d.length, 0) ?? 0;
      this.#queue.push({ batch, bytes, resolve, reject });
      this.#kick();
    });
  }

  /** Starts the next transaction after this tick (so every arrival of the tick joins it), unless one is being written. */
  #kick(): void {
    if (this.#writing || this.#scheduled || this.#queue.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#writing || this.#queue.length === 0) return;
    this.#writing = true;
    try {
      await this.#write(this.#take());
    } finally {
      this.#writing = false;
      this.#kick();
    }
  }

  /** The next group: callers in arrival order up to the bounds (at least one). */
  #take(): Waiting[] {
    let events = 0;
    let bytes = 0;
    let n = 0;
    for (const w of this.#queue) {
      if (n > 0 && (events + w.batch.events.length > this.#maxEvents || bytes + w.bytes > this.#maxBytes)) break;
      events += w.batch.events.length;
      bytes += w.bytes;
      n++;
    }
    const group = this.#queue.slice(0, n);
    this.#queue = this.#queue.slice(n);
    return group;
  }

  async #write(group: readonly Waiting[]): Promise<void> {
    let inserted: number[];
    try {
      inserted = await this.#commit(group.map((w) => w.batch));
    } catch (err) {
      if (group.length === 1 || !isolatable(err)) {
        for (const w of group) w.reject(err);
        return;
      }
      // One caller's data may have failed the whole transaction: each alone, in order.
      for (const w of group) await this.#write([w]);
      return;
    }
    group.forEach((w, i) => w.resolve(inserted[i]!));
  }
}
