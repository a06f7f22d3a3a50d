/**
 * A migrated store of one dialect for a test file: SQLite in a temporary directory, or
 * PostgreSQL (HERALD_TEST_PG) in a schema of its own; `dispose()` closes it and removes the
 * directory or drops the schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type EventStore } from '../../src/store/index.js';
import { pgUrl, uniqueName } from './env.js';

export type TestDialect = 'sqlite' | 'postgres';
export const TEST_DIALECTS: readonly TestDialect[] = ['sqlite', 'postgres'];

export interface TestStore {
  store: EventStore;
  dispose(): Promise<void>;
}

export async function openTestStore(dialect: TestDialect, label: string): Promise<TestStore> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), `herald-${label}-`));
    const store = await openStore(`sqlite:${join(dir, 'herald.db')}`);
    await store.migrate();
    return {
      store,
      async dispose() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = uniqueName(label).replace(/-/g, '_');
  const store = await openStore(pgUrl(), { schema });
  await store.migrate();
  return {
    store,
    async dispose() {
      await store.close();
      const c = new pg.Client({ connectionString: pgUrl() });
      await c.connect();
      try {
        await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await c.end();
      }
    },
  };
}
