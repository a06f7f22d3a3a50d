/**
 * One relay per sink: takes pending outbox entries (in its key-hash slots), encodes them
 * with the sink's profile, publishes, and deletes them only after the broker acknowledged.
 *
 * Hand-off: entries committed by this process are handed over in memory (`handOff`, in
 * commit order), so in the normal case the relay never reads back what it was just given; it
 * reads the table only to recover — at start-up, after its slots changed (a lost or moved
 * lease), while an entry waits for a retry, after a whole batch failed, when a handed entry
 * is not newer than what it already took (a gap: a transaction that committed late; nothing
 * handed after it is taken from memory before that read, so it is never overtaken), when
 * its memory queue overflowed, when told entries were written elsewhere (`notify`), and at
 * the poll interval for other processes' entries. Delivered entries are deleted in batches.
 * Where several replicas share the sink's slots, every entry comes from the table as before.
 * Each relay is its own loop, so a failing sink never holds up another; every publish is
 * bounded by a timeout, so a hung broker never holds up the relay's shutdown either.
 */
import type { SinkBinding } from '../delivery/binding.js';
import { HeraldError } from '../errors.js';
import type { Logger } from '../log.js';
import type { DialectFunctions } from '../store/types.js';
import type { OutgoingMessage, PublishOutcome, Sink, SinkStatus } from '../transports/types.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { FailureLog } from './failure-log.js';
import { SlotLeases } from './leases.js';
import type { OutboxMetrics } from './metrics.js';
import { decideRound, encodeBatch, wholeBatchFailed, type OutboxEntry } from './plan.js';
import type { OutboxDb } from './schema.js';
import { addStats, claimBatch, dueSeqs, nextDueMs, pendingCount, writeRound } from './sql.js';

export interface RelayOptions {
  db: OutboxDb;
  /** The dialect's key hash; without one the sink has a single slot (one process relays). */
  hashText?: DialectFunctions['hashText'];
  binding: SinkBinding;
  sink: Sink;
  logger: Logger;
  metrics: OutboxMetrics;
  /** This process's relay id (for slot leases). */
  member: string;
  /** Entries per round (default config.batchSize, else 500). */
  batchSize?: number;
  /** Bound of one connect/publish (default config.timeoutMs, else 15 s). */
  publishTimeoutMs?: number;
  /** Sleep when there is nothing to do (default 100 ms). */
  idleMs?: number;
  /** Slots per sink (default 32 where the dialect can hash keys, else 1). */
  slotCount?: number;
  /** Interval between lease refreshes (default 2 s). */
  leaseRefreshMs?: number;
  backoff?: BackoffOptions;
  /** Interval of "still failing" summaries (default 30 s). */
  summaryEveryMs?: number;
  /** Most handed-over entries held in memory; beyond it they are read from the table (default 50,000). */
  maxHanded?: number;
}

/** Delivered entries are deleted once this many are waiting, or when they have waited this long. */
const DELETE_BATCH = 5000;
const DELETE_AFTER_MS = 20;
/** While busy with handed entries, the table is still read this often for other processes' entries. */
const BUSY_POLL_MS = 1000;

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/**
 * Where a sink sends, for its timeout messages: the brokers or servers it names, or its URL
 * without user info, query or fragment (where a webhook's or broker's credentials would be).
 */
export function destinationOf(config: unknown): string | undefined {
  const c = config as { brokers?: unknown; servers?: unknown; url?: unknown };
  const list = Array.isArray(c.brokers) ? c.brokers : Array.isArray(c.servers) ? c.servers : undefined;
  if (list !== undefined) return list.map(String).join(',');
  if (typeof c.url !== 'string') return undefined;
  // (NATS takes several URLs, comma-separated.) Not through URL: a password with a raw '/'
  // or a scheme-less address would not parse as the user meant and could keep the secret.
  return c.url.split(',')
    .map((part) => part.trim().replace(/[?#].*$/, '').replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)?.*@/, '$1').replace(/\/$/, ''))
    .join(',');
}

/**
 * A sleep that close() or notify() can cut short. A poke while no sleep is under way (the
 * relay is in the middle of a round, perhaps past the query that would have found the new
 * entries) is remembered: the next sleep returns at once, so no wake-up is ever lost.
 */
class Waker {
  private wake: (() => void) | undefined;
  private poked = false;
  sleep(ms: number): Promise<void> {
    if (this.poked) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        if (self.wake === done) self.wake = undefined;
        resolve();
      }
      this.wake = done;
    });
  }
  poke(): void {
    if (this.wake !== undefined) this.wake();
    else this.poked = true;
  }
}

