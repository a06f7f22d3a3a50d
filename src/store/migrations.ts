/**
 * Schema migrations, applied in order by Kysely's Migrator (which holds a lock while it runs,
 * so several replicas starting at once apply each migration exactly once). The same units
 * run on both dialects; only the generated `seq` column differs, chosen by ability. The
 * outbox's tables are the outbox's own (src/outbox/schema.ts), merged in by migrationProvider.
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { StoreAbilities } from './abilities.js';
import { backfillRefs } from './refs.js';
import type { SchemaModule } from './types.js';

// Kysely migrations work on an untyped database: the tables do not exist yet.
type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** CREATE TABLE IF NOT EXISTS with a generated `seq` primary key, as the dialect generates one. */
export function createTableWithSeq(db: AnyDb, table: string, abilities: StoreAbilities) {
  const builder = db.schema.createTable(table).ifNotExists();
  return abilities.sequence === 'identity'
    ? builder.addColumn('seq', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    : builder.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
}

function init(abilities: StoreAbilities): Migration {
  const seqColumn = (t: AnyDb, table: string) => createTableWithSeq(t, table, abilities);
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

    },
    async down(db: AnyDb) {
      for (const t of ['herald_entities', 'herald_events']) {
        await db.schema.dropTable(t).ifExists().execute();
      }
    },
  };
}

/**
 * herald_event_counts: events per (source, type, entity kind, severity). The store adds to it
 * in every append; a trigger subtracts the rows of every delete of herald_events (retention
 * runs its own DELETE too), in the same transaction. Filled from the stored events here.
 */
function eventCounts(abilities: StoreAbilities): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema.createTable('herald_event_counts').ifNotExists()
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('entity_kind', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('n', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('herald_event_counts_pk', ['source', 'type', 'entity_kind', 'severity'])
        .execute();
      if (abilities.statementTriggers) {
        // Keys are locked in byte order (collate "C"), the order appends upsert them in, so a
        // purge and concurrent appends never deadlock on the count rows.
        await sql`
          create or replace function herald_event_counts_delete() returns trigger
          language plpgsql set search_path from current as $$
          declare r record;
          begin
            for r in
              select source, type, coalesce(entity_kind, '') as kind, severity, count(*) as n
              from herald_deleted_events
              group by source, type, coalesce(entity_kind, ''), severity
              order by source collate "C", type collate "C", coalesce(entity_kind, '') collate "C", severity collate "C"
            loop
              update herald_event_counts set n = n - r.n
                where source = r.source and type = r.type and entity_kind = r.kind and severity = r.severity;
              delete from herald_event_counts
                where source = r.source and type = r.type and entity_kind = r.kind and severity = r.severity and n <= 0;
            end loop;
            return null;
          end $$`.execute(db);
        await sql`drop trigger if exists herald_events_counts_delete on herald_events`.execute(db);
        await sql`
          create trigger herald_events_counts_delete after delete on herald_events
          referencing old table as herald_deleted_events
          for each statement execute function herald_event_counts_delete()`.execute(db);
      } else {
        await sql`
          create trigger if not exists herald_events_counts_delete after delete on herald_events
          for each row begin
            update herald_event_counts set n = n - 1
              where source = old.source and type = old.type and entity_kind = coalesce(old.entity_kind, '') and severity = old.severity;
            delete from herald_event_counts
              where source = old.source and type = old.type and entity_kind = coalesce(old.entity_kind, '') and severity = old.severity and n <= 0;
          end`.execute(db);
      }
      // One statement that overwrites every key with its count, after the trigger exists: exact
      // also when run again (SQLite runs migrations outside a transaction, so a second process
      // racing on the file, or a crash before the migration was recorded, repeats it).
      await sql`
        insert into herald_event_counts (source, type, entity_kind, severity, n)
        select source, type, coalesce(entity_kind, ''), severity, count(*)
        from herald_events
        where true
        group by source, type, coalesce(entity_kind, ''), severity
        on conflict (source, type, entity_kind, severity) do update set n = excluded.n`.execute(db);
    },
    async down(db: AnyDb) {
      if (abilities.statementTriggers) {
        await sql`drop trigger if exists herald_events_counts_delete on herald_events`.execute(db);
        await sql`drop function if exists herald_event_counts_delete()`.execute(db);
      } else {
        await sql`drop trigger if exists herald_events_counts_delete`.execute(db);
      }
      await db.schema.dropTable('herald_event_counts').ifExists().execute();
    },
  };
}

/**
 * herald_event_refs: the entities each event refers to (events/refs.ts), so the REST list finds
 * "every event of cluster C, its hosts' included" through an index. Appends write the rows in
 * their transaction; a trigger deletes them with their events (retention runs its own DELETE);
 * the rows of the events stored before this migration are filled here, after the trigger
 * exists (backfillRefs is idempotent: a repeated run completes the table).
 */
