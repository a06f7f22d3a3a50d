/**
 * The relay's SQL, the same on SQLite and PostgreSQL. Where several relays share a sink
 * (replicas on PostgreSQL), entries are split into key-hash slots with the dialect's hash
 * function; a dialect without one has one slot, owned by its one process.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { HeraldEvent } from '../events/schema.js';
import type { DialectFunctions, StoreTransaction, StoredEvent } from '../store/types.js';
import type { OutboxEntry } from './plan.js';
import type { OutboxDatabase, OutboxDb, OutboxTables } from './schema.js';

/**
 * The slot of an outbox row: a hash of the ordering key (the event id when the entry has
 * none, which spreads unordered entries over all slots). All entries of one key land in one
 * slot, so only one replica ever sends that key.
 */
export function slotExpression(hashText: NonNullable<DialectFunctions['hashText']>, slotCount: number): RawBuilder<number> {
  return sql<number>`mod(abs(${hashText(sql`coalesce(o.partition_key, o.event_id)`)}::bigint), ${sql.lit(slotCount)})`;
}

export interface FetchOptions {
  sink: string;
  now: number;
  limit: number;
  /** Slots this relay owns and how they are computed; undefined = all (single-slot mode). */
  slots?: { owned: readonly number[]; count: number; hashText: NonNullable<DialectFunctions['hashText']> };
}

export interface FetchRow {
  seq: number | string;
  event_id: string;
  partition_key: string | null;
  attempts: number;
  created_ms: number | string;
  doc: string | null;
}

/** The claim of fetchBatch; `keyGuard` adds the per-key check needed while an entry waits for a retry. */
export function claimQuery(o: FetchOptions, keyGuard: boolean): RawBuilder<FetchRow> {
  const slotFilter = o.slots === undefined
    ? sql``
    : o.slots.owned.length === 0
      ? sql`and 1 = 0`
      : sql`and ${slotExpression(o.slots.hashText, o.slots.count)} in (${sql.join(o.slots.owned.map((s) => sql.lit(s)))})`;
  // The keys that wait for a retry, each with its first waiting entry, found once per claim
  // through the due-time index; an entry behind one of them of the same key must wait too.
  // They are the entries whose own publish failed: usually few, and when a sink rejects
  // everything for a while, the relay is backing off between such claims anyway. (A
  // (sink, partition_key, seq) index for a per-entry lookup cost more on every insert and
  // delete than it saved here: see migration 0003.)
  const waiting = !keyGuard
    ? sql``
    : sql`with waiting as materialized (
        select partition_key, min(seq) as first_seq from herald_outbox
        where sink = ${o.sink} and status = 'pending' and next_attempt_ms > ${o.now} and partition_key is not null
        group by partition_key
      )`;
  const guard = !keyGuard
    ? sql``
    : sql`and not exists (select 1 from waiting w where w.partition_key = o.partition_key and w.first_seq < o.seq)`;
  // `+next_attempt_ms` keeps the due-time index out of this plan: walking
  // (sink, status, seq) yields the oldest entries already in order, where the due-time index
  // would make the database sort every due entry of the backlog for each batch.
  return sql<FetchRow>`
    ${waiting}
    select o.seq, o.event_id, o.partition_key, o.attempts, o.created_ms, e.doc
    from herald_outbox o
    left join herald_events e on e.seq = o.event_seq
    where o.sink = ${o.sink} and o.status = 'pending' and +o.next_attempt_ms <= ${o.now}
      ${slotFilter}
      ${guard}
    order by o.seq
    limit ${o.limit}`;
}

/**
 * The next entries to send, in seq order: pending, due, in our slots, and not behind an
 * earlier entry of the same key that is waiting for its retry (that is what keeps per-key
 * order while retrying). Parked entries do not block anything.
 */
export async function fetchBatch(db: OutboxDb, o: FetchOptions): Promise<OutboxEntry[]> {
  return (await claimBatch(db, o)).entries;
}