export class SinkRelay {
  readonly name: string;
  private readonly o: RelayOptions;
  private readonly failures: FailureLog;
  private readonly leases: SlotLeases;
  private readonly waker = new Waker();
  private readonly batchSize: number;
  private readonly timeoutMs: number;
  private readonly idleMs: number;
  private readonly slotCount: number;
  private readonly leaseRefreshMs: number;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private started = false;
  private lastLeaseRefresh = 0;
  private sinkFailures = 0;
  /**
   * The current batch limit. After a whole-batch failure it halves the failed batch: a batch
   * that keeps failing may hold one message the client cannot classify inside a batch (e.g.
   * one too large), and halving isolates it so it is parked alone. Each successful round
   * doubles the limit again, up to the configured batch size.
   */
  private limit: number;
  private lastOk = false;
  private lastError: { message: string; at: number } | undefined;
  /** Entries whose last attempt failed as part of a whole batch (not recorded per row). */
  private readonly failedBefore = new Set<number>();
  /** Entries handed over after their commit, in commit order (from `handedHead` on). */
  private handed: OutboxEntry[] = [];
  private handedHead = 0;
  private readonly maxHanded: number;
  /** The highest entry seq taken so far: a handed entry at or below it came late (or was read already) and is left to the table. */
  private high = 0;
  /** Hand-offs past maxHanded were left to the table: none is taken until memory is empty and the table read. */
  private spilled = false;
  /** Read the table in the next round (see the file's comment). */
  private recover = true;
  private lastTableRead = 0;
  /** notify() calls so far: one that comes while the table is being read asks for another read. */
  private notified = 0;
  /** The slots held at the last refresh; a change means reading the table again. */
  private heldSlots = '';
  /** Delivered entries not yet deleted, and the retries they carried, since `deletesSince`. */
  private deletes: number[] = [];
  private deletesRetried = 0;
  private deletesSince = 0;

  constructor(options: RelayOptions) {
    this.o = options;
    const config = options.binding.config;
    this.name = config.name;
    this.batchSize = options.batchSize ?? config.batchSize ?? 500;
    this.limit = this.batchSize;
    this.timeoutMs = options.publishTimeoutMs ?? config.timeoutMs ?? 15_000;
    this.idleMs = options.idleMs ?? 100;
    this.slotCount = options.hashText === undefined ? 1 : (options.slotCount ?? 32);
    this.leaseRefreshMs = options.leaseRefreshMs ?? 2000;
    this.maxHanded = options.maxHanded ?? 50_000;
    this.failures = new FailureLog(this.name, options.logger, options.summaryEveryMs !== undefined ? { summaryEveryMs: options.summaryEveryMs } : {});
    // A lease outlives two publishes plus slack, so it never lapses under a publish in flight.
    this.leases = new SlotLeases(options.db, { sink: this.name, member: options.member, slotCount: this.slotCount, leaseMs: Math.max(10_000, 2 * this.timeoutMs + 5000) });
  }

  /** Starts the loop (idempotent). */
  start(): void {
    if (this.loop !== undefined) return;
    this.loop = this.run();
  }

  /** Entries were written that were not handed over (replay, another process): read the table now. */
  notify(): void {
    this.recover = true;
    this.notified += 1;
    this.waker.poke();
  }

  /** Ends an idle sleep early (drain). */
  wake(): void {
    this.waker.poke();
  }

