/**
 * PostgreSQL through a pg Pool. int8 (bigint, count(*)) comes back as a JS number: every
 * value Herald stores in one (milliseconds, sequence numbers, counts) stays far below 2^53.
 * A schema (option or `?schema=` in the URL) is created when missing and put first on the
 * search path, so several Herald instances (or tests) can share one database.
 */
import pg from 'pg';
import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import { ConfigError, HeraldError } from '../../../errors.js';
import type { DialectHandle, StoreAbilities, StoreFailure } from '../../abilities.js';
import { redactUrlCredentials } from '../../../shared/redact.js';
import type { DialectFunctions } from '../../types.js';
import type { Database } from '../../schema.js';

export const abilities: StoreAbilities = {
  sequence: 'identity',
  caseInsensitiveLike: 'ilike',
  supportsForUpdate: true,
  advisoryLocks: true,
  statementTriggers: true,
  maxParameters: 60000,
};

/** PostgreSQL's hashtext and ANALYZE, for components that need them (the outbox's key slots, its claim plans). */
export const functions: DialectFunctions = {
  hashText: (expr: RawBuilder<unknown>) => sql<number>`hashtext(${expr})`,
  analyze: async (db, table) => {
    await sql`analyze ${sql.table(table)}`.execute(db);
  },
};

/** Node's network errors: the server is not there (yet, or any more). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
/** pg's own messages for a lost or unobtainable connection (they carry no code). */
const LOST_CONNECTION = /connection terminated|not queryable|timeout exceeded when trying to connect|connection timeout|terminating connection|Connection ended/i;

/**
 * SQLSTATE classes (PostgreSQL Appendix A): 08 connection exception, 57P01-57P05 operator
 * intervention (shutdown, crash, cannot connect now), 53300 too many connections, 58 system
 * error, 40 transaction rollback (serialization failure, deadlock): retry. 53100 disk_full
 * and 53200 out of memory: full. 22 data exception and 54 program limit exceeded: the data
 * is refused (Herald's validation should have caught it first). The rest: internal.
 */
export function classifyError(err: unknown): StoreFailure {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (code !== undefined && NETWORK_CODES.has(code)) return 'unavailable';
  if (code !== undefined && /^[0-9A-Z]{5}$/.test(code)) {
    if (code === '53100' || code === '53200') return 'full';
    if (code.startsWith('08') || code.startsWith('57P') || code === '53300' || code.startsWith('58') || code.startsWith('40')) return 'unavailable';
    if (code.startsWith('22') || code.startsWith('54')) return 'rejected';
    return 'internal';
  }
  if (typeof e?.message === 'string' && LOST_CONNECTION.test(e.message)) return 'unavailable';
  return 'internal';
}

const INT8 = 20;
const NUMERIC = 1700;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8 || oid === NUMERIC) return (v: string) => (v === null ? null : Number(v));
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as typeof pg.types.getTypeParser,
};

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,62}$/;

/** The URL without a password, for messages. */
export function safeUrl(url: string): string {
  return redactUrlCredentials(url);
}

/** Opens `postgres://user@host:port/db[?schema=name]`; creates the schema when missing. */
export async function openDialect(url: string, options: { schema?: string } = {}): Promise<DialectHandle> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('store.url is not a valid postgres:// URL', [{ path: 'store.url', message: 'must be postgres://user@host:port/database' }]);
  }
  const schema = options.schema ?? parsed.searchParams.get('schema') ?? undefined;
  parsed.searchParams.delete('schema');
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new ConfigError(`PostgreSQL schema "${schema}" is not a plain identifier (letters, digits, _ and -)`, [{ path: 'store.schema', message: 'must be a plain identifier' }]);
  }
  const connectionString = parsed.toString();
  const quoted = schema === undefined ? undefined : `"${schema}"`;
  if (quoted !== undefined) {
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 5000 });
    try {
      await client.connect();
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    } catch (err) {
      // Two processes creating the same schema at once: the loser sees a duplicate; that is fine.
      if ((err as { code?: string }).code !== '23505' && (err as { code?: string }).code !== '42P06') {
        throw new HeraldError('STORE_UNAVAILABLE', `cannot reach PostgreSQL at ${safeUrl(url)}: ${(err as Error).message}`, { cause: err });
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  const pool = new pg.Pool({
    connectionString,
    types,
    max: 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    ...(quoted !== undefined && { options: `-c search_path=${quoted}` }),
  });
  // A client losing its connection emits 'error'; with no listener that kills the process. The
  // pool listens only while a client is idle, so every client gets its own listener for the
  // time it is checked out too (inside a transaction, between two statements). The failing
  // statement reports the error to its caller; the pool discards the broken client on release
  // and the next query connects anew once PostgreSQL is back.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { name: 'postgres', db, abilities, functions, classifyError, ...(schema !== undefined && { schema }) };
}