function eventRefs(abilities: StoreAbilities): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema.createTable('herald_event_refs').ifNotExists()
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('herald_event_refs_pk', ['seq', 'kind', 'id'])
        .execute();
      await db.schema.createIndex('herald_event_refs_kind_id').ifNotExists().on('herald_event_refs').columns(['kind', 'id', 'seq']).execute();
      if (abilities.statementTriggers) {
        await sql`
          create or replace function herald_event_refs_delete() returns trigger
          language plpgsql set search_path from current as $$
          begin
            delete from herald_event_refs where seq in (select seq from herald_deleted_ref_events);
            return null;
          end $$`.execute(db);
        await sql`drop trigger if exists herald_events_refs_delete on herald_events`.execute(db);
        await sql`
          create trigger herald_events_refs_delete after delete on herald_events
          referencing old table as herald_deleted_ref_events
          for each statement execute function herald_event_refs_delete()`.execute(db);
      } else {
        await sql`
          create trigger if not exists herald_events_refs_delete after delete on herald_events
          for each row begin
            delete from herald_event_refs where seq = old.seq;
          end`.execute(db);
      }
      await backfillRefs(db, abilities);
    },
    async down(db: AnyDb) {
      if (abilities.statementTriggers) {
        await sql`drop trigger if exists herald_events_refs_delete on herald_events`.execute(db);
        await sql`drop function if exists herald_event_refs_delete()`.execute(db);
      } else {
        await sql`drop trigger if exists herald_events_refs_delete`.execute(db);
      }
      await db.schema.dropTable('herald_event_refs').ifExists().execute();
    },
  };
}

/**
 * The severity as the last column of the entity, type and source indexes: the per-severity
 * counts of a list filtered by entity id, or by a time range, group what the index holds
 * instead of reading every matching row (an entity page over 10,000,000 events took 88 ms at
 * p50 for its counts, most of them row reads). The new indexes are built before the old ones
 * go, so the list never lacks one.
 */
const SEVERITY_INDEXES = [
  { old: 'herald_events_entity_time', name: 'herald_events_entity_time_sev', columns: ['entity_kind', 'entity_id', 'time_ms', 'seq'] },
  { old: 'herald_events_type_time', name: 'herald_events_type_time_sev', columns: ['type', 'time_ms', 'seq'] },
  { old: 'herald_events_source_time', name: 'herald_events_source_time_sev', columns: ['source', 'time_ms', 'seq'] },
] as const;

const severityInIndexes: Migration = {
  async up(db: AnyDb) {
    for (const i of SEVERITY_INDEXES) {
      await db.schema.createIndex(i.name).ifNotExists().on('herald_events').columns([...i.columns, 'severity']).execute();
      await db.schema.dropIndex(i.old).ifExists().execute();
    }
  },
  async down(db: AnyDb) {
    for (const i of SEVERITY_INDEXES) {
      await db.schema.createIndex(i.old).ifNotExists().on('herald_events').columns([...i.columns]).execute();
      await db.schema.dropIndex(i.name).ifExists().execute();
    }
  },
};

/**
 * The store's migrations and those of the components with tables of their own (the outbox),
 * in one order by name. Every step is idempotent (IF NOT EXISTS), and a component's
 * migrations may run after later store migrations (a store first used without the outbox):
 * the order is by name, missing ones run whenever they are found missing.
 */
export function migrationProvider(abilities: StoreAbilities, modules: readonly SchemaModule[] = [], executed: readonly string[] = []): MigrationProvider {
  return {
    async getMigrations() {
      const all: Record<string, Migration> = {
        '0001_init': init(abilities),
        '0002_event_counts': eventCounts(abilities),
        '0006_event_refs': eventRefs(abilities),
        '0007_severity_in_indexes': severityInIndexes,
      };
      for (const m of modules) {
        for (const [name, migration] of Object.entries(m.migrations(abilities))) {
          if (name in all) throw new Error(`migration ${name} of ${m.name} is defined twice`);
          all[name] = migration;
        }
      }
      // Applied migrations of a component not loaded by this caller (a store opened without
      // the outbox, say) stay applied: Kysely only needs to know they exist.
      for (const name of executed) all[name] ??= { up: async () => undefined };
      return all;
    },
  };
}

/** Names of the migrations already applied (none when the migration table does not exist yet). */
export async function appliedMigrations(db: AnyDb, schema?: string): Promise<string[]> {
  try {
    const table = schema !== undefined ? sql.table(`${schema}.kysely_migration`) : sql.table('kysely_migration');
    const rows = await sql<{ name: string }>`select name from ${table}`.execute(db);
    return rows.rows.map((r) => r.name);
  } catch {
    return [];
  }
}