  /** Entries this process just committed for this sink, in seq order: relayed from memory. */
  handOff(entries: readonly OutboxEntry[]): void {
    if (entries.length === 0) return;
    if (this.spilled || this.handedCount + entries.length > this.maxHanded) {
      // Too many waiting in memory (the sink is slow or down): these and every later entry
      // stay in the table alone, until what memory holds is sent and the table is read
      // again (see round); memory keeps what it holds, which is older than all of them.
      this.spilled = true;
    } else {
      for (const e of entries) this.handed.push(e);
    }
    this.waker.poke();
  }

  /** Forgets the handed entries: the table has them, so it is read next. */
  private dropHanded(): void {
    if (this.handedCount > 0) this.recover = true;
    this.handed = [];
    this.handedHead = 0;
  }

  private get handedCount(): number {
    return this.handed.length - this.handedHead;
  }

  /** Up to `limit` handed entries newer than anything taken; an older one means a gap: the table is read next. */
  private takeHanded(limit: number): OutboxEntry[] {
    const out: OutboxEntry[] = [];
    while (out.length < limit && this.handedHead < this.handed.length) {
      const e = this.handed[this.handedHead]!;
      if (e.seq <= this.high) {
        // A transaction that committed late: its entries (and any of the same key handed
        // after them) must not be overtaken, so nothing more comes from memory until the
        // table — which has them all, in seq order — was read.
        this.handedHead++;
        this.recover = true;
        break;
      }
      this.handedHead++;
      this.high = e.seq;
      out.push(e);
    }
    this.compactHanded();
    return out;
  }

  /** Lets go of the taken part of the handed queue once it is the larger part. */
  private compactHanded(): void {
    if (this.handedHead > 4096 && this.handedHead * 2 > this.handed.length) {
      this.handed = this.handed.slice(this.handedHead);
      this.handedHead = 0;
    }
  }

  /**
   * Whether the table has something to send before (or besides) the handed entries: an entry
   * waiting for a retry, or due seqs other than the first handed ones. When all the handed
   * entries fit in a page, one more is asked for, so an entry written elsewhere after them
   * shows too; a longer queue shows one of those once the first handed seqs reach it.
   */
  private async elsewhere(now: number): Promise<boolean> {
    const n = Math.min(this.limit, this.handedCount);
    const all = n === this.handedCount && !this.spilled;
    const { seqs, waiting } = await dueSeqs(this.o.db, this.name, now, all ? n + 1 : n);
    if (waiting || seqs.length !== n) return true;
    for (let i = 0; i < n; i++) if (seqs[i] !== this.handed[this.handedHead + i]!.seq) return true;
    return false;
  }

  /** Deletes the delivered entries waiting for it (and counts them), in one transaction. */
  private async flushDeletes(): Promise<void> {
    if (this.deletes.length === 0) return;
    const delivered = this.deletes;
    const retries = this.deletesRetried;
    this.deletes = [];
    this.deletesRetried = 0;
    try {
      await writeRound(this.o.db, { sink: this.name, now: Date.now(), delivered, parked: [], retry: [], failed: 0, retries });
    } catch (err) {
      // Kept for the next attempt (a table read before it would send them again).
      this.deletes = [...delivered, ...this.deletes];
      this.deletesRetried += retries;
      throw err;
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let worked = false;
      try {
        worked = await this.round();
      } catch (err) {
        await this.failed(err);
        if (this.stopping) break;
        this.sinkFailures += 1;
        await this.waker.sleep(backoffDelay(this.sinkFailures, this.o.backoff));
        continue;
      }
      if (!worked && !this.stopping) {
        if (this.deletes.length > 0) {
          // Idle with deletes waiting: do them soon (drain counts the table), batched with what follows.
          const wait = DELETE_AFTER_MS - (Date.now() - this.deletesSince);
          if (wait > 0) await this.waker.sleep(wait);
          await this.flushDeletes().catch((err: unknown) => this.failed(err));
          continue;
        }
        await this.waker.sleep(await this.idleDelay());
      }
    }
    await this.flushDeletes().catch((err: unknown) => this.o.logger.debug({ sink: this.name, err: messageOf(err) }, 'could not delete delivered outbox entries at close; they are sent again'));
  }