/** fetchBatch, also telling whether an entry of the sink waits for a retry (the relay then keeps reading the table). */
export async function claimBatch(db: OutboxDb, o: FetchOptions): Promise<{ entries: OutboxEntry[]; waiting: boolean }> {
  // The per-key guard is only needed while some entry waits for a retry; in the normal case
  // skipping it keeps the claim an index range scan however large the backlog is.
  const waiting = await someWaiting(db, o.sink, o.now);
  const result = await claimQuery(o, waiting).execute(db);
  return { waiting, entries: claimedEntries(result.rows) };
}

/** Whether an entry of the sink waits for a retry. */
async function someWaiting(db: OutboxDb, sink: string, now: number): Promise<boolean> {
  const row = await db.selectFrom('herald_outbox').select('seq')
    .where('sink', '=', sink).where('status', '=', 'pending').where('next_attempt_ms', '>', now)
    .limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * The seqs of the oldest due entries of a sink (all slots), in order, without their events;
 * with whether an entry waits for a retry. The relay compares them with what it was handed.
 */
export async function dueSeqs(db: OutboxDb, sink: string, now: number, limit: number): Promise<{ seqs: number[]; waiting: boolean }> {
  const waiting = await someWaiting(db, sink, now);
  // `+next_attempt_ms`: walk (sink, status, seq), as the claim does.
  const result = await sql<{ seq: number | string }>`
    select o.seq from herald_outbox o
    where o.sink = ${sink} and o.status = 'pending' and +o.next_attempt_ms <= ${now}
    order by o.seq
    limit ${limit}`.execute(db);
  return { waiting, seqs: result.rows.map((r) => Number(r.seq)) };
}

function claimedEntries(rows: readonly FetchRow[]): OutboxEntry[] {
  return rows.map((r) => ({
    seq: Number(r.seq),
    eventId: r.event_id,
    key: r.partition_key,
    attempts: Number(r.attempts),
    createdMs: Number(r.created_ms),
    event: r.doc === null ? undefined : (JSON.parse(r.doc) as HeraldEvent),
  }));
}

/** The earliest time an entry in our slots becomes due again (undefined when none waits). */
export async function nextDueMs(db: OutboxDb, sink: string, now: number): Promise<number | undefined> {
  const row = await db.selectFrom('herald_outbox').select((eb) => eb.fn.min('next_attempt_ms').as('t'))
    .where('sink', '=', sink).where('status', '=', 'pending').where('next_attempt_ms', '>', now)
    .executeTakeFirst();
  return row?.t === null || row?.t === undefined ? undefined : Number(row.t);
}

export interface RoundWrite {
  sink: string;
  now: number;
  delivered: number[];
  parked: Array<{ seq: number; error: string }>;
  retry: Array<{ seq: number; error: string; nextAttemptMs: number }>;
  /** Failed attempts to add to the stats (entries whose attempt failed, transient or permanent). */
  failed: number;
  /** Entries re-sent after an earlier failure. */
  retries: number;
  lastError?: string;
}

/** Writes a round's outcome in one transaction: delete delivered, park, reschedule, count. */
export async function writeRound(db: OutboxDb, w: RoundWrite): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < w.delivered.length; i += 1000) {
      await trx.deleteFrom('herald_outbox').where('seq', 'in', w.delivered.slice(i, i + 1000) as never).execute();
    }
    for (const p of w.parked) {
      await trx.updateTable('herald_outbox')
        .set((eb) => ({ status: 'parked', last_error: p.error.slice(0, 2000), attempts: eb('attempts', '+', 1) }))
        .where('seq', '=', p.seq as never).execute();
    }
    for (const r of w.retry) {
      await trx.updateTable('herald_outbox')
        .set((eb) => ({ last_error: r.error.slice(0, 2000), attempts: eb('attempts', '+', 1), next_attempt_ms: r.nextAttemptMs }))
        .where('seq', '=', r.seq as never).execute();
    }
    await addStats(trx, w);
  });
}

