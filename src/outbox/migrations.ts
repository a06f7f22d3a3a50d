/**
 * The outbox's own tables: slot leases and relay members, which let several `herald serve`
 * replicas on one PostgreSQL split a sink's work by key hash. Written as Kysely migrations
 * (for a store Migrator that collects them) and applied idempotently by `ensureOutboxSchema`
 * at relay start, so the outbox does not depend on how the store registers migrations.
 */
import { sql, type Kysely, type Migration } from 'kysely';

// Migrations work on an untyped database: the tables do not exist yet.
type AnyDb = Kysely<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Lease and member tables. */
export const leasesMigration: Migration = {
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
    await db.schema.createIndex('herald_outbox_due').ifNotExists().on('herald_outbox')
      .columns(['sink', 'status', 'next_attempt_ms']).execute();
  },
  async down(db: AnyDb) {
    await db.schema.dropIndex('herald_outbox_due').ifExists().execute();
    await db.schema.dropTable('herald_outbox_members').ifExists().execute();
    await db.schema.dropTable('herald_outbox_leases').ifExists().execute();
  },
};

/** The outbox's migrations by name, to merge into the store's ordered list (after 0001_init). */
export const outboxMigrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0100_outbox_leases': leasesMigration,
});

/**
 * Applies the outbox tables if missing. Safe with several processes starting at once: on
 * PostgreSQL an advisory lock serialises the CREATEs (two concurrent `CREATE TABLE IF NOT
 * EXISTS` can otherwise fail on the catalogue's unique index).
 */
export async function ensureOutboxSchema(db: Kysely<unknown>, dialect: 'sqlite' | 'postgres'): Promise<void> {
  const any = db as AnyDb;
  if (dialect === 'postgres') {
    await any.connection().execute(async (conn) => {
      // An arbitrary constant key: "herald outbox schema".
      await sql`select pg_advisory_lock(74656101)`.execute(conn);
      try {
        await leasesMigration.up(conn);
      } finally {
        await sql`select pg_advisory_unlock(74656101)`.execute(conn);
      }
    });
  } else {
    await leasesMigration.up(any);
  }
}