  /** Idle sleep: the poll interval, shorter when a retry becomes due sooner. */
  private async idleDelay(): Promise<number> {
    try {
      const now = Date.now();
      const due = await nextDueMs(this.o.db, this.name, now);
      return due === undefined ? this.idleMs : Math.max(5, Math.min(this.idleMs, due - now));
    } catch {
      return this.idleMs;
    }
  }

  private async failed(err: unknown): Promise<void> {
    const message = messageOf(err);
    this.lastOk = false;
    this.lastError = { message, at: Date.now() };
    await this.failures.failure(message, () => pendingCount(this.o.db, this.name));
  }

  private succeeded(): void {
    this.lastOk = true;
    this.sinkFailures = 0;
    this.failures.success();
  }

  /** Runs `fn` with an AbortSignal that fires after the publish timeout; also races it, in case a client ignores the signal. */
  private async bounded<T>(what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const where = destinationOf(this.o.binding.config);
        const err = new HeraldError('TIMEOUT', `sink ${this.name}: ${what}${where === undefined ? '' : ` (${where})`} did not finish within ${this.timeoutMs} ms`);
        ac.abort(err);
        // Grace for a client that honours the signal to reject with its own (better) error.
        setTimeout(() => reject(err), 1000).unref();
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([fn(ac.signal), timeout]);
    } catch (err) {
      // Our own deadline fired: say so, rather than the client's generic "aborted".
      if (ac.signal.aborted && ac.signal.reason instanceof HeraldError) throw ac.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  private async publish(messages: readonly OutgoingMessage[]): Promise<PublishOutcome[]> {
    if (messages.length === 0) return [];
    const t0 = process.hrtime.bigint();
    const outcomes = await this.bounded(`publishing ${messages.length} messages`, (signal) => this.o.sink.publish(messages, signal));
    this.o.metrics.publishSeconds.observe({ sink: this.name }, Number(process.hrtime.bigint() - t0) / 1e9);
    return outcomes;
  }

  /** One round; true when it did work (so the loop goes on without sleeping). */
  private async round(): Promise<boolean> {
    const now = Date.now();
    if (now - this.lastLeaseRefresh >= this.leaseRefreshMs || !this.leases.validFor(this.timeoutMs + 2000)) {
      await this.leases.refresh();
      this.lastLeaseRefresh = now;
      const held = this.leases.slots.join(',');
      if (held !== this.heldSlots) {
        this.heldSlots = held;
        this.recover = true;
      }
    }
    if (this.leases.slots.length === 0) {
      this.dropHanded();
      return false;
    }

    if (!this.started) {
      // Eager first connect: a wrong address shows up in GET /v2/sinks at once, and the
      // Kafka sink creates or verifies its topics here.
      if (!this.o.sink.connected) await this.bounded('connecting', (signal) => this.o.sink.connect(signal));
      const startMessages = this.o.binding.startMessages();
      if (startMessages.length > 0) {
        const outcomes = await this.publish(startMessages);
        const bad = outcomes.find((x): x is Extract<PublishOutcome, { ok: false }> => !x.ok);
        if (bad !== undefined && !bad.permanent) throw bad.error;
        if (bad !== undefined) this.o.logger.error({ sink: this.name, err: bad.error.message }, `sink ${this.name}: the broker rejected the start-up message of the ${this.o.binding.profile.name} profile: ${bad.error.message}`);
      }
      this.started = true;
      this.succeeded();
    }

    // Handed entries are relayed from memory only while this relay holds every slot (replicas
    // split the slots by a hash only the database computes).
    const allSlots = this.leases.slots.length === this.slotCount;
    if (!allSlots) this.dropHanded();
    const pollEvery = this.handedCount > 0 ? Math.max(this.idleMs, BUSY_POLL_MS) : this.idleMs;
    let entries: OutboxEntry[];
    let fromTable = false;
    if (this.spilled && this.handedCount === 0) {
      // Memory is sent: what was left to the table comes next. A hand-off from here on is
      // kept again; it is newer than everything left, and any copy of it read from the table
      // is dropped from memory (its seq is then not above the highest taken).
      this.spilled = false;
      this.recover = true;
    }
    let readTable = !allSlots || this.recover || now - this.lastTableRead >= pollEvery;
    if (readTable && allSlots && this.handedCount > 0) {
      // Before a page is read — to recover, or the poll for other processes' entries — the
      // table's oldest due seqs are compared with the first handed ones: when they are the
      // same, the table holds nothing to send first, and the relay goes on from memory.
      // (Reading the table until caught up whenever it was a page behind moved every later
      // entry of a burst to the table, each one's event parsed back from its stored JSON.)
      await this.flushDeletes();
      const notifiedBefore = this.notified;
      readTable = await this.elsewhere(now);
      this.lastTableRead = now;
      if (!readTable && this.notified === notifiedBefore) this.recover = false;
      else readTable = true;
    }
    if (readTable) {
      // What was delivered must be gone before the table is read, or it would be sent again.
      await this.flushDeletes();
      const notifiedBefore = this.notified;
      const claimed = await claimBatch(this.o.db, {
        sink: this.name,
        now,
        limit: this.limit,
        ...(this.slotCount > 1 && this.o.hashText !== undefined && { slots: { owned: this.leases.slots, count: this.slotCount, hashText: this.o.hashText } }),
      });
      this.lastTableRead = now;
      this.o.metrics.tableReads.inc({ sink: this.name });
      fromTable = true;
      entries = claimed.entries;
      // Caught up (and no entry waits for a retry, which needs the table's per-key guard): memory again.
      this.recover = claimed.waiting || entries.length >= this.limit || this.notified !== notifiedBefore;
      if (entries.length > 0) {
        for (const e of entries) if (e.seq > this.high) this.high = e.seq;
        if (entries.length >= this.limit) {
          // Behind (a full page): the handed entries up to the last one read are let go (the
          // table has any of them not read yet). The queue is in commit order, so that is a
          // walk over what was read, not over the whole queue (filtering the whole queue on
          // every page cost O(backlog) per page: 4 % of a durable run's CPU).
          while (this.handedHead < this.handed.length && this.handed[this.handedHead]!.seq <= this.high) this.handedHead++;
          this.compactHanded();
        } else {
          // Handed copies of what was just read are dropped; an older handed one not read is a gap.
          const read = new Set(entries.map((e) => e.seq));
          this.handed = this.handed.slice(this.handedHead).filter((e) => !read.has(e.seq));
          this.handedHead = 0;
        }
      }
      // While an entry waits for a retry everything goes through the table: memory is not needed.
      if (claimed.waiting) this.dropHanded();
    } else {
      entries = this.takeHanded(this.limit);
    }
    // Nothing now: go on at once if handed entries wait (or a gap asks for the table), else sleep.
    if (entries.length === 0) return this.handedCount > 0 || (!fromTable && this.recover);
    if (!this.leases.validFor(this.timeoutMs + 2000)) {
      this.recover = true; // the entries stay in the table: refresh first, read them next round
      return true;
    }

    const batch = encodeBatch(entries, this.o.binding);
    const retried = entries.filter((e) => e.attempts > 0 || this.failedBefore.has(e.seq)).length;
    if (!this.o.sink.connected) await this.bounded('connecting', (signal) => this.o.sink.connect(signal)).catch((err: unknown) => this.wholeBatch(entries, err));
    let outcomes: PublishOutcome[];
    try {
      outcomes = await this.publish(batch.messages);
    } catch (err) {
      return this.wholeBatch(entries, err);
    }
    if (wholeBatchFailed(outcomes)) {
      const first = outcomes.find((x): x is Extract<PublishOutcome, { ok: false }> => !x.ok)!;
      return this.wholeBatch(entries, first.error);
    }

    const result = decideRound(entries, batch, outcomes);
    const t = Date.now();
    const lastError = result.parked[0]?.error ?? result.retry[0]?.error;
    if (result.parked.length === 0 && result.retry.length === 0) {
      // All delivered: deleted in batches (a crash before the delete sends them again, as a crash before any delete always did).
      if (this.deletes.length === 0) this.deletesSince = t;
      for (const e of result.delivered) this.deletes.push(e.seq);
      this.deletesRetried += retried;
      if (this.deletes.length >= DELETE_BATCH || t - this.deletesSince >= DELETE_AFTER_MS) await this.flushDeletes();
    } else {
      const delivered = [...this.deletes, ...result.delivered.map((e) => e.seq)];
      const retries = this.deletesRetried + retried;
      const before = { deletes: this.deletes, retried: this.deletesRetried };
      this.deletes = [];
      this.deletesRetried = 0;
      await writeRound(this.o.db, {
        sink: this.name,
        now: t,
        delivered,
        parked: result.parked.map((p) => ({ seq: p.entry.seq, error: p.error })),
        retry: result.retry.map((r) => ({ seq: r.entry.seq, error: r.error, nextAttemptMs: t + backoffDelay(r.entry.attempts + 1, this.o.backoff) })),
        failed: result.parked.length + result.retry.length,
        retries,
        ...(lastError !== undefined && { lastError }),
      }).catch((err: unknown) => {
        this.deletes = before.deletes;
        this.deletesRetried = before.retried;
        this.recover = true;
        throw err;
      });
      // A retry is scheduled in the table: its per-key guard decides what may go next.
      if (result.retry.length > 0) this.recover = true;
    }
    for (const e of entries) this.failedBefore.delete(e.seq);
    const m = this.o.metrics;
    m.delivered.inc({ sink: this.name }, result.delivered.length);
    if (retried > 0) m.retries.inc({ sink: this.name }, retried);
    if (result.parked.length + result.retry.length > 0) m.failed.inc({ sink: this.name }, result.parked.length + result.retry.length);
    if (result.parked.length > 0) {
      m.parked.inc({ sink: this.name }, result.parked.length);
      for (const p of result.parked.slice(0, 5)) {
        this.o.logger.error({ sink: this.name, eventId: p.entry.eventId, err: p.error }, `sink ${this.name}: parked event ${p.entry.eventId} (rejected permanently): ${p.error}`);
      }
      if (result.parked.length > 5) this.o.logger.error({ sink: this.name }, `sink ${this.name}: parked ${result.parked.length - 5} more events; see GET /v2/sinks`);
    }
    if (result.retry.length > 0) {
      await this.failed(new Error(result.retry[0]!.error));
    } else {
      this.succeeded();
    }
    this.limit = Math.min(this.batchSize, this.limit * 2);
    return true;
  }

  /** The whole batch failed for a transient reason: nothing changes in the outbox; back off. */
  private async wholeBatch(entries: readonly OutboxEntry[], err: unknown): Promise<never> {
    for (const e of entries) this.failedBefore.add(e.seq);
    // They stay in the table: read from there once the sink is back.
    this.recover = true;
    this.limit = Math.max(1, Math.floor(entries.length / 2));
    this.o.metrics.failed.inc({ sink: this.name }, entries.length);
    const message = messageOf(err);
    await addStats(this.o.db, { sink: this.name, now: Date.now(), failed: entries.length, lastError: message }).catch(() => undefined);
    throw err instanceof Error ? err : new Error(message);
  }

  /** Live state of this relay, merged by the outbox with the stored counters. */
  liveStatus(): Pick<SinkStatus, 'connected'> & { lastError?: { message: string; at: number }; failing: boolean } {
    return {
      connected: this.o.sink.connected && this.lastOk && !this.failures.failing,
      failing: this.failures.failing,
      ...(this.lastError !== undefined && { lastError: this.lastError }),
    };
  }

  /** Stops after the current round, gives the slots back, closes the sink. */
  async close(): Promise<void> {
    this.stopping = true;
    this.waker.poke();
    await this.loop;
    await this.leases.release().catch((err: unknown) => this.o.logger.debug({ sink: this.name, err: messageOf(err) }, 'could not release outbox leases'));
    await this.o.sink.close().catch((err: unknown) => this.o.logger.debug({ sink: this.name, err: messageOf(err) }, 'closing sink failed'));
  }
}
