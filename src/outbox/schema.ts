/**
 * The outbox's own tables, in the event store's database: pending entries (one per event and
 * sink), per-sink counters, and the slot leases that let several `herald serve` replicas on
 * one PostgreSQL split a sink's work by key hash. Registered with the store's one ordered
 * Migrator (store.migrate([outboxSchema])), so the lease tables migrate like everything else.
 *
 * Names keep the history of databases that already have them: 0001_init of earlier versions
 * created herald_outbox and herald_sink_stats (IF NOT EXISTS here makes 0004 a no-op there),
 * 0003 dropped the per-key index, and the lease tables were created at relay start.
 */
import type { Generated, Kysely, Migration } from 'kysely';
import { createTableWithSeq } from '../store/migrations.js';
import type { BigIntCol, Database } from '../store/schema.js';
import type { SchemaModule } from '../store/types.js';

export interface OutboxTable {
  seq: Generated<BigIntCol>;
  sink: string;
  event_seq: BigIntCol;
  event_id: string;
  /** Ordering key within the sink (null = no ordering constraint). */
  partition_key: string | null;
  /** pending | parked (rejected permanently). Delivered entries are deleted. */
  status: string;
  attempts: number;
  next_attempt_ms: BigIntCol;
  last_error: string | null;
  /** Unused since slot leases replaced per-row claims; kept so older databases stay valid. */
  claimed_by: string | null;
  claimed_until_ms: BigIntCol | null;
  created_ms: BigIntCol;
}

export interface SinkStatsTable {
  sink: string;
  delivered: BigIntCol;
  failed: BigIntCol;
  retries: BigIntCol;
  last_error: string | null;
  last_error_ms: BigIntCol | null;
  last_delivered_ms: BigIntCol | null;
}

export type OutboxTables = {
  herald_outbox: OutboxTable;
  herald_sink_stats: SinkStatsTable;
  herald_outbox_leases: { sink: string; slot: number; owner: string; until_ms: number };
  herald_outbox_members: { sink: string; member: string; until_ms: number };
};

/** The store's tables plus the outbox's. */
export type OutboxDatabase = Database & OutboxTables;
export type OutboxDb = Kysely<OutboxDatabase>;

// Migrations work on an untyped database: the tables do not exist yet.
type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const idx = (db: AnyDb, name: string, table: string, columns: string[]) => db.schema.createIndex(name).ifNotExists().on(table).columns(columns).execute();

/**
 * 0003 (history): dropped the (sink, partition_key, seq) index, which served only the per-key
 * retry guard of the relay's claim; that guard finds waiting keys through the due-time index
 * instead (sql.ts). Entity keys are many, so the index took a random page per entry on insert
 * and delete: without it appends with outbox entries ran 41,000 → 49,000/s and the relay's
 * deletes 200,000 → 680,000/s (SQLite, 200,000 events over 1,000 keys). On a new database
 * the index never exists, so this does nothing.
 */
const dropKeyIndex: Migration = {
  async up(db: AnyDb) {
    await db.schema.dropIndex('herald_outbox_sink_key_seq').ifExists().execute();
  },
};

export const outboxSchema: SchemaModule = {
  name: 'outbox',
  migrations: (abilities) => ({
    '0003_drop_outbox_key_index': dropKeyIndex,
    '0004_outbox_tables': {
      async up(db: AnyDb) {
        await createTableWithSeq(db, 'herald_outbox', abilities)
          .addColumn('sink', 'text', (c) => c.notNull())
          .addColumn('event_seq', 'bigint', (c) => c.notNull())
          .addColumn('event_id', 'text', (c) => c.notNull())
          .addColumn('partition_key', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_ms', 'bigint', (c) => c.notNull())
          .addColumn('last_error', 'text')
          .addColumn('claimed_by', 'text')
          .addColumn('claimed_until_ms', 'bigint')
          .addColumn('created_ms', 'bigint', (c) => c.notNull())
          .execute();
        await idx(db, 'herald_outbox_sink_status_seq', 'herald_outbox', ['sink', 'status', 'seq']);
        // Retention keeps events an outbox entry still points to; this makes that check cheap.
        await idx(db, 'herald_outbox_event_seq', 'herald_outbox', ['event_seq']);
        await db.schema.createTable('herald_sink_stats').ifNotExists()
          .addColumn('sink', 'text', (c) => c.primaryKey())
          .addColumn('delivered', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('failed', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('retries', 'bigint', (c) => c.notNull().defaultTo(0))
          .addColumn('last_error', 'text')
          .addColumn('last_error_ms', 'bigint')
          .addColumn('last_delivered_ms', 'bigint')
          .execute();
      },
    },
    '0005_outbox_leases': {
      async up(db: AnyDb) {
        await db.schema.createTable('herald_outbox_leases').ifNotExists()
          .addColumn('sink', 'text', (c) => c.notNull())
          .addColumn('slot', 'integer', (c) => c.notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('until_ms', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('herald_outbox_leases_pk', ['sink', 'slot'])
          .execute();
        await db.schema.createTable('herald_outbox_members').ifNotExists()
          .addColumn('sink', 'text', (c) => c.notNull())
          .addColumn('member', 'text', (c) => c.notNull())
          .addColumn('until_ms', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('herald_outbox_members_pk', ['sink', 'member'])
          .execute();
        // Answers "is any entry of this sink waiting for a retry?" without scanning the backlog.
        await idx(db, 'herald_outbox_due', 'herald_outbox', ['sink', 'status', 'next_attempt_ms']);
      },
    },
  }),
};