/** Adds to the sink's counters (creating its row on first use). */
export async function addStats(
  db: Kysely<OutboxDatabase>,
  s: { sink: string; now: number; delivered?: number[] | number; failed?: number; retries?: number; lastError?: string },
): Promise<void> {
  const delivered = Array.isArray(s.delivered) ? s.delivered.length : (s.delivered ?? 0);
  const failed = s.failed ?? 0;
  const retries = s.retries ?? 0;
  if (delivered === 0 && failed === 0 && retries === 0 && s.lastError === undefined) return;
  const row = {
    sink: s.sink,
    delivered,
    failed,
    retries,
    last_error: s.lastError?.slice(0, 2000) ?? null,
    last_error_ms: s.lastError !== undefined ? s.now : null,
    last_delivered_ms: delivered > 0 ? s.now : null,
  };
  await db.insertInto('herald_sink_stats').values(row).onConflict((oc) => oc.column('sink').doUpdateSet({
    delivered: sql`herald_sink_stats.delivered + excluded.delivered`,
    failed: sql`herald_sink_stats.failed + excluded.failed`,
    retries: sql`herald_sink_stats.retries + excluded.retries`,
    last_error: sql`coalesce(excluded.last_error, herald_sink_stats.last_error)`,
    last_error_ms: sql`coalesce(excluded.last_error_ms, herald_sink_stats.last_error_ms)`,
    last_delivered_ms: sql`coalesce(excluded.last_delivered_ms, herald_sink_stats.last_delivered_ms)`,
  })).execute();
}

/** Per-sink backlog and counters, for GET /v2/sinks and the metrics. */
export interface SinkCounts {
  pending: number;
  parked: number;
  oldestPendingMs: number | null;
  delivered: number;
  failed: number;
  retries: number;
  lastError: string | null;
  lastErrorMs: number | null;
}

