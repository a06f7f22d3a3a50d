/**
 * A migrated store of one dialect for a test file: SQLite in a temporary directory, or
 * PostgreSQL (HERALD_TEST_PG) in a schema of its own; `dispose()` closes it and removes the
 * directory or drops the schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { MAX_BATCH } from '../../src/api/schemas.js';
import { silentLogger } from '../../src/log.js';
import { openDurablePipeline, type DurablePipeline, type DurablePipelineOptions } from '../../src/pipeline/durable.js';
import { createBindings } from '../../src/delivery/binding.js';
import type { HeraldEvent } from '../../src/events/schema.js';
import { createOutbox, type Outbox } from '../../src/outbox/outbox.js';
import type { OutboxDb, OutboxTables } from '../../src/outbox/schema.js';
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
      await dropSchema(schema);
    },
  };
}

export interface TestPipeline extends TestStore {
  pipeline: DurablePipeline;
}

/**
 * A durable pipeline (store with the outbox's tables, outbox, ingest) on one dialect, like
 * `herald serve` runs; `startRelays: false` keeps the outbox entries in place for assertions.
 */
export async function openTestPipeline(dialect: TestDialect, label: string, options: Partial<Omit<DurablePipelineOptions, 'storeUrl' | 'storeSchema'>> = {}): Promise<TestPipeline> {
  const base = { sinks: [], streaming: true, logger: silentLogger, maxBatch: MAX_BATCH, ...options };
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), `herald-${label}-`));
    const pipeline = await openDurablePipeline({ ...base, storeUrl: `sqlite:${join(dir, 'herald.db')}` });
    return {
      store: pipeline.store,
      pipeline,
      async dispose() {
        await pipeline.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = uniqueName(label).replace(/-/g, '_');
  const pipeline = await openDurablePipeline({ ...base, storeUrl: pgUrl(), storeSchema: schema });
  return {
    store: pipeline.store,
    pipeline,
    async dispose() {
      await pipeline.close();
      await dropSchema(schema);
    },
  };
}

async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: pgUrl() });
  await c.connect();
  try {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await c.end();
  }
}

/** The store's database with the outbox's tables, for assertions on outbox entries. */
export const outboxTables = (store: EventStore): OutboxDb => store.db.withTables<OutboxTables>() as unknown as OutboxDb;

/** The outbox over a store, writing entries for the sinks each call names (no relays: nothing is sent). */
const outboxes = new WeakMap<EventStore, Promise<Outbox>>();
export function outboxOf(store: EventStore, sinks: readonly string[] = []): Promise<Outbox> {
  let o = outboxes.get(store);
  if (o === undefined) {
    const bindings = createBindings(sinks.map((name) => ({ name, type: 'stdout' as const })));
    o = createOutbox({ store, bindings, streaming: true, startRelays: false, logger: silentLogger });
    outboxes.set(store, o);
  }
  return o;
}

/** Appends with one outbox entry per event and named sink (sinks chosen per event by a function). */
export async function appendTo(store: EventStore, events: HeraldEvent[], sinks: readonly string[] | ((e: HeraldEvent) => readonly string[])) {
  const outbox = await outboxOf(store);
  const { inserted } = await store.append(events, { within: async (tx, stored) => { await outbox.enqueue(tx, stored, (x) => (typeof sinks === 'function' ? sinks(x.event) : sinks)); } });
  return { inserted };
}

