/**
 * Schema migrations, applied in order by Kysely's Migrator (which holds a lock while it runs,
 * so several replicas starting at once apply each migration exactly once). The same units
 * run on both dialects; only the generated `seq` column differs, chosen by ability.
 */
import { type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { StoreAbilities } from './abilities.js';

// Kysely migrations work on an untyped database: the tables do not exist yet.
type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function init(abilities: StoreAbilities): Migration {
  const seqColumn = (t: AnyDb, table: string) => {
    const builder = t.schema.createTable(table).ifNotExists();
    return abilities.sequence === 'identity'
      ? builder.addColumn('seq', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : builder.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
  };
  return {
    async up(db: AnyDb) {
      await seqColumn(db, 'herald_events')
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('subject', 'text')
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('entity_kind', 'text')
        .addColumn('entity_id', 'text')
        .addColumn('partition_key', 'text')
        .addColumn('message', 'text')
        .addColumn('time_ms', 'bigint', (c) => c.notNull())
        .addColumn('created_ms', 'bigint', (c) => c.notNull())
        .addColumn('doc', 'text', (c) => c.notNull())
        .execute();
      // Every filter index ends in (time_ms, seq): the page order, so a filtered page is an index range scan.
      const idx = (name: string, table: string, columns: string[], unique = false) => {
        let b = db.schema.createIndex(name).ifNotExists().on(table).columns(columns);
        if (unique) b = b.unique();
        return b.execute();
      };
      await idx('herald_events_id', 'herald_events', ['id'], true);
      await idx('herald_events_entity_time', 'herald_events', ['entity_kind', 'entity_id', 'time_ms', 'seq']);
      await idx('herald_events_time', 'herald_events', ['time_ms', 'seq']);
      await idx('herald_events_severity_time', 'herald_events', ['severity', 'time_ms', 'seq']);
      await idx('herald_events_type_time', 'herald_events', ['type', 'time_ms', 'seq']);
      await idx('herald_events_source_time', 'herald_events', ['source', 'time_ms', 'seq']);

      await db.schema.createTable('herald_entities').ifNotExists()
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('previous_state', 'text')
        .addColumn('entered_ms', 'bigint', (c) => c.notNull())
        .addColumn('updated_ms', 'bigint', (c) => c.notNull())
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('herald_entities_pk', ['kind', 'id'])
        .execute();
      await idx('herald_entities_kind_state', 'herald_entities', ['kind', 'state', 'id']);

      await seqColumn(db, 'herald_outbox')
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
      await idx('herald_outbox_sink_status_seq', 'herald_outbox', ['sink', 'status', 'seq']);
      await idx('herald_outbox_sink_key_seq', 'herald_outbox', ['sink', 'partition_key', 'seq']);
      // Retention keeps events an outbox entry still points to; this makes that check cheap.
      await idx('herald_outbox_event_seq', 'herald_outbox', ['event_seq']);

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
    async down(db: AnyDb) {
      for (const t of ['herald_sink_stats', 'herald_outbox', 'herald_entities', 'herald_events']) {
        await db.schema.dropTable(t).ifExists().execute();
      }
    },
  };
}

/** The ordered migrations for a dialect with these abilities. */
export function migrationProvider(abilities: StoreAbilities): MigrationProvider {
  return {
    async getMigrations() {
      return { '0001_init': init(abilities) };
    },
  };
}