/** Counts for every sink that has outbox entries or stats. */
export async function sinkCounts(db: OutboxDb): Promise<Map<string, SinkCounts>> {
  const out = new Map<string, SinkCounts>();
  const get = (sink: string): SinkCounts => {
    let c = out.get(sink);
    if (c === undefined) {
      c = { pending: 0, parked: 0, oldestPendingMs: null, delivered: 0, failed: 0, retries: 0, lastError: null, lastErrorMs: null };
      out.set(sink, c);
    }
    return c;
  };
  const backlog = await db.selectFrom('herald_outbox')
    .select(['sink', 'status', (eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.min('created_ms').as('oldest')])
    .groupBy(['sink', 'status']).execute();
  for (const r of backlog) {
    const c = get(r.sink);
    if (r.status === 'pending') {
      c.pending = Number(r.n);
      c.oldestPendingMs = r.oldest === null ? null : Number(r.oldest);
    } else if (r.status === 'parked') {
      c.parked = Number(r.n);
    }
  }
  const stats = await db.selectFrom('herald_sink_stats').selectAll().execute();
  for (const s of stats) {
    const c = get(s.sink);
    c.delivered = Number(s.delivered);
    c.failed = Number(s.failed);
    c.retries = Number(s.retries);
    c.lastError = s.last_error;
    c.lastErrorMs = s.last_error_ms === null ? null : Number(s.last_error_ms);
  }
  return out;
}

/** Pending entries of one sink. */
export async function pendingCount(db: OutboxDb, sink: string): Promise<number> {
  const row = await db.selectFrom('herald_outbox').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('sink', '=', sink).where('status', '=', 'pending').executeTakeFirst();
  return Number(row?.n ?? 0);
}

/** A parked entry as operators see it. */
export interface ParkedEntry {
  sink: string;
  eventId: string;
  error: string | null;
  attempts: number;
  createdAt: string;
}

/** Parked entries of a sink, oldest first. */
export async function listParked(db: OutboxDb, sink: string, limit: number): Promise<ParkedEntry[]> {
  const rows = await db.selectFrom('herald_outbox').select(['sink', 'event_id', 'last_error', 'attempts', 'created_ms'])
    .where('sink', '=', sink).where('status', '=', 'parked').orderBy('seq').limit(limit).execute();
  return rows.map((r) => ({ sink: r.sink, eventId: r.event_id, error: r.last_error, attempts: Number(r.attempts), createdAt: new Date(Number(r.created_ms)).toISOString() }));
}

/** Puts a sink's parked entries back in the queue (e.g. after raising the broker's size limit); returns how many. */
export async function requeueParked(db: OutboxDb, sink: string, now: number): Promise<number> {
  const r = await db.updateTable('herald_outbox').set({ status: 'pending', next_attempt_ms: now })
    .where('sink', '=', sink).where('status', '=', 'parked').executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Columns per herald_outbox row, for chunking multi-row inserts below the dialect's parameter limit. */
const OUTBOX_COLUMNS = 8;

/**
 * One pending entry per stored event and each sink `sinksOf` names, written with `db` (the
 * store's transaction when appending, so an event and its entries commit together).
 */
export async function insertEntries<S extends Pick<StoredEvent, 'seq' | 'event'>>(db: Kysely<OutboxDatabase>, maxParameters: number, stored: readonly S[], sinksOf: (s: S) => readonly string[], now: number, key: (e: HeraldEvent) => string | undefined): Promise<number> {
  const rows = entryRows(stored, sinksOf, now, key);
  const per = Math.min(1000, Math.floor(maxParameters / OUTBOX_COLUMNS));
  for (let i = 0; i < rows.length; i += per) await db.insertInto('herald_outbox').values(rows.slice(i, i + per)).execute();
  return rows.length;
}

/** An entry as written, for the hand-off to its sink's relay after the commit. */
export interface WrittenEntry extends OutboxEntry {
  sink: string;
}

/**
 * insertEntries, returning the entries written (their outbox seq, sink, key and event), in
 * seq order per sink: what the relays get in memory once the transaction committed.
 */
export async function insertEntriesReturning<S extends Pick<StoredEvent, 'seq' | 'event'>>(db: Kysely<OutboxDatabase>, maxParameters: number, stored: readonly S[], sinksOf: (s: S) => readonly string[], now: number, key: (e: HeraldEvent) => string | undefined): Promise<WrittenEntry[]> {
  const events = new Map<number, HeraldEvent>();
  for (const s of stored) events.set(s.seq, s.event);
  const rows = entryRows(stored, sinksOf, now, key);
  const per = Math.min(1000, Math.floor(maxParameters / OUTBOX_COLUMNS));
  const out: WrittenEntry[] = [];
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    const returned = await db.insertInto('herald_outbox').values(chunk).returning(['seq', 'sink', 'event_seq']).execute();
    // (sink, event_seq) is unique within one call: map the returned seqs back to their rows.
    const seqOf = new Map(returned.map((r) => [`${r.sink}\u0000${Number(r.event_seq)}`, Number(r.seq)]));
    for (const r of chunk) {
      const seq = seqOf.get(`${r.sink}\u0000${r.event_seq}`);
      if (seq === undefined) continue;
      out.push({ sink: r.sink, seq, eventId: r.event_id, key: r.partition_key, attempts: 0, createdMs: now, event: events.get(r.event_seq) });
    }
  }
  out.sort((a, b) => a.seq - b.seq);
  return out;
}

function entryRows<S extends Pick<StoredEvent, 'seq' | 'event'>>(stored: readonly S[], sinksOf: (s: S) => readonly string[], now: number, key: (e: HeraldEvent) => string | undefined) {
  return stored.flatMap((s) => sinksOf(s).map((sink) => ({
    sink,
    event_seq: s.seq,
    event_id: s.event.id,
    partition_key: key(s.event) ?? null,
    status: 'pending',
    attempts: 0,
    next_attempt_ms: now,
    created_ms: now,
  })));
}

/** The outbox's view of a store transaction. */
export const outboxDb = (tx: StoreTransaction): Kysely<OutboxDatabase> => tx.db.withTables<OutboxTables>() as unknown as Kysely<OutboxDatabase>;
