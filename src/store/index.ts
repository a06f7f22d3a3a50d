/**
 * Opening the event store: `sqlite:PATH` (default, embedded) or `postgres://...` (production,
 * several replicas). Migrations are not applied here; call `store.migrate()` (serve does).
 */
import { ConfigError } from '../errors.js';
import type { Logger } from '../log.js';
import type { DialectHandle } from './abilities.js';
import { SqlEventStore } from './sql-store.js';
import type { EventStore, StoreOptions } from './types.js';

export type * from './types.js';
export type * from './schema.js';
export type { StoreAbilities } from './abilities.js';
export { DEFAULT_WATCHED_STATES, normalizeState } from '../events/entity-states.js';

/** Opens a store for a URL; dialect modules load lazily so SQLite users never load pg and vice versa. */
export async function openStore(url: string, options: StoreOptions & { logger?: Logger } = {}): Promise<EventStore> {
  let handle: DialectHandle;
  if (url.startsWith('sqlite:')) {
    const { openDialect } = await import('./dialects/sqlite/dialect.js');
    handle = openDialect(url);
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    const { openDialect } = await import('./dialects/postgres/dialect.js');
    handle = await openDialect(url, options.schema !== undefined ? { schema: options.schema } : {});
  } else {
    throw new ConfigError('store.url must be sqlite:PATH or postgres://user@host/db', [{ path: 'store.url', message: 'must be sqlite:PATH or postgres://user@host/db' }]);
  }
  return new SqlEventStore(handle, {
    ...(options.clock !== undefined && { clock: options.clock }),
    ...(options.logger !== undefined && { logger: options.logger }),
  });
}
