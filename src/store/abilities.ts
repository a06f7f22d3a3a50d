/**
 * What a SQL dialect can do. The store branches on these flags, never on a dialect's name,
 * so a third dialect only has to describe itself.
 */
import type { Kysely, RawBuilder } from 'kysely';
import type { Database } from './schema.js';

export interface StoreAbilities {
  /** How the `seq` columns are generated: SQLite `integer primary key autoincrement` or a SQL identity. */
  readonly sequence: 'autoincrement' | 'identity';
  /** The operator for a case-insensitive substring match (SQLite LIKE is already case-insensitive for ASCII). */
  readonly caseInsensitiveLike: 'like' | 'ilike';
  /** `SELECT ... FOR UPDATE` locks rows (several writers on PostgreSQL); SQLite serialises writers anyway. */
  readonly supportsForUpdate: boolean;
  /**
   * Transaction-scoped advisory locks (`pg_advisory_xact_lock`): state changes of one entity
   * kind take one, so concurrent changes on several replicas serialise and every list
   * notification sees the others' committed states. SQLite has one writer at a time anyway.
   */
  readonly advisoryLocks: boolean;
  /**
   * Triggers: `for each statement` with a transition table (`referencing old table`), in
   * PL/pgSQL; otherwise SQLite's `for each row` triggers with a plain SQL body.
   */
  readonly statementTriggers: boolean;
  /** Bind parameters one statement may carry; multi-row inserts are chunked below it. */
  readonly maxParameters: number;
}

/**
 * What a failed database call means for the caller, decided by the dialect from its driver's
 * error codes: `unavailable` (connection lost, server shutting down, busy: retry later),
 * `full` (no space left), `rejected` (the data itself is refused: a client error),
 * `internal` (anything else: a bug, never worth a retry).
 */
export type StoreFailure = 'unavailable' | 'full' | 'rejected' | 'internal';

/** What a dialect folder's `openDialect()` hands to the store. */
export interface DialectHandle {
  readonly name: 'sqlite' | 'postgres';
  readonly db: Kysely<Database>;
  readonly abilities: StoreAbilities;
  /** PostgreSQL schema holding the tables (for the migration table); undefined on SQLite. */
  readonly schema?: string;
  readonly functions: DialectFunctions;
  /** Classifies a driver error (see StoreFailure). */
  readonly classifyError: (err: unknown) => StoreFailure;
}

/** SQL a dialect has and others do not, as functions (never branch on a dialect's name). */
export interface DialectFunctions {
  /** A stable integer hash of a text expression (PostgreSQL hashtext); undefined: no such function. */
  hashText?: (expr: RawBuilder<unknown>) => RawBuilder<number>;
  /** Refreshes the planner's statistics of a table (PostgreSQL ANALYZE); undefined: not needed. */
  analyze?: (db: Kysely<Database>, table: string) => Promise<void>;
}
