/**
 * SQLite through better-sqlite3: one file, WAL journal so readers never block the writer,
 * synchronous=NORMAL (durable across process crashes; an OS crash may lose the last
 * transactions, the usual WAL trade-off), and a busy timeout so a second process (herald
 * replay next to herald serve) waits instead of failing.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDatabase, type SqliteDialectConfig } from 'kysely';
import { ConfigError, HeraldError } from '../../../errors.js';
import type { DialectHandle, StoreAbilities, StoreFailure } from '../../abilities.js';
import type { Database } from '../../schema.js';
import { SAFETY_AUTOCHECKPOINT_BYTES, startCheckpointer, type Checkpointer } from './checkpointer.js';

export const abilities: StoreAbilities = {
  sequence: 'autoincrement',
  caseInsensitiveLike: 'like',
  supportsForUpdate: false,
  advisoryLocks: false,
  statementTriggers: false,
  // SQLITE_MAX_VARIABLE_NUMBER is 32766 since 3.32; stay well below it.
  maxParameters: 30000,
};

/**
 * better-sqlite3's codes (SQLite result codes, extended ones included): FULL is a full disk (or
 * max_page_count); BUSY/LOCKED another writer holding the file past the busy timeout; IOERR,
 * CANTOPEN, READONLY, PROTOCOL and NOLCK the file system: retry later. TOOBIG, RANGE and
 * MISMATCH refuse the data. The rest (CONSTRAINT, ERROR, MISUSE, CORRUPT...): internal.
 */
export function classifyError(err: unknown): StoreFailure {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return 'internal';
  const primary = code.replace(/^SQLITE_/, '').split('_')[0]!;
  if (primary === 'FULL') return 'full';
  if (['BUSY', 'LOCKED', 'IOERR', 'CANTOPEN', 'READONLY', 'PROTOCOL', 'NOLFS', 'NOMEM', 'INTERRUPT'].includes(primary)) {
    // SQLITE_IOERR with ENOSPC underneath is a full disk too.
    return /disk is full|no space/i.test((err as Error).message ?? '') ? 'full' : 'unavailable';
  }
  if (['TOOBIG', 'RANGE', 'MISMATCH'].includes(primary)) return 'rejected';
  return 'internal';
}

/**
 * Transactions start with BEGIN IMMEDIATE: the write lock is taken at the start (waiting up to
 * the busy timeout), so two processes on one file queue instead of failing when a transaction
 * that read first tries to write (SQLITE_BUSY), and Kysely's migrator, whose lock is a no-op
 * on SQLite, is serialised across processes too.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  readonly #checkpointer: Checkpointer | undefined;
  readonly #sqlite: BetterSqlite3.Database;
  constructor(config: SqliteDialectConfig, sqlite: BetterSqlite3.Database, checkpointer: Checkpointer | undefined) {
    super(config);
    this.#sqlite = sqlite;
    this.#checkpointer = checkpointer;
  }
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
  /**
   * After some errors (SQLITE_FULL, SQLITE_IOERR) SQLite has already rolled the transaction
   * back itself; a second ROLLBACK would fail with "no transaction is active" and hide the
   * real cause from the caller.
   */
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (!this.#sqlite.inTransaction) return;
    await super.rollbackTransaction(connection);
  }
  override async destroy(): Promise<void> {
    await this.#checkpointer?.stop();
    await super.destroy();
  }
}

class HeraldSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #sqlite: BetterSqlite3.Database;
  readonly #checkpointer: Checkpointer | undefined;
  constructor(config: SqliteDialectConfig, sqlite: BetterSqlite3.Database, checkpointer: Checkpointer | undefined) {
    super(config);
    this.#config = config;
    this.#sqlite = sqlite;
    this.#checkpointer = checkpointer;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config, this.#sqlite, this.#checkpointer);
  }
}

/** Statements kept per connection; a store runs a few dozen distinct ones (insert sizes included). */
export const STATEMENT_CACHE = 256;

/**
 * The database as Kysely's driver sees it, with each statement prepared once per SQL text.
 * The driver prepares every query it runs, and better-sqlite3 compiles a statement on every
 * prepare(): a durable run of 100,000 events spent 0.36 s of its 6.4 s compiling the same
 * inserts and deletes again. A statement is reused unless an iteration over it is still open
 * (`busy`), and the least recently used one is let go past STATEMENT_CACHE. SQLite itself
 * prepares a kept statement again after a schema change.
 */
export function preparingOnce(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const kept = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      const cached = kept.get(text);
      const stmt = cached !== undefined && !cached.busy ? cached : sqlite.prepare(text);
      // Re-inserted: the map's order is the order of use, least recent first.
      kept.delete(text);
      kept.set(text, stmt);
      if (kept.size > STATEMENT_CACHE) kept.delete(kept.keys().next().value!);
      return stmt;
    },
  };
}

/** Opens `sqlite:PATH` (`sqlite::memory:` for an in-memory store). */
export function openDialect(url: string): DialectHandle {
  const path = url.replace(/^sqlite:(\/\/)?/, '');
  if (path === '') throw new ConfigError('store.url: sqlite: needs a file path, e.g. sqlite:./data/herald.db', [{ path: 'store.url', message: 'needs a file path after sqlite:' }]);
  const memory = path === ':memory:';
  let sqlite: BetterSqlite3.Database;
  try {
    if (!memory) mkdirSync(dirname(resolve(path)), { recursive: true });
    sqlite = new BetterSqlite3(memory ? ':memory:' : path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    // Checkpoints run in a worker thread (see checkpointer.ts); this is only the safety net.
    // wal_autocheckpoint counts pages of this file's own page size (4 KiB unless the file was created with another).
    if (!memory) sqlite.pragma(`wal_autocheckpoint = ${Math.ceil(SAFETY_AUTOCHECKPOINT_BYTES / (sqlite.pragma('page_size', { simple: true }) as number))}`);
  } catch (err) {
    throw new HeraldError('STORE_UNAVAILABLE', `cannot open SQLite database ${path}: ${(err as Error).message}; check the path exists and is writable`, { cause: err });
  }
  const checkpointer = memory ? undefined : startCheckpointer(sqlite.name);
  const db = new Kysely<Database>({ dialect: new HeraldSqliteDialect({ database: preparingOnce(sqlite) }, sqlite, checkpointer) });
  // No hash function (one process relays, owning a single slot) and no statistics to refresh.
  return { name: 'sqlite', db, abilities, functions: {}, classifyError };
}
