/**
 * PostgreSQL through a pg Pool. int8 (bigint, count(*)) comes back as a JS number: every
 * value Herald stores in one (milliseconds, sequence numbers, counts) stays far below 2^53.
 * A schema (option or `?schema=` in the URL) is created when missing and put first on the
 * search path, so several Herald instances (or tests) can share one database.
 */
import pg from 'pg';
import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import { ConfigError, HeraldError } from '../../../errors.js';
import type { DialectHandle, StoreAbilities } from '../../abilities.js';
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
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
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
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { name: 'postgres', db, abilities, functions, ...(schema !== undefined && { schema }) };
}
